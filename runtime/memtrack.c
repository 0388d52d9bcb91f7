/* memtrack.c - allocator hooks on Python's three domains.
 *
 * Every block is counted once at the size its allocator gave it: pymalloc's
 * size class for a small MEM/OBJ block (requests round up to 16 bytes), the
 * C library's usable size for the rest (malloc_usable_size). No header is
 * added to any block (that would push small objects into larger classes):
 * the size of a pymalloc block on free comes from a byte per 4 KiB page of
 * pymalloc's arenas (a page lies in one pool, and a pool holds one size
 * class), which the arena allocator's hook keeps. The MEM/OBJ hooks count
 * only blocks in the arenas: pymalloc hands requests over 512 bytes (and 0),
 * and reallocations of blocks that are not its, to the RAW domain, whose
 * hook counts them (at the C library's usable size) — so the hottest path,
 * a small block, needs no thread-local flag.
 *
 * Sampling: each thread counts bytes down from a random, exponentially
 * distributed interval (mean: the option); the allocation that crosses it is
 * sampled: its Python stack (the frame hook's shadow stack, and the
 * instruction of the innermost frame, its line found at the end) is
 * interned in a tree, and the
 * block is remembered until it is freed. A sampled block of size s stands for
 * s / (1 - exp(-s / mean)) bytes (the expected bytes per sample). */
#define _GNU_SOURCE
#include "runtime/memtrack.h"

#include "runtime/callprof.h"
#include "runtime/census.h"
#include "runtime/embedded.h"
#include "runtime/nativeheap.h"
#include "runtime/clock.h"
#include "runtime/pylayout.h"
#include "runtime/spin.h"

#include <internal/pycore_pymem.h>

#include <malloc.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define SMALL_MAX 512         /* pymalloc's SMALL_REQUEST_THRESHOLD */
#define PAGE_SHIFT 12
#define MAX_NODES (1u << 18)  /* sampled stacks' tree */
#define MAX_LIVE (1u << 17)   /* sampled blocks alive at once */
#define MAX_STACK 48
#define BLOOM_SLOTS (1u << 20) /* counts of sampled blocks alive by address hash: frees look
                                  here first */

/* ---------------------------------------------------------------- arenas */

static PyMemAllocatorEx orig[3];
static PyObjectArenaAllocator orig_arena;

static struct {
    int installed, on;
    double mean;                     /* bytes between samples */
    int unknown_arenas;              /* a small block came from an arena we never saw */
    /* exact counts: Python's domains under the GIL; RAW on any thread */
    uint64_t py_allocs, py_frees, py_alloc_bytes, py_free_bytes, unknown_frees;
    uint64_t raw_allocs, raw_frees, raw_alloc_bytes, raw_free_bytes;   /* atomics */
    uint64_t peak;                   /* atomic */
    uint64_t peak_t_ns;
    uint64_t start_ns;
    /* samples: a spinlock, held for a few hundred nanoseconds per sample */
    omni_spin_t lock;
    struct snode {
        uint32_t parent, code;       /* parent node (UINT32_MAX: root), code id */
        int32_t offset;              /* the innermost frame's instruction, -1 unknown (its
                                        line is looked up at the end) */
        uint32_t next;               /* hash chain */
        int native;                  /* a site of the native heap's (a leaf only) */
        double alloc_bytes, allocs;  /* estimated */
        double live_bytes, peak_live; /* estimated */
        double exit_live;            /* estimated, when the program ended */
    } *nodes;
    uint32_t n_nodes;
    uint32_t *node_hash;             /* MAX_NODES buckets: a node's index + 1, 0 none */
    struct lblock {
        uintptr_t addr;              /* 0: empty, 1: deleted */
        uint32_t node;
        float weight;                /* estimated bytes it stands for */
        uint64_t t_ns;
    } *live;                         /* open addressing, live_cap slots (grown to
                                        2 * MAX_LIVE) */
    uint32_t live_cap;
    uint32_t n_live;
    unsigned char *bloom;            /* BLOOM_SLOTS counters */
    uint32_t tombstones;             /* deleted slots of live */
    uint64_t samples, samples_dropped;
    double peak_snapshot;            /* total live when at-peak was copied last */
    /* when the program ended (before the interpreter tears its modules down) */
    int exited;
    uint64_t exit_ns, exit_live, exit_native_live;
    /* the native heap: counted while the target runs, or why not */
    int native_on;
    char native_why[160];
    struct xblock {
        uint32_t node;
        float weight;
        uint64_t t_ns;
    } *survivors;                    /* the sampled blocks alive then */
    uint32_t n_survivors;
    /* the heap census at the end: by type, and what keeps the top sites'
     * blocks alive */
    omni_census_t census;
    int census_done;
    int census_running;              /* its objects neither make a peak nor get sampled */
} mt;

extern const omni_embedded_file_t omni_census_py[]; /* runtime/census.py */

static __thread int64_t tls_countdown = -1; /* bytes to the next sample */
static __thread uint64_t tls_rng;

/* A byte per page of pymalloc's arenas, in leaves of 1 GiB of address
 * space (mapped when an arena first lands there): the page's size class in
 * the low bits (CLS_UNKNOWN until a block of it is seen), and in the top two
 * the sampled blocks alive on it (3: three or more, for good), so that a
 * free looks at one byte for both. 0: not an arena's page. Read and written
 * with the GIL (only Python's MEM and OBJ domains use the arenas). */
#define LEAF_SHIFT 30
#define N_LEAVES (1ul << (48 - LEAF_SHIFT))
#define LEAF_PAGES (1ul << (LEAF_SHIFT - PAGE_SHIFT))
#define CLS_MASK 0x3f
#define CLS_UNKNOWN 0x3f
#define SAMPLED_ONE 0x40

static unsigned char *page_leaves[N_LEAVES]; /* 2 MiB of zero pages until arenas come */
/* The leaves made, by number (a forked child's reset visits these rather
 * than reading the 2 MiB of pointers: 10 ms a fork); more than fit: all. */
