/* retire.h - tables that a checkpoint reads while their owners grow them.
 * The owner of a table (a thread with the GIL, an I/O call) replaces a full
 * array with a larger copy; the checkpoint (on the monitor thread, without
 * the GIL, never stopping anyone) may still be reading the old one. The old
 * array is therefore retired, not freed: freed at once when no checkpoint
 * is reading, else when that checkpoint ends. A leaf: it depends on
 * nothing else of omnipython's but its allocator.
 *
 * The owner's order: copy into the new array, publish it (a release store
 * of the pointer, then of the capacity), then omni_retire(old). The
 * reader's: omni_retire_read_begin(), load the count or capacity (acquire),
 * then the pointer (acquire): a count it sees is never larger than the
 * array it then loads. */
#ifndef OMNI_RETIRE_H
#define OMNI_RETIRE_H

#include <stddef.h>

/* A copy of old (old_bytes of it) in a new block of new_bytes, the rest
 * zeroed; NULL when memory runs out (old is untouched). */
void *omni_retire_grow(const void *old, size_t old_bytes, size_t new_bytes);

/* old (from omni_own_malloc and its kind) is no longer reachable from its
 * table: free it now or when the reading checkpoint ends. */
void omni_retire(void *old);

/* The checkpoint's reading of other threads' tables begins and ends (one
 * reader at a time: the monitor thread). */
void omni_retire_read_begin(void);
void omni_retire_read_end(void);

/* In a forked child: no checkpoint is reading there. */
void omni_retire_after_fork(void);

#endif
