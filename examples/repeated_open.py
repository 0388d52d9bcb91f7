"""repeated_open: a settings file read again for every item processed."""
import json
import os
import tempfile


def setting(path, key):
    with open(path) as f:
        return json.load(f)[key]


def process(path, items):
    return [i * setting(path, "factor") for i in items]


if __name__ == "__main__":
    fd, path = tempfile.mkstemp(suffix=".json")
    with os.fdopen(fd, "w") as f:
        json.dump({"factor": 3}, f)
    try:
        print(sum(process(path, range(500))))
    finally:
        os.unlink(path)
