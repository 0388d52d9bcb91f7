/* pylayout.h - the one place that knows the embedded CPython's internal
 * layouts (frames, the frame-evaluation hook, lifecycle flags). Everything
 * version-specific that the runtime reads from the interpreter goes through
 * these helpers, compiled against the headers of the exact libpython linked. */
#ifndef OMNI_PYLAYOUT_H
#define OMNI_PYLAYOUT_H

#ifndef Py_BUILD_CORE
#define Py_BUILD_CORE 1
#endif
#include <Python.h>
#if PY_VERSION_HEX < 0x030D0000
#include <internal/pycore_atomic.h>
#endif
#include <internal/pycore_code.h>
#include <internal/pycore_frame.h>
#include <internal/pycore_interp.h>
#include <internal/pycore_object.h>
#include <opcode.h>
#include <internal/pycore_runtime.h>
#if PY_VERSION_HEX >= 0x030D0000
#include <internal/pycore_sysmodule.h> /* _PySys_GetSizeOf, public before 3.13 */
#endif

#if PY_VERSION_HEX >= 0x030E0000
#include <internal/pycore_genobject.h>
#include <internal/pycore_interpframe.h>
#include <internal/pycore_stackref.h>
#endif

#if PY_VERSION_HEX < 0x030B0000 || PY_VERSION_HEX >= 0x030F0000
#error "omnipython's runtime knows the frame layouts of CPython 3.11 to 3.14 only"
#endif
#ifdef Py_GIL_DISABLED
#error "a free-threaded CPython (3.13t): omnipython needs the GIL's layout (see the README)"
#endif

typedef struct _PyInterpreterFrame omni_pyframe_t;

/* A frame's code object, and the instruction it executes (3.13: the code is
 * f_executable, a PyObject; instr_ptr replaced prev_instr; 3.14: frames hold
 * _PyStackRef, a pointer whose low bits are tags, masked here so that a
 * frame copied by the sampler reads as well as a live one). */
#if PY_VERSION_HEX >= 0x030E0000
#define OMNI_STACKREF_OBJ(r) ((PyObject *)((r).bits & ~(uintptr_t)Py_TAG_BITS))
#define OMNI_F_CODE(f) ((PyCodeObject *)OMNI_STACKREF_OBJ((f)->f_executable))
#define OMNI_F_LOCAL(f, i) OMNI_STACKREF_OBJ((f)->localsplus[i])
#define OMNI_F_INSTR(f) ((f)->instr_ptr)
#define OMNI_INSTR_OPCODE(i) ((i)->op.code)
#elif PY_VERSION_HEX >= 0x030D0000
#define OMNI_F_CODE(f) ((PyCodeObject *)(f)->f_executable)
#define OMNI_F_LOCAL(f, i) ((f)->localsplus[i])
#define OMNI_F_INSTR(f) ((f)->instr_ptr)
#define OMNI_INSTR_OPCODE(i) ((i)->op.code)
#else
#define OMNI_F_CODE(f) ((f)->f_code)
#define OMNI_F_LOCAL(f, i) ((f)->localsplus[i])
#define OMNI_F_INSTR(f) ((f)->prev_instr)
#define OMNI_INSTR_OPCODE(i) _Py_OPCODE(*(i))
#endif

/* CPython 3.13's CALL_ALLOC_AND_ENTER_INIT (a call to a class whose
 * __init__ is a simple Python function, once specialised) pushes __init__'s
 * frame inside the running evaluation without checking for a
 * frame-evaluation hook, so those calls never reach it; 3.12 has no such
 * instruction and 3.14 checks (_CHECK_PEP_523). initwatch.c sees them. */
#if PY_VERSION_HEX >= 0x030D0000 && PY_VERSION_HEX < 0x030E0000
#define OMNI_PY_INIT_HOLE 1
#else
#define OMNI_PY_INIT_HOLE 0
#endif

/* CPython 3.13's os.fork warns about a multi-threaded process after the
 * after_in_parent callbacks (3.12 and 3.14: before them), counting the
 * process's threads in /proc/self/stat: omnipython keeps its own threads out
 * of that count until the warning has read it (lifecycle.c). */
#define OMNI_PY_FORK_WARNS_LATE (PY_VERSION_HEX >= 0x030D0000 && PY_VERSION_HEX < 0x030E0000)

/* What lies in front of an object of type t (the collector's header, a
 * managed dict's pointers), which sys.getsizeof adds to __sizeof__. */
static inline Py_ssize_t omni_py_preheader_bytes(PyTypeObject *t) {
    return (Py_ssize_t)_PyType_PreHeaderSize(t);
}

