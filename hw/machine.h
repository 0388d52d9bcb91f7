/* machine.h - a short summary of the machine for every session's header. */
#ifndef OMNI_HW_MACHINE_H
#define OMNI_HW_MACHINE_H

#include <stdint.h>

typedef struct omni_hw_summary {
    char hostname[256];
    char arch[64];          /* uname machine: x86_64, aarch64 */
    char cpu_model[256];    /* /proc/cpuinfo "model name" (or "unknown") */
    int logical_cpus;       /* online logical CPUs */
    uint64_t mem_total_bytes; /* /proc/meminfo MemTotal */
    char os[256];           /* /etc/os-release PRETTY_NAME */
    char kernel[256];       /* uname release */
} omni_hw_summary_t;

/* Fills *out with what can be read; missing facts are left empty or 0. Returns 0. */
int omni_hw_summary(omni_hw_summary_t *out);

#endif
