import gc
import weakref

class Node:
    def __init__(self):
        self.other = None
    def __del__(self):
        print("del", type(self).__name__)

a, b = Node(), Node()
a.other, b.other = b, a
r = weakref.ref(a, lambda ref: print("weakref callback"))
del a, b
print("collected", gc.collect() > 0)
