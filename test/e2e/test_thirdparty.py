"""Real programs from Debian packages give identical output and exit status
under omnipython and under python3."""
import os

import pytest

from conftest import OMNI, PYTHON, SCRIPTS, STDLIB, clean_env, run


def both(args, cwd=None, mode="default"):
    env = clean_env()
    ref = run([PYTHON] + args, cwd=cwd, env=env, timeout=600)
    got = run([OMNI, "--quiet", "--mode", mode] + args, cwd=cwd, env=env, timeout=600)
    return ref, got


# with everything on too: allocation accounting and the native heap
MODES = pytest.mark.parametrize("mode", ["default", "full"])


def have(module):
    return run([PYTHON, "-c", f"import {module}"]).returncode == 0


@pytest.mark.skipif(not have("pycodestyle"), reason="python3-pycodestyle is not installed")
def test_pycodestyle_over_a_stdlib_folder():
    ref, got = both(["-m", "pycodestyle", "--max-line-length=100", f"{STDLIB}/json",
                     f"{STDLIB}/email/mime"])
    assert got.returncode == ref.returncode == 1
    assert got.stdout == ref.stdout and len(ref.stdout.splitlines()) > 5
    assert got.stderr == ref.stderr


@pytest.mark.skipif(not have("flake8"), reason="python3-flake8 is not installed")
def test_flake8_over_a_stdlib_folder():
    ref, got = both(["-m", "flake8", "-j", "1", f"{STDLIB}/json"])
    assert (got.returncode, got.stdout, got.stderr) == (ref.returncode, ref.stdout, ref.stderr)
    assert ref.returncode == 1


@MODES
@pytest.mark.skipif(not have("black"), reason="black is not installed")
def test_black_check(tmp_path, mode):
    (tmp_path / "ugly.py").write_text("x = {  'a':37,'b':42,\n'c':927}\ny = 'hello ''world'\n")
    (tmp_path / "fine.py").write_text('x = 1\n')
    ref, got = both(["-m", "black", "--check", str(tmp_path)], cwd=str(tmp_path), mode=mode)
    assert (got.returncode, got.stdout, got.stderr) == (ref.returncode, ref.stdout, ref.stderr)
    assert ref.returncode == 1 and b"1 file would be reformatted" in ref.stderr


@MODES
def test_pytest_runs_a_small_suite(mode):
    suite = os.path.join(SCRIPTS, "tiny_suite")
    args = ["-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", suite]
    ref, got = both(args, cwd=suite, mode=mode)
    assert got.returncode == ref.returncode == 1

    def strip_time(b):
        # pytest prints the run's duration on its last line.
        lines = b.decode().splitlines()
        return lines[:-1] + [lines[-1].split(" in ")[0]]
    assert strip_time(got.stdout) == strip_time(ref.stdout)
    assert "1 failed, 4 passed, 1 skipped" in ref.stdout.decode()
