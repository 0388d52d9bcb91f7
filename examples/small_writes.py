"""small_io_ops: records written to an unbuffered file a few bytes at a time
(one system call each)."""
import os
import tempfile


def save(path, records):
    with open(path, "wb", buffering=0) as f:
        for r in records:
            f.write(b"%d," % r)


if __name__ == "__main__":
    fd, path = tempfile.mkstemp()
    os.close(fd)
    try:
        save(path, range(20000))
        print(os.path.getsize(path))
    finally:
        os.unlink(path)
