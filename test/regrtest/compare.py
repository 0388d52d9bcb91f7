"""CPython's own regression suite under python3.X and under omnipython, compared
test case by test case.

Each side runs `python -m test -jN --timeout T --junit-xml FILE MODULES`: once
under python3.X, then under omnipython in each mode (its sessions go to a
scratch folder). A case that passes under python3.X and does not under
omnipython (failed, error, skipped, or missing: a module that crashed or hung
has no cases) is a difference; so is a case that became more than 3x slower
(and at least a second slower). The allow-list (known_differences.txt beside
this file: one test id a line, then ' | ' and why; ' | MODES | ' between for
an entry of some modes) names the differences that
are what profiling is; a case on it that passes is reported as well (not an
error: some pass or not with the process's descriptors' layout).

    /usr/bin/python3.11 test/regrtest/compare.py [--omnipython build/omnipython]
        [--python /usr/bin/python3.11] [--modes default,full] [-j 2]
        [--timeout 300] [--keep DIR [--reuse]] [--quick | --subset | --all | MODULE...]

Exit status 0 when every difference is on the allow-list, 1 otherwise, 2 when
a side could not run at all. Slowdowns are reported, not failed: cost is the
benchmarks' to judge (test/bench/), behaviour the tests'. Needs Debian's libpython3.X-testsuite.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# The areas omnipython hooks: threads, fork, signals, subprocesses, I/O, os,
# sys, audit, gc, the allocators, the profilers and tracers, site and venv,
# embedding, pickle, asyncio, ctypes... (the README's test command runs these).
SUBSET = """
test_atexit test_audit test_bdb test_capi test_code test_contextlib test_coroutines
test_cprofile test_ctypes test_dis test_embed test_enum test_exceptions test_faulthandler
test_fileio test_frame test_functools test_gc test_generators test_genexps test_global
test_importlib test_inspect test_io test_itertools test_logging test_memoryio test_mmap
test_multiprocessing_fork test_opcodes test_os test_pickle test_pkgutil test_posix
test_profile test_pty test_raise test_re test_resource test_runpy test_scope test_select
test_selectors test_signal test_site test_socket test_sqlite3 test_struct test_subprocess
test_sys test_sys_setprofile test_sys_settrace test_sysconfig test_tempfile test_thread
test_threading test_threading_local test_threadsignals test_time test_timeout test_trace
test_traceback test_tracemalloc test_unittest test_venv test_weakref test_with test_zipimport
""".split()

# What the README's test command runs (both modes within a few minutes on two
# cores): the cases of the subset that exercise the hooks most directly.
QUICK = """
test_atexit test_audit test_bdb test_code test_contextlib test_coroutines test_cprofile
test_dis test_embed test_exceptions test_faulthandler test_fileio test_frame test_functools
test_gc test_generators test_importlib test_inspect test_memoryio test_mmap test_os
test_pickle test_posix test_profile test_pty test_resource test_runpy test_select test_site
test_struct test_subprocess test_sys test_sys_setprofile test_sys_settrace test_tempfile
test_thread test_threading test_threading_local test_threadsignals test_time test_trace
test_traceback test_tracemalloc test_venv test_weakref
""".split()

ALL_MODULES = 500   # about the suite's module count, for the whole run's time limit
SLOWER = 3.0        # a case this many times slower than under python3.X is reported
SLOWER_ABS_S = 1.0  # ... when it is also at least this much slower


def load_allow(path, mode):
    """{test id: reason} of the allow-list for mode: a line is 'id | reason',
    or 'id | modes | reason' for an entry of some modes (comma-separated)."""
    allow = {}
    if not os.path.exists(path):
        return allow
    for line in open(path, encoding="utf-8"):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = [p.strip() for p in line.split(" | ", 2)]
        if len(parts) == 3 and mode not in parts[1].split(","):
            continue
        allow[parts[0]] = parts[-1]
    return allow


def outcomes(xml_path):
    """{test id: (outcome, seconds)} from regrtest's JUnit XML: outcome is
    passed, failed, error or skipped."""
    out = {}
    if not os.path.exists(xml_path):
        return out
    try:
        root = ET.parse(xml_path).getroot()
    except ET.ParseError:
        return out
    for tc in root.iter("testcase"):
        if not tc.get("name"):
            continue  # a module that failed before its cases (regrtest names it elsewhere)
        tags = {c.tag for c in tc}
        outcome = ("error" if "error" in tags else "failed" if "failure" in tags
                   else "skipped" if "skipped" in tags or tc.get("status") == "skipped"
                   else "passed")
        out[tc.get("name")] = (outcome, float(tc.get("time") or 0))
    return out


def module_of(tid):
    m = re.match(r"test\.(test_[A-Za-z0-9_]+)", tid)
    return m.group(1) if m else tid


def run_side(argv, modules, jobs, timeout, xml_path, env, log_path):
    """Runs regrtest; returns (seconds, the modules it said failed or timed out)."""
    cmd = argv + ["-m", "test", "-j%d" % jobs, "--timeout", str(timeout),
                  "--junit-xml", xml_path] + modules
    t0 = time.monotonic()
    with open(log_path, "wb") as log:
        try:
            subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, env=env,
                           timeout=timeout * (len(modules) or ALL_MODULES) + 600)
        except subprocess.TimeoutExpired:
            log.write(b"\ncompare.py: the whole run timed out\n")
    return time.monotonic() - t0


# Cases that skip themselves on what the harness hands the worker, not on
# the interpreter: a skip of theirs is no difference. test_os's closerange
# cases want the worker's two lowest free descriptors free together; the
# worker inherits regrtest's result file at the number its runner's thread
# got, and with -j the runner's threads open their temporary files in any
# order, leaving a hole at 3 below it now and then (seen under python3.13
# itself, and more often under omnipython, whose runner is slower).
SELF_SKIPPING = {
    "test.test_os.FileTests.test_closerange":
        "skips when the worker's lowest free descriptor has a used one above it",
    "test.test_os.TestInvalidFD.test_closerange":
        "skips when the worker's lowest free descriptor has a used one above it",
}


def compare(ref, got, allow):
    """The differences: [(test id, python3's outcome, omnipython's, why)]
    that the allow-list does not explain, those it explains (a skip of a
    SELF_SKIPPING case among them), the allowed cases that passed, and the
    slowdowns."""
    unexplained, explained, now_pass, slower = [], [], [], []
    for tid, (o_ref, t_ref) in sorted(ref.items()):
        o_got, t_got = got.get(tid, ("missing", 0.0))
        if o_ref == "passed" and o_got == "skipped" and tid in SELF_SKIPPING:
            allow.setdefault(tid, SELF_SKIPPING[tid])
            explained.append((tid, o_ref, o_got))
        elif o_ref == "passed" and o_got != "passed":
            (explained if tid in allow else unexplained).append((tid, o_ref, o_got))
        elif tid in allow and o_got == "passed":
            now_pass.append(tid)
        if o_got == "passed" and t_got > SLOWER * t_ref and t_got - t_ref >= SLOWER_ABS_S:
            slower.append((tid, t_ref, t_got))
    return unexplained, explained, now_pass, slower


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--omnipython", default=os.path.join(ROOT, "build", "omnipython"))
    ap.add_argument("--python", default="/usr/bin/python3.%d" % sys.version_info[1])
    ap.add_argument("--modes", default="default,full")
    ap.add_argument("-j", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--timeout", type=int, default=300, help="seconds a module may take")
    ap.add_argument("--allow", default=os.path.join(HERE, "known_differences.txt"))
    ap.add_argument("--keep", help="keep the logs and XML in this folder")
    ap.add_argument("--reuse", action="store_true",
                    help="with --keep: a side whose XML is already there is not run again")
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--quick", action="store_true", help="the test command's part of the subset")
    g.add_argument("--subset", action="store_true", help="the hooked areas (the default)")
    g.add_argument("--all", action="store_true", help="every module of the suite")
    ap.add_argument("modules", nargs="*")
    a = ap.parse_args()
    if a.all:
        modules = []   # regrtest's own list: every module
    else:
        modules = a.modules or (QUICK if a.quick else SUBSET)
    work = a.keep or tempfile.mkdtemp(prefix="omni-regrtest-")
    os.makedirs(work, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "OMNIPYTHON"))}

    print("python3:    %s on %d modules%s" % (a.python, len(modules), "" if modules else " (all)"))
    def side(argv, xml, env_, log):
        if a.reuse and a.keep and os.path.exists(xml):
            return 0.0
        return run_side(argv, modules, a.j, a.timeout, xml, env_, log)

    secs = side([a.python], os.path.join(work, "python.xml"), env,
                os.path.join(work, "python.log"))
    ref = outcomes(os.path.join(work, "python.xml"))
    if not ref:
        print("compare.py: %s ran no test case (is libpython3.X-testsuite installed?); see %s"
              % (a.python, os.path.join(work, "python.log")))
        return 2
    counts = {}
    for o, _ in ref.values():
        counts[o] = counts.get(o, 0) + 1
    print("  %d cases in %.0f s: %s" % (len(ref), secs, ", ".join(
        "%d %s" % (n, o) for o, n in sorted(counts.items()))))

    status = 0
    for mode in a.modes.split(","):
        sessions = os.path.join(work, "sessions-" + mode)
        os.makedirs(sessions, exist_ok=True)
        menv = dict(env, OMNIPYTHON_OPTIONS="--quiet --mode %s --out %s/run.omni" % (mode, sessions))
        xml = os.path.join(work, "omnipython-%s.xml" % mode)
        secs = side([a.omnipython], xml, menv, os.path.join(work, "omnipython-%s.log" % mode))
        got = outcomes(xml)
        if not a.keep:
            shutil.rmtree(sessions, ignore_errors=True)
        allow = load_allow(a.allow, mode)
        un, ex, now, slow = compare(ref, got, allow)
        passed = sum(1 for o, _ in got.values() if o == "passed")
        print("omnipython --mode %s: %d cases in %.0f s, %d passed; %d differences (%d known), "
              "%d slower than %gx" % (mode, len(got), secs, passed, len(un) + len(ex), len(ex),
                                      len(slow), SLOWER))
        for tid, o_ref, o_got in un:
            print("  DIFFERENT  %s: %s under python3, %s under omnipython" % (tid, o_ref, o_got))
        for tid, o_ref, o_got in ex:
            print("  known      %s: %s (%s)" % (tid, o_got, allow[tid]))
        for tid in now:
            print("  NOW PASSES %s: on the allow-list, take it off" % tid)
        for tid, t_ref, t_got in slow:
            print("  SLOWER     %s: %.2f s under python3, %.2f s under omnipython"
                  % (tid, t_ref, t_got))
        if un:
            status = 1
    if a.keep is None:
        shutil.rmtree(work, ignore_errors=True)
    print("regrtest comparison: %s" % ("no unexplained difference" if status == 0 else "DIFFERENCES"))
    return status


if __name__ == "__main__":
    sys.exit(main())
