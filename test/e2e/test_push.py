"""--push URL: when a run ends, its profile (pprof, the whole tree) goes to a
Pyroscope-compatible ingest endpoint, sent by a process of its own. Tested
against receivers of this file on loopback: one that takes it and checks
every part, one that stalls, one that refuses, and none at all."""
import gzip
import http.server
import json
import os
import socket
import threading
import time
import urllib.parse

import pytest

from conftest import OMNI, clean_env, report_json, run
from test_pprof import GO, decode, pprof

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "examples")


class Receiver:
    """An ingest endpoint on loopback: answers status, or stalls."""

    def __init__(self, status=200, stall=False):
        outer = self
        self.requests = []

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.requests.append((self.path, dict(self.headers), body))
                if stall:
                    time.sleep(30)
                    return
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"no" if status >= 400 else b"ok")

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.server.server_port
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def wait_for_push(session, seconds=30):
    """The session's push record, once the sender has written it."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        push = report_json(session)["push"]
        if push:
            return push
        time.sleep(0.2)
    raise AssertionError("no push record after %d s" % seconds)


def profile_part(body, content_type):
    """The multipart form's "profile" part."""
    boundary = content_type.split("boundary=")[1].encode()
    for part in body.split(b"--" + boundary):
        head, _, data = part.partition(b"\r\n\r\n")
        if b'name="profile"' in head:
            return data[:-2]  # the CRLF before the next boundary
    raise AssertionError("no profile part")


def test_the_profile_arrives_with_its_name_labels_and_times(tmp_path):
    rcv = Receiver()
    s = tmp_path / "p.omni"
    try:
        r = run([OMNI, "--quiet", "--push", rcv.url, "--push-labels", "env=test,team=perf",
                 "--out", str(s), os.path.join(EXAMPLES, "hot_path.py")],
                env=clean_env(OMNIPYTHON_PUSH_AUTHORIZATION="Bearer t0ken",
                              OMNIPYTHON_PUSH_TENANT="acme"))
        assert r.returncode == 0, r.stderr.decode()
        push = wait_for_push(str(s))
    finally:
        rcv.close()
    rep = report_json(str(s))
    assert push["sent"] and push["status"] == 200 and push["attempts"] == 1
    (path, headers, body), = rcv.requests
    url = urllib.parse.urlparse(path)
    q = dict(urllib.parse.parse_qsl(url.query))
    assert url.path == "/ingest"
    pid = rep["run"]["pid"]
    assert q["name"] == "hot_path{host=%s,pid=%d,env=test,team=perf}" % (socket.gethostname(), pid)
    assert q["name"] == push["name"]
    assert q["format"] == "pprof" and q["spyName"] == "omnipython" and q["sampleRate"] == "200"
    start = rep["run"]["start_unix_s"]
    assert int(q["from"]) <= start < start + rep["run"]["wall_s"] <= int(q["until"])
    assert headers["Authorization"] == "Bearer t0ken" and headers["X-Scope-OrgID"] == "acme"
    assert push["bytes"] == len(body)
    part = tmp_path / "part.pb.gz"
    part.write_bytes(profile_part(body, headers["Content-Type"]))
    p = decode(str(part))
    assert sum(v[0] for _, v, _ in p["samples"]) == rep["sampling"]["stack_samples"]
    # the text report says where it went
    assert ("pushed to %s" % rcv.url).encode() in run([OMNI, "--report", str(s)]).stdout


def run_timed(args, env):
    t0 = time.monotonic()
    r = run(args, env=env)
    return r, time.monotonic() - t0


def test_a_stalled_or_absent_endpoint_holds_nothing_up(tmp_path):
    prog = ["-c", "print(sum(range(10**6)))"]
    env = clean_env(OMNIPYTHON_PUSH_TIMEOUT="1")
    base = min(run_timed([OMNI, "--quiet", "--out", str(tmp_path / ("b%d.omni" % i))] + prog,
                         env)[1] for i in range(3))
    rcv = Receiver(stall=True)
    try:
        s = tmp_path / "stall.omni"
        r, secs = run_timed([OMNI, "--quiet", "--push", rcv.url, "--out", str(s)] + prog, env)
        assert r.returncode == 0 and r.stdout == b"499999500000\n" and r.stderr == b""
        # the run ends as soon as without --push: the sender waits, not the run
        assert secs < base + 0.5, (secs, base)
        push = wait_for_push(str(s))
    finally:
        rcv.close()
    assert not push["sent"] and push["attempts"] == 3 and "timed out" in push["error"]
    assert len(rcv.requests) >= 1
    # nothing listens: the same, and the report warns
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    s = tmp_path / "down.omni"
    r, secs = run_timed([OMNI, "--quiet", "--push", "http://127.0.0.1:%d" % port,
                         "--out", str(s)] + prog, env)
    assert r.returncode == 0 and secs < base + 0.5
    push = wait_for_push(str(s))
    assert not push["sent"] and push["attempts"] == 3 and "cannot connect" in push["error"]
    text = run([OMNI, "--report", str(s)]).stdout.decode()
    assert "warning: --push to http://127.0.0.1:%d failed after 3 attempts" % port in text