#define MAX_LEAVES_MADE 1024
static uint32_t leaves_made[MAX_LEAVES_MADE];
static uint32_t n_leaves_made;

/* p's page's byte when p is in one of pymalloc's arenas, else NULL. */
static inline unsigned char *page_of(uintptr_t p) {
    if (p >> 48)
        return NULL;
    unsigned char *leaf = page_leaves[p >> LEAF_SHIFT];
    unsigned char *b = leaf ? &leaf[(p >> PAGE_SHIFT) & (LEAF_PAGES - 1)] : NULL;
    return b && *b ? b : NULL;
}

/* pymalloc's pool header (Objects/obmalloc.c, the same in 3.11 and 3.12):
 * a block's size class sits at a fixed place at the start of its 16 KiB
 * pool, which pymalloc itself reads when it frees the block. Private to
 * CPython, so used only once checked against blocks of every class
 * (pool_check); until then, and if the check fails, the page map keeps the
 * classes, learnt at each allocation (a load and a compare on every block,
 * the hook's costliest instructions: a third of its time). */
#define POOL_BYTES ((uintptr_t)16 * 1024)
struct omni_pool_header {
    union {
        void *padding;
        unsigned count;
    } ref;
    void *freeblock, *nextpool, *prevpool;
    unsigned arenaindex, szidx, nextoffset, maxnextoffset;
};
static int pool_sizes; /* 1: block sizes from the pool headers */

static inline size_t pool_block_size(uintptr_t p) {
    return ((size_t)((const struct omni_pool_header *)(p & ~(POOL_BYTES - 1)))->szidx + 1) << 4;
}

/* Marks (or clears) an arena's pages; 0, or -1 when a leaf cannot be mapped. */
static int mark_pages(uintptr_t base, size_t size, unsigned char v) {
    for (uintptr_t p = base; p < base + size; p += 1ul << PAGE_SHIFT) {
        unsigned char **leaf = &page_leaves[p >> LEAF_SHIFT];
        if (!*leaf) {
            if (!v)
                continue;
            void *m = omni_own_map(LEAF_PAGES);
            if (!m)
                return -1;
            *leaf = m;
            if (n_leaves_made < MAX_LEAVES_MADE)
                leaves_made[n_leaves_made] = (uint32_t)(p >> LEAF_SHIFT);
            n_leaves_made++;
        }
        (*leaf)[(p >> PAGE_SHIFT) & (LEAF_PAGES - 1)] = v;
    }
    return 0;
}

static void *arena_alloc(void *ctx, size_t size) {
    omni_heap_self++;
    void *p = orig_arena.alloc(ctx, size);
    uintptr_t a = (uintptr_t)p;
    if (p && ((a + size) >> 48 || a & ((1ul << PAGE_SHIFT) - 1) ||
              mark_pages(a, size, CLS_UNKNOWN) < 0)) {
        mark_pages(a, size, 0);
        mt.unknown_arenas = 1; /* its blocks' sizes cannot be told on free */
    }
    omni_heap_self--;
    return p;
}

static void arena_free(void *ctx, void *p, size_t size) {
    omni_heap_self++;
    if (((uintptr_t)p + size) >> 48 == 0 && !((uintptr_t)p & ((1ul << PAGE_SHIFT) - 1)))
        mark_pages((uintptr_t)p, size, 0);
    orig_arena.free(ctx, p, size);
    omni_heap_self--;
}

/* ---------------------------------------------------------------- sampling */

static void lock(void) {
    omni_spin_lock(&mt.lock);
}

static void unlock(void) {
    omni_spin_unlock(&mt.lock);
}

static __attribute__((noinline)) int64_t next_interval(void) {
    if (!tls_rng)
        tls_rng = (uint64_t)(uintptr_t)&tls_rng ^ omni_clock_mono_ns() ^ 0x9E3779B97F4A7C15ull;
    tls_rng ^= tls_rng << 13;
    tls_rng ^= tls_rng >> 7;
    tls_rng ^= tls_rng << 17;
    double u = ((tls_rng >> 11) + 0.5) / 9007199254740992.0; /* (0, 1) */
    return (int64_t)(-log(u) * mt.mean);
}

static uint32_t intern(uint32_t parent, uint32_t code, int32_t offset, int native) {
    uint32_t h = (parent * 2654435761u ^ code * 40503u ^ (uint32_t)offset * 97u ^
                  (uint32_t)native) & (MAX_NODES - 1);
    for (uint32_t i = mt.node_hash[h] - 1; i != UINT32_MAX; i = mt.nodes[i].next - 1)
        if (mt.nodes[i].parent == parent && mt.nodes[i].code == code &&
            mt.nodes[i].offset == offset && mt.nodes[i].native == native)
            return i;
    if (mt.n_nodes == MAX_NODES)
        return UINT32_MAX;
    uint32_t i = mt.n_nodes++;
    mt.nodes[i] = (struct snode){parent, code, offset, mt.node_hash[h], native, 0, 0, 0, 0, 0};
    mt.node_hash[h] = i + 1;
    return i;
}

/* The instruction this thread's innermost Python frame is at, GIL or not
 * (a C function that released the GIL and calls malloc: only this thread
 * changes its frames, and they stay while it is in C); -1 if none. */
static int32_t current_offset(void) {
    PyThreadState *ts = PyGILState_GetThisThreadState();
    omni_pyframe_t *f = omni_py_current_frame(ts);
    return f ? omni_pyframe_offset(f) : -1;
}

static uint32_t slot_of(uintptr_t p) {
    return (uint32_t)((p >> 4) * 0x9E3779B97F4A7C15ull >> 40) & (mt.live_cap - 1);
}

static uint32_t bloom_slot(uintptr_t p) {
    return (uint32_t)((p >> 4) * 0xD6E8FEB86659FD93ull >> 44) & (BLOOM_SLOTS - 1);
}

