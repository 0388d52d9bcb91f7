/* callprof.h - exact call profiling through CPython's frame-evaluation hook
 * (PEP 523): calls, primitive calls, inclusive and exclusive time and
 * recursion depth per code object, per thread, with cProfile's definitions. */
#ifndef OMNI_CALLPROF_H
#define OMNI_CALLPROF_H

#include <stdint.h>

#include "runtime/session/writer.h"
#include "runtime/threadnames.h"

#define OMNI_CODE_NONE UINT32_MAX

/* A code object seen by the hook. The strings are copied (UTF-8, owned by the
 * registry, never freed before the process ends) so that the session can be
 * written without the interpreter, e.g. from a fatal-signal handler. */
typedef struct omni_code_info {
    const char *file;  /* co_filename */
    const char *name;  /* co_qualname */
    int line;          /* co_firstlineno */
    const char *linetable;  /* a copy of co_linetable: lines of offsets without the code object */
    uint32_t linetable_len;
} omni_code_info_t;

/* The counters kept per code object and per caller -> callee pair, per
 * thread, with cProfile's definitions. Times are in clock ticks (clock.h). */
typedef struct omni_counts {
    uint64_t calls;       /* completed calls, every resumption of a generator included */
    uint64_t rec_calls;   /* calls made while another call of the same code was active */
    uint64_t incl;        /* inclusive ticks, outermost activations only (cProfile's ct) */
    uint64_t excl;        /* exclusive ticks (cProfile's tt) */
    uint32_t level;       /* activations currently on this thread's stack */
} omni_counts_t;

/* Per code object, per thread. */
typedef struct omni_fstat {
    omni_counts_t c;
    uint32_t max_level;   /* deepest recursion seen: most simultaneous activations */
} omni_fstat_t;

/* A caller -> callee pair, per thread (cProfile's sub-entries, which pstats
 * reports as callers). */
typedef struct omni_edge {
    uint32_t caller, callee;  /* code ids */
    omni_counts_t c;
} omni_edge_t;

/* One activation on a thread's shadow stack. */
typedef struct omni_ctx {
    uint32_t code;        /* code id */
    uint32_t edge;        /* slot in the edge table, OMNI_CODE_NONE for a root call */
    uint64_t t0;          /* ticks at entry */
    uint64_t sub;         /* ticks spent in callees */
    uint32_t last_callee; /* the callee this activation called last ... */
    uint32_t last_edge;   /* ... and its edge: a loop calling one function skips the lookup */
    uintptr_t frame;      /* its frame's address; bit 0 set when entered inlined (initwatch.h) */
} omni_ctx_t;

/* A thread's record. It outlives its thread: when the thread ends, the
 * record waits for the next thread of the same kind (the thread's name with
 * each run of digits made "N": "Thread-N (process_request_thread)"), which
 * takes it over, its counts going on - so a server that starts a thread per
 * request keeps as many records as it ran such threads at once. */
typedef struct omni_cthread {
    struct omni_cthread *next;  /* all records, newest first */
    uint64_t ident;             /* threading.get_ident() (pthread_self) of its latest thread */
    long native_id;             /* threading.get_native_id() (gettid) */
    char name[OMNI_THREAD_NAME_MAX]; /* threading.Thread's name when the thread began, or "" */
    char kind[OMNI_THREAD_NAME_MAX]; /* the name, its digits made N */
    uint32_t threads;           /* threads it served (atomic: a checkpoint reads it) */
    int ended;                  /* its latest thread has ended */
    uint64_t cpu_done_ns;       /* CPU time of the threads it served that ended */
    struct omni_cthread *pool_next; /* waiting for a thread of its kind */
    omni_fstat_t *fn;           /* indexed by code id, fn_cap entries */
    uint32_t fn_cap;
    omni_edge_t *edges;         /* open addressing, edge_cap a power of two */
    uint32_t edge_cap, edge_count;
    omni_ctx_t *stack;          /* the shadow stack of active calls */
    uint32_t depth, stack_cap, max_depth;
    uint32_t watch_depth;       /* call watch_fn when depth comes back to this (UINT32_MAX: none) */
    uint64_t cpu_ns;            /* thread CPU time when its outermost frame last returned */
    int cpu_known;              /* cpu_ns has been read at least once */
    /* C stack management: see stackswitch.h. */
    uintptr_t stack_limit;      /* switch segments below this address */
    void **segments;            /* mapped stack segments, by nesting level */
    uint32_t seg_level, seg_cap;
} omni_cthread_t;

/* Installs the frame hook on the current interpreter (the GIL is held) and
 * starts counting. timed = 0 counts calls (and caller pairs) without reading
 * the clock: the cheapest exact call profile. Returns 0, or -1 when no code
 * extra slot is left (the hook is then not installed). */
int omni_callprof_start(int timed);

