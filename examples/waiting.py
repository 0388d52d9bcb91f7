"""waiting: the program spends its time waiting on a slow service (here a
sleep standing in for the network), one request after another."""
import time


def fetch(i):
    time.sleep(0.05)  # the round trip
    return i * i


def main():
    print(sum(fetch(i) for i in range(25)))


if __name__ == "__main__":
    main()
