"""A PyTorch program for the GPU check (test/device/check.sh): matrix
products on the GPU, first back to back (the GPU busy), then each followed
by a sleep (the GPU mostly idle: gpu_underused's case)."""
import sys
import time

import torch

busy_s, idle_s = (float(a) for a in sys.argv[1:3]) if len(sys.argv) > 2 else (3.0, 6.0)
x = torch.randn(8192, 8192, device="cuda")
n = 0
t0 = time.time()
while time.time() - t0 < busy_s:
    y = x @ x
    n += 1
    if n % 8 == 0:
        torch.cuda.synchronize()
torch.cuda.synchronize()
t1 = time.time()
while time.time() - t1 < idle_s:
    y = x @ x
    torch.cuda.synchronize()
    time.sleep(0.1)
print("products", n, "checksum", float(y[0, 0]) == float(y[0, 0]))
