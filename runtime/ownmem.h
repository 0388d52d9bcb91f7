/* ownmem.h - omnipython's own memory: what it allocates for itself, on the
 * target's threads or its own, is never counted as the target's (the native
 * heap's interposer, nativeheap.c, asks omni_heap_self). A leaf: it depends
 * on nothing else of omnipython's. */
#ifndef OMNI_OWNMEM_H
#define OMNI_OWNMEM_H

#include <stddef.h>

/* Above 0 on a thread while its allocations are not the target's native
 * heap: while memtrack's RAW and arena hooks call the original allocators
 * (Python's RAW domain is malloc underneath, its arenas mmap), inside
 * omnipython's own code, and for good on omnipython's own threads. */
extern __thread int omni_heap_self;

/* omnipython's own allocations on the target's threads: never counted as
 * the target's native memory. */
void *omni_own_malloc(size_t n);
void *omni_own_calloc(size_t k, size_t n);
void *omni_own_realloc(void *p, size_t n);
void omni_own_free(void *p);
char *omni_own_strdup(const char *s);

/* omnipython's own tables: anonymous, zero-filled, reserved lazily (pages
 * are committed when first written), never counted or seen by the native
 * heap's mmap. NULL on failure. */
void *omni_own_map(size_t len);
void omni_own_unmap(void *p, size_t len);

#endif
