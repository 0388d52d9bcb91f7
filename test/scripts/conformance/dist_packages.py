import sys
import msgpack
print(msgpack.unpackb(msgpack.packb({"a": [1, 2]})))
print(any(p.endswith("dist-packages") for p in sys.path))
import json, decimal, sqlite3, ssl, ctypes, zlib, hashlib, lzma, bz2, _ctypes, array, select, mmap, readline, curses, pyexpat, unicodedata, _decimal
print("extensions ok", sqlite3.sqlite_version_info > (3,), hashlib.sha256(b"x").hexdigest()[:8])
