/* initwatch.c - 3.13's specialised __init__ calls, through sys.monitoring
 * (see initwatch.h). */
#include "runtime/initwatch.h"

#if OMNI_PY_INIT_HOLE

/* sys.monitoring's tool ids: 0 debugger, 1 coverage, 2 profiler (cProfile),
 * 5 optimizer; 3 and 4 are free, and CPython's own test_monitoring takes
 * 2, 3 and 4. No optimizer uses 5 in CPython 3.13. */
#define INITWATCH_TOOL 5

static struct {
    omni_initwatch_fn start, stop;
    PyObject *set_local_events; /* sys.monitoring.set_local_events */
    long events;                /* PY_START | PY_RETURN */
    int on;
} iw;

static PyObject *on_start(PyObject *self, PyObject *const *args, Py_ssize_t n) {
    iw.start(PyThreadState_Get());
    Py_RETURN_NONE;
}

static PyObject *on_stop(PyObject *self, PyObject *const *args, Py_ssize_t n) {
    iw.stop(PyThreadState_Get());
    Py_RETURN_NONE;
}

static PyMethodDef start_def = {"omnipython_init_start", (PyCFunction)(void (*)(void))on_start,
                                METH_FASTCALL, NULL};
static PyMethodDef stop_def = {"omnipython_init_stop", (PyCFunction)(void (*)(void))on_stop,
                               METH_FASTCALL, NULL};

static long event_bit(PyObject *events, const char *name) {
    PyObject *v = PyObject_GetAttrString(events, name);
    long bit = v ? PyLong_AsLong(v) : -1;
    Py_XDECREF(v);
    return bit;
}

static int registered(PyObject *mon, long bit, PyMethodDef *def) {
    PyObject *fn = PyCFunction_New(def, NULL);
    PyObject *r = fn ? PyObject_CallMethod(mon, "register_callback", "ilN", INITWATCH_TOOL, bit,
                                           fn)
                     : NULL;
    Py_XDECREF(r);
    return r ? 0 : -1;
}

int omni_initwatch_start(omni_initwatch_fn start, omni_initwatch_fn stop) {
    if (iw.on)
        return 0;
    iw.start = start;
    iw.stop = stop;
    PyObject *exc = PyErr_GetRaisedException();
    PyObject *mon = PyImport_ImportModule("sys");
    PyObject *m = mon ? PyObject_GetAttrString(mon, "monitoring") : NULL;
    Py_XDECREF(mon);
    PyObject *events = m ? PyObject_GetAttrString(m, "events") : NULL;
    long started = events ? event_bit(events, "PY_START") : -1;
    long ret = events ? event_bit(events, "PY_RETURN") : -1;
    Py_XDECREF(events);
    PyObject *r = m && started > 0 && ret > 0
                      ? PyObject_CallMethod(m, "use_tool_id", "is", INITWATCH_TOOL, "omnipython")
                      : NULL;
    Py_XDECREF(r);
    int ok = r && registered(m, started, &start_def) == 0 && registered(m, ret, &stop_def) == 0 &&
             (iw.set_local_events = PyObject_GetAttrString(m, "set_local_events")) != NULL;
    Py_XDECREF(m);
    PyErr_Clear();
    PyErr_SetRaisedException(exc);
    if (!ok)
        return -1;
    iw.events = started | ret;
    iw.on = 1;
    return 0;
}

void omni_initwatch_code(PyCodeObject *co) {
    if (!iw.on || !PyUnicode_Check(co->co_name) ||
        PyUnicode_CompareWithASCIIString(co->co_name, "__init__") != 0 ||
        (co->co_flags & (CO_GENERATOR | CO_COROUTINE | CO_ASYNC_GENERATOR)))
        return;
    PyObject *exc = PyErr_GetRaisedException();
    PyObject *r = PyObject_CallFunction(iw.set_local_events, "iOl", INITWATCH_TOOL,
                                        (PyObject *)co, iw.events);
    Py_XDECREF(r);
    PyErr_Clear();
    PyErr_SetRaisedException(exc);
}

#else

int omni_initwatch_start(omni_initwatch_fn start, omni_initwatch_fn stop) {
    (void)start, (void)stop;
    return 0;
}

void omni_initwatch_code(PyCodeObject *co) {
    (void)co;
}

#endif
