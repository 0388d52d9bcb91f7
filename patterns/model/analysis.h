/* analysis.h - the pieces of a session's analysis, each built from the
 * session model alone: per-function totals over threads, the timeline's
 * summary, the samples added up, the memory sites and leak candidates, the
 * audited events (model.h puts them together). */
#ifndef OMNI_ANALYSIS_H
#define OMNI_ANALYSIS_H

#include "runtime/session/reader.h"

/* A function's totals over all threads (seconds). */
typedef struct omni_ftotal {
    uint32_t code;
    uint64_t calls, primitive_calls, max_recursion;
    double inclusive_s, exclusive_s;
} omni_ftotal_t;

/* A caller -> callee pair's totals over all threads. */
typedef struct omni_etotal {
    uint32_t caller, callee;
    uint64_t calls, primitive_calls;
    double inclusive_s, exclusive_s;
} omni_etotal_t;

typedef struct omni_profile {
    omni_ftotal_t *funcs;   /* sorted by exclusive time, largest first */
    size_t n_funcs;
    omni_etotal_t *edges;   /* sorted by (caller, callee) */
    size_t n_edges;
    double total_exclusive_s;
} omni_profile_t;

/* Builds the totals. Returns 0, or -1 when memory runs out. */
int omni_profile_build(const omni_session_t *s, omni_profile_t *p);
void omni_profile_free(omni_profile_t *p);

/* ---------------------------------------------------------------- the timeline */

#define OMNI_TL_MAX_IFACES 16
#define OMNI_TL_MAX_EVENTS 8
#define OMNI_TL_MAX_GPUS 16

/* What a report says about the monitor's timeline: totals over the run and
 * the extremes of the intervals. A value nobody measured is NaN. */
typedef struct omni_timeline_summary {
    int available;
    char reason[512];
    size_t samples;
    double interval_s;         /* as configured */
    double span_s;             /* first to last sample */
    double cpu_pct_mean, cpu_pct_max;    /* of one core: 200 = two cores busy */
    double peak_rss_bytes, final_rss_bytes, rss_min_bytes;
    double threads_max, fds_max;
    double read_bytes, write_bytes, rchar, wchar, syscr, syscw;
    double voluntary_ctx, involuntary_ctx, minor_faults, major_faults;
    double load1_max, mem_available_min_bytes;
    double machine_busy_pct_mean;        /* all cores, all samples */
    int n_ifaces;
    char iface[OMNI_TL_MAX_IFACES][32];
    double rx_bytes[OMNI_TL_MAX_IFACES], tx_bytes[OMNI_TL_MAX_IFACES];
    double rx_packets[OMNI_TL_MAX_IFACES], tx_packets[OMNI_TL_MAX_IFACES];
    /* GPUs */
    int gpu_available;
    char gpu_reason[512];
    int n_gpus;
    char gpu_model[OMNI_TL_MAX_GPUS][128];
    double gpu_util_mean[OMNI_TL_MAX_GPUS], gpu_util_max[OMNI_TL_MAX_GPUS];
    double gpu_mem_max[OMNI_TL_MAX_GPUS], gpu_proc_mem_max[OMNI_TL_MAX_GPUS];
    double gpu_power_max_w[OMNI_TL_MAX_GPUS], gpu_energy_j[OMNI_TL_MAX_GPUS];
    /* counters */
    int counters_available;
    char counters_reason[256];
    int n_events;
    char event[OMNI_TL_MAX_EVENTS][32];
    double event_total[OMNI_TL_MAX_EVENTS];
    double ipc;
    double est_memory_bytes;   /* last-level cache misses x line size (NaN without them) */
    /* energy */
    int energy_available;
    char energy_reason[256];
    double cpu_energy_j;       /* RAPL top-level domains: the whole socket(s) */
    double gpu_energy_total_j; /* all GPUs */
    double grams_co2_per_kwh;
} omni_timeline_summary_t;

/* Summarises the session's timeline. Returns 0 (s->available says whether
 * there was one). */
