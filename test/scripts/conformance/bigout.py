import sys
for i in range(50000):
    sys.stdout.write(f"line {i} {'x' * 20}\n")
print("done", file=sys.stderr)
