"""Throughput of a thread-per-request server under each profiler (issue 18).

http.server with socketserver.ThreadingMixIn (a thread per connection, one
request a connection as HTTP/1.0 does) on loopback, loaded by wrk -t1 -c8
(Debian's wrk) for --seconds, or by a bounded Python load generator when wrk
is missing. Every variant runs once a round, rounds interleaved; the report
is each variant's median requests/s and its ratio to python3's.

    /usr/bin/python3.11 test/bench/server.py [--rounds 5] [--seconds 5]
        [--omnipython build/omnipython]

Targets: default mode at least 0.85x of python3; a sampling-only mode at
least 0.97x (at 100 Hz, and measured at 1 kHz too).
"""
import argparse
import http.client
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PYTHON = "/usr/bin/python3.11"

SERVER = r'''
import http.server, socketserver, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"hello " * 20
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
srv = S(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 0), H)
print("ready", srv.server_address[1], flush=True)
srv.serve_forever()
'''

YAPPI = r'''
import runpy, sys, yappi
yappi.set_clock_type("cpu")
yappi.start(profile_threads=True)
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
'''


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def python_load(port, seconds, connections=8):
    done = [0] * connections
    end = time.monotonic() + seconds

    def client(k):
        while time.monotonic() < end:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            c.request("GET", "/")
            c.getresponse().read()
            c.close()
            done[k] += 1

    ts = [threading.Thread(target=client, args=(k,)) for k in range(connections)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return sum(done) / seconds


def measure(argv, seconds, workdir):
    port = free_port()
    p = subprocess.Popen(argv + [str(port)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         cwd=workdir)
    try:
        assert p.stdout.readline().split()[0] == b"ready"
        if shutil.which("wrk"):
            out = subprocess.run(["wrk", "-t1", "-c8", "-d%ds" % seconds,
                                  "http://127.0.0.1:%d/" % port],
                                 capture_output=True, text=True, timeout=seconds + 30).stdout
            return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
        return python_load(port, seconds)
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--omnipython", default=os.path.join(ROOT, "build", "omnipython"))
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="omni-server-bench-")
    src = os.path.join(work, "server.py")
    with open(src, "w") as f:
        f.write(SERVER)
    omni = os.path.abspath(a.omnipython)
    variants = [("python3", [PYTHON, src])]
    for mode in ("off", "minimal", "default", "full"):
        variants.append(("omnipython --mode " + mode,
                         [omni, "--quiet", "--mode", mode, "--out",
                          os.path.join(work, mode + ".omni"), src]))
    for hz in (100, 1000):
        variants.append(("omnipython --mode sample (%d Hz)" % hz,
                         [omni, "--quiet", "--mode", "sample", "--sample-rate", str(hz),
                          "--out", os.path.join(work, "sample%d.omni" % hz), src]))
    variants.append(("python3 -m cProfile (main thread only)", [PYTHON, "-m", "cProfile", src]))
    if subprocess.run([PYTHON, "-c", "import yappi"], capture_output=True).returncode == 0:
        yp = os.path.join(work, "yappi_run.py")
        with open(yp, "w") as f:
            f.write(YAPPI)
        variants.append(("yappi (all threads)", [PYTHON, yp, src]))
    usable = []
    for name, argv in variants:  # a variant that cannot run here is left out, said so
        try:
            measure(argv, 1, work)
            usable.append((name, argv))
        except Exception as e:  # noqa: BLE001
            print("left out: %s (%s)" % (name, e.__class__.__name__), file=sys.stderr)
    rates = {name: [] for name, _ in usable}
    for r in range(a.rounds):
        for name, argv in usable:
            rates[name].append(measure(argv, a.seconds, work))
            for f in os.listdir(work):
                if f.endswith((".omni", ".ckpt")):
                    os.unlink(os.path.join(work, f))
        print("round %d/%d done" % (r + 1, a.rounds), file=sys.stderr)
    base = statistics.median(rates["python3"])
    print("%-40s %10s %8s   %s" % ("variant", "req/s", "ratio", "runs"))
    for name, _ in usable:
        med = statistics.median(rates[name])
        print("%-40s %10.0f %7.2fx   %s" % (name, med, med / base,
                                          " ".join("%.0f" % x for x in rates[name])))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
