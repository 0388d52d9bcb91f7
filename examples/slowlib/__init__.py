"""A module that does heavy work when it is imported: a table of primes
built at module level, which every program importing it pays for at start-up."""


def _primes(limit):
    sieve = bytearray([1]) * limit
    sieve[0:2] = b"\0\0"
    for i in range(2, int(limit ** 0.5) + 1):
        if sieve[i]:
            for j in range(i * i, limit, i):
                sieve[j] = 0
    return [i for i in range(limit) if sieve[i]]


PRIMES = _primes(12_000_000)


def nth_prime(n):
    return PRIMES[n]
