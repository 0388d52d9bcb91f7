/* omni_module.c - the omni module: a small C core (readings of the process,
 * the region store) and its Python layer (runtime/omni_api.py, compiled in).
 * Built twice from this file: into omnipython as a built-in module, and with
 * OMNI_EXTENSION as an extension module for plain python3, which measures
 * what can be measured without omnipython's hooks. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "hw/gpu.h"
#include "runtime/embedded.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef OMNI_EXTENSION
#include "runtime/clock.h"
#include "runtime/iocount.h"
#include "runtime/memtrack.h"
#include "runtime/monitor.h"
#include "runtime/regions.h"
#include "runtime/runtime.h"
#endif

extern const omni_embedded_file_t omni_omni_api[];

static uint64_t mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Bytes this module has read from /proc: /proc/self/io counts them as the
 * process's reads, and they are not the program's. */
static unsigned long long own_read_bytes;

/* A small /proc file into buf (NUL-terminated). Returns its length or -1. */
static ssize_t read_proc(const char *path, char *buf, size_t cap) {
#ifndef OMNI_EXTENSION
    int was = omni_iocount_ignore(1); /* nor the target's I/O under omnipython */
#endif
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = 0, k;
    while (fd >= 0 && (size_t)n + 1 < cap && (k = read(fd, buf + n, cap - 1 - (size_t)n)) > 0)
        n += k;
    if (fd >= 0)
        close(fd);
#ifndef OMNI_EXTENSION
    omni_iocount_ignore(was);
#endif
    own_read_bytes += (unsigned long long)n;
    buf[n] = 0;
    return fd < 0 ? -1 : n;
}

static double rss_bytes(void) {
    char buf[256];
    long pages, resident;
    if (read_proc("/proc/self/statm", buf, sizeof buf) < 0 ||
        sscanf(buf, "%ld %ld", &pages, &resident) != 2)
        return -1;
    return (double)resident * (double)sysconf(_SC_PAGESIZE);
}

/* /proc/self/io's rchar and wchar: every read and write, of any kind, less
 * this module's own reads. */
static int proc_io(unsigned long long *r, unsigned long long *w) {
    char buf[1024];
    unsigned long long own = own_read_bytes; /* rchar counts the reads before this one */
    if (read_proc("/proc/self/io", buf, sizeof buf) < 0)
        return -1;
    const char *rc = strstr(buf, "rchar: "), *wc = strstr(buf, "wchar: ");
    if (!rc || !wc)
        return -1;
    *r = strtoull(rc + 7, NULL, 10) - own;
    *w = strtoull(wc + 7, NULL, 10);
    return 0;
}

/* The GPU reading: the monitor's under omnipython; our own library handle
 * in plain python3. */
static int gpu_reading(omni_gpu_sample_t *g, uint64_t *vram) {
#ifdef OMNI_EXTENSION
    static int opened, ok;
    static omni_gpu_info_t info;
    if (!opened) {
        opened = 1;
        ok = omni_gpu_open(&info) == 0 && info.n > 0;
    }
    if (!ok || omni_gpu_sample(0, getpid(), g) < 0)
        return -1;
    *vram = info.dev[0].vram_bytes;
    return 0;
#else
    return omni_monitor_gpu_now(g, vram);
#endif
}

static PyObject *set_num(PyObject *d, const char *key, double v) {
    PyObject *x = v < 0 ? Py_NewRef(Py_None) : PyFloat_FromDouble(v);
    if (!x || PyDict_SetItemString(d, key, x) < 0) {
        Py_XDECREF(x);
        return NULL;
    }
    Py_DECREF(x);
    return d;
}

/* _snapshot() -> dict: the clock, the process's CPU and memory, its bytes
 * by kind, the GPU. */
