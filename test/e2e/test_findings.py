"""The knowledge base and its findings: every example program yields its
finding (with evidence that agrees with the rest of the report), the clean
program yields none, user patterns add and replace, and invalid pattern files
are refused with file:line:column and the reason."""
import json
import os
import shutil

import pytest

from conftest import (CHROMIUM, OMNI, PY_VERSION_INFO, clean_env, need_scan, render, report_json,
                      run)

SANITIZED = os.environ.get("OMNI_TEST_SANITIZED") == "1"

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "examples")

# example program -> the finding it must yield
CASES = {
    "small_functions.py": "small_fn_high_calls",
    "hot_path.py": "hot_path",
    "cpu_bound.py": "cpu_bound",
    "waiting.py": "waiting",
    "gil_contention.py": "gil_contention",
    "deep_recursion.py": "deep_recursion",
    "small_writes.py": "small_io_ops",
    "repeated_open.py": "repeated_open",
    "slow_imports.py": "slow_imports",
    "many_subprocesses.py": "subprocess_heavy",
    # in the default mode, from the resident set's timeline
    "memory_leak.py": "memory_growth",
}

# Examples whose length matters: their --short version (a third of a second
# or less) gives the finding less confidence.
SHORT = ["cpu_bound.py", "waiting.py", "gil_contention.py", "hot_path.py", "memory_leak.py"]

# Patterns that need what this machine or this version does not measure.
NOT_HERE = {"low_ipc", "cache_misses", "gpu_underused", "alloc_churn",
            "complex_and_hot", "high_variance"}  # high_variance: with --repeat, below


@pytest.fixture(scope="module")
def sessions(tmp_path_factory):
    d = tmp_path_factory.mktemp("examples")
    out = {}
    runs = [(name, []) for name in list(CASES) + ["clean.py", "hotspots.py"]]
    runs += [(name, ["--short"]) for name in SHORT]
    for name, args in runs:
        key = name + (" --short" if args else "")
        s = d / (key.replace(" ", "") + ".omni")
        r = run([OMNI, "--quiet", "--out", str(s), os.path.join(EXAMPLES, name), *args],
                cwd=str(d), env=clean_env())
        assert r.returncode == 0, (name, r.stderr.decode())
        out[key] = str(s)
    return out


def findings(session, *extra):
    r = run([OMNI, "--report", session, "--format", "json", *extra])
    assert r.returncode == 0, r.stderr.decode()
    return json.loads(r.stdout)


@pytest.mark.parametrize("example", sorted(CASES))
def test_each_example_yields_its_finding(sessions, example):
    rep = findings(sessions[example])
    ids = [f["id"] for f in rep["findings"]]
    assert all(f["confidence"] >= 0.5 for f in rep["findings"])
    assert CASES[example] in ids, (example, ids)
    f = [f for f in rep["findings"] if f["id"] == CASES[example]][0]
    assert 0 < f["confidence"] <= 1
    assert f["suggestions"] and f["verify"] and f["description"]
    # The evidence: every comparison that held, with its value and threshold.
    ops = {">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
           "<": lambda a, b: a < b, "<=": lambda a, b: a <= b}
    assert f["evidence"]
    for ev in f["evidence"]:
        assert ops[ev["op"]](ev["value"], ev["threshold"]), ev
        assert ev["condition"].startswith(ev["metric"])


