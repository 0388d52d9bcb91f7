/* memtrack.h - Python's memory, through allocator hooks on the three
 * domains (RAW, MEM, OBJ): exact counts and bytes of allocations and frees,
 * live and peak bytes, and allocation sites sampled by bytes (a random,
 * exponentially distributed interval, as tcmalloc's and memray's samplers
 * do) with the Python stack of each sampled allocation, kept until it is
 * freed. The hooks never call Python and never take the GIL. */
#ifndef OMNI_MEMTRACK_H
#define OMNI_MEMTRACK_H

#include "runtime/session/writer.h"

#define OMNI_MEM_DEFAULT_INTERVAL (256 * 1024)

/* Installs the hooks: after pre-initialisation, before the interpreter
 * starts. mean_interval: bytes between samples on average. Returns 0, or -1
 * with the reason in why (PYTHONMALLOC or dev mode's debug hooks: block
 * sizes cannot be known safely then). */
int omni_memtrack_install(size_t mean_interval, char *why, size_t cap);
/* When the program has ended, before the interpreter frees its modules:
 * what is alive then is what "alive at exit" means. Idempotent. */
void omni_memtrack_mark_exit(void);

/* The heap census by type (the garbage collector's objects and what they
 * refer to directly), bounded to about a second: at the program's end, with
 * the GIL. Idempotent. */
void omni_memtrack_census(void);

/* When the target starts: the native heap (nativeheap.h) is counted from
 * now on, when this build can. */
void omni_memtrack_start_native(void);
/* The native heap's blocks: sampled like Python's (native sites), and
 * forgotten when freed. Called by nativeheap.c with omni_heap_self up. */
void omni_memtrack_native_alloc(uintptr_t p, size_t size);
void omni_memtrack_native_free(uintptr_t p);

/* Whether the hooks are installed and counting. */
int omni_memtrack_active(void);
/* Stops counting (the hooks stay, passing through). Idempotent. */
void omni_memtrack_stop(void);

/* The totals so far: bytes alive in Python's allocators, and the peak. */
void omni_memtrack_live(uint64_t *live, uint64_t *peak);
/* The native heap's bytes alive now: 1, or 0 when it is not counted (a
 * sanitizer build, or before the target started). */
int omni_memtrack_native_live(uint64_t *live);
/* Bytes allocated so far (all domains). */
uint64_t omni_memtrack_allocated(void);

/* Writes the "memory" record (no allocation: callable at the end). */
void omni_memtrack_write(omni_writer_t *w, uint64_t wall_ns);
/* The "memory" record of a checkpoint (checkpoint.h), on the monitor thread
 * while the target allocates on: alive means alive now, and there is no
 * census yet. Nothing when the hooks are not counting. */
void omni_memtrack_write_checkpoint(msgpack_packer *pk, uint64_t wall_ns);
/* The "memory" record says why when the hooks could not be installed. */
void omni_memtrack_write_unavailable(omni_writer_t *w, const char *why);

/* In a forked child that starts a session of its own: zero the counts. */
void omni_memtrack_reset(void);

#endif
