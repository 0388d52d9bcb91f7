# Another user of co_extra (a debugger, a JIT, test_code's CoExtra): its free
# function is called for the code objects it set a slot on, and for no other.
import ctypes
import gc

py = ctypes.pythonapi
freefunc = ctypes.CFUNCTYPE(None, ctypes.c_void_p)
request = py._PyEval_RequestCodeExtraIndex
request.argtypes = (freefunc,)
request.restype = ctypes.c_ssize_t
set_extra = py._PyCode_SetExtra
set_extra.argtypes = (ctypes.py_object, ctypes.c_ssize_t, ctypes.c_void_p)
set_extra.restype = ctypes.c_int

freed = []
FREE = freefunc(freed.append)
index = request(FREE)

ns = {}
exec("def run_me():\n    return 1\n", ns)
ns["run_me"]()          # a code object that ran: a profiler saw it
marked = {}
exec("def marked():\n    return 2\n", marked)
marked["marked"]()
set_extra(marked["marked"].__code__, index, 42)
del ns, marked
gc.collect()
print("free function called for", freed)
