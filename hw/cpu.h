/* cpu.h - what the processor is: vendor, model, topology (hwloc), caches,
 * SIMD extensions (cpuid or the auxiliary vector) and clock frequency. */
#ifndef OMNI_HW_CPU_H
#define OMNI_HW_CPU_H

#include <stdint.h>

#define OMNI_HW_MAX_CACHES 8
#define OMNI_HW_MAX_SIMD 48

typedef struct omni_hw_cache {
    int level;              /* 1, 2, 3, 4 */
    char type[12];          /* data, instruction, unified */
    uint64_t size_bytes;    /* one instance */
    unsigned line_bytes;
    int ways;               /* associativity; -1 fully associative, 0 unknown */
    int count;              /* instances in the machine */
} omni_hw_cache_t;

typedef struct omni_hw_cpu {
    char vendor[64];        /* GenuineIntel, AuthenticAMD, ARM… */
    char model[256];
    char arch[64];          /* uname machine */
    int sockets, physical_cores, logical_cores, numa_nodes;
    omni_hw_cache_t caches[OMNI_HW_MAX_CACHES];
    int n_caches;
    const char *simd[OMNI_HW_MAX_SIMD]; /* static names, /proc/cpuinfo spelling */
    int n_simd;
    double base_mhz, max_mhz, current_mhz; /* 0 when unknown */
    char topology_source[64];  /* "hwloc 2.9.0", or why not */
} omni_hw_cpu_t;

/* Prepares the topology probe while the process has one thread: hwloc loads
 * its plugins (libX11, OpenCL, PCI access…) unless told not to through the
 * environment, and the environment may only be changed while nobody else
 * reads it. Later probes, on any thread, load no plugins. Returns 0. */
int omni_hw_cpu_prepare(void);

/* Fills *cpu. Facts that cannot be read stay 0 or empty. Returns 0. */
int omni_hw_cpu_probe(omni_hw_cpu_t *cpu);

/* The SIMD extensions this CPU has and the OS has enabled (one file per
 * architecture: simd_x86.c, simd_arm.c). Fills names with static strings,
 * returns how many; vendor gets the CPU vendor where the instruction set
 * tells it (else left as it is). */
int omni_hw_simd(const char **names, int cap, char *vendor, int vendor_cap);

#endif
