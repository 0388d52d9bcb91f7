"""Allocation-bound: short-lived dicts, lists and strings in a loop."""
def churn(n):
    t = 0
    for i in range(n):
        d = {"k": i, "v": [i, i + 1, i + 2]}
        s = str(i) + "-" + str(i * 2)
        t += len(d["v"]) + len(s)
    return t
print(churn(600000))