def test_evidence_agrees_with_the_report(sessions):
    rep = findings(sessions["small_functions.py"])
    f = [f for f in rep["findings"] if f["id"] == "small_fn_high_calls"][0]
    assert f["location"]["function"] == "scale" and f["location"]["line"] == 7
    fn = [x for x in rep["functions"] if x["name"] == "scale"][0]
    assert f["metrics"]["calls"] == fn["calls"] == 1_000_000
    assert f["metrics"]["per_call_s"] == pytest.approx(fn["exclusive_s"] / fn["calls"])

    rep = findings(sessions["many_subprocesses.py"])
    f = [f for f in rep["findings"] if f["id"] == "subprocess_heavy"][0]
    assert f["metrics"]["processes_started"] == 30

    rep = findings(sessions["repeated_open.py"])
    f = [f for f in rep["findings"] if f["id"] == "repeated_open"][0]
    # 500 reads, and tempfile.mkstemp's own open that made the file
    assert f["metrics"]["opens"] == 501 and f["location"]["path"].endswith(".json")
    assert f["location"]["function"] == "setting"

    rep = findings(sessions["deep_recursion.py"])
    f = [f for f in rep["findings"] if f["id"] == "deep_recursion"][0]
    # rsum(data) recurses once per element and once more at the end
    assert f["metrics"]["max_recursion"] == 801

    rep = findings(sessions["small_writes.py"])
    f = [f for f in rep["findings"] if f["id"] == "small_io_ops"][0]
    # one write per record, unbuffered
    assert f["location"]["function"] == "save" and f["metrics"]["io_ops"] == 20000

    rep = findings(sessions["hot_path.py"])
    f = one(rep, "hot_path")
    # the path follows functions (whatever line or thread the samples were at)
    # 3.12 inlines comprehensions into their function (PEP 709): no frame of their own
    listcomp = " > handle.<locals>.<listcomp>" if PY_VERSION_INFO < (3, 12) else ""
    assert f["call_path"] == "<module> > main > handle%s > parse > checksum" % listcomp
    assert f["location"]["function"] == "checksum" and f["metrics"]["hot_path_depth"] == (6 if listcomp else 5)
    assert f["metrics"]["samples"] == rep["sampling"]["stack_samples"]
    assert f["metrics"]["hot_path_share"] >= 0.6 and f["sources"] == ["the stack sampler"]

    for example, pattern in (("cpu_bound.py", "cpu_bound"), ("waiting.py", "waiting")):
        rep = findings(sessions[example])
        f = one(rep, pattern)
        run_ = rep["run"]
        assert f["location"] == {"pid": run_["pid"]}
        assert f["metrics"]["wall_s"] == run_["wall_s"]
        assert f["metrics"]["cpu_share"] == pytest.approx(
            (run_["cpu_user_s"] + run_["cpu_sys_s"]) / run_["wall_s"])
    assert findings(sessions["waiting.py"])["run"]["wall_s"] >= 1.25   # 25 sleeps of 50 ms

    rep = findings(sessions["slow_imports.py"])
    f = one(rep, "slow_imports")
    assert f["metrics"]["import_s"] == rep["imports"]["total_s"]
    assert [m["module"] for m in rep["imports"]["modules"] if m["outermost"]] == ["slowlib"]


def test_the_clean_program_yields_nothing(sessions):
    rep = findings(sessions["clean.py"])
    # nothing wrong, not even as a weak signal; what the run is (CPU-bound,
    # for the tenth of a second it lasts) is at most a weak signal
    assert [f for f in rep["findings"] + rep["weak_signals"] if f["kind"] == "problem"] == []
    assert rep["findings"] == []


def one(rep, pattern, weak_too=False):
    """The most confident finding of pattern (or weak signal, with weak_too)."""
    got = [f for f in rep["findings"] + (rep["weak_signals"] if weak_too else [])
           if f["id"] == pattern]
    assert got, (pattern, [(f["id"], f["confidence"]) for f in rep["findings"]],
                 [(f["id"], f["confidence"]) for f in rep["weak_signals"]])
    return max(got, key=lambda f: f["confidence"])


@pytest.mark.parametrize("example", SHORT)
def test_a_short_run_lowers_the_confidence_and_hides_nothing(sessions, example):
    pattern = CASES[example]
    long_ = one(findings(sessions[example]), pattern)
    rep = findings(sessions[example + " --short"])
    short = one(rep, pattern, weak_too=True)
    if pattern == "gil_contention":
        # the frame hook's clock tells it in a third of a second: still a finding
        assert short["confidence"] >= 0.5, short
    else:
        assert short["confidence"] < long_["confidence"], (short, long_)
    assert rep["min_confidence"] == 0.5
    # the same comparisons held, on less evidence
    assert [e["condition"] for e in short["evidence"]] == [e["condition"] for e in long_["evidence"]]
    for w in rep["weak_signals"]:
        assert 0.25 <= w["confidence"] < 0.5


def test_gil_contention_from_the_frame_hook_needs_no_sampler(sessions, tmp_path):
    # three threads, each a third of a second of pure-Python loop
    rep = findings(sessions["gil_contention.py --short"])
    f = one(rep, "gil_contention")
    threads = [t for t in rep["threads"] if t["name"].endswith("(work)")]
    assert len(threads) == 3
    cpu = rep["run"]["cpu_user_s"] + rep["run"]["cpu_sys_s"]
    # the sampler decides (the strongest source), the frame hook holds too
    assert f["sources"] == ["the stack sampler", "the run's wall and CPU time"]
    # the three workers; the main thread too when it took turns with them
    # often enough (it starts and joins them: seen under the sanitizers'
    # load); a worker that held the GIL in 80% of its samples or more does
    # not count (a tenth of a second each: seen once in CI, 2 of 3)
    assert f["metrics"]["gil_sharing_threads"] in (2, 3, 4)
    (hook,) = f["also"]
    assert hook["held"] and hook["sources"] == ["the frame hook's timings",
                                               "the run's wall and CPU time"]
    ev = {e["metric"]: e for e in hook["evidence"]}
    # (the main thread, starting them, may use a tenth of a short run's CPU)
    assert ev["busy_threads"]["value"] in (3, 4)
    # the busy threads' time in Python: the sum of their functions' exclusive time
    assert ev["busy_python_s"]["threshold"] == pytest.approx(1.5 * cpu, rel=1e-6)
    assert ev["busy_python_s"]["value"] > ev["busy_python_s"]["threshold"]
    assert f["confidence"] == max(f["confidence"], hook["confidence"])

    # without the sampler the frame hook decides
    s = tmp_path / "nosampler.omni"
    r = run([OMNI, "--quiet", "--sample-rate", "0", "--out", str(s),
             os.path.join(EXAMPLES, "gil_contention.py"), "--short"], env=clean_env())
    assert r.returncode == 0, r.stderr.decode()
    rep = findings(str(s))
    f = one(rep, "gil_contention")
    assert f["sources"] == ["the frame hook's timings", "the run's wall and CPU time"]
    assert f["also"] == [] and f["metrics"]["busy_threads"] in (3, 4)
    assert "hot_path" in {p["id"] for p in rep["patterns_skipped"]}

    # a thread that runs while the main thread waits for it is no contention,
    # nor a program that waits
    (tmp_path / "one.py").write_text(ONE_WORKER)
    s = tmp_path / "one.omni"
    assert run([OMNI, "--quiet", "--out", str(s), str(tmp_path / "one.py")],
               env=clean_env()).returncode == 0
    for rep in (findings(str(s)), findings(sessions["waiting.py"])):
        assert "gil_contention" not in [f["id"] for f in rep["findings"] + rep["weak_signals"]]


