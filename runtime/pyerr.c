/* pyerr.c - the pending Python exception as text. */
#include <Python.h>

#include "runtime/pyerr.h"

#include <stdio.h>

void omni_pyerr_take(char *buf, size_t cap, const char *prefix, int with_type,
                     const char *fallback) {
    PyObject *t, *v, *tb;
    PyErr_Fetch(&t, &v, &tb);
    PyErr_NormalizeException(&t, &v, &tb);
    PyObject *s = v ? PyObject_Str(v) : NULL;
    const char *m = s ? PyUnicode_AsUTF8(s) : NULL;
    const char *type = t ? ((PyTypeObject *)t)->tp_name : "error";
    snprintf(buf, cap, "%s%s%s%s", prefix, with_type ? type : "", with_type ? ": " : "",
             m ? m : fallback);
    PyErr_Clear(); /* what str() itself may have raised */
    Py_XDECREF(s);
    Py_XDECREF(t);
    Py_XDECREF(v);
    Py_XDECREF(tb);
}
