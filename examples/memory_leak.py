"""memory_growth (with --memory or --mode full): a cache that is never
bounded keeps every page it was asked for, all through the run."""

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
    print(serve(40_000) > 0)