/* Where the count of a block's sampled blocks alive is kept: the top bits
 * of its page's byte for a pymalloc block (page: from page_of), else a byte
 * of the Bloom filter of addresses. A saturated count stays (it may stand for
 * more); frees of blocks whose count is 0 take no lock. */
typedef struct mark {
    unsigned char *byte;
    unsigned char one, mask;
} mark_t;

static mark_t mark_of(uintptr_t p, unsigned char *page) {
    if (page)
        return (mark_t){page, SAMPLED_ONE, (unsigned char)~CLS_MASK};
    return (mark_t){&mt.bloom[bloom_slot(p)], 1, 0xff};
}

static void mark_add(mark_t m, int up) {
    unsigned char b = __atomic_load_n(m.byte, __ATOMIC_RELAXED), n = b & m.mask;
    if (n == m.mask || (!up && !n))
        return;
    __atomic_store_n(m.byte, (unsigned char)(up ? b + m.one : b - m.one), __ATOMIC_RELAXED);
}

/* The sampled blocks' table anew at cap slots (under the lock): deleted
 * slots make probes long, and the table grows with the blocks alive (it
 * starts small: most runs never have many). Its memory is omnipython's own
 * (mapped past the interposed mmap). Returns 0 or -1 (the old one stays). */
static int rehash(uint32_t cap) {
    struct lblock *old = mt.live, *t = omni_own_map((size_t)cap * sizeof *t);
    if (!t)
        return -1;
    uint32_t old_cap = mt.live_cap;
    mt.live = t;
    mt.live_cap = cap;
    for (uint32_t k = 0; old && k < old_cap; k++)
        if (old[k].addr > 1) {
            uint32_t i = slot_of(old[k].addr);
            while (t[i].addr)
                i = (i + 1) & (cap - 1);
            t[i] = old[k];
        }
    mt.tombstones = 0;
    if (old)
        omni_own_unmap(old, (size_t)old_cap * sizeof *old);
    return 0;
}

static __attribute__((noinline)) void take_sample(uintptr_t p, size_t size, int native,
                                                  unsigned char *page) {
    if (!native && !page) /* (the allocation hooks leave it to this rare path) */
        page = page_of(p);
    uint32_t codes[MAX_STACK];
    uint32_t n = omni_callprof_stack(codes, MAX_STACK);
    int32_t offset = n ? current_offset() : -1;
    double weight = (double)size / (1 - exp(-(double)size / mt.mean));
    uint64_t now = omni_clock_mono_ns();
    lock();
    mt.samples++;
    uint32_t node = UINT32_MAX;
    for (uint32_t k = n; k > 0 && !(k < n && node == UINT32_MAX); k--)
        node = intern(node, codes[k - 1], k == 1 ? offset : -1, k == 1 && native);
    if (!n)
        node = intern(UINT32_MAX, OMNI_CODE_NONE, -1, native);
    if (2 * (mt.n_live + mt.tombstones + 1) > mt.live_cap &&
        rehash(4 * (mt.n_live + 1) > mt.live_cap ? 2 * mt.live_cap : mt.live_cap) < 0)
        node = UINT32_MAX; /* no room */
    if (node == UINT32_MAX || mt.n_live == MAX_LIVE) {
        mt.samples_dropped++;
        unlock();
        return;
    }
    struct snode *s = &mt.nodes[node];
    s->alloc_bytes += weight;
    s->allocs += weight / (double)size;
    s->live_bytes += weight;
    uint32_t i = slot_of(p);
    while (mt.live[i].addr > 1)
        i = (i + 1) & (mt.live_cap - 1);
    mt.live[i] = (struct lblock){p, node, (float)weight, now};
    mt.n_live++;
    mark_add(mark_of(p, page), 1);
    unlock();
}

static __attribute__((noinline)) void forget_sampled(uintptr_t p, mark_t m) {
    lock();
    for (uint32_t i = slot_of(p); mt.live[i].addr; i = (i + 1) & (mt.live_cap - 1))
        if (mt.live[i].addr == p) {
            mt.nodes[mt.live[i].node].live_bytes -= mt.live[i].weight;
            mt.live[i].addr = 1;
            mt.n_live--;
            mark_add(m, 0);
            if (2 * (mt.n_live + ++mt.tombstones) > mt.live_cap)
                rehash(mt.live_cap);
            break;
        }
    unlock();
}

/* A freed block that was sampled: its site's live bytes go down. */
static inline void forget(uintptr_t p, unsigned char *page) {
    mark_t m = mark_of(p, page);
    if (__atomic_load_n(m.byte, __ATOMIC_RELAXED) & m.mask)
        forget_sampled(p, m); /* else no sampled block alive at such an address: no lock */
}

static inline uint64_t live_now(void) {
    uint64_t ra = __atomic_load_n(&mt.raw_alloc_bytes, __ATOMIC_RELAXED);
    uint64_t rf = __atomic_load_n(&mt.raw_free_bytes, __ATOMIC_RELAXED);
    /* (read once each: the monitor thread asks too) */
    uint64_t pa = __atomic_load_n(&mt.py_alloc_bytes, __ATOMIC_RELAXED);
    uint64_t pf = __atomic_load_n(&mt.py_free_bytes, __ATOMIC_RELAXED);
    return (pa > pf ? pa - pf : 0) + (ra > rf ? ra - rf : 0);
}

/* Counts size down from this thread's sampling interval: the allocation
 * that crosses it is sampled. */
static inline void count_down(uintptr_t p, size_t size, int native, unsigned char *page) {
    if ((tls_countdown -= (int64_t)size) >= 0)
        return;
    if (tls_countdown + (int64_t)size >= 0) /* not the first call on this thread */
        take_sample(p, size, native, page);
    tls_countdown = next_interval();
}

/* A new peak: the time and the sites at it, again each time it grows by
 * 1% (reading the clock at every new byte would cost too much). */
