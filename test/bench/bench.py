"""omnipython's cost against plain python3, measured in the same run.

Runs each workload under /usr/bin/python3.11 and under omnipython in each
mode, interleaved (python, omni, python, omni, ...) so that machine noise hits
both alike, and reports the median wall time of each and their ratio. Run it
with Debian's Python:

    /usr/bin/python3.11 test/bench/bench.py [--rounds N] [--omnipython build/omnipython]
        [--python /usr/bin/python3.11] [--only WORKLOAD] [--short]

Targets (issue 2): --mode off within 1.10x of python3; the call-heavy program
at most 1.5x with exact call profiling; the stdlib mix at most 1.2x; start-up
(-c pass) within 1.3x.

I/O accounting (issue 6) adds at most 5% on the I/O workload (the default
mode counts every read and write).

Allocation accounting (issue 4): "default-memory" is --mode default --memory;
the "memory" line is default-memory over default in the same run: at most
1.10x on programs that are not allocation-bound (loops, calls, the stdlib
mix); on the allocation-bound loop it is reported (the issue's 1.2x against
python3 cannot be met there: --mode off alone is 1.2x on it, the static
libpython3.11.a lacking the PGO/LTO build of Debian's python3.11, which
inlines pymalloc into its callers).

--mode sample (issue 18: no frame hook, no per-call work, stack samples at
100 Hz) at most 1.03x of python3 on the call-heavy programs; "sample-1khz"
is measured too.

Stack sampling at 1 kHz (issue 5) costs at most 5%: "default-1khz" over
"default-nosample", both measured in the same run.

Memory (issue 4), "objects" (400,000 small dicts alive at once): peak RSS
of the process (wait4's ru_maxrss) under python3, --mode default and
--mode default --memory: the allocation accounting may grow the target's
RSS by at most 5% over default, and omnipython as a whole stay within 10% of
the program's own peak.

The monitor thread (issue 3) at its default interval adds at most 2% wall on
CPU-bound programs: "default-nomon" is --mode default --interval 0, and the
"monitor" line is default over default-nomon, both measured in the same run.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
# The distribution's own python3.X of the version that runs this script (a
# build of omnipython embeds that version: run bench.py with it).
PYTHON = "/usr/bin/python%d.%d" % sys.version_info[:2]
# --short, the test command's form: three workloads in the modes that matter,
# three rounds, reported and not judged (a noisy machine may stray).
SHORT = {"startup": ("off", "default"), "loops": ("off", "default"),
         "callheavy": ("off", "default", "sample", "cprofile")}

MONITOR_TARGET = 1.02


# A mode label's suffix adds options: no monitor at all, no stack sampling,
# or sampling at 1 kHz.
SUFFIXES = {"-nomon": ["--interval", "0"], "-nosample": ["--sample-rate", "0"],
            "-1khz": ["--sample-rate", "1000"], "-memory": ["--memory"]}
SAMPLER_TARGET = 1.05
SAMPLE_MODE_TARGET = 1.03  # --mode sample (issue 18): no frame hook, 100 Hz samples
MEMORY_TARGET = 1.10

# Modes compared with each other in the same run: a line each, (name, mode,
# over mode, target or None, what it measures), when both ran.
RELATIVE = [
    ("sampler", "default-1khz", "default-nosample", SAMPLER_TARGET, "1 kHz over no sampling"),
    ("monitor", "default", "default-nomon", MONITOR_TARGET, "default over default-nomon"),
    ("memory", "default-memory", "default", MEMORY_TARGET, "--memory over default"),
]


def omni_argv(omni, mode, out):
    """omnipython's command line for a mode label such as "default-nomon"."""
    opts = []
    for suffix, extra in SUFFIXES.items():
        if mode.endswith(suffix):
            mode, opts = mode[:-len(suffix)], extra
    return [omni, "--quiet", "--mode", mode] + opts + ["--out", out]


WORKLOADS = [
    # name, python arguments, {mode: target ratio}; "cprofile" is python3 -m
    # cProfile, measured for reference (no target). Every workload runs in
    # every mode, for the README's table of the modes' costs.
    ("startup", ["-c", "pass"], {"off": 1.3, "minimal": None, "default": 1.3, "full": None}),
    ("loops", [os.path.join(HERE, "loops.py")],
     {"off": 1.10, "minimal": None, "default": 1.2, "full": None, "default-nomon": None,
      "default-memory": None}),
    ("callheavy", [os.path.join(HERE, "callheavy.py")],
     {"off": 1.10, "minimal": 1.5, "default": 1.5, "full": None, "cprofile": None,
      "default-nosample": None, "default-1khz": None, "default-memory": None,
      "sample": SAMPLE_MODE_TARGET, "sample-1khz": None}),
    ("methods", [os.path.join(HERE, "methods.py")],
     {"off": 1.10, "minimal": 1.5, "default": 1.5, "full": None, "cprofile": None,
      "sample": SAMPLE_MODE_TARGET}),
    ("iowork", [os.path.join(HERE, "iowork.py")],
     {"off": 1.10, "minimal": None, "default": 1.05, "full": None, "default-nomon": None}),
    ("allocheavy", [os.path.join(HERE, "allocheavy.py")],
     {"off": 1.10, "minimal": None, "default": None, "full": None, "default-memory": None}),
    ("stdlibmix", [os.path.join(HERE, "stdlibmix.py")],
     {"off": 1.10, "minimal": None, "default": 1.2, "full": None, "default-nomon": None,
      "cprofile": None, "default-nosample": None, "default-1khz": None,
      "default-memory": None}),
]
ALLOCATION_BOUND = {"allocheavy"}


