"""Memory-heavy: 400,000 small dicts alive at once (about 170 MB), then freed."""
rows = [{"id": i, "name": "n%d" % i, "tags": [i, i + 1]} for i in range(400000)]
print(len(rows))
del rows
