"""Audited events: files opened, sockets, processes started and imports,
aggregated by what and by the target's function that caused them, checked
against what the programs did and against python3 -X importtime."""
import os
import re

import pytest

from conftest import OMNI, PYTHON, clean_env, report_json, run


def profile(tmp_path, code, name="e.omni"):
    src = tmp_path / "prog.py"
    src.write_text(code)
    s = tmp_path / name
    r = run([OMNI, "--quiet", "--out", str(s), str(src)], cwd=str(tmp_path), env=clean_env())
    assert r.returncode == 0, r.stderr.decode()
    return report_json(str(s)), src


def fn(row):
    return row["function"]["name"] if row["function"] else None


def test_a_path_opened_20000_times_is_one_row(tmp_path):
    data = tmp_path / "d.txt"
    data.write_text("x")
    rep, src = profile(tmp_path, f"def reader():\n    for _ in range(20000):\n"
                                 f"        with open({str(data)!r}) as f:\n            f.read()\n"
                                 f"def writer():\n    with open({str(data)!r}, 'ab') as f:\n"
                                 f"        f.write(b'y')\n"
                                 f"import os\nreader()\nwriter()\n"
                                 f"os.close(os.open({str(data)!r}, os.O_RDONLY))\n")
    rows = [r for r in rep["io"]["opened"] if r["path"] == str(data)]
    by = {(r["mode"], fn(r)): r["count"] for r in rows}
    # CPython audits open() with the mode it keeps ("a" for "ab") and os.open
    # with the flags it passes (O_CLOEXEC added).
    flags = "flags=0x%x" % (os.O_RDONLY | os.O_CLOEXEC)
    assert by == {("r", "reader"): 20000, ("a", "writer"): 1, (flags, "<module>"): 1}
    assert all(r["function"]["file"] == str(src) for r in rows)


def test_module_reads_are_the_interpreters(tmp_path):
    rep, src = profile(tmp_path, "import json, email.mime.text\n")
    io = rep["io"]
    assert io["interpreter_reads"]["files"] >= 10
    assert io["opened"] == []


def test_imports_match_importtime(tmp_path):
    rep, src = profile(tmp_path, "import json, email.mime.text\n")
    ours = {m["module"] for m in rep["imports"]["modules"]}
    r = run([PYTHON, "-X", "importtime", "-c", "import json, email.mime.text"], env=clean_env())
    theirs = set(re.findall(r"\|\s+(\S+)$", r.stderr.decode(), re.M))
    # python3's own start-up imports come before the target under both; the
    # modules imported by the program itself are the same set.
    startup = set(re.findall(r"\|\s+(\S+)$", run([PYTHON, "-X", "importtime", "-c", "pass"],
                                                   env=clean_env()).stderr.decode(), re.M))
    assert ours == theirs - startup
    top = {m["module"]: m for m in rep["imports"]["modules"] if m["outermost"]}
    assert set(top) == {"json", "email.mime.text"}


def test_a_slow_import_is_timed(tmp_path):
    (tmp_path / "slowmod.py").write_text("import time\ntime.sleep(0.3)\n")
    rep, src = profile(tmp_path, "import sys\nsys.path.insert(0, %r)\nimport slowmod\n"
                                 % str(tmp_path))
    m = [m for m in rep["imports"]["modules"] if m["module"] == "slowmod"][0]
    assert 0.3 <= m["seconds"] < 0.5 and m["outermost"] and m["count"] == 1
    assert fn(m) == "<module>"
    assert rep["imports"]["total_s"] >= 0.3
    assert 0 < rep["imports"]["share_of_wall"] <= 1


def test_sockets_and_processes(tmp_path):
    rep, src = profile(tmp_path, "import socket, subprocess, os\n"
                                 "def serve():\n    s = socket.socket()\n"
                                 "    s.bind(('127.0.0.1', 0))\n    s.listen()\n    return s\n"
                                 "def call(port):\n    c = socket.socket()\n"
                                 "    c.connect(('127.0.0.1', port))\n    c.close()\n"
                                 "def spawn():\n    subprocess.run(['true'])\n"
                                 "    os.system('true')\n"
                                 "srv = serve()\nport = srv.getsockname()[1]\n"
                                 "for _ in range(3):\n    call(port)\nspawn()\n")
    socks = {(r["how"], fn(r)): (r["address"], r["count"]) for r in rep["io"]["sockets"]}
    assert socks[("bind", "serve")] == ("127.0.0.1:0", 1)
    addr, n = socks[("connect", "call")]
    assert n == 3 and addr.startswith("127.0.0.1:")
    procs = {(p["event"], p["program"]): fn(p) for p in rep["subprocesses"]}
    # Popen runs inside subprocess.run: the row names the program's function.
    assert procs == {("subprocess.Popen", "true"): "spawn", ("os.system", "true"): "spawn"}


def test_text_report_lists_them(tmp_path):
    src = tmp_path / "p.py"
    src.write_text("import subprocess\nsubprocess.run(['true'])\nopen(__file__).close()\n")
    s = tmp_path / "t.omni"
    assert run([OMNI, "--quiet", "--out", str(s), str(src)]).returncode == 0
    out = run([OMNI, "--report", str(s)]).stdout.decode()
    assert "Files opened" in out and str(src) in out
    assert "Processes started" in out and "Imports" in out