def timed(argv, cwd):
    t0 = time.perf_counter()
    r = subprocess.run(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    dt = time.perf_counter() - t0
    if r.returncode != 0:
        sys.exit(f"{argv} failed: {r.stderr.decode()}")
    return dt


RSS_TARGET_MEMORY = 1.05   # --memory over default
RSS_TARGET_TOTAL = 1.10    # omnipython with --memory over python3


def peak_rss(argv, cwd):
    """The peak resident set of a command, in bytes (wait4's ru_maxrss)."""
    p = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        sys.exit(f"{argv} failed: {p.stderr.read().decode()}")
    return ru.ru_maxrss * 1024


def memory_overhead(omni, rounds, cwd, failed):
    """Peak RSS of the memory-heavy workload: medians of interleaved runs."""
    prog = [os.path.join(HERE, "objects.py")]
    rss = {"python3": [], "default": [], "default-memory": []}
    for _ in range(rounds):
        rss["python3"].append(peak_rss([PYTHON] + prog, cwd))
        for m in ("default", "default-memory"):
            rss[m].append(peak_rss(omni_argv(omni, m, os.path.join(cwd, "rss.omni")) + prog, cwd))
    med = {k: statistics.median(v) for k, v in rss.items()}
    checks = [("rss-memory", med["default"], med["default-memory"], RSS_TARGET_MEMORY,
               "peak RSS, --memory over default"),
              ("rss-total", med["python3"], med["default-memory"], RSS_TARGET_TOTAL,
               "peak RSS, --mode default --memory over python3")]
    for label, base, value, target, what in checks:
        ratio = value / base
        ok = ratio <= target
        if not ok:
            failed.append(f"objects/{label}")
        print(f"{'objects':<11} {label:<13} {base / 2**20:8.1f}MB {value / 2**20:8.1f}MB "
              f"{ratio:7.3f} {target:7.2f}{'' if ok else '  over target'}   ({what})")


def main():
    global PYTHON
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=11)
    ap.add_argument("--omnipython", default=os.path.join(ROOT, "build", "omnipython"))
    ap.add_argument("--only", help="run only this workload")
    ap.add_argument("--python", default=None, help="the python3 to compare with")
    ap.add_argument("--short", action="store_true",
                    help="three workloads, three rounds, ratios reported and not judged")
    args = ap.parse_args()
    PYTHON = args.python = args.python or PYTHON
    if args.short:
        args.rounds = 3
    failed = []
    with tempfile.TemporaryDirectory() as cwd:
        print(f"{'workload':<11} {'mode':<13} {'python3 s':>10} {'omni s':>10} {'ratio':>7} {'target':>7}")
        for name, pyargs, modes in WORKLOADS:
            if args.only and name != args.only or args.short and name not in SHORT:
                continue
            if args.short:
                modes = {m: t for m, t in modes.items() if m in SHORT[name]}
            rounds = args.rounds * (5 if name == "startup" else 1)
            times = {"python3": []}
            times.update({m: [] for m in modes})
            for i in range(rounds):
                times["python3"].append(timed([PYTHON] + pyargs, cwd))
                for m in modes:
                    out = os.path.join(cwd, f"bench-{m}.omni")
                    if m == "cprofile":
                        argv = [PYTHON, "-m", "cProfile", "-o", out] + pyargs
                    else:
                        argv = omni_argv(args.omnipython, m, out) + pyargs
                    times[m].append(timed(argv, cwd))
            base = statistics.median(times["python3"])
            for m, target in modes.items():
                med = statistics.median(times[m])
                ratio = med / base
                ok = target is None or ratio <= target
                if not ok:
                    failed.append(f"{name}/{m}")
                shown = "-" if target is None else f"{target:.2f}"
                print(f"{name:<11} {m:<13} {base:10.4f} {med:10.4f} {ratio:7.3f} {shown:>7}"
                      f"{'' if ok else '  over target'}")
            for label, mode, over, target, what in RELATIVE:
                if mode not in modes or over not in modes:
                    continue
                if label == "memory" and name in ALLOCATION_BOUND:
                    target = None
                without = statistics.median(times[over])
                med = statistics.median(times[mode])
                ratio = med / without
                ok = target is None or ratio <= target
                if not ok:
                    failed.append(f"{name}/{label}")
                shown = "-" if target is None else f"{target:.2f}"
                print(f"{name:<11} {label:<13} {without:10.4f} {med:10.4f} {ratio:7.3f} "
                      f"{shown:>7}{'' if ok else '  over target'}   ({what})")
        if not args.short and (not args.only or args.only == "objects"):
            memory_overhead(args.omnipython, max(3, args.rounds // 3), cwd, failed)
    if failed:
        print("over target:", ", ".join(failed))
    if args.short:
        print(f"(--short: {args.python} against {args.omnipython}, reported, not judged)")
        return 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
