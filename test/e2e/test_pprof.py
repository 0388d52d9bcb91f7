"""--export pprof: Go's profile.proto, gzip-compressed. Read back two ways:
by a small protobuf decoder of this file (independent of omnipython's
writer) and by `go tool pprof` (Debian's golang-go), against omnipython's own
report of the same session."""
import gzip
import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest import OMNI, PY_VERSION_INFO, clean_env, report_json, run

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "examples")
GO = shutil.which("go")
needs_go = pytest.mark.skipif(not GO, reason="golang-go is not installed (test/run_tests.sh installs it)")


# ---------------------------------------------------------------- a decoder

def varint(b, i):
    v = s = 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7f) << s
        s += 7
        if not c & 0x80:
            return v, i


def fields(b):
    """[(field, value)]: ints for varints, bytes for length-delimited."""
    out, i = [], 0
    while i < len(b):
        key, i = varint(b, i)
        f, wire = key >> 3, key & 7
        if wire == 0:
            v, i = varint(b, i)
        elif wire == 2:
            n, i = varint(b, i)
            v, i = b[i:i + n], i + n
        else:
            raise AssertionError("wire type %d" % wire)
        out.append((f, v))
    return out


def packed(v):
    if isinstance(v, int):
        return [v]
    out, i = [], 0
    while i < len(v):
        x, i = varint(v, i)
        out.append(x)
    return out


def decode(path):
    """The profile as dicts: strings, sample types, samples, locations,
    functions, period, duration."""
    raw = gzip.decompress(open(path, "rb").read())
    top = fields(raw)
    strings = [v.decode() for f, v in top if f == 6]
    assert strings[0] == ""
    s = lambda i: strings[i]
    p = {"strings": strings, "types": [], "samples": [], "locations": {}, "functions": {},
         "period": 0, "duration": 0, "time": 0, "raw_bytes": len(raw)}
    for f, v in top:
        if f == 1:
            d = dict(fields(v))
            p["types"].append((s(d.get(1, 0)), s(d.get(2, 0))))
        elif f == 2:
            locs, vals, labels = [], [], {}
            for g, w in fields(v):
                if g == 1:
                    locs += packed(w)
                elif g == 2:
                    vals += packed(w)
                elif g == 3:
                    d = dict(fields(w))
                    labels[s(d[1])] = s(d[2]) if d.get(2) else d.get(3, 0)
            p["samples"].append((locs, vals, labels))
        elif f == 4:
            d = fields(v)
            lid = dict(d)[1]
            lines = [dict(fields(w)) for g, w in d if g == 4]
            p["locations"][lid] = [(ln[1], ln.get(2, 0)) for ln in lines]
        elif f == 5:
            d = dict(fields(v))
            p["functions"][d[1]] = (s(d.get(2, 0)), s(d.get(4, 0)), d.get(5, 0))
        elif f == 10:
            p["duration"] = v
        elif f == 12:
            p["period"] = v
        elif f == 9:
            p["time"] = v
    return p


def frames(p, locs):
    """The function names of a sample's stack, the innermost first."""
    return [p["functions"][p["locations"][l][0][0]][0] for l in locs]


# ---------------------------------------------------------------- sessions

DEEP = """\
import time


def rsum(xs, i=0):
    if i == len(xs):
        end = time.perf_counter() + 0.35
        while time.perf_counter() < end:
            pass
        return 0
    return xs[i] + rsum(xs, i + 1)


print(rsum(list(range(800))))
"""


@pytest.fixture(scope="module")
def sessions(tmp_path_factory):
    d = tmp_path_factory.mktemp("pprof")
    out = {}
    for key, args in {"hot": ["hot_path.py"], "small": ["small_functions.py"],
                      "threads": ["gil_contention.py", "--short"]}.items():
        s = d / (key + ".omni")
        r = run([OMNI, "--quiet", "--out", str(s), os.path.join(EXAMPLES, args[0]), *args[1:]],
                cwd=str(d), env=clean_env())
        assert r.returncode == 0, r.stderr.decode()
        out[key] = str(s)
    # an 800-deep recursion that works a third of a second at its bottom: the
    # sampler reads whole stacks while they stand still (a stack that changes
    # while it is read is cut where it changed)
    (d / "deep.py").write_text(DEEP)
    s = d / "deep.omni"
    assert run([OMNI, "--quiet", "--out", str(s), str(d / "deep.py")], cwd=str(d),
               env=clean_env()).returncode == 0
    out["deep"] = str(s)
    s = d / "leak.omni"
    r = run([OMNI, "--quiet", "--memory", "--out", str(s),
             os.path.join(EXAMPLES, "memory_leak.py"), "--short"], cwd=str(d), env=clean_env())
    assert r.returncode == 0
    out["leak"] = str(s)
    # a parent and two Python children, each with a session of its own
    (d / "kids.py").write_text(KIDS)
    s = d / "kids.omni"
    r = run([OMNI, "--quiet", "--out", str(s), str(d / "kids.py")], cwd=str(d), env=clean_env())
    assert r.returncode == 0, r.stderr.decode()
    out["kids"] = str(s)
    return out


