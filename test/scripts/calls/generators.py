"""Generators, generator expressions, yield from, send and throw."""


def count(n):
    for i in range(n):
        yield i


def chained(n):
    yield from count(n)
    yield from count(2)


def accumulator():
    total = 0
    while True:
        try:
            x = yield total
        except ValueError:
            total = -1
            continue
        total += x


def main():
    print(sum(count(100)), list(chained(3)))
    print(sum(x * x for x in range(20)))
    acc = accumulator()
    next(acc)
    for i in range(5):
        acc.send(i)
    acc.throw(ValueError)
    acc.close()
    squares = [i * i for i in range(10)]
    evens = {i for i in squares if i % 2 == 0}
    print(len(squares), len(evens))


main()
