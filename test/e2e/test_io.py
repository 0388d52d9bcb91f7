"""Byte accounting at the system-call boundary: exact bytes and operations
by descriptor kind and by function, sizes, and nothing of omnipython's own."""
import json

import pytest

from conftest import OMNI, clean_env, report_json, run


def profile(tmp_path, code, *opts):
    src = tmp_path / "prog.py"
    src.write_text(code)
    s = tmp_path / "io.omni"
    r = run([OMNI, "--quiet", *opts, "--out", str(s), str(src)], cwd=str(tmp_path),
            env=clean_env(), timeout=300)
    assert r.returncode == 0, r.stderr.decode()
    return report_json(str(s)), src, r.stdout.decode()


def rows_of(io, name):
    return [f for f in io["by_function"] if f["name"] == name]


def test_file_256_mib_in_64_kib_blocks(tmp_path):
    data = tmp_path / "big.bin"
    io, src, out = profile(tmp_path, f"""
def wchar():
    return int(open('/proc/self/io').read().split('wchar:')[1].split()[0])
def write_it():
    block = b'x' * 65536
    with open({str(data)!r}, 'wb', buffering=0) as f:
        for _ in range(4096):
            f.write(block)
def read_it():
    n = 0
    with open({str(data)!r}, 'rb', buffering=0) as f:
        while f.read(65536):
            n += 1
    return n + 1
before = wchar()
write_it()
after = wchar()
print(after - before, read_it())
""", "--interval", "0")  # (no monitor: its session writes would be in wchar's count)
    io = io["io"]
    (w,) = rows_of(io, "write_it")
    (r,) = rows_of(io, "read_it")
    assert (w["kind"], w["write_bytes"], w["write_ops"], w["read_ops"]) == ("file", 256 << 20, 4096, 0)
    wchar_delta, read_calls = map(int, out.split())
    # The kernel's own count of the bytes written by write(2) agrees.
    assert w["write_bytes"] == wchar_delta
    assert (r["kind"], r["read_bytes"], r["read_ops"]) == ("file", 256 << 20, read_calls)
    assert io["file"]["write_bytes"] == 256 << 20 and io["file"]["write_ops"] == 4096
    # wchar() read /proc/self/io (a regular file): its bytes are in the totals too.
    (p,) = rows_of(io, "wchar")
    assert io["file"]["read_bytes"] == (256 << 20) + p["read_bytes"]
    assert io["file"]["read_ops"] == read_calls + p["read_ops"]
    assert io["file"]["write_sizes"] == {"65536": 4096}
    assert io["interpreter"]["read_bytes"] > 0  # importlib's reads, kept apart


def test_loopback_socket_256_mib(tmp_path):
    io, src, out = profile(tmp_path, """
import socket, threading
TOTAL = 256 << 20
def sender(sock):
    calls = 0
    block = memoryview(b'y' * 65536)
    sent = 0
    while sent < TOTAL:
        sent += sock.send(block[:min(65536, TOTAL - sent)])
        calls += 1
    sock.close()
    result['send'] = calls
def receiver(sock):
    calls = got = 0
    buf = bytearray(65536)
    while True:
        n = sock.recv_into(buf)
        calls += 1
        if not n:
            break
        got += n
    result['recv'] = calls
    result['got'] = got
result = {}
srv = socket.socket()
srv.bind(('127.0.0.1', 0))
srv.listen()
c = socket.create_connection(srv.getsockname())
s, _ = srv.accept()
t = threading.Thread(target=sender, args=(c,))
t.start()
receiver(s)
t.join()
print(result['send'], result['recv'], result['got'])
""")
    io = io["io"]
    send_calls, recv_calls, got = map(int, out.split())
    assert got == 256 << 20
    (snd,) = rows_of(io, "sender")
    (rcv,) = rows_of(io, "receiver")
    assert (snd["kind"], snd["write_bytes"], snd["write_ops"]) == ("tcp", 256 << 20, send_calls)
    assert (rcv["kind"], rcv["read_bytes"], rcv["read_ops"]) == ("tcp", 256 << 20, recv_calls)
    assert io["socket"]["tcp"]["write_bytes"] == 256 << 20
    assert io["socket"]["read_bytes"] == 256 << 20


def test_one_byte_writes_histogram(tmp_path):
    io, src, out = profile(tmp_path, f"""
import os
def dribble(path):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT)
    for _ in range(1000):
        os.write(fd, b'.')
    os.close(fd)
dribble({str(tmp_path / 'd.txt')!r})
""")
    io = io["io"]
    assert io["file"]["write_sizes"] == {"1": 1000}
    (d,) = rows_of(io, "dribble")
    assert (d["write_bytes"], d["write_ops"]) == (1000, 1000)


def test_pipes_and_sendfile(tmp_path):
    src_file = tmp_path / "src.bin"
    src_file.write_bytes(b"z" * (3 << 20))
    io, src, out = profile(tmp_path, f"""
import os, shutil
def through_pipe():
    r, w = os.pipe()
    os.write(w, b'p' * 1000)
    os.close(w)
    assert len(os.read(r, 4096)) == 1000
    os.close(r)
def copy():
    shutil.copyfile({str(src_file)!r}, {str(tmp_path / 'dst.bin')!r})
through_pipe()
copy()
""")
    io = io["io"]
    (p,) = rows_of(io, "through_pipe")
    assert (p["kind"], p["write_bytes"], p["read_bytes"]) == ("pipe", 1000, 1000)
    # shutil.copyfile moves the bytes with sendfile(2): a read and a write.
    assert io["file"]["read_bytes"] == 3 << 20 and io["file"]["write_bytes"] == 3 << 20


def test_omnipythons_own_io_is_not_counted(tmp_path):
    io, src, out = profile(tmp_path, "import time\ntime.sleep(0.3)\n", "--interval", "10")
    io = io["io"]
    assert io["file"]["read_bytes"] == 0 and io["file"]["write_bytes"] == 0
    assert io["by_function"] == []