static __attribute__((noinline)) void new_peak(uint64_t live) {
    /* a plain store: two threads racing here leave the peak within one
     * allocation of the truth */
    __atomic_store_n(&mt.peak, live, __ATOMIC_RELAXED);
    if ((double)live > mt.peak_snapshot * 1.01) {
        mt.peak_t_ns = omni_clock_mono_ns();
        lock();
        for (uint32_t i = 0; i < mt.n_nodes; i++)
            mt.nodes[i].peak_live = mt.nodes[i].live_bytes;
        mt.peak_snapshot = (double)live;
        unlock();
    }
}

/* After an allocation: the peak, and the sites' bytes at it. */
static inline void after_alloc(uintptr_t p, size_t size, unsigned char *page) {
    if (mt.census_running)
        return;
    uint64_t live = live_now();
    if (live > __atomic_load_n(&mt.peak, __ATOMIC_RELAXED))
        new_peak(live);
    count_down(p, size, 0, page);
}

void omni_memtrack_native_alloc(uintptr_t p, size_t size) {
    if (mt.on && !mt.census_running)
        count_down(p, size, 1, NULL);
}

void omni_memtrack_native_free(uintptr_t p) {
    if (mt.installed)
        forget(p, NULL);
}

/* ---------------------------------------------------------------- the hooks */

static size_t raw_size(void *p) {
    return p ? malloc_usable_size(p) : 0;
}

static void raw_count(void *p, int alloc) {
    size_t n = raw_size(p);
    if (alloc) {
        __atomic_fetch_add(&mt.raw_allocs, 1, __ATOMIC_RELAXED);
        __atomic_fetch_add(&mt.raw_alloc_bytes, n, __ATOMIC_RELAXED);
        after_alloc((uintptr_t)p, n, NULL);
    } else {
        __atomic_fetch_add(&mt.raw_frees, 1, __ATOMIC_RELAXED);
        __atomic_fetch_add(&mt.raw_free_bytes, n, __ATOMIC_RELAXED);
        forget((uintptr_t)p, NULL);
    }
}

static void *raw_malloc(void *ctx, size_t n) {
    if (omni_heap_self) {
        return orig[PYMEM_DOMAIN_RAW].malloc(ctx, n);
    }
    omni_heap_self++;
    void *p = orig[PYMEM_DOMAIN_RAW].malloc(ctx, n);
    omni_heap_self--;
    if (p && mt.on)
        raw_count(p, 1);
    return p;
}

static void *raw_calloc(void *ctx, size_t k, size_t n) {
    if (omni_heap_self) {
        return orig[PYMEM_DOMAIN_RAW].calloc(ctx, k, n);
    }
    omni_heap_self++;
    void *p = orig[PYMEM_DOMAIN_RAW].calloc(ctx, k, n);
    omni_heap_self--;
    if (p && mt.on)
        raw_count(p, 1);
    return p;
}

static void *raw_realloc(void *ctx, void *old, size_t n) {
    if (omni_heap_self) {
        return orig[PYMEM_DOMAIN_RAW].realloc(ctx, old, n);
    }
    int on = mt.on;
    if (old && on)
        raw_count(old, 0);
    omni_heap_self++;
    void *p = orig[PYMEM_DOMAIN_RAW].realloc(ctx, old, n);
    omni_heap_self--;
    if (on) {
        if (p)
            raw_count(p, 1);
        else if (old && n)
            raw_count(old, 1); /* failed: the old block lives on */
    }
    return p;
}

static void raw_free(void *ctx, void *p) {
    if (omni_heap_self) {
        orig[PYMEM_DOMAIN_RAW].free(ctx, p);
        return;
    }
    if (p && mt.on)
        raw_count(p, 0);
    omni_heap_self++;
    orig[PYMEM_DOMAIN_RAW].free(ctx, p);
    omni_heap_self--;
}

/* The size of a block in pymalloc's arenas from its page's byte: its size
 * class; 0 when no block of the page was seen allocated. */
static inline size_t page_block_size(unsigned char b) {
    unsigned char c = b & CLS_MASK;
    return c != CLS_UNKNOWN ? (size_t)c * 16 : 0;
}

static inline __attribute__((always_inline)) void py_count_alloc(void *p, size_t size,
                                                                  unsigned char *page) {
    mt.py_allocs++;
    mt.py_alloc_bytes += size;
    after_alloc((uintptr_t)p, size, page);
}

static inline __attribute__((always_inline)) void py_alloc_done(void *p, size_t req) {
    if (!p)
        return;
    if (pool_sizes) { /* its size is its class: nothing to learn */
        if (req && req <= SMALL_MAX)
            py_count_alloc(p, (req + 15) & ~(size_t)15, NULL);
        return; /* else pymalloc handed it to RAW, whose hook counted it */
    }
    size_t size;
    unsigned char *page = page_of((uintptr_t)p);
    if (page) {
        /* pymalloc's: its class (the call may have gone to RAW for the
         * arenas' own bookkeeping, not for the block) */
        size = (req + 15) & ~(size_t)15;
        unsigned char cls = (unsigned char)(size / 16);
        if ((*page & CLS_MASK) != cls)
            *page = (unsigned char)((*page & ~CLS_MASK) | cls);
    } else if (req && req <= SMALL_MAX) {
        size = (req + 15) & ~(size_t)15;
        mt.unknown_arenas = 1; /* pymalloc used an arena made before the hooks */
    } else {
        return; /* pymalloc handed it to RAW, whose hook counted it */
    }
    py_count_alloc(p, size, page);
}

/* The size of a block of the arenas; b: its page's byte. */
static inline size_t arena_block_size(void *p, unsigned char b) {
    return pool_sizes ? pool_block_size((uintptr_t)p) : page_block_size(b);
}

/* A block of the arenas freed; b: its page's byte (read once), size: its
 * size, read before the block went back (its pool may be gone after). */