ONE_WORKER = """\
import json
import threading


def work(n):
    t = 0
    for i in range(n):
        t += i % 7
    return t


data = json.dumps(list(range(200000)))
th = threading.Thread(target=work, args=(3_000_000,))
th.start()
th.join()
"""


def fit(rows, cols):
    """The least-squares line through the resident set's samples, as the
    report's timeline holds them (the rows taken while the interpreter tore
    down left out: the one at exit, and any just before it)."""
    t, m, fin = cols.index("t_ns"), cols.index("rss_bytes"), cols.index("finalizing")
    assert rows[-1][fin] == 1 and rows[0][fin] == 0
    pts = [(r[t] / 1e9, r[m]) for r in rows if r[fin] == 0]
    n = len(pts)
    st, sm = sum(p[0] for p in pts), sum(p[1] for p in pts)
    stt, smm = sum(p[0] ** 2 for p in pts), sum(p[1] ** 2 for p in pts)
    stm = sum(p[0] * p[1] for p in pts)
    slope = (n * stm - st * sm) / (n * stt - st * st)
    r2 = (n * stm - st * sm) ** 2 / ((n * stt - st * st) * (n * smm - sm * sm))
    return n, slope, r2, pts[-1][1] - pts[0][1]


def test_memory_growth_from_the_timeline_without_allocation_accounting(sessions):
    rep = findings(sessions["memory_leak.py"])
    f = one(rep, "memory_growth")
    assert f["level"] == "process" and f["location"] == {"pid": rep["run"]["pid"]}
    assert f["sources"] == ["audited events", "the run's wall and CPU time",
                            "the monitor's timeline"]
    assert f["also"] == []    # no allocation accounting in this run
    series = rep["timeline"]["series"]["process"]
    n, slope, r2, growth = fit(series["rows"], series["columns"])
    m = f["metrics"]
    assert m["timeline_rows"] == n >= 8
    assert m["rss_growth_bytes_per_s"] == pytest.approx(slope, rel=1e-9)
    assert m["rss_fit_r2"] == pytest.approx(r2, rel=1e-9) and r2 > 0.9
    # 100,000 pages of about 1.7 KB each, held to the end
    assert m["rss_growth_bytes"] == pytest.approx(growth) and growth > 120e6
    assert m["rss_held_share"] == 1
    assert "--memory" in f["suggestions"][0]


def test_complex_and_hot_from_a_scan_joined_to_a_run(tmp_path):
    need_scan()
    out = tmp_path / "scan.json"
    r = run([OMNI, "--scan", EXAMPLES, "--run", "complex_and_hot.py", "--format", "json",
             "--out", str(out)], env=clean_env(), timeout=600)
    assert r.returncode == 0, r.stderr.decode()
    rep = json.loads(out.read_text())["run"]
    f = one(rep, "complex_and_hot")
    assert f["location"]["function"] == "classify" and f["location"]["line"] == 11
    # radon's cyclomatic complexity of classify is 11; called once per number
    assert f["metrics"]["complexity"] == 11 and f["metrics"]["calls"] == 300_000
    # the frame hook's exact share decides; the samples' share is shown beside it
    assert f["sources"] == ["the frame hook's timings", "a static scan"]
    assert [a["sources"] for a in f["also"]] == [["the stack sampler", "a static scan"]]


