/* spin.h - the small spin locks of the allocator hooks (memtrack.c,
 * nativeheap.c), which know their holder: the end of a run is written from
 * a fatal signal's handler (SIGTERM to a pool's worker), which may have
 * interrupted the very thread that holds one, and must not wait for itself. */
#ifndef OMNI_SPIN_H
#define OMNI_SPIN_H

#include <stdint.h>

typedef struct {
    uintptr_t holder; /* the holding thread's omni_spin_me, or 0 */
} omni_spin_t;

/* Its address tells the threads apart (runtime/nativeheap.c defines it). */
extern __thread char omni_spin_me;

static inline void omni_spin_lock(omni_spin_t *l) {
    uintptr_t me = (uintptr_t)&omni_spin_me, none = 0;
    while (!__atomic_compare_exchange_n(&l->holder, &none, me, 0, __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED)) {
        none = 0;
        while (__atomic_load_n(&l->holder, __ATOMIC_RELAXED))
            ;
    }
}

static inline void omni_spin_unlock(omni_spin_t *l) {
    __atomic_store_n(&l->holder, 0, __ATOMIC_RELEASE);
}

/* Takes l unless this thread holds it already (a signal's handler that ends
 * the run interrupted it inside): returns 1 when it took it, to be unlocked,
 * 0 when it reads what the interrupted code holds. */
static inline int omni_spin_lock_unless_mine(omni_spin_t *l) {
    if (__atomic_load_n(&l->holder, __ATOMIC_RELAXED) == (uintptr_t)&omni_spin_me)
        return 0;
    omni_spin_lock(l);
    return 1;
}

/* In a forked child: the thread that held it is gone. */
static inline void omni_spin_reset(omni_spin_t *l) {
    l->holder = 0;
}

#endif
