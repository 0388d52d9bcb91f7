"""high_variance (with --repeat): how much work a run does depends on input
that changes from run to run (here a random size), so single runs of it
cannot be compared.

    omnipython --repeat 5 --out var.omni examples/variable_work.py
"""
import random


def work(n):
    t = 0
    for i in range(n):
        t += i & 7
    return t


if __name__ == "__main__":
    print(work(random.randint(500_000, 5_000_000)) > 0)
