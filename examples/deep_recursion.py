"""deep_recursion: a list summed recursively, one frame per element."""


def rsum(xs, i=0):
    if i == len(xs):
        return 0
    return xs[i] + rsum(xs, i + 1)


if __name__ == "__main__":
    data = list(range(800))
    print(sum(rsum(data) for _ in range(200)))