/* The code object a frame executes (borrowed: the frame holds a strong reference). */
static inline PyCodeObject *omni_pyframe_code(omni_pyframe_t *f) {
    return OMNI_F_CODE(f);
}

/* The frame's first local variable (the first argument of a call: `self`
 * for a method), borrowed; NULL when unset. */
static inline PyObject *omni_pyframe_first_local(omni_pyframe_t *f) {
    return OMNI_F_CODE(f)->co_nlocalsplus > 0 ? OMNI_F_LOCAL(f, 0) : NULL;
}

/* A code object's extra slots (co_extra), as Objects/codeobject.c lays them
 * out in 3.11 and 3.12. Read directly: the frame hook looks its slot up on
 * every call, and _PyCode_GetExtra is a function call with checks. */
typedef struct {
    Py_ssize_t ce_size;
    void *ce_extras[1];
} omni_code_extra_t;

static inline void *omni_code_extra(PyCodeObject *co, Py_ssize_t index) {
    omni_code_extra_t *ce = (omni_code_extra_t *)co->co_extra;
    return ce && index < ce->ce_size ? ce->ce_extras[index] : NULL;
}

/* The interpreter's Python audit hooks (sys.addaudithook's list), taken away
 * while omnipython looks at the interpreter itself (the census's
 * gc.get_objects at the end of a --memory run) and put back after: the
 * program's hooks see only what the program does (test_audit's gc case saw
 * the census's events). Same field in 3.11 and 3.12. */
static inline PyObject *omni_audit_hooks_take(void) {
    PyInterpreterState *interp = PyInterpreterState_Get();
    PyObject *hooks = interp->audit_hooks;
    interp->audit_hooks = NULL;
    return hooks;
}

static inline void omni_audit_hooks_put(PyObject *hooks) {
    PyInterpreterState_Get()->audit_hooks = hooks;
}

/* Sets slot index of a code object. The array a code object without one gets
 * is made just long enough for index, as another user's _PyCode_SetExtra
 * would make it: _PyCode_SetExtra sizes it for every slot requested so far,
 * and code_dealloc calls each free function of the array's length, with NULL
 * for an unset slot, so a free function requested after ours would be called
 * for every code object we saw (test_code's CoExtra: a callback into a module
 * torn down at exit, which crashed). Returns 0, or -1 with an exception set. */
static inline int omni_code_extra_set(PyCodeObject *co, Py_ssize_t index, void *v) {
    omni_code_extra_t *ce = (omni_code_extra_t *)co->co_extra;
    if (ce && index < ce->ce_size) {
        ce->ce_extras[index] = v;
        return 0;
    }
    if (ce)
        return _PyCode_SetExtra((PyObject *)co, index, v);
    ce = PyMem_Malloc(sizeof *ce + (size_t)index * sizeof(void *));
    if (!ce) {
        PyErr_NoMemory();
        return -1;
    }
    ce->ce_size = index + 1;
    for (Py_ssize_t i = 0; i < index; i++)
        ce->ce_extras[i] = NULL;
    ce->ce_extras[index] = v;
    co->co_extra = ce;
    return 0;
}

/* 3.12 counts C recursion apart from Python's, against a fixed limit
 * (Py_C_RECURSION_LIMIT, 8000 in 3.12.3, that sys.setrecursionlimit does
 * not raise), and the default evaluation function spends two units each time
 * it is entered (PY_EVAL_C_STACK_UNITS, private to ceval.c). python3.12 runs
 * a Python call inside the caller's evaluation and spends none; under the
 * frame hook every Python call enters it anew, so that a recursion
 * python3.12 runs to sys.getrecursionlimit() would stop near 4000 deep. The
 * hook hands the units back for the call's duration (the C stack itself is
 * the stack segments' care: stackswitch.h). */
#define OMNI_PY_EVAL_C_UNITS 2
static inline void omni_py_c_recursion_give(PyThreadState *ts, int entered) {
#if PY_VERSION_HEX >= 0x030E0000
    /* 3.14 measures the C stack itself (stack pointer against limits). */
    (void)ts, (void)entered;
#elif PY_VERSION_HEX >= 0x030C0000
    ts->c_recursion_remaining += entered * OMNI_PY_EVAL_C_UNITS;
#else
    (void)ts, (void)entered;
#endif
}

/* Entry frames created by the interpreter for itself (3.12's shim frames;
 * 3.14's are owned by the interpreter, and FRAME_OWNED_BY_CSTACK moved)
 * are not the target's calls. */
