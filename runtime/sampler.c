/* sampler.c - the stack sampler: copies every Python thread's frames with
 * process_vm_readv (so a frame freed under it is an error, not a fault),
 * and counts each stack in a tree of (caller, code, instruction) nodes. */
#define _GNU_SOURCE
#include "runtime/pylayout.h"

#include "runtime/sampler.h"
#include "runtime/grow.h"
#include "runtime/slots.h"

#include "runtime/callprof.h"
#include "runtime/threadnames.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define MAX_DEPTH 1024       /* frames kept per sample (the innermost ones) */
#define MAX_THREADS 1024     /* thread states walked per sample */
#define MAX_NODES (1u << 22) /* distinct (stack prefix, instruction) nodes kept */
#define NO_NODE UINT32_MAX

typedef struct node {
    uint32_t parent;         /* NO_NODE for a root */
    uint32_t code;           /* callprof's code id (OMNI_CODE_NONE: unknown) */
    int32_t offset;          /* instruction offset in code units */
} node_t;

/* Samples of one thread whose innermost frame was node. */
typedef struct leaf {
    uint32_t thread;         /* index into threads */
    uint32_t node;
    uint64_t samples, cpu, gil;
} leaf_t;

/* A row of the threads table: one thread, or the threads of one kind one
 * after another (a server's thread per request), as the frame hook's
 * records count them. */
typedef struct thr {
    long native_id;          /* its latest thread's */
    unsigned long ident;
    const omni_cthread_t *record; /* the frame hook's record it follows, or NULL */
    /* --mode sample: its threads' kind - their name's (threadnames.h), or
     * for threads without one the code they start in (OMNI_CODE_NONE) */
    char kind[OMNI_THREAD_NAME_MAX];
    uint32_t kind_code;
    uint32_t threads;        /* threads it served */
    uint64_t samples, cpu, gil;
    uint64_t last_cpu_ns, last_wall_ns;  /* for the on-CPU test */
    char name[OMNI_THREAD_NAME_MAX]; /* --mode sample: its latest thread's (threadnames.h), or "" */
} thr_t;

static struct {
    int ready;
    omni_py_where_t where;   /* found by omni_sampler_prepare */
    int busy;                /* a sample is being added: the end does not write */
    pid_t pid;
    uint64_t interval_ns;
    uint64_t taken, errors, dropped;
    node_t *nodes;
    uint32_t n_nodes, node_cap;
    uint32_t *node_slots;    /* open addressing: node + 1; 2 * node_cap of them */
    leaf_t *leaves;
    uint32_t n_leaves, leaf_cap;
    uint32_t *leaf_slots;
    thr_t threads[MAX_THREADS];
    uint32_t n_threads;
    /* --mode sample: no frame hook names the code objects; the sampler does,
     * and remembers what named each id, to tell a new code object at a
     * freed one's address */
    int names_codes;
    omni_py_code_names_t *known;  /* by code id */
    uint32_t known_cap;
} sm;

/* ---------------------------------------------------------------- fault-safe reads */

/* Copies n bytes at src (an address of this process, perhaps freed) into dst. */
static int peek(void *dst, const void *src, size_t n) {
    struct iovec l = {dst, n}, r = {(void *)src, n};
    return process_vm_readv(sm.pid, &l, 1, &r, 1, 0) == (ssize_t)n ? 0 : -1;
}

/* ---------------------------------------------------------------- naming code objects */

/* Appends code point c as UTF-8. */
static size_t put_utf8(char *out, uint32_t c) {
    if (c < 0x80)
        return out[0] = (char)c, 1;
    if (c < 0x800)
        return out[0] = (char)(0xC0 | c >> 6), out[1] = (char)(0x80 | (c & 0x3F)), 2;
    if (c >= 0xD800 && c < 0xE000)
        c = '?'; /* a lone surrogate: not encodable, as callprof's copies say */
    if (c < 0x10000)
        return out[0] = (char)(0xE0 | c >> 12), out[1] = (char)(0x80 | ((c >> 6) & 0x3F)),
               out[2] = (char)(0x80 | (c & 0x3F)), 3;
    return out[0] = (char)(0xF0 | c >> 18), out[1] = (char)(0x80 | ((c >> 12) & 0x3F)),
           out[2] = (char)(0x80 | ((c >> 6) & 0x3F)), out[3] = (char)(0x80 | (c & 0x3F)), 4;
}