def test_the_quick_start_example_yields_findings(sessions):
    rep = findings(sessions["hotspots.py"])
    f = [f for f in rep["findings"] + rep["weak_signals"] if f["id"] == "small_fn_high_calls"]
    where = {x["location"]["function"]: x for x in f}
    fns = {x["name"]: x for x in rep["functions"]}
    # is_small_prime: called once per number below 60,000 (cProfile counts the
    # same); records: a generator resumed once per record and once more at its end
    for name, calls in (("is_small_prime", 60000), ("records", 50001)):
        fn = fns[name]
        assert fn["calls"] == calls
        # a small function: microseconds a call - on a quiet machine (a loaded
        # one, or the sanitizers' build, stretches every call's time)
        small = fn["exclusive_s"] / fn["calls"] < 2e-6 and fn["exclusive_s"] / sum(
            x["exclusive_s"] for x in rep["functions"]) >= 0.1
        assert (name in where) == small, (name, fn)
        if small:
            assert where[name]["metrics"]["calls"] == calls
    # something to read either way: on a quiet machine the small functions,
    # on a slow one the run's shape
    assert rep["findings"] + rep["weak_signals"]
    if "is_small_prime" in where:
        assert where["is_small_prime"]["location"]["line"] == 12
    md = run([OMNI, "--report", sessions["hotspots.py"], "--format", "md"]).stdout.decode()
    assert "No pattern of the knowledge base matched" not in md or SANITIZED


@pytest.mark.parametrize("name,args", [
    ("pycodestyle", ["-m", "pycodestyle", "--max-line-length=100", "{stdlib}/json",
                     "{stdlib}/email/mime"]),
    ("flake8", ["-m", "flake8", "-j", "1", "{stdlib}/json"]),
    ("black", ["-m", "black", "--check", "{tmp}"]),
    ("pytest", ["-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
                "{scripts}/tiny_suite"]),
])
def test_real_programs_yield_no_problem_finding(tmp_path, name, args):
    from conftest import PYTHON, SCRIPTS, STDLIB
    if run([PYTHON, "-c", f"import {name}"]).returncode != 0:
        pytest.skip(f"{name} is not installed")
    (tmp_path / "ugly.py").write_text("x = {  'a':37,'b':42,\n'c':927}\n")
    args = [a.format(stdlib=STDLIB, tmp=tmp_path, scripts=SCRIPTS) for a in args]
    s = tmp_path / "s.omni"
    r = run([OMNI, "--quiet", "--out", str(s), *args], cwd=str(tmp_path), env=clean_env(),
            timeout=600)
    assert s.exists(), r.stderr.decode()
    rep = findings(str(s))
    # what the run is (CPU-bound, a hot path) may be said; no defect is (the
    # sanitizers' build runs the frame hook slower: importing the tools' many
    # modules can then take long enough to be worth saying)
    # and AddressSanitizer's quarantine keeps freed memory resident, so the
    # resident set climbs with every allocation: memory_growth there too)
    problems = [f for f in rep["findings"] if f["kind"] == "problem" and
                not (SANITIZED and f["id"] in ("slow_imports", "memory_growth"))]
    assert problems == [], [(f["id"], f["where"], f["confidence"]) for f in problems]
    for w in rep["weak_signals"]:
        assert w["confidence"] < 0.5


def test_min_confidence_moves_the_line_between_findings_and_weak_signals(sessions):
    s = sessions["waiting.py --short"]
    rep = findings(s)
    w = one(rep, "waiting", weak_too=True)
    assert w not in rep["findings"]
    low = findings(s, "--min-confidence", "0.2")
    assert low["min_confidence"] == 0.2
    assert one(low, "waiting")["confidence"] == w["confidence"]
    high = findings(s, "--min-confidence", "1")
    assert high["findings"] == []
    # the markdown report lists weak signals under a heading of their own,
    # with their evidence and without advice
    md = run([OMNI, "--report", s, "--format", "md"]).stdout.decode()
    part = md[md.index("## Weak signals"):]
    assert "`waiting`" in part and "**Evidence** (from the stack sampler, the run's wall and CPU time)" in part
    assert "**Suggestions**" not in part.split("\n## ")[0]
    text = run([OMNI, "--report", s]).stdout.decode()
    assert "Weak signals" in text
    r = run([OMNI, "--report", s, "--min-confidence", "2"])
    assert r.returncode == 2 and b"--min-confidence takes a number from 0 to 1" in r.stderr
    r = run([OMNI, "--min-confidence", "0.3", "-c", "pass"])
    assert r.returncode == 2 and b"--min-confidence goes with --report" in r.stderr


def test_patterns_without_their_measurements_are_skipped_with_the_reason(sessions):
    rep = findings(sessions["clean.py"])
    skipped = {s["id"]: s["reason"] for s in rep["patterns_skipped"]}
    assert set(skipped) == NOT_HERE
    assert "counters" in skipped["low_ipc"] and "GPU" in skipped["gpu_underused"]


def test_findings_are_reproducible_from_the_session_alone(sessions, tmp_path):
    copy = tmp_path / "copy.omni"
    shutil.copy(sessions["waiting.py"], copy)
    a = findings(sessions["waiting.py"])["findings"]
    b = json.loads(run([OMNI, "--report", str(copy), "--format", "json"],
                       cwd="/").stdout)["findings"]
    assert a == b


