/* nativealloc.c - a tiny C extension for the native heap's tests: it
 * allocates with the C library's malloc and mmap, outside Python's
 * allocators, with or without the GIL. Built by the tests with cc. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define MAX_HELD 65536

static void *held[MAX_HELD];
static size_t n_held;
static PyThread_type_lock held_lock;

static void keep(size_t n, size_t size) {
    for (size_t i = 0; i < n; i++) {
        void *p = malloc(size);
        if (!p)
            continue;
        memset(p, 1, size); /* really in memory */
        PyThread_acquire_lock(held_lock, WAIT_LOCK);
        if (n_held < MAX_HELD)
            held[n_held++] = p;
        else
            free(p);
        PyThread_release_lock(held_lock);
    }
}

/* hold(n, size): n blocks of size bytes, kept until release(). */
static PyObject *hold(PyObject *self, PyObject *args) {
    Py_ssize_t n, size;
    if (!PyArg_ParseTuple(args, "nn", &n, &size))
        return NULL;
    keep((size_t)n, (size_t)size);
    Py_RETURN_NONE;
}

/* hold_nogil(n, size): the same with the GIL released. */
static PyObject *hold_nogil(PyObject *self, PyObject *args) {
    Py_ssize_t n, size;
    if (!PyArg_ParseTuple(args, "nn", &n, &size))
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    keep((size_t)n, (size_t)size);
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

/* churn(n, size): n blocks allocated and freed at once, without the GIL. */
static PyObject *churn(PyObject *self, PyObject *args) {
    Py_ssize_t n, size;
    if (!PyArg_ParseTuple(args, "nn", &n, &size))
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++) {
        char *p = malloc((size_t)size);
        if (p)
            p[0] = 1;
        p = realloc(p, (size_t)size * 2);
        free(p);
    }
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

static PyObject *release(PyObject *self, PyObject *args) {
    PyThread_acquire_lock(held_lock, WAIT_LOCK);
    for (size_t i = 0; i < n_held; i++)
        free(held[i]);
    n_held = 0;
    PyThread_release_lock(held_lock);
    Py_RETURN_NONE;
}

static void *mapped;
static size_t mapped_len;

/* map(size): an anonymous mapping of size bytes, touched. */
static PyObject *map(PyObject *self, PyObject *args) {
    Py_ssize_t size;
    if (!PyArg_ParseTuple(args, "n", &size))
        return NULL;
    void *p = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return PyErr_SetFromErrno(PyExc_OSError);
    memset(p, 1, (size_t)size);
    mapped = p;
    mapped_len = (size_t)size;
    Py_RETURN_NONE;
}

static PyObject *unmap(PyObject *self, PyObject *args) {
    if (mapped && munmap(mapped, mapped_len) != 0)
        return PyErr_SetFromErrno(PyExc_OSError);
    mapped = NULL;
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"hold", hold, METH_VARARGS, NULL},
    {"hold_nogil", hold_nogil, METH_VARARGS, NULL},
    {"churn", churn, METH_VARARGS, NULL},
    {"release", release, METH_NOARGS, NULL},
    {"map", map, METH_VARARGS, NULL},
    {"unmap", unmap, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "nativealloc", NULL, -1, methods};

PyMODINIT_FUNC PyInit_nativealloc(void) {
    held_lock = PyThread_allocate_lock();
    if (!held_lock)
        return PyErr_NoMemory();
    return PyModule_Create(&module);
}
