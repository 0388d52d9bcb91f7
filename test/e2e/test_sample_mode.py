"""--mode sample (issue 18): no frame hook and no per-call work; the stack
sampler names the code objects itself, and the reports estimate function
times from the samples and say so."""
import json
import os

from conftest import OMNI, clean_env, read_records, report_json, run

# A sanitizer's build leaves pthread_create to the sanitizer: threads have no
# names there (threadnames.h)
NAMED = not os.environ.get("OMNI_TEST_SANITIZED")

# Three quarters of the CPU time in big(), one quarter in small(), in
# alternation; a worker thread that sleeps.
SPLIT = r'''
import threading, time
def big():
    x = 0
    for i in range(300000):
        x += i
    return x
def small():
    x = 0
    for i in range(100000):
        x += i
    return x
def sleeper():
    time.sleep(0.6)
t = threading.Thread(target=sleeper, name="sleeper")
t.start()
end = time.monotonic() + 1.2
while time.monotonic() < end:
    big()
    small()
t.join()
print("ok")
'''


def sample_run(tmp_path, *opts, src=SPLIT, name="split.py"):
    script = tmp_path / name
    script.write_text(src)
    s = tmp_path / (name + ".omni")
    r = run([OMNI, "--quiet", "--mode", "sample", *opts, "--out", str(s), str(script)],
            env=clean_env())
    assert r.returncode == 0 and r.stdout == b"ok\n", r.stderr.decode()
    return s, report_json(str(s))


def test_a_known_split_within_five_points(tmp_path):
    s, rep = sample_run(tmp_path, "--sample-rate", "1000")
    assert rep["run"]["mode"] == "sample"
    fns = {f["name"]: f for f in rep["functions"]}
    big, small = fns["big"]["exclusive_s"], fns["small"]["exclusive_s"]
    share = big / (big + small)
    assert abs(share - 0.75) <= 0.05, share
    # no calls counted: no frame hook ran
    assert all(f["calls"] == 0 for f in rep["functions"])
    # the times are the samples': exclusive = innermost-frame samples x period
    period = rep["sampling"]["interval_s"]
    assert period == 0.001
    assert abs(big / period - round(big / period)) < 1e-6
    # every thread: the sleeper's samples are off the CPU
    threads = {t["native_id"]: t for t in rep["threads"]}
    main = [t for t in rep["threads"] if t["name"] == "MainThread"][0]
    assert main["samples"] > 500 and main["cpu_samples"] > 0.8 * main["samples"]
    others = [t for t in rep["threads"] if t is not main]
    assert len(others) == 1 and others[0]["samples"] > 100
    assert others[0]["cpu_samples"] < 0.2 * others[0]["samples"]
    # named as threading named it, though no frame hook asked it
    assert others[0]["name"] == ("sleeper" if NAMED else None)
    assert len(threads) == 2
    text = run([OMNI, "--report", str(s)]).stdout.decode()
    assert "mode sample: no per-call work; function times are estimated" in text
    assert "times estimated from" in text


def test_the_default_rate_and_the_lines(tmp_path):
    s, rep = sample_run(tmp_path)
    assert rep["sampling"]["interval_s"] == 0.01  # 100 Hz
    lines = rep.get("hot_lines") or rep.get("lines") or []
    names = {f["name"] for f in rep["functions"]}
    assert {"big", "small", "<module>"} <= names
    # the code objects the sampler named carry their files and first lines
    f = [f for f in rep["functions"] if f["name"] == "big"][0]
    assert f["file"].endswith("split.py") and f["line"] == 3


def test_exports_and_diff_work_on_it(tmp_path):
    s, _ = sample_run(tmp_path, "--sample-rate", "500")
    for fmt, name in (("collapsed", "c.txt"), ("pprof", "p.pb.gz"), ("speedscope", "s.json")):
        out = tmp_path / name
        r = run([OMNI, "--export", fmt, str(s), "--out", str(out)])
        assert r.returncode == 0, (fmt, r.stderr.decode())
        assert out.stat().st_size > 0
    collapsed = (tmp_path / "c.txt").read_text()
    assert ";big " in collapsed or ";big (" in collapsed or "big" in collapsed
    s2, _ = sample_run(tmp_path, "--sample-rate", "500", name="split2.py")
    r = run([OMNI, "--diff", str(s), str(s2), "--format", "json"])
    assert r.returncode in (0, 1), r.stderr.decode()
    d = json.loads(r.stdout)
    assert d["functions"]


def test_a_new_code_object_at_a_freed_ones_address_is_named_anew(tmp_path):
    # code objects made and dropped in a loop: their addresses come back,
    # each time for a function of another name
    src = r'''
import time
end = time.monotonic() + 0.8
k = 0
while time.monotonic() < end:
    ns = {}
    exec("def fn_%d():\n    x = 0\n    for i in range(20000):\n        x += i\n    return x\n" % (k % 7), ns)
    ns["fn_%d" % (k % 7)]()
    k += 1
print("ok")
'''
    s, rep = sample_run(tmp_path, "--sample-rate", "1000", src=src, name="reuse.py")
    names = {f["name"] for f in rep["functions"]}
    fn = {n for n in names if n.startswith("fn_")}
    assert len(fn) >= 5, names  # not all folded into the first one seen


# A thread per request, one after another: 120 threads that each spin 30 ms
# in work() (three samples or so at 100 Hz), then one that sleeps.
PER_REQUEST = r'''
import threading, time
def work():
    end = time.monotonic() + 0.03
    while time.monotonic() < end:
        pass
for k in range(120):
    t = threading.Thread(target=work, name="req-%d" % k)
    t.start()
    t.join()
print("ok")
'''


def test_threads_of_one_kind_share_rows(tmp_path):
    """The sampler's rows are bounded by kinds, not by threads: past the
    first 16 threads that start in work(), a new one takes the row of one
    that ended, and every sample stays under a thread of the report."""
    s, rep = sample_run(tmp_path, "--sample-rate", "100", src=PER_REQUEST, name="per_request.py")
    (rec,) = [r for r in read_records(str(s)) if r["kind"] == "samples"]
    rows = rec["threads"]["rows"]
    served = rec["threads"]["columns"].index("threads")
    assert len(rows) <= 16 + 1 + 2, len(rows)      # work()'s own, the main thread's, slack
    assert max(r[served] for r in rows) > 1
    # every request thread that was sampled at all is counted in a row
    assert 100 <= sum(r[served] for r in rows) <= 121
    assert sum(t["samples"] for t in rep["threads"]) == rep["sampling"]["stack_samples"]
    shared = [t for t in rep["threads"] if t["threads"] > 1]
    assert shared and all(t["samples"] > 0 for t in shared)
    # named after their latest thread, of the kind the frame hook's records
    # would say (the name's digits made N)
    if NAMED:
        named = [t for t in rep["threads"] if t["name"] != "MainThread"]
        assert all(t["name"].startswith("req-") for t in named)
        assert all(t["kind"] == "req-N" for t in shared)
        text = run([OMNI, "--report", str(s)]).stdout.decode()
        assert "threads of kind req-N, one after another" in text
