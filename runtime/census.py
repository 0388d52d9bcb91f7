# census.py - the heap census at the program's end (omnipython --memory):
# the objects reachable from the loaded modules (and the rest the garbage
# collector tracks), counted and sized by type; and for a few sampled blocks
# still alive, the chain of references that keeps them, from a module down.
# Run once, by the runtime's atexit hook, within a time limit.
def census(wanted=(), limit_s=1.0, max_objects=5000000):
    import gc
    import sys
    import time
    t0 = time.perf_counter()
    parent = {}          # id -> the object it was first reached from
    objs = {}            # id -> object, for the wanted addresses
    want = {}            # candidate id -> node (an object starts its block, or 16 bytes on)
    for node, addrs in wanted:
        for a in addrs:
            want[a] = node
            want[a + 16] = node   # objects the collector tracks follow a 16-byte header
    counts = {}
    partial = False
    roots = [m for m in list(sys.modules.values()) if m is not None]
    work = list(roots)
    seen = set(id(m) for m in roots)
    tracked = gc.get_objects()
    j = 0
    i = 0
    while True:
        if i == len(work):
            # what no module reaches: the rest of the collector's objects
            while j < len(tracked) and id(tracked[j]) in seen:
                j += 1
            if j == len(tracked):
                break
            seen.add(id(tracked[j]))
            work.append(tracked[j])
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
        if id(x) in want:
            objs[id(x)] = x
        if not isinstance(x, type):
            for r in gc.get_referents(x):
                k = id(r)
                if k not in seen:
                    seen.add(k)
                    parent[k] = x
                    work.append(r)
        if i % 20000 == 0 and (time.perf_counter() - t0 > limit_s or i > max_objects):
            partial = True
            break
    rows = sorted(counts.items(), key=lambda kv: (-kv[1][1], kv[0]))[:40]
    chains = []
    done = set()
    for k, o in objs.items():
        node = want[k]
        if node in done:
            continue
        chain = _chain(o, parent)
        if chain:
            chains.append((node, chain))
            done.add(node)
    return [(k, v[0], v[1]) for k, v in rows], partial, i, chains


def _describe(o):
    t = type(o)
    if t.__name__ == "module":
        return "module " + getattr(o, "__name__", "?")
    if isinstance(o, type):
        return "class " + o.__qualname__
    name = t.__qualname__
    try:
        n = len(o)
        return "%s of %d" % (name, n)
    except Exception:
        return name


def _slot(container, child):
    """How container holds child: ['key'], [i], .attribute, or ''."""
    try:
        if isinstance(container, dict):
            for k, v in container.items():
                if v is child:
                    return "[%r]" % (k,) if not isinstance(k, str) else "[%r]" % k
                if k is child:
                    return "(a key)"
        elif isinstance(container, (list, tuple)):
            for n, v in enumerate(container):
                if v is child:
                    return "[%d]" % n
    except Exception:
        pass
    return ""


def _chain(o, parent, depth=12):
    steps = [_describe(o)]
    child = o
    for _ in range(depth):
        p = parent.get(id(child))
        if p is None:
            break
        # a module's __dict__: name the module and the global
        if type(p) is dict:
            gp = parent.get(id(p))
            if gp is not None and type(gp).__name__ == "module" and getattr(gp, "__dict__", None) is p:
                steps.append("module %s, global %s" % (gp.__name__, _slot(p, child).strip("[]'\"")))
                return " <- ".join(steps)
            if gp is not None and isinstance(gp, type) and gp.__dict__ is not None:
                steps.append("class %s, attribute %s" % (gp.__qualname__, _slot(p, child).strip("[]'\"")))
                return " <- ".join(steps)
        steps[-1] += " at " + _slot(p, child) if _slot(p, child) else ""
        steps.append(_describe(p))
        child = p
        if type(p).__name__ in ("module", "frame"):
            break
    return " <- ".join(steps)
