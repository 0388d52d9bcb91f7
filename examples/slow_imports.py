"""slow_imports: most of the run is the import of a module that builds a
table at module level (examples/slowlib)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import slowlib  # noqa: E402

if __name__ == "__main__":
    print(slowlib.nth_prime(12345))
