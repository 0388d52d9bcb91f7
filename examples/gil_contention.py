"""gil_contention: three threads doing pure-Python arithmetic take turns on
the GIL: together they use one core, not three.

With --short each thread loops for about a tenth of a second: too few
sampler ticks to be sure from the samples alone, but the frame hook's clock
(each thread's time in Python far above the CPU time it got) tells it."""
import sys
import threading


def work(n, out, k):
    t = 0
    for i in range(n):
        t += i % 7
    out[k] = t


def main():
    out = [0] * 3
    n = 3_000_000 if "--short" in sys.argv[1:] else 10_000_000
    threads = [threading.Thread(target=work, args=(n, out, k)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(sum(out))


if __name__ == "__main__":
    main()
