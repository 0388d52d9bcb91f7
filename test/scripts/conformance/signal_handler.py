import os
import signal
seen = []
signal.signal(signal.SIGUSR1, lambda s, f: seen.append(s))
print(signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGUSR2))
os.kill(os.getpid(), signal.SIGUSR1)
print("handled", seen)
os.kill(os.getpid(), signal.SIGINT)
