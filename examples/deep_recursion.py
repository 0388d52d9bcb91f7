"""deep_recursion: a list summed recursively, one frame per element.
An argument repeats the sum that many times (200)."""
import sys


def rsum(xs, i=0):
    if i == len(xs):
        return 0
    return xs[i] + rsum(xs, i + 1)


if __name__ == "__main__":
    data = list(range(800))
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    print(sum(rsum(data) for _ in range(repeats)))