KIDS = """\
import subprocess
import sys

CHILD = "def spin(n):\\n    t = 0\\n    for i in range(n):\\n        t += i\\n    return t\\nspin(2_000_000)\\n"
for _ in range(2):
    subprocess.run([sys.executable, "-c", CHILD], check=True)
"""


def export(session, tmp_path, name="p.pb.gz"):
    out = tmp_path / name
    r = run([OMNI, "--export", "pprof", session, "--out", str(out)])
    assert r.returncode == 0, r.stderr.decode()
    return out


def pprof(*args):
    r = subprocess.run([GO, "tool", "pprof", *args], capture_output=True, timeout=300,
                       env=dict(os.environ, HOME=os.environ.get("HOME", "/tmp"),
                                PPROF_TMPDIR="/tmp"))
    assert r.returncode == 0, r.stderr.decode()
    return r.stdout.decode()


TYPES = [("samples", "count"), ("cpu", "nanoseconds"), ("wall", "nanoseconds"),
         ("calls", "count"), ("alloc_objects", "count"), ("alloc_space", "bytes"),
         ("inuse_space", "bytes")]


def test_the_profile_holds_the_samples_as_the_report_does(sessions, tmp_path):
    out = export(sessions["hot"], tmp_path)
    p = decode(out)
    rep = report_json(sessions["hot"])
    assert p["types"] == TYPES
    period = round(rep["sampling"]["interval_s"] * 1e9)
    assert p["period"] == period == 5_000_000
    assert p["duration"] == round(rep["run"]["wall_s"] * 1e9)
    assert p["time"] == pytest.approx(rep["run"]["start_unix_s"] * 1e9, abs=1e6)
    samples = sum(v[0] for _, v, _ in p["samples"])
    assert samples == rep["sampling"]["stack_samples"]
    assert sum(v[1] for _, v, _ in p["samples"]) == rep["sampling"]["cpu_samples"] * period
    assert sum(v[2] for _, v, _ in p["samples"]) == samples * period
    # one location per (function, line), each sample's stack innermost first
    keys = [tuple(l) for l in p["locations"].values()]
    assert len(keys) == len(set(keys))
    hot = max((x for x in p["samples"] if x[1][0]), key=lambda x: x[1][0])
    # 3.12 inlines comprehensions into their function (PEP 709)
    caller = "handle.<locals>.<listcomp>" if PY_VERSION_INFO < (3, 12) else "handle"
    assert frames(p, hot[0])[:3] == ["checksum", "parse", caller]
    assert frames(p, hot[0])[-1] == "hot_path.<module>"
    assert hot[2] == {"thread": "MainThread", "pid": rep["run"]["pid"]}
    # gzip-compressed: fixed Huffman codes come within a third of zlib's
    # level 6 (Python's gzip module, for comparison)
    data = out.read_bytes()
    raw = gzip.decompress(data)
    assert data[:2] == b"\x1f\x8b" and len(data) < 0.6 * len(raw)
    assert len(data) <= 1.33 * len(gzip.compress(raw, 6))


def test_exact_calls_beside_the_samples(sessions, tmp_path):
    p = decode(export(sessions["small"], tmp_path))
    rep = report_json(sessions["small"])
    calls = {}
    for locs, v, _ in p["samples"]:
        if v[3]:
            (name,) = frames(p, locs)
            calls[name] = calls.get(name, 0) + v[3]
    for f in rep["functions"]:
        if f["file"].endswith("small_functions.py"):
            name = f["name"] if not f["name"].startswith("<") else "small_functions." + f["name"]
            assert calls[name] == f["calls"], name
    assert calls["scale"] == 1_000_000


