"""complex_and_hot (with --scan): one function with many paths through it
is also where the time goes.

    omnipython --scan examples --run "complex_and_hot.py"

The scan measures classify's cyclomatic complexity (radon's: 11), the run
its share of the time; the finding joins them.
"""


def classify(n):
    if n < 0:
        return "negative"
    if n == 0:
        return "zero"
    if n % 15 == 0:
        return "fizzbuzz"
    if n % 5 == 0:
        return "buzz"
    if n % 3 == 0:
        return "fizz"
    if n % 7 == 0 and n % 11 == 0:
        return "rare"
    if n % 2 == 0:
        kind = "even"
    else:
        kind = "odd"
    for d in (13, 17, 19):
        if n % d == 0:
            return kind + "-" + str(d)
    return kind


def main():
    counts = {}
    for n in range(300_000):
        c = classify(n)
        counts[c] = counts.get(c, 0) + 1
    print(sorted(counts.items())[:3])


if __name__ == "__main__":
    main()
