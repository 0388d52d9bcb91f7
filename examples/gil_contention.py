"""gil_contention: three threads doing pure-Python arithmetic take turns on
the GIL: together they use one core, not three."""
import threading


def work(n, out, k):
    t = 0
    for i in range(n):
        t += i % 7
    out[k] = t


def main():
    out = [0] * 3
    threads = [threading.Thread(target=work, args=(10_000_000, out, k)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(sum(out))


if __name__ == "__main__":
    main()
