"""A long-running service's session and memory over time (issue 18).

Runs the thread-per-request server of the throughput benchmark
(test/bench/server.py) under omnipython for --minutes, loaded on loopback at
a steady --rate of requests a second (each on a new connection, so a thread
each), and reads every minute the session's size, its checkpoint's and the
process's resident memory. At the end it stops the server (SIGTERM), checks
that the handler's call count equals the requests answered, and prints the
session's bytes by record kind and the growth it measured:

    /usr/bin/python3.11 test/stress/service_day.py [--minutes 60] [--rate 100]
        [--full SECONDS] [--mode default] [--omnipython build/omnipython]
        [--keep DIR]

The timeline thins out relative to OMNIPYTHON_TIMELINE_FULL (--full; 600 s
by default): a row every interval for the first `full` seconds, every 10
intervals up to 6 x full, every 100 after. With --full 60 a run reaches,
after 6 minutes, the state a default run reaches after the hour - the one it
stays in for the rest of a day - so an hour's run measures a day's growth
rate: the day's estimate is the growth from the 30th minute on, per hour,
times 24 (plus what a default run adds in its first hour: measure that with
a default run of an hour). Not in the test command: it takes the minutes it
is given.
"""
import argparse
import http.client
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
_spec = importlib.util.spec_from_file_location("omni_bench_server",
                                               os.path.join(ROOT, "test", "bench", "server.py"))
_bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_bench)


class Load:
    """Client threads sending GETs at a total steady rate until stopped."""

    def __init__(self, port, rate, clients=4):
        self.port, self.period = port, clients / float(rate)
        self.answered = [0] * clients
        self.failed = [0] * clients
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.client, args=(k,)) for k in range(clients)]
        for t in self.threads:
            t.start()

    def client(self, k):
        due = time.monotonic() + k * self.period / len(self.answered)
        while not self.stop.is_set():
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                c.request("GET", "/")
                ok = c.getresponse().read() == b"hello " * 20
                c.close()
                self.answered[k] += ok
                self.failed[k] += not ok
            except OSError:
                self.failed[k] += 1
            due += self.period
            self.stop.wait(max(0.0, due - time.monotonic()))

    def end(self):
        self.stop.set()
        for t in self.threads:
            t.join()
        return sum(self.answered), sum(self.failed)


def rss_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def bytes_by_kind(path):
    import msgpack
    sizes = {}
    with open(path, "rb") as f:
        u = msgpack.Unpacker(f, raw=False, strict_map_key=False)
        at = 0
        for rec in u:
            kind = rec.get("kind", "?") if isinstance(rec, dict) else "?"
            if kind == "timeline" and rec.get("recent"):
                kind = "timeline (recent)"
            n = u.tell() - at
            at = u.tell()
            c, b = sizes.get(kind, (0, 0))
            sizes[kind] = (c + 1, b + n)
    return sizes


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=60)
    ap.add_argument("--rate", type=float, default=100)
    ap.add_argument("--full", type=float, help="OMNIPYTHON_TIMELINE_FULL seconds")
    ap.add_argument("--mode", default="default")
    ap.add_argument("--omnipython", default=os.path.join(ROOT, "build", "omnipython"))
    ap.add_argument("--keep", help="a folder to keep the session and the growth table in")
    a = ap.parse_args()
    work = a.keep or tempfile.mkdtemp(prefix="omni-service-day-")
    os.makedirs(work, exist_ok=True)
    src = os.path.join(work, "server.py")
    with open(src, "w") as f:
        f.write(_bench.SERVER)
    session = os.path.join(work, "s.omni")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "OMNIPYTHON"))}
    if a.full is not None:
        env["OMNIPYTHON_TIMELINE_FULL"] = "%g" % a.full
    p = subprocess.Popen([os.path.abspath(a.omnipython), "--quiet", "--mode", a.mode,
                          "--out", session, src], stdout=subprocess.PIPE, env=env, cwd=work)
    line = p.stdout.readline().split()
    if not line or line[0] != b"ready":
        sys.exit("the server did not start: %r" % line)
    start = time.monotonic()
    load = Load(int(line[1]), a.rate)
    rows = []
    table = open(os.path.join(work, "growth.tsv"), "w")
    table.write("minute\tsession_bytes\tcheckpoint_bytes\trss_kb\trequests\n")
    print("minute  session  checkpoint   rss_kB  requests", flush=True)
    try:
        for minute in range(1, int(a.minutes) + 1):
            time.sleep(max(0.0, start + 60 * minute - time.monotonic()))
            if p.poll() is not None:
                sys.exit("the server ended early: status %s" % p.returncode)
            ckpt = sum(os.path.getsize(os.path.join(work, f)) for f in os.listdir(work)
                       if f.startswith("s.omni") and f != "s.omni")
            row = (minute, os.path.getsize(session), ckpt, rss_kb(p.pid), sum(load.answered))
            rows.append(row)
            table.write("\t".join(map(str, row)) + "\n")
            table.flush()
            print("%6d %8d %11d %8d %9d" % row, flush=True)
    finally:
        answered, failed = load.end()
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=120)
    rep = json.loads(subprocess.run([a.omnipython, "--report", session, "--format", "json"],
                                    capture_output=True, check=True).stdout)
    calls = {f["name"]: f["calls"] for f in rep["functions"]}
    size = os.path.getsize(session)
    print("requests answered %d (failed %d); H.do_GET calls %d: %s" %
          (answered, failed, calls.get("H.do_GET", 0),
           "exact" if calls.get("H.do_GET") == answered else "DIFFERENT"))
    print("session at the end: %d bytes (%.2f MB)" % (size, size / 1e6))
    for kind, (n, b) in sorted(bytes_by_kind(session).items(), key=lambda kv: -kv[1][1]):
        print("  %-20s %6d records %10d bytes" % (kind, n, b))
    half = [r for r in rows if r[0] >= len(rows) / 2]
    if len(half) >= 2:
        (m0, s0, _, r0, _), (m1, s1, _, r1, _) = half[0], half[-1]
        per_hour = (s1 - s0) * 60.0 / (m1 - m0)
        print("growth from minute %d to %d: %.0f bytes an hour (%.2f MB a day); "
              "resident memory %+d kB an hour" %
              (m0, m1, per_hour, per_hour * 24 / 1e6, (r1 - r0) * 60 / (m1 - m0)))
    table.close()
    if not a.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if calls.get("H.do_GET") == answered else 1


if __name__ == "__main__":
    sys.exit(main())
