"""Pure interpretation without calls: what --mode off must run at python3's speed."""
s = 0
d = {}
for i in range(3000000):
    s += i * i % 7
    if i % 1000 == 0:
        d[i] = s
print(s, len(d))
