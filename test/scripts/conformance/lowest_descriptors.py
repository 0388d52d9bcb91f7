# The numbers a program's first descriptors get: the lowest free ones, one
# after another, whatever the interpreter holds for itself.
import os
import tempfile

fd, path = tempfile.mkstemp()
second = os.dup(fd)
r, w = os.pipe()
print(fd, second, r, w)
for x in (fd, second, r, w):
    os.close(x)
os.unlink(path)
