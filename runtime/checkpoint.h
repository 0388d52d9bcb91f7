/* checkpoint.h - the tables of a running process (calls, threads, samples,
 * I/O, events, regions, coroutines, memory, codes) written beside its
 * session while it runs, so that a process killed with SIGKILL loses only
 * what happened after the last checkpoint, and a report on a running
 * process sees its functions. Taken on the monitor thread without the GIL
 * and without stopping the target's threads: the tables are read while they
 * count on (retire.h); the memory sampler's blocks alive are copied under
 * its lock. The file is written whole under another name and renamed over
 * the last one, so that a reader finds one complete checkpoint or none
 * (runtime/session/SESSION.md). */
#ifndef OMNI_CHECKPOINT_H
#define OMNI_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

typedef struct omni_checkpoint {
    const char *session_path;  /* the checkpoint is session_path + OMNI_CHECKPOINT_SUFFIX */
    const char *session_id;
    uint64_t seq;              /* from 0 */
    uint64_t t_ns;             /* since the run's start (the timeline's clock) */
    uint64_t main_ident;       /* names the main thread */
} omni_checkpoint_t;

/* Writes one. Returns its size in bytes, or -errno (nothing replaced). */
long long omni_checkpoint_write(const omni_checkpoint_t *c);

/* The run ended with its footer written: its checkpoint is of no more use. */
void omni_checkpoint_remove(const char *session_path);

#endif
