# multiprocessing's fd-passing test: a process makes every free number below
# 256 a copy of one descriptor, then passes another through a socket: each
# number it found free is its own, and the data arrives.
import os
import socket

a, b = socket.socketpair()
r, w = os.pipe()
taken = 0
for fd in range(256):
    try:
        os.fstat(fd)
    except OSError:
        os.dup2(b.fileno(), fd)
        taken += 1
socket.send_fds(a, [b"x"], [w])
_, fds, _, _ = socket.recv_fds(b, 1, 1)
os.write(fds[0], b"through the passed descriptor")
print(os.read(r, 100).decode(), taken > 200)
