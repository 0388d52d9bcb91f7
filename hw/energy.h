/* energy.h - the machine's energy counters: RAPL through Linux powercap
 * (package and DRAM domains). They count the whole socket, not the process. */
#ifndef OMNI_HW_ENERGY_H
#define OMNI_HW_ENERGY_H

#include <stdint.h>

#define OMNI_ENERGY_MAX 8

typedef struct omni_energy {
    int available;
    char reason[256];
    int n;
    char name[OMNI_ENERGY_MAX][48];       /* package-0, dram… */
    char path[OMNI_ENERGY_MAX][96];       /* its energy_uj file */
    uint64_t range_uj[OMNI_ENERGY_MAX];   /* where the counter wraps */
    uint64_t last_uj[OMNI_ENERGY_MAX];
    uint64_t total_uj[OMNI_ENERGY_MAX];   /* accumulated since open, wraps undone */
} omni_energy_t;

/* Finds the readable RAPL domains. Returns 0, or -1 with the reason. */
int omni_energy_open(omni_energy_t *e);
/* Brings total_uj up to date. Returns 0 or -1. */
int omni_energy_read(omni_energy_t *e);

#endif
