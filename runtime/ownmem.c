/* ownmem.c - omnipython's own memory: the C library's allocator with
 * omni_heap_self raised around each call (so the native heap does not count
 * it), and anonymous mappings made with the raw system call (never seen by
 * the interposed mmap). */
#define _GNU_SOURCE
#include "runtime/ownmem.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

__thread int omni_heap_self;

/* The C library's allocators are builtins to the compiler, which knows they
 * read no variable of ours: without a barrier it drops the increment and
 * the decrement around them (GCC 12 made omni_own_calloc a bare jump to
 * calloc, and omnipython's own tables counted as the target's native heap). */
#define OWN_BEGIN()                                                                       \
    do {                                                                                  \
        omni_heap_self++;                                                                 \
        __asm__ volatile("" ::: "memory");                                                \
    } while (0)
#define OWN_END()                                                                         \
    do {                                                                                  \
        __asm__ volatile("" ::: "memory");                                                \
        omni_heap_self--;                                                                 \
    } while (0)

void *omni_own_map(size_t len) {
    long p = syscall(SYS_mmap, NULL, len, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p < 0 && p > -4096 ? NULL : (void *)p;
}

void omni_own_unmap(void *p, size_t len) {
    syscall(SYS_munmap, p, len);
}

void *omni_own_malloc(size_t n) {
    OWN_BEGIN();
    void *p = malloc(n);
    OWN_END();
    return p;
}

void *omni_own_calloc(size_t k, size_t n) {
    OWN_BEGIN();
    void *p = calloc(k, n);
    OWN_END();
    return p;
}

void *omni_own_realloc(void *p, size_t n) {
    OWN_BEGIN();
    void *q = realloc(p, n);
    OWN_END();
    return q;
}

char *omni_own_strdup(const char *s) {
    OWN_BEGIN();
    char *d = strdup(s);
    OWN_END();
    return d;
}

void omni_own_free(void *p) {
    OWN_BEGIN();
    free(p);
    OWN_END();
}
