/* nativeheap.c - the native heap: malloc and its relatives and anonymous
 * mmap, interposed in the executable, counted while the target runs.
 *
 * A block is counted on free only if its allocation was (a block allocated
 * before the run, or by omnipython itself, is not the target's): a bit per
 * 8 bytes of address space (glibc's blocks are 16 bytes apart at least,
 * jemalloc's and tcmalloc's smallest 8) says so, in 1 MiB leaves mapped when
 * an address range is first used, each covering 64 MiB. The bit is cleared
 * before the block goes back to the allocator, so another thread that gets
 * the same address marks it afresh. Its size on free is malloc_usable_size, as at its allocation.
 * Anonymous mappings are kept in a small table (they are few): munmap and
 * mremap subtract the part of a counted mapping they cover.
 *
 * Every call passes to the allocator the process would have used without
 * omnipython — the next definition after the executable: one the user
 * preloads (jemalloc, tcmalloc through LD_PRELOAD) or the C library's — so
 * the target's memory behaves as under python3. Nothing here calls Python,
 * takes the GIL or allocates. */
#define _GNU_SOURCE
#include "runtime/nativeheap.h"

#include "runtime/memtrack.h"
#include "runtime/spin.h"

#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

__thread char omni_spin_me;

#if OMNI_SANITIZER_BUILD || defined(OMNI_NO_NATIVE_HEAP)
#define NATIVE 0
#else
#define NATIVE 1
#endif

#if NATIVE

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
extern void *__libc_memalign(size_t, size_t);

#define LEAF_SHIFT 26                               /* 64 MiB of addresses a leaf */
#define LEAF_WORDS ((1ul << LEAF_SHIFT) / 8 / 64)   /* a bit per 8 bytes */
#define N_LEAVES (1ul << (48 - LEAF_SHIFT))         /* 48-bit addresses */
#define MAX_MAPS 4096
#define MAX_MADE 4096   /* leaves remembered by number: 256 GiB of address space */

static struct {
    int on;
    uint64_t **leaves;                  /* N_LEAVES pointers, mapped at the start */
    /* The leaves made, by number (a forked child's reset unmaps these rather
     * than reading the 32 MiB of pointers: 100 ms a fork in --mode full),
     * n_made counts them all, beyond MAX_MADE too. */
    uint32_t made[MAX_MADE];
    uint32_t n_made;
    uint64_t allocs, frees, alloc_bytes, free_bytes, peak, untracked; /* atomics */
    uint64_t maps, unmaps, map_bytes, unmap_bytes;                    /* under the lock */
    omni_spin_t lock;
    struct map {
        uintptr_t base, len;
    } map[MAX_MAPS];                    /* the target's anonymous mappings alive */
    int n_maps;
} nh;

/* The word and bit of p; NULL when p's leaf is not there (and may not be
 * made). */
static uint64_t *word_of(uintptr_t p, uint64_t *bit, int make) {
    uintptr_t top = p >> LEAF_SHIFT;
    if (top >= N_LEAVES || !nh.leaves)
        return NULL;
    uint64_t *leaf = __atomic_load_n(&nh.leaves[top], __ATOMIC_ACQUIRE);
    if (!leaf) {
        if (!make)
            return NULL;
        leaf = omni_own_map(LEAF_WORDS * sizeof *leaf);
        if (!leaf)
            return NULL;
        uint64_t *none = NULL;
        if (!__atomic_compare_exchange_n(&nh.leaves[top], &none, leaf, 0, __ATOMIC_ACQ_REL,
                                         __ATOMIC_ACQUIRE)) {
            omni_own_unmap(leaf, LEAF_WORDS * sizeof *leaf);
            leaf = none;
        } else {
            uint32_t i = __atomic_fetch_add(&nh.n_made, 1, __ATOMIC_RELAXED);
            if (i < MAX_MADE)
                nh.made[i] = (uint32_t)top;
        }
    }
    uintptr_t b = (p & ((1ul << LEAF_SHIFT) - 1)) >> 3;
    *bit = 1ull << (b & 63);
    return &leaf[b >> 6];
}

static inline int counting(void) {
    return __atomic_load_n(&nh.on, __ATOMIC_RELAXED) && !omni_heap_self;
}

