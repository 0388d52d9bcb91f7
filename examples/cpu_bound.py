"""cpu_bound: pure-Python arithmetic keeps one core busy for over a second.

With --short it runs for a fifth of that: the run is as CPU-bound, but so
short that the finding is much less sure - a weak signal on a quiet machine
(a short run is mostly the interpreter's start)."""
import sys


def collatz_steps(n):
    steps = 0
    while n != 1:
        n = n // 2 if n % 2 == 0 else 3 * n + 1
        steps += 1
    return steps


def longest(limit):
    best, arg = 0, 0
    for n in range(1, limit):
        s = collatz_steps(n)
        if s > best:
            best, arg = s, n
    return arg, best


if __name__ == "__main__":
    print(longest(60_000 if "--short" in sys.argv[1:] else 250_000))