/* A copy (UTF-8, malloc'd) of the str at addr; NULL when it cannot be read. */
static char *read_str(const void *addr) {
    char head[sizeof(PyCompactUnicodeObject)];
    if (!addr || peek(head, addr, sizeof head) < 0)
        return NULL;
    omni_py_str_view_t v = omni_py_str_view(head);
    if (!v.kind || v.length > 4096)
        return NULL;
    unsigned char raw[4096 * 4];
    if (peek(raw, (const char *)addr + v.data_offset, v.length * (size_t)v.kind) < 0)
        return NULL;
    char *out = malloc(v.length * 4 + 1);
    if (!out)
        return NULL;
    size_t n = 0;
    for (size_t i = 0; i < v.length; i++) {
        uint32_t c = raw[i];
        if (v.kind == 2) {
            uint16_t u;
            memcpy(&u, raw + 2 * i, 2);
            c = u;
        } else if (v.kind == 4) {
            memcpy(&c, raw + 4 * i, 4);
        }
        n += put_utf8(out + n, c);
    }
    out[n] = 0;
    return out;
}

/* The id of the code object at addr, registered when it is new (or a new
 * object where an old one was); OMNI_CODE_NONE when it cannot be read. */
static uint32_t own_code_id(const void *addr, uint32_t id) {
    char span[OMNI_PY_CODE_SPAN_TO - OMNI_PY_CODE_SPAN_FROM];
    if (!addr || peek(span, (const char *)addr + OMNI_PY_CODE_SPAN_FROM, sizeof span) < 0)
        return OMNI_CODE_NONE;
    omni_py_code_names_t n = omni_py_code_names(span);
    if (id != OMNI_CODE_NONE && id < sm.known_cap) {
        const omni_py_code_names_t *k = &sm.known[id];
        if (k->filename == n.filename && k->qualname == n.qualname &&
            k->linetable == n.linetable && k->firstlineno == n.firstlineno)
            return id;
    }
    char *file = read_str(n.filename), *name = read_str(n.qualname), *lt = NULL;
    char bh[OMNI_PY_BYTES_DATA];
    Py_ssize_t lt_len = n.linetable && peek(bh, n.linetable, sizeof bh) == 0
                            ? omni_py_bytes_size(bh) : -1;
    if (lt_len > 0 && (lt = malloc((size_t)lt_len)) &&
        peek(lt, (const char *)n.linetable + OMNI_PY_BYTES_DATA, (size_t)lt_len) < 0) {
        free(lt);
        lt = NULL;
    }
    if (!file || !name) {
        free(file);
        free(name);
        free(lt);
        sm.errors++;
        return OMNI_CODE_NONE;
    }
    id = omni_callprof_code_add(addr, file, name, n.firstlineno, lt, lt ? (uint32_t)lt_len : 0);
    if (id == OMNI_CODE_NONE) {
        free(file);
        free(name);
        free(lt);
        return id;
    }
    omni_py_code_names_t *k = omni_grow_to(sm.known, &sm.known_cap, id, sizeof *k, 1024, realloc);
    if (!k)
        return id; /* named, not remembered: it is named again when next seen */
    sm.known = k;
    sm.known[id] = n;
    return id;
}

/* ---------------------------------------------------------------- tables */

static uint32_t mix(uint64_t a, uint64_t b) {
    return (uint32_t)((a * 0x9E3779B97F4A7C15ull ^ b) * 0xC2B2AE3D27D4EB4Full >> 32);
}

static int grow_nodes(void) {
    uint32_t cap = sm.node_cap ? sm.node_cap * 2 : 4096;
    node_t *n = realloc(sm.nodes, cap * sizeof *n);
    if (!n)
        return -1;
    sm.nodes = n;
    uint32_t *slots = calloc(2 * (size_t)cap, sizeof *slots);
    if (!slots)
        return -1;
    for (uint32_t i = 0; i < sm.n_nodes; i++) {
        const node_t *x = &sm.nodes[i];
        omni_slots_put(slots, 2 * cap - 1,
                       mix(((uint64_t)x->parent << 32) | x->code, (uint64_t)x->offset), i);
    }
    free(sm.node_slots);
    sm.node_slots = slots;
    sm.node_cap = cap;
    return 0;
}

