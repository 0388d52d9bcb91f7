"""high_variance (with --repeat): the work a run does depends on state
outside the code - here a cache file in the working directory, warm on
every other run - so single runs of it cannot be compared.

    omnipython --repeat 5 --out var.omni examples/variable_work.py
"""
import os

CACHE = "variable_work.cache"


def work(n):
    t = 0
    for i in range(n):
        t += i & 7
    return t


if __name__ == "__main__":
    warm = os.path.exists(CACHE)
    if warm:
        os.unlink(CACHE)        # the cache goes stale: the next run is cold
    else:
        with open(CACHE, "w") as f:
            f.write("warm\n")
    print(work(300_000 if warm else 3_000_000) > 0)
