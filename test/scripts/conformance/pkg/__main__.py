import sys
print("pkg main", __name__, __spec__.name, sys.argv)