static inline __attribute__((always_inline)) void py_free_done(void *p, unsigned char *page,
                                                                unsigned char b, size_t size) {
    mt.py_frees++;
    if (size)
        mt.py_free_bytes += size;
    else
        mt.unknown_frees++;
    if (b & ~CLS_MASK) /* sampled blocks alive on its page: maybe this one */
        forget_sampled((uintptr_t)p, mark_of((uintptr_t)p, page));
}

#define PY_HOOKS(NAME, DOMAIN)                                                              \
    static void *NAME##_malloc(void *ctx, size_t n) {                                       \
        void *p = orig[DOMAIN].malloc(ctx, n);                                              \
        if (mt.on)                                                                          \
            py_alloc_done(p, n);                                                            \
        return p;                                                                           \
    }                                                                                       \
    static void *NAME##_calloc(void *ctx, size_t k, size_t n) {                             \
        void *p = orig[DOMAIN].calloc(ctx, k, n);                                           \
        if (mt.on)                                                                          \
            py_alloc_done(p, k * n);                                                        \
        return p;                                                                           \
    }                                                                                       \
    static void *NAME##_realloc(void *ctx, void *old, size_t n) {                           \
        int on = mt.on;                                                                     \
        unsigned char *page = old && on ? page_of((uintptr_t)old) : NULL;                   \
        unsigned char b = page ? *page : 0; /* else RAW's (its hook counts) */              \
        size_t old_size = page ? arena_block_size(old, b) : 0;                              \
        void *p = orig[DOMAIN].realloc(ctx, old, n);                                        \
        /* a block not pymalloc's went to RAW's realloc, whose hook counted both */         \
        if (on && (p || !n) && (!old || page)) {                                            \
            if (page)                                                                       \
                py_free_done(old, page, b, old_size);                                       \
            if (p && p == old)                                                              \
                py_count_alloc(p, old_size, page); /* shrunk in place */                    \
            else                                                                            \
                py_alloc_done(p, n);                                                        \
        }                                                                                   \
        return p;                                                                           \
    }                                                                                       \
    static void NAME##_free(void *ctx, void *p) {                                           \
        unsigned char *page;                                                                \
        if (p && mt.on && (page = page_of((uintptr_t)p))) {                                 \
            unsigned char b = *page;                                                        \
            py_free_done(p, page, b, arena_block_size(p, b));                               \
        }                                                                                   \
        orig[DOMAIN].free(ctx, p);                                                          \
    }

PY_HOOKS(mem, PYMEM_DOMAIN_MEM)
PY_HOOKS(obj, PYMEM_DOMAIN_OBJ)

/* ---------------------------------------------------------------- installing */

/* In a forked child the thread that held the samples' lock may not exist:
 * free it, whatever else the child does. */
static void after_fork_child(void) {
    omni_spin_reset(&mt.lock);
}

int omni_memtrack_install(size_t mean_interval, char *why, size_t cap) {
    /* pre-initialisation chose the allocators (PYTHONMALLOC, -X dev,
     * PYTHONDEVMODE): only plain pymalloc's block sizes can be known safely
     * (debug hooks put a header in front of every block) */
    const char *name = _PyMem_GetCurrentAllocatorName();
    if (!name || strcmp(name, "pymalloc") != 0) {
        snprintf(why, cap, "Python's allocators are %s (PYTHONMALLOC, -X dev or PYTHONDEVMODE): "
                           "with other allocators or their debug hooks, block sizes cannot be "
                           "known safely", name ? name : "custom");
        return -1;
    }
    if (mt.installed)
        return 0;
    /* (zero pages until used: a short run touches little of them) */
    mt.nodes = omni_own_map(MAX_NODES * sizeof *mt.nodes);
    mt.node_hash = omni_own_map(MAX_NODES * sizeof *mt.node_hash);
    mt.survivors = omni_own_map(MAX_LIVE * sizeof *mt.survivors);
    mt.bloom = omni_own_map(BLOOM_SLOTS);
    if (!mt.nodes || !mt.node_hash || !mt.survivors || !mt.bloom ||
        rehash(8192) < 0) {
        snprintf(why, cap, "cannot map the tables of the allocation sampler");
        return -1;
    }
    /* pymalloc's arenas made before the hooks are unknown: their blocks'
     * sizes cannot be told on free then */
    char *stats = NULL;
    size_t len = 0;
    /* 3.12 keeps pymalloc's state in the interpreter, which does not exist
     * yet when the hooks go in before Py_Initialize (nor then any arena):
     * its statistics would read through a NULL thread state. */
    FILE *f = PY_VERSION_HEX < 0x030C0000 || omni_py_tstate_unchecked()
                  ? open_memstream(&stats, &len)
                  : NULL;
    if (f) {
        _PyObject_DebugMallocStats(f);
        fclose(f);
    }
    const char *cur = stats ? strstr(stats, "arenas allocated current") : NULL;
    if (cur && strtol(cur + strcspn(cur, "0123456789"), NULL, 10) > 0)
        mt.unknown_arenas = 1;
    free(stats);
    mt.mean = mean_interval ? (double)mean_interval : OMNI_MEM_DEFAULT_INTERVAL;
    PyObject_GetArenaAllocator(&orig_arena);
    PyObjectArenaAllocator a = {orig_arena.ctx, arena_alloc, arena_free};
    PyObject_SetArenaAllocator(&a);
    static const PyMemAllocatorDomain d[3] = {PYMEM_DOMAIN_RAW, PYMEM_DOMAIN_MEM,
                                              PYMEM_DOMAIN_OBJ};
    for (int i = 0; i < 3; i++)
        PyMem_GetAllocator(d[i], &orig[i]);
    PyMemAllocatorEx raw = {orig[0].ctx, raw_malloc, raw_calloc, raw_realloc, raw_free};
    PyMemAllocatorEx mem = {orig[1].ctx, mem_malloc, mem_calloc, mem_realloc, mem_free};
    PyMemAllocatorEx obj = {orig[2].ctx, obj_malloc, obj_calloc, obj_realloc, obj_free};
    PyMem_SetAllocator(PYMEM_DOMAIN_RAW, &raw);
    PyMem_SetAllocator(PYMEM_DOMAIN_MEM, &mem);
    PyMem_SetAllocator(PYMEM_DOMAIN_OBJ, &obj);
    mt.start_ns = omni_clock_mono_ns();
    pthread_atfork(NULL, NULL, after_fork_child);
    mt.installed = mt.on = 1;
    return 0;
}

