"""The session file: readable with plain msgpack, complete however the
process ends (a prefix after SIGKILL), located and listed as documented;
and omnipython's own failures never reach the target."""
import json
import os
import platform
import signal
import subprocess
import sys
import time

import pytest

from conftest import NVIDIA_GPU, OMNI, PYTHON, clean_env, read_records, report_json, run


def profile(tmp_path, args, **kw):
    session = tmp_path / "s.omni"
    r = run([OMNI, "--quiet", "--out", str(session)] + args, cwd=str(tmp_path), env=clean_env(), **kw)
    return r, session


def test_header_and_footer_with_plain_msgpack(tmp_path):
    r, session = profile(tmp_path, ["-c", "print('x')", "arg"])
    assert r.returncode == 0
    recs = read_records(session)
    head, foot = recs[0], recs[-1]
    assert head["kind"] == "header"
    assert head["format"] == "omnipython-session"
    assert head["version"] == 1
    assert head["sys_argv"] == ["-c", "arg"]
    assert head["target"] == "-c"
    assert head["cwd"] == str(tmp_path)
    ref = run([PYTHON, "-c", "import platform; print(platform.python_version())"])
    assert head["python_version"] == ref.stdout.decode().strip()
    assert head["machine"]["logical_cpus"] == os.cpu_count()
    assert head["pid"] > 0 and head["ppid"] == os.getpid()
    assert [r["kind"] for r in recs].count("codes") == 1
    assert foot["kind"] == "footer" and foot["end"] == "complete"
    assert foot["exit_status"] == 0 and foot["exit_how"] == "return"
    assert foot["wall_ns"] > 0


@pytest.mark.parametrize("code,status,how", [
    ("pass", 0, "return"),
    ("import sys; sys.exit(3)", 3, "exit"),
    ("raise ValueError", 1, "return"),
    ("import os; os._exit(5)", 5, "_exit"),
    ("import os, signal; os.kill(os.getpid(), signal.SIGTERM)", -15, "signal"),
    ("import os; os.abort()", -6, "signal"),
    ("raise KeyboardInterrupt", -2, "keyboard_interrupt"),
])
def test_every_way_out_finishes_the_session(tmp_path, code, status, how):
    src = tmp_path / "t.py"
    src.write_text("def f():\n" + "".join(f"    {line}\n" for line in code.split("\n")) + "f()\n")
    r, session = profile(tmp_path, [str(src)])
    assert r.returncode == status  # subprocess reports a death by signal N as -N
    rep = report_json(str(session))
    assert (rep["run"]["exit_status"], rep["run"]["exit_how"]) == (status, how)
    assert rep["run"]["complete"] is True
    # The frames the process was in when it ended are accounted for.
    names = {f["name"]: f["calls"] for f in rep["functions"] if f["file"] == str(src)}
    assert names.get("f") == 1 and names.get("<module>") == 1


def test_exec_ends_the_session(tmp_path):
    code = ("import os, sys\nprint('before', flush=True)\n"
            "os.execv(sys.executable, [sys.executable, '-c', 'print(\"after exec\")'])")
    r, session = profile(tmp_path, ["-c", code])
    assert (r.returncode, r.stdout) == (0, b"before\nafter exec\n")
    rep = report_json(str(session))
    assert (rep["run"]["exit_how"], rep["run"]["complete"]) == ("exec", True)
    # The new program is a new omnipython run with a session of its own.
    assert len(os.listdir(tmp_path / ".omni")) == 1


def test_sigkill_leaves_a_readable_header(tmp_path):
    session = tmp_path / "k.omni"
    p = subprocess.Popen([OMNI, "--quiet", "--out", str(session), "-c",
                          "import time\nprint('up', flush=True)\ntime.sleep(60)"],
                         stdout=subprocess.PIPE, env=clean_env())
    assert p.stdout.readline() == b"up\n"
    p.kill()
    p.wait()
    recs = read_records(session)
    assert recs[0]["kind"] == "header" and recs[-1]["kind"] == "header"
    r = run([OMNI, "--report", str(session)])
    assert r.returncode == 0
    assert b"no footer" in r.stdout
    rep = report_json(str(session))
    assert rep["run"]["complete"] is False and rep["run"]["exit_status"] is None


