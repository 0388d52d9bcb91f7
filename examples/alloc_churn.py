"""alloc_churn (with --memory or --mode full): short-lived containers made
and thrown away in a hot loop."""


def totals(n):
    t = 0
    for i in range(n):
        row = {"id": i, "tags": [i, i + 1, i + 2], "name": "item-%d" % i}
        t += len(row["tags"]) + len(row["name"])
    return t


if __name__ == "__main__":
    print(totals(1_500_000))
