# An audit hook that prints the gc module's events: only the program's own
# calls reach it (a profiler's look at the heap at exit is not the program's).
import gc
import sys


def hook(event, args):
    if event.startswith("gc."):
        print(event, flush=True)


sys.addaudithook(hook)
gc.get_objects(generation=1)
x = object()
gc.get_referrers(x)
gc.get_referents([x])