static uint32_t node_for(uint32_t parent, uint32_t code, int32_t offset) {
    if (sm.node_cap) {
        uint32_t mask = 2 * sm.node_cap - 1;
        for (uint32_t j = mix(((uint64_t)parent << 32) | code, (uint64_t)offset) & mask;
             sm.node_slots[j]; j = (j + 1) & mask) {
            const node_t *x = &sm.nodes[sm.node_slots[j] - 1];
            if (x->parent == parent && x->code == code && x->offset == offset)
                return sm.node_slots[j] - 1;
        }
    }
    if (sm.n_nodes >= MAX_NODES || (sm.n_nodes == sm.node_cap && grow_nodes() < 0))
        return NO_NODE;
    sm.nodes[sm.n_nodes] = (node_t){parent, code, offset};
    omni_slots_put(sm.node_slots, 2 * sm.node_cap - 1,
                   mix(((uint64_t)parent << 32) | code, (uint64_t)offset), sm.n_nodes);
    return sm.n_nodes++;
}

static int grow_leaves(void) {
    uint32_t cap = sm.leaf_cap ? sm.leaf_cap * 2 : 1024;
    leaf_t *n = realloc(sm.leaves, cap * sizeof *n);
    if (!n)
        return -1;
    sm.leaves = n;
    uint32_t *slots = calloc(2 * (size_t)cap, sizeof *slots);
    if (!slots)
        return -1;
    for (uint32_t i = 0; i < sm.n_leaves; i++)
        omni_slots_put(slots, 2 * cap - 1, mix(sm.leaves[i].thread, sm.leaves[i].node), i);
    free(sm.leaf_slots);
    sm.leaf_slots = slots;
    sm.leaf_cap = cap;
    return 0;
}

static leaf_t *leaf_for(uint32_t thread, uint32_t node) {
    if (sm.leaf_cap) {
        uint32_t mask = 2 * sm.leaf_cap - 1;
        for (uint32_t j = mix(thread, node) & mask; sm.leaf_slots[j]; j = (j + 1) & mask) {
            leaf_t *l = &sm.leaves[sm.leaf_slots[j] - 1];
            if (l->thread == thread && l->node == node)
                return l;
        }
    }
    if (sm.n_leaves == sm.leaf_cap && grow_leaves() < 0)
        return NULL;
    sm.leaves[sm.n_leaves] = (leaf_t){thread, node, 0, 0, 0};
    omni_slots_put(sm.leaf_slots, 2 * sm.leaf_cap - 1, mix(thread, node), sm.n_leaves);
    return &sm.leaves[sm.n_leaves++];
}

/* The code a thread of --mode sample starts in: its outermost frame kept
 * outside threading.py (Thread.run, then the target), OMNI_CODE_NONE if none. */
static uint32_t start_code(const uint32_t *codes, int depth) {
    for (int i = depth - 1; i >= 0; i--) {
        const omni_code_info_t *c = omni_callprof_code(codes[i]);
        if (c && c->file && c->file[0] && !omni_is_threading_file(c->file))
            return codes[i];
    }
    return OMNI_CODE_NONE;
}

/* Whether thread tid of this process has ended. */
static int thread_gone(long tid) {
    return tid > 0 && syscall(SYS_tgkill, getpid(), (pid_t)tid, 0) < 0 && errno == ESRCH;
}

/* Linux's largest thread id (PID_MAX_LIMIT on 64-bit systems). */
#define TID_LIMIT 4194304

/* Rows of a kind kept for their own threads (as the frame hook keeps its
 * records, callprof.c): from this many on, a new thread of the kind takes
 * the row of one that ended. */
#define OWN_ROWS_PER_KIND 16

/* A row of the kind (a name's kind, or else a start code) whose thread
 * ended, or NULL while the kind has fewer than OWN_ROWS_PER_KIND rows. */
static thr_t *ended_row_of(const char *kind, uint32_t kind_code) {
    thr_t *free_row = NULL;
    int n = 0;
    for (uint32_t i = 0; i < sm.n_threads && sm.threads[i].native_id >= 0; i++) {
        thr_t *t = &sm.threads[i];
        if (t->record || t->kind_code != kind_code || strcmp(t->kind, kind) != 0)
            continue;
        n++;
        if (!free_row && thread_gone(t->native_id))
            free_row = t;
    }
    return n >= OWN_ROWS_PER_KIND ? free_row : NULL;
}

