import atexit
import threading

results = []
lock = threading.Lock()

def work(n):
    s = sum(i * i for i in range(n))
    with lock:
        results.append((n, s))

atexit.register(print, "atexit first registered, runs last")
atexit.register(lambda: print("atexit second registered, runs first"))
ts = [threading.Thread(target=work, args=(1000 * (i + 1),), name=f"w{i}") for i in range(4)]
for t in ts:
    t.start()
for t in ts:
    t.join()
print(sorted(results))
d = threading.Thread(target=lambda: __import__("time").sleep(60), daemon=True)
d.start()
print("main done")
