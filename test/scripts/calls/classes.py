"""Methods, properties, dunder methods called from C slots, decorators,
closures, lambdas and exceptions."""
import functools


def traced(fn):
    @functools.wraps(fn)
    def wrapper(*a, **k):
        return fn(*a, **k)
    return wrapper


class Vec:
    def __init__(self, x, y):
        self.x, self.y = x, y

    @property
    def norm2(self):
        return self.x * self.x + self.y * self.y

    def __add__(self, other):
        return Vec(self.x + other.x, self.y + other.y)

    def __getitem__(self, i):
        return (self.x, self.y)[i]

    def __len__(self):
        return 2

    def __eq__(self, other):
        return (self.x, self.y) == (other.x, other.y)

    def __hash__(self):
        return hash((self.x, self.y))

    @traced
    def scaled(self, k):
        return Vec(self.x * k, self.y * k)

    @staticmethod
    def zero():
        return Vec(0, 0)

    @classmethod
    def unit(cls):
        return cls(1, 0)


def make_adder(n):
    def add(x):
        return x + n
    return add


class Picky:
    """An __init__ that raises now and then, and one that calls a function
    and builds another object (3.13 runs such simple __init__s inline: see
    runtime/initwatch.h)."""
    def __init__(self, i):
        if i % 4 == 0:
            raise ValueError(i)
        self.i = i


class Holder:
    def __init__(self, i):
        self.v = Vec(i, norm(i))


def norm(i):
    return abs(i)


def risky(i):
    if i % 3 == 0:
        raise KeyError(i)
    return i


def main():
    v = Vec.zero()
    for i in range(200):
        v = v + Vec.unit().scaled(2)
        _ = v[0] + v[1] + len(v) + v.norm2
    s = {Vec(1, 2), Vec(1, 2), Vec(2, 1)}
    add3 = make_adder(3)
    total = sum(map(add3, range(30)))
    keyed = sorted(range(40), key=lambda k: -k)
    caught = 0
    for i in range(30):
        try:
            risky(i)
        except KeyError:
            caught += 1
    picked = 0
    for i in range(100):
        try:
            Picky(i)
            picked += 1
        except ValueError:
            picked += norm(-1)
        picked += Holder(i).v.y
    print(v.x, len(s), total, keyed[0], caught, picked)


main()
