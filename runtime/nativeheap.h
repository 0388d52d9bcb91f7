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

#include "runtime/interpose.h"
#include "runtime/ownmem.h"

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
