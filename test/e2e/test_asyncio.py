"""asyncio (issue 18): a coroutine's time includes what it awaited - per
coroutine function, the wall time from its first resumption to its end and
the part spent awaiting, beside cProfile's resumption counts; the awaits
that held the longest are named. Checked on a program of known sleeps."""
import cProfile
import os
import pstats
import subprocess

from conftest import OMNI, PYTHON, clean_env, report_json, run

PROG = r'''
import asyncio, time

def burn(seconds):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass

async def fetch(i):
    await asyncio.sleep(0.2)          # the await: 0.2 s, ten at once
    burn(0.01)                        # and 10 ms of its own work
    return i

async def handler():
    results = await asyncio.gather(*(fetch(i) for i in range(10)))
    await asyncio.sleep(0.1)
    return sum(results)

print(asyncio.run(handler()))
'''


def test_await_times_of_known_sleeps(tmp_path):
    src = tmp_path / "prog.py"
    src.write_text(PROG)
    s = tmp_path / "s.omni"
    r = run([OMNI, "--quiet", "--out", str(s), str(src)], env=clean_env())
    assert r.returncode == 0 and r.stdout == b"45\n", r.stderr.decode()
    rep = report_json(str(s))
    co = {c["name"]: c for c in rep["coroutines"]}
    f = co["fetch"]
    assert f["finished"] == 10
    # each: 0.2 s asleep, then 10 ms burning (one after another: the last
    # waits up to 90 ms for the others' burning)
    assert 0.2 <= f["mean_wall_s"] < 0.35, f
    assert 2.4 <= f["await_s"] < 2.65, f
    assert 0.1 - 0.005 <= f["running_s"] < 0.2, f
    h = co["handler"]
    assert h["finished"] == 1
    assert 0.4 <= h["wall_s"] < 0.6 and h["await_s"] >= 0.39 and h["running_s"] < 0.05, h
    # the awaits: fetch's sleep line, ten times 0.2 s; handler's gather and sleep
    aw = {(a["name"], a["line"]): a for a in rep["awaits"]}
    fa = aw[("fetch", 10)]
    # the k-th to wake waits for the k-1 before it to burn their 10 ms: an
    # await holds its coroutine until the loop resumes it (2 s + 0.45 s)
    assert fa["count"] == 10 and 2.4 <= fa["total_s"] < 2.65 and 0.29 <= fa["max_s"] < 0.35, fa
    assert aw[("handler", 15)]["count"] == 1 and aw[("handler", 15)]["total_s"] >= 0.29
    assert aw[("handler", 16)]["count"] == 1 and aw[("handler", 16)]["total_s"] >= 0.1
    # the longest first (asyncio.sleep's own await holds all eleven sleeps)
    totals = [a["total_s"] for a in rep["awaits"]]
    assert totals == sorted(totals, reverse=True)
    assert ("fetch", 10) in [(a["name"], a["line"]) for a in rep["awaits"][:2]]
    # beside cProfile's resumption counts: the same calls as python3 -m cProfile
    prof = tmp_path / "p.prof"
    subprocess.run([PYTHON, "-m", "cProfile", "-o", str(prof), str(src)], check=True,
                   capture_output=True, env=clean_env())
    st = pstats.Stats(str(prof)).stats
    cp = {k[2]: v[1] for k, v in st.items() if k[0] == str(src)}
    calls = {fn["name"]: fn["calls"] for fn in rep["functions"] if fn["file"] == str(src)}
    assert calls["fetch"] == cp["fetch"] and calls["handler"] == cp["handler"]
    text = run([OMNI, "--report", str(s)]).stdout.decode()
    assert "Coroutines" in text and "Longest awaits" in text
