# A child started with its standard descriptors closed sees them closed,
# whatever the interpreter opens for itself.
import os
import sys

code = ("import os, sys\n"
        "seen = []\n"
        "for fd in (0, 1, 2):\n"
        "    try:\n"
        "        os.fstat(fd)\n"
        "        seen.append('open')\n"
        "    except OSError as e:\n"
        "        seen.append('closed %d' % e.errno)\n"
        "out = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)\n"
        "os.write(out, repr((seen, sys.stdin, sys.stdout)).encode())\n")
report = "closed_std_fds.out"
for closed in ((0,), (1,), (0, 1, 2)):
    pid = os.posix_spawn(sys.executable, [sys.executable, "-c", code, report], os.environ,
                         file_actions=[(os.POSIX_SPAWN_CLOSE, fd) for fd in closed])
    _, status = os.waitpid(pid, 0)
    with open(report) as f:
        print(closed, os.waitstatus_to_exitcode(status), f.read())
os.unlink(report)
