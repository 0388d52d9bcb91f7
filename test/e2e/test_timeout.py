"""--timeout: a KeyboardInterrupt first, then SIGTERM, then SIGKILL; the
session says the run timed out and the exit status is timeout(1)'s 124."""
import time

import pytest

from conftest import OMNI, clean_env, report_json, run

LOOP = "import time\ndef loop():\n    while True:\n        time.sleep(0.01)\nloop()\n"
NO_INT = ("import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
          "while True:\n    time.sleep(0.01)\n")
NO_INT_TERM = ("import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
               "signal.signal(signal.SIGTERM, signal.SIG_IGN)\nwhile True:\n    time.sleep(0.01)\n")


@pytest.mark.parametrize("code,status,how,least,most", [
    (LOOP, 124, "keyboard_interrupt", 0.5, 3.0),
    (NO_INT, 124, "signal", 5.5, 8.0),
    (NO_INT_TERM, -9, "signal", 7.5, 10.0),
])
def test_timeout_steps(tmp_path, code, status, how, least, most):
    src = tmp_path / "p.py"
    src.write_text(code)
    s = tmp_path / "t.omni"
    t0 = time.monotonic()
    r = run([OMNI, "--quiet", "--timeout", "0.5", "--out", str(s), str(src)], env=clean_env())
    took = time.monotonic() - t0
    assert r.returncode == status
    assert least <= took < most
    rep = report_json(str(s))["run"]
    assert rep["timed_out"] is True and rep["exit_status"] == status and rep["exit_how"] == how
    assert rep["complete"] is True
    assert rep["warnings"][0] == "timed out after 0.5 s: KeyboardInterrupt sent to the main thread"
    if code is LOOP:
        assert b"KeyboardInterrupt" in r.stderr  # the traceback python3 prints on Ctrl-C


def test_no_timeout_when_the_run_ends_first(tmp_path):
    s = tmp_path / "q.omni"
    r = run([OMNI, "--quiet", "--timeout", "5", "--out", str(s), "-c", "import sys; sys.exit(3)"])
    assert r.returncode == 3
    assert report_json(str(s))["run"]["timed_out"] is False


def test_timeout_option_errors():
    for bad in ("0", "-1", "x", ""):
        r = run([OMNI, "--timeout", bad, "-c", "pass"])
        assert r.returncode == 2 and b"--timeout" in r.stderr
