/* facts.c - gathers the machine's facts (runtime/session/pack_hw.c packs them). */
#include "hw/facts.h"

#include <string.h>

int omni_hw_facts_probe(omni_hw_facts_t *f) {
    memset(f, 0, sizeof *f);
    omni_hw_cpu_probe(&f->cpu);
    omni_hw_os_probe(&f->os);
    omni_gpu_open(&f->gpu);
    f->n_events = omni_counters_query(f->events, OMNI_COUNTERS_MAX, f->counters_reason,
                                      sizeof f->counters_reason);
    omni_energy_open(&f->energy);
    return 0;
}
