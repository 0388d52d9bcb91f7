# The main thread ends with pthread_exit while another thread still works:
# the process lives until that thread is done, then ends with status 0.
import ctypes
import threading
import time


def work():
    time.sleep(0.2)
    print("worker done", flush=True)


threading.Thread(target=work).start()
print("main thread leaves", flush=True)
ctypes.CDLL(None).pthread_exit(None)
