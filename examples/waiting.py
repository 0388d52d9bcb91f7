"""waiting: the program spends its time waiting on a slow service (here a
sleep standing in for the network), one request after another.

With --short it makes 6 requests instead of 25 (0.3 s of waiting): the
finding is then much less sure, a weak signal."""
import sys
import time


def fetch(i):
    time.sleep(0.05)  # the round trip
    return i * i


def main():
    n = 6 if "--short" in sys.argv[1:] else 25
    print(sum(fetch(i) for i in range(n)))


if __name__ == "__main__":
    main()
