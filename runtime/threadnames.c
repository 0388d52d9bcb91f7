/* threadnames.c - the names the target's threads start with (threadnames.h). */
#define _GNU_SOURCE
#include "runtime/pylayout.h"

#include "runtime/threadnames.h"

#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Slots by thread id (its low bits); a slot's seq is odd while written. */
#define SLOTS 4096

static struct slot {
    unsigned seq;
    long tid;
    char name[OMNI_THREAD_NAME_MAX];
} slots[SLOTS];

static int enabled;

void omni_thread_names_enable(void) {
    __atomic_store_n(&enabled, 1, __ATOMIC_RELEASE);
}

int omni_thread_name_in_frame(omni_pyframe_t *f, const char *method,
                              char out[OMNI_THREAD_NAME_MAX]) {
    PyCodeObject *co = omni_pyframe_code(f);
    if (co->co_argcount < 1 || !PyUnicode_Check(co->co_name) ||
        PyUnicode_CompareWithASCIIString(co->co_name, method) != 0)
        return 0;
    PyObject *self = omni_pyframe_first_local(f);
    if (!self)
        return 0;
    PyObject *et, *ev, *tb;
    PyErr_Fetch(&et, &ev, &tb);
    PyObject *name = PyObject_GetAttrString(self, "_name");
    const char *u = name && PyUnicode_Check(name) ? PyUnicode_AsUTF8(name) : NULL;
    if (u)
        snprintf(out, OMNI_THREAD_NAME_MAX, "%s", u);
    Py_XDECREF(name);
    PyErr_Clear();
    PyErr_Restore(et, ev, tb);
    return u != NULL;
}

/* Whether code's file is the threading module's. */
static int in_threading(PyCodeObject *co) {
    const char *file = PyUnicode_Check(co->co_filename) ? PyUnicode_AsUTF8(co->co_filename) : NULL;
    if (!file)
        PyErr_Clear();
    return omni_is_threading_file(file);
}

void omni_thread_name_starting(char name[OMNI_THREAD_NAME_MAX]) {
    name[0] = 0;
    if (!__atomic_load_n(&enabled, __ATOMIC_ACQUIRE))
        return;
    /* this thread holds the GIL: its thread state is the one attached */
    PyThreadState *ts = PyGILState_GetThisThreadState();
    if (!ts || ts != omni_py_tstate_unchecked() || omni_py_finalizing())
        return;
    omni_pyframe_t *f = omni_py_current_frame(ts);
    while (f && omni_pyframe_is_shim(f))
        f = f->previous;
    /* Thread.start calls _thread's start_new_thread (3.13+:
     * start_joinable_thread), a C function: no frame of its own */
    if (!f || !in_threading(omni_pyframe_code(f)) || !omni_thread_name_in_frame(f, "start", name))
        name[0] = 0;
}

void omni_thread_name_begins(const char name[OMNI_THREAD_NAME_MAX]) {
    if (!__atomic_load_n(&enabled, __ATOMIC_ACQUIRE))
        return;
    long tid = (long)syscall(SYS_gettid);
    struct slot *s = &slots[(unsigned long)tid % SLOTS];
    unsigned q = __atomic_load_n(&s->seq, __ATOMIC_RELAXED);
    /* another thread of the same low bits writing now: this name is lost */
    if ((q & 1) ||
        !__atomic_compare_exchange_n(&s->seq, &q, q + 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
        return;
    __atomic_store_n(&s->tid, tid, __ATOMIC_RELAXED);
    for (size_t i = 0; i < OMNI_THREAD_NAME_MAX; i++)
        __atomic_store_n(&s->name[i], name[i], __ATOMIC_RELAXED);
    __atomic_store_n(&s->seq, q + 2, __ATOMIC_RELEASE);
}

int omni_thread_name_of(long tid, char out[OMNI_THREAD_NAME_MAX]) {
    if (tid <= 0)
        return 0;
    struct slot *s = &slots[(unsigned long)tid % SLOTS];
    unsigned a = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);
    if (a & 1)
        return 0;
    long who = __atomic_load_n(&s->tid, __ATOMIC_RELAXED);
    char copy[OMNI_THREAD_NAME_MAX];
    for (size_t i = 0; i < OMNI_THREAD_NAME_MAX; i++)
        copy[i] = __atomic_load_n(&s->name[i], __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if (__atomic_load_n(&s->seq, __ATOMIC_RELAXED) != a || who != tid || !copy[0])
        return 0;
    copy[OMNI_THREAD_NAME_MAX - 1] = 0;
    memcpy(out, copy, OMNI_THREAD_NAME_MAX);
    return 1;
}
