/* test_linetable.c - omnipython's own decoder of the location table gives
 * the line CPython gives (PyCode_Addr2Line) at every instruction of every
 * code object compiled from a slice of the standard library. */
#include "runtime/pylayout.h"
#include "test/unit.h"

static const char *collect =
    "import argparse, asyncio.base_events, dataclasses, email.message, inspect, json.decoder\n"
    "import re._parser, statistics, textwrap, typing, unittest.case, zipfile\n"
    "mods = [argparse, asyncio.base_events, dataclasses, email.message, inspect,\n"
    "        json.decoder, re._parser, statistics, textwrap, typing, unittest.case, zipfile]\n"
    "codes = []\n"
    "def walk(co):\n"
    "    codes.append(co)\n"
    "    for c in co.co_consts:\n"
    "        if hasattr(c, 'co_code'):\n"
    "            walk(c)\n"
    "for m in mods:\n"
    "    with open(m.__file__, encoding='utf-8') as f:\n"
    "        walk(compile(f.read(), m.__file__, 'exec'))\n";

static long check_code(PyCodeObject *co) {
    PyObject *table = PyObject_GetAttrString((PyObject *)co, "co_linetable");
    PyObject *code = PyObject_GetAttrString((PyObject *)co, "co_code");
    CHECK(table && code && PyBytes_Check(table) && PyBytes_Check(code));
    if (!table || !code)
        return 0;
    Py_ssize_t units = PyBytes_GET_SIZE(code) / (Py_ssize_t)sizeof(_Py_CODEUNIT);
    int prev = co->co_firstlineno;
    long checked = 0;
    for (int off = 0; off < units; off++) {
        int theirs = PyCode_Addr2Line(co, off * (int)sizeof(_Py_CODEUNIT));
        int want = theirs >= 0 ? theirs : prev; /* no line: the one before */
        int got = omni_pyframe_line(PyBytes_AS_STRING(table), PyBytes_GET_SIZE(table),
                                    co->co_firstlineno, off);
        if (got != want) {
            fprintf(stderr, "%s:%d offset %d: line %d, CPython says %d\n",
                    PyUnicode_AsUTF8(co->co_filename), co->co_firstlineno, off, got, theirs);
            unit_failures++;
            break;
        }
        if (theirs >= 0)
            prev = theirs;
        checked++;
    }
    /* past the end: the last line */
    CHECK_INT(omni_pyframe_line(PyBytes_AS_STRING(table), PyBytes_GET_SIZE(table),
                                co->co_firstlineno, (int)units + 5), prev);
    Py_DECREF(table);
    Py_DECREF(code);
    return checked;
}

int main(void) {
    Py_InitializeEx(0);
    PyObject *g = PyDict_New();
    PyDict_SetItemString(g, "__builtins__", PyEval_GetBuiltins());
    PyObject *r = PyRun_String(collect, Py_file_input, g, g);
    if (!r)
        PyErr_Print();
    CHECK(r != NULL);
    Py_XDECREF(r);
    PyObject *codes = PyDict_GetItemString(g, "codes");
    CHECK(codes && PyList_Check(codes) && PyList_GET_SIZE(codes) > 1000);
    long instructions = 0;
    for (Py_ssize_t i = 0; codes && i < PyList_GET_SIZE(codes); i++)
        instructions += check_code((PyCodeObject *)PyList_GET_ITEM(codes, i));
    CHECK(instructions > 100000);
    fprintf(stderr, "%zd code objects, %ld instructions\n", codes ? PyList_GET_SIZE(codes) : 0,
            instructions);
    Py_DECREF(g);
    Py_FinalizeEx();
    UNIT_DONE();
}
