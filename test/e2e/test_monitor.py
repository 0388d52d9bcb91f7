"""The monitor thread's timeline, checked against independent sources:
/usr/bin/time's maximum resident size, getrusage of the child, a known
number of bytes written, the configured interval, and memory that rises and
falls. Also: it ends cleanly however the target ends, and a forked child
leaves the parent's session alone."""
import os
import resource
import signal
import statistics
import subprocess

import pytest

from conftest import OMNI, PYTHON, clean_env, read_records, report_json, run


def profile(tmp_path, code, *opts, name="m.omni", env=None):
    src = tmp_path / "prog.py"
    src.write_text(code)
    s = tmp_path / name
    r = run([OMNI, "--quiet", *opts, "--out", str(s), str(src)], env=env or clean_env())
    return r, s


def process_rows(session):
    rows = []
    cols = None
    for rec in read_records(session):
        if rec["kind"] == "timeline" and "process" in rec:
            cols = rec["process"]["columns"]
            rows += [dict(zip(cols, r)) for r in rec["process"]["rows"]]
    return rows


def test_peak_rss_matches_usr_bin_time(tmp_path):
    src = tmp_path / "big.py"
    src.write_text("import time\nx = bytearray(300 << 20)\nfor i in range(0, len(x), 4096):\n"
                   "    x[i] = 1\ntime.sleep(0.3)\n")
    s = tmp_path / "big.omni"
    r = run(["/usr/bin/time", "-f", "%M", OMNI, "--quiet", "--out", str(s), str(src)])
    assert r.returncode == 0, r.stderr.decode()
    time_kib = int(r.stderr.decode().strip().splitlines()[-1])
    peak = report_json(str(s))["timeline"]["summary"]["peak_rss_bytes"]
    assert peak == pytest.approx(time_kib * 1024, rel=0.05), (peak, time_kib * 1024)


def test_cpu_time_matches_getrusage_of_the_child(tmp_path):
    src = tmp_path / "spin.py"
    src.write_text("import time\nt = time.process_time()\n"
                   "while time.process_time() - t < 1.0:\n    sum(range(1000))\n")
    s = tmp_path / "spin.omni"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    r = subprocess.run([OMNI, "--quiet", "--out", str(s), str(src)], env=clean_env())
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert r.returncode == 0
    child = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    last = process_rows(s)[-1]
    ours = (last["cpu_user_ns"] + last["cpu_sys_ns"]) / 1e9
    assert ours == pytest.approx(child, rel=0.05), (ours, child)
    summary = report_json(str(s))["timeline"]["summary"]
    # one core busy: about 100%, less when other programs take turns on the
    # cores (the sanitizers' build on a busy CI machine)
    assert 50 < summary["cpu_pct_mean"] < 115


def test_disk_bytes_of_a_known_write(tmp_path):
    out = tmp_path / "data.bin"
    r, s = profile(tmp_path, f"import os\nwith open({str(out)!r}, 'wb') as f:\n"
                             "    for _ in range(20):\n        f.write(b'x' * (1 << 20))\n"
                             "    f.flush(); os.fsync(f.fileno())\n")
    assert r.returncode == 0
    sm = report_json(str(s))["timeline"]["summary"]
    # Storage writes: the 20 MiB (plus the file system's own metadata, a few pages).
    assert 20 << 20 <= sm["disk_write_bytes"] <= (20 << 20) + (1 << 20), sm["disk_write_bytes"]
    # write(2) calls: the 20 MiB (the session file is written by omnipython after the last sample).
    assert 20 << 20 <= sm["write_call_bytes"] <= (20 << 20) + (64 << 10)


def test_interval_is_honoured(tmp_path):
    r, s = profile(tmp_path, "import time\nt = time.time()\nwhile time.time() - t < 1.2:\n"
                             "    time.sleep(0.01)\n", "--interval", "50")
    assert r.returncode == 0
    t = [row["t_ns"] for row in process_rows(s)]
    steps = [b - a for a, b in zip(t[1:-2], t[2:-1])]  # leave out the first and the last
    assert len(steps) >= 15
    assert statistics.median(steps) == pytest.approx(50e6, rel=0.2)
    assert max(steps) < 50e6 * 1.5
    assert report_json(str(s))["timeline"]["interval_s"] == 0.05