def test_markdown_report(sessions):
    r = run([OMNI, "--report", sessions["small_functions.py"], "--format", "md"])
    assert r.returncode == 0
    md = r.stdout.decode()
    for heading in ("## Summary", "## Key bottlenecks", "## Findings", "## Patterns not tried",
                    "## How to verify an improvement"):
        assert heading in md
    assert "`small_fn_high_calls`" in md and "**Evidence**" in md and "**Verify**" in md
    assert "| `scale` |" in md


def test_text_report_starts_with_findings(sessions):
    out = run([OMNI, "--report", sessions["waiting.py"]]).stdout.decode()
    assert out.index("Findings") < out.index("Top functions")
    assert "waiting" in out


# ---------------------------------------------------------------- user patterns

def write(d, name, text):
    p = d / name
    p.write_text(text)
    return p


PATTERN = """\
- id: many_scale_calls
  description: scale is called a lot.
  level: function
  condition: calls >= {threshold}
  suggestions: [do less]
  verify: fewer calls
"""


def test_user_patterns_add_findings_and_confidence_grows_with_the_margin(sessions, tmp_path):
    lo, hi = tmp_path / "lo", tmp_path / "hi"
    lo.mkdir()
    hi.mkdir()
    write(lo, "mine.yaml", PATTERN.format(threshold=1000))
    write(hi, "mine.yaml", PATTERN.format(threshold=900000))
    s = sessions["small_functions.py"]
    a = [f for f in findings(s, "--patterns", str(lo))["findings"] if f["id"] == "many_scale_calls"]
    b = [f for f in findings(s, "--patterns", str(hi))["findings"] if f["id"] == "many_scale_calls"]
    assert a and b and a[0]["location"]["function"] == "scale"
    assert a[0]["confidence"] > b[0]["confidence"]
    assert a[0]["pattern_source"].endswith("mine.yaml:1")


def test_a_user_pattern_replaces_the_builtin_of_the_same_id(sessions, tmp_path):
    write(tmp_path, "strict.yml", """\
- id: small_fn_high_calls
  description: stricter
  level: function
  condition: calls >= 1e9
  suggestions: [x]
  verify: y
""")
    rep = findings(sessions["small_functions.py"], "--patterns", str(tmp_path))
    assert "small_fn_high_calls" not in [f["id"] for f in rep["findings"]]
    lst = json.loads(run([OMNI, "--list-patterns", "--patterns", str(tmp_path),
                          "--format", "json"]).stdout)["patterns"]
    mine = [p for p in lst if p["id"] == "small_fn_high_calls"]
    assert len(mine) == 1 and mine[0]["condition"] == "calls >= 1e9" and not mine[0]["builtin"]


TWO_SOURCES = """\
- id: busy_anywhere
  description: two ways to tell
  level: function
  when:
    - condition: self_samples >= 1e9
    - level: process
      condition: wall_s > 0
      confidence: {base: 0.7, max: 0.7}
  suggestions: [x]
  verify: y
"""


def test_the_strongest_source_the_session_holds_decides(sessions, tmp_path):
    write(tmp_path, "two.yaml", TWO_SOURCES)
    # with samples, the first source decides: no function has a billion
    rep = findings(sessions["small_functions.py"], "--patterns", str(tmp_path))
    assert "busy_anywhere" not in [f["id"] for f in rep["findings"] + rep["weak_signals"]]
    # without them, the second: a finding of the run, from its wall time
    s = tmp_path / "nosamples.omni"
    assert run([OMNI, "--quiet", "--sample-rate", "0", "--out", str(s), "-c", "pass"],
               env=clean_env()).returncode == 0
    rep = findings(str(s), "--patterns", str(tmp_path))
    f = one(rep, "busy_anywhere")
    assert f["level"] == "process" and f["confidence"] == 0.7
    assert f["sources"] == ["the run's wall and CPU time"]
    lst = json.loads(run([OMNI, "--list-patterns", "--patterns", str(tmp_path),
                          "--format", "json"]).stdout)["patterns"]
    mine = [p for p in lst if p["id"] == "busy_anywhere"][0]
    assert mine["when"] == [{"level": "function", "condition": "self_samples >= 1e9"},
                            {"level": "process", "condition": "wall_s > 0"}]


