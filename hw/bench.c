/* bench.c - measures memory bandwidth and floating-point rates. */
#include "hw/bench.h"


#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Runs fn on n threads at once, each with its own argument (args[i], of
 * arg_size bytes); returns the wall time from the start signal until the
 * last one is done. Threads that cannot be created are left out. */
typedef struct job {
    void *(*fn)(void *);
    const int *go;  /* spun on so that every thread starts together */
    void *arg;
} job_t;

static void *run_job(void *p) {
    job_t *j = p;
    while (!__atomic_load_n(j->go, __ATOMIC_ACQUIRE))
        ;
    return j->fn(j->arg);
}

static double parallel(int n, void *(*fn)(void *), void *args, size_t arg_size) {
    pthread_t tid[256];
    job_t jobs[256];
    int go = 0, started = 0;
    for (int i = 0; i < n && i < 256; i++) {
        jobs[i] = (job_t){fn, &go, (char *)args + (size_t)i * arg_size};
        if (pthread_create(&tid[started], NULL, run_job, &jobs[i]) == 0)
            started++;
    }
    double t0 = now_s();
    __atomic_store_n(&go, 1, __ATOMIC_RELEASE);
    for (int i = 0; i < started; i++)
        pthread_join(tid[i], NULL);
    return now_s() - t0;
}

/* ---------------------------------------------------------------- triad */

typedef struct triad_arg {
    double *a, *b, *c;
    size_t lo, hi;
    int init;  /* first touch: each thread initialises its own part */
} triad_arg_t;

static void *triad(void *p) {
    triad_arg_t *t = p;
    double *restrict a = t->a, *restrict b = t->b, *restrict c = t->c;
    if (t->init) {
        for (size_t i = t->lo; i < t->hi; i++)
            a[i] = 0, b[i] = 1.0, c[i] = 2.0;
        return NULL;
    }
    const double s = 3.0;
    for (size_t i = t->lo; i < t->hi; i++)
        a[i] = b[i] + s * c[i];
    return NULL;
}

static int measure_triad(omni_hw_bench_t *b, int cores, uint64_t llc, uint64_t avail) {
    /* STREAM's rule: each array at least four times the last-level cache;
     * all three within a quarter of the free memory; at least 32 MiB. */
    uint64_t bytes = llc * 4;
    if (bytes < (32u << 20))
        bytes = 32u << 20;
    if (avail && bytes * 3 > avail / 4)
        bytes = avail / 12;
    size_t n = (size_t)(bytes / sizeof(double));
    double *a = malloc(n * sizeof(double)), *x = malloc(n * sizeof(double)),
           *y = malloc(n * sizeof(double));
    triad_arg_t args[256];
    int rc = -1;
    if (!a || !x || !y)
        goto exit;
    if (cores > 256)
        cores = 256;
    for (int i = 0; i < cores; i++)
        args[i] = (triad_arg_t){a, x, y, n * (size_t)i / (size_t)cores,
                                n * (size_t)(i + 1) / (size_t)cores, 1};
    parallel(cores, triad, args, sizeof args[0]);
    for (int i = 0; i < cores; i++)
        args[i].init = 0;
    double best = 1e30;
    for (int rep = 0; rep < 5; rep++) {
        double t = parallel(cores, triad, args, sizeof args[0]);
        if (t < best)
            best = t;
    }
    b->triad_gbps = 3.0 * (double)n * sizeof(double) / best / 1e9;
    b->triad_array_bytes = (double)n * sizeof(double);
    rc = 0;
exit:
    free(a);
    free(x);
    free(y);
    return rc;
}

/* ---------------------------------------------------------------- flops */

/* Each kernel runs `iters` rounds of 8 independent multiply-adds (so the
 * latency of one does not hide the throughput) and returns the flop count. */
#define CHAINS 8

#if defined(__GNUC__) && !defined(__clang__)
#define NO_AUTOVEC __attribute__((optimize("no-tree-vectorize", "no-tree-slp-vectorize")))
#else
#define NO_AUTOVEC
#endif

static volatile double sink;

static NO_AUTOVEC double flops_scalar(long iters) {
    double acc[CHAINS], m = 0.999999, k = 1e-7;
    for (int i = 0; i < CHAINS; i++)
        acc[i] = 1.0 + i;
    for (long n = 0; n < iters; n++)
        for (int i = 0; i < CHAINS; i++)
            acc[i] = acc[i] * m + k;
    double s = 0;
    for (int i = 0; i < CHAINS; i++)
        s += acc[i];
    sink = s;
    return 2.0 * CHAINS * (double)iters;
}

