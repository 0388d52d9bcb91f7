"""A clean program: it does its work with the standard library's C code,
writes its output once, and finishes quickly. omnipython finds nothing."""
import collections
import json
import os
import tempfile


def main():
    words = ("alpha beta gamma delta epsilon zeta eta theta " * 20000).split()
    counts = collections.Counter(words)
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    fd, path = tempfile.mkstemp(suffix=".json")
    with os.fdopen(fd, "w") as f:
        json.dump(top, f)
    with open(path) as f:
        back = json.load(f)
    os.unlink(path)
    print(len(words), back[0])


if __name__ == "__main__":
    main()