BAD = [
    # (file text, expected "line:column: message" part)
    ("- id: x\n  description: d\n  level: function\n  condition: cals > 1\n"
     "  suggestions: [s]\n  verify: v\n", ":4:14: unknown metric 'cals' at level function"),
    ("- id: x\n  description: d\n  level: function\n  condition: 'calls > 1 and 2'\n"
     "  suggestions: [s]\n  verify: v\n", ":4:29: type error: 'and' takes conditions"),
    ("- id: x\n  description: d\n  level: function\n  condition: calls + 1\n"
     "  suggestions: [s]\n  verify: v\n", ":4:14: type error: the condition is a number"),
    ("- id: x\n  description: d\n  level: function\n  condition: calls > (1\n"
     "  suggestions: [s]\n  verify: v\n", ":4:24: ')' expected, not the end"),
    ("- id: x\n  description: d\n  level: galaxy\n  condition: calls > 1\n"
     "  suggestions: [s]\n  verify: v\n", ":3:10: 'level' must be function, line, thread"),
    ("- id: x\n  description: d\n  level: function\n  condition: calls > 1\n"
     "  verify: v\n", ":1:3: pattern x has no 'suggestions'"),
    ("- id: x\n  description: d\n  level: function\n  condition: calls > 1\n"
     "  suggestions: [s]\n  verify: v\n  colour: red\n", ":7:3: unknown key 'colour'"),
    ("- id: x\n  description: d\n  level: function\n  condition: calls > 1\n"
     "  suggestions: [s]\n  verify: v\n"
     "- id: x\n  description: d\n  level: function\n  condition: calls > 2\n"
     "  suggestions: [s]\n  verify: v\n", ":7:3: pattern x is defined twice"),
    ("- id: x\n  description: [unclosed\n", ":3:1: invalid YAML"),
    ("- id: x\n  description: d\n  level: process\n  condition: wall_s > 1\n"
     "  confidence: {base: 0.9, max: 0.5}\n  suggestions: [s]\n  verify: v\n",
     ":5:15: confidence needs 0 <= base <= max <= 1"),
    ("id: x\n", ":1:1: a pattern file is a list of patterns"),
    ("- id: x\n  description: d\n  level: function\n  condition: calls > 1\n"
     "  when: [{condition: calls > 2}]\n  suggestions: [s]\n  verify: v\n",
     ":4:14: pattern x gives 'when': its conditions and confidences go there"),
    ("- id: x\n  description: d\n  level: function\n  when:\n    - condition: calls > 1\n"
     "      level: thread\n  suggestions: [s]\n  verify: v\n",
     ":6:14: an item of 'when' is at the pattern's level (function) or at process"),
    ("- id: x\n  description: d\n  level: function\n  when: []\n  suggestions: [s]\n"
     "  verify: v\n", ":4:9: 'when' must be a list of 1 to 4 ways to recognise the pattern"),
    ("- id: x\n  description: d\n  level: function\n  when:\n    - condition: calls > 1\n"
     "      colour: red\n  suggestions: [s]\n  verify: v\n", ":6:7: unknown key 'colour' in when"),
    ("- id: x\n  description: d\n  level: process\n  when:\n    - condition: calls > 1\n"
     "  suggestions: [s]\n  verify: v\n", ":5:18: unknown metric 'calls' at level process"),
]


@pytest.mark.parametrize("text,where", BAD)
def test_invalid_pattern_files_are_refused_with_the_place(sessions, tmp_path, text, where):
    write(tmp_path, "bad.yaml", text)
    for argv in ([OMNI, "--report", sessions["clean.py"], "--patterns", str(tmp_path)],
                 [OMNI, "--list-patterns", "--patterns", str(tmp_path)]):
        r = run(argv)
        err = r.stderr.decode()
        assert r.returncode == 3 and r.stdout == b"", err
        assert f"{tmp_path}/bad.yaml{where}" in err, err


def test_a_missing_patterns_folder_is_a_clear_error(sessions, tmp_path):
    r = run([OMNI, "--report", sessions["clean.py"], "--patterns", str(tmp_path / "nope")])
    assert r.returncode == 3 and b"No such file or directory" in r.stderr
    r = run([OMNI, "--patterns", str(tmp_path), "-c", "pass"])
    assert r.returncode == 2 and b"--patterns goes with --report" in r.stderr


def test_the_metric_catalog_is_documented():
    cat = json.loads(run([OMNI, "--list-patterns", "--format", "json"]).stdout)["metrics"]
    doc = open(os.path.join(os.path.dirname(EXAMPLES), "patterns", "README.md")).read()
    section = doc[doc.index("## The metric catalog"):]
    for level in ("function", "line", "thread", "process", "file"):
        part = section[section.index("### " + level):]
        part = part[:part.index("###", 4)] if "###" in part[4:] else part
        names = {m["name"] for m in cat if m["level"] == level}
        documented = {line.split("`")[1] for line in part.splitlines() if line.startswith("| `")}
        assert names == documented, level


# ---------------------------------------------------------------- repeats and --diff