static thr_t *thread_for(long native_id, unsigned long ident, const uint32_t *codes, int depth,
                         uint32_t *index) {
    for (uint32_t i = 0; i < sm.n_threads; i++) {
        thr_t *t = &sm.threads[i];
        if (t->native_id != native_id || t->ident != ident)
            continue;
        /* sampled before the hook saw it: its record from when it has one
         * (two rows may follow a record then; readers add them up) */
        if (!t->record && !sm.names_codes && native_id >= 0)
            t->record = omni_callprof_record_of(native_id);
        return *index = i, t;
    }
    /* A thread state read while its thread ended is freed memory: a thread
     * id out of range, or of a thread that is gone (a thread-per-request
     * server: 1% of the samples, in rows of ids like addresses). Not a
     * thread's sample. */
    if (native_id <= 0 || native_id > TID_LIMIT || thread_gone(native_id))
        return NULL;
    /* a new thread: the row of the hook's record that serves it now, or
     * (--mode sample) of an ended thread of its kind, or a row of its own */
    const omni_cthread_t *rec = omni_callprof_record_of(native_id);
    char name[OMNI_THREAD_NAME_MAX] = "", kind[OMNI_THREAD_NAME_MAX] = "";
    if (!rec && sm.names_codes && omni_thread_name_of(native_id, name))
        omni_thread_kind_of(name, kind);
    uint32_t kind_code =
        rec || !sm.names_codes || kind[0] ? OMNI_CODE_NONE : start_code(codes, depth);
    thr_t *t = NULL;
    for (uint32_t i = 0; rec && i < sm.n_threads && !t; i++)
        if (sm.threads[i].record == rec)
            t = &sm.threads[i];
    if (!t && (kind[0] || kind_code != OMNI_CODE_NONE))
        t = ended_row_of(kind, kind_code);
    if (t) {
        t->native_id = native_id;
        t->ident = ident;
        t->threads++;
        t->last_cpu_ns = t->last_wall_ns = 0;
        memcpy(t->name, name, sizeof name);
        return *index = (uint32_t)(t - sm.threads), t;
    }
    if (sm.n_threads >= MAX_THREADS - 1) {
        /* full: the threads that come after share its last row, native
         * id -1 - their samples stay in the profile, not under a thread of
         * their own */
        thr_t *o = &sm.threads[MAX_THREADS - 1];
        if (sm.n_threads == MAX_THREADS - 1) {
            memset(o, 0, sizeof *o);
            o->native_id = -1;
            o->kind_code = OMNI_CODE_NONE;
            sm.n_threads = MAX_THREADS;
        }
        o->threads++;
        *index = MAX_THREADS - 1;
        return o;
    }
    t = &sm.threads[*index = sm.n_threads++];
    memset(t, 0, sizeof *t);
    t->native_id = native_id;
    t->ident = ident;
    t->record = rec;
    memcpy(t->kind, kind, sizeof kind);
    t->kind_code = kind_code;
    t->threads = 1;
    memcpy(t->name, name, sizeof name);
    return t;
}

/* ---------------------------------------------------------------- sampling */

