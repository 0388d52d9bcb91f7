import sys
print("dir main", sys.argv[0].endswith("appdir"), __name__)
