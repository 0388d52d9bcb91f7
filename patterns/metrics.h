/* metrics.h - the named metrics the patterns' conditions use, and the
 * entities (functions, lines, threads, the process, files) a session gives
 * them values for. The catalog is the one in patterns/README.md. */
#ifndef OMNI_METRICS_H
#define OMNI_METRICS_H

#include "patterns/model/model.h"

typedef enum omni_level {
    OMNI_LEVEL_FUNCTION, OMNI_LEVEL_LINE, OMNI_LEVEL_THREAD, OMNI_LEVEL_PROCESS,
    OMNI_LEVEL_FILE, OMNI_N_LEVELS
} omni_level_t;

/* What a metric needs from the session (OMNI_NEEDS_*): a pattern that uses
 * a metric the session lacks is skipped with the reason. */
#define OMNI_NEEDS_PROFILE 1u   /* the frame hook's exact calls and times */
#define OMNI_NEEDS_SAMPLES 2u   /* the stack sampler */
#define OMNI_NEEDS_EVENTS 4u    /* audited opens, imports, processes */
#define OMNI_NEEDS_IO 8u        /* byte accounting */
#define OMNI_NEEDS_FOOTER 16u   /* the run's end (wall and CPU time) */
#define OMNI_NEEDS_COUNTERS 32u /* hardware counters */
#define OMNI_NEEDS_GPU 64u      /* a GPU the monitor saw */
#define OMNI_NEEDS_MEMORY 128u  /* allocation accounting */
#define OMNI_NEEDS_SCAN 256u    /* a static scan joined to the run */
#define OMNI_NEEDS_REPEATS 512u /* several runs of the same target (--repeat) */
#define OMNI_NEEDS_TIMELINE 1024u
#define OMNI_NEEDS_TIMES 2048u   /* the frame hook timed the calls (not --mode minimal) */

typedef struct omni_metric_def {
    const char *name;
    omni_level_t level;
    unsigned needs;
    const char *unit;
    const char *doc;
} omni_metric_def_t;

/* The catalog: metrics of every level, in documentation order. */
extern const omni_metric_def_t omni_metrics[];
extern const int omni_n_metrics;

const char *omni_level_name(omni_level_t l);
/* The level called name, or -1. */
int omni_level_parse(const char *name);
/* The catalog index of metric name at level, or -1. */
int omni_metric_find(omni_level_t level, const char *name, size_t len);

/* One thing findings can be about, with a value for every metric of the
 * catalog (NaN where it has none). */
typedef struct omni_entity {
    omni_level_t level;
    char *file, *function, *path, *thread;  /* owned; NULL when not this level's */
    int64_t line, pid;
    char *detail;          /* more of where (a call path), or NULL */
    double *v;             /* [omni_n_metrics] */
} omni_entity_t;

typedef struct omni_entities {
    omni_entity_t *e;
    size_t n, cap;
    unsigned have;         /* OMNI_NEEDS_* that the session has */
    char why[16][160];     /* why a need is missing, by its bit's index */
} omni_entities_t;

/* The entities of a (joined) session's analysis. Returns 0 or -1 (memory). */
int omni_entities_build(const omni_model_t *m, omni_entities_t *out);
void omni_entities_free(omni_entities_t *x);
/* A static scan joined to the run: lookup gives a function's cyclomatic
 * complexity (or -1 when the scan has no such function); the entities then
 * have the `complexity` metric. */
typedef int (*omni_scan_lookup_fn)(const char *file, const char *qualname, int64_t line,
                                   void *ctx);
void omni_entities_join_scan(omni_entities_t *x, omni_scan_lookup_fn lookup, void *ctx);

/* Why the session lacks what needs asks for (the first missing need), or
 * NULL when it has all of it. */
const char *omni_entities_missing(const omni_entities_t *x, unsigned needs);
/* "file:function:line", "thread NAME (pid P)", "process P" (at_code: with
 * the place it carries), or the path. */
void omni_entity_where(const omni_entity_t *e, int at_code, char *buf, size_t cap);

#endif
