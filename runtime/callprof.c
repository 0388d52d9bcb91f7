/* callprof.c - the frame-evaluation hook: exact per-code-object call counts
 * and times, per thread, with the definitions of CPython's cProfile. */
#include "runtime/pylayout.h"
#include "runtime/ownmem.h"
#include "runtime/retire.h"

#include "runtime/callprof.h"
#include "runtime/coro.h"
#include "runtime/initwatch.h"
#include "runtime/slots.h"
#include "runtime/clock.h"
#include "runtime/stackswitch.h"
#include "runtime/targetthreads.h"
#include "runtime/threadnames.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

/* A C stack segment is address space reserved up front and committed page by
 * page as it is touched. A Python call through the hook takes well under 1 KiB
 * of C stack, so one segment holds tens of thousands of frames. */
#define SEGMENT_BYTES ((size_t)256 << 20)
/* Switch before less than this is left: C code called from the deepest
 * Python frame (a C extension, the compiler, pickle) still has as much room
 * as it would have on a thread's own stack near python3's recursion limit. */
#define STACK_RESERVE_BYTES ((size_t)2 << 20)

/* All state of the call profiler. Everything below is touched only with the
 * GIL held (the hook runs with it), so none of it needs a lock. */
static struct {
    int active;                 /* count calls; 0 = pass frames through */
    int stopped;                /* stopped for good (the end): no pause resumes it */
    int timed;                  /* read the clock at every call and return */
    int installed;              /* the hook is on the interpreter */
    /* The code registry: code object -> dense id (see code_register). */
    Py_ssize_t extra_index;     /* our co_extra slot */
    omni_code_info_t *codes;    /* by id */
    uint32_t n_codes, codes_cap;
    omni_cthread_t *threads;    /* every thread that ran Python code */
    struct code_index *by_addr; /* code object address -> id, for the sampler */
    PyInterpreterState *interp; /* where the hook was installed */
    PyThreadState *main_ts;     /* the main thread's (it installed the hook) */
    int main_system_exit;       /* the main thread's outermost call ended in SystemExit */
} cp;

/* The sampler finds ids by the code object's address without the GIL: an
 * open-addressing table whose entries are written before they are
 * published, replaced (never freed: the sampler may still read the old one)
 * when it fills. */
typedef struct code_slot {
    const void *code;
    uint32_t id;
} code_slot_t;
typedef struct code_index {
    uint32_t mask, used;
    code_slot_t slots[];
} code_index_t;

static inline uint32_t addr_hash(const void *p) {
    return (uint32_t)(((uintptr_t)p >> 4) * 0x9E3779B97F4A7C15ull >> 32);
}

static void index_put(code_index_t *x, const void *code, uint32_t id) {
    for (uint32_t j = addr_hash(code) & x->mask;; j = (j + 1) & x->mask) {
        code_slot_t *s = &x->slots[j];
        const void *c = __atomic_load_n(&s->code, __ATOMIC_ACQUIRE);
        if (c == code) { /* a new code object where an old one was */
            __atomic_store_n(&s->id, id, __ATOMIC_RELEASE);
            return;
        }
        if (!c) {
            __atomic_store_n(&s->id, id, __ATOMIC_RELAXED);
            __atomic_store_n(&s->code, code, __ATOMIC_RELEASE);
            x->used++;
            return;
        }
    }
}

/* Adds code -> id; with the GIL. Returns 0 or -1 (memory). */
static int index_add(const void *code, uint32_t id) {
    code_index_t *x = cp.by_addr;
    if (!x || (x->used + 1) * 2 > x->mask + 1) {
        uint32_t cap = x ? (x->mask + 1) * 2 : 4096;
        code_index_t *n = omni_own_calloc(1, sizeof *n + cap * sizeof n->slots[0]);
        if (!n)
            return -1;
        n->mask = cap - 1;
        for (uint32_t j = 0; x && j <= x->mask; j++)
            if (x->slots[j].code)
                index_put(n, x->slots[j].code, x->slots[j].id);
        __atomic_store_n(&cp.by_addr, n, __ATOMIC_RELEASE);
        x = n;
    }
    index_put(x, code, id);
    return 0;
}

