"""Drop-in conformance: each case runs under /usr/bin/python3.11 and under
omnipython (default mode, so the profiler is on), and stdout, stderr and the
exit status must be identical byte for byte."""
import os
import re
import zipfile

import pytest

from conftest import OMNI, PY_VERSION, PYTHON, STDLIB, clean_env, run

C = "conformance/"

# (id, python arguments, stdin bytes or None, extra environment or None)
CASES = [
    ("print", ["-c", "print('hi')"], None, None),
    ("exit_int", ["-c", "import sys; sys.exit(3)"], None, None),
    ("exit_str", ["-c", "import sys; sys.exit('message to stderr')"], None, None),
    ("exit_none", ["-c", "import sys; print('x'); sys.exit(None)"], None, None),
    ("exit_builtin", [C + "exit_builtin.py"], None, None),
    ("script_exit_in_function", ["-c", "def f():\n import sys; sys.exit(12)\nf()"], None, None),
    ("traceback_chained", [C + "nested_error.py"], None, None),
    ("keyboard_interrupt", ["-c", "raise KeyboardInterrupt"], None, None),
    ("os_exit_unflushed", [C + "unflushed_exit.py"], None, None),
    ("sigterm_self", ["-c", "import os,signal; print('a', flush=True); os.kill(os.getpid(), signal.SIGTERM)"], None, None),
    ("sigsegv", ["-c", "import ctypes; ctypes.string_at(0)"], None, None),
    ("sigsegv_with_faulthandler", ["-X", "faulthandler", "-c", "import ctypes; ctypes.string_at(0)"], None, None),
    ("sigabrt", ["-c", "import os; os.abort()"], None, None),
    ("argv_path_flags", [C + "argv_path.py", "a", "--out", "-x"], None, None),
    ("c_argv", ["-c", "import sys; print(sys.argv, repr(sys.path[0]))", "p", "q"], None, None),
    ("module", ["-m", "mod", "arg1", "--flag"], None, {"CWD": C}),
    ("package_main", ["-m", "pkg", "z"], None, {"CWD": C}),
    ("directory_main", [C + "appdir", "d"], None, None),
    ("stdin_dash", ["-", "s1"], b"import sys\nprint('from stdin', sys.argv)\n", None),
    ("stdin_implicit", [], b"print('implicit stdin', __name__)\n", None),
    ("unbuffered", ["-u", "-c", "import sys; print('o'); sys.stderr.write('e\\n'); print(sys.flags.unbuffered)"], None, None),
    ("optimize", ["-O", "-c", "assert False, 'no'; print(__debug__, 'asserts off')"], None, None),
    ("optimize2_docstrings", ["-OO", "-c", "def f():\n '''doc'''\nprint(f.__doc__)"], None, None),
    ("dont_write_bytecode", ["-B", "-c", "import sys; print(sys.dont_write_bytecode)"], None, None),
    ("no_site", ["-S", "-c", "import sys; print('site' in sys.modules, sys.flags.no_site)"], None, None),
    ("no_user_site", ["-s", "-c", "import sys; print(sys.flags.no_user_site)"], None, None),
    ("isolated", ["-I", "-c", "import sys; print(sys.flags.isolated, sys.path[0])"], None, None),
    ("ignore_env", ["-E", "-c", "import sys, os; print(sys.flags.ignore_environment)"], None, {"PYTHONOPTIMIZE": "1"}),
    ("pythonpath", ["-c", "import sys; print([p for p in sys.path if p.endswith('extra_path')])"], None, {"PYTHONPATH": "/tmp/extra_path"}),
    ("warnings_default", [C + "warnings_demo.py"], None, None),
    ("warnings_error", ["-W", "error", C + "warnings_demo.py"], None, None),
    ("dev_mode", ["-X", "dev", "-c", "import sys; print(sys.flags.dev_mode)"], None, None),
    ("warn_default_encoding", ["-X", "warn_default_encoding", "-c",
                               "import sys; print(sys.flags.warn_default_encoding)\n"
                               "open(sys.executable, 'rb').close(); open('/etc/hostname').close()"],
     None, None),
    ("version_V", ["-V"], None, None),
    ("version_long", ["--version"], None, None),
    ("unknown_option", ["-Z"], None, None),
    ("missing_script", ["no_such_script.py"], None, None),
    ("missing_module", ["-m", "no_such_module_xyz"], None, None),
    ("syntax_error", [C + "syntax_error.py"], None, None),
    ("stdin_read", [C + "stdin_echo.py"], b"one\ntwo\nthree\nfour\n", None),
    ("unicode", [C + "unicode_out.py"], None, None),
    ("ioencoding", [C + "unicode_out.py"], None, {"PYTHONIOENCODING": "ascii:backslashreplace"}),
    ("big_output", [C + "bigout.py"], None, None),
    ("threads_atexit", [C + "threads_atexit.py"], None, None),
    ("thread_exception", [C + "thread_exc.py"], None, None),
    ("asyncio", [C + "async_gather.py"], None, None),
    ("fork", [C + "fork_wait.py"], None, None),
    ("fork_from_a_thread", [C + "fork_from_thread.py"], None, None),
    ("main_thread_pthread_exit", [C + "main_thread_exits.py"], None, None),
    ("os_exit_from_a_thread", [C + "os_exit_from_thread.py"], None, None),
    ("another_co_extra_user", [C + "code_extra.py"], None, None),
    ("closed_standard_descriptors", [C + "closed_std_fds.py"], None, None),
    ("configuration_as_python3s", ["-c", "import _testinternalcapi as t; c = t.get_config(); "
                                   "print(c['home'], c['module_search_paths_set'], "
                                   "c['pythonpath_env'])"], None, None),
    ("own_descriptors_out_of_sight", [C + "own_descriptors.py"], None, None),
    ("audit_hook_sees_only_the_programs_gc_calls", [C + "audit_gc_hook.py"], None, None),
    ("dup2_onto_every_free_number", [C + "dup2_everywhere.py"], None, None),
    ("the_programs_descriptor_numbers", [C + "lowest_descriptors.py"], None, None),
    ("subprocess_children", [C + "subproc.py"], None, None),
    ("multiprocessing_spawn", [C + "mp_pool.py", "spawn"], None, None),
    ("multiprocessing_fork", [C + "mp_pool.py", "fork"], None, None),
    ("multiprocessing_forkserver", [C + "mp_pool.py", "forkserver"], None, None),
    ("getitem_and_recursion", [C + "getitem_recursion.py"], None, None),
    ("recursion_in_a_small_stack_thread", [C + "small_stack_thread.py"], None, None),
    ("signals", [C + "signal_handler.py"], None, None),
    ("gc_weakref_del", [C + "gc_weakref.py"], None, None),
    ("dist_packages_and_extensions", [C + "dist_packages.py"], None, None),
    ("recursion_error_traceback", ["-c", "def f(): f()\nf()"], None, None),
    ("interactive_after_command", ["-i", "-c", "x = 41"], b"print(x + 1)\nimport sys; sys.exit(6)\n", None),
    ("interactive_flag_stdin", ["-q", "-c", "import sys; print(sys.flags.quiet)"], None, None),
]