def test_the_targets_closerange_leaves_the_monitor_running(tmp_path):
    """A daemon's os.closerange(3, ...) closes the target's descriptors only:
    the monitor's loop and session stay open (closing them aborted the run in
    libuv) and the timeline goes on after it."""
    r, s = profile(tmp_path, "import os, time\nos.closerange(3, 4096)\n"
                             "t = time.time()\nwhile time.time() - t < 0.6:\n"
                             "    time.sleep(0.01)\nprint('done')\n", "--interval", "50")
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"done\n"
    rows = process_rows(s)
    assert len(rows) >= 8
    assert read_records(s)[-1]["kind"] == "footer"


def test_memory_rises_and_falls(tmp_path):
    # An anonymous mapping: freed at once (no allocator, and no sanitizer's
    # quarantine, keeps it).
    r, s = profile(tmp_path, "import mmap, time\ntime.sleep(0.3)\nx = mmap.mmap(-1, 200 << 20)\n"
                             "for i in range(0, len(x), 4096):\n    x[i] = 1\n"
                             "time.sleep(0.4)\nx.close()\ntime.sleep(0.4)\n", "--interval", "50")
    assert r.returncode == 0
    rss = [row["rss_bytes"] for row in process_rows(s)]
    top = rss.index(max(rss))
    assert max(rss) - rss[0] >= 190 << 20
    assert 0 < top < len(rss) - 3
    assert rss[-1] < max(rss) - (150 << 20)
    sm = report_json(str(s))["timeline"]["summary"]
    assert sm["peak_rss_bytes"] >= max(rss) and sm["final_rss_bytes"] == rss[-1]


def test_threads_of_the_target_are_counted(tmp_path):
    r, s = profile(tmp_path, "import threading, time\nev = threading.Event()\n"
                             "ts = [threading.Thread(target=ev.wait) for _ in range(3)]\n"
                             "[t.start() for t in ts]\ntime.sleep(0.4)\nev.set()\n"
                             "[t.join() for t in ts]\n", "--interval", "50")
    assert r.returncode == 0
    threads = [row["threads"] for row in process_rows(s)]
    # The target's threads: the main one and 3; omnipython's monitor is left out.
    assert max(threads) == 4 and threads[0] == 1


def test_open_files_leave_omnipythons_own_out(tmp_path):
    # (the target lists no directory itself: a sample taken while it did
    # would rightly count listdir's own descriptor)
    r, s = profile(tmp_path, "import os, time\nfs = [open(os.devnull) for _ in range(7)]\n"
                             "time.sleep(0.3)\n", "--interval", "50")
    assert r.returncode == 0
    # (no count while omnipython's prober has files of its own open)
    fds = max(row["fds"] for row in process_rows(s) if row["fds"] is not None)
    plain = run([PYTHON, "-c",
                 "import os\nfs = [open(os.devnull) for _ in range(7)]\n"
                 "print(len(os.listdir('/proc/self/fd')) - 1)"])
    # listdir's own descriptor is in the count: the target's files are the others.
    assert fds == int(plain.stdout)


