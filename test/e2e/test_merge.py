"""Many sessions, one report: the workers a run started side by side, and
several runs (files or a folder of them) merged into one report, with the
spread between processes and the slowest named."""
import json
import os
import shutil

from conftest import OMNI, clean_env, run

# The ranks are the main process's own children (fork): 3.14's default start
# method, forkserver, puts a server and a resource tracker between them
# (test_children covers it).
RANKS = """\
import multiprocessing
import os

mp = multiprocessing.get_context("fork")


def rank(k):
    t = 0
    for i in range((4 if k == 3 else 1) * 1_500_000):  # rank 3: the straggler
        t += i % 7
    print(k, os.getpid(), flush=True)
    return t


if __name__ == "__main__":
    procs = [mp.Process(target=rank, args=(k,)) for k in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
"""


def job(folder):
    """Runs the 4-rank job in folder; {rank: pid} and the session."""
    os.makedirs(folder, exist_ok=True)
    prog = os.path.join(os.path.dirname(folder), "ranks.py")
    if not os.path.exists(prog):
        open(prog, "w").write(RANKS)
    s = os.path.join(folder, "job.omni")
    r = run([OMNI, "--quiet", "--out", s, "../ranks.py"], cwd=folder, env=clean_env())
    assert r.returncode == 0, r.stderr.decode()
    ranks = dict(tuple(map(int, line.split())) for line in r.stdout.decode().splitlines())
    return ranks, s


def report(*args):
    r = run([OMNI, "--report", *args, "--format", "json"])
    assert r.returncode == 0, r.stderr.decode()
    return json.loads(r.stdout)


def test_the_workers_side_by_side_and_the_slowest_named(tmp_path):
    ranks, s = job(str(tmp_path / "a"))
    rep = report(s)
    assert rep["runs_merged"] == 1
    (g,) = rep["peers"]
    procs = {p["pid"]: p for p in rep["processes"]}
    assert g["started_by_pid"] == rep["run"]["pid"]
    assert g["pids"] == sorted(ranks.values())
    # rank 3 does four times the others' work: it is the one they wait for
    assert g["slowest"]["pid"] == ranks[3]
    assert g["cpu_s"]["max"] == procs[ranks[3]]["cpu_s"] == g["slowest"]["cpu_s"]
    assert g["cpu_s"]["min"] == min(procs[p]["cpu_s"] for p in ranks.values())
    assert procs[ranks[3]]["cpu_s"] > max(procs[ranks[k]]["cpu_s"] for k in range(3))
    # each process's samples are its own, and add up to the report's
    assert sum(p["samples"] for p in rep["processes"]) == rep["sampling"]["stack_samples"]
    text = run([OMNI, "--report", s]).stdout.decode()
    assert "Peers" in text and "slowest: pid %d" % ranks[3] in text
    md = run([OMNI, "--report", s, "--format", "md"]).stdout.decode()
    assert "## Processes side by side" in md and "| %d (slowest) |" % ranks[3] in md


def test_runs_merged_from_files_and_from_a_folder(tmp_path):
    ranks_a, a = job(str(tmp_path / "a"))
    ranks_b, b = job(str(tmp_path / "b"))
    for rep in (report(a, b), report(str(tmp_path / "a"), str(tmp_path / "b"))):
        assert rep["runs_merged"] == 2 and len(rep["processes"]) == 10
        # the same code run from two folders is one function: every call counted
        (fn,) = [f for f in rep["functions"] if f["name"] == "rank"]
        assert fn["calls"] == 8 and fn["file"] == str(tmp_path / "ranks.py")
        groups = {g["started_by_pid"]: g for g in rep["peers"]}
        roots = groups[None]
        assert len(roots["pids"]) == 2 and len(groups) == 3
        assert {p for g in groups.values() if g["started_by_pid"] for p in g["pids"]} == \
            set(ranks_a.values()) | set(ranks_b.values())
    # a folder holding both runs' sessions: the children join their runs
    both = tmp_path / "both"
    both.mkdir()
    for src, tag in ((tmp_path / "a", "a"), (tmp_path / "b", "b")):
        for f in os.listdir(src):
            shutil.copy(src / f, both / (tag + "-" + f))
    rep = report(str(both))
    assert rep["runs_merged"] == 2 and len(rep["processes"]) == 10


def test_merging_errors(tmp_path):
    ranks, s = job(str(tmp_path / "a"))
    r = run([OMNI, "--report", s, str(tmp_path / "missing.omni")])
    assert r.returncode == 3 and b"missing.omni" in r.stderr
    (tmp_path / "empty").mkdir()
    r = run([OMNI, "--report", str(tmp_path / "empty")])
    assert r.returncode == 3 and b"no session (*.omni) in the folder" in r.stderr
    r = run([OMNI, "--report", s, s, "--process", "1"])
    assert r.returncode == 2 and b"--process goes with one session" in r.stderr
