"""A known CPU split: b spins three times as long as a, while a thread sleeps."""
import threading
import time


def spin(seconds):
    t = time.process_time()
    x = 0
    while time.process_time() - t < seconds:
        x += 1
    return x


def a():
    return spin(0.25)


def b():
    return spin(0.75)


def nap():
    time.sleep(0.6)


sleeper = threading.Thread(target=nap, name="sleeper")
sleeper.start()
a()
b()
sleeper.join()