def test_a_gpu_drivers_threads_and_files_are_not_the_targets(tmp_path, fake_nvml):
    """NVIDIA's driver starts a thread and opens descriptors inside nvmlInit
    (seen on an H100: a thread and eight /dev/nvidia* descriptors): the stand-in
    does the same, and reads from one of them on its thread."""
    code = ("import os, threading, time\nev = threading.Event()\n"
            "ts = [threading.Thread(target=ev.wait) for _ in range(3)]\n"
            "[t.start() for t in ts]\nfs = [open(os.devnull) for _ in range(7)]\n"
            "time.sleep(0.6)\nev.set()\n[t.join() for t in ts]\n")
    r, s = profile(tmp_path, code, "--interval", "50", env=clean_env(LD_LIBRARY_PATH=fake_nvml))
    assert r.returncode == 0, r.stderr
    rep = report_json(str(s))
    assert rep["gpu"]["available"] is True  # the stand-in was loaded
    rows = process_rows(s)
    # (a sanitizer's runtime intercepts pthread_create itself: the executable
    # does not, and the driver's thread and its read are then the target's)
    sanitized = os.environ.get("OMNI_TEST_SANITIZED") == "1"
    assert max(row["threads"] for row in rows) == (5 if sanitized else 4)
    plain = run([PYTHON, "-c", "import os\nfs = [open(os.devnull) for _ in range(7)]\n"
                               "print(len(os.listdir('/proc/self/fd')) - 1)"])
    fds = [row["fds"] for row in rows if row["fds"] is not None]
    assert fds and max(fds) == int(plain.stdout)
    other = [f for f in rep["io"]["by_function"] if f["kind"] == "other"]
    # (its 4 KiB read, there: twice - the probe loads the library in a thread
    # with a descriptor table of its own, and it is loaded again for the
    # samples, in the process's; the two threads' counts may share one row,
    # a thread's I/O record serving the next thread once it has ended)
    assert sum(f["read_ops"] for f in other) == (2 if sanitized else 0)


def test_libraries_mapped_while_the_probes_run(tmp_path):
    """PAPI_library_init reads /proc/self/maps twice, counting executable
    mappings and then filling them in: mappings the target made in between
    overran PAPI's array (heap corruption; under ASan, an abort). The target
    maps a file executable again and again while the probes run (not its own
    executable, whose mappings PAPI leaves out)."""
    code = ("import ctypes, os, time\n"
            "libc = ctypes.CDLL(None)\n"
            "libc.mmap.restype = ctypes.c_void_p\n"
            "libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,\n"
            "                      ctypes.c_int, ctypes.c_long]\n"
            "fd = os.open('/bin/true', os.O_RDONLY)\nn = 0\nt0 = time.time()\n"
            "while time.time() - t0 < 1.5:\n"
            "    if n < min(30000, 20000 * (time.time() - t0)) and \\\n"
            "            libc.mmap(None, 4096, 5, 2, fd, 0) not in (None, 2**64 - 1):\n"
            "        n += 1  # PROT_READ | PROT_EXEC, MAP_PRIVATE: one more executable mapping\n"
            "print('mapped', n > 1000)\n")
    r, s = profile(tmp_path, code, "--interval", "20")
    assert r.returncode == 0 and r.stdout == b"mapped True\n", r.stderr.decode()[-2000:]
    assert b"AddressSanitizer" not in r.stderr


def test_machine_record_and_cores(tmp_path):
    r, s = profile(tmp_path, "import time\ntime.sleep(0.3)\n", "--interval", "50")
    recs = read_records(s)
    kinds = [x["kind"] for x in recs]
    assert kinds[0] == "header" and kinds[-1] == "footer"
    assert "machine" in kinds and "monitor" in kinds
    mon = recs[kinds.index("monitor")]
    assert mon["cores"] == os.cpu_count() and mon["interval_ns"] == 50_000_000
    cores = [x["cores"] for x in recs if x["kind"] == "timeline" and "cores" in x]
    assert cores and len(cores[0]["columns"]) == 1 + os.cpu_count()
    for row in cores[0]["rows"]:
        assert all(0 <= v <= 100 for v in row[1:])
    rep = report_json(str(s))
    assert rep["hardware"]["cpu"]["logical_cores"] == os.cpu_count()