void omni_memtrack_mark_exit(void) {
    if (!mt.installed || mt.exited)
        return;
    int took = omni_spin_lock_unless_mine(&mt.lock); /* (from a signal's handler) */
    mt.exited = 1;
    mt.exit_ns = omni_clock_mono_ns();
    mt.exit_live = live_now();
    mt.exit_native_live = omni_nativeheap_live();
    for (uint32_t i = 0; i < mt.n_nodes; i++)
        mt.nodes[i].exit_live = mt.nodes[i].live_bytes > 0 ? mt.nodes[i].live_bytes : 0;
    mt.n_survivors = 0;
    for (uint32_t i = 0; mt.survivors && i < mt.live_cap; i++)
        if (mt.live[i].addr > 1)
            mt.survivors[mt.n_survivors++] =
                (struct xblock){mt.live[i].node, mt.live[i].weight, mt.live[i].t_ns};
    if (took)
        unlock();
}

/* The census's question: for the five sites with the most bytes alive at
 * the end, up to three of their sampled blocks' addresses. */
static int wanted_blocks(omni_census_want_t *want) {
    uint32_t top[5];
    int n = 0;
    for (uint32_t i = 0; i < mt.n_nodes; i++) {
        if (mt.nodes[i].exit_live <= 0)
            continue;
        int k;
        if (n < 5)
            k = n++;
        else if (mt.nodes[top[4]].exit_live < mt.nodes[i].exit_live)
            k = 4;
        else
            continue;
        top[k] = i;
        for (; k > 0 && mt.nodes[top[k - 1]].exit_live < mt.nodes[top[k]].exit_live; k--) {
            uint32_t t = top[k];
            top[k] = top[k - 1];
            top[k - 1] = t;
        }
    }
    for (int k = 0; k < n; k++) {
        want[k] = (omni_census_want_t){top[k], {0}, 0};
        for (uint32_t i = 0; i < mt.live_cap && want[k].n < 3; i++)
            if (mt.live[i].addr > 1 && mt.live[i].node == top[k])
                want[k].addr[want[k].n++] = mt.live[i].addr;
    }
    return n;
}

void omni_memtrack_census(void) {
    if (!mt.installed || mt.census_done)
        return;
    mt.census_done = 1;
    /* what the census allocates is counted (allocated and freed like
     * anything), but makes no peak and no sample */
    mt.census_running = 1;
    omni_census_want_t want[5];
    int n = wanted_blocks(want);
    omni_census_take(want, n, 1.0, omni_census_py[0].text, &mt.census);
    mt.census_running = 0;
}

int omni_memtrack_active(void) {
    return mt.installed;
}

/* Whether the pool headers give every class's size: blocks of each class
 * allocated (with the hooks passed by) and looked at. Needs the interpreter
 * (3.12's pymalloc lives in it): called when the target starts. */
static void pool_check(void) {
    static const size_t sizes[] = {1, 16, 17, 24, 100, 256, 257, 500, 511, 512};
    void *blocks[sizeof sizes / sizeof *sizes];
    int ok = 1;
    omni_heap_self++; /* pymalloc's own bookkeeping through RAW is not the target's */
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        blocks[i] = orig[PYMEM_DOMAIN_OBJ].malloc(orig[PYMEM_DOMAIN_OBJ].ctx, sizes[i]);
        uintptr_t b = (uintptr_t)blocks[i];
        const struct omni_pool_header *pool =
            (const struct omni_pool_header *)(b & ~(POOL_BYTES - 1));
        ok &= b && page_of(b) && pool->ref.count >= 1 && pool->ref.count <= POOL_BYTES / 16 &&
              pool_block_size(b) == ((sizes[i] + 15) & ~(size_t)15);
    }
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
        orig[PYMEM_DOMAIN_OBJ].free(orig[PYMEM_DOMAIN_OBJ].ctx, blocks[i]);
    omni_heap_self--;
    pool_sizes = ok;
}

void omni_memtrack_start_native(void) {
    if (mt.installed && !pool_sizes)
        pool_check();
    if (!mt.installed || mt.native_on)
        return;
    if (omni_nativeheap_start(mt.native_why, sizeof mt.native_why) == 0)
        mt.native_on = 1;
}

void omni_memtrack_stop(void) {
    mt.on = 0;
    omni_nativeheap_stop();
}

void omni_memtrack_live(uint64_t *live, uint64_t *peak) {
    *live = live_now();
    *peak = __atomic_load_n(&mt.peak, __ATOMIC_RELAXED);
}

int omni_memtrack_native_live(uint64_t *live) {
    if (!mt.native_on)
        return 0;
    *live = omni_nativeheap_live();
    return 1;
}

uint64_t omni_memtrack_allocated(void) {
    return mt.py_alloc_bytes + __atomic_load_n(&mt.raw_alloc_bytes, __ATOMIC_RELAXED);
}

