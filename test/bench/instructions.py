"""omnipython's cost in instructions, which the machine's noise does not move.

On a shared 2-core VM wall times of one program stray by a third from run to
run; the instructions a run executes (valgrind's cachegrind, every thread
counted) stay within a few in a million with the string hash seed fixed
(PYTHONHASHSEED: a dict's collisions change with it). This counts them under
the distribution's python3.X, under bare_python - CPython linked as
omnipython links it, with nothing of omnipython's (its difference from
python3.X is the build's: Debian links its python3.X with LTO, which its
libpython3.X.a cannot give) - and under omnipython in each mode:

    cmake --build build --target bare_python
    /usr/bin/python3.11 test/bench/instructions.py [--only callheavy|startup|server]
        [--requests 200] [--omnipython build/omnipython] [--bare build/bare_python]

"server": the thread-per-request server of server.py, instructions per
request (a run answering --requests requests less a run answering none,
over the requests; both include the time-driven work of the run - the
monitor's ticks, the server's poll - which valgrind's slowness inflates).
Instructions are not time: cache misses, page faults and the other core's
threads do not show here; server.py and bench.py measure time.
"""
import argparse
import http.client
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PYTHON = "/usr/bin/python%d.%d" % sys.version_info[:2]
sys.path.insert(0, HERE)
import server as server_bench  # noqa: E402  (the server's source)

MODES = ("off", "sample", "minimal", "default")


def count(argv, script, requests=None):
    """Instructions of the run (all threads), or with requests: of a server
    answering that many."""
    vg = ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null"]
    env = dict(os.environ, PYTHONHASHSEED="1")
    p = subprocess.Popen(vg + argv + script, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=env)
    if requests is not None:
        port = int(p.stdout.readline().split()[1])
        for _ in range(requests):
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            c.request("GET", "/")
            c.getresponse().read()
            c.close()
        time.sleep(0.5)
        p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=1800)
    m = re.search(rb"I\s+refs:\s+([\d,]+)", err)
    if not m:
        raise RuntimeError("no count: %s" % err.decode(errors="replace")[-500:])
    return int(m.group(1).replace(b",", b""))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", choices=("callheavy", "startup", "server"))
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--omnipython", default=os.path.join(ROOT, "build", "omnipython"))
    ap.add_argument("--bare", default=os.path.join(ROOT, "build", "bare_python"))
    a = ap.parse_args()
    if subprocess.run(["valgrind", "--version"], capture_output=True).returncode != 0:
        sys.exit("instructions.py needs valgrind (apt-get install valgrind)")
    work = tempfile.mkdtemp(prefix="omni-instructions-")
    srv = os.path.join(work, "server.py")
    with open(srv, "w") as f:
        f.write(server_bench.SERVER)
    variants = [("python3", [PYTHON])]
    if os.access(a.bare, os.X_OK):
        variants.append(("bare_python", [a.bare]))
    else:
        print("no %s (cmake --build build --target bare_python): left out" % a.bare,
              file=sys.stderr)
    omni = os.path.abspath(a.omnipython)
    for mode in MODES:
        variants.append(("omnipython --mode " + mode,
                         [omni, "--quiet", "--mode", mode, "--out",
                          os.path.join(work, mode + ".omni")]))
    workloads = {
        "startup": lambda argv: count(argv, ["-c", "pass"]),
        "callheavy": lambda argv: count(argv, [os.path.join(HERE, "callheavy.py")]),
        "server": lambda argv: (count(argv, [srv], a.requests) - count(argv, [srv], 0))
        / a.requests,
    }
    for name, measure in workloads.items():
        if a.only and name != a.only:
            continue
        print("%s (%s)" % (name, "instructions a request" if name == "server"
                           else "instructions"))
        base = bare = None
        for vname, argv in variants:
            n = measure(argv)
            base = base or n
            if vname == "bare_python":
                bare = n
            print("  %-28s %14.0f  %6.3fx python3%s" %
                  (vname, n, n / base, "  %6.3fx bare" % (n / bare) if bare else ""),
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