def test_default_location_and_listing(tmp_path):
    env = clean_env()
    for _ in range(2):
        r = run([OMNI, "-c", "pass"], cwd=str(tmp_path), env=env)
        assert r.returncode == 0 and r.stderr == b""  # quiet when stderr is not a terminal
    files = sorted(os.listdir(tmp_path / ".omni"))
    assert len(files) == 2 and all(f.startswith("command-") and f.endswith(".omni") for f in files)
    r = run([OMNI, "--sessions"], cwd=str(tmp_path), env=env)
    assert r.returncode == 0
    lines = r.stdout.decode().splitlines()
    assert lines[0].split()[:4] == ["started", "wall", "exit", "target"]
    assert len(lines) == 3 and all(" -c " in l and l.rstrip().endswith(".omni") for l in lines[1:])
    (tmp_path / ".omni" / "junk.omni").write_bytes(b"\x00garbage")
    r = run([OMNI, "--sessions"], cwd=str(tmp_path), env=env)
    assert r.returncode == 0 and b"unreadable" in r.stdout


def test_sessions_when_there_are_none(tmp_path):
    r = run([OMNI, "--sessions"], cwd=str(tmp_path))
    assert r.returncode == 0 and b"no sessions" in r.stdout


def test_unwritable_session_is_one_warning(tmp_path):
    code = "import sys; print('target output'); sys.exit(7)"
    r = run([OMNI, "--out", "/nonexistent/dir/s.omni", "-c", code], env=clean_env())
    assert r.returncode == 7
    assert r.stdout == b"target output\n"
    assert r.stderr.count(b"omnipython: warning:") == 1
    assert b"/nonexistent/dir/s.omni" in r.stderr
    r = run([OMNI, "--quiet", "--out", "/nonexistent/dir/s.omni", "-c", code], env=clean_env())
    assert (r.returncode, r.stdout, r.stderr) == (7, b"target output\n", b"")