def test_repeat_runs_into_one_session_and_high_variance(tmp_path):
    s = tmp_path / "var.omni"
    r = run([OMNI, "--quiet", "--repeat", "5", "--out", str(s),
             os.path.join(EXAMPLES, "variable_work.py")], cwd=str(tmp_path), env=clean_env())
    assert r.returncode == 0, r.stderr.decode()
    assert r.stdout == b"True\n" * 5          # the target ran five times, untouched
    rep = report_json(str(s))
    rp = rep["repeats"]
    assert rp["available"] and rp["runs"] == 5 and len(rp["wall_s"]) == 5
    # the model is the median run by wall time
    assert rep["run"]["wall_s"] == sorted(rp["wall_s"])[2]
    assert rp["shown_run"] == rp["wall_s"].index(rep["run"]["wall_s"])
    work = [f for f in rp["functions"] if f["name"] == "work"][0]
    assert work["runs_seen"] == 5 and work["calls_mean"] == 1
    f = [f for f in rep["findings"] if f["id"] == "high_variance"]
    assert f and f[0]["location"]["function"] == "work"
    assert f[0]["metrics"]["runs"] == 5
    assert f[0]["metrics"]["exclusive_cv"] == pytest.approx(
        work["exclusive_sd_s"] / work["exclusive_mean_s"])
    assert "high_variance" not in [p["id"] for p in rep["patterns_skipped"]]


def test_repeat_stops_at_the_first_failure_status(tmp_path):
    s = tmp_path / "f.omni"
    r = run([OMNI, "--quiet", "--repeat", "3", "--out", str(s), "-c",
             "import sys; print('x'); sys.exit(3)"], cwd=str(tmp_path), env=clean_env())
    # every run ran; the status is the failing runs' own
    assert r.returncode == 3 and r.stdout == b"x\n" * 3
    assert report_json(str(s))["repeats"]["runs"] == 3


SLOW = """\
def step(x):
    return x * 2 + 1


def main(n):
    t = 0
    for i in range(n):
        t += step(i)
    return t


print(main({n}))
"""


def test_diff_finds_the_regression_and_not_the_noise(tmp_path):
    prog = tmp_path / "prog.py"
    # (300,000 steps: 0.07 s a run; at 100,000, 0.037 s, a moment of another
    # process's work on the 2-core machine made the program 58% slower than
    # itself)
    prog.write_text(SLOW.format(n=300_000))
    a, a2, b = tmp_path / "a.omni", tmp_path / "a2.omni", tmp_path / "b.omni"
    for out in (a, a2):
        assert run([OMNI, "--quiet", "--repeat", "3", "--out", str(out), str(prog)],
                   cwd=str(tmp_path), env=clean_env()).returncode == 0
    # ten times the work: a regression beyond any noise (the sanitizers'
    # builds and a busy machine included)
    prog.write_text(SLOW.format(n=3_000_000))
    assert run([OMNI, "--quiet", "--repeat", "3", "--out", str(b), str(prog)],
               cwd=str(tmp_path), env=clean_env()).returncode == 0

    r = run([OMNI, "--diff", str(a), str(b), "--format", "json"])
    assert r.returncode == 1, r.stderr.decode()
    d = json.loads(r.stdout)
    assert d["schema"] == "omnipython-diff" and d["a"]["runs"] == 3 and d["b"]["runs"] == 3
    fns = {f["name"]: f for f in d["functions"]}
    # joined by the file relative to each run's directory, name and line
    assert fns["step"]["file"] == "prog.py" and fns["step"]["line"] == 1
    assert fns["step"]["a"]["calls"] == 300_000 and fns["step"]["b"]["calls"] == 3_000_000
    assert fns["step"]["regressed"] and fns["main"]["regressed"] and d["wall"]["regressed"]
    assert "prog.py:step:1" in d["regressed"]

    # the same program against itself: nothing beyond the threshold
    r = run([OMNI, "--diff", str(a), str(a2), "--threshold", "50"])
    assert r.returncode == 0, r.stdout.decode()
    assert b"no regression" in r.stdout
    # the text form names what regressed and exits 1
    r = run([OMNI, "--diff", str(a), str(b)])
    assert r.returncode == 1 and b"REGRESSED" in r.stdout and b"step  prog.py:1" in r.stdout


def test_diff_usage_and_bad_files(tmp_path):
    r = run([OMNI, "--diff", "only-one.omni"])
    assert r.returncode == 2 and b"--diff needs two sessions" in r.stderr
    r = run([OMNI, "--diff", str(tmp_path / "x.omni"), str(tmp_path / "y.omni")])
    assert r.returncode == 3 and b"x.omni" in r.stderr
    r = run([OMNI, "--threshold", "5", "-c", "pass"])
    assert r.returncode == 2 and b"--threshold goes with --diff" in r.stderr


# ---------------------------------------------------------------- the HTML report

