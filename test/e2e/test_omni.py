"""The omni module: regions and their metrics under omnipython (recorded in
the session) and, through the extension module, under plain python3."""
import json
import os
import textwrap

import pytest

from conftest import NVIDIA_GPU, OMNI, PYTHON, clean_env, report_json, run

EXT = os.path.join(os.path.dirname(OMNI), "python")
HAVE_EXT = os.path.isdir(EXT) and any(f.startswith("omni.") for f in os.listdir(EXT))

PROGRAM = textwrap.dedent("""\
    import json, os, sys, threading, time
    import omni

    out = {}

    @omni.profile()
    def spin(seconds):
        t = time.process_time()
        while time.process_time() - t < seconds:
            pass

    @omni.profile("named")
    def named():
        return 7

    with omni.profile("sleep") as region:
        time.sleep(0.2)
    out["sleep"] = region.metrics.to_dict()
    spin(0.2)
    out["spin"] = omni.metrics("spin").to_dict()
    assert named() == 7 and omni.metrics().name == "named"

    path = sys.argv[1]
    with omni.profile("write") as w:
        with open(path, "wb") as f:
            f.write(b"x" * 123457)
    with omni.profile("read") as r:
        with open(path, "rb") as f:
            assert len(f.read()) == 123457
    out["write"], out["read"] = w.metrics.to_dict(), r.metrics.to_dict()

    with omni.profile("memory") as m:
        block = bytearray(100 << 20)
        for i in range(0, len(block), 4096):
            block[i] = 1
    out["memory"] = m.metrics.to_dict()
    del block

    # nesting, and threads
    with omni.profile("outer"):
        with omni.profile("inner"):
            time.sleep(0.05)
    def work():
        with omni.profile("thread"):
            time.sleep(0.05)
    ts = [threading.Thread(target=work) for _ in range(3)]
    [t.start() for t in ts]
    [t.join() for t in ts]

    # an exception goes through unchanged, and the region is recorded
    err = ValueError("boom")
    try:
        with omni.profile("raises"):
            raise err
    except ValueError as e:
        out["same_exception"] = e is err
    out["raises"] = omni.metrics("raises").to_dict()

    out["breakdown"] = omni.timing_breakdown()
    out["current_memory"] = omni.current_memory()
    out["gpu"] = omni.current_gpu_memory()
    out["has_results"] = omni.has_results()
    out["session_path"] = omni.session_path()
    out["summary"] = omni.metrics("sleep").summary()
    with omni.profile("flops", estimate_flops=True) as fl:
        pass
    out["flops"] = fl.metrics.to_dict()
    print(json.dumps(out))
""")


def run_program(argv, tmp_path, env):
    prog = tmp_path / "prog.py"
    prog.write_text(PROGRAM)
    r = run([*argv, str(prog), str(tmp_path / "data.bin")], cwd=str(tmp_path), env=env)
    assert r.returncode == 0, r.stderr.decode()
    return json.loads(r.stdout)


def check_common(out):
    sl, sp = out["sleep"], out["spin"]
    assert 0.19 <= sl["timing"]["wall_time_s"] < 1 and sl["timing"]["cpu_time_s"] < 0.1
    assert sp["timing"]["cpu_time_s"] >= 0.19
    assert sp["compute"]["cpu_utilization_percent"] > 50
    assert sl["error"] is None and out["raises"]["error"] == "ValueError"
    assert out["same_exception"] is True
    mem = out["memory"]["memory"]
    assert mem["peak_ram_mb"] >= mem["initial_ram_mb"] + 95
    assert mem["final_ram_mb"] >= mem["initial_ram_mb"] + 95
    assert mem["allocated_mb"] is None and "allocation" in out["memory"]["missing"]["allocated_mb"]
    b = out["breakdown"]
    assert set(b) >= {"sleep", "spin", "named", "write", "read", "memory", "outer", "inner",
                      "thread", "raises"}
    assert b["thread"] >= 3 * 0.05 and b["outer"] >= b["inner"] >= 0.05
    assert out["has_results"] is True and out["current_memory"] > 1
    assert (out["gpu"] is not None) if NVIDIA_GPU else (out["gpu"] is None)
    assert out["summary"].startswith("sleep: 0.2")
    fl = out["flops"]
    assert fl["compute"]["estimated_flops"] is None and "torch" in fl["missing"]["estimated_flops"]


def test_regions_under_omnipython(tmp_path):
    s = tmp_path / "s.omni"
    out = run_program([OMNI, "--quiet", "--out", str(s)], tmp_path, clean_env())
    check_common(out)
    # bytes by kind, exact
    assert out["write"]["io"]["file"]["write_bytes"] == 123457
    assert out["read"]["io"]["file"]["read_bytes"] == 123457
    assert out["session_path"] == str(s)
    # the session has the regions
    rep = report_json(str(s))
    g = rep["regions"]
    names = {n["name"]: n for n in g["names"]}
    assert names["thread"]["count"] == 3 and names["raises"]["errors"] == 1
    assert names["spin"]["count"] == 1 and names["spin"]["cpu_s"] >= 0.19
    inst = [i for i in g["instances"] if i["name"] == "thread"]
    assert len({i["thread"] for i in inst}) == 3 and all(i["pid"] == rep["run"]["pid"] for i in inst)
    w = [i for i in g["instances"] if i["name"] == "write"][0]
    assert w["write_bytes"] == 123457 and w["error"] is None
    outer = [i for i in g["instances"] if i["name"] == "outer"][0]
    inner = [i for i in g["instances"] if i["name"] == "inner"][0]
    assert outer["start_s"] <= inner["start_s"] <= inner["end_s"] <= outer["end_s"]
    assert 0 < outer["start_s"] < rep["run"]["wall_s"]
    # and the Chrome trace shows them on their threads
    trace = tmp_path / "t.json"
    assert run([OMNI, "--export", "chrome", str(s), "--out", str(trace)]).returncode == 0
    spans = [e for e in json.loads(trace.read_text())["traceEvents"] if e.get("cat") == "omni.profile"]
    assert len(spans) == len(g["instances"])
    assert b"Regions" in run([OMNI, "--report", str(s)]).stdout


