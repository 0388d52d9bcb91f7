"""The configuration file: ./omnipython.yaml or --config FILE, the same
options as the command line, with the command line > OMNIPYTHON_OPTIONS >
file > defaults; an invalid file is refused with file:line and the reason."""
import os
import sys

import pytest

from conftest import OMNI, clean_env, report_json, run


def mode_of(session):
    return report_json(str(session))["run"]["mode"]


def test_the_file_in_the_working_directory_is_read(tmp_path):
    (tmp_path / "omnipython.yaml").write_text(
        "# team defaults\nmode: minimal\nquiet: true\nout: cfg.omni\ninterval: 50\n")
    r = run([OMNI, "-c", "import time; time.sleep(0.3); print(1)"], cwd=str(tmp_path),
            env=clean_env())
    assert (r.returncode, r.stdout, r.stderr) == (0, b"1\n", b"")
    rep = report_json(str(tmp_path / "cfg.omni"))
    assert rep["run"]["mode"] == "minimal" and rep["timeline"]["interval_s"] == 0.05


def test_precedence_command_line_then_environment_then_file(tmp_path):
    (tmp_path / "omnipython.yaml").write_text("mode: minimal\nout: file.omni\n")
    env = clean_env(OMNIPYTHON_OPTIONS="--mode full --quiet")
    assert run([OMNI, "-c", "pass"], cwd=str(tmp_path), env=env).returncode == 0
    assert mode_of(tmp_path / "file.omni") == "full"            # environment over file
    assert run([OMNI, "--mode", "default", "--out", "cli.omni", "-c", "pass"], cwd=str(tmp_path),
               env=env).returncode == 0
    assert mode_of(tmp_path / "cli.omni") == "default"          # command line over both


def test_config_option_and_none(tmp_path):
    (tmp_path / "omnipython.yaml").write_text("mode: minimal\n")
    other = tmp_path / "other.yaml"
    other.write_text("mode: full\n")
    for argv, mode in ((["--config", str(other)], "full"), (["--config", "none"], "default")):
        s = tmp_path / f"{mode}.omni"
        r = run([OMNI, "--quiet", *argv, "--out", str(s), "-c", "pass"], cwd=str(tmp_path),
                env=clean_env())
        assert r.returncode == 0, r.stderr.decode()
        assert mode_of(s) == mode
    r = run([OMNI, "--config", str(tmp_path / "missing.yaml"), "-c", "pass"], env=clean_env())
    assert r.returncode == 2 and b"missing.yaml: No such file or directory" in r.stderr


@pytest.mark.parametrize("text,message", [
    ("mode: fast\n", "cfg.yaml:1: --mode must be off, minimal, default, full or sample, not 'fast'"),
    ("quiet: true\ncolour: red\n", "cfg.yaml:2: unknown option 'colour'"),
    ("quiet: maybe\n", "cfg.yaml:1: 'quiet' is true or false, not 'maybe'"),
    ("mode: [minimal\n", "cfg.yaml:2: invalid YAML"),
    ("- mode\n", "cfg.yaml:1: the configuration is a mapping of options"),
    ("interval: -5\n", "cfg.yaml:1: --interval takes milliseconds"),
    ("config: x.yaml\n", "cfg.yaml:1: unknown option 'config'"),
])
def test_invalid_files_are_refused_with_the_line(tmp_path, text, message):
    (tmp_path / "cfg.yaml").write_text(text)
    r = run([OMNI, "--config", "cfg.yaml", "-c", "print(1)"], cwd=str(tmp_path), env=clean_env())
    assert r.returncode == 2 and r.stdout == b""
    assert message.encode() in r.stderr, r.stderr.decode()


def test_a_reports_output_is_never_the_files_session(tmp_path):
    (tmp_path / "omnipython.yaml").write_text("out: run.omni\nquiet: true\n")
    assert run([OMNI, "-c", "pass"], cwd=str(tmp_path), env=clean_env()).returncode == 0
    before = (tmp_path / "run.omni").read_bytes()
    r = run([OMNI, "--report", "run.omni"], cwd=str(tmp_path), env=clean_env())
    assert r.returncode == 0 and b"omnipython report" in r.stdout
    assert (tmp_path / "run.omni").read_bytes() == before


def test_a_child_python_does_not_overwrite_the_parents_session(tmp_path):
    (tmp_path / "omnipython.yaml").write_text("out: run.omni\nquiet: true\n")
    code = ("import subprocess, sys\n"
            "subprocess.run([sys.executable, '-c', 'print(2)'], check=True)\n")
    r = run([OMNI, "-c", code], cwd=str(tmp_path), env=clean_env())
    assert (r.returncode, r.stdout) == (0, b"2\n")
    rep = report_json(str(tmp_path / "run.omni"))
    assert len(rep["processes"]) == 2 and rep["processes"][0]["session"].endswith("run.omni")
