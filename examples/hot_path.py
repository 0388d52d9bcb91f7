"""hot_path: one chain of calls (main > handle > parse > checksum) holds most
of the time, while the rest of the program is cheap.

With --short it handles a tenth of the messages: ten times fewer stack
samples, a finding much less sure (a weak signal, on a quiet machine)."""
import sys


def checksum(data):
    h = 0
    for b in data:
        h = (h * 31 + b) & 0xFFFFFFFF
    return h


def parse(message):
    return checksum(message.encode())


def handle(messages):
    return [parse(m) for m in messages]


def report(results):
    return sum(results) % 1000


def main():
    n = 2500 if "--short" in sys.argv[1:] else 25000
    messages = ["message number %d " % i * 40 for i in range(n)]
    print(report(handle(messages)))


if __name__ == "__main__":
    main()