# Cases a sanitizer's own runtime cannot run, whatever runs them.
SANITIZER_LIMITS = {
    "main_thread_pthread_exit": "pthread_exit unwinds the main thread through instrumented "
                                "frames without unpoisoning their stack: ASan then reports a "
                                "stack-buffer-overflow in its own thread teardown (sigaltstack)",
}


def normalise(data):
    """omnipython's own path stands where python3's does (usage messages), and
    what differs between any two runs of python3 itself is blanked:
    faulthandler's thread addresses (address space randomisation) and pids
    (3.12+'s fork warning). So is what names the executable rather than the
    program: the thread's name faulthandler prints beside its address (3.14:
    the process's name) and the C stack it prints after the Python one (3.14:
    omnipython's own frames are in it)."""
    data = data.replace(OMNI.encode(), PYTHON.encode())
    data = re.sub(rb"(Current thread|Thread) 0x[0-9a-f]+( \[[^\]\n]*\])?", rb"\1 0x?", data)
    data = re.sub(rb"\(pid=\d+\)", rb"(pid=?)", data)
    return re.sub(rb"(C stack trace \(most recent call first\):\n)(  (Binary file|<).*\n)*",
                  rb"\1  ...\n", data)


# Every case in the default mode, and again with everything on (--mode full:
# allocation accounting, the native heap's malloc and mmap, 1 kHz sampling).
@pytest.mark.parametrize("mode", ["default", "full"])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_same_as_python(case, mode, workdir):
    name, args, stdin, extra = case
    if name in SANITIZER_LIMITS and os.environ.get("OMNI_TEST_SANITIZED") == "1":
        pytest.skip(SANITIZER_LIMITS[name])
    extra = dict(extra or {})
    cwd = str(workdir / extra.pop("CWD", ""))
    if cwd != str(workdir):
        args = [a.replace(C, "") for a in args]
    env = clean_env(**extra)
    ref = run([PYTHON] + args, cwd=cwd, env=env, input=stdin)
    if mode != "default":
        env = dict(env, OMNIPYTHON_OPTIONS=f"--mode {mode} --quiet")
    got = run([OMNI] + args, cwd=cwd, env=env, input=stdin)
    assert normalise(got.stderr) == normalise(ref.stderr)
    assert got.stdout == ref.stdout
    assert got.returncode == ref.returncode


