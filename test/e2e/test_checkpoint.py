"""Checkpoints (issue 18): the tables of a running process beside its
session, so that SIGKILL loses only the last interval and a report on a
running process shows its functions. The numbers are checked against the
checkpoint file itself, read here with msgpack."""
import json
import os
import re
import signal
import subprocess
import sys
import time

import msgpack

from conftest import OMNI, clean_env, read_records, report_json, run

# Two threads calling f in batches of 1000; "batch N" on stdout after each
# batch of the main thread.
SERVICE = r'''
import sys, threading, time
def f(i):
    return i * 2
def batches(out):
    n = 0
    while True:
        for i in range(1000):
            f(i)
        n += 1
        if out:
            print("batch", n, flush=True)
        time.sleep(0.005)
threading.Thread(target=batches, args=(False,), name="worker", daemon=True).start()
batches(True)
'''


def checkpoint(session):
    """The checkpoint beside session: its first record and the calls of
    each function (by qualified name) over its threads."""
    path = str(session) + ".ckpt"
    with open(path, "rb") as fh:
        recs = list(msgpack.Unpacker(fh, raw=False, strict_map_key=False))
    head = recs[0]
    codes = next(r for r in recs if r["kind"] == "codes")
    key = {row[0]: (row[2], row[1], row[3]) for row in codes["rows"]}
    calls = {}
    for r in recs:
        if r["kind"] == "thread":
            for row in r["functions"]["rows"]:
                calls[key[row[0]]] = calls.get(key[row[0]], 0) + row[1]
    return head, calls, recs


def by_key(rep):
    return {(f["name"], f["file"], f["line"]): f["calls"] for f in rep["functions"]}


def start(tmp_path, *opts, src=SERVICE, **env):
    script = tmp_path / "service.py"
    script.write_text(src)
    s = tmp_path / "s.omni"
    p = subprocess.Popen([OMNI, "--quiet", *opts, "--out", str(s), str(script)],
                         stdout=subprocess.PIPE, cwd=str(tmp_path), env=clean_env(**env))
    assert p.stdout.readline().startswith(b"batch")
    return p, s


def wait_for_seq(s, seq, limit=20):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            head, _, _ = checkpoint(s)
            if head["seq"] >= seq:
                return head
        except (OSError, StopIteration, ValueError):
            pass
        time.sleep(0.05)
    raise AssertionError("no checkpoint %d in %d s" % (seq, limit))


def killed_after(tmp_path, seq, *opts, **kw):
    """The session of a service (start's arguments) killed by SIGKILL once
    its checkpoint seq is there."""
    p, s = start(tmp_path, *opts, **kw)
    try:
        wait_for_seq(s, seq)
    finally:
        p.send_signal(signal.SIGKILL)
        p.wait()
    return s


def test_sigkill_after_checkpoints_keeps_the_last_one(tmp_path):
    s = killed_after(tmp_path, 3, "--checkpoint", "0.3")
    head, calls, recs = checkpoint(s)
    assert head["seq"] >= 3 and head["session_id"] == read_records(s)[0]["session_id"]
    # the checkpoint is the file's: threads, then the tables, the codes last
    kinds = [r["kind"] for r in recs]
    assert kinds[0] == "checkpoint" and kinds[-1] == "codes"
    assert kinds.count("thread") == 2 and "samples" in kinds and "io" in kinds
    rep = report_json(str(s))
    assert rep["run"]["complete"] is False and rep["run"]["running"] is False
    assert rep["run"]["checkpoint"]["seq"] == head["seq"]
    assert abs(rep["run"]["checkpoint"]["t_s"] - head["t_ns"] / 1e9) < 1e-6
    got = by_key(rep)
    assert got == calls
    assert calls[("f", str(tmp_path / "service.py"), 3)] >= 3 * 1000  # three intervals at least
    threads = {t["name"] for t in rep["threads"]}
    assert {"MainThread", "worker"} <= threads
    text = run([OMNI, "--report", str(s)]).stdout.decode()
    assert "as of checkpoint %d" % head["seq"] in text


