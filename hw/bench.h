/* bench.h - what this machine can do, measured: memory bandwidth (a
 * STREAM-style triad on every core) and floating-point rates (scalar and
 * SIMD, one core and all cores), so a run's numbers can be set against them. */
#ifndef OMNI_HW_BENCH_H
#define OMNI_HW_BENCH_H

#include <stdint.h>

typedef struct omni_hw_bench {
    int threads;               /* threads used for the all-core figures */
    double triad_gbps;         /* best of the repetitions, 24 bytes per element as STREAM counts */
    double triad_array_bytes;  /* one array's size */
    double scalar_gflops;      /* one core, double precision, no SIMD */
    double simd_gflops;        /* one core, the widest SIMD kernel available */
    double simd_gflops_all;    /* every core */
    const char *simd_kernel;   /* avx512f, avx2+fma, sse2, neon */
} omni_hw_bench_t;

/* Runs the measurements (about a second or two). cores = threads to use,
 * llc_bytes sizes the triad's arrays beyond the caches, mem_available_bytes
 * bounds them. Returns 0, or -1 when memory for the arrays cannot be had. */
int omni_hw_bench_run(omni_hw_bench_t *b, int cores, uint64_t llc_bytes,
                      uint64_t mem_available_bytes, const char *const *simd, int n_simd);

#endif
