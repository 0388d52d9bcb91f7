import sys
lines = sys.stdin.read().splitlines()
print(len(lines), lines[:3])
print(input.__doc__ is not None)
