import sys
print("mod", __name__, sys.argv, sys.path[0] == __import__("os").getcwd())