uint32_t omni_callprof_code_lookup(const void *code) {
    code_index_t *x = __atomic_load_n(&cp.by_addr, __ATOMIC_ACQUIRE);
    if (!x || !code)
        return OMNI_CODE_NONE;
    for (uint32_t j = addr_hash(code) & x->mask, n = 0; n <= x->mask; j = (j + 1) & x->mask, n++) {
        const void *c = __atomic_load_n(&x->slots[j].code, __ATOMIC_ACQUIRE);
        if (!c)
            break;
        if (c == code)
            return __atomic_load_n(&x->slots[j].id, __ATOMIC_ACQUIRE);
    }
    return OMNI_CODE_NONE;
}

static __thread omni_cthread_t *tls_thread;
/* Records whose thread ended, waiting for a thread of their kind; the key's
 * destructor puts them there. */
static pthread_key_t end_key;
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static omni_cthread_t *pool;
static __thread void (*tls_watch_fn)(void *);
static __thread void *tls_watch_arg;

/* ---------------------------------------------------------------- code registry */

/* Each code object the hook sees gets a dense id, kept in one of its own
 * co_extra slots (id + 1; 0 = not seen yet), so the lookup on every call is
 * two loads and no hashing. No reference is taken: when CPython frees the code
 * object, its slots go with it while its counts stay under the id, with the
 * names copied at registration. A new code object at the same address starts
 * with empty slots and gets a new id. */

/* Copies a str into a new malloc'd UTF-8 string; "?" when it cannot be
 * encoded (lone surrogates). The caller has saved any pending exception. */
static char *utf8_copy(PyObject *s) {
    const char *u = s ? PyUnicode_AsUTF8(s) : NULL;
    if (!u) {
        PyErr_Clear();
        u = "?";
    }
    return omni_own_strdup(u);
}

/* Room for one more code in the registry; -1 when memory runs out. */
static int code_room(void) {
    if (cp.n_codes == cp.codes_cap) {
        uint32_t cap = cp.codes_cap ? cp.codes_cap * 2 : 1024;
        /* A checkpoint may be reading the old table (retire.h). */
        omni_code_info_t *c = omni_retire_grow(cp.codes, cp.codes_cap * sizeof *c,
                                               cap * sizeof *c);
        if (!c)
            return -1;
        omni_code_info_t *old = cp.codes;
        __atomic_store_n(&cp.codes, c, __ATOMIC_RELEASE);
        cp.codes_cap = cap;
        omni_retire(old);
    }
    return 0;
}

uint32_t omni_callprof_code_add(const void *code, char *file, char *name, int line,
                                char *linetable, uint32_t linetable_len) {
    if (code_room() < 0)
        return OMNI_CODE_NONE;
    uint32_t id = cp.n_codes;
    cp.codes[id] = (omni_code_info_t){file, name, line, linetable, linetable_len};
    index_add(code, id);
    __atomic_store_n(&cp.n_codes, id + 1, __ATOMIC_RELEASE);
    return id;
}

/* Slow path, once per code object: gives it an id and copies its names.
 * Returns OMNI_CODE_NONE when memory runs out (the call is then not counted). */