static void note_peak(void) {
    uint64_t live = omni_nativeheap_live();
    if (live > __atomic_load_n(&nh.peak, __ATOMIC_RELAXED))
        __atomic_store_n(&nh.peak, live, __ATOMIC_RELAXED); /* racing threads: within a block */
}

static void counted_alloc(void *p) {
    if (!p)
        return;
    uint64_t bit, *w = word_of((uintptr_t)p, &bit, 1);
    if (!w) {
        __atomic_fetch_add(&nh.untracked, 1, __ATOMIC_RELAXED);
        return;
    }
    __atomic_fetch_or(w, bit, __ATOMIC_RELAXED);
    size_t n = malloc_usable_size(p);
    __atomic_fetch_add(&nh.allocs, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&nh.alloc_bytes, n, __ATOMIC_RELAXED);
    note_peak();
    omni_heap_self++;
    omni_memtrack_native_alloc((uintptr_t)p, n);
    omni_heap_self--;
}

/* Before p goes back to the C library: its size if it was counted, else 0.
 * Whoever frees it, and whether counting is on or not: the bit says. */
static size_t counted_free(void *p) {
    uint64_t bit, *w = word_of((uintptr_t)p, &bit, 0);
    if (!w || !(__atomic_load_n(w, __ATOMIC_RELAXED) & bit) ||
        !(__atomic_fetch_and(w, ~bit, __ATOMIC_RELAXED) & bit))
        return 0;
    size_t n = malloc_usable_size(p);
    __atomic_fetch_add(&nh.frees, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&nh.free_bytes, n, __ATOMIC_RELAXED);
    omni_heap_self++;
    omni_memtrack_native_free((uintptr_t)p);
    omni_heap_self--;
    return n;
}

/* A failed realloc keeps its block: it counts again. */
static void uncount_free(void *p, size_t n) {
    uint64_t bit, *w = word_of((uintptr_t)p, &bit, 0);
    if (!w)
        return;
    __atomic_fetch_or(w, bit, __ATOMIC_RELAXED);
    __atomic_fetch_sub(&nh.frees, 1, __ATOMIC_RELAXED);
    __atomic_fetch_sub(&nh.free_bytes, n, __ATOMIC_RELAXED);
}

/* ---------------------------------------------------------------- the allocator underneath */

/* The allocator the process would use without omnipython: the next
 * definition of each function after the executable — an allocator the
 * user preloads (LD_PRELOAD: jemalloc, tcmalloc) or else the C library's.
 * Looked up at the first call, before any block is handed out, so that
 * every block comes from one allocator; calls made while dlsym itself runs
 * get memory from a small static buffer that is never freed. */
static struct {
    void *(*malloc)(size_t);
    void *(*calloc)(size_t, size_t);
    void *(*realloc)(void *, size_t);
    void (*free)(void *);
    void *(*memalign)(size_t, size_t);
    int (*posix_memalign)(void **, size_t, size_t);
    void *(*aligned_alloc)(size_t, size_t);
    void *(*valloc)(size_t);
    void *(*pvalloc)(size_t);
    void *(*mmap)(void *, size_t, int, int, int, off_t);
    int (*munmap)(void *, size_t);
    void *(*mremap)(void *, size_t, size_t, int, ...);
} next;
static int resolving;

static _Alignas(16) unsigned char boot[1 << 16];
static size_t boot_used;

static int is_boot(const void *p) {
    return (const unsigned char *)p >= boot && (const unsigned char *)p < boot + sizeof boot;
}

/* A block of the buffer: its size in the 16 bytes before it. */
static void *boot_alloc(size_t n) {
    size_t need = 16 + ((n + 15) & ~(size_t)15);
    if (n > sizeof boot || boot_used + need > sizeof boot)
        return NULL;
    unsigned char *p = boot + boot_used + 16;
    *(size_t *)(p - 16) = n;
    boot_used += need;
    return p;
}

#define NEXT(name) next.name = (__typeof__(next.name))dlsym(RTLD_NEXT, #name)

