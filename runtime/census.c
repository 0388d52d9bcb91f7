/* census.c - the heap census: a breadth-first walk from the modules over
 * what each object refers to (its type's tp_traverse, as gc.get_referents
 * does; a class's own references are not followed, as they lead everywhere),
 * then over the collector's other objects. Each object reached is held
 * (a strong reference) until the end, is counted by type with its
 * sys.getsizeof size, and remembers the object it was first reached from,
 * so that the chain that keeps a wanted object alive can be read back. */
#define PY_SSIZE_T_CLEAN
#include "runtime/pylayout.h"

#include "runtime/census.h"

#include "runtime/clock.h"
#include "runtime/ownmem.h"
#include "runtime/pyerr.h"

#include <stdlib.h>
#include <string.h>

#define MAX_OBJECTS 5000000
#define ROOT 1 /* the parent of an object reached first (a module, a collector's object) */

/* Open addressing from an address to a value; key 0 is empty. A key and
 * its value share a cache line. */
typedef struct pentry {
    uintptr_t key, val;
} pentry_t;

typedef struct pmap {
    pentry_t *e;
    size_t cap, n;
} pmap_t;

static size_t slot(const pmap_t *m, uintptr_t k) {
    size_t i = (size_t)((k >> 4) * 0x9E3779B97F4A7C15ull >> 20) & (m->cap - 1);
    while (m->e[i].key && m->e[i].key != k)
        i = (i + 1) & (m->cap - 1);
    return i;
}

static int pmap_init(pmap_t *m, size_t cap) {
    *m = (pmap_t){omni_own_calloc(cap, sizeof *m->e), cap, 0};
    return m->e ? 0 : -1;
}

static void pmap_free(pmap_t *m) {
    omni_own_free(m->e);
}

static int pmap_grow(pmap_t *m) {
    pmap_t g;
    if (pmap_init(&g, m->cap * 2) < 0)
        return -1;
    g.n = m->n;
    for (size_t i = 0; i < m->cap; i++)
        if (m->e[i].key)
            g.e[slot(&g, m->e[i].key)] = m->e[i];
    pmap_free(m);
    *m = g;
    return 0;
}

/* Adds k -> v unless k is there; 1 when added, 0 when there, -1 memory. */
static int pmap_add(pmap_t *m, uintptr_t k, uintptr_t v) {
    if (2 * (m->n + 1) > m->cap && pmap_grow(m) < 0)
        return -1;
    size_t i = slot(m, k);
    if (m->e[i].key)
        return 0;
    m->e[i] = (pentry_t){k, v};
    m->n++;
    return 1;
}

static uintptr_t pmap_get(const pmap_t *m, uintptr_t k) {
    size_t i = slot(m, k);
    return m->e[i].key ? m->e[i].val : 0;
}

typedef struct walk {
    pmap_t parent;             /* object -> the object it was reached from (ROOT) */
    pmap_t types;              /* type -> index into counts */
    struct tcount {
        PyTypeObject *type;
        uint64_t count, bytes;
        int plain;             /* its __sizeof__ is object's: sized without a call */
    } *counts;
    PyObject *sizeof_name;     /* "__sizeof__" */
    size_t n_counts, cap_counts;
    PyObject **work;           /* strong references, in the order reached */
    size_t n_work, cap_work;
    PyObject *from;            /* the object being traversed */
    int failed;                /* out of memory: the walk stops short */
} walk_t;