static uint32_t code_register(omni_pyframe_t *f, PyCodeObject *co) {
    if (code_room() < 0)
        return OMNI_CODE_NONE;
    /* A generator thrown into arrives with the exception pending: keep it. */
    PyObject *et, *ev, *tb;
    PyErr_Fetch(&et, &ev, &tb);
    uint32_t id = cp.n_codes;
    if (omni_code_extra_set(co, cp.extra_index, (void *)(uintptr_t)(id + 1)) < 0) {
        PyErr_Clear();
        PyErr_Restore(et, ev, tb);
        return OMNI_CODE_NONE;
    }
    omni_code_info_t *info = &cp.codes[id];
    info->file = utf8_copy(co->co_filename);
    info->name = utf8_copy(co->co_qualname);
    info->line = co->co_firstlineno;
    info->linetable = NULL;
    info->linetable_len = 0;
    if (PyBytes_Check(co->co_linetable)) {
        Py_ssize_t n = PyBytes_GET_SIZE(co->co_linetable);
        char *lt = omni_own_malloc(n ? (size_t)n : 1);
        if (lt) {
            memcpy(lt, PyBytes_AS_STRING(co->co_linetable), (size_t)n);
            info->linetable = lt;
            info->linetable_len = (uint32_t)n;
        }
    }
    index_add(co, id); /* without it, only the sampler loses this code's samples */
    omni_pyframe_keep_getitem_visible(f);
    if (OMNI_PY_INIT_HOLE)
        omni_initwatch_code(co);
    PyErr_Restore(et, ev, tb);
    __atomic_store_n(&cp.n_codes, id + 1, __ATOMIC_RELEASE); /* filled in before it is counted */
    return id;
}

static inline uint32_t code_id(omni_pyframe_t *f, PyCodeObject *co) {
    void *x = omni_code_extra(co, cp.extra_index);
    if (__builtin_expect(x != NULL, 1))
        return (uint32_t)(uintptr_t)x - 1;
    return code_register(f, co);
}

/* ---------------------------------------------------------------- per-thread tables */

/* The first threads of a kind keep records of their own (a program's few
 * workers are told apart); from this many on, a record whose thread ended
 * serves the next thread of its kind. */
#define OWN_RECORDS_PER_KIND 16

/* Records of t's kind (the list only grows at its head: safe without the GIL). */
static int records_of_kind(const omni_cthread_t *t) {
    int n = 0;
    for (const omni_cthread_t *x = __atomic_load_n(&cp.threads, __ATOMIC_ACQUIRE);
         x && n < OWN_RECORDS_PER_KIND; x = x->next)
        n += strcmp(x->kind, t->kind) == 0;
    return n;
}

/* The thread ends (pthread's key destructor, without the GIL): its record
 * waits for the next thread of its kind, once its kind has its own records.
 * A thread that ends inside Python (a daemon thread stopped by the
 * interpreter's end) keeps its record. */
static void thread_ended(void *p) {
    omni_cthread_t *t = p;
    if (tls_thread == t)
        tls_thread = NULL; /* Python again on this thread takes another record */
    if (t->depth || records_of_kind(t) < OWN_RECORDS_PER_KIND)
        return;
    if (t->cpu_known)
        t->cpu_done_ns += t->cpu_ns;
    t->cpu_ns = 0;
    t->cpu_known = 0;
    __atomic_store_n(&t->ended, 1, __ATOMIC_RELEASE);
    pthread_mutex_lock(&pool_lock);
    t->pool_next = pool;
    pool = t;
    pthread_mutex_unlock(&pool_lock);
}

/* A record of this kind whose thread ended, taken from the pool; NULL when none. */
static omni_cthread_t *pool_take(const char *kind) {
    pthread_mutex_lock(&pool_lock);
    omni_cthread_t **pp = &pool, *t;
    while ((t = *pp) && strcmp(t->kind, kind) != 0)
        pp = &t->pool_next;
    if (t)
        *pp = t->pool_next;
    pthread_mutex_unlock(&pool_lock);
    return t;
}