ASYNC_SERVICE = r'''
import asyncio
async def job(i):
    await asyncio.sleep(0.001)
    return i
async def main():
    n = 0
    while True:
        await asyncio.gather(*(job(i) for i in range(20)))
        n += 1
        print("batch", n, flush=True)
asyncio.run(main())
'''


def test_coroutines_are_in_the_checkpoint(tmp_path):
    """An asyncio service killed by SIGKILL keeps its coroutines' times up to
    its last checkpoint: the report's finished coroutines are the
    checkpoint's, with their awaits."""
    s = killed_after(tmp_path, 2, "--checkpoint", "0.3", src=ASYNC_SERVICE)
    _, calls, recs = checkpoint(s)
    (cr,) = [r for r in recs if r["kind"] == "coroutines"]
    assert [r["kind"] for r in recs][-1] == "codes"
    codes = next(r for r in recs if r["kind"] == "codes")
    name = {row[0]: row[2] for row in codes["rows"]}
    finished = {name[row[0]]: row[1] for row in cr["functions"]["rows"]}
    assert finished["job"] >= 20  # a batch at least (one may be half done)
    rep = report_json(str(s))
    co = {c["name"]: c for c in rep["coroutines"]}
    assert co["job"]["finished"] == finished["job"]
    assert co["job"]["await_s"] > 0.0009 * finished["job"]
    assert any(a["name"] == "job" and a["line"] == 4 for a in rep["awaits"])


# Keeps a 256 KiB block a batch (about 90 a second) and churns short-lived
# strings: a service whose memory grows.
GROWING_SERVICE = r'''
import time
keep = []
def grow():
    keep.append(bytearray(256 * 1024))
def churn():
    return [str(i) for i in range(200)]
n = 0
while True:
    grow()
    churn()
    n += 1
    print("batch", n, flush=True)
    time.sleep(0.01)
'''


def test_memory_is_in_the_checkpoint(tmp_path):
    """--memory: a service killed by SIGKILL keeps its allocation sites up to
    its last checkpoint, with their bytes alive then (the growing site is a
    leak candidate), and exact totals equal to the checkpoint's."""
    s = killed_after(tmp_path, 3, "--memory", "--checkpoint", "0.5", src=GROWING_SERVICE)
    _, _, recs = checkpoint(s)
    kinds = [r["kind"] for r in recs]
    assert kinds[-1] == "codes" and kinds.count("memory") == 1
    (mem,) = [r for r in recs if r["kind"] == "memory"]
    assert "checkpoint" in mem["census"]["reason"] and mem["census"]["rows"]["rows"] == []
    rep = report_json(str(s))
    m = rep["memory"]
    assert m["available"] is True
    assert m["allocations"] == mem["allocations"] and m["exit_live_bytes"] == mem["exit_live_bytes"]
    # 1.5 s and more of 256 KiB blocks: over 100 of them, the bytes alive
    # nearly all theirs; the site's estimate (a block sampled with
    # probability 1 - 1/e) within 25% of the exact total (3 standard errors)
    assert mem["exit_live_bytes"] > 100 * 256 * 1024
    site = {(x["name"], x["line"]): x for x in m["sites"]}[("grow", 5)]
    assert 0.75 * mem["exit_live_bytes"] < site["live_bytes"] < 1.1 * mem["exit_live_bytes"]
    leak = [x for x in m["leaks"] if x["name"] == "grow"]
    assert leak and leak[0]["growth_bytes_per_s"] > 0
    # the churned strings were freed: almost nothing of them alive
    churn = {x["name"]: x for x in m["sites"]}.get("churn.<locals>.<listcomp>") or \
        {x["name"]: x for x in m["sites"]}.get("churn")
    assert churn is None or churn["live_bytes"] < 0.01 * site["live_bytes"]


