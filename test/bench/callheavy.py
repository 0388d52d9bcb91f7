"""Millions of small Python calls: the frame hook's worst case."""


def add(a, b):
    return a + b


def inc(x):
    return add(x, 1)


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


x = 0
for i in range(1000000):
    x = inc(x)
print(x, fib(25))