@pytest.mark.skipif(not HAVE_EXT, reason="the extension module is not built")
def test_the_same_module_under_plain_python3(tmp_path):
    out = run_program([PYTHON], tmp_path, clean_env(PYTHONPATH=EXT))
    check_common(out)
    # python3 has no byte accounting by kind: all reads and writes together
    assert out["write"]["io"]["all"]["write_bytes"] == 123457
    assert out["read"]["io"]["all"]["read_bytes"] == 123457
    assert "io_by_kind" in out["write"]["missing"]
    assert out["session_path"] is None


def test_gpu_memory_from_nvml(tmp_path, fake_nvml):
    code = ("import omni, time\n"
            "time.sleep(0.4)\n"      # the monitor's first GPU reading
            "with omni.profile('g') as g:\n"
            "    time.sleep(0.15)\n"
            "print(omni.current_gpu_memory(), g.metrics.memory.peak_gpu_mb,"
            " g.metrics.compute.gpu_utilization_percent)\n")
    env = clean_env(LD_LIBRARY_PATH=fake_nvml)
    r = run([OMNI, "--quiet", "--out", str(tmp_path / "g.omni"), "-c", code], env=env)
    assert r.returncode == 0, r.stderr.decode()
    # the fake: 3 GiB of 80 in use, 512 MiB of them this process's, 42% busy
    assert r.stdout.split() == [b"0.0375", b"512.0", b"42.0"]
    if HAVE_EXT:
        env["PYTHONPATH"] = EXT
        r = run([PYTHON, "-c", code], env=env)
        assert r.returncode == 0, r.stderr.decode()
        assert r.stdout.split() == [b"0.0375", b"512.0", b"42.0"]


def test_estimate_flops_asks_pytorchs_counter(tmp_path):
    # a stand-in for torch.utils.flop_counter with PyTorch's interface: the
    # real one is checked where a GPU machine with PyTorch is lent
    pkg = tmp_path / "torch" / "utils"
    pkg.mkdir(parents=True)
    (tmp_path / "torch" / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "flop_counter.py").write_text(textwrap.dedent("""\
        class FlopCounterMode:
            entered = 0
            def __init__(self, display=True):
                assert display is False
            def __enter__(self):
                FlopCounterMode.entered += 1
                return self
            def __exit__(self, *exc):
                return False
            def get_total_flops(self):
                return 2 * 64 * 64 * 64
        """))
    code = ("import torch, omni\n"
            "with omni.profile('mm', estimate_flops=True) as r:\n"
            "    pass\n"
            "c = r.metrics.compute\n"
            "print(c.estimated_flops, c.flops_per_s > 0, 'estimated_flops' in r.metrics.missing)\n")
    r = run([OMNI, "--quiet", "--out", str(tmp_path / "f.omni"), "-c", code], cwd=str(tmp_path),
            env=clean_env(PYTHONPATH=str(tmp_path)))
    assert r.returncode == 0, r.stderr.decode()
    assert r.stdout.split() == [b"524288.0", b"True", b"False"]
    rep = report_json(str(tmp_path / "f.omni"))
    assert rep["regions"]["instances"][0]["flops"] == 524288


def test_misuse_is_a_clear_error(tmp_path):
    r = run([OMNI, "--quiet", "--out", str(tmp_path / "e.omni"), "-c",
             "import omni\ntry:\n    omni.profile(3)\nexcept TypeError as e:\n    print(e)\n"],
            env=clean_env())
    assert r.stdout == b"omni.profile's name must be a string, not int\n"


def test_allocations_of_a_region_with_memory_accounting(tmp_path):
    code = ("import omni\nkeep = []\n"
            "with omni.profile('keep') as k:\n"
            "    keep.extend(bytearray(1000) for _ in range(20000))\n"
            "with omni.profile('temp') as t:\n"
            "    x = [bytearray(1000) for _ in range(20000)]\n"
            "    del x\n"
            "m, n = k.metrics.memory, t.metrics.memory\n"
            "print(m.allocated_mb, m.memory_leak_detected, n.allocated_mb, n.memory_leak_detected,"
            " 'allocated_mb' in k.metrics.missing)\n")
    r = run([OMNI, "--quiet", "--memory", "--out", str(tmp_path / "m.omni"), "-c", code],
            env=clean_env())
    assert r.returncode == 0, r.stderr.decode()
    a, leak_a, b, leak_b, missing = r.stdout.split()
    # 20,000 blocks of 1,000 bytes (at the allocator's block sizes), kept or not
    assert 20e6 / 2**20 <= float(a) < 25e6 / 2**20 and 20e6 / 2**20 <= float(b) < 25e6 / 2**20
    assert (leak_a, leak_b, missing) == (b"True", b"False", b"False")