int omni_timeline_summarize(const omni_session_t *s, omni_timeline_summary_t *out);

/* ---------------------------------------------------------------- stack samples */

typedef struct omni_line_total {
    int64_t code, line;
    uint64_t samples, cpu;   /* samples with this line innermost; of them on a CPU */
} omni_line_total_t;

typedef struct omni_sample_totals {
    uint64_t total, cpu;     /* samples, and those taken while the thread was on a CPU */
    uint64_t *fn_samples;    /* by code id: samples with the function anywhere on the stack */
    uint64_t *fn_self;       /* by code id: samples with the function innermost */
    omni_line_total_t *lines; /* most samples first */
    size_t n_lines;
} omni_sample_totals_t;

/* Adds the samples up. Returns 0 or -1 (memory). */
int omni_samples_build(const omni_session_t *s, omni_sample_totals_t *out);
void omni_samples_free(omni_sample_totals_t *t);

/* ---------------------------------------------------------------- memory */

/* An allocation site: the innermost frame (code, line) of sampled
 * allocations; bytes and counts are estimates from the samples. */
typedef struct omni_mem_site {
    int64_t code, line;
    int native;                /* the native heap's (malloc, mmap) rather than Python's */
    double alloc_bytes, allocs, live_bytes, peak_live_bytes;
    const char *referrers;     /* what keeps its blocks alive (borrowed), or NULL */
} omni_mem_site_t;

typedef struct omni_mem_leak {
    int64_t code, line;
    int native;
    double live_bytes, growth_bytes_per_s, confidence;
    size_t survivors;          /* sampled blocks alive at the end */
    double first_s, last_s;    /* when the first and last of them were allocated */
    const char *referrers;     /* what keeps its blocks alive (borrowed), or NULL */
} omni_mem_leak_t;

typedef struct omni_memory {
    omni_mem_site_t *sites;    /* most bytes allocated first */
    size_t n_sites;
    omni_mem_leak_t *leaks;    /* most likely first */
    size_t n_leaks;
    double import_time_bytes;  /* alive at the end, allocated under an import */
} omni_memory_t;

/* The sites and leak candidates of the session's memory record (empty
 * without one). Returns 0 or -1 (memory). */
int omni_memory_build(const omni_session_t *s, omni_memory_t *out);
void omni_memory_free(omni_memory_t *m);
/* The sites and leak candidates added up by their function: adds into the
 * arrays (s->n_codes long, indexed by code; any may be NULL) the bytes
 * allocated, the allocations, the bytes alive at the end and the leaks' growth
 * in bytes/s. Returns 0 or -1 (memory). */
int omni_memory_by_code(const omni_session_t *s, double *alloc, double *allocs, double *live,
                        double *growth);
/* The same from sites and leaks already built (n_codes: the arrays' length). */
void omni_memory_sum_by_code(const omni_memory_t *m, size_t n_codes, double *alloc,
                             double *allocs, double *live, double *growth);

/* ---------------------------------------------------------------- audited events */

/* Events of one kind added up over processes: strings borrowed from the
 * session. */
typedef struct omni_etotal_ev {
    const char *what, *detail;
    int64_t code;            /* the target's function, -1 when none */
    uint64_t count;
    double seconds;
} omni_etotal_ev_t;

typedef struct omni_events {
    omni_etotal_ev_t *rows;  /* largest time first, then largest count */
    size_t n;
} omni_events_t;

/* The rows of event ("open", "socket", "process", "import"). Returns 0 or -1. */
int omni_events_build(const omni_session_t *s, const char *event, omni_events_t *out);
void omni_events_free(omni_events_t *e);
/* An open the interpreter made (importlib reading a module, the script
 * read before it runs): not the program's I/O. */
int omni_events_is_interpreter(const omni_etotal_ev_t *r);

/* ---------------------------------------------------------------- names */

/* file relative to the run's working directory when it lies below it. */
const char *omni_short_file(const omni_session_t *s, const char *file);

#endif
