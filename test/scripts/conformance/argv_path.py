import os
import sys
print(sys.argv)
print(sys.path[0] == os.path.dirname(os.path.abspath(__file__)))
print(__name__, __file__, __spec__, __package__)
print(sys.flags)