static void resolve(void) {
    resolving = 1;
    NEXT(malloc); NEXT(calloc); NEXT(realloc); NEXT(free); NEXT(memalign);
    NEXT(posix_memalign); NEXT(aligned_alloc); NEXT(valloc); NEXT(pvalloc);
    NEXT(mmap); NEXT(munmap); NEXT(mremap);
    if (!next.malloc || !next.calloc || !next.realloc || !next.free || !next.memalign) {
        next.malloc = __libc_malloc; /* no dynamic lookup: the C library's own */
        next.calloc = __libc_calloc;
        next.realloc = __libc_realloc;
        next.free = __libc_free;
        next.memalign = __libc_memalign;
    }
    resolving = 0;
}

/* 1 when the allocator underneath is there; 0 while it is being looked up
 * (the caller then takes the static buffer). */
static inline int ready(void) {
    if (__builtin_expect(next.free != NULL, 1))
        return 1;
    if (resolving)
        return 0;
    resolve();
    return 1;
}

/* ---------------------------------------------------------------- malloc and its relatives */

void *malloc(size_t n) {
    if (!ready())
        return boot_alloc(n);
    void *p = next.malloc(n);
    if (counting())
        counted_alloc(p);
    return p;
}

void *calloc(size_t k, size_t n) {
    if (!ready()) {
        size_t bytes;
        return __builtin_mul_overflow(k, n, &bytes) ? NULL : boot_alloc(bytes); /* zeroed */
    }
    void *p = next.calloc(k, n);
    if (counting())
        counted_alloc(p);
    return p;
}

void free(void *p) {
    if (!p || is_boot(p))
        return;
    if (nh.leaves)
        counted_free(p);
    if (ready()) /* (while dlsym runs, nothing but the buffer can be freed) */
        next.free(p);
}

void *realloc(void *old, size_t n) {
    if (old && is_boot(old)) { /* out of the buffer, into the allocator */
        void *p = malloc(n);
        if (p)
            memcpy(p, old, n < *(size_t *)((unsigned char *)old - 16)
                               ? n : *(size_t *)((unsigned char *)old - 16));
        return p;
    }
    if (!ready())
        return old ? NULL : boot_alloc(n);
    size_t was = old && nh.leaves ? counted_free(old) : 0;
    void *p = next.realloc(old, n);
    if (!p && old && n) {
        if (was)
            uncount_free(old, was);
        return NULL;
    }
    if (counting())
        counted_alloc(p);
    return p;
}

void *reallocarray(void *old, size_t k, size_t n) {
    size_t bytes;
    if (__builtin_mul_overflow(k, n, &bytes)) {
        errno = ENOMEM;
        return NULL;
    }
    return realloc(old, bytes);
}

/* The aligned allocations: each through its own function underneath (an
 * allocator may treat them apart), counted alike. */
static void *aligned_done(void *p) {
    if (counting())
        counted_alloc(p);
    return p;
}

void *memalign(size_t align, size_t n) {
    if (!ready())
        return NULL; /* (dlsym asks for no aligned memory) */
    return aligned_done(next.memalign(align, n));
}

void *aligned_alloc(size_t align, size_t n) {
    if (!ready())
        return NULL;
    return aligned_done(next.aligned_alloc ? next.aligned_alloc(align, n)
                                           : next.memalign(align, n));
}

int posix_memalign(void **out, size_t align, size_t n) {
    if (!ready())
        return ENOMEM;
    if (next.posix_memalign) {
        int rc = next.posix_memalign(out, align, n);
        if (rc == 0)
            aligned_done(*out);
        return rc;
    }
    if (!align || (align & (align - 1)) || align % sizeof(void *))
        return EINVAL;
    int saved = errno;
    void *p = memalign(align, n);
    if (!p)
        return ENOMEM;
    errno = saved;
    *out = p;
    return 0;
}

void *valloc(size_t n) {
    if (!ready())
        return NULL;
    return next.valloc ? aligned_done(next.valloc(n))
                       : memalign((size_t)sysconf(_SC_PAGESIZE), n);
}

void *pvalloc(size_t n) {
    if (!ready())
        return NULL;
    if (next.pvalloc)
        return aligned_done(next.pvalloc(n));
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    if (n > SIZE_MAX - page) {
        errno = ENOMEM;
        return NULL;
    }
    return memalign(page, n ? (n + page - 1) & ~(page - 1) : page);
}

/* ---------------------------------------------------------------- anonymous mappings */

static void lock(void) {
    omni_spin_lock(&nh.lock);
}

static void unlock(void) {
    omni_spin_unlock(&nh.lock);
}

