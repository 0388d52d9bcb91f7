"""small_fn_high_calls: a one-line function called a million times.

Its own work is a few tens of nanoseconds; calling it costs more than that.
"""


def scale(x):
    return x * 3


def total(n):
    t = 0
    for i in range(n):
        t += scale(i)
    return t


if __name__ == "__main__":
    print(total(1_000_000))
