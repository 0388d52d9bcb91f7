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

void *omni_own_map(size_t len) {
    long p = syscall(SYS_mmap, NULL, len, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p < 0 && p > -4096 ? NULL : (void *)p;
}

void omni_own_unmap(void *p, size_t len) {
    syscall(SYS_munmap, p, len);
}

void *omni_own_malloc(size_t n) {
    omni_heap_self++;
    void *p = malloc(n);
    omni_heap_self--;
    return p;
}

void *omni_own_calloc(size_t k, size_t n) {
    omni_heap_self++;
    void *p = calloc(k, n);
    omni_heap_self--;
    return p;
}

void *omni_own_realloc(void *p, size_t n) {
    omni_heap_self++;
    void *q = realloc(p, n);
    omni_heap_self--;
    return q;
}

char *omni_own_strdup(const char *s) {
    omni_heap_self++;
    char *d = strdup(s);
    omni_heap_self--;
    return d;
}

void omni_own_free(void *p) {
    omni_heap_self++;
    free(p);
    omni_heap_self--;
}
