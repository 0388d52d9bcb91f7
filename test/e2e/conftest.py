"""Shared helpers for the end-to-end tests: where omnipython and the reference
python3 are, how to run both, and how to read a session with msgpack."""
import functools
import os
import shutil
import subprocess
import sys
import tempfile

import msgpack
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = os.path.join(os.path.dirname(HERE), "scripts")
OMNI = os.environ.get("OMNIPYTHON") or os.path.join(
    os.path.dirname(os.path.dirname(HERE)), "build", "omnipython")
# The reference: Debian's CPython, the one omnipython embeds (another build
# of omnipython, against another CPython, names its own with OMNI_TEST_PYTHON).
PYTHON = os.environ.get("OMNI_TEST_PYTHON", "/usr/bin/python3.11")
PY_VERSION = subprocess.run([PYTHON, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                            capture_output=True, text=True, check=True).stdout.strip()
PY_VERSION_INFO = tuple(int(x) for x in PY_VERSION.split("."))
STDLIB = f"/usr/lib/python{PY_VERSION}"


@functools.lru_cache(maxsize=None)
def scan_unavailable():
    """Why this build cannot --scan (its exit status 6: a shared libpython
    that keeps CPython's parser internal), or None when it can."""
    with tempfile.TemporaryDirectory() as d:
        r = run([OMNI, "--scan", d, "--format", "json"])
    return r.stderr.decode().strip() if r.returncode == 6 else None


def need_scan():
    """Skips the calling test on a build without --scan, saying why."""
    why = scan_unavailable()
    if why:
        pytest.skip(f"this build has no --scan: {why}")


def run(argv, cwd=None, env=None, input=None, timeout=120):
    """Runs argv and returns the CompletedProcess with bytes stdout/stderr."""
    return subprocess.run(argv, cwd=cwd, env=env, input=input, capture_output=True,
                          timeout=timeout)


def clean_env(**extra):
    """The environment of the tests, without anything that would change
    python3's or omnipython's behaviour."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTHON", "OMNIPYTHON", "PYENV"))}
    env.update(extra)
    return env


def read_records(path):
    """All records of a session file, as dicts."""
    with open(path, "rb") as f:
        return list(msgpack.Unpacker(f, raw=False, strict_map_key=False))


def report_json(session):
    """omnipython --report SESSION --format json, parsed."""
    import json
    r = run([OMNI, "--report", session, "--format", "json"])
    assert r.returncode == 0, r.stderr.decode()
    return json.loads(r.stdout)


@pytest.fixture
def workdir(tmp_path):
    """A scratch folder holding a copy of test/scripts."""
    dst = tmp_path / "w"
    shutil.copytree(SCRIPTS, dst)
    return dst


FAKES = os.path.join(os.path.dirname(HERE), "fakes")
# A machine with NVIDIA's driver (the lent GPU machine): NVML answers there.
NVIDIA_GPU = os.path.exists("/dev/nvidiactl")
CHROMIUM = shutil.which("chromium")


def render(html, tmp_path):
    """The page's DOM after its scripts ran, in Debian's headless Chromium."""
    r = run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             f"--user-data-dir={tmp_path / 'chromium-profile'}", "--virtual-time-budget=5000",
             "--dump-dom", "file://" + str(html)], timeout=120)
    assert r.returncode == 0, r.stderr.decode()[-2000:]
    return r.stdout.decode()


@pytest.fixture(scope="session")
def fake_nvml(tmp_path_factory):
    """A folder holding libnvidia-ml.so.1 built from test/fakes/fake_nvml.c:
    one 80 GiB GPU, 3 GiB in use, 512 MiB of it by the asking process."""
    d = tmp_path_factory.mktemp("nvml")
    r = subprocess.run(["cc", "-shared", "-fPIC", "-o", str(d / "libnvidia-ml.so.1"),
                        os.path.join(FAKES, "fake_nvml.c")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return str(d)


@pytest.fixture(scope="session", autouse=True)
def omnipython_exists():
    if not os.access(OMNI, os.X_OK):
        pytest.exit(f"omnipython not built at {OMNI}", returncode=2)