@pytest.mark.parametrize("how,code,status", [
    ("exit", "import sys, time\ntime.sleep(0.3)\nsys.exit(3)\n", 3),
    ("exception", "import time\ntime.sleep(0.3)\nraise ValueError('x')\n", 1),
    ("signal", "import os, signal, time\ntime.sleep(0.3)\nos.kill(os.getpid(), signal.SIGTERM)\n"
               "time.sleep(5)\n", -signal.SIGTERM),
    ("_exit", "import os, time\ntime.sleep(0.3)\nos._exit(4)\n", 4),
])
def test_monitor_ends_with_the_target(tmp_path, how, code, status):
    r, s = profile(tmp_path, code, "--interval", "50")
    assert r.returncode == status, r.stderr.decode()
    recs = read_records(s)  # every record whole: nothing interleaved
    assert recs[-1]["kind"] == "footer" and recs[-1]["exit_status"] == status
    rows = process_rows(s)
    assert len(rows) >= 5
    # The last sample is taken as the process ends.
    assert recs[-1]["wall_ns"] - rows[-1]["t_ns"] < 60e6


def test_fork_child_leaves_the_parent_session_alone(tmp_path):
    r, s = profile(tmp_path, "import os, time\npid = os.fork()\nif pid == 0:\n"
                             "    time.sleep(0.3)\n    print('child', flush=True)\n    os._exit(0)\n"
                             "os.waitpid(pid, 0)\ntime.sleep(0.2)\nprint('parent')\n",
                   "--interval", "50")
    assert r.returncode == 0 and r.stdout == b"child\nparent\n"
    recs = read_records(s)
    assert [x["kind"] for x in recs].count("footer") == 1
    assert recs[-1]["kind"] == "footer"
    assert len(process_rows(s)) >= 8


def test_no_monitor_with_interval_zero(tmp_path):
    r, s = profile(tmp_path, "pass\n", "--interval", "0")
    kinds = [x["kind"] for x in read_records(s)]
    assert "timeline" not in kinds and "monitor" not in kinds
    tl = report_json(str(s))["timeline"]
    assert tl["available"] is False and "--interval 0" in tl["reason"]


def test_interval_option_errors():
    for bad in ("-1", "x", "", "3600001"):
        r = run([OMNI, "--interval", bad, "-c", "pass"])
        assert r.returncode == 2 and b"--interval" in r.stderr


def test_text_report_has_resources(tmp_path):
    r, s = profile(tmp_path, "x = bytearray(50 << 20)\nimport time\ntime.sleep(0.2)\n")
    out = run([OMNI, "--report", str(s)]).stdout.decode()
    assert "Resources" in out and "RSS peak" in out
    assert "counters unavailable" in out or "IPC" in out


def test_the_last_seconds_stay_at_full_resolution(tmp_path):
    """A run past the full-resolution window (1 s here: OMNIPYTHON_TIMELINE_FULL)
    thins its older rows to one a second, and the end writes the rows the
    thinning left out of its last window: the report's timeline has a row
    every interval at the start and in the last second, one a second in
    between, in time order."""
    code = ("import time\nend = time.monotonic() + 4.5\nwhile time.monotonic() < end:\n"
            "    sum(range(10000))\n    time.sleep(0.01)\n")
    r, s = profile(tmp_path, code, env=clean_env(OMNIPYTHON_TIMELINE_FULL="1"))
    assert r.returncode == 0
    recent = [rec for rec in read_records(s) if rec["kind"] == "timeline" and rec.get("recent")]
    assert len(recent) == 1
    rows = report_json(str(s))["timeline"]["series"]["process"]["rows"]
    t = [row[0] / 1e9 for row in rows]
    assert t == sorted(t) and len(set(t)) == len(t)
    end = t[-1]
    gaps = [b - a for a, b in zip(t, t[1:])]
    first = [g for a, g in zip(t, gaps) if a < 0.9]
    middle = [g for a, g in zip(t, gaps) if 1.5 < a < end - 2.2]
    last = [g for a, g in zip(t, gaps) if a > end - 0.9]
    assert first and max(first) < 0.15, first
    assert middle and min(middle) > 0.85, middle
    assert len(last) >= 7 and max(last) < 0.15, last
    # the rows are the process's own: CPU time never goes back
    cpu = [row[1] + row[2] for row in rows]
    assert cpu == sorted(cpu)