static inline int omni_pyframe_is_shim(omni_pyframe_t *f) {
#if PY_VERSION_HEX >= 0x030E0000
    return f->owner >= FRAME_OWNED_BY_INTERPRETER;
#elif PY_VERSION_HEX >= 0x030C0000
    return f->owner == FRAME_OWNED_BY_CSTACK;
#else
    (void)f;
    return 0;
#endif
}

/* Calling a generator, coroutine or async generator function evaluates its
 * frame once just to create the generator object (RETURN_GENERATOR), before
 * the frame belongs to the generator. cProfile does not count that step as a
 * call, only the resumptions that follow. */
static inline int omni_pyframe_is_generator_creation(omni_pyframe_t *f) {
    return (OMNI_F_CODE(f)->co_flags & (CO_GENERATOR | CO_COROUTINE | CO_ASYNC_GENERATOR)) &&
           f->owner != FRAME_OWNED_BY_GENERATOR;
}

/* A coroutine's frame (async def, or a generator-based coroutine) resumed
 * by its coroutine object: the frame lives in that object, so its address
 * names the coroutine for as long as it lives. */
static inline int omni_pyframe_is_coroutine(omni_pyframe_t *f) {
    return (OMNI_F_CODE(f)->co_flags & (CO_COROUTINE | CO_ITERABLE_COROUTINE)) &&
           f->owner == FRAME_OWNED_BY_GENERATOR;
}

/* Its first resumption: the frame still stands at the RETURN_GENERATOR
 * that made the coroutine object. */
static inline int omni_pyframe_coroutine_starting(omni_pyframe_t *f) {
#if PY_VERSION_HEX >= 0x030D0000
    /* 3.13: the instruction pointer moved past it */
    _Py_CODEUNIT *i = OMNI_F_INSTR(f);
    return i && i > _PyCode_CODE(OMNI_F_CODE(f)) && OMNI_INSTR_OPCODE(i - 1) == RETURN_GENERATOR;
#else
    return OMNI_F_INSTR(f) && OMNI_INSTR_OPCODE(OMNI_F_INSTR(f)) == RETURN_GENERATOR;
#endif
}

/* After the evaluation of a coroutine's frame returned: it yielded (it
 * awaits something) rather than finished. 3.13 marks an await (yield from)
 * FRAME_SUSPENDED_YIELD_FROM. */
static inline int omni_pyframe_coroutine_suspended(omni_pyframe_t *f) {
#if PY_VERSION_HEX >= 0x030E0000
    return FRAME_STATE_SUSPENDED(_PyGen_GetGeneratorFromFrame(f)->gi_frame_state);
#elif PY_VERSION_HEX >= 0x030D0000
    return FRAME_STATE_SUSPENDED(_PyFrame_GetGenerator(f)->gi_frame_state);
#else
    return _PyFrame_GetGenerator(f)->gi_frame_state == FRAME_SUSPENDED;
#endif
}

/* The instruction offset (code units) a live frame is at. */
static inline int omni_pyframe_lasti(omni_pyframe_t *f) {
    return (int)(OMNI_F_INSTR(f) - _PyCode_CODE(OMNI_F_CODE(f)));
}

/* CPython before 3.11.4 (gh-104405) specialises `obj[i]` for a class whose
 * __getitem__ is a Python function into BINARY_SUBSCR_GETITEM, which pushes
 * the frame inside the running evaluation loop and so bypasses the frame
 * hook. The specialisation needs the function's version to fit in 16 bits:
 * giving the function a version above that (unique, and far from the ones
 * CPython hands out) makes it fail, and an existing one deoptimise, so every
 * call reaches the hook. Called once per code object, for the function that
 * runs it first (a second function object sharing that code is not covered). */
static inline void omni_pyframe_keep_getitem_visible(omni_pyframe_t *f) {
#if PY_VERSION_HEX < 0x030B04F0
    static uint32_t next_version = 0x80000000u;
    PyCodeObject *co = OMNI_F_CODE(f);
    if (f->f_func && co->co_argcount == 2 &&
        PyUnicode_CompareWithASCIIString(co->co_name, "__getitem__") == 0 &&
        f->f_func->func_version <= 0xFFFFu)
        f->f_func->func_version = next_version++;
#else
    (void)f;
#endif
}

/* Whether the interpreter is being torn down (one word read: callable from
 * the monitor thread without the GIL). Public as Py_IsFinalizing from 3.13. */
