/* runs.h - the functions of every run of a session (one run, or the runs of
 * --repeat) joined by file (relative to each run's working directory), name
 * and line: their mean and spread. The run-to-run comparisons (--diff,
 * high_variance) use it. */
#ifndef OMNI_RUNS_H
#define OMNI_RUNS_H

#include "runtime/session/reader.h"

typedef struct omni_fn_runs {
    char *file, *name;       /* owned; file relative to the run's directory when below it */
    int64_t line;
    int runs_seen;           /* runs the function ran in */
    double calls_mean, excl_mean, excl_sd, incl_mean, incl_sd, samples_mean;
    double alloc_mean;       /* bytes allocated at the function (estimated; NaN without
                                allocation accounting) */
} omni_fn_runs_t;

typedef struct omni_runs {
    omni_fn_runs_t *f;       /* sorted by (file, name, line) */
    size_t n;
    int runs;                /* runs in the session */
    int memory;              /* every run had allocation accounting */
    double wall_mean, wall_sd, total_excl_mean;
    double *walls;           /* [runs], in run order; NaN for a run without a footer */
} omni_runs_t;

/* Means over all runs (a run the function did not run in counts 0) and
 * sample standard deviations (0 for a single run). Returns 0 or -1 (memory). */
int omni_runs_build(const omni_session_t *s, omni_runs_t *out);
void omni_runs_free(omni_runs_t *r);
/* The function of that key, or NULL. */
const omni_fn_runs_t *omni_runs_find(const omni_runs_t *r, const char *file, const char *name,
                                     int64_t line);

#endif
