# omni_api.py - the omni module's Python layer, compiled into omnipython and
# into the extension module; it runs in the module's namespace, on top of the
# C core's _snapshot, _record, _session_path and _in_omnipython.
"""Named regions of a program and their metrics.

    import omni

    @omni.profile()                      # or @omni.profile("name")
    def step(batch): ...

    with omni.profile("load") as region:
        data = load()
    print(region.metrics.summary())
    omni.metrics("load").timing.wall_time_s
    omni.timing_breakdown()              # {"load": 0.81, "step": 2.4}

Under omnipython each region is also recorded in the session (its timeline,
the reports); under plain python3 (the extension module) the same API
measures what can be measured without omnipython and says what is missing.
"""
import functools as _functools
import sys as _sys
import threading as _threading

__all__ = ["profile", "metrics", "timing_breakdown", "current_memory", "current_gpu_memory",
           "has_results", "session_path", "Metrics"]

_MB = 1024.0 * 1024.0
_lock = _threading.Lock()
_last = {}            # name -> the Metrics of its last finished region
_last_any = [None]
_seconds = {}         # name -> wall seconds of its finished regions
_MAX_NAMES = 10000

_NO_ALLOC = ("allocation accounting is off: run under omnipython with --memory or "
             "--mode full (the peak and final resident memory are measured)")
_NO_COUNTERS = ("hardware counters: not read per region by this version of omnipython "
                "(the session's counters cover the whole run)")


class _Section(dict):
    """A dict whose keys are also attributes: metrics.timing.wall_time_s."""

    def __getattr__(self, key):
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None


class Metrics:
    """The metrics of one finished region: timing, memory, compute and io
    (sections; a value that was not measured is None, and missing says why)."""

    __slots__ = ("name", "timing", "memory", "compute", "io", "missing", "error")

    def __init__(self, name, timing, memory, compute, io, missing, error):
        self.name = name
        self.timing = _Section(timing)
        self.memory = _Section(memory)
        self.compute = _Section(compute)
        self.io = _Section(io)
        self.missing = dict(missing)
        self.error = error

    def to_dict(self):
        return {"name": self.name, "timing": dict(self.timing), "memory": dict(self.memory),
                "compute": dict(self.compute), "io": {k: dict(v) for k, v in self.io.items()},
                "missing": dict(self.missing), "error": self.error}

    def summary(self):
        t, m, c = self.timing, self.memory, self.compute
        parts = ["%s: %.3f s wall, %.3f s CPU" % (self.name, t.wall_time_s, t.cpu_time_s)]
        if c.cpu_utilization_percent is not None:
            parts[0] += " (%.0f%%)" % c.cpu_utilization_percent
        if m.peak_ram_mb is not None:
            parts.append("peak %.1f MB RAM" % m.peak_ram_mb)
        if m.peak_gpu_mb is not None:
            parts.append("%.1f MB on the GPU" % m.peak_gpu_mb)
        if c.estimated_flops is not None:
            parts.append("%.3g FLOP (%.3g FLOP/s)" % (c.estimated_flops, c.flops_per_s or 0))
        read = sum(v["read_bytes"] for v in self.io.values())
        written = sum(v["write_bytes"] for v in self.io.values())
        parts.append("read %s, wrote %s" % (_bytes(read), _bytes(written)))
        if self.error:
            parts.append("ended by %s" % self.error)
        return ", ".join(parts)

    def __repr__(self):
        return "<omni.Metrics %s>" % self.summary()


def _bytes(n):
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return ("%.0f %s" if unit == "B" else "%.1f %s") % (n, unit)
        n /= 1024.0


def _flop_counter():
    """PyTorch's FLOP counter when the program uses torch, else (None, why)."""
    torch = _sys.modules.get("torch")
    if torch is None:
        return None, ("estimate_flops: the program has not imported torch, and hardware "
                      "floating-point counters are not read per region")
    try:
        from torch.utils.flop_counter import FlopCounterMode
        fc = FlopCounterMode(display=False)
        fc.__enter__()
        return fc, None
    except Exception as e:  # an old torch, or one without the counter
        return None, "estimate_flops: torch.utils.flop_counter failed: %r" % (e,)


class _Region:
    """omni.profile(name): a context manager and a decorator."""

    def __init__(self, name, estimate_flops):
        if name is not None and not isinstance(name, str):
            raise TypeError("omni.profile's name must be a string, not %s"
                            % type(name).__name__)
        self.name = name
        self.estimate_flops = bool(estimate_flops)
        self.metrics = None
        self._stack = _threading.local()

    def __call__(self, fn):
        if not callable(fn):
            raise TypeError("omni.profile() decorates a function, not %r" % (fn,))
        name = self.name or getattr(fn, "__qualname__", None) or repr(fn)
        flops = self.estimate_flops

        @_functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with _Region(name, flops):
                return fn(*args, **kwargs)
        return wrapper

    def __enter__(self):
        if self.name is None:
            self.name = "region"
        fc, why = _flop_counter() if self.estimate_flops else (None, None)
        stack = getattr(self._stack, "s", None)
        if stack is None:
            stack = self._stack.s = []
        stack.append((_snapshot(), fc, why))
        return self

    def __exit__(self, etype, evalue, tb):
        end = _snapshot()
        start, fc, why = self._stack.s.pop()
        flops = None
        if fc is not None:
            try:
                fc.__exit__(None, None, None)
                flops = float(fc.get_total_flops())
            except Exception as e:
                why = "estimate_flops: torch.utils.flop_counter failed: %r" % (e,)
        error = etype.__name__ if etype is not None else None
        m = _metrics(self.name, start, end, flops, why, error)
        self.metrics = m
        with _lock:
            _last[self.name] = m
            _last_any[0] = m
            if self.name in _seconds or len(_seconds) < _MAX_NAMES:
                _seconds[self.name] = _seconds.get(self.name, 0.0) + m.timing.wall_time_s
        io_r = sum(v["read_bytes"] for v in m.io.values())
        io_w = sum(v["write_bytes"] for v in m.io.values())
        peak = m.memory.peak_ram_mb
        _record(self.name, start["clock_ns"], end["clock_ns"], m.timing.cpu_time_s,
                start["rss_bytes"] or 0.0, end["rss_bytes"] or 0.0,
                peak * _MB if peak is not None else 0.0, float(io_r), float(io_w),
                flops if flops is not None else -1.0, error)
        return False      # an exception goes on, unchanged