static inline int omni_py_finalizing(void) {
#if PY_VERSION_HEX >= 0x030D0000
    return Py_IsFinalizing();
#else
    return _Py_IsFinalizing();
#endif
}

/* Whether the target ended with an uncaught KeyboardInterrupt, in which case
 * Py_RunMain kills the process with SIGINT after finalising. */
#if PY_VERSION_HEX >= 0x030C0000
#include <internal/pycore_runtime.h>
static inline int omni_py_unhandled_keyboard_interrupt(void) {
    return _PyRuntime.signals.unhandled_keyboard_interrupt;
}
#else
#include <internal/pycore_pylifecycle.h>
static inline int omni_py_unhandled_keyboard_interrupt(void) {
    return _Py_UnhandledKeyboardInterrupt;
}
#endif

/* The line of instruction offset (code units) from a copy of co_linetable.
 * The location table of 3.11 and 3.12 (Objects/locations.md): entries of a
 * first byte with the top bit set — bits 3-6 a code, bits 0-2 the number of
 * code units covered minus one — and the bytes that follow without it. Codes
 * 0-9 keep the line, 10-12 add 0-2, 13 (no columns) and 14 (long form) add a
 * signed varint, 15 has no line. Decoded here rather than through CPython's
 * _PyLineTable_* functions, which a shared libpython does not export. */
static inline int omni_linetable_svarint(const unsigned char *p, const unsigned char *end) {
    unsigned v = 0, shift = 0;
    while (p < end && shift < 30) {
        v |= (unsigned)(*p & 63) << shift;
        shift += 6;
        if (!(*p++ & 64))
            break;
    }
    return v & 1 ? -(int)(v >> 1) : (int)(v >> 1);
}

static inline int omni_pyframe_line(const char *linetable, Py_ssize_t len, int firstlineno,
                                    int offset) {
    const unsigned char *p = (const unsigned char *)linetable, *end = p + len;
    int start = 0, line = firstlineno, last = firstlineno;
    while (p < end) {
        int code = (*p >> 3) & 15, units = (*p & 7) + 1;
        if (code == 13 || code == 14)
            line += omni_linetable_svarint(p + 1, end);
        else if (code >= 10 && code <= 12)
            line += code - 10;
        if (offset < start + units)
            return code == 15 ? last : line;
        if (code != 15)
            last = line;
        start += units;
        for (p++; p < end && !(*p & 128); p++)
            ;
    }
    return last;
}

/* ---------------------------------------------------------------- for the stack sampler
 * The sampler reads these structures from another thread, without the GIL,
 * by copying them with a fault-safe read: it never dereferences what it
 * reads. These say where things are. */

typedef PyThreadState omni_pytstate_t;

/* Where the sampler reads, found once while the interpreter runs (with
 * the GIL): finalisation clears the runtime's pointer to the main
 * interpreter, not the (static) interpreter itself, whose list is then
 * empty. */
typedef struct omni_py_where {
    PyThreadState *const *threads_head;   /* the main interpreter's list of thread states */
    struct _gil_runtime_state *gil;
} omni_py_where_t;

static inline void omni_py_where(omni_py_where_t *w) {
    PyInterpreterState *interp = PyInterpreterState_Main();
    w->threads_head = (PyThreadState *const *)&interp->threads.head;
#if PY_VERSION_HEX >= 0x030C0000
    w->gil = interp->ceval.gil;
#else
    w->gil = &_PyRuntime.ceval.gil;
#endif
}

/* The thread state that holds the GIL, or NULL (read atomically). */
static inline const void *omni_py_gil_holder(const omni_py_where_t *w) {
    struct _gil_runtime_state *g = w->gil;
#if PY_VERSION_HEX >= 0x030D0000
    if (!g || !_Py_atomic_load_int_relaxed(&g->locked))
        return NULL;
    return _Py_atomic_load_ptr_relaxed(&g->last_holder);
#else
    if (!g || !_Py_atomic_load_relaxed(&g->locked))
        return NULL;
    return (const void *)_Py_atomic_load_relaxed(&g->last_holder);
#endif
}

/* The innermost frame of a copied thread state: in its current C frame
 * (3.11, 3.12: read through peek, a fault-safe copy), or its own (3.13).
 * NULL when there is none or it cannot be read. */
static inline omni_pyframe_t *omni_py_tstate_top(const omni_pytstate_t *ts,
                                                int (*peek)(void *, const void *, size_t)) {
#if PY_VERSION_HEX >= 0x030D0000
    (void)peek;
    return ts->current_frame;
#else
    _PyCFrame cf;
    if (!ts->cframe || peek(&cf, ts->cframe, sizeof cf) < 0)
        return NULL;
    return cf.current_frame;
#endif
}

