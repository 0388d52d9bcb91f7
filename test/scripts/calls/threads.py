"""Threads with exactly known call counts: worker k calls step() 1000*(k+1) times."""
import threading


def step(x):
    return x + 1


def worker(k):
    x = 0
    for _ in range(1000 * (k + 1)):
        x = step(x)


threads = [threading.Thread(target=worker, args=(k,), name=f"worker-{k}") for k in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
for _ in range(500):
    step(0)
print("ok")