def _metrics(name, a, b, flops, flops_why, error):
    wall = (b["clock_ns"] - a["clock_ns"]) / 1e9
    user = b["cpu_user_s"] - a["cpu_user_s"]
    system = b["cpu_sys_s"] - a["cpu_sys_s"]
    cpu = user + system
    missing = {"instructions": _NO_COUNTERS, "ipc": _NO_COUNTERS}
    allocated = leak = None
    if a["py_allocated_bytes"] is not None and b["py_allocated_bytes"] is not None:
        allocated = (b["py_allocated_bytes"] - a["py_allocated_bytes"]) / _MB
        # still alive when the region ended: more than 1 MB and 10% more than
        # was alive when it began
        grown = b["py_live_bytes"] - a["py_live_bytes"]
        leak = grown > max(_MB, 0.1 * a["py_live_bytes"])
    else:
        missing["allocated_mb"] = missing["memory_leak_detected"] = _NO_ALLOC
    # the process's peak, when it was reached inside the region; else the
    # larger of the resident sizes at the start and the end
    rss0, rss1 = a["rss_bytes"], b["rss_bytes"]
    peak = max(rss0 or 0, rss1 or 0)
    if b["peak_rss_bytes"] > a["peak_rss_bytes"]:
        peak = max(peak, b["peak_rss_bytes"])
    ga, gb = a["gpu"], b["gpu"]
    if gb is None:
        missing["peak_gpu_mb"] = missing["gpu_utilization_percent"] = (
            "no GPU reading (no GPU, no driver, or the monitor has not read it yet)")
        peak_gpu = gpu_util = None
    else:
        used = [g["proc_mem_bytes"] for g in (ga, gb) if g is not None and g["proc_mem_bytes"] >= 0]
        peak_gpu = max(used) / _MB if used else None
        gpu_util = gb["util_pct"] if gb["util_pct"] >= 0 else None
    if flops is None:
        missing["estimated_flops"] = flops_why or "estimate_flops was not asked for"
    if not _in_omnipython():
        missing["io_by_kind"] = ("bytes by kind (file, socket, pipe) need omnipython; "
                                 "python3 gives all reads and writes together")
    io = {}
    for kind in set(a["io"]) | set(b["io"]):
        ra, wa = a["io"].get(kind, (0, 0))
        rb, wb = b["io"].get(kind, (0, 0))
        if rb - ra or wb - wa or kind in ("file", "all"):
            io[kind] = _Section(read_bytes=rb - ra, write_bytes=wb - wa)
    timing = {"wall_time_s": wall, "cpu_time_s": cpu, "user_time_s": user, "system_time_s": system}
    memory = {"peak_ram_mb": peak / _MB if peak else None,
              "final_ram_mb": rss1 / _MB if rss1 is not None else None,
              "initial_ram_mb": rss0 / _MB if rss0 is not None else None,
              "allocated_mb": allocated, "peak_gpu_mb": peak_gpu, "memory_leak_detected": leak}
    compute = {"cpu_utilization_percent": 100.0 * cpu / wall if wall > 0 else None,
               "gpu_utilization_percent": gpu_util, "instructions": None, "ipc": None,
               "estimated_flops": flops,
               "flops_per_s": flops / wall if flops is not None and wall > 0 else None}
    return Metrics(name, timing, memory, compute, io, missing, error)


def profile(name=None, estimate_flops=False):
    """A named region: `with omni.profile("name") as region:` or, on a
    function, `@omni.profile()` / `@omni.profile("name")` (the name defaults
    to the function's qualified name). Nesting and threads are allowed; a
    region that raises is recorded and the exception propagates unchanged.
    estimate_flops=True counts the floating-point operations of PyTorch's
    operations in the region (torch.utils.flop_counter)."""
    if callable(name):          # @omni.profile without parentheses
        return _Region(None, estimate_flops)(name)
    return _Region(name, estimate_flops)


def metrics(name=None):
    """The Metrics of the last finished region called name (of any name when
    None), or None when there is none."""
    with _lock:
        return _last_any[0] if name is None else _last.get(name)


def timing_breakdown():
    """{region name: wall seconds of all its finished regions}."""
    with _lock:
        return dict(_seconds)


def has_results():
    """Whether a region has finished."""
    return _last_any[0] is not None


def current_memory():
    """The process's resident memory now, in MB."""
    r = _snapshot()["rss_bytes"]
    return r / _MB if r is not None else None


def current_gpu_memory():
    """The fraction (0-1) of the GPU's memory in use now (the GPU this process
    uses most), or None without a GPU."""
    g = _snapshot()["gpu"]
    if g is None or g["vram_bytes"] <= 0 or g["mem_used_bytes"] < 0:
        return None
    return g["mem_used_bytes"] / float(g["vram_bytes"])


def session_path():
    """The session file omnipython writes for this process, or None."""
    return _session_path()
