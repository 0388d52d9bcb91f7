"""Exact call counts: for every function of the target, calls and primitive
calls equal cProfile's on the same program (and caller -> callee counts
equal pstats' callers). Threads are checked against counts the program
makes by construction."""
import collections
import os
import pstats

import pytest

from conftest import OMNI, PY_VERSION_INFO, PYTHON, SCRIPTS, clean_env, report_json, run

PROGRAMS = ["recursion.py", "generators.py", "classes.py", "coroutines.py", "stdlib_mix.py"]


def cprofile_stats(script, tmp_path):
    out = tmp_path / "cprofile.pstats"
    r = run([PYTHON, "-m", "cProfile", "-o", str(out), script], cwd=str(tmp_path), env=clean_env())
    assert r.returncode == 0, r.stderr.decode()
    return pstats.Stats(str(out)).stats


def omni_report(script, tmp_path):
    session = tmp_path / "s.omni"
    r = run([OMNI, "--quiet", "--out", str(session), script], cwd=str(tmp_path), env=clean_env())
    assert r.returncode == 0, r.stderr.decode()
    return report_json(str(session))


def key(entry):
    # cProfile names a function by co_name; omnipython by co_qualname.
    return (entry["file"], entry["line"], entry["name"].rsplit(".", 1)[-1])


@pytest.mark.parametrize("program", PROGRAMS)
def test_calls_equal_cprofile(program, tmp_path):
    script = os.path.join(SCRIPTS, "calls", program)
    ref = cprofile_stats(script, tmp_path)
    rep = omni_report(script, tmp_path)

    ours = collections.Counter()
    ours_prim = collections.Counter()
    for f in rep["functions"]:
        ours[key(f)] += f["calls"]
        ours_prim[key(f)] += f["primitive_calls"]
    theirs = {k: (v[1], v[0]) for k, v in ref.items() if k[0] == script}
    assert len(theirs) >= 3
    for k, (nc, cc) in sorted(theirs.items()):
        assert (k, ours[k], ours_prim[k]) == (k, nc, cc)
    # Nothing of the script's is counted that cProfile did not see.
    extra = {k for k in ours if k[0] == script} - set(theirs)
    assert not extra

    # Caller -> callee pairs inside the script.
    edges = collections.Counter()
    edges_prim = collections.Counter()
    for e in rep["calls"]:
        edges[(key(e["caller"]), key(e["callee"]))] += e["calls"]
        edges_prim[(key(e["caller"]), key(e["callee"]))] += e["primitive_calls"]
    checked = 0
    for callee, v in ref.items():
        if callee[0] != script:
            continue
        for caller, cv in v[4].items():
            if caller[0] == script:
                # pstats keeps (calls, primitive calls, tt, ct) per caller.
                pair = (caller, callee)
                assert (pair, edges[pair], edges_prim[pair]) == (pair, cv[0], cv[1])
                checked += 1
    # (3.12's cProfile, on sys.monitoring, sees fewer pairs among coroutines)
    assert checked >= (2 if PY_VERSION_INFO < (3, 12) else 1)


def test_times_are_consistent(tmp_path):
    script = tmp_path / "t.py"
    script.write_text(
        "import time\n"
        "def sleeper():\n    time.sleep(0.3)\n"
        "def spin():\n    s = 0\n    for i in range(300000):\n        s += i\n    return s\n"
        "def both():\n    sleeper()\n    spin()\n"
        "both()\n")
    rep = omni_report(str(script), tmp_path)
    fn = {f["name"]: f for f in rep["functions"] if f["file"] == str(script)}
    assert 0.29 <= fn["sleeper"]["inclusive_s"] < 0.6, fn["sleeper"]
    assert fn["spin"]["exclusive_s"] > 0.001
    both = fn["both"]
    # both's own time excludes its callees'.
    assert both["exclusive_s"] < 0.01, both
    assert abs(both["inclusive_s"] - (fn["sleeper"]["inclusive_s"] + fn["spin"]["inclusive_s"]
                                      + both["exclusive_s"])) < 1e-6
    mod = fn["<module>"]
    assert mod["inclusive_s"] >= both["inclusive_s"]
    assert rep["run"]["wall_s"] >= mod["inclusive_s"]


def test_threads_counted_per_thread(tmp_path):
    script = os.path.join(SCRIPTS, "calls", "threads.py")
    rep = omni_report(script, tmp_path)
    step = [f for f in rep["functions"] if f["name"] == "step" and f["file"] == script]
    assert len(step) == 1
    assert step[0]["calls"] == 1000 + 2000 + 3000 + 500
    names = {t["name"]: t for t in rep["threads"]}
    for k in range(3):
        t = names[f"worker-{k}"]
        # worker: 1 call, step: 1000*(k+1), plus threading's own frames.
        assert t["calls"] >= 1000 * (k + 1) + 1
        assert t["native_id"] > 0
    assert "MainThread" in names
    assert len(rep["threads"]) == 4


def test_deep_recursion_depth_recorded(tmp_path):
    script = tmp_path / "deep.py"
    script.write_text("import sys\nsys.setrecursionlimit(60000)\n"
                      "def r(n):\n    return 0 if n == 0 else 1 + r(n - 1)\nprint(r(50000))\n")
    rep = omni_report(str(script), tmp_path)
    r = [f for f in rep["functions"] if f["name"] == "r"][0]
    assert (r["calls"], r["primitive_calls"], r["max_recursion"]) == (50001, 1, 50001)
    main = [t for t in rep["threads"] if t["name"] == "MainThread"][0]
    assert main["max_depth"] >= 50002


def test_deep_recursion_in_a_thread(tmp_path):
    """Threads have their own C stacks; the hook moves to new segments there too."""
    script = tmp_path / "deep_thread.py"
    script.write_text(
        "import sys, threading\nsys.setrecursionlimit(40000)\n"
        "def r(n):\n    return 0 if n == 0 else 1 + r(n - 1)\n"
        "out = []\nt = threading.Thread(target=lambda: out.append(r(30000)))\nt.start(); t.join()\n"
        "print(out)\n")
    ref = run([PYTHON, str(script)], env=clean_env())
    got = run([OMNI, "--quiet", "--out", str(tmp_path / "s.omni"), str(script)], env=clean_env())
    assert (got.stdout, got.returncode) == (ref.stdout, ref.returncode) == (b"[30000]\n", 0)
