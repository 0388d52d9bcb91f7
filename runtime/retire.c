/* retire.c - old arrays kept until the checkpoint reading them is done
 * (retire.h). The owner publishes its new array, then looks at `reading`;
 * the reader raises `reading`, then loads the arrays: with both sequentially
 * consistent, either the owner sees the reader (and keeps the old array
 * for it) or the reader sees the new array (and never the old one). */
#include "runtime/retire.h"

#include <string.h>

#include "runtime/ownmem.h"

typedef struct retired {
    struct retired *next;
    void *block;
} retired_t;

static int reading;          /* atomic: a checkpoint is reading */
static retired_t *retired;   /* atomic: a stack of blocks to free when it ends */

void *omni_retire_grow(const void *old, size_t old_bytes, size_t new_bytes) {
    char *p = omni_own_malloc(new_bytes ? new_bytes : 1);
    if (!p)
        return NULL;
    if (old_bytes)
        memcpy(p, old, old_bytes);
    memset(p + old_bytes, 0, new_bytes - old_bytes);
    return p;
}

void omni_retire(void *old) {
    if (!old)
        return;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (!__atomic_load_n(&reading, __ATOMIC_SEQ_CST)) {
        omni_own_free(old);
        return;
    }
    retired_t *r = omni_own_malloc(sizeof *r);
    if (!r)
        return; /* kept for good: a few bytes lost rather than a block freed under a reader */
    r->block = old;
    r->next = __atomic_load_n(&retired, __ATOMIC_ACQUIRE);
    while (!__atomic_compare_exchange_n(&retired, &r->next, r, 0, __ATOMIC_RELEASE,
                                        __ATOMIC_ACQUIRE))
        ;
}

void omni_retire_read_begin(void) {
    __atomic_store_n(&reading, 1, __ATOMIC_SEQ_CST);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

void omni_retire_read_end(void) {
    __atomic_store_n(&reading, 0, __ATOMIC_SEQ_CST);
    /* What was retired while we read: nobody else can reach it now. A block
     * retired after this exchange waits for the next reader's end. */
    retired_t *r = __atomic_exchange_n(&retired, NULL, __ATOMIC_ACQ_REL);
    while (r) {
        retired_t *next = r->next;
        omni_own_free(r->block);
        omni_own_free(r);
        r = next;
    }
}

void omni_retire_after_fork(void) {
    omni_retire_read_end(); /* the reader was a thread that the child does not have */
}
