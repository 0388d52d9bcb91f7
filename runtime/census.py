# census.py - the heap census at the program's end (omnipython --memory):
# the objects the garbage collector tracks and everything they refer to
# (strings, numbers, bytes, and the containers the collector leaves untracked
# because they hold only such values), counted and sized by type. Run once,
# by the runtime's atexit hook, within a time limit.
def census(limit_s=1.0, max_objects=5000000):
    import gc
    import sys
    import time
    t0 = time.perf_counter()
    seen = set()
    counts = {}
    partial = False
    work = gc.get_objects()
    for o in work:
        seen.add(id(o))
    containers = (dict, list, tuple, set, frozenset)
    i = 0
    while i < len(work):
        x = work[i]
        i += 1
        t = type(x)
        name = t.__qualname__ if t.__module__ == "builtins" else t.__module__ + "." + t.__qualname__
        try:
            size = sys.getsizeof(x)
        except Exception:
            size = 0
        c = counts.get(name)
        if c is None:
            counts[name] = [1, size]
        else:
            c[0] += 1
            c[1] += size
        if not isinstance(x, type):
            for r in gc.get_referents(x):
                if id(r) not in seen and not gc.is_tracked(r):
                    seen.add(id(r))
                    work.append(r)   # an untracked object: counted, and its contents too
        if i % 20000 == 0 and (time.perf_counter() - t0 > limit_s or i > max_objects):
            partial = True
            break
    rows = sorted(counts.items(), key=lambda kv: (-kv[1][1], kv[0]))[:40]
    return [(k, v[0], v[1]) for k, v in rows], partial, i
