import warnings
warnings.warn("a user warning")
warnings.warn("deprecated here", DeprecationWarning)
def f():
    warnings.warn("from a function", RuntimeWarning, stacklevel=2)
f()
print("end")
