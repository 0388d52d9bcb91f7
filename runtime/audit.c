/* audit.c - aggregates audited events: one row per (kind, what, detail,
 * function) with a count, so a file opened 20,000 times is one row. Runs
 * inside the audit hook with the GIL held; rows live in one table that the
 * end of the run writes without allocating. */
#include "runtime/audit.h"
#include "runtime/slots.h"
#include "runtime/ownmem.h"
#include "runtime/retire.h"

#include "runtime/callprof.h"
#include "runtime/clock.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ROWS 20000        /* distinct rows kept; more are counted as dropped */
#define MAX_IMPORT_NEST 64
#define WHAT_BYTES 512        /* a path or command is cut to this */

typedef enum kind {
    K_OPEN,       /* what: path, detail: mode */
    K_CONNECT,    /* what: address; detail: connect, bind, sendto */
    K_PROCESS,    /* what: program or command; detail: the event */
    K_IMPORT,     /* what: module; detail: outermost or nested (inside another import) */
    K_CONFLICT,   /* what: the event (sys.setprofile, sys.settrace); another tracer in the target */
    N_KINDS
} kind_t;

static const char *const kind_names[] = {"open", "socket", "process", "import", "conflict"};

typedef struct row {
    uint8_t kind;
    uint32_t code;          /* the Python function that caused it (OMNI_CODE_NONE: none) */
    char *what, *detail;    /* owned */
    uint64_t count;
    uint64_t ticks;         /* imports: time in the import, clock ticks */
    uint64_t hash;
} row_t;

static struct {
    int on;                 /* recording (0 again once the end begins) */
    int started;
    char stdlib[1024];      /* the standard library's folder, with a trailing slash */
    row_t *rows;            /* dense, n of them */
    uint32_t n, cap;
    uint32_t *slots;        /* open addressing: row index + 1, 0 empty; 2*cap of them */
    uint64_t dropped;
} au;

/* Imports in progress on this thread, innermost last. */
typedef struct pending {
    char module[256];
    uint32_t code, depth;
    uint64_t t0;
} pending_t;
/* (on the heap from a thread's first import: an array in thread-local
 * storage, 17 KB, was zeroed for every thread the target starts) */
static __thread pending_t *tls_imports;
static __thread int tls_n_imports;
static pthread_key_t imports_key;
static pthread_once_t imports_once = PTHREAD_ONCE_INIT;

static void imports_end(void *p) { /* the thread ends */
    tls_imports = NULL;
    tls_n_imports = 0;
    omni_own_free(p);
}

static void make_imports_key(void) {
    pthread_key_create(&imports_key, imports_end);
}

/* This thread's imports in progress; NULL when there is no memory for them. */
static pending_t *thread_imports(void) {
    if (!tls_imports && (tls_imports = omni_own_calloc(MAX_IMPORT_NEST, sizeof *tls_imports))) {
        pthread_once(&imports_once, make_imports_key);
        pthread_setspecific(imports_key, tls_imports); /* freed as the thread ends */
    }
    return tls_imports;
}
static __thread int tls_inside; /* our own calls into Python must not recurse */

/* ---------------------------------------------------------------- the table */

