"""memory_growth: a cache that is never bounded keeps every page it was
asked for, all through the run (about 170 MB in a second).

In the default mode the finding is the process's: its resident set rose
along a line and stayed up. With --memory (or --mode full) it names render,
the function whose allocations stay alive. With --short the cache grows for
under half a second: a weak signal."""
import sys

_cache = {}


def render(i):
    page = _cache.get(i)
    if page is None:
        body = "".join("<li>%d</li>" % k for k in range(i % 50, i % 50 + 40))
        page = _cache[i] = ("<p>%d</p>" % i) * 100 + body
    return page


def serve(n):
    return sum(len(render(i)) for i in range(n))


if __name__ == "__main__":
    print(serve(40_000 if "--short" in sys.argv[1:] else 100_000) > 0)
