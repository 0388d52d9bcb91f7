"""A typical mix: json, re, sorting, dataclasses."""
import dataclasses
import json
import re


@dataclasses.dataclass(order=True)
class Item:
    name: str
    price: float
    tags: list = dataclasses.field(default_factory=list)


def parse(lines):
    pat = re.compile(r"(\w+)=(\d+(?:\.\d+)?)")
    out = []
    for line in lines:
        m = pat.search(line)
        if m:
            out.append(Item(m.group(1), float(m.group(2)), [line[:3]]))
    return out


def main():
    lines = [f"item{i}={i * 1.5}" for i in range(300)]
    items = sorted(parse(lines), key=lambda it: (-it.price, it.name))
    blob = json.dumps([dataclasses.asdict(i) for i in items[:50]])
    back = json.loads(blob)
    print(len(items), items[0].name, len(back))


main()
