/* targetthreads.c - the target's threads alive (see targetthreads.h). A
 * counted thread carries a thread-specific key, whose destructor glibc runs
 * as the thread ends (returned or pthread_exit), just before glibc itself
 * would call exit(0) if it were the last thread of the process. */
#include "runtime/targetthreads.h"

#include <pthread.h>
#include <stdlib.h>

static int on;      /* the run started: threads are counted */
static int alive;   /* the target's threads alive, the main thread included */
static pthread_key_t key;

static void thread_ends(void *unused) {
    (void)unused;
    /* The last one: the process ends now, as glibc would end it, instead of
     * living on with omnipython's threads alone. exit is the executable's:
     * it writes the session first. */
    if (__atomic_sub_fetch(&alive, 1, __ATOMIC_ACQ_REL) == 0)
        exit(0);
}

/* Marks the calling thread (its end counts down); 1 when it was not. */
static int mark(void) {
    if (pthread_getspecific(key))
        return 0;
    pthread_setspecific(key, (void *)1);
    return 1;
}

void omni_target_threads_start(void) {
    if (on || pthread_key_create(&key, thread_ends) != 0)
        return;
    mark();
    __atomic_store_n(&alive, 1, __ATOMIC_RELEASE);
    __atomic_store_n(&on, 1, __ATOMIC_RELEASE);
}

void omni_target_thread_note(void) {
    if (__atomic_load_n(&on, __ATOMIC_ACQUIRE) && mark())
        __atomic_add_fetch(&alive, 1, __ATOMIC_ACQ_REL);
}

int omni_target_thread_creating(void) {
    if (!__atomic_load_n(&on, __ATOMIC_ACQUIRE))
        return 0;
    __atomic_add_fetch(&alive, 1, __ATOMIC_ACQ_REL);
    return 1;
}

void omni_target_thread_failed(void) {
    __atomic_sub_fetch(&alive, 1, __ATOMIC_ACQ_REL);
}

void omni_target_thread_started(void) {
    mark();
}

void omni_target_threads_after_fork(void) {
    if (!__atomic_load_n(&on, __ATOMIC_ACQUIRE))
        return;
    mark();
    __atomic_store_n(&alive, 1, __ATOMIC_RELEASE);
}
