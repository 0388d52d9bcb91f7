/* counters.h - hardware performance counters (PAPI): instructions, cycles,
 * cache misses, branch mispredictions, floating-point operations. On
 * virtual CPUs without a PMU they are unavailable, with PAPI's reason. */
#ifndef OMNI_HW_COUNTERS_H
#define OMNI_HW_COUNTERS_H

#include <stdint.h>
#include <sys/types.h>

#define OMNI_COUNTERS_MAX 8

typedef struct omni_counters {
    int available;
    char reason[256];                        /* why not, when !available */
    int n;                                   /* events counting */
    const char *names[OMNI_COUNTERS_MAX];    /* our names: instructions, cycles, … (static) */
    int handle;                              /* the PAPI event set */
} omni_counters_t;

/* Lists the events this machine's CPU can count (for --hw): fills names with
 * static strings and returns how many, or -1 with the reason. */
int omni_counters_query(const char **names, int cap, char *reason, size_t cap_reason);

/* Starts counting the thread tid and the threads it starts afterwards
 * (inherit). Fills *c either way; returns 0 when counting, -1 otherwise. */
int omni_counters_open(omni_counters_t *c, pid_t tid);
/* Reads the running totals into v[0..c->n). Returns 0 or -1. */
int omni_counters_read(omni_counters_t *c, long long *v);
/* Stops counting; idempotent. */
void omni_counters_close(omni_counters_t *c);

#endif
