"""The native heap (--memory): a C extension's malloc and mmap, outside
Python's allocators, counted apart from them and attributed to the calling
Python line, with the GIL or without it, from several threads at once. In a
sanitizer build the sanitizer owns malloc: the session then says why there
is no native heap."""
import os
import subprocess
import sysconfig

import pytest

from conftest import FAKES, OMNI, PYTHON, clean_env, report_json, run

SANITIZED = os.environ.get("OMNI_TEST_SANITIZED") == "1"
MIB = 1 << 20


@pytest.fixture(scope="module")
def ext(tmp_path_factory):
    """A folder holding the nativealloc extension (test/fakes/nativealloc.c)."""
    d = tmp_path_factory.mktemp("ext")
    suffix = subprocess.run([PYTHON + "-config", "--extension-suffix"],
                            capture_output=True, text=True, check=True).stdout.strip()
    include = sysconfig.get_paths()["include"]
    r = subprocess.run(["cc", "-shared", "-fPIC", "-O1", "-I", include, "-o",
                        str(d / f"nativealloc{suffix}"), os.path.join(FAKES, "nativealloc.c")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return str(d)


def profile(tmp_path, ext, code, *opts):
    src = tmp_path / "n.py"
    src.write_text(code)
    s = tmp_path / "n.omni"
    r = run([OMNI, "--quiet", "--memory", *opts, "--out", str(s), str(src)],
            env=clean_env(PYTHONPATH=ext))
    assert r.returncode == 0, r.stderr.decode()
    return r, report_json(str(s))


def native_sites(m, line):
    return [x for x in m["sites"] if x["domain"] == "native" and x["line"] == line
            and x["file"] and x["file"].endswith("n.py")]


HOLD = """\
import nativealloc
def with_gil():
    nativealloc.hold(64, 1 << 20)
def without_gil():
    nativealloc.hold_nogil(32, 1 << 20)
with_gil()
without_gil()
nativealloc.map(16 << 20)
print("done")
"""


def test_native_blocks_at_the_calling_line(tmp_path, ext):
    r, rep = profile(tmp_path, ext, HOLD, "--memory-interval", "65536")
    assert r.stdout == b"done\n"
    m = rep["memory"]
    n = m["native"]
    if SANITIZED:
        assert n == {"available": False,
                     "reason": "this build's sanitizer replaces malloc: the native heap is "
                               "not counted"}
        return
    assert n["available"]
    # 96 blocks of 1 MiB (usable size a page more at most each), one 16 MiB mapping
    assert n["allocations"] >= 96
    assert 96 * MIB <= n["allocated_bytes"] <= 96 * MIB + 4 * MIB
    assert n["maps"] == 1 and n["mapped_bytes"] == 16 * MIB
    assert 112 * MIB <= n["peak_bytes"] <= 112 * MIB + 4 * MIB
    assert 112 * MIB <= n["exit_live_bytes"] <= 112 * MIB + 4 * MIB
    # none of it in Python's allocators
    assert m["peak_bytes"] < 16 * MIB
    # the sites: the Python line that called into C, with the GIL or without
    (held,) = native_sites(m, 3)
    assert held["name"] == "with_gil"
    assert held["allocated_bytes"] == pytest.approx(64 * MIB, rel=0.15)
    assert held["live_bytes"] == pytest.approx(64 * MIB, rel=0.15)
    (nogil,) = native_sites(m, 5)
    assert nogil["name"] == "without_gil"
    assert nogil["allocated_bytes"] == pytest.approx(32 * MIB, rel=0.15)
    (mapped,) = native_sites(m, 8)
    assert mapped["allocated_bytes"] == pytest.approx(16 * MIB, rel=0.01)
    # and the text report says it
    text = run([OMNI, "--report", str(tmp_path / "n.omni")]).stdout.decode()
    assert "native heap (malloc, mmap outside Python's allocators): peak" in text
    assert "with_gil" in text and "(native)" in text


CHURN = """\
import nativealloc
nativealloc.hold(8, 1 << 20)
nativealloc.churn(20000, 4096)
nativealloc.release()
nativealloc.map(8 << 20)
nativealloc.unmap()
"""


def test_freed_blocks_and_unmapped_pages_leave(tmp_path, ext):
    if SANITIZED:
        pytest.skip("the sanitizer owns malloc in this build")
    _, rep = profile(tmp_path, ext, CHURN)
    n = rep["memory"]["native"]
    # 8 held + 20000 malloc + 20000 realloc (a realloc is a free and an allocation)
    assert n["allocations"] >= 8 + 40000
    assert n["frees"] >= 8 + 40000
    assert n["allocated_bytes"] >= 8 * MIB + 20000 * (4096 + 8192)
    # the held blocks were freed before the mapping was made: never both alive
    assert 8 * MIB <= n["peak_bytes"] < 9 * MIB
    assert n["maps"] == 1 and n["mapped_bytes"] == 8 * MIB
    # what was freed is not alive at the end, and churn is no leak
    assert n["exit_live_bytes"] < 2 * MIB
    assert not [x for x in rep["memory"]["leaks"] if x["domain"] == "native"]


THREADS = """\
import threading, nativealloc
def work():
    for _ in range(50):
        nativealloc.churn(200, 1000)
        nativealloc.hold_nogil(2, 100000)
ts = [threading.Thread(target=work) for _ in range(4)]
[t.start() for t in ts]
[t.join() for t in ts]
"""


def test_four_threads_allocate_at_once(tmp_path, ext):
    if SANITIZED:
        pytest.skip("the sanitizer owns malloc in this build")
    _, rep = profile(tmp_path, ext, THREADS, "--memory-interval", "16384")
    n = rep["memory"]["native"]
    held = 4 * 50 * 2 * 100000
    assert n["allocations"] >= 4 * 50 * (400 + 2)
    # every free matched to its allocation: what is alive is what was held
    assert held <= n["exit_live_bytes"] <= held + 2 * MIB
    assert n["allocated_bytes"] - n["freed_bytes"] >= held
    sites = [x for x in rep["memory"]["sites"] if x["domain"] == "native" and x["name"] == "work"]
    assert sum(x["live_bytes"] for x in sites) == pytest.approx(held, rel=0.2)


def test_no_native_counting_without_memory(tmp_path, ext):
    src = tmp_path / "n.py"
    src.write_text(HOLD)
    s = tmp_path / "n.omni"
    r = run([OMNI, "--quiet", "--out", str(s), str(src)], env=clean_env(PYTHONPATH=ext))
    assert r.returncode == 0 and r.stdout == b"done\n"
    assert not report_json(str(s))["memory"]["available"]


def test_same_output_as_python3(tmp_path, ext):
    src = tmp_path / "n.py"
    src.write_text(CHURN + "print('ok')\n")
    env = clean_env(PYTHONPATH=ext)
    theirs = run([PYTHON, str(src)], env=env)
    ours = run([OMNI, "--quiet", "--memory", "--out", str(tmp_path / "o.omni"), str(src)], env=env)
    assert (ours.returncode, ours.stdout, ours.stderr) == (theirs.returncode, theirs.stdout,
                                                           theirs.stderr)


NUMPY = """\
import numpy as np
def make():
    return np.ones(10_000_000)
a = make()
b = np.zeros((1000, 1000))
print(a.nbytes + b.nbytes)
"""


def test_numpy_arrays_are_native_memory(tmp_path):
    pytest.importorskip("numpy")
    if SANITIZED:
        pytest.skip("the sanitizer owns malloc in this build")
    src = tmp_path / "n.py"
    src.write_text(NUMPY)
    s = tmp_path / "n.omni"
    r = run([OMNI, "--quiet", "--memory", "--out", str(s), str(src)], env=clean_env())
    assert r.returncode == 0, r.stderr.decode()
    held = int(r.stdout)  # 88,000,000 bytes of array data
    m = report_json(str(s))["memory"]
    n = m["native"]
    assert held <= n["exit_live_bytes"] <= held + 8 * MIB
    assert n["peak_bytes"] >= held
    # not in Python's allocators (numpy's data goes through malloc)
    assert m["peak_bytes"] < held / 2
    sites = [x for x in m["sites"] if x["domain"] == "native"]
    # the ones() array: estimated within 10% at numpy's ones() (the innermost
    # Python frame), the zeros() one at the line that made it
    (ones,) = [x for x in sites if x["name"] == "ones"]
    assert ones["live_bytes"] == pytest.approx(80e6, rel=0.1)
    (zeros,) = [x for x in sites if (x["file"] or "").endswith("n.py") and x["line"] == 5]
    assert zeros["live_bytes"] == pytest.approx(8e6, rel=0.25)


LEAK = """\
import time, nativealloc
def leak_step():
    nativealloc.hold(1, 200_000)
def churn_step():
    nativealloc.churn(50, 200_000)
for i in range(100):
    leak_step()
    churn_step()
    time.sleep(0.003)
"""


def test_a_native_leak_is_a_leak_and_native_churn_is_not(tmp_path, ext):
    if SANITIZED:
        pytest.skip("the sanitizer owns malloc in this build")
    # (a 32 KiB interval samples nearly every 200 KB block: the estimate is tight)
    _, rep = profile(tmp_path, ext, LEAK, "--memory-interval", "32768")
    m = rep["memory"]
    # 100 x 200,000 bytes held; 100 x 50 x (200,000 + 400,000) allocated and freed
    assert m["native"]["allocated_bytes"] >= 100 * 50 * 600_000
    top = m["leaks"][0]
    assert (top["domain"], top["name"], top["line"]) == ("native", "leak_step", 3)
    assert top["live_bytes"] == pytest.approx(20e6, rel=0.15)
    assert top["confidence"] >= 0.8
    assert not [x for x in m["leaks"] if x["name"] == "churn_step"]
    (churn,) = [x for x in m["sites"] if x["name"] == "churn_step"]
    assert churn["allocated_bytes"] == pytest.approx(3e9, rel=0.05)
    assert churn["live_bytes"] < 1e6
    growth = [f for f in rep["findings"] if f["id"] == "memory_growth"]
    assert growth and growth[0]["location"]["function"] == "leak_step", rep["findings"]
    md = run([OMNI, "--report", str(tmp_path / "n.omni"), "--format", "md"]).stdout.decode()
    assert "## Memory" in md and "n.py:3 | native |" in md
    assert "- Leak candidate: `leak_step` " in md and "n.py:3 (native)" in md


@pytest.fixture(scope="module")
def fake_allocator(tmp_path_factory):
    """libfakealloc.so from test/fakes/fake_allocator.c: an allocator of its
    own (a bump heap) to preload, as users preload jemalloc or tcmalloc."""
    d = tmp_path_factory.mktemp("alloc")
    r = subprocess.run(["cc", "-shared", "-fPIC", "-O1", "-o", str(d / "libfakealloc.so"),
                        os.path.join(FAKES, "fake_allocator.c")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return str(d / "libfakealloc.so")


@pytest.mark.parametrize("opts", [[], ["--memory"]], ids=["default", "memory"])
def test_a_preloaded_allocator_is_still_the_targets(tmp_path, fake_allocator, opts):
    # omnipython's executable defines malloc: it must pass every call on to the
    # allocator python3 would have used (a block given to the wrong free crashes)
    if SANITIZED:
        pytest.skip("the sanitizer's runtime must come first in a sanitizer build")
    code = "import json; print(len(json.dumps([str(i) * 3 for i in range(20000)])))"
    env = clean_env(LD_PRELOAD=fake_allocator, FAKE_ALLOCATOR_REPORT="1")
    theirs = run([PYTHON, "-c", code], env=env)
    s = tmp_path / "p.omni"
    ours = run([OMNI, "--quiet", *opts, "--out", str(s), "-c", code], env=env)
    assert theirs.stderr == b"fake allocator: used\n"
    assert (ours.returncode, ours.stdout, ours.stderr) == (0, theirs.stdout, theirs.stderr)
    if opts:
        n = report_json(str(s))["memory"]["native"]
        # the preloaded allocator's blocks, sized by its own malloc_usable_size
        assert n["available"] and n["allocations"] > 0 and n["allocated_bytes"] > 0
