import sys
import threading

sys.setrecursionlimit(20000)
threading.stack_size(256 * 1024)


def r(n):
    return 0 if n == 0 else 1 + r(n - 1)


out = []
t = threading.Thread(target=lambda: out.append(r(15000)))
t.start()
t.join()
print(out)
