# A thread calls os._exit while the main thread waits: the process ends at
# once with that status, what is still buffered lost.
import os
import threading
import time

print("flushed", flush=True)
print("buffered, never shown", end="")
threading.Thread(target=lambda: os._exit(7)).start()
time.sleep(30)
