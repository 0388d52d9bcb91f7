"""The target's own profilers and tracers keep working under omnipython:
cProfile, coverage's tracer, tracemalloc; the session lists them."""
import os
import re

from conftest import OMNI, PY_VERSION_INFO, PYTHON, clean_env, report_json, run

PROG = """
def f(n):
    return sum(i for i in range(n))

def g(flag):
    if flag:
        return 1
    return 2

for _ in range(100):
    f(100)
g(True)
"""


def test_cprofile_gives_its_own_output(tmp_path):
    src = tmp_path / "p.py"
    src.write_text(PROG)
    s = tmp_path / "c.omni"
    ours = run([OMNI, "--quiet", "--out", str(s), "-m", "cProfile", "-s", "ncalls", str(src)],
               env=clean_env())
    theirs = run([PYTHON, "-m", "cProfile", "-s", "ncalls", str(src)], env=clean_env())
    assert ours.returncode == theirs.returncode == 0

    def calls(out):  # ncalls and function of each row (times differ run to run)
        return sorted(re.findall(r"^\s*(\d+(?:/\d+)?)\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+(.*)$",
                                 out.decode(), re.M))
    assert calls(ours.stdout) == calls(theirs.stdout)
    conflicts = report_json(str(s))["conflicts"]
    if PY_VERSION_INFO < (3, 12):  # (3.12's cProfile is on sys.monitoring: no conflict)
        assert conflicts and all(c["event"] == "sys.setprofile" for c in conflicts)


def test_coverage_measures_the_same(tmp_path):
    src = tmp_path / "p.py"
    src.write_text(PROG)
    reports = []
    for exe in (OMNI, PYTHON):
        data = tmp_path / f"cov-{os.path.basename(exe)}"
        r = run([exe, "-m", "coverage", "run", f"--data-file={data}", str(src)],
                env=clean_env(), cwd=str(tmp_path))
        assert r.returncode == 0, r.stderr.decode()
        rep = run([PYTHON, "-m", "coverage", "report", "-m", f"--data-file={data}"],
                  env=clean_env(), cwd=str(tmp_path))
        reports.append(rep.stdout)
    assert reports[0] == reports[1] and b"p.py" in reports[0]
    # `return 2`, which g(True) never reaches, is missing for both.
    assert re.search(rb"p\.py\s+9\s+1\s+89%\s+8\n", reports[0])


def test_tracemalloc_numbers(tmp_path):
    src = tmp_path / "t.py"
    src.write_text("import tracemalloc\ntracemalloc.start()\n"
                   "x = [bytearray(1000) for _ in range(10000)]\n"
                   "cur, peak = tracemalloc.get_traced_memory()\nprint(cur // 1000, peak // 1000)\n")
    ours = run([OMNI, "--quiet", "--out", str(tmp_path / "t.omni"), str(src)], env=clean_env())
    theirs = run([PYTHON, str(src)], env=clean_env())
    a, b = (list(map(int, r.stdout.split())) for r in (ours, theirs))
    for x, y in zip(a, b):
        assert abs(x - y) <= 0.02 * y, (a, b)