/* The thread state attached to this thread (3.11: the GIL holder's), or
 * NULL; no check, no error. */
static inline PyThreadState *omni_py_tstate_unchecked(void) {
#if PY_VERSION_HEX >= 0x030D0000
    return PyThreadState_GetUnchecked();
#else
    return _PyThreadState_UncheckedGet();
#endif
}

/* The same, of this thread (with the GIL). */
static inline omni_pyframe_t *omni_py_current_frame(PyThreadState *ts) {
#if PY_VERSION_HEX >= 0x030D0000
    return ts ? ts->current_frame : NULL;
#else
    return ts && ts->cframe ? ts->cframe->current_frame : NULL;
#endif
}

/* The instruction offset (code units) a copied frame is at, from its code
 * object's address (not read: only its address is used). In integers: a
 * frame copied while it changed may hold any values (UBSan caught pointer
 * arithmetic overflowing on such a code address). */
static inline int omni_pyframe_offset(const omni_pyframe_t *f) {
    uintptr_t first = (uintptr_t)OMNI_F_CODE(f) + offsetof(PyCodeObject, co_code_adaptive);
    uintptr_t at = (uintptr_t)OMNI_F_INSTR(f);
    if (at < first || (at - first) / sizeof(_Py_CODEUNIT) > (1u << 24))
        return 0;
    return (int)((at - first) / sizeof(_Py_CODEUNIT));
}

/* Frames that are the interpreter's own (3.12's C-stack entry frames). */
static inline int omni_pyframe_copy_is_shim(const omni_pyframe_t *f) {
    return omni_pyframe_is_shim((omni_pyframe_t *)f);
}

/* What names a code object, for a sampler that registers code objects
 * itself (--mode sample: no frame hook): the span of PyCodeObject to copy,
 * from co_firstlineno to co_linetable, and the fields in such a copy. */
#define OMNI_PY_CODE_SPAN_FROM offsetof(PyCodeObject, co_firstlineno)
#define OMNI_PY_CODE_SPAN_TO (offsetof(PyCodeObject, co_linetable) + sizeof(PyObject *))

typedef struct omni_py_code_names {
    const void *filename, *qualname, *linetable; /* addresses, not read */
    int firstlineno;
} omni_py_code_names_t;

/* span: the bytes copied from the code object at OMNI_PY_CODE_SPAN_FROM. */
static inline omni_py_code_names_t omni_py_code_names(const char *span) {
    omni_py_code_names_t n;
    const char *base = span - OMNI_PY_CODE_SPAN_FROM;
    memcpy(&n.firstlineno, base + offsetof(PyCodeObject, co_firstlineno), sizeof(int));
    memcpy(&n.filename, base + offsetof(PyCodeObject, co_filename), sizeof(void *));
    memcpy(&n.qualname, base + offsetof(PyCodeObject, co_qualname), sizeof(void *));
    memcpy(&n.linetable, base + offsetof(PyCodeObject, co_linetable), sizeof(void *));
    return n;
}

/* A str's layout from a copy of its header (sizeof(PyCompactUnicodeObject)
 * bytes): where its characters are, their width (1, 2, 4; 0 when it is not
 * a compact str), how many, and whether they are ASCII. */
typedef struct omni_py_str_view {
    size_t data_offset, length;
    int kind, ascii;
} omni_py_str_view_t;

static inline omni_py_str_view_t omni_py_str_view(const void *header) {
    omni_py_str_view_t v = {0, 0, 0, 0};
    const PyASCIIObject *a = header;
    if (!a->state.compact || a->length < 0 || a->length > (1 << 20))
        return v;
    v.length = (size_t)a->length;
    v.ascii = a->state.ascii;
    v.kind = (int)a->state.kind;
    v.data_offset = v.ascii ? sizeof(PyASCIIObject) : sizeof(PyCompactUnicodeObject);
    if (v.kind != 1 && v.kind != 2 && v.kind != 4)
        v.kind = 0;
    return v;
}

/* A bytes object's size from a copy of its header (offsetof(PyBytesObject,
 * ob_sval) bytes), its bytes at that offset; -1 when implausible. */
#define OMNI_PY_BYTES_DATA offsetof(PyBytesObject, ob_sval)
static inline Py_ssize_t omni_py_bytes_size(const void *header) {
    Py_ssize_t n = ((const PyVarObject *)header)->ob_size;
    return n >= 0 && n <= (1 << 24) ? n : -1;
}

#endif