@pytest.mark.skipif(not CHROMIUM, reason="Debian's chromium is not installed (test/run_tests.sh installs it)")
@pytest.mark.parametrize("example", ["hot_path.py", "gil_contention.py", "clean.py"])
def test_html_report_draws_in_a_browser(sessions, tmp_path, example):
    import re
    html = tmp_path / "report.html"
    r = run([OMNI, "--report", sessions[example], "--format", "html", "--out", str(html)])
    assert r.returncode == 0, r.stderr.decode()
    page = html.read_text()
    # one file: nothing fetched from anywhere
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    dom = render(html, tmp_path)
    assert 'data-rendered="1"' in dom, dom[-3000:]
    body = re.search(r"<body[^>]*>", dom).group(0)
    assert "data-errors" not in body, body       # no script error
    rep = report_json(sessions[example])
    # the flame graph: one frame drawn per node of the sampler's tree (and the root)
    frames = int(re.search(r'data-frames="(\d+)"', dom).group(1))
    assert frames > 3
    # the charts: CPU, memory, read and write rates, each with a line of points
    points = [int(p) for p in re.findall(r'data-points="(\d+)"', dom)]
    assert len(points) >= 4 and min(points) >= 1
    # the findings are there, each with its evidence
    for f in rep["findings"]:
        assert f["id"] in dom
    assert dom.count('class="finding"') == len(rep["findings"])


# ---------------------------------------------------------------- --explain

class _Endpoint:
    """A local OpenAI-compatible endpoint: records the request, answers."""

    def __init__(self, status=200, answer="The run waited on time.sleep in fetch (waiting.py:7)."):
        import http.server
        import threading
        outer = self
        self.requests = []

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.requests.append((self.path, dict(self.headers), json.loads(body)))
                if status == 200:
                    out = {"choices": [{"index": 0, "message": {"role": "assistant",
                                                                "content": answer}}]}
                else:
                    out = {"error": {"message": "model overloaded"}}
                data = json.dumps(out).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *a):
                pass

        self.server = http.server.HTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.server.server_port}/v1/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


def test_explain_without_an_endpoint_sends_nothing(sessions, tmp_path):
    bundle = tmp_path / "bundle.json"
    env = clean_env()
    env.pop("OPENAI_BASE_URL", None)
    r = run([OMNI, "--report", sessions["waiting.py"], "--format", "md", "--explain", str(bundle)],
            env=env)
    assert r.returncode == 0 and b"nothing was sent" in r.stderr
    assert b"Explanation by a language model" not in r.stdout
    b = json.loads(bundle.read_text())
    assert "cite the evidence" in b["instructions"] and "do not guess" in b["instructions"]
    assert [f["id"] for f in b["findings"]] == [f["id"] for f in findings(sessions["waiting.py"])["findings"]]
    assert {p["id"] for p in b["patterns"]} == {f["id"] for f in b["findings"]}
    spot = b["hot_spots"][0]
    assert spot["function"] == "fetch" and any("time.sleep(0.05)" in s for s in spot["source"])


def test_explain_with_an_endpoint_appends_the_answer(sessions, tmp_path):
    ep = _Endpoint()
    try:
        env = clean_env(OPENAI_BASE_URL=ep.url, OPENAI_API_KEY="sk-test",
                        OMNIPYTHON_EXPLAIN_MODEL="local-model")
        r = run([OMNI, "--report", sessions["waiting.py"], "--format", "md", "--explain",
                 str(tmp_path / "b.json")], env=env)
    finally:
        ep.close()
    assert r.returncode == 0, r.stderr.decode()
    md = r.stdout.decode()
    head = md.index("## Explanation by a language model")
    assert head > md.index("## Findings")
    assert "local-model" in md[head:] and "not a measurement" in md[head:]
    assert md.rstrip().endswith("The run waited on time.sleep in fetch (waiting.py:7).")
    path, headers, body = ep.requests[0]
    assert path == "/v1/chat/completions" and headers["Authorization"] == "Bearer sk-test"
    assert body["model"] == "local-model"
    assert body["messages"][0]["role"] == "system"
    assert json.loads(body["messages"][1]["content"]) == json.loads((tmp_path / "b.json").read_text())


def test_explain_endpoint_errors_are_reported_not_fatal(sessions, tmp_path):
    ep = _Endpoint(status=503)
    try:
        r = run([OMNI, "--report", sessions["waiting.py"], "--format", "md", "--explain",
                 str(tmp_path / "b.json")], env=clean_env(OPENAI_BASE_URL=ep.url))
    finally:
        ep.close()
    assert r.returncode == 0
    assert b"HTTP 503: model overloaded" in r.stderr
    assert b"No explanation: the endpoint answered HTTP 503: model overloaded" in r.stdout
    r = run([OMNI, "--report", sessions["waiting.py"], "--format", "md", "--explain",
             str(tmp_path / "b.json")], env=clean_env(OPENAI_BASE_URL="https://api.example.com/v1"))
    assert r.returncode == 0 and b"must be an http:// address" in r.stderr
    r = run([OMNI, "--report", sessions["waiting.py"], "--explain", str(tmp_path / "b.json")])
    assert r.returncode == 2 and b"--explain goes with --report SESSION --format md" in r.stderr
