"""A typical mix of library work: json, re, sorting, dataclasses."""
import dataclasses
import json
import re


@dataclasses.dataclass(order=True)
class Rec:
    key: str
    value: float
    tags: list


pat = re.compile(r"(?P<k>[a-z]+)(?P<n>\d+)=(?P<v>[\d.]+)")
lines = [f"item{i}={i * 0.5}" for i in range(60000)]
recs = []
for line in lines:
    m = pat.match(line)
    recs.append(Rec(m["k"] + m["n"], float(m["v"]), [m["k"]]))
recs.sort(key=lambda r: (-r.value, r.key))
blob = json.dumps([dataclasses.asdict(r) for r in recs[:20000]])
back = json.loads(blob)
words = sorted(set(re.findall(r"\w+", blob)))
print(len(recs), len(back), len(words))