def test_a_refusal_is_not_tried_again(tmp_path):
    rcv = Receiver(status=400)
    s = tmp_path / "r.omni"
    try:
        assert run([OMNI, "--quiet", "--push", rcv.url, "--push-name", "svc", "--out", str(s),
                    "-c", "pass"], env=clean_env()).returncode == 0
        push = wait_for_push(str(s))
    finally:
        rcv.close()
    assert push["attempts"] == 1 and push["status"] == 400 and "HTTP 400" in push["error"]
    assert push["name"].startswith("svc{")


def test_push_from_the_configuration_file(tmp_path):
    rcv = Receiver()
    (tmp_path / "omnipython.yaml").write_text(
        "push: %s\npush_name: nightly\npush_labels: stage=ci\n" % rcv.url)
    s = tmp_path / "c.omni"
    try:
        assert run([OMNI, "--quiet", "--out", str(s), "-c", "pass"], cwd=str(tmp_path),
                   env=clean_env()).returncode == 0
        push = wait_for_push(str(s))
        # a report in the same folder: the file's push is for runs
        r = run([OMNI, "--report", str(s)], cwd=str(tmp_path))
        assert r.returncode == 0, r.stderr.decode()
    finally:
        rcv.close()
    assert push["sent"] and push["name"].startswith("nightly{") and push["name"].endswith(
        ",stage=ci}")


def test_push_usage_errors(tmp_path):
    r = run([OMNI, "--push", "https://example.com", "-c", "pass"])
    assert r.returncode == 2 and b"--push takes an http:// address" in r.stderr
    r = run([OMNI, "--push-name", "x", "-c", "pass"])
    assert r.returncode == 2 and b"--push-name and --push-labels go with --push URL" in r.stderr
    r = run([OMNI, "--report", "x.omni", "--push", "http://127.0.0.1:1"])
    assert r.returncode == 2 and b"--push goes with a run" in r.stderr


# A service of about 3.5 s: f called in batches of 1000, two threads.
SERVICE = r'''
import threading, time
def f(i):
    return i * 2
def batches(seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for i in range(1000):
            f(i)
        time.sleep(0.002)
t = threading.Thread(target=batches, args=(3.5,), name="worker")
t.start()
batches(3.5)
t.join()
print("served")
'''


def interval_profiles(rcv, tmp_path):
    """Each request's query and decoded profile, in the order they came."""
    out = []
    for i, (path, headers, body) in enumerate(rcv.requests):
        q = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(path).query))
        part = tmp_path / ("i%d.pb.gz" % i)
        part.write_bytes(profile_part(body, headers["Content-Type"]))
        out.append((q, decode(str(part)), part))
    return out


def calls_of(p, name):
    return sum(v[3] for locs, v, _ in p["samples"]
               if v[3] and p["functions"][p["locations"][locs[0]][0][0]][0] == name)


def test_intervals_at_each_checkpoint_add_up_to_the_run(tmp_path):
    rcv = Receiver()
    src = tmp_path / "service.py"
    src.write_text(SERVICE)
    s = tmp_path / "s.omni"
    try:
        r = run([OMNI, "--quiet", "--checkpoint", "0.5", "--push", rcv.url, "--out", str(s),
                 str(src)], env=clean_env())
        assert r.returncode == 0 and r.stdout == b"served\n", r.stderr.decode()
        push = wait_for_push(str(s))
    finally:
        rcv.close()
    rep = report_json(str(s))
    got = interval_profiles(rcv, tmp_path)
    # a profile per whole second of checkpoints, and the last at the end
    assert push["sent"] and push["intervals"] == push["intervals_sent"] == len(got) >= 3
    assert push["intervals_failed"] == push["intervals_dropped"] == 0
    spans = [(int(q["from"]), int(q["until"])) for q, _, _ in got]
    start, end = rep["run"]["start_unix_s"], rep["run"]["start_unix_s"] + rep["run"]["wall_s"]
    assert spans[0][0] == int(start) and spans[-1][1] >= end
    for (a, b), (c, d) in zip(spans, spans[1:]):
        assert a < b == c < d  # consecutive, not overlapping
    for (q, p, _), (a, b) in zip(got, spans):
        assert p["time"] == a * 10**9 and p["duration"] == (b - a) * 10**9
        assert q["name"] == push["name"]
    # the intervals' counts are the run's, cut at the checkpoints
    total_f = sum(calls_of(p, "f") for _, p, _ in got)
    f_calls = sum(f["calls"] for f in rep["functions"] if f["name"] == "f")
    assert total_f == f_calls and f_calls % 1000 == 0
    assert all(calls_of(p, "f") > 0 for _, p, _ in got[:-1])
    assert sum(v[0] for _, p, _ in got for _, v, _ in p["samples"]) == \
        rep["sampling"]["stack_samples"]
    # each is read by go tool pprof
    if GO:
        top = pprof("-sample_index=calls", "-top", str(got[0][2]))
        assert " f\n" in top or " f " in top
    text = run([OMNI, "--report", str(s)]).stdout.decode()
    assert "pushed to %s: %d of %d intervals sent" % (rcv.url, len(got), len(got)) in text