void omni_memtrack_reset(void) {
    omni_spin_reset(&mt.lock); /* a thread of the parent's may have held it at the fork */
    mt.py_allocs = mt.py_frees = mt.py_alloc_bytes = mt.py_free_bytes = mt.unknown_frees = 0;
    mt.raw_allocs = mt.raw_frees = mt.raw_alloc_bytes = mt.raw_free_bytes = 0;
    mt.peak = 0;
    mt.samples = mt.samples_dropped = 0;
    for (uint32_t i = 0; i < mt.n_nodes; i++)
        mt.nodes[i].alloc_bytes = mt.nodes[i].allocs = mt.nodes[i].live_bytes =
            mt.nodes[i].peak_live = 0;
    for (uint32_t i = 0; mt.live && i < mt.live_cap; i++)
        mt.live[i].addr = 0;
    mt.n_live = 0;
    if (mt.bloom)
        memset(mt.bloom, 0, BLOOM_SLOTS);
    /* no sampled blocks on any page */
    size_t n_made = n_leaves_made <= MAX_LEAVES_MADE ? n_leaves_made : N_LEAVES;
    for (size_t k = 0; k < n_made; k++) {
        unsigned char *leaf = page_leaves[n_leaves_made <= MAX_LEAVES_MADE ? leaves_made[k] : k];
        for (size_t i = 0; leaf && i < LEAF_PAGES; i++)
            leaf[i] &= CLS_MASK;
    }
    mt.tombstones = 0;
    mt.exited = 0;
    mt.n_survivors = 0;
    memset(&mt.census, 0, sizeof mt.census);
    mt.census_done = 0;
    omni_nativeheap_reset();
    mt.exit_native_live = 0;
    mt.start_ns = omni_clock_mono_ns();
}

/* ---------------------------------------------------------------- the record */

void omni_memtrack_write_unavailable(omni_writer_t *w, const char *why) {
    msgpack_packer *pk = &w->pk;
    msgpack_pack_map(pk, 3);
    omni_pack_kv_str(pk, "kind", "memory");
    omni_pack_str(pk, "available");
    msgpack_pack_false(pk);
    omni_pack_kv_str(pk, "reason", why);
}

/* The native heap's totals, or why there are none (exit_live: its bytes
 * alive at the end, or now). */
static void write_native(msgpack_packer *pk, uint64_t exit_live) {
    omni_pack_str(pk, "native");
    if (!mt.native_on) {
        msgpack_pack_map(pk, 2);
        omni_pack_str(pk, "available");
        msgpack_pack_false(pk);
        omni_pack_kv_str(pk, "reason", mt.native_why[0] ? mt.native_why
                                                         : "the target did not start");
        return;
    }
    omni_native_totals_t t;
    omni_nativeheap_totals(&t);
    msgpack_pack_map(pk, 12);
    omni_pack_str(pk, "available");
    msgpack_pack_true(pk);
    omni_pack_kv_u64(pk, "allocations", t.allocs);
    omni_pack_kv_u64(pk, "frees", t.frees);
    omni_pack_kv_u64(pk, "allocated_bytes", t.alloc_bytes);
    omni_pack_kv_u64(pk, "freed_bytes", t.free_bytes);
    omni_pack_kv_u64(pk, "peak_bytes", t.peak_bytes);
    omni_pack_kv_u64(pk, "exit_live_bytes", exit_live);
    omni_pack_kv_u64(pk, "maps", t.maps);
    omni_pack_kv_u64(pk, "unmaps", t.unmaps);
    omni_pack_kv_u64(pk, "mapped_bytes", t.map_bytes);
    omni_pack_kv_u64(pk, "unmapped_bytes", t.unmap_bytes);
    omni_pack_kv_u64(pk, "untracked", t.untracked);
}

/* A double that another thread may be writing (under the lock). */
static double read_double(const double *p) {
    double v;
    __atomic_load(p, &v, __ATOMIC_RELAXED);
    return v;
}

/* What a record says was alive: at the program's end, or now (a
 * checkpoint: the sites' bytes alive now, no census yet). */
typedef struct mem_view {
    uint64_t wall_ns, end_ns, live, native_live;
    int now;
    uint32_t n_nodes;
    const struct xblock *survivors;
    uint32_t n_survivors;
} mem_view_t;

