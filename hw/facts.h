/* facts.h - everything omnipython knows about the machine, gathered once:
 * for `omnipython --hw` and for the session's machine record (packed by
 * runtime/session/pack_hw.c). */
#ifndef OMNI_HW_FACTS_H
#define OMNI_HW_FACTS_H

#include "hw/counters.h"
#include "hw/cpu.h"
#include "hw/energy.h"
#include "hw/gpu.h"
#include "hw/os.h"

typedef struct omni_hw_facts {
    omni_hw_cpu_t cpu;
    omni_hw_os_t os;
    omni_gpu_info_t gpu;
    int n_events;                            /* counter events, -1 when unavailable */
    const char *events[OMNI_COUNTERS_MAX];
    char counters_reason[256];
    omni_energy_t energy;
} omni_hw_facts_t;

/* Probes everything. The GPU library stays open (omni_gpu_sample can read
 * it) until omni_gpu_close. Returns 0. */
int omni_hw_facts_probe(omni_hw_facts_t *f);

#endif
