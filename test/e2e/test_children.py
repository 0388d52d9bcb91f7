"""Process trees: every Python process a profiled run starts writes its own
session beside the parent's, linked to it, and --report joins them."""
import json
import os
import signal

import pytest

from conftest import OMNI, PYTHON, clean_env, read_records, report_json, run

POOL = """
import multiprocessing as mp, sys
def f(x):
    return x * x
if __name__ == "__main__":
    ctx = mp.get_context(sys.argv[1])
    with ctx.Pool(2) as p:
        print(sum(p.map(f, range(100))))
"""


def profile(tmp_path, code, *args, name="run.omni"):
    src = tmp_path / "prog.py"
    src.write_text(code)
    s = tmp_path / name
    r = run([OMNI, "--quiet", "--out", str(s), str(src), *args], cwd=str(tmp_path),
            env=clean_env())
    return r, s, src


def calls_of(rep, src, name):
    return sum(f["calls"] for f in rep["functions"] if f["file"] == str(src) and f["name"] == name)


@pytest.mark.parametrize("method", ["spawn", "fork", "forkserver"])
def test_pool_workers_are_joined(tmp_path, method):
    r, s, src = profile(tmp_path, POOL, method)
    assert r.returncode == 0 and r.stdout == b"328350\n", r.stderr
    rep = report_json(str(s))
    assert calls_of(rep, src, "f") == 100
    procs = rep["processes"]
    assert procs[0]["session"] == str(s) and procs[0]["started_by"] == "command"
    assert len(procs) >= 3  # the run and its two workers at least
    root_id = procs[0]["session_id"]
    ids = {p["session_id"] for p in procs}
    for p in procs[1:]:
        assert p["parent_session_id"] in ids and p["session"].startswith(str(tmp_path / "run-"))
    assert all(p["parent_session_id"] == root_id for p in procs if p["ppid"] == procs[0]["pid"])
    # Every thread of the report names its process.
    assert {t["pid"] for t in rep["threads"]} <= {p["pid"] for p in procs}


def test_subprocess_child_with_its_own_env_copy(tmp_path):
    code = ("import os, subprocess, sys\n"
            "def g():\n    return 1\n"
            "for _ in range(3 if len(sys.argv) > 1 else 2):\n    g()\n"
            "if len(sys.argv) == 1:\n"
            "    env = dict(os.environ, EXTRA='1')\n"
            "    subprocess.run([sys.executable, sys.argv[0], 'child'], env=env, check=True)\n")
    r, s, src = profile(tmp_path, code)
    assert r.returncode == 0, r.stderr
    rep = report_json(str(s))
    assert calls_of(rep, src, "g") == 5
    assert [p["started_by"] for p in rep["processes"]] == ["command", "parent"]
    child = rep["processes"][1]
    assert child["ppid"] == rep["processes"][0]["pid"] and child["exit_status"] == 0
    # One process alone.
    r = run([OMNI, "--report", str(s), "--process", str(child["pid"]), "--format", "json"])
    one = json.loads(r.stdout)
    assert calls_of(one, src, "g") == 3 and len(one["processes"]) == 1
    r = run([OMNI, "--report", str(s), "--process", "999999999"])
    assert r.returncode == 3 and b"no process 999999999" in r.stderr


def test_forked_child_has_its_own_counts_and_timeline(tmp_path):
    code = ("import os, time\n"
            "def g():\n    return 1\n"
            "for _ in range(4):\n    g()\n"
            "pid = os.fork()\n"
            "if pid == 0:\n"
            "    for _ in range(7):\n        g()\n"
            "    time.sleep(0.3)\n"
            "    os._exit(3)\n"
            "os.waitpid(pid, 0)\n"
            "g()\n")
    r, s, src = profile(tmp_path, code)
    assert r.returncode == 0
    rep = report_json(str(s))
    assert calls_of(rep, src, "g") == 12
    parent, child = rep["processes"]
    assert child["started_by"] == "fork" and child["exit_status"] == 3
    alone = json.loads(run([OMNI, "--report", str(s), "--process", str(child["pid"]),
                            "--format", "json"]).stdout)
    assert calls_of(alone, src, "g") == 7
    assert alone["timeline"]["available"] is True, (alone["timeline"], alone.get("warnings"))
    assert alone["timeline"]["samples"] >= 3
    recs = read_records(child["session"])
    assert recs[0]["parent_pid"] == parent["pid"] and recs[-1]["kind"] == "footer"


def test_child_forked_from_a_thread_ends_with_its_thread(tmp_path):
    """The child's one thread returns: the child ends (exit status 0) with its
    session whole, though omnipython's monitor thread runs in it (it kept the
    child alive, and the parent waiting on it, for ever)."""
    code = ("import os, threading\n"
            "def g():\n    return 1\n"
            "def func():\n"
            "    pid = os.fork()\n"
            "    if pid == 0:\n"
            "        for _ in range(5):\n            g()\n"
            "        return\n"
            "    os.waitpid(pid, 0)\n"
            "t = threading.Thread(target=func)\nt.start()\nt.join()\n")
    r, s, src = profile(tmp_path, code)
    assert r.returncode == 0, r.stderr
    rep = report_json(str(s))
    parent, child = rep["processes"]
    assert child["started_by"] == "fork" and child["exit_status"] == 0
    recs = read_records(child["session"])
    assert recs[-1]["kind"] == "footer" and recs[-1]["exit_how"] == "exit"
    alone = json.loads(run([OMNI, "--report", str(s), "--process", str(child["pid"]),
                            "--format", "json"]).stdout)
    assert calls_of(alone, src, "g") == 5


def test_killed_child_leaves_its_header(tmp_path):
    code = ("import os, signal, subprocess, sys, time\n"
            "if len(sys.argv) > 1:\n    time.sleep(30)\n"
            "p = subprocess.Popen([sys.executable, sys.argv[0], 'child'])\n"
            "time.sleep(0.5)\np.send_signal(signal.SIGKILL)\np.wait()\n")
    r, s, src = profile(tmp_path, code)
    assert r.returncode == 0
    rep = report_json(str(s))
    child = rep["processes"][1]
    assert child["exit_status"] is None and child["started_by"] == "parent"
    out = run([OMNI, "--report", str(s)]).stdout.decode()
    assert "Processes" in out and "(no footer)" in out


def test_children_inherit_the_mode(tmp_path):
    code = ("import subprocess, sys\n"
            "if len(sys.argv) == 1:\n"
            "    subprocess.run([sys.executable, sys.argv[0], 'child'])\n")
    src = tmp_path / "p.py"
    src.write_text(code)
    s = tmp_path / "m.omni"
    r = run([OMNI, "--quiet", "--mode", "minimal", "--interval", "0", "--out", str(s), str(src)],
            env=clean_env())
    assert r.returncode == 0
    rep = report_json(str(s))
    child = read_records(rep["processes"][1]["session"])
    assert child[0]["mode"] == "minimal"
    assert "timeline" not in [x["kind"] for x in child]


def test_the_variable_is_documented_in_the_environment(tmp_path):
    r, s, src = profile(tmp_path, "import os\nprint(os.environ['OMNIPYTHON_PARENT'][:3])\n")
    assert r.stdout == b"v1:\n"
    assert run([PYTHON, "-c", "import os; print('OMNIPYTHON_PARENT' in os.environ)"],
               env=clean_env()).stdout == b"False\n"
