# A thread forks; the child's only thread returns: the child ends with it
# (exit status 0), as the last thread of a process does.
import os
import threading


def func():
    pid = os.fork()
    if pid == 0:
        main = threading.main_thread()
        print("child: main is me", main.ident == threading.get_ident(), flush=True)
    else:
        _, status = os.waitpid(pid, 0)
        print("parent: child exited with", os.waitstatus_to_exitcode(status), flush=True)


th = threading.Thread(target=func)
th.start()
th.join()
print("parent done")
