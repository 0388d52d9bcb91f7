/* nativeheap.h - the C heap outside Python's allocators: what C extensions
 * and libraries allocate with malloc and its relatives and with anonymous
 * mmap, counted apart from Python's three domains (memtrack.c) so that no
 * block is counted twice. The executable defines malloc, free, mmap... and
 * exports them, so every library's calls reach them first; they pass each
 * call on to the allocator underneath (a preloaded one, or the C
 * library's). Not in a sanitizer build (the
 * sanitizer owns malloc there): omni_nativeheap_available says so. */
#ifndef OMNI_NATIVEHEAP_H
#define OMNI_NATIVEHEAP_H

#include <stddef.h>
#include <stdint.h>

/* 1 in a sanitizer's build, whose runtime owns malloc and intercepts
 * pthread_create: the executable then defines neither. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define OMNI_SANITIZER_BUILD 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
#define OMNI_SANITIZER_BUILD 1
#endif
#endif
#ifndef OMNI_SANITIZER_BUILD
#define OMNI_SANITIZER_BUILD 0
#endif

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

typedef struct omni_native_totals {
    uint64_t allocs, frees, alloc_bytes, free_bytes, peak_bytes;
    uint64_t maps, unmaps, map_bytes, unmap_bytes; /* anonymous mappings */
    uint64_t untracked;   /* blocks that could not be marked (counted neither way) */
} omni_native_totals_t;

/* 1 when this build counts the native heap; else 0 with the reason. */
int omni_nativeheap_available(char *why, size_t cap);
/* Starts and stops counting (the target's run). Start returns -1 with the
 * reason when the tables cannot be mapped. */
int omni_nativeheap_start(char *why, size_t cap);
void omni_nativeheap_stop(void);
/* In a forked child that starts a session of its own: forget the parent's. */
void omni_nativeheap_reset(void);
void omni_nativeheap_totals(omni_native_totals_t *t);
/* Bytes alive now: heap blocks and anonymous mappings. */
uint64_t omni_nativeheap_live(void);

#endif
