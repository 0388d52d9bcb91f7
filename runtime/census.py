# census.py - words the chain of references the heap census found
# (runtime/census.c): chain(path) gets an object still alive at the end,
# then the object it was reached from, and so on up to a module, a class or
# a frame, and says how each holds the next:
#   str of 1640 at [15297] <- dict of 40000 <- module app, global _cache
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
    """How container holds child: ['key'], [i], or ''."""
    try:
        if isinstance(container, dict):
            for k, v in container.items():
                if v is child:
                    return "[%r]" % (k,)
                if k is child:
                    return "(a key)"
        elif isinstance(container, (list, tuple)):
            for n, v in enumerate(container):
                if v is child:
                    return "[%d]" % n
    except Exception:
        pass
    return ""


def chain(path):
    steps = [_describe(path[0])]
    for k in range(1, len(path)):
        child, p = path[k - 1], path[k]
        gp = path[k + 1] if k + 1 < len(path) else None
        # a module's or a class's __dict__: name the module (class) and the name
        if type(p) is dict and gp is not None:
            if type(gp).__name__ == "module" and getattr(gp, "__dict__", None) is p:
                steps.append("module %s, global %s" % (gp.__name__, _slot(p, child).strip("[]'\"")))
                return " <- ".join(steps)
            if isinstance(gp, type) and gp.__dict__ is not None:
                steps.append("class %s, attribute %s" % (gp.__qualname__, _slot(p, child).strip("[]'\"")))
                return " <- ".join(steps)
        slot = _slot(p, child)
        if slot:
            steps[-1] += " at " + slot
        steps.append(_describe(p))
        if type(p).__name__ in ("module", "frame"):
            break
    return " <- ".join(steps)
