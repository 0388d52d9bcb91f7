/* peers.h - processes that do the same job side by side: the workers one
 * process started (a multiprocessing pool, a launcher's ranks), or the runs
 * one report merged (the ranks of a distributed job on several hosts). The
 * spread between them, and the slowest: the one the others wait for. */
#ifndef OMNI_PEERS_H
#define OMNI_PEERS_H

#include "runtime/session/reader.h"

typedef struct omni_peer_group {
    int64_t parent_pid;          /* who started them; -1 for the runs a report merged */
    size_t *members;             /* indexes into s->processes, by pid */
    size_t n;
    double cpu_min, cpu_median, cpu_max;
    double wall_min, wall_median, wall_max;
    size_t slowest;              /* the member with the most CPU time (then wall time) */
} omni_peer_group_t;

typedef struct omni_peers {
    omni_peer_group_t *g;
    size_t n;
} omni_peers_t;

/* The groups of at least two finished processes. Returns 0 or -1 (memory). */
int omni_peers_build(const omni_session_t *s, omni_peers_t *out);
void omni_peers_free(omni_peers_t *p);

#endif