static omni_cthread_t *thread_attach(omni_pyframe_t *f) {
    omni_target_thread_note(); /* in case pthread_create did not (a sanitizer's build) */
    char name[OMNI_THREAD_NAME_MAX] = "", kind[OMNI_THREAD_NAME_MAX];
    /* a thread started by threading runs Thread._bootstrap(self) first */
    omni_thread_name_in_frame(f, "_bootstrap", name);
    omni_thread_kind_of(name, kind);
    omni_cthread_t *t = pool_take(kind);
    int fresh = t == NULL;
    if (fresh && !(t = omni_own_calloc(1, sizeof *t)))
        return NULL;
    memcpy(t->name, name, sizeof name);
    memcpy(t->kind, kind, sizeof kind);
    t->ident = (uint64_t)pthread_self();
    __atomic_store_n(&t->native_id, (long)syscall(SYS_gettid), __ATOMIC_RELAXED); /* the sampler */
    t->watch_depth = UINT32_MAX;
    t->seg_level = 0;
    t->stack_limit = 0;
    __atomic_store_n(&t->ended, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&t->threads, t->threads + 1, __ATOMIC_RELEASE);
    pthread_attr_t attr;
    void *addr;
    size_t size;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        if (pthread_attr_getstack(&attr, &addr, &size) == 0) {
            size_t reserve = size / 2 < STACK_RESERVE_BYTES ? size / 2 : STACK_RESERVE_BYTES;
            t->stack_limit = (uintptr_t)addr + reserve;
        }
        pthread_attr_destroy(&attr);
    }
    if (fresh) {
        t->next = cp.threads;
        __atomic_store_n(&cp.threads, t, __ATOMIC_RELEASE); /* a checkpoint walks the list */
    }
    tls_thread = t;
    pthread_setspecific(end_key, t);
    return t;
}

static int grow_fn(omni_cthread_t *t, uint32_t id) {
    uint32_t cap = t->fn_cap ? t->fn_cap : 256;
    while (cap <= id)
        cap *= 2;
    omni_fstat_t *fn = omni_retire_grow(t->fn, t->fn_cap * sizeof *fn, cap * sizeof *fn);
    if (!fn)
        return -1;
    omni_fstat_t *old = t->fn;
    __atomic_store_n(&t->fn, fn, __ATOMIC_RELEASE);
    __atomic_store_n(&t->fn_cap, cap, __ATOMIC_RELEASE);
    omni_retire(old);
    return 0;
}

static int grow_stack(omni_cthread_t *t) {
    uint32_t cap = t->stack_cap ? t->stack_cap * 2 : 256;
    omni_ctx_t *s = omni_own_realloc(t->stack, cap * sizeof *s);
    if (!s)
        return -1;
    t->stack = s;
    t->stack_cap = cap;
    return 0;
}

/* The edge table is a dense array (indices stay valid while activations on
 * the shadow stack refer to them) plus an index of slots: `slots` holds
 * edge index + 1, 0 = empty; slot_cap is a power of two. */
typedef struct {
    uint32_t *slots;
    uint32_t slot_cap;
} edge_index_t;

static inline uint32_t edge_hash(uint32_t caller, uint32_t callee) {
    return (uint32_t)((((uint64_t)caller << 32) | callee) * 0x9E3779B97F4A7C15ull >> 32);
}

/* The index lives right after the dense array's capacity in one block. */
static inline uint32_t *edge_slots(omni_cthread_t *t) {
    return (uint32_t *)(t->edges + t->edge_cap);
}

static int grow_edges(omni_cthread_t *t) {
    uint32_t cap = t->edge_cap ? t->edge_cap * 2 : 1024;
    /* cap edges, then 2*cap slots (load factor at most 1/2). */
    omni_edge_t *e = omni_own_malloc(cap * sizeof *e + 2 * cap * sizeof(uint32_t));
    if (!e)
        return -1;
    if (t->edge_count)
        memcpy(e, t->edges, t->edge_count * sizeof *e);
    uint32_t *slots = (uint32_t *)(e + cap);
    memset(slots, 0, 2 * cap * sizeof *slots);
    for (uint32_t i = 0; i < t->edge_count; i++)
        omni_slots_put(slots, 2 * cap - 1, edge_hash(e[i].caller, e[i].callee), i);
    omni_edge_t *old = t->edges;
    __atomic_store_n(&t->edges, e, __ATOMIC_RELEASE);
    t->edge_cap = cap;
    omni_retire(old);
    return 0;
}

