"""Millions of method calls on small objects: calls with a little work each."""


class Vec:
    __slots__ = ("x", "y")

    def __init__(self, x, y):
        self.x = x
        self.y = y

    def add(self, other):
        return Vec(self.x + other.x, self.y + other.y)

    def norm2(self):
        return self.x * self.x + self.y * self.y


def walk(n):
    acc = Vec(0, 0)
    step = Vec(1, 2)
    total = 0
    for _ in range(n):
        acc = acc.add(step)
        total += acc.norm2() % 7
    return total


print(walk(700000))
