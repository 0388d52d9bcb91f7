"""A small program with a few kinds of hot spots, for omnipython's quick start.

    omnipython --out example.omni examples/hotspots.py
    omnipython --report example.omni

Where the time goes: a tiny function called a million times (dispatch
overhead), a recursive function, a generator pipeline and some JSON work.
"""
import json


def is_small_prime(n):
    """Trial division: tiny, and called very often."""
    if n < 2:
        return False
    i = 2
    while i * i <= n:
        if n % i == 0:
            return False
        i += 1
    return True


def count_primes(limit):
    return sum(1 for n in range(limit) if is_small_prime(n))


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def records(n):
    for i in range(n):
        yield {"id": i, "name": f"item-{i}", "tags": ["a", "b"][: i % 3]}


def roundtrip(n):
    blob = json.dumps(list(records(n)))
    return len(json.loads(blob))


def main():
    print("primes below 60000:", count_primes(60000))
    print("fib(22):", fib(22))
    print("records:", roundtrip(50000))


if __name__ == "__main__":
    main()