static uint64_t thread_cpu_ns(long tid) {
    /* The kernel's CPU clock of a thread by its id (the encoding of
     * pthread_getcpuclockid, which needs a pthread_t that may be gone). */
    clockid_t clk = (clockid_t)(((unsigned)~tid << 3) | 6);
    struct timespec ts;
    if (clock_gettime(clk, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* One thread state at tsp: its stack into the tree. Returns the next
 * thread state's address (NULL at the end, or when it cannot be read). */
static PyThreadState *sample_thread(PyThreadState *tsp, const void *gil, uint64_t now) {
    omni_pytstate_t ts;
    if (peek(&ts, tsp, sizeof ts) < 0) {
        sm.errors++;
        return NULL;
    }
    omni_pyframe_t *fp = omni_py_tstate_top(&ts, peek);
    if (!fp)
        return ts.next;
    static uint32_t codes[MAX_DEPTH];
    static int32_t offsets[MAX_DEPTH];
    int depth = 0;
    /* The innermost MAX_DEPTH frames are all a sample keeps: the walk stops
     * there. A frame copied while it was popped may point anywhere, even
     * back into the chain (3.12+'s entry frames live on the C stack): the
     * walk is bounded by what it keeps, not by the chain (a 100,000-step
     * bound let such a cycle, or a deep recursion, hold the monitor thread
     * for hundreds of milliseconds a sample). */
    /* The frame hook registers every code object before it runs, so a frame
     * reached through an entry frame (a shim: its memory on the C stack,
     * reused as soon as its call returns) whose code it does not know was
     * read from such reused memory: the rest of the chain is not this
     * thread's (3.14 read whole runs of unknown frames there). */
    int after_shim = 0;
    for (int guard = 0; fp && depth < MAX_DEPTH && guard < 3 * MAX_DEPTH; guard++) {
        omni_pyframe_t fr;
        if (peek(&fr, fp, sizeof fr) < 0) {
            sm.errors++;
            break;
        }
        if (omni_pyframe_copy_is_shim(&fr)) {
            after_shim = 1;
        } else {
            codes[depth] = omni_callprof_code_lookup(OMNI_F_CODE(&fr));
            if (sm.names_codes)
                codes[depth] = own_code_id(OMNI_F_CODE(&fr), codes[depth]);
            else if (after_shim && depth && codes[depth] == OMNI_CODE_NONE)
                break;
            offsets[depth] = omni_pyframe_offset(&fr);
            depth++;
            after_shim = 0;
        }
        if (fr.previous == fp)
            break; /* a copy of a frame being reused: it cannot be its own caller */
        fp = fr.previous;
    }
    if (!depth) /* a thread outside Python (waiting in C, not started) */
        return ts.next;
    uint32_t ti;
    thr_t *t = thread_for((long)ts.native_thread_id, ts.thread_id, codes, depth, &ti);
    if (!t) {
        sm.errors++; /* (its link to the next one may still be good: the walk is bounded) */
        return ts.next;
    }
    uint32_t node = NO_NODE;
    for (int i = depth - 1; i >= 0; i--) {
        uint32_t n = node_for(node, codes[i], offsets[i]);
        if (n == NO_NODE) {
            sm.dropped++;
            return ts.next;
        }
        node = n;
    }
    /* On a CPU: the thread's CPU clock moved at least half as much as the
     * wall clock since its last sample (the shared row of the threads past
     * the table's end has no one clock: their samples count as waiting). */
    uint64_t cpu = thread_cpu_ns((long)ts.native_thread_id);
    int on_cpu = t->native_id >= 0 && t->last_wall_ns && now > t->last_wall_ns &&
                 (cpu - t->last_cpu_ns) * 2 >= now - t->last_wall_ns;
    t->last_cpu_ns = cpu;
    t->last_wall_ns = now;
    int holds = gil == (const void *)tsp;
    leaf_t *l = leaf_for(ti, node);
    if (!l) {
        sm.dropped++;
        return ts.next;
    }
    l->samples++, t->samples++;
    l->cpu += on_cpu, t->cpu += on_cpu;
    l->gil += holds, t->gil += holds;
    return ts.next;
}

void omni_sampler_totals(uint64_t *samples, uint64_t *cpu, uint64_t *gil) {
    *samples = *cpu = *gil = 0;
    for (uint32_t i = 0; i < sm.n_threads; i++) {
        *samples += sm.threads[i].samples;
        *cpu += sm.threads[i].cpu;
        *gil += sm.threads[i].gil;
    }
}

static int paused;

void omni_sampler_pause(int p) {
    __atomic_store_n(&paused, p, __ATOMIC_SEQ_CST);
}

void omni_sampler_take(uint64_t now_ns) {
    if (!sm.ready || __atomic_load_n(&paused, __ATOMIC_SEQ_CST))
        return;
    __atomic_store_n(&sm.busy, 1, __ATOMIC_SEQ_CST);
    sm.taken++;
    const void *gil = omni_py_gil_holder(&sm.where);
    PyThreadState *tsp;
    if (peek(&tsp, sm.where.threads_head, sizeof tsp) == 0)
        for (int n = 0; tsp && n < MAX_THREADS; n++)
            tsp = sample_thread(tsp, gil, now_ns);
    __atomic_store_n(&sm.busy, 0, __ATOMIC_SEQ_CST);
}

void omni_sampler_prepare(int names_codes) {
    omni_py_where(&sm.where);
    sm.names_codes = names_codes;
}

int omni_sampler_init(uint64_t interval_ns) {
    sm.pid = getpid();
    sm.interval_ns = interval_ns;
    sm.ready = sm.where.threads_head != NULL;
    return 0;
}

void omni_sampler_reset(void) {
    /* The parent's samples are the parent's; the tree may stay. */
    sm.pid = getpid();
    sm.taken = sm.errors = sm.dropped = 0;
    for (uint32_t i = 0; i < sm.n_leaves; i++)
        sm.leaves[i].samples = sm.leaves[i].cpu = sm.leaves[i].gil = 0;
    memset(sm.threads, 0, sizeof sm.threads);
    sm.n_threads = 0;
    sm.n_leaves = 0;
    if (sm.leaf_slots)
        memset(sm.leaf_slots, 0, 2 * (size_t)sm.leaf_cap * sizeof *sm.leaf_slots);
}

/* ---------------------------------------------------------------- the record */

/* The thread a row is written under: a hook's record's latest thread (the
 * thread record of the session names the same), else the row's latest. */
static long row_native_id(const thr_t *t) {
    return t->record ? __atomic_load_n(&t->record->native_id, __ATOMIC_RELAXED) : t->native_id;
}

void omni_sampler_write(msgpack_packer *pk) {
    if (!sm.ready || __atomic_load_n(&sm.busy, __ATOMIC_SEQ_CST))
        return;
    msgpack_pack_map(pk, 8);
    omni_pack_kv_str(pk, "kind", "samples");
    omni_pack_kv_u64(pk, "interval_ns", sm.interval_ns);
    omni_pack_kv_u64(pk, "taken", sm.taken);
    omni_pack_kv_u64(pk, "errors", sm.errors);
    omni_pack_kv_u64(pk, "dropped", sm.dropped);
    static const char *const ncols[] = {"id", "parent", "code", "line"};
    omni_pack_table_head(pk, "nodes", ncols, 4, sm.n_nodes);
    for (uint32_t i = 0; i < sm.n_nodes; i++) {
        const node_t *x = &sm.nodes[i];
        msgpack_pack_array(pk, 4);
        msgpack_pack_uint32(pk, i);
        if (x->parent == NO_NODE)
            msgpack_pack_nil(pk);
        else
            msgpack_pack_uint32(pk, x->parent);
        if (x->code == OMNI_CODE_NONE) {
            msgpack_pack_nil(pk);
            msgpack_pack_int(pk, 0);
        } else {
            msgpack_pack_uint32(pk, x->code);
            msgpack_pack_int(pk, omni_callprof_code_line(x->code, x->offset));
        }
    }
    static const char *const lcols[] = {"thread", "node", "samples", "cpu", "gil"};
    uint32_t n = 0;
    for (uint32_t i = 0; i < sm.n_leaves; i++)
        n += sm.leaves[i].samples != 0;
    omni_pack_table_head(pk, "stacks", lcols, 5, n);
    for (uint32_t i = 0; i < sm.n_leaves; i++) {
        const leaf_t *l = &sm.leaves[i];
        if (!l->samples)
            continue;
        msgpack_pack_array(pk, 5);
        msgpack_pack_int64(pk, row_native_id(&sm.threads[l->thread]));
        msgpack_pack_uint32(pk, l->node);
        msgpack_pack_uint64(pk, l->samples);
        msgpack_pack_uint64(pk, l->cpu);
        msgpack_pack_uint64(pk, l->gil);
    }
    static const char *const tcols[] = {"native_id", "id",      "samples", "cpu",
                                        "gil",       "threads", "name"};
    omni_pack_table_head(pk, "threads", tcols, 7, sm.n_threads);
    for (uint32_t i = 0; i < sm.n_threads; i++) {
        const thr_t *t = &sm.threads[i];
        msgpack_pack_array(pk, 7);
        msgpack_pack_int64(pk, row_native_id(t));
        msgpack_pack_uint64(pk, t->ident);
        msgpack_pack_uint64(pk, t->samples);
        msgpack_pack_uint64(pk, t->cpu);
        msgpack_pack_uint64(pk, t->gil);
        msgpack_pack_uint32(pk, t->threads);
        if (t->name[0])
            omni_pack_str(pk, t->name);
        else
            msgpack_pack_nil(pk);
    }
}
