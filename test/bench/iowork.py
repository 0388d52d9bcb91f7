"""An I/O-heavy workload: 64 MiB written and read back in 4 KiB unbuffered
blocks, and 20,000 small messages over a socket pair."""
import os
import socket
import tempfile

BLOCK = 4096
path = os.path.join(tempfile.mkdtemp(), "io.bin")
block = b"x" * BLOCK
with open(path, "wb", buffering=0) as f:
    for _ in range((64 << 20) // BLOCK):
        f.write(block)
with open(path, "rb", buffering=0) as f:
    while f.read(BLOCK):
        pass
os.unlink(path)
a, b = socket.socketpair()
for _ in range(20000):
    a.send(b"ping")
    b.recv(16)
