/* bare_python.c - CPython and nothing else, linked as omnipython links it
 * (omni_link_python: the same libpython, static or shared, the same flags):
 * test/bench/instructions.py measures what the build costs against the
 * distribution's python3.X apart from what omnipython adds. */
#include <Python.h>

int main(int argc, char **argv) {
    return Py_BytesMain(argc, argv);
}