static uint64_t hash_row(int kind, uint32_t code, const char *what, const char *detail) {
    uint64_t h = 1469598103934665603ull ^ (uint64_t)kind ^ ((uint64_t)code << 8);
    for (const char *p = what; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    h = (h ^ 0xff) * 1099511628211ull;
    for (const char *p = detail; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    return h;
}

static int grow(void) {
    uint32_t cap = au.cap ? au.cap * 2 : 256;
    uint32_t *slots = omni_own_calloc(2 * (size_t)cap, sizeof *slots);
    if (!slots)
        return -1;
    /* A checkpoint may be reading the old rows (retire.h). */
    row_t *rows = omni_retire_grow(au.rows, au.cap * sizeof *rows, cap * sizeof *rows);
    if (!rows) {
        omni_own_free(slots);
        return -1;
    }
    row_t *old = au.rows;
    __atomic_store_n(&au.rows, rows, __ATOMIC_RELEASE);
    omni_retire(old);
    for (uint32_t i = 0; i < au.n; i++)
        omni_slots_put(slots, 2 * cap - 1, (uint32_t)au.rows[i].hash, i);
    free(au.slots);
    au.slots = slots;
    au.cap = cap;
    return 0;
}

/* The row for (kind, code, what, detail), made when new; NULL when the
 * table is full or memory runs out. */
static row_t *row_for(int kind, uint32_t code, const char *what, const char *detail) {
    uint64_t h = hash_row(kind, code, what, detail);
    if (au.cap) {
        uint32_t mask = 2 * au.cap - 1;
        for (uint32_t j = (uint32_t)(h & mask); au.slots[j]; j = (j + 1) & mask) {
            row_t *r = &au.rows[au.slots[j] - 1];
            if (r->hash == h && r->kind == kind && r->code == code &&
                strcmp(r->what, what) == 0 && strcmp(r->detail, detail) == 0)
                return r;
        }
    }
    if (au.n >= MAX_ROWS)
        return NULL;
    row_t *r = NULL;
    if (au.n == au.cap && grow() < 0)
        goto exit;
    char *w = omni_own_strdup(what), *d = omni_own_strdup(detail);
    if (!w || !d) {
        free(w);
        free(d);
        goto exit;
    }
    r = &au.rows[au.n];
    *r = (row_t){(uint8_t)kind, code, w, d, 0, 0, h};
    omni_slots_put(au.slots, 2 * au.cap - 1, (uint32_t)h, au.n);
    __atomic_store_n(&au.n, au.n + 1, __ATOMIC_RELEASE); /* after the row: a checkpoint reads */
exit:
    return r;
}

static void add(int kind, uint32_t code, const char *what, const char *detail, uint64_t ticks) {
    if (!au.on)
        return; /* the end has begun (perhaps in a signal handler: no malloc) */
    row_t *r = row_for(kind, code, what, detail);
    if (!r) {
        au.dropped++;
        return;
    }
    r->count++;
    r->ticks += ticks;
}

/* ---------------------------------------------------------------- reading the arguments */

/* A printable form of o in buf: str as is, bytes decoded, an int as "fd N"
 * (open's), anything else through str(). */
static const char *text_of(PyObject *o, char *buf, size_t cap) {
    buf[0] = 0;
    if (!o || o == Py_None)
        return buf;
    PyObject *s = NULL;
    if (PyUnicode_Check(o)) {
        s = o;
        Py_INCREF(s);
    } else if (PyBytes_Check(o)) {
        s = PyUnicode_DecodeFSDefault(PyBytes_AS_STRING(o));
    } else if (PyLong_Check(o)) {
        snprintf(buf, cap, "fd %ld", PyLong_AsLong(o));
        PyErr_Clear();
        return buf;
    } else {
        s = PyObject_Str(o);
    }
    const char *u = s ? PyUnicode_AsUTF8(s) : NULL;
    if (u)
        snprintf(buf, cap, "%s", u);
    PyErr_Clear();
    Py_XDECREF(s);
    return buf;
}

/* A socket address: (host, port, ...) as "host:port", a path as is. */
static const char *address_of(PyObject *a, char *buf, size_t cap) {
    if (PyTuple_Check(a) && PyTuple_GET_SIZE(a) >= 2) {
        char host[256];
        text_of(PyTuple_GET_ITEM(a, 0), host, sizeof host);
        long port = PyLong_AsLong(PyTuple_GET_ITEM(a, 1));
        PyErr_Clear();
        snprintf(buf, cap, strchr(host, ':') ? "[%s]:%ld" : "%s:%ld", host, port);
        return buf;
    }
    return text_of(a, buf, cap);
}

/* The program of subprocess.Popen's (executable, args, ...): the executable,
 * else args' first word. */
static const char *program_of(PyObject *exe, PyObject *argv, char *buf, size_t cap) {
    if (exe && exe != Py_None)
        return text_of(exe, buf, cap);
    if (argv && (PyList_Check(argv) || PyTuple_Check(argv)) && PySequence_Size(argv) > 0) {
        PyObject *first = PySequence_GetItem(argv, 0);
        text_of(first, buf, cap);
        Py_XDECREF(first);
        PyErr_Clear();
        return buf;
    }
    return text_of(argv, buf, cap);
}

static PyObject *arg(PyObject *args, Py_ssize_t i) {
    return args && PyTuple_Check(args) && PyTuple_GET_SIZE(args) > i ? PyTuple_GET_ITEM(args, i)
                                                                       : NULL;
}

/* ---------------------------------------------------------------- imports */

/* The innermost import on this thread has returned: its frame is gone. */
static void import_done(void *unused) {
    (void)unused;
    if (tls_n_imports <= 0)
        return;
    pending_t *p = &tls_imports[--tls_n_imports];
    uint64_t now = omni_clock_ticks();
    /* An outermost import's time includes the imports inside it. */
    add(K_IMPORT, p->code, p->module, tls_n_imports ? "nested" : "outermost",
        now > p->t0 ? now - p->t0 : 0);
    if (tls_n_imports > 0)
        omni_callprof_watch(tls_imports[tls_n_imports - 1].depth, import_done, NULL);
}

static void import_started(PyObject *module, uint32_t code, uint32_t depth) {
    if (tls_n_imports == MAX_IMPORT_NEST || !thread_imports())
        return;
    pending_t *p = &tls_imports[tls_n_imports];
    text_of(module, p->module, sizeof p->module);
    p->code = code;
    p->depth = depth;
    p->t0 = omni_clock_ticks();
    /* CPython calls importlib's _find_and_load right after the event: when
     * the stack is back at this depth, the import is over. */
    if (omni_callprof_watch(depth, import_done, NULL) == 0)
        tls_n_imports++;
    else
        add(K_IMPORT, code, p->module, tls_n_imports ? "nested" : "outermost", 0);
}

/* ---------------------------------------------------------------- events */

/* The standard library's folder: where the os module came from. */
static void find_stdlib(void) {
    PyObject *modules = PySys_GetObject("modules"); /* borrowed */
    PyObject *os = modules ? PyDict_GetItemString(modules, "os") : NULL;
    PyObject *file = os ? PyObject_GetAttrString(os, "__file__") : NULL;
    const char *f = file && PyUnicode_Check(file) ? PyUnicode_AsUTF8(file) : NULL;
    const char *slash = f ? strrchr(f, '/') : NULL;
    if (slash)
        snprintf(au.stdlib, sizeof au.stdlib, "%.*s/", (int)(slash - f), f);
    Py_XDECREF(file);
    PyErr_Clear();
}

void omni_audit_start(void) {
    find_stdlib();
    au.on = au.started = 1;
}

void omni_audit_event(const char *event, PyObject *args) {
    if (!au.on || tls_inside)
        return;
    /* Cheap refusals first: most audited events are none of ours. */
    char c0 = event[0];
    if (c0 != 'o' && c0 != 's' && c0 != 'i')
        return;
    int which = -1;
    static const struct {
        const char *name;
        int kind;
    } watched[] = {
        {"open", K_OPEN},           {"import", K_IMPORT},        {"socket.connect", K_CONNECT},
        {"socket.bind", K_CONNECT}, {"socket.sendto", K_CONNECT}, {"subprocess.Popen", K_PROCESS},
        {"os.system", K_PROCESS},   {"os.exec", K_PROCESS},      {"os.posix_spawn", K_PROCESS},
        {"os.spawn", K_PROCESS},    {"os.fork", K_PROCESS},      {"os.forkpty", K_PROCESS},
        {"sys.setprofile", K_CONFLICT}, {"sys.settrace", K_CONFLICT},
    };
    for (size_t i = 0; i < sizeof watched / sizeof watched[0]; i++)
        if (strcmp(event, watched[i].name) == 0) {
            which = (int)i;
            break;
        }
    if (which < 0)
        return;
    tls_inside = 1;
    PyObject *et, *ev, *tb;
    PyErr_Fetch(&et, &ev, &tb);
    uint32_t depth;
    uint32_t top = omni_callprof_current(&depth);
    /* The row names the target's own function, not the standard library's
     * inside it (subprocess.run -> Popen.__init__ is the caller's run). */
    uint32_t code = omni_callprof_caller_outside(au.stdlib);
    char what[WHAT_BYTES], detail[64];
    switch (watched[which].kind) {
    case K_OPEN: {
        text_of(arg(args, 0), what, sizeof what);
        PyObject *mode = arg(args, 1);
        if (mode && mode != Py_None) {
            text_of(mode, detail, sizeof detail);
        } else { /* os.open: flags */
            long flags = arg(args, 2) ? PyLong_AsLong(arg(args, 2)) : 0;
            PyErr_Clear();
            snprintf(detail, sizeof detail, "flags=0x%lx", flags);
        }
        /* importlib and zipimport reading modules, the interpreter reading
         * the script (no Python caller yet): the interpreter's doing, not
         * the program's I/O. */
        const omni_code_info_t *ci = omni_callprof_code(top);
        if (!ci || strncmp(ci->file, "<frozen ", 8) == 0)
            snprintf(detail + strlen(detail), sizeof detail - strlen(detail), " (interpreter)");
        add(K_OPEN, code, what, detail, 0);
        break;
    }
    case K_CONNECT:
        address_of(arg(args, 1), what, sizeof what);
        add(K_CONNECT, code, what, event + 7, 0); /* connect, bind, sendto */
        break;
    case K_PROCESS:
        if (strcmp(event, "subprocess.Popen") == 0)
            program_of(arg(args, 0), arg(args, 1), what, sizeof what);
        else if (strcmp(event, "os.spawn") == 0)
            text_of(arg(args, 1), what, sizeof what);
        else if (strcmp(event, "os.fork") == 0 || strcmp(event, "os.forkpty") == 0)
            what[0] = 0;
        else /* os.system's command, os.exec's and os.posix_spawn's path */
            text_of(arg(args, 0), what, sizeof what);
        add(K_PROCESS, code, what, event, 0);
        break;
    case K_IMPORT:
        import_started(arg(args, 0), code, depth);
        break;
    case K_CONFLICT:
        /* A profiler or tracer of the target's own (cProfile, coverage, a
         * debugger): both keep working; the times include its cost. */
        add(K_CONFLICT, code, event, "", 0);
        break;
    }
    PyErr_Restore(et, ev, tb);
    tls_inside = 0;
}

void omni_audit_stop(void) {
    au.on = 0;
}

void omni_audit_reset(void) {
    for (uint32_t i = 0; i < au.n; i++)
        au.rows[i].count = au.rows[i].ticks = 0;
    au.dropped = 0;
}

/* ---------------------------------------------------------------- the record */

/* At the end, or for a checkpoint on the monitor thread while rows are
 * added (retire.h): the row count first, then the rows; a row that began to
 * count after it was counted waits for the next checkpoint. */
void omni_audit_write(msgpack_packer *pk, double ns_per_tick) {
    if (!au.started)
        return;
    uint32_t rows_n = __atomic_load_n(&au.n, __ATOMIC_ACQUIRE);
    const row_t *rows = __atomic_load_n(&au.rows, __ATOMIC_ACQUIRE);
    uint32_t n = 0;
    for (uint32_t i = 0; i < rows_n; i++)
        n += rows[i].count != 0;
    msgpack_pack_map(pk, 3);
    omni_pack_kv_str(pk, "kind", "events");
    omni_pack_kv_u64(pk, "dropped", au.dropped);
    static const char *const cols[] = {"event", "what", "detail", "code", "count", "ns"};
    omni_pack_table_head(pk, "rows", cols, 6, n);
    uint32_t done = 0;
    for (uint32_t i = 0; i < rows_n && done < n; i++) {
        const row_t *r = &rows[i];
        uint64_t count = r->count;
        if (!count)
            continue;
        msgpack_pack_array(pk, 6);
        omni_pack_str(pk, kind_names[r->kind]);
        omni_pack_str(pk, r->what);
        omni_pack_str(pk, r->detail);
        if (r->code == OMNI_CODE_NONE)
            msgpack_pack_nil(pk);
        else
            msgpack_pack_uint32(pk, r->code);
        msgpack_pack_uint64(pk, count);
        msgpack_pack_uint64(pk, (uint64_t)((double)r->ticks * ns_per_tick + 0.5));
        done++;
    }
}