/* Reaches o (from w->from): held, and queued. */
static int reach(walk_t *w, PyObject *o, uintptr_t from) {
    if (w->failed || w->n_work >= MAX_OBJECTS)
        return 0;
    /* A dead object that a traverse function still visits (3.12's _asyncio
     * walks its free list of future iterators): holding and letting go of
     * it would free it a second time, looping that list. */
    if (Py_REFCNT(o) <= 0)
        return 0;
    int added = pmap_add(&w->parent, (uintptr_t)o, from);
    if (added <= 0) {
        w->failed |= added < 0;
        return 0;
    }
    if (w->n_work == w->cap_work) {
        size_t cap = w->cap_work ? 2 * w->cap_work : 65536;
        PyObject **n = omni_own_realloc(w->work, cap * sizeof *n);
        if (!n) {
            w->failed = 1;
            return 0;
        }
        w->work = n, w->cap_work = cap;
    }
    Py_INCREF(o);
    w->work[w->n_work++] = o;
    return 1;
}

static int visit(PyObject *o, void *arg) {
    walk_t *w = arg;
    if (o)
        reach(w, o, (uintptr_t)w->from);
    return 0;
}

/* Whether t's instances are sized by object.__sizeof__ (their type's basic
 * size and items), so that sys.getsizeof needs no call into Python. */
static int plain_sizeof(walk_t *w, PyTypeObject *t) {
    PyObject *mine = _PyType_Lookup(t, w->sizeof_name);
    return mine && mine == _PyType_Lookup(&PyBaseObject_Type, w->sizeof_name);
}

/* sys.getsizeof(o): __sizeof__ and the collector's header. */
static uint64_t size_of(PyObject *o, int plain) {
    Py_ssize_t size;
    if (plain) {
        PyTypeObject *t = Py_TYPE(o);
        size = t->tp_basicsize + (t->tp_itemsize > 0 ? Py_SIZE(o) * t->tp_itemsize : 0) +
               omni_py_preheader_bytes(t);
    } else if ((size = (Py_ssize_t)_PySys_GetSizeOf(o)) < 0) {
        PyErr_Clear();
        size = 0;
    }
    return (uint64_t)size;
}

static void count(walk_t *w, PyObject *o) {
    PyTypeObject *t = Py_TYPE(o);
    uintptr_t k = pmap_get(&w->types, (uintptr_t)t);
    if (!k) {
        if (w->n_counts == w->cap_counts) {
            size_t cap = w->cap_counts ? 2 * w->cap_counts : 1024;
            struct tcount *n = omni_own_realloc(w->counts, cap * sizeof *n);
            if (!n) {
                w->failed = 1;
                return;
            }
            w->counts = n, w->cap_counts = cap;
        }
        if (pmap_add(&w->types, (uintptr_t)t, w->n_counts + 1) < 0) {
            w->failed = 1;
            return;
        }
        w->counts[w->n_counts++] = (struct tcount){t, 0, 0, plain_sizeof(w, t)};
        k = w->n_counts;
    }
    struct tcount *c = &w->counts[k - 1];
    c->count++;
    c->bytes += size_of(o, c->plain);
}

/* ---------------------------------------------------------------- by type */

typedef struct named {
    char name[128];
    uint64_t count, bytes;
} named_t;

static int by_name(const void *x, const void *y) {
    return strcmp(((const named_t *)x)->name, ((const named_t *)y)->name);
}

static int by_bytes(const void *x, const void *y) {
    const named_t *a = x, *b = y;
    if (a->bytes != b->bytes)
        return a->bytes < b->bytes ? 1 : -1;
    return strcmp(a->name, b->name);
}

/* A type's name as the census shows it: qualname, with its module unless
 * builtins. */
static void type_name(PyTypeObject *t, char *buf, size_t cap) {
    PyObject *q = PyType_GetQualName(t);
    PyObject *m = q ? PyObject_GetAttrString((PyObject *)t, "__module__") : NULL;
    const char *qs = q ? PyUnicode_AsUTF8(q) : NULL;
    const char *ms = m && PyUnicode_Check(m) ? PyUnicode_AsUTF8(m) : NULL;
    if (!qs)
        snprintf(buf, cap, "%s", t->tp_name);
    else if (!ms || !strcmp(ms, "builtins"))
        snprintf(buf, cap, "%s", qs);
    else
        snprintf(buf, cap, "%s.%s", ms, qs);
    Py_XDECREF(q);
    Py_XDECREF(m);
    PyErr_Clear();
}