static PyObject *snapshot(PyObject *self, PyObject *noargs) {
    (void)self, (void)noargs;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    PyObject *d = PyDict_New();
    if (!d)
        return NULL;
    PyObject *t = PyLong_FromUnsignedLongLong(mono_ns());
    if (!t || PyDict_SetItemString(d, "clock_ns", t) < 0)
        goto fail;
    Py_CLEAR(t);
    if (!set_num(d, "cpu_user_s", (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6) ||
        !set_num(d, "cpu_sys_s", (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6) ||
        !set_num(d, "rss_bytes", rss_bytes()) ||
        !set_num(d, "peak_rss_bytes", (double)ru.ru_maxrss * 1024.0))
        goto fail;
    /* allocation accounting's totals, when it runs */
    double allocated = -1, live = -1;
#ifndef OMNI_EXTENSION
    if (omni_memtrack_active()) {
        uint64_t l, peak;
        omni_memtrack_live(&l, &peak);
        live = (double)l;
        allocated = (double)omni_memtrack_allocated();
    }
#endif
    if (!set_num(d, "py_allocated_bytes", allocated) || !set_num(d, "py_live_bytes", live))
        goto fail;
    PyObject *io = PyDict_New();
    if (!io || PyDict_SetItemString(d, "io", io) < 0) {
        Py_XDECREF(io);
        goto fail;
    }
    Py_DECREF(io);
    int by_kind = 0;
#ifndef OMNI_EXTENSION
    if (omni_runtime_session_path()) {
        uint64_t bytes[16][2];
        const char *names[16];
        int n = omni_iocount_totals(bytes, names, 16);
        for (int k = 0; k < n; k++) {
            PyObject *v = Py_BuildValue("(KK)", (unsigned long long)bytes[k][0],
                                        (unsigned long long)bytes[k][1]);
            if (!v || PyDict_SetItemString(io, names[k], v) < 0) {
                Py_XDECREF(v);
                goto fail;
            }
            Py_DECREF(v);
        }
        by_kind = 1;
    }
#endif
    unsigned long long r, w;
    if (!by_kind && proc_io(&r, &w) == 0) {
        PyObject *v = Py_BuildValue("(KK)", r, w);
        if (!v || PyDict_SetItemString(io, "all", v) < 0) {
            Py_XDECREF(v);
            goto fail;
        }
        Py_DECREF(v);
    }
    omni_gpu_sample_t g;
    uint64_t vram = 0;
    PyObject *gpu = gpu_reading(&g, &vram) == 0
                        ? Py_BuildValue("{s:L,s:L,s:K,s:d}", "proc_mem_bytes",
                                        (long long)g.proc_mem_bytes, "mem_used_bytes",
                                        (long long)g.mem_used_bytes, "vram_bytes",
                                        (unsigned long long)vram, "util_pct", g.util_pct)
                        : Py_NewRef(Py_None);
    if (!gpu || PyDict_SetItemString(d, "gpu", gpu) < 0) {
        Py_XDECREF(gpu);
        goto fail;
    }
    Py_DECREF(gpu);
    return d;
fail:
    Py_XDECREF(t);
    Py_DECREF(d);
    return NULL;
}

/* _record(name, start_ns, end_ns, cpu_s, rss_start, rss_end, rss_peak,
 * read_bytes, write_bytes, flops, error): the region into the session. */
static PyObject *record(PyObject *self, PyObject *args) {
    (void)self;
    const char *name, *error;
    unsigned long long start, end;
    double cpu, r0, r1, rp, rb, wb, flops;
    if (!PyArg_ParseTuple(args, "sKKdddddddz", &name, &start, &end, &cpu, &r0, &r1, &rp, &rb,
                          &wb, &flops, &error))
        return NULL;
#ifndef OMNI_EXTENSION
    if (omni_runtime_session_path()) {
        omni_region_t r = {0};
        snprintf(r.name, sizeof r.name, "%s", name);
        snprintf(r.error, sizeof r.error, "%s", error ? error : "");
        r.tid = (int64_t)syscall(SYS_gettid);
        uint64_t base = omni_runtime_start_mono_ns();
        r.start_ns = start > base ? start - base : 0;
        r.end_ns = end > base ? end - base : 0;
        r.cpu_s = cpu;
        r.rss_start = r0, r.rss_end = r1, r.rss_peak = rp;
        r.read_bytes = rb, r.write_bytes = wb, r.flops = flops;
        omni_regions_add(&r);
    }
#else
    (void)name, (void)error, (void)start, (void)end, (void)cpu, (void)r0, (void)r1, (void)rp;
    (void)rb, (void)wb, (void)flops;
#endif
    Py_RETURN_NONE;
}

static PyObject *session_path(PyObject *self, PyObject *noargs) {
    (void)self, (void)noargs;
#ifndef OMNI_EXTENSION
    const char *p = omni_runtime_session_path();
    if (p)
        return PyUnicode_DecodeFSDefault(p);
#endif
    Py_RETURN_NONE;
}

static PyObject *in_omnipython(PyObject *self, PyObject *noargs) {
    (void)self, (void)noargs;
#ifdef OMNI_EXTENSION
    Py_RETURN_FALSE;
#else
    Py_RETURN_TRUE;
#endif
}

static PyMethodDef methods[] = {
    {"_snapshot", snapshot, METH_NOARGS, "The process's readings now (a dict)."},
    {"_record", record, METH_VARARGS, "Records a finished region in the session."},
    {"_session_path", session_path, METH_NOARGS, "The session file, or None."},
    {"_in_omnipython", in_omnipython, METH_NOARGS, "Whether omnipython runs this program."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "omni",
    "Named regions and their metrics, in programs run by omnipython (and, with fewer "
    "metrics, by python3).",
    -1, methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit_omni(void) {
    PyObject *m = PyModule_Create(&module);
    if (!m)
        return NULL;
    /* the Python layer runs in the module's namespace */
    PyObject *code = Py_CompileString(omni_omni_api[0].text, "<omni>", Py_file_input);
    PyObject *r = code ? PyEval_EvalCode(code, PyModule_GetDict(m), PyModule_GetDict(m)) : NULL;
    Py_XDECREF(code);
    if (!r) {
        Py_DECREF(m);
        return NULL;
    }
    Py_DECREF(r);
    return m;
}