static size_t page_round(size_t n) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    return (n + page - 1) & ~(page - 1);
}

/* A mapping of the target's: counted, and sampled like a block. */
static void add_map(uintptr_t base, size_t len) {
    lock();
    int added = nh.n_maps < MAX_MAPS;
    if (added) {
        nh.map[nh.n_maps++] = (struct map){base, len};
        nh.maps++;
        nh.map_bytes += len;
    }
    unlock();
    if (!added) {
        __atomic_fetch_add(&nh.untracked, 1, __ATOMIC_RELAXED); /* the table is full */
        return;
    }
    note_peak();
    omni_heap_self++;
    omni_memtrack_native_alloc(base, len);
    omni_heap_self--;
}

/* [base, base + len) is unmapped: the counted mappings lose what it covers
 * (a mapping's sample goes with its first page). */
static void cut_maps(uintptr_t base, size_t len) {
    if (!__atomic_load_n(&nh.n_maps, __ATOMIC_RELAXED))
        return;
    uintptr_t end = base + len;
    uintptr_t gone[8];  /* mappings whose first page went: their samples go */
    int n_gone = 0;
    lock();
    for (int i = 0; i < nh.n_maps; i++) {
        struct map m = nh.map[i];
        uintptr_t lo = m.base > base ? m.base : base;
        uintptr_t hi = m.base + m.len < end ? m.base + m.len : end;
        if (lo >= hi)
            continue;
        if (lo == m.base && n_gone < 8)
            gone[n_gone++] = m.base;
        nh.unmaps++;
        nh.unmap_bytes += hi - lo;
        if (lo > m.base && hi < m.base + m.len && nh.n_maps < MAX_MAPS) {
            nh.map[i].len = lo - m.base; /* a hole in the middle: two parts */
            nh.map[nh.n_maps++] = (struct map){hi, m.base + m.len - hi};
        } else if (lo > m.base) {
            nh.map[i].len = lo - m.base;
        } else if (hi < m.base + m.len) {
            nh.map[i] = (struct map){hi, m.base + m.len - hi};
        } else {
            nh.map[i--] = nh.map[--nh.n_maps];
        }
    }
    unlock();
    omni_heap_self++;
    for (int i = 0; i < n_gone; i++)
        omni_memtrack_native_free(gone[i]);
    omni_heap_self--;
}

static int counted_map(int flags, int fd) {
    return (flags & MAP_ANONYMOUS) && fd == -1 && counting();
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
    void *p;
    if (resolving || !ready() || !next.mmap) {
        long r = syscall(SYS_mmap, addr, len, prot, flags, fd, off); /* sets errno */
        p = r < 0 && r > -4096 ? MAP_FAILED : (void *)r;
    } else {
        p = next.mmap(addr, len, prot, flags, fd, off);
    }
    if (p != MAP_FAILED && counted_map(flags, fd))
        add_map((uintptr_t)p, page_round(len));
    return p;
}

void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
    return mmap(addr, len, prot, flags, fd, off);
}

int munmap(void *addr, size_t len) {
    int rc = resolving || !ready() || !next.munmap ? (int)syscall(SYS_munmap, addr, len)
                                                   : next.munmap(addr, len);
    if (rc == 0)
        cut_maps((uintptr_t)addr, page_round(len));
    return rc;
}

void *mremap(void *old, size_t old_len, size_t new_len, int flags, ...) {
    void *want = NULL;
    if (flags & MREMAP_FIXED) {
        va_list ap;
        va_start(ap, flags);
        want = va_arg(ap, void *);
        va_end(ap);
    }
    void *p;
    if (resolving || !ready() || !next.mremap) {
        long r = syscall(SYS_mremap, old, old_len, new_len, flags, want);
        p = r < 0 && r > -4096 ? MAP_FAILED : (void *)r;
    } else {
        p = next.mremap(old, old_len, new_len, flags, want);
    }
    if (p == MAP_FAILED)
        return MAP_FAILED;
    /* a counted mapping moves or changes size: the old part goes, the new
     * one comes (when the old was the target's) */
    int was = 0;
    uintptr_t o = (uintptr_t)old;
    if (__atomic_load_n(&nh.n_maps, __ATOMIC_RELAXED)) {
        lock();
        for (int i = 0; i < nh.n_maps && !was; i++)
            was = o >= nh.map[i].base && o < nh.map[i].base + nh.map[i].len;
        unlock();
    }
    if (was) {
        cut_maps(o, page_round(old_len));
        add_map((uintptr_t)p, page_round(new_len));
    }
    return (void *)p;
}

