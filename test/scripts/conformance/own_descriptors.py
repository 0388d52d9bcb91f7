# The process's descriptors as the program sees them, fstat'ed one by one as
# subprocess's fd_status does, and a daemon's closerange: the interpreter's
# own (a profiler's included) are not there.
import os
import time


def listing():
    fds = []
    for fd in range(256):
        try:
            os.fstat(fd)
        except OSError:
            continue
        fds.append(fd)
    return fds


before = listing()
print("open:", before)
os.closerange(3, 256)
time.sleep(0.3)
print("after closerange:", [fd for fd in listing() if fd >= 3])
try:
    os.close(max(before) + 1)
except OSError as e:
    print("close of a number not open:", e.errno)
