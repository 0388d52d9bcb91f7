/* ownthread.h - which threads and descriptors are omnipython's own: the
 * monitor, the prober and the watchdog, and what the libraries they call
 * start and open for themselves (NVIDIA's driver starts a thread and opens
 * /dev/nvidia* inside nvmlInit). None of it is the target's: the monitor
 * leaves it out of the thread and descriptor counts, the I/O accounting and
 * the native heap out of theirs. */
#ifndef OMNI_OWNTHREAD_H
#define OMNI_OWNTHREAD_H

#include <pthread.h>

/* pthread_create for a thread of omnipython's: nothing it allocates, no
 * byte it moves and no descriptor it opens is the target's, and a thread it
 * starts is omnipython's too. */
int omni_own_thread_start(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *),
                          void *arg);
/* omnipython's threads alive now. */
int omni_own_threads_alive(void);
/* In a forked child: only the thread that forked survived. */
void omni_own_threads_after_fork(void);
/* While on (a fork under way on this thread), /proc/self/stat read through
 * fopen on this thread counts the target's threads alone: CPython 3.12+
 * warns at fork when it counts more than one. OMNI_HIDE_ONE_READ: for the
 * next such read only (3.13 reads after the fork's callbacks). (fopen is the
 * executable's: it also serves /proc/self/maps to omnipython's threads from
 * a copy read whole, which PAPI needs; see ownthread.c.) */
#define OMNI_HIDE_ONE_READ 2
void omni_own_threads_hide(int on);
/* Whether a thread hides omnipython's threads now (a fork under way, at most
 * OMNI_HIDING_MAX_NS): no thread of omnipython's should start then, or the
 * read would subtract one that it does not see yet and find a threaded
 * target single-threaded (3.13's test_main_thread_after_fork_from_nonmain_thread
 * missed its warning 2 runs in 100 on a loaded machine: the prober was
 * counted, not yet made). */
#define OMNI_HIDING_MAX_NS 1000000000ull
int omni_own_threads_hiding(void);

#endif
