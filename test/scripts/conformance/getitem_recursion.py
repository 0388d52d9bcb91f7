import sys

class Seq:
    def __getitem__(self, i):
        if i >= 5:
            raise IndexError(i)
        return i * 10

print(list(Seq()), Seq()[3])
sys.setrecursionlimit(60000)

def depth(n):
    return 0 if n == 0 else 1 + depth(n - 1)

print(depth(50000))

def boom(n):
    return boom(n + 1)

sys.setrecursionlimit(1000)
try:
    boom(0)
except RecursionError as e:
    print("RecursionError", e)