static inline uint32_t edge_find(omni_cthread_t *t, uint32_t caller, uint32_t callee) {
    if (t->edge_cap) {
        uint32_t mask = 2 * t->edge_cap - 1;
        uint32_t *slots = edge_slots(t);
        for (uint32_t j = edge_hash(caller, callee) & mask;; j = (j + 1) & mask) {
            uint32_t s = slots[j];
            if (!s)
                break;
            omni_edge_t *e = &t->edges[s - 1];
            if (e->caller == caller && e->callee == callee)
                return s - 1;
        }
    }
    if (t->edge_count == t->edge_cap && grow_edges(t) < 0)
        return OMNI_CODE_NONE;
    uint32_t i = t->edge_count;
    memset(&t->edges[i], 0, sizeof t->edges[i]);
    t->edges[i].caller = caller;
    t->edges[i].callee = callee;
    omni_slots_put(edge_slots(t), 2 * t->edge_cap - 1, edge_hash(caller, callee), i);
    /* counted once it is there, and after its array (a checkpoint reads them) */
    __atomic_store_n(&t->edge_count, i + 1, __ATOMIC_RELEASE);
    return i;
}

/* ---------------------------------------------------------------- enter / leave */

static inline int enter(omni_cthread_t *t, uint32_t id, uintptr_t frame) {
    if (__builtin_expect(id >= t->fn_cap, 0) && grow_fn(t, id) < 0)
        return -1;
    if (__builtin_expect(t->depth == t->stack_cap, 0) && grow_stack(t) < 0)
        return -1;
    uint32_t edge = OMNI_CODE_NONE;
    if (t->depth) {
        omni_ctx_t *parent = &t->stack[t->depth - 1];
        if (parent->last_callee == id) {
            edge = parent->last_edge;
        } else {
            edge = edge_find(t, parent->code, id);
            parent->last_callee = id;
            parent->last_edge = edge;
        }
        if (edge != OMNI_CODE_NONE)
            t->edges[edge].c.level++;
    }
    omni_fstat_t *s = &t->fn[id];
    if (++s->c.level > s->max_level)
        s->max_level = s->c.level;
    omni_ctx_t *c = &t->stack[t->depth++];
    if (t->depth > t->max_depth)
        t->max_depth = t->depth;
    c->code = id;
    c->edge = edge;
    c->sub = 0;
    c->last_callee = OMNI_CODE_NONE;
    c->frame = frame;
    c->t0 = cp.timed ? omni_clock_ticks() : 0;
    return 0;
}

/* Closes one activation of c's function (or pair): tt ticks in all, it in
 * its own code. Only the outermost activation adds to the inclusive time. */
static inline void counts_close(omni_counts_t *c, uint64_t tt, uint64_t it) {
    if (--c->level == 0)
        c->incl += tt;
    else
        c->rec_calls++;
    c->excl += it;
    c->calls++;
}

static inline void leave(omni_cthread_t *t, uint64_t now) {
    if (!t->depth)
        return;
    omni_ctx_t *c = &t->stack[--t->depth];
    uint64_t tt = now > c->t0 ? now - c->t0 : 0;
    uint64_t it = tt > c->sub ? tt - c->sub : 0;
    if (t->depth)
        t->stack[t->depth - 1].sub += tt;
    counts_close(&t->fn[c->code].c, tt, it);
    if (c->edge != OMNI_CODE_NONE)
        counts_close(&t->edges[c->edge].c, tt, it);
    if (__builtin_expect(t->depth == t->watch_depth, 0)) {
        t->watch_depth = UINT32_MAX;
        tls_watch_fn(tls_watch_arg);
    }
    if (!t->depth) {
        /* The thread's outermost frame returned (a thread ends, a callback
         * from C returns): a good moment to read its CPU clock, rarely. */
        struct timespec ts;
        if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0) {
            t->cpu_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
            t->cpu_known = 1;
        }
    }
}

/* ---------------------------------------------------------------- the hook */

typedef struct {
    PyThreadState *ts;
    omni_pyframe_t *f;
    int throwflag;
} eval_args_t;

static void *eval_on_segment(void *p) {
    eval_args_t *a = p;
    return _PyEval_EvalFrameDefault(a->ts, a->f, a->throwflag);
}

