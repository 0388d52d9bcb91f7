"""omnipython --scan against radon's four passes (cc, raw, hal, mi) on the
same tree, in one run. Run it with Debian's Python:

    /usr/bin/python3.11 test/bench/scan_bench.py [--tree DIR] [--omnipython build/omnipython]

Target (issue 7): at least 10x faster than radon's cc+raw+hal+mi together,
and the whole standard library in under 2 s on the 2-core machine. radon's
raw and mi passes are super-linear in a file's size: on the whole standard
library they take minutes, so the default tree is a 134-file slice of it
(--tree /usr/lib/python3.11 for all of it).
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def timed(argv):
    t0 = time.perf_counter()
    r = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if r.returncode not in (0, 1):
        sys.exit(f"{argv} failed: {r.stderr.decode()}")
    return time.perf_counter() - t0


def slice_of_stdlib(dst, n=134):
    files = []
    for d, dirs, names in os.walk("/usr/lib/python3.11"):
        dirs[:] = sorted(x for x in dirs if x not in ("test", "tests", "__pycache__", "site-packages",
                                                      "dist-packages", "idlelib", "lib2to3"))
        files += [os.path.join(d, x) for x in sorted(names) if x.endswith(".py")]
    step = max(1, len(files) // n)
    for i, f in enumerate(files[::step][:n]):
        shutil.copy(f, os.path.join(dst, f"{i:03d}_{os.path.basename(f)}"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tree")
    ap.add_argument("--omnipython", default=os.path.join(ROOT, "build", "omnipython"))
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    radon = shutil.which("radon")
    if not radon:
        sys.exit("radon is not installed (apt-get install radon)")
    with tempfile.TemporaryDirectory() as tmp:
        tree = args.tree
        if not tree:
            tree = tmp
            slice_of_stdlib(tree)
        files = sum(len([x for x in n if x.endswith(".py")]) for _, _, n in os.walk(tree))
        ours = sorted(timed([args.omnipython, "--scan", tree, "--format", "json"])
                      for _ in range(args.rounds))[args.rounds // 2]
        passes = {p: timed([radon, p, "-j", tree]) for p in ("cc", "raw", "hal", "mi")}
        theirs = sum(passes.values())
        print(f"tree: {tree} ({files} files)")
        print("radon: " + ", ".join(f"{p} {t:.2f} s" for p, t in passes.items()) +
              f" = {theirs:.2f} s")
        print(f"omnipython --scan: {ours:.3f} s (median of {args.rounds}), "
              f"{theirs / ours:.1f}x faster (target: 10x)")
        if theirs / ours < 10:
            sys.exit(1)


if __name__ == "__main__":
    main()