/* The types with the most bytes, types of one name added up. */
static void top_types(walk_t *w, omni_census_t *out) {
    named_t *n = omni_own_calloc(w->n_counts + 1, sizeof *n);
    if (!n)
        return;
    for (size_t i = 0; i < w->n_counts; i++) {
        type_name(w->counts[i].type, n[i].name, sizeof n[i].name);
        n[i].count = w->counts[i].count;
        n[i].bytes = w->counts[i].bytes;
    }
    size_t k = 0;
    if (w->n_counts) {
        qsort(n, w->n_counts, sizeof *n, by_name);
        for (size_t i = 0; i < w->n_counts; i++)
            if (k && !strcmp(n[k - 1].name, n[i].name)) {
                n[k - 1].count += n[i].count;
                n[k - 1].bytes += n[i].bytes;
            } else {
                n[k++] = n[i];
            }
        qsort(n, k, sizeof *n, by_bytes);
    }
    for (size_t i = 0; i < k && out->n_types < OMNI_CENSUS_TYPES; i++) {
        struct omni_census_type *t = &out->types[out->n_types++];
        memcpy(t->name, n[i].name, sizeof t->name);
        t->count = n[i].count;
        t->bytes = n[i].bytes;
    }
    omni_own_free(n);
}

/* ---------------------------------------------------------------- chains */

/* The wanted node of an object's address, or -1. */
static int64_t wanted_node(const omni_census_want_t *want, int n_want, uintptr_t a) {
    for (int i = 0; i < n_want; i++)
        for (int k = 0; k < want[i].n; k++)
            if (a == want[i].addr[k] || a == want[i].addr[k] + 16)
                return want[i].node;
    return -1;
}

/* The chain that keeps o alive, as chain(path) words it (path: o, then what
 * reached it, up to a root). */
static void chain_of(walk_t *w, PyObject *chain_fn, PyObject *o, char *buf, size_t cap) {
    PyObject *path = PyList_New(0);
    uintptr_t x = (uintptr_t)o;
    for (int depth = 0; path && x && x != ROOT && depth < 14; depth++) {
        if (PyList_Append(path, (PyObject *)x) < 0)
            Py_CLEAR(path);
        x = pmap_get(&w->parent, x); /* held by the walk: alive */
    }
    PyObject *text = path ? PyObject_CallOneArg(chain_fn, path) : NULL;
    const char *s = text && PyUnicode_Check(text) ? PyUnicode_AsUTF8(text) : NULL;
    snprintf(buf, cap, "%s", s ? s : "");
    Py_XDECREF(text);
    Py_XDECREF(path);
    PyErr_Clear();
}

static PyObject *compile_chain(const char *code) {
    PyObject *globals = PyDict_New();
    PyObject *c = globals ? Py_CompileString(code, "<omnipython census>", Py_file_input) : NULL;
    PyObject *r = NULL, *fn = NULL;
    if (c && PyDict_SetItemString(globals, "__builtins__", PyEval_GetBuiltins()) == 0)
        r = PyEval_EvalCode(c, globals, globals);
    if (r)
        fn = PyDict_GetItemString(globals, "chain");
    Py_XINCREF(fn);
    Py_XDECREF(r);
    Py_XDECREF(c);
    Py_XDECREF(globals);
    return fn;
}

/* ---------------------------------------------------------------- the walk */