/* The id of the code object at address code, or OMNI_CODE_NONE when no code
 * object there has run. Safe on any thread without the GIL (the sampler):
 * the index is only ever replaced, never freed while the process lives. */
uint32_t omni_callprof_code_lookup(const void *code);

/* Registers a code object for a sampler that names code objects itself
 * (--mode sample: the frame hook is not installed, and this is the only
 * writer, on the monitor thread): its copied names (malloc'd; the registry
 * keeps them) under a new id, found by its address from now on. Returns
 * the id, or OMNI_CODE_NONE when memory runs out. */
uint32_t omni_callprof_code_add(const void *code, char *file, char *name, int line,
                                char *linetable, uint32_t linetable_len);

/* The source line of instruction offset (in code units) of code id, from
 * the copied line table; co_firstlineno when it cannot tell. */
int omni_callprof_code_line(uint32_t id, int offset);

/* This thread's shadow stack as code ids, innermost first, at most max.
 * Returns how many. No allocation, no Python: callable from an allocator. */
uint32_t omni_callprof_stack(uint32_t *codes, uint32_t max);

/* The code id of the function running on this thread (the top of its
 * shadow stack), OMNI_CODE_NONE when none; and the stack's depth. */
uint32_t omni_callprof_current(uint32_t *depth);

/* The innermost function on this thread's stack whose file is neither under
 * the directory lib (the standard library, "" for none) nor frozen
 * ("<frozen ...>"): the target's code that caused what the standard
 * library does. Falls back to the innermost function; OMNI_CODE_NONE when
 * the stack is empty. */
uint32_t omni_callprof_caller_outside(const char *lib);

/* Calls fn(arg) on this thread when its shadow stack next comes back down to
 * depth (a call made from the current frame has returned). One watch per
 * thread: a new one replaces the old. fn runs inside the frame hook: it may
 * not call Python. Returns 0, or -1 when the thread has no shadow stack. */
int omni_callprof_watch(uint32_t depth, void (*fn)(void *arg), void *arg);

/* In a forked child that starts a session of its own: zeroes the counters
 * of the one thread there (the parent's calls are the parent's), keeping the
 * calls that are active; they count from now (ticks). */
void omni_callprof_reset_counts(uint64_t now);

/* Whether something replaced the frame hook (another PEP 523 user): calls
 * made after that were not seen. */
int omni_callprof_hook_replaced(void);

/* Stops counting; the hook stays installed but passes frames straight through.
 * Idempotent. */
void omni_callprof_stop(void);
/* Pauses counting (and resumes it) while omnipython runs Python code of its
 * own (the heap census): its calls are not the target's. With the GIL. */
void omni_callprof_pause(int paused);

/* Whether the main thread's outermost Python call ended in SystemExit (the
 * interpreter then exits with its status; Py_RunMain of 3.13+ returns it). */
int omni_callprof_main_system_exit(void);

/* The start and the return of the current frame of ts, for calls that no
 * hook saw (initwatch.h); with the GIL. */
struct _ts;
void omni_callprof_inlined_start(struct _ts *ts);
void omni_callprof_inlined_stop(struct _ts *ts);

/* Closes the activations still open on every thread's stack at `now` ticks,
 * as cProfile does when it is disabled, so that a run ended by os._exit or a
 * signal still accounts for the frames it was in. Call after stop. */
void omni_callprof_flush(uint64_t now);

/* Read access for the session writer, after stop. */
uint32_t omni_callprof_code_count(void);
const omni_code_info_t *omni_callprof_code(uint32_t id);
omni_cthread_t *omni_callprof_threads(void);
/* The record that serves thread native_id (a live thread's), or NULL: the
 * thread has not run Python under the hook yet, or there is no hook. On any
 * thread, without the GIL: a record is never freed; it moves on to the next
 * thread of its kind once its own has ended. */
const omni_cthread_t *omni_callprof_record_of(long native_id);

/* Drops the other threads' data in a forked child (they do not exist there). */
void omni_callprof_after_fork_child(void);

/* Writes the call profile: the code table and one record per thread, oldest
 * first. ns_per_tick converts the profiler's ticks; main_ident names the main
 * thread. Allocates nothing. */
void omni_callprof_write(msgpack_packer *pk, double ns_per_tick, uint64_t main_ident);

/* The two halves, for a checkpoint (on the monitor thread, between
 * omni_retire_read_begin and _end, while the target runs): the threads of a
 * snapshot of the list (omni_callprof_threads: it only grows at its head),
 * then the codes, read last so that every id the threads name is there. */
#define OMNI_THREAD_BLOCK 4096 /* order: room for this many (the caller's, never on a stack) */
size_t omni_callprof_thread_count(const omni_cthread_t *head);
void omni_callprof_write_threads(msgpack_packer *pk, omni_cthread_t *head, double ns_per_tick,
                                 uint64_t main_ident, omni_cthread_t **order);
void omni_callprof_write_codes(msgpack_packer *pk);

#endif
