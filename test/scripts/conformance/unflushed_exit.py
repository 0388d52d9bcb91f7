import os
print("buffered line that os._exit loses when stdout is a pipe")
os._exit(9)