def test_a_killed_services_last_rows_are_at_full_resolution(tmp_path):
    """Past the full-resolution window (1 s here) the session's timeline
    thins to a row a second; each checkpoint holds the rows it left out over
    the last minute, so a service killed by SIGKILL has its last second at
    a row every interval."""
    s = killed_after(tmp_path, 6, "--checkpoint", "0.5", OMNIPYTHON_TIMELINE_FULL="1")
    head, _, recs = checkpoint(s)
    (recent,) = [r for r in recs if r["kind"] == "timeline"]
    assert recent["recent"] is True
    ck_t = head["t_ns"] / 1e9
    mine = [row[0] / 1e9 for row in recent["process"]["rows"]]
    assert mine and all(ck_t - 60 <= x <= ck_t for x in mine)
    rows = report_json(str(s))["timeline"]["series"]["process"]["rows"]
    t = [row[0] / 1e9 for row in rows]
    assert t == sorted(t) and set(mine) <= set(t)
    last = [b - a for a, b in zip(t, t[1:]) if ck_t - 0.9 < a and b <= ck_t]
    assert len(last) >= 6 and max(last) < 0.15, last


def test_a_checkpoint_cut_short_or_not_the_runs_is_not_read(tmp_path):
    s = killed_after(tmp_path, 1, "--checkpoint", "0.2")
    ck = str(s) + ".ckpt"
    whole = open(ck, "rb").read()
    good = report_json(str(s))
    assert good["run"]["checkpoint"] is not None
    # a kill while a checkpoint is written leaves the temporary file: ignored
    with open(ck + ".tmp", "wb") as fh:
        fh.write(whole[: len(whole) // 2])
    assert report_json(str(s))["functions"] == good["functions"]
    # a damaged checkpoint (cut, or garbage) is left unused, never misread
    for bad in (whole[: len(whole) // 2], whole[: len(whole) - 3], b"\xc1" * 100):
        with open(ck, "wb") as fh:
            fh.write(bad)
        r = run([OMNI, "--report", str(s), "--format", "json"])
        assert r.returncode == 0, r.stderr.decode()
        rep = json.loads(r.stdout)
        assert rep["run"]["checkpoint"] is None and rep["functions"] == []
    # another session's checkpoint
    recs = list(msgpack.Unpacker(__import__("io").BytesIO(whole), raw=False,
                                 strict_map_key=False))
    recs[0]["session_id"] = "0" * 32
    with open(ck, "wb") as fh:
        for r in recs:
            fh.write(msgpack.packb(r))
    assert report_json(str(s))["run"]["checkpoint"] is None
    os.unlink(ck)
    assert report_json(str(s))["functions"] == []


def test_the_footer_supersedes_and_the_checkpoint_goes(tmp_path):
    src = tmp_path / "short.py"
    src.write_text("import time\ndef f(i):\n    return i\nfor k in range(30):\n"
                   "    [f(i) for i in range(1000)]\n    time.sleep(0.01)\n")
    s = tmp_path / "s.omni"
    r = run([OMNI, "--quiet", "--checkpoint", "0.05", "--out", str(s), str(src)],
            env=clean_env())
    assert r.returncode == 0
    assert not os.path.exists(str(s) + ".ckpt")
    assert not os.path.exists(str(s) + ".ckpt.tmp")
    rep = report_json(str(s))
    assert rep["run"]["complete"] is True and rep["run"]["checkpoint"] is None
    assert {f["name"]: f["calls"] for f in rep["functions"]}["f"] == 30000
    # the footer's account: a checkpoint about every 0.1 s (the monitor's
    # tick) over the run's 0.3 s and more, each packed and written in well
    # under the interval on the monitor thread
    ck = rep["run"]["checkpoints"]
    assert ck["count"] >= 2 and ck["last_bytes"] > 1000 and 0 < ck["max_s"] < 0.5


def test_a_report_on_a_running_process_asks_for_a_checkpoint(tmp_path):
    # --checkpoint 0: none on a timer, only when asked
    p, s = start(tmp_path, "--checkpoint", "0")
    try:
        time.sleep(0.5)
        assert not os.path.exists(str(s) + ".ckpt")
        rep = report_json(str(s))
        assert rep["run"]["running"] is True and rep["run"]["checkpoint"]["seq"] == 0
        first = {f["name"]: f["calls"] for f in rep["functions"]}["f"]
        assert first >= 1000
        time.sleep(0.3)
        rep = report_json(str(s))
        assert rep["run"]["checkpoint"]["seq"] == 1
        assert {f["name"]: f["calls"] for f in rep["functions"]}["f"] > first
        assert not os.path.exists(str(s) + ".ckpt-request")
    finally:
        p.send_signal(signal.SIGKILL)
        p.wait()


def test_follow_reports_until_the_run_ends(tmp_path):
    src = tmp_path / "two_seconds.py"
    src.write_text("import time\ndef f(i):\n    return i\nfor k in range(40):\n"
                   "    [f(i) for i in range(1000)]\n    time.sleep(0.05)\n")
    s = tmp_path / "s.omni"
    p = subprocess.Popen([OMNI, "--quiet", "--out", str(s), str(src)], env=clean_env())
    deadline = time.monotonic() + 10
    while not s.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.3)
    r = run([OMNI, "--report", str(s), "--follow", "--format", "json"], timeout=60)
    p.wait()
    assert r.returncode == 0, r.stderr.decode()
    text, docs, dec = r.stdout.decode(), [], json.JSONDecoder()
    pos = 0
    while pos < len(text.rstrip()):
        while text[pos].isspace():
            pos += 1
        doc, pos = dec.raw_decode(text, pos)
        docs.append(doc)
    assert len(docs) >= 2
    assert docs[0]["run"]["running"] is True and docs[0]["run"]["checkpoint"] is not None
    assert docs[-1]["run"]["complete"] is True
    calls = [{f["name"]: f["calls"] for f in d["functions"]}.get("f", 0) for d in docs]
    assert calls == sorted(calls) and calls[-1] == 40000


def test_checkpoint_option_and_config_errors(tmp_path):
    r = run([OMNI, "--checkpoint", "soon", "-c", "pass"])
    assert r.returncode == 2 and b"--checkpoint takes seconds" in r.stderr
    r = run([OMNI, "--follow", "-c", "pass"])
    assert r.returncode == 2 and b"--follow goes with --report" in r.stderr


CHURN = r'''
import os, sys, threading, time
# new code objects, new functions in every thread's table, new caller pairs,
# audited events and I/O, all while checkpoints are read every few ms
def worker(k, out):
    for j in range(60):
        ns = {}
        exec("def g%d_%d(x):\n    return x + 1\n" % (k, j), ns)
        g = ns["g%d_%d" % (k, j)]
        for i in range(200):
            g(i)
        with open(os.path.join(out, "f%d" % k), "a") as fh:
            fh.write("x" * 100)
        __import__("json" if j % 2 else "base64")
        if j % 10 == 0:
            time.sleep(0.002)
ts = [threading.Thread(target=worker, args=(k, sys.argv[1])) for k in range(6)]
for t in ts: t.start()
for t in ts: t.join()
print("done")
'''


def test_checkpoints_while_every_table_grows(tmp_path):
    """Checkpoints every tick (5 ms) while six threads make code objects,
    grow their tables, open files and import: the run's output and its final
    counts are exact, and each checkpoint read on the way is consistent."""
    src = tmp_path / "churn.py"
    src.write_text(CHURN)
    s = tmp_path / "s.omni"
    p = subprocess.Popen([OMNI, "--quiet", "--interval", "5", "--checkpoint", "0.005",
                          "--out", str(s), str(src), str(tmp_path)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=clean_env())
    seen = 0
    while p.poll() is None:
        try:
            head, calls, _ = checkpoint(s)
        except (OSError, StopIteration):
            continue
        seen = max(seen, head["seq"])
        # every code a table names is in the codes record (else KeyError above)
        assert all(n > 0 for n in calls.values())
    out, err = p.communicate()
    assert p.returncode == 0 and out == b"done\n", err.decode()[-3000:]
    assert seen >= 2
    rep = report_json(str(s))
    got = {}
    for f in rep["functions"]:
        if re.fullmatch(r"g\d+_\d+", f["name"]):
            got[f["name"]] = f["calls"]
    assert len(got) == 360 and set(got.values()) == {200}
    for k in range(6):
        assert (tmp_path / ("f%d" % k)).read_text() == "x" * 6000