def test_a_stalled_endpoint_loses_what_the_queue_bound_says(tmp_path):
    src = tmp_path / "service.py"
    # a second longer: an interval is whole seconds, and a follower slowed by
    # a loaded machine merges two (3 of 4 were seen once under 3.13)
    src.write_text(SERVICE.replace("3.5", "4.5"))
    env = clean_env(OMNIPYTHON_PUSH_TIMEOUT="1")
    base = min(run_timed([OMNI, "--quiet", "--checkpoint", "0.5", "--out",
                          str(tmp_path / ("b%d.omni" % i)), str(src)], env)[1] for i in range(2))
    rcv = Receiver(stall=True)
    s = tmp_path / "s.omni"
    try:
        r, secs = run_timed([OMNI, "--quiet", "--checkpoint", "0.5", "--push", rcv.url,
                             "--out", str(s), str(src)], dict(env, OMNIPYTHON_PUSH_QUEUE="1"))
        assert r.returncode == 0 and r.stdout == b"served\n"
        assert secs < base + 0.5, (secs, base)  # the sender waits, not the run
        push = wait_for_push(str(s), seconds=60)
    finally:
        rcv.close()
    # the first interval is in flight for 3 tries of 1 s (1 s, 2 s apart)
    # while the others come: the queue holds one, so each newer drops one
    assert push["intervals"] >= 4 and push["intervals_sent"] == 0
    assert push["intervals_dropped"] >= push["intervals"] - 3
    assert push["intervals_failed"] + push["intervals_dropped"] == push["intervals"]
    assert "timed out" in push["error"]


GROWING = r'''
import time
keep = []
def grow():
    keep.append(bytearray(256 * 1024))
end = time.monotonic() + 3.0
while time.monotonic() < end:
    grow()
    time.sleep(0.02)
print("grew")
'''


def test_each_interval_carries_its_allocations_and_the_bytes_in_use(tmp_path):
    """--memory: an interval's alloc_objects and alloc_space are the blocks
    and bytes allocated in it (the intervals add up to the run's), its
    inuse_space the sites' bytes alive at its end (a growing service's
    grows from one to the next)."""
    rcv = Receiver()
    src = tmp_path / "growing.py"
    src.write_text(GROWING)
    s = tmp_path / "s.omni"
    try:
        r = run([OMNI, "--quiet", "--memory", "--checkpoint", "0.5", "--push", rcv.url,
                 "--out", str(s), str(src)], env=clean_env())
        assert r.returncode == 0 and r.stdout == b"grew\n", r.stderr.decode()
        wait_for_push(str(s))
    finally:
        rcv.close()
    got = interval_profiles(rcv, tmp_path)
    assert len(got) >= 3
    whole = tmp_path / "whole.pb.gz"
    assert run([OMNI, "--export", "pprof", str(s), "--out", str(whole)]).returncode == 0
    w = decode(str(whole))
    ix = {t: i for i, (t, _) in enumerate(w["types"])}

    def total(p, t, fn=None):
        return sum(v[ix[t]] for locs, v, _ in p["samples"]
                   if fn is None or p["functions"][p["locations"][locs[0]][0][0]][0] == fn)
    for t in ("alloc_objects", "alloc_space"):
        assert sum(total(p, t) for _, p, _ in got) == total(w, t), t
    # grow(): 256 KiB a call, 50 a second, all kept
    per = [total(p, "alloc_space", "grow") for _, p, _ in got[:-1]]
    assert all(x > 0 for x in per)
    inuse = [total(p, "inuse_space", "grow") for _, p, _ in got]
    assert all(b > a for a, b in zip(inuse, inuse[1:])), inuse
    assert inuse[-1] == total(w, "inuse_space", "grow")
    # about 12.5 MB a second, in use at the end as allocated in all
    assert abs(inuse[-1] - total(w, "alloc_space", "grow")) <= 0.25 * inuse[-1]
