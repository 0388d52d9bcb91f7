import threading
def bad():
    raise RuntimeError("in thread")
t = threading.Thread(target=bad, name="badthread")
t.start()
t.join()
print("main continues")