/* ---------------------------------------------------------------- control */

int omni_nativeheap_available(char *why, size_t cap) {
    (void)why, (void)cap;
    return 1;
}

/* In a forked child the thread that held the mappings' lock may not exist. */
static void after_fork_child(void) {
    omni_spin_reset(&nh.lock);
}

int omni_nativeheap_start(char *why, size_t cap) {
    if (!nh.leaves) {
        pthread_atfork(NULL, NULL, after_fork_child);
        nh.leaves = omni_own_map(N_LEAVES * sizeof *nh.leaves);
        if (!nh.leaves) {
            snprintf(why, cap, "cannot map the native heap's table (%lu MiB of address space)",
                     (unsigned long)(N_LEAVES * sizeof *nh.leaves >> 20));
            return -1;
        }
    }
    __atomic_store_n(&nh.on, 1, __ATOMIC_RELEASE);
    return 0;
}

void omni_nativeheap_stop(void) {
    __atomic_store_n(&nh.on, 0, __ATOMIC_RELEASE);
}

void omni_nativeheap_reset(void) {
    omni_spin_reset(&nh.lock); /* a thread of the parent's may have held it at the fork */
    uint32_t n = nh.n_made;
    for (size_t k = 0; nh.leaves && k < (n <= MAX_MADE ? n : N_LEAVES); k++) {
        size_t i = n <= MAX_MADE ? nh.made[k] : k;
        if (nh.leaves[i]) {
            omni_own_unmap(nh.leaves[i], LEAF_WORDS * sizeof **nh.leaves);
            nh.leaves[i] = NULL;
        }
    }
    nh.n_made = 0;
    nh.allocs = nh.frees = nh.alloc_bytes = nh.free_bytes = nh.peak = nh.untracked = 0;
    nh.maps = nh.unmaps = nh.map_bytes = nh.unmap_bytes = 0;
    nh.n_maps = 0;
}

void omni_nativeheap_totals(omni_native_totals_t *t) {
    int took = omni_spin_lock_unless_mine(&nh.lock); /* (from a signal's handler) */
    *t = (omni_native_totals_t){
        __atomic_load_n(&nh.allocs, __ATOMIC_RELAXED),
        __atomic_load_n(&nh.frees, __ATOMIC_RELAXED),
        __atomic_load_n(&nh.alloc_bytes, __ATOMIC_RELAXED),
        __atomic_load_n(&nh.free_bytes, __ATOMIC_RELAXED),
        __atomic_load_n(&nh.peak, __ATOMIC_RELAXED),
        nh.maps, nh.unmaps, nh.map_bytes, nh.unmap_bytes,
        __atomic_load_n(&nh.untracked, __ATOMIC_RELAXED)};
    if (took)
        unlock();
}

uint64_t omni_nativeheap_live(void) {
    uint64_t a = __atomic_load_n(&nh.alloc_bytes, __ATOMIC_RELAXED);
    uint64_t f = __atomic_load_n(&nh.free_bytes, __ATOMIC_RELAXED);
    uint64_t m = __atomic_load_n(&nh.map_bytes, __ATOMIC_RELAXED);
    uint64_t u = __atomic_load_n(&nh.unmap_bytes, __ATOMIC_RELAXED);
    return (a > f ? a - f : 0) + (m > u ? m - u : 0);
}

#else /* a sanitizer's build: its runtime owns malloc */

int omni_nativeheap_available(char *why, size_t cap) {
    snprintf(why, cap, "this build's sanitizer replaces malloc: the native heap is not counted");
    return 0;
}

int omni_nativeheap_start(char *why, size_t cap) {
    return omni_nativeheap_available(why, cap) ? 0 : -1;
}

void omni_nativeheap_stop(void) {}
void omni_nativeheap_reset(void) {}

void omni_nativeheap_totals(omni_native_totals_t *t) {
    memset(t, 0, sizeof *t);
}

uint64_t omni_nativeheap_live(void) {
    return 0;
}

#endif