#define SIMD_KERNEL(fname, width, attr)                                        \
    typedef double fname##_v __attribute__((vector_size(width * 8)));         \
    static attr double fname(long iters) {                                    \
        fname##_v acc[CHAINS], m, k;                                          \
        for (int l = 0; l < width; l++)                                        \
            m[l] = 0.999999, k[l] = 1e-7;                                      \
        for (int i = 0; i < CHAINS; i++)                                       \
            for (int l = 0; l < width; l++)                                    \
                acc[i][l] = 1.0 + i + l;                                       \
        for (long n = 0; n < iters; n++)                                       \
            for (int i = 0; i < CHAINS; i++)                                   \
                acc[i] = acc[i] * m + k;                                       \
        double s = 0;                                                          \
        for (int i = 0; i < CHAINS; i++)                                       \
            for (int l = 0; l < width; l++)                                    \
                s += acc[i][l];                                                \
        sink = s;                                                              \
        return 2.0 * CHAINS * width * (double)iters;                           \
    }

#if defined(__x86_64__)
SIMD_KERNEL(flops_sse2, 2, )
SIMD_KERNEL(flops_avx2, 4, __attribute__((target("avx2,fma"))))
SIMD_KERNEL(flops_avx512, 8, __attribute__((target("avx512f"))))
#elif defined(__aarch64__)
SIMD_KERNEL(flops_neon, 2, )
#endif

typedef double (*kernel_t)(long);

static int has(const char *const *simd, int n, const char *name) {
    for (int i = 0; i < n; i++)
        if (strcmp(simd[i], name) == 0)
            return 1;
    return 0;
}

static kernel_t pick_simd(const char *const *simd, int n, const char **name) {
#if defined(__x86_64__)
    if (has(simd, n, "avx512f"))
        return *name = "avx512f", flops_avx512;
    if (has(simd, n, "avx2") && has(simd, n, "fma"))
        return *name = "avx2+fma", flops_avx2;
    return *name = "sse2", flops_sse2;
#elif defined(__aarch64__)
    (void)simd, (void)n;
    return *name = "neon", flops_neon;
#else
    (void)simd, (void)n;
    return *name = "scalar", flops_scalar;
#endif
}

typedef struct flops_arg {
    kernel_t k;
    long iters;
    double flops;
} flops_arg_t;

static void *flops_job(void *p) {
    flops_arg_t *f = p;
    f->flops = f->k(f->iters);
    return NULL;
}

/* GFLOP/s of kernel k on n threads: sized by a short trial to run ~0.2 s. */
static double rate(kernel_t k, int n) {
    long iters = 1 << 16;
    double t;
    for (;;) {
        double t0 = now_s();
        k(iters);
        t = now_s() - t0;
        if (t > 0.02 || iters > (1l << 34))
            break;
        iters *= 4;
    }
    iters = (long)((double)iters * 0.2 / (t > 0 ? t : 1e-3));
    if (iters < 1)
        iters = 1;
    flops_arg_t args[256];
    if (n > 256)
        n = 256;
    double best = 0;
    for (int rep = 0; rep < 3; rep++) {
        for (int i = 0; i < n; i++)
            args[i] = (flops_arg_t){k, iters, 0};
        double el = parallel(n, flops_job, args, sizeof args[0]);
        double total = 0;
        for (int i = 0; i < n; i++)
            total += args[i].flops;
        if (total / el / 1e9 > best)
            best = total / el / 1e9;
    }
    return best;
}

int omni_hw_bench_run(omni_hw_bench_t *b, int cores, uint64_t llc_bytes,
                      uint64_t mem_available_bytes, const char *const *simd, int n_simd) {
    memset(b, 0, sizeof *b);
    if (cores < 1)
        cores = 1;
    b->threads = cores;
    int rc = measure_triad(b, cores, llc_bytes, mem_available_bytes);
    kernel_t k = pick_simd(simd, n_simd, &b->simd_kernel);
    b->scalar_gflops = rate(flops_scalar, 1);
    b->simd_gflops = rate(k, 1);
    b->simd_gflops_all = rate(k, cores);
    return rc;
}