void omni_census_take(const omni_census_want_t *want, int n_want, double limit_s,
                      const char *chain_code, omni_census_t *out) {
    memset(out, 0, sizeof *out);
    PyObject *hooks = omni_audit_hooks_take(); /* the census is not the program's */
    uint64_t t0 = omni_clock_mono_ns(), limit_ns = (uint64_t)(limit_s * 1e9);
    walk_t w = {0};
    PyObject *gc = NULL, *tracked = NULL;
    w.sizeof_name = PyUnicode_InternFromString("__sizeof__");
    gc = w.sizeof_name ? PyImport_ImportModule("gc") : NULL;
    tracked = gc ? PyObject_CallMethod(gc, "get_objects", NULL) : NULL;
    if (!tracked || !PyList_Check(tracked)) {
        omni_pyerr_take(out->why, sizeof out->why, "the census failed: ", 0, "?");
        goto done;
    }
    /* room for about twice as many objects as the collector tracks (the
     * strings, numbers and other untracked objects they hold): few rehashes */
    size_t cap = 1u << 14;
    while (cap < 4 * (size_t)PyList_GET_SIZE(tracked) && cap < (1u << 24))
        cap *= 2;
    if (pmap_init(&w.parent, cap) < 0 || pmap_init(&w.types, 1024) < 0) {
        snprintf(out->why, sizeof out->why, "the census: out of memory");
        goto done;
    }
    PyObject *modules = PySys_GetObject("modules"); /* borrowed */
    PyObject *values = modules && PyDict_Check(modules) ? PyDict_Values(modules) : NULL;
    for (Py_ssize_t i = 0; values && i < PyList_GET_SIZE(values); i++)
        if (PyList_GET_ITEM(values, i) != Py_None)
            reach(&w, PyList_GET_ITEM(values, i), ROOT);
    Py_XDECREF(values);
    struct found {
        uint32_t node;
        PyObject *o;   /* held by the walk */
    } found[OMNI_CENSUS_CHAINS];
    int n_found = 0;
    Py_ssize_t j = 0;
    size_t i = 0;
    for (;;) {
        if (i == w.n_work) {
            /* what no module reaches: the rest of the collector's objects */
            while (j < PyList_GET_SIZE(tracked) &&
                   !reach(&w, PyList_GET_ITEM(tracked, j), ROOT) && !w.failed)
                j++;
            if (i == w.n_work)
                break;
        }
        PyObject *x = w.work[i++];
        count(&w, x);
        int64_t node = n_want ? wanted_node(want, n_want, (uintptr_t)x) : -1;
        if (node >= 0 && n_found < OMNI_CENSUS_CHAINS) {
            int dup = 0;
            for (int k = 0; k < n_found; k++)
                dup |= found[k].node == (uint32_t)node;
            if (!dup)
                found[n_found++] = (struct found){(uint32_t)node, x};
        }
        if (!PyType_Check(x) && PyObject_IS_GC(x) && Py_TYPE(x)->tp_traverse) {
            w.from = x;
            Py_TYPE(x)->tp_traverse(x, visit, &w);
        }
        if (w.failed || i >= MAX_OBJECTS ||
            ((i & 4095) == 0 && omni_clock_mono_ns() - t0 > limit_ns)) {
            out->partial = 1;
            break;
        }
    }
    out->objects = i;
    top_types(&w, out);
    PyObject *fn = n_found ? compile_chain(chain_code) : NULL;
    for (int k = 0; fn && k < n_found; k++) {
        struct omni_census_chain *c = &out->chains[out->n_chains];
        chain_of(&w, fn, found[k].o, c->text, sizeof c->text);
        if (c->text[0]) {
            c->node = found[k].node;
            out->n_chains++;
        }
    }
    Py_XDECREF(fn);
    if (PyErr_Occurred())
        omni_pyerr_take(out->why, sizeof out->why, "the census failed: ", 0, "?");
done:
    for (size_t k = 0; k < w.n_work; k++)
        Py_DECREF(w.work[k]);
    omni_own_free(w.work);
    omni_own_free(w.counts);
    pmap_free(&w.parent);
    pmap_free(&w.types);
    Py_XDECREF(tracked);
    Py_XDECREF(gc);
    Py_XDECREF(w.sizeof_name);
    omni_audit_hooks_put(hooks);
    out->seconds = (double)(omni_clock_mono_ns() - t0) / 1e9;
}