def test_threads_and_their_names_are_labels(sessions, tmp_path):
    p = decode(export(sessions["threads"], tmp_path))
    rep = report_json(sessions["threads"])
    by_thread = {}
    for _, v, labels in p["samples"]:
        by_thread[labels["thread"]] = by_thread.get(labels["thread"], 0) + v[0]
    want = {t["name"]: t["samples"] for t in rep["threads"] if t["samples"]}
    assert by_thread == want and len([n for n in want if n.endswith("(work)")]) == 3


def test_deep_recursion_keeps_every_frame(sessions, tmp_path):
    p = decode(export(sessions["deep"], tmp_path))
    # rsum recurses once per element of an 800-element list and works at the
    # bottom: its samples there hold every frame, up to the module's
    stacks = [frames(p, l) for l, v, _ in p["samples"] if v[0]]
    whole = max((n for n in stacks if n[-1] == "deep.<module>"), key=len)
    assert len(whole) == 802 and set(whole[:-1]) == {"rsum"}  # i = 0 .. 800, and the module
    collapsed = tmp_path / "c.txt"
    assert run([OMNI, "--export", "collapsed", sessions["deep"], "--out", str(collapsed)]).returncode == 0
    deepest = max(len(line.split(";")) for line in collapsed.read_text().splitlines())
    assert max(len(n) for n in stacks) == deepest


def test_memory_sites_as_a_heap_profile(sessions, tmp_path):
    p = decode(export(sessions["leak"], tmp_path))
    rep = report_json(sessions["leak"])
    inuse = {}
    for locs, v, _ in p["samples"]:
        if v[6]:
            inuse[frames(p, locs)[0]] = inuse.get(frames(p, locs)[0], 0) + v[6]
    top = max(inuse, key=inuse.get)
    leak = rep["memory"]["leaks"][0]
    assert top == leak["name"] == "render"
    assert inuse["render"] == pytest.approx(leak["live_bytes"], rel=0.02)


def test_children_are_in_the_profile_by_pid(sessions, tmp_path):
    p = decode(export(sessions["kids"], tmp_path))
    rep = report_json(sessions["kids"])
    pids = {labels["pid"] for _, v, labels in p["samples"] if v[0]}
    assert pids == {x["pid"] for x in rep["processes"]} and len(pids) == 3
    spin = sum(v[0] for locs, v, _ in p["samples"] if v[0] and frames(p, locs)[0] == "spin")
    assert spin > 0


@needs_go
def test_go_tool_pprof_reads_what_the_report_says(sessions, tmp_path):
    out = export(sessions["hot"], tmp_path)
    rep = report_json(sessions["hot"])
    top = pprof("-top", "-sample_index=samples", str(out))
    total = rep["sampling"]["stack_samples"]
    assert "Total samples = %d" % total in top or "of %d total" % total in top
    first = [l for l in top.splitlines() if l.strip().endswith("checksum")][0]
    # checksum's own samples: the sampler's, with it innermost
    own = sum(ln["samples"] for ln in rep["lines"] if ln["function"] == "checksum")
    assert int(first.split()[0]) == own
    raw = pprof("-raw", str(out))
    assert "thread:[MainThread]" in raw and "hot_path.py" in raw
    calls = pprof("-top", "-sample_index=calls", str(sessions["small"] and export(sessions["small"], tmp_path, "s.pb.gz")))
    line = [l for l in calls.splitlines() if l.strip().endswith(" scale")][0]
    assert line.split()[0] == "1000000"
    traces = pprof("-traces", "-sample_index=inuse_space", str(export(sessions["leak"], tmp_path, "m.pb.gz")))
    assert "render" in traces


def test_export_pprof_errors(tmp_path):
    s = tmp_path / "none.omni"
    assert run([OMNI, "--quiet", "--mode", "off", "--out", str(s), "-c", "pass"]).returncode == 0
    r = run([OMNI, "--export", "pprof", str(tmp_path / "missing.omni"), "--out", str(tmp_path / "x")])
    assert r.returncode == 3
    r = run([OMNI, "--export", "pprofx", "x", "--out", "y"])
    assert r.returncode == 2 and b"collapsed, speedscope, pstats, chrome or pprof" in r.stderr