def test_read_only_cwd_still_runs(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        if os.access(ro, os.W_OK):
            pytest.skip("running as a user that can write anywhere")
        r = run([OMNI, "-c", "print(1)"], cwd=str(ro), env=clean_env())
        assert (r.returncode, r.stdout) == (0, b"1\n")
    finally:
        ro.chmod(0o755)


def test_mode_minimal_counts_without_times(tmp_path):
    session = tmp_path / "m.omni"
    code = "def f(x): return x\nfor i in range(1000): f(i)"
    r = run([OMNI, "--quiet", "--mode", "minimal", "--out", str(session), "-c", code], env=clean_env())
    assert r.returncode == 0
    rep = report_json(str(session))
    f = [x for x in rep["functions"] if x["name"] == "f"][0]
    assert (f["calls"], f["inclusive_s"], f["exclusive_s"]) == (1000, 0, 0)
    assert rep["run"]["mode"] == "minimal"
    assert b"times were not measured" in run([OMNI, "--report", str(session)]).stdout


def test_mode_off_writes_nothing(tmp_path):
    r = run([OMNI, "--mode", "off", "-c", "print(2)"], cwd=str(tmp_path), env=clean_env())
    assert (r.returncode, r.stdout) == (0, b"2\n")
    assert not (tmp_path / ".omni").exists()


def test_environment_options(tmp_path):
    env = clean_env(OMNIPYTHON_OPTIONS="--quiet --out env.omni")
    r = run([OMNI, "-c", "print(3)"], cwd=str(tmp_path), env=env)
    assert (r.returncode, r.stdout, r.stderr) == (0, b"3\n", b"")
    assert read_records(tmp_path / "env.omni")[-1]["kind"] == "footer"
    env = clean_env(OMNIPYTHON_OPTIONS="--bogus")
    r = run([OMNI, "-c", "print(3)"], cwd=str(tmp_path), env=env)
    assert r.returncode == 2 and b"OMNIPYTHON_OPTIONS" in r.stderr and r.stdout == b""


def test_children_do_not_overwrite_the_parents_env_out(tmp_path):
    """OMNIPYTHON_OPTIONS="--out F" reaches child Pythons too; they must not take F."""
    env = clean_env(OMNIPYTHON_OPTIONS="--quiet --out parent.omni")
    code = ("import subprocess, sys\n"
            "for i in range(2):\n"
            "    subprocess.run([sys.executable, '-c', 'print(1)'], check=True)\n")
    r = run([OMNI, "-c", code], cwd=str(tmp_path), env=env)
    assert (r.returncode, r.stdout) == (0, b"1\n1\n"), r.stderr
    recs = read_records(tmp_path / "parent.omni")
    assert [x["kind"] for x in recs].count("header") == 1
    assert recs[0]["sys_argv"][0] == "-c" and recs[0]["pid"] != 0 and recs[-1]["kind"] == "footer"
    # The children's sessions are beside the parent's, under derived names.
    children = sorted(p for p in os.listdir(tmp_path) if p.startswith("parent-"))
    assert len(children) == 2 and not (tmp_path / ".omni").exists()
    for c in children:
        head = read_records(tmp_path / c)[0]
        assert head["ppid"] == recs[0]["pid"] and c == f"parent-{head['pid']}.omni"
        assert head["parent_session_id"] == recs[0]["session_id"]
        assert head["started_by"] == "parent"


@pytest.mark.parametrize("args", [["--bogus", "x.py"], ["--mode", "turbo", "x.py"], ["--out"],
                                  ["--report"], ["--report", "a", "b", "--process", "1"],
                                  ["--format", "xml"]])
def test_bad_omnipython_options(args):
    r = run([OMNI] + args)
    assert r.returncode == 2
    assert r.stderr.startswith(b"omnipython: ") and r.stdout == b""


def test_help_shows_both(tmp_path):
    r = run([OMNI, "--help"])
    assert r.returncode == 0
    assert b"--report" in r.stdout and b"-m mod" in r.stdout  # ours, then Python's


def test_report_rejects_bad_files(tmp_path):
    cases = {
        "random.omni": os.urandom(4096),
        "empty.omni": b"",
        "json.omni": b'{"kind": "header"}',
        "foreign.omni": bytes([0x81, 0xa4]) + b"kind" + bytes([0xa6]) + b"header",
    }
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
    for name in list(cases) + ["missing.omni", "."]:
        path = str(tmp_path / name) if name != "." else str(tmp_path)
        for fmt in ("text", "json"):
            r = run([OMNI, "--report", path, "--format", fmt])
            assert r.returncode == 3, (name, r.stderr)
            assert r.stderr.startswith(b"omnipython: ") and r.stdout == b""


def test_report_of_a_truncated_session(tmp_path):
    r, session = profile(tmp_path, ["-c", "def f(): pass\nfor i in range(100): f()"])
    data = session.read_bytes()
    head_len = len(data)
    # Cut inside the last record: what came before is still reported.
    cut = tmp_path / "cut.omni"
    cut.write_bytes(data[:-5])
    rep = report_json(str(cut))
    assert rep["run"]["complete"] is False
    r = run([OMNI, "--report", str(cut)])
    assert r.returncode == 0 and b"ends inside an incomplete or damaged record" in r.stdout
    assert head_len > 100


def test_report_out_file(tmp_path):
    r, session = profile(tmp_path, ["-c", "pass"])
    out = tmp_path / "r.json"
    r = run([OMNI, "--report", str(session), "--format", "json", "--out", str(out)])
    assert r.returncode == 0 and r.stdout == b""
    assert json.loads(out.read_text())["schema"] == "omnipython-report"
    r = run([OMNI, "--report", str(session), "--out", "/nonexistent/r.txt"])
    assert r.returncode == 4


def test_json_contract(tmp_path):
    src = tmp_path / "c.py"
    src.write_text("x = bytearray(150 * 1024 * 1024)\nx[::4096] = b'1' * len(x[::4096])\n"
                   "s = 0\nfor i in range(2000000):\n    s += i\n")
    r, session = profile(tmp_path, [str(src)])
    rep = report_json(str(session))
    run_ = rep["run"]
    for k in ("argv", "exit_status", "wall_s", "cpu_user_s", "cpu_sys_s", "peak_rss_bytes",
              "python_version", "timed_out"):
        assert k in run_
    # The measurements agree with what the program did.
    assert run_["peak_rss_bytes"] >= 150 * 1024 * 1024
    assert run_["cpu_user_s"] + run_["cpu_sys_s"] > 0.05
    assert run_["wall_s"] >= run_["cpu_user_s"] * 0.5
    assert rep["processes"][0]["pid"] > 0
    for k in ("functions", "lines", "threads", "findings"):
        assert isinstance(rep[k], list)
    for k in ("memory", "gpu", "counters"):
        if k == "gpu" and NVIDIA_GPU:
            assert rep[k]["available"] is True and rep[k]["devices"][0]["model"]
            continue
        assert rep[k]["available"] is False and rep[k]["reason"]
    assert rep["timeline"]["available"] is True and rep["io"]["available"] is True
    f = rep["functions"][0]
    assert set(f) >= {"file", "name", "line", "calls", "primitive_calls", "inclusive_s",
                      "exclusive_s", "samples"}


def test_text_report_sections(tmp_path):
    r, session = profile(tmp_path, [os.path.join(os.path.dirname(__file__), "..", "scripts",
                                                 "calls", "recursion.py")])
    r = run([OMNI, "--report", str(session)], env=clean_env(NO_COLOR="1"))
    out = r.stdout.decode()
    assert r.returncode == 0
    assert "\033[" not in out
    for s in ("exit status 0", "Top functions by exclusive time", "Top functions by inclusive time",
              "The hottest function", "called by", "fib"):
        assert s in out


def test_target_stdout_untouched_with_terminal_messages(tmp_path):
    """omnipython's own line goes to stderr, never stdout, even on a terminal."""
    import pty
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(str(tmp_path))
        os.execv(OMNI, [OMNI, "-c", "print('only this')"])
    out = b""
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    os.waitpid(pid, 0)
    assert b"only this" in out and b"omnipython: session" in out


@pytest.mark.parametrize("opts", [[], ["--memory", "--memory-interval", "1"]],
                         ids=["default", "every-allocation-sampled"])
def test_sigterm_inside_malloc_ends_the_run(tmp_path, opts):
    """SIGTERM while the target is inside malloc: the end of the session must
    not wait for the allocator's lock (it is held by the code the signal
    interrupted), and the process must die of the signal, as under python3.
    With every allocation sampled the sampler's own lock is held most of the
    time: the end of the run reads its tables without waiting for itself."""
    import random
    import signal as sg
    src = tmp_path / "alloc.py"
    src.write_text("import sys\nprint('go', flush=True)\n"
                   "while True:\n    b = [bytes(5000) for _ in range(100)]\n")
    for i in range(12):
        s = tmp_path / f"a{i}.omni"
        p = subprocess.Popen([OMNI, "--quiet", *opts, "--out", str(s), str(src)],
                             stdout=subprocess.PIPE)
        assert p.stdout.readline() == b"go\n"
        time.sleep(random.uniform(0.05, 0.3))
        p.send_signal(sg.SIGTERM)
        try:
            rc = p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
            pytest.fail("the run did not end after SIGTERM: its end waited on a lock")
        assert rc == -sg.SIGTERM
        recs = read_records(s)
        assert recs[-1]["kind"] == "footer" and recs[-1]["exit_status"] == -sg.SIGTERM


def test_a_report_on_a_running_process_says_so(tmp_path):
    import signal
    import subprocess
    import time
    p = subprocess.Popen([OMNI, "--quiet", "-c",
                          "import time\nfor _ in range(100): time.sleep(0.1)"],
                         cwd=str(tmp_path), env=clean_env())
    try:
        deadline = time.monotonic() + 10
        found = []
        while time.monotonic() < deadline and not found:
            found = list((tmp_path / ".omni").glob("*.omni"))
            time.sleep(0.1)
        (s,) = found
        time.sleep(0.5)  # a few rows of the timeline
        rep = json.loads(run([OMNI, "--report", str(s), "--format", "json"]).stdout)
        assert rep["run"]["running"] is True and rep["run"]["complete"] is False
        text = run([OMNI, "--report", str(s)]).stdout.decode()
        assert "still running (pid %d)" % p.pid in text
        listing = run([OMNI, "--sessions"], cwd=str(tmp_path)).stdout.decode()
        assert " running " in listing and s.name in listing
    finally:
        p.send_signal(signal.SIGKILL)
        p.wait()
    # killed: no footer, not running; the reports above asked for a checkpoint
    rep = json.loads(run([OMNI, "--report", str(s), "--format", "json"]).stdout)
    assert rep["run"]["running"] is False and rep["run"]["complete"] is False
    assert rep["run"]["checkpoint"]["seq"] >= 1
    assert "the process was killed (SIGKILL?)" in run([OMNI, "--report", str(s)]).stdout.decode()
    os.unlink(str(s) + ".ckpt")
    assert "killed before it could finish" in run([OMNI, "--report", str(s)]).stdout.decode()