def test_zip_application(workdir):
    z = workdir / "app.zip"
    with zipfile.ZipFile(z, "w") as f:
        f.writestr("__main__.py", "import sys\nprint('zip main', sys.argv[1:], __name__)\n")
    ref = run([PYTHON, str(z), "a"], cwd=str(workdir), env=clean_env())
    got = run([OMNI, str(z), "a"], cwd=str(workdir), env=clean_env())
    assert (got.stdout, got.stderr, got.returncode) == (ref.stdout, ref.stderr, ref.returncode)
    assert b"zip main ['a'] __main__" in got.stdout


def test_shebang(workdir, tmp_path):
    """#!/usr/bin/env omnipython finds omnipython on PATH and runs the script."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    os.symlink(OMNI, bindir / "omnipython")
    script = workdir / "shebang.py"
    script.write_text("#!/usr/bin/env omnipython\nimport sys\nprint('shebang', sys.argv[1:])\n")
    script.chmod(0o755)
    env = clean_env(PATH=f"{bindir}:/usr/bin:/bin", OMNIPYTHON_OPTIONS="--out shebang.omni --quiet")
    r = run([str(script), "x", "y"], cwd=str(workdir), env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"shebang ['x', 'y']\n"
    assert r.stderr == b""
    assert (workdir / "shebang.omni").stat().st_size > 0


def test_venv_is_honoured(tmp_path):
    """omnipython placed in a venv's bin/ uses that venv, as python does."""
    venv = tmp_path / "venv"
    r = run([PYTHON, "-m", "venv", "--without-pip", str(venv)])
    assert r.returncode == 0, r.stderr
    os.symlink(OMNI, venv / "bin" / "omnipython")
    code = "import sys; print(sys.prefix, sys.base_prefix, sys.prefix != sys.base_prefix)"
    ref = run([str(venv / "bin" / "python"), "-c", code], env=clean_env())
    got = run([str(venv / "bin" / "omnipython"), "-c", code], env=clean_env())
    assert got.stdout == ref.stdout
    assert got.stdout.endswith(b"True\n")


def test_pth_file_beside_the_executable(tmp_path):
    """A ._pth file beside the executable sets sys.path and implies -S and -I,
    as for python3 (getpath reads none once home is set)."""
    out = {}
    for name, exe in (("python", PYTHON), ("omnipython", OMNI)):
        d = tmp_path / name
        d.mkdir()
        os.symlink(exe, d / name)
        (d / (name + "._pth")).write_text(f"# comment\nextra\n{STDLIB}\n")
        r = run([str(d / name), "-c", "import sys; print(sys.flags.no_site, sys.path)"],
                env=clean_env())
        assert r.returncode == 0, r.stderr
        out[name] = r.stdout.decode().replace(str(d), "DIR")
    assert out["omnipython"] == out["python"]
    assert out["python"].startswith("1 ['DIR/extra', ")


def test_stray_lib_beside_binary_is_ignored(tmp_path):
    """A lib/python3.X next to the executable cannot hijack the stdlib."""
    prefix = tmp_path / "p"
    (prefix / "bin").mkdir(parents=True)
    stray = prefix / "lib" / f"python{PY_VERSION}"
    stray.mkdir(parents=True)
    (stray / "os.py").write_text("raise SystemExit('hijacked')\n")
    exe = prefix / "bin" / "omnipython"
    os.symlink(OMNI, exe)
    import shutil
    shutil.copy(OMNI, prefix / "bin" / "omnipython-copy")
    for e in (exe, prefix / "bin" / "omnipython-copy"):
        r = run([str(e), "-c", "import os, sys; print(os.__file__, sys.prefix)"], env=clean_env())
        assert r.returncode == 0, r.stderr
        assert r.stdout == f"{STDLIB}/os.py /usr\n".encode()
