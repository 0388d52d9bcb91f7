/* fake_allocator.c - a stand-in for jemalloc or tcmalloc, preloaded with
 * LD_PRELOAD in the tests: its own heap (a bump allocator in one big
 * mapping, a 16-byte header with each block's size; free only counts), so a
 * block handed to the C library's free would crash. Under omnipython the
 * target must use it exactly as under python3. With FAKE_ALLOCATOR_REPORT set
 * it writes its call counts to stderr at exit. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define HEAP (8ul << 30)

static unsigned char *heap;
static size_t used;
static unsigned long n_alloc, n_free;

static void *take(size_t align, size_t n) {
    if (!heap) {
        heap = mmap(NULL, HEAP, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                    -1, 0);
        if (heap == MAP_FAILED)
            abort();
    }
    if (align < 16)
        align = 16;
    size_t start = __atomic_load_n(&used, __ATOMIC_RELAXED), at, end;
    do {
        at = (start + 16 + align - 1) & ~(align - 1);
        end = at + ((n + 15) & ~(size_t)15);
        if (end > HEAP) {
            errno = ENOMEM;
            return NULL;
        }
    } while (!__atomic_compare_exchange_n(&used, &start, end, 0, __ATOMIC_RELAXED,
                                          __ATOMIC_RELAXED));
    *(size_t *)(heap + at - 16) = n;
    __atomic_fetch_add(&n_alloc, 1, __ATOMIC_RELAXED);
    return heap + at;
}

static size_t size_of(void *p) {
    return *(size_t *)((unsigned char *)p - 16);
}

void *malloc(size_t n) { return take(16, n); }
void *calloc(size_t k, size_t n) {
    size_t b;
    if (__builtin_mul_overflow(k, n, &b)) {
        errno = ENOMEM;
        return NULL;
    }
    return take(16, b); /* fresh pages: already zero */
}
void free(void *p) {
    if (p)
        __atomic_fetch_add(&n_free, 1, __ATOMIC_RELAXED);
}
void *realloc(void *p, size_t n) {
    if (!p)
        return malloc(n);
    void *q = malloc(n);
    if (q) {
        size_t old = size_of(p);
        memcpy(q, p, old < n ? old : n);
        free(p);
    }
    return q;
}
void *memalign(size_t align, size_t n) { return take(align, n); }
void *aligned_alloc(size_t align, size_t n) { return take(align, n); }
int posix_memalign(void **out, size_t align, size_t n) {
    void *p = take(align, n);
    if (!p)
        return ENOMEM;
    *out = p;
    return 0;
}
void *valloc(size_t n) { return take(4096, n); }
void *pvalloc(size_t n) { return take(4096, (n + 4095) & ~4095ul); }
size_t malloc_usable_size(void *p) { return p ? size_of(p) : 0; }

__attribute__((destructor)) static void report(void) {
    if (getenv("FAKE_ALLOCATOR_REPORT"))
        fprintf(stderr, "fake allocator: %s\n", n_alloc > 100 && n_free > 100 ? "used" : "unused");
}