static void *segment_map(void) {
    omni_heap_self++; /* omnipython's, not the target's memory */
    void *m = mmap(NULL, SEGMENT_BYTES, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    omni_heap_self--;
    if (m == MAP_FAILED)
        return NULL;
    /* A guard page: overflowing a segment faults like overflowing a stack. */
    if (mprotect(m, (size_t)sysconf(_SC_PAGESIZE), PROT_NONE) != 0) {
        munmap(m, SEGMENT_BYTES);
        return NULL;
    }
    return m;
}

/* Evaluates the frame on the next stack segment of this thread. */
static PyObject *eval_switched(omni_cthread_t *t, PyThreadState *ts, omni_pyframe_t *f,
                               int throwflag) {
    uint32_t lvl = t->seg_level;
    if (lvl == t->seg_cap) {
        uint32_t cap = t->seg_cap ? t->seg_cap * 2 : 8;
        void **s = omni_own_realloc(t->segments, cap * sizeof *s);
        if (!s)
            return _PyEval_EvalFrameDefault(ts, f, throwflag);
        memset(s + t->seg_cap, 0, (cap - t->seg_cap) * sizeof *s);
        t->segments = s;
        t->seg_cap = cap;
    }
    if (!t->segments[lvl] && !(t->segments[lvl] = segment_map()))
        return _PyEval_EvalFrameDefault(ts, f, throwflag);
    uintptr_t saved_limit = t->stack_limit;
    t->stack_limit = (uintptr_t)t->segments[lvl] + STACK_RESERVE_BYTES;
    t->seg_level++;
    eval_args_t a = {ts, f, throwflag};
    PyObject *res = omni_stack_call(t->segments[lvl], SEGMENT_BYTES, eval_on_segment, &a);
    t->seg_level--;
    t->stack_limit = saved_limit;
    /* Keep one spare segment for a recursion that oscillates around the
     * boundary; give deeper ones back so their pages do not stay resident. */
    if (lvl + 2 < t->seg_cap && t->segments[lvl + 2]) {
        munmap(t->segments[lvl + 2], SEGMENT_BYTES);
        t->segments[lvl + 2] = NULL;
    }
    return res;
}

static inline PyObject *eval(omni_cthread_t *t, PyThreadState *ts, omni_pyframe_t *f,
                             int throwflag) {
    char here;
    PyObject *res;
    omni_py_c_recursion_give(ts, 1);
    if (__builtin_expect((uintptr_t)&here < t->stack_limit, 0) && omni_stack_switch_supported)
        res = eval_switched(t, ts, f, throwflag);
    else
        res = _PyEval_EvalFrameDefault(ts, f, throwflag);
    omni_py_c_recursion_give(ts, -1);
    return res;
}

/* Closes the calls entered inlined (OMNI_PY_INIT_HOLE) above the frame
 * running now: they ended by an exception, which fires no local event. */
static void close_unwound(omni_cthread_t *t, uintptr_t running) {
    while (t->depth && (t->stack[t->depth - 1].frame & 1) &&
           (t->stack[t->depth - 1].frame & ~(uintptr_t)1) != running)
        leave(t, cp.timed ? omni_clock_ticks() : 0);
}

static PyObject *omni_eval_frame(PyThreadState *ts, omni_pyframe_t *f, int throwflag) {
    omni_cthread_t *t = tls_thread;
    if (__builtin_expect(t == NULL, 0) && (t = thread_attach(f)) == NULL)
        return _PyEval_EvalFrameDefault(ts, f, throwflag);
    if (OMNI_PY_INIT_HOLE)
        close_unwound(t, (uintptr_t)omni_py_current_frame(ts));
    if (!cp.active || omni_pyframe_is_shim(f) || omni_pyframe_is_generator_creation(f))
        return eval(t, ts, f, throwflag);
    uint32_t id = code_id(f, omni_pyframe_code(f));
    if (id == OMNI_CODE_NONE || enter(t, id, (uintptr_t)f) < 0)
        return eval(t, ts, f, throwflag);
    /* a coroutine's resumption: its wall and await times too (coro.h) */
    int coro = omni_pyframe_is_coroutine(f);
    if (__builtin_expect(coro, 0))
        omni_coro_resumed(f, id, omni_pyframe_coroutine_starting(f), omni_clock_ticks());
    PyObject *res = eval(t, ts, f, throwflag);
    uint64_t now = cp.timed || coro ? omni_clock_ticks() : 0;
    if (__builtin_expect(coro, 0))
        omni_coro_stopped(f, id, omni_pyframe_coroutine_suspended(f), omni_pyframe_lasti(f), now);
    if (OMNI_PY_INIT_HOLE)
        close_unwound(t, (uintptr_t)f);
    if (__builtin_expect(res == NULL, 0) && t->depth == 1 && ts == cp.main_ts &&
        PyErr_ExceptionMatches(PyExc_SystemExit))
        cp.main_system_exit = 1; /* the interpreter exits with it (3.13: Py_RunMain returns) */
    leave(t, cp.timed ? now : 0);
    return res;
}

/* A call that reached no hook (OMNI_PY_INIT_HOLE): entered when its frame
 * starts, unless the hook entered that very frame, and left when that frame
 * returns or unwinds. */
void omni_callprof_inlined_start(PyThreadState *ts) {
    omni_pyframe_t *f = omni_py_current_frame(ts);
    omni_cthread_t *t = tls_thread;
    if (!cp.active || !f || (t && t->depth && t->stack[t->depth - 1].frame == (uintptr_t)f))
        return;
    if (!t && (t = thread_attach(f)) == NULL)
        return;
    uint32_t id = code_id(f, omni_pyframe_code(f));
    if (id != OMNI_CODE_NONE)
        enter(t, id, (uintptr_t)f | 1);
}

void omni_callprof_inlined_stop(PyThreadState *ts) {
    omni_pyframe_t *f = omni_py_current_frame(ts);
    omni_cthread_t *t = tls_thread;
    if (t && t->depth && t->stack[t->depth - 1].frame == ((uintptr_t)f | 1))
        leave(t, cp.timed ? omni_clock_ticks() : 0);
}

/* ---------------------------------------------------------------- control */

int omni_callprof_start(int timed) {
    if (cp.installed)
        return 0;
    cp.timed = timed;
    cp.extra_index = _PyEval_RequestCodeExtraIndex(NULL);
    if (cp.extra_index < 0)
        return -1;
    if (pthread_key_create(&end_key, thread_ended) != 0)
        return -1;
    cp.interp = PyInterpreterState_Get();
    cp.main_ts = PyThreadState_Get();
    _PyInterpreterState_SetEvalFrameFunc(cp.interp, omni_eval_frame);
    /* where calls bypass the hook: without a free tool id they stay unseen */
    if (OMNI_PY_INIT_HOLE)
        (void)omni_initwatch_start(omni_callprof_inlined_start, omni_callprof_inlined_stop);
    cp.installed = 1;
    cp.active = 1;
    return 0;
}

void omni_callprof_stop(void) {
    cp.active = 0;
    cp.stopped = 1;
}

void omni_callprof_pause(int paused) {
    if (cp.installed && !cp.stopped)
        cp.active = !paused;
}

void omni_callprof_flush(uint64_t now) {
    /* No watch fires now: this may run in a signal handler, and a watch's
     * function belongs to whichever thread set it. */
    for (omni_cthread_t *t = cp.threads; t; t = t->next) {
        t->watch_depth = UINT32_MAX;
        while (t->depth)
            leave(t, now);
    }
}

/* These may run on the monitor thread while the tables grow (a checkpoint,
 * inside omni_retire_read_begin/end): the count first, then the array. */
uint32_t omni_callprof_code_count(void) {
    return __atomic_load_n(&cp.n_codes, __ATOMIC_ACQUIRE);
}

const omni_code_info_t *omni_callprof_code(uint32_t id) {
    if (id >= __atomic_load_n(&cp.n_codes, __ATOMIC_ACQUIRE))
        return NULL;
    return &__atomic_load_n(&cp.codes, __ATOMIC_ACQUIRE)[id];
}

omni_cthread_t *omni_callprof_threads(void) {
    return __atomic_load_n(&cp.threads, __ATOMIC_ACQUIRE);
}

const omni_cthread_t *omni_callprof_record_of(long native_id) {
    for (const omni_cthread_t *t = omni_callprof_threads(); t; t = t->next)
        if (__atomic_load_n(&t->native_id, __ATOMIC_RELAXED) == native_id)
            return t; /* (its thread may be ending: still the one it served) */
    return NULL;
}

void omni_callprof_after_fork_child(void) {
    /* The other threads' tables stay allocated (freeing them here could
     * race with nothing, but their memory is the parent's data); only the
     * forking thread exists in the child. */
    cp.threads = tls_thread;
    if (tls_thread)
        tls_thread->next = NULL;
    pool = NULL; /* the records waiting are the parent's threads' */
    pthread_mutex_init(&pool_lock, NULL);
    omni_retire_after_fork();
}

/* Zeroes the counters but keeps what describes the stack (levels, the
 * active calls): they are the calls the child returns through. */
static void reset_counts(omni_counts_t *c) {
    uint32_t level = c->level;
    memset(c, 0, sizeof *c);
    c->level = level;
}

void omni_callprof_reset_counts(uint64_t now) {
    omni_cthread_t *t = tls_thread;
    if (!t)
        return;
    for (uint32_t i = 0; i < t->fn_cap; i++) {
        reset_counts(&t->fn[i].c);
        t->fn[i].max_level = t->fn[i].c.level;
    }
    for (uint32_t i = 0; i < t->edge_count; i++)
        reset_counts(&t->edges[i].c);
    /* The active calls began now, as far as this process is concerned. */
    for (uint32_t i = 0; i < t->depth; i++) {
        t->stack[i].t0 = now;
        t->stack[i].sub = 0;
    }
    t->max_depth = t->depth;
    t->threads = 1;
    t->cpu_done_ns = 0;
    t->cpu_ns = 0;
    t->cpu_known = 0;
}

uint32_t omni_callprof_current(uint32_t *depth) {
    omni_cthread_t *t = tls_thread;
    if (depth)
        *depth = t ? t->depth : 0;
    return t && t->depth ? t->stack[t->depth - 1].code : OMNI_CODE_NONE;
}

uint32_t omni_callprof_stack(uint32_t *codes, uint32_t max) {
    omni_cthread_t *t = tls_thread;
    uint32_t n = 0;
    for (uint32_t d = t ? t->depth : 0; d > 0 && n < max; d--)
        codes[n++] = t->stack[d - 1].code;
    return n;
}

int omni_callprof_watch(uint32_t depth, void (*fn)(void *arg), void *arg) {
    omni_cthread_t *t = tls_thread;
    if (!t || !cp.active)
        return -1;
    tls_watch_fn = fn;
    tls_watch_arg = arg;
    t->watch_depth = depth;
    return 0;
}

uint32_t omni_callprof_caller_outside(const char *lib) {
    omni_cthread_t *t = tls_thread;
    if (!t || !t->depth)
        return OMNI_CODE_NONE;
    size_t n = strlen(lib);
    for (uint32_t i = t->depth; i-- > 0;) {
        const char *file = cp.codes[t->stack[i].code].file;
        if (strncmp(file, "<frozen ", 8) == 0 || (n && strncmp(file, lib, n) == 0))
            continue;
        return t->stack[i].code;
    }
    return t->stack[t->depth - 1].code;
}

int omni_callprof_code_line(uint32_t id, int offset) {
    const omni_code_info_t *c = omni_callprof_code(id);
    if (!c)
        return 0;
    if (!c->linetable)
        return c->line;
    return omni_pyframe_line(c->linetable, c->linetable_len, c->line, offset);
}

int omni_callprof_main_system_exit(void) {
    return cp.main_system_exit;
}

int omni_callprof_hook_replaced(void) {
    return cp.installed && _PyInterpreterState_GetEvalFrameFunc(cp.interp) != omni_eval_frame;
}