static void pack_memory(msgpack_packer *pk, const mem_view_t *v) {
    msgpack_pack_map(pk, 23);
    omni_pack_kv_str(pk, "kind", "memory");
    omni_pack_str(pk, "available");
    msgpack_pack_true(pk);
    omni_pack_kv_f64(pk, "mean_interval_bytes", mt.mean);
    uint64_t py_allocs = __atomic_load_n(&mt.py_allocs, __ATOMIC_RELAXED);
    uint64_t raw_allocs = __atomic_load_n(&mt.raw_allocs, __ATOMIC_RELAXED);
    omni_pack_kv_u64(pk, "allocations", py_allocs + raw_allocs);
    omni_pack_kv_u64(pk, "frees", __atomic_load_n(&mt.py_frees, __ATOMIC_RELAXED) +
                                      __atomic_load_n(&mt.raw_frees, __ATOMIC_RELAXED));
    omni_pack_kv_u64(pk, "allocated_bytes",
                     __atomic_load_n(&mt.py_alloc_bytes, __ATOMIC_RELAXED) +
                         __atomic_load_n(&mt.raw_alloc_bytes, __ATOMIC_RELAXED));
    omni_pack_kv_u64(pk, "freed_bytes", __atomic_load_n(&mt.py_free_bytes, __ATOMIC_RELAXED) +
                                            __atomic_load_n(&mt.raw_free_bytes, __ATOMIC_RELAXED));
    omni_pack_kv_u64(pk, "python_allocations", py_allocs);
    omni_pack_kv_u64(pk, "raw_allocations", raw_allocs);
    omni_pack_kv_u64(pk, "live_bytes", live_now());
    omni_pack_kv_u64(pk, "peak_bytes", __atomic_load_n(&mt.peak, __ATOMIC_RELAXED));
    uint64_t peak_t = __atomic_load_n(&mt.peak_t_ns, __ATOMIC_RELAXED);
    omni_pack_kv_u64(pk, "peak_ns", peak_t > mt.start_ns ? peak_t - mt.start_ns : 0);
    omni_pack_kv_u64(pk, "unknown_frees", __atomic_load_n(&mt.unknown_frees, __ATOMIC_RELAXED));
    omni_pack_kv_str(pk, "block_sizes", pool_sizes ? "pool_headers" : "page_map");
    omni_pack_kv_u64(pk, "samples", __atomic_load_n(&mt.samples, __ATOMIC_RELAXED));
    omni_pack_kv_u64(pk, "samples_dropped", __atomic_load_n(&mt.samples_dropped, __ATOMIC_RELAXED));
    omni_pack_kv_u64(pk, "wall_ns", v->wall_ns);
    omni_pack_kv_u64(pk, "exit_ns", v->end_ns > mt.start_ns ? v->end_ns - mt.start_ns : 0);
    omni_pack_kv_u64(pk, "exit_live_bytes", v->live);
    write_native(pk, v->native_live);
    static const char *const ncols[] = {"parent", "code", "line", "alloc_bytes", "allocs",
                                        "exit_live_bytes", "peak_live_bytes", "native"};
    omni_pack_table_head(pk, "nodes", ncols, 8, v->n_nodes);
    for (uint32_t i = 0; i < v->n_nodes; i++) {
        const struct snode *s = &mt.nodes[i];
        msgpack_pack_array(pk, 8);
        if (s->parent == UINT32_MAX)
            msgpack_pack_nil(pk);
        else
            msgpack_pack_uint32(pk, s->parent);
        if (s->code == OMNI_CODE_NONE)
            msgpack_pack_nil(pk);
        else
            msgpack_pack_uint32(pk, s->code);
        msgpack_pack_int32(pk, s->offset >= 0 ? omni_callprof_code_line(s->code, s->offset) : -1);
        msgpack_pack_double(pk, read_double(&s->alloc_bytes));
        msgpack_pack_double(pk, read_double(&s->allocs));
        double live = v->now ? read_double(&s->live_bytes) : s->exit_live;
        msgpack_pack_double(pk, live > 0 ? live : 0);
        double peak = read_double(&s->peak_live);
        msgpack_pack_double(pk, peak > 0 ? peak : 0);
        if (s->native)
            msgpack_pack_true(pk);
        else
            msgpack_pack_false(pk);
    }
    /* the census: by type, the most bytes first */
    omni_pack_str(pk, "census");
    msgpack_pack_map(pk, 6);
    const omni_census_t *c = &mt.census;
    int have_census = !v->now && mt.census_done;
    omni_pack_kv_f64(pk, "seconds", have_census ? c->seconds : 0);
    omni_pack_str(pk, "partial");
    if (have_census && c->partial)
        msgpack_pack_true(pk);
    else
        msgpack_pack_false(pk);
    omni_pack_kv_u64(pk, "objects", have_census ? c->objects : 0);
    omni_pack_kv_str(pk, "reason",
                     v->now ? "a checkpoint of a running process: the census is taken at its end"
                     : mt.census_done ? (c->why[0] ? c->why : NULL)
                                      : "the program did not end through its exit handlers "
                                        "(os._exit, a signal)");
    int n_chains = have_census ? c->n_chains : 0, n_types = have_census ? c->n_types : 0;
    static const char *const rcols[] = {"node", "chain"};
    omni_pack_table_head(pk, "referrers", rcols, 2, (uint32_t)n_chains);
    for (int i = 0; i < n_chains; i++) {
        msgpack_pack_array(pk, 2);
        msgpack_pack_uint32(pk, c->chains[i].node);
        omni_pack_str(pk, c->chains[i].text);
    }
    static const char *const ccols[] = {"type", "count", "bytes"};
    omni_pack_table_head(pk, "rows", ccols, 3, (uint32_t)n_types);
    for (int i = 0; i < n_types; i++) {
        msgpack_pack_array(pk, 3);
        omni_pack_str(pk, c->types[i].name);
        msgpack_pack_uint64(pk, c->types[i].count);
        msgpack_pack_uint64(pk, c->types[i].bytes);
    }
    /* the sampled blocks alive when the program ended (or now): their site,
     * and when they were made */
    static const char *const lcols[] = {"node", "bytes", "t_ns"};
    omni_pack_table_head(pk, "survivors", lcols, 3, v->n_survivors);
    for (uint32_t i = 0; i < v->n_survivors; i++) {
        const struct xblock *b = &v->survivors[i];
        msgpack_pack_array(pk, 3);
        msgpack_pack_uint32(pk, b->node);
        msgpack_pack_double(pk, b->weight);
        msgpack_pack_uint64(pk, b->t_ns > mt.start_ns ? b->t_ns - mt.start_ns : 0);
    }
}

void omni_memtrack_write(omni_writer_t *w, uint64_t wall_ns) {
    if (!mt.installed)
        return;
    omni_memtrack_stop();
    if (!mt.exited)
        omni_memtrack_mark_exit(); /* ended without the interpreter's exit: now */
    mem_view_t v = {wall_ns, mt.exit_ns, mt.exit_live, mt.exit_native_live, 0,
                    mt.n_nodes, mt.survivors, mt.n_survivors};
    pack_memory(&w->pk, &v);
}

/* The sampled blocks alive now, copied under the lock (a table of
 * MAX_LIVE blocks, made once): a free on another thread may move them. */
static struct xblock *now_alive;

void omni_memtrack_write_checkpoint(msgpack_packer *pk, uint64_t wall_ns) {
    if (!mt.on)
        return;
    if (!now_alive && !(now_alive = omni_own_map(MAX_LIVE * sizeof *now_alive)))
        return;
    mem_view_t v = {wall_ns, omni_clock_mono_ns(), live_now(), omni_nativeheap_live(), 1,
                    0, now_alive, 0};
    lock();
    v.n_nodes = mt.n_nodes; /* rows made before it are whole: made under the lock */
    for (uint32_t i = 0; i < mt.live_cap && v.n_survivors < MAX_LIVE; i++)
        if (mt.live[i].addr > 1)
            now_alive[v.n_survivors++] =
                (struct xblock){mt.live[i].node, mt.live[i].weight, mt.live[i].t_ns};
    unlock();
    pack_memory(pk, &v);
}
