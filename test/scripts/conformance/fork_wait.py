import os
import sys
sys.stdout.flush()
pid = os.fork()
if pid == 0:
    print("child", flush=True)
    os._exit(7)
_, status = os.waitpid(pid, 0)
print("parent saw", os.waitstatus_to_exitcode(status))
