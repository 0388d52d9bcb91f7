/* lineage.h - how a profiled process tells the Python processes it starts
 * where their sessions go and which session is their parent's: one
 * environment variable, OMNIPYTHON_PARENT, set before the interpreter reads
 * the environment (so os.environ and every child have it). */
#ifndef OMNI_LINEAGE_H
#define OMNI_LINEAGE_H

#include <stddef.h>

#define OMNI_PARENT_ENV "OMNIPYTHON_PARENT"

typedef struct omni_lineage {
    char session_id[33];     /* the parent's session */
    long pid;                /* the parent's pid */
    int mode;                /* omni_mode_t of the parent */
    int interval_ms;         /* the parent's monitor interval (-1: the mode's) */
    int quiet;
    double grams_co2_per_kwh;
    char session_path[4096]; /* the parent's session file (absolute) */
} omni_lineage_t;

/* Reads OMNIPYTHON_PARENT. Returns 0 with *l filled, -1 when it is absent or
 * malformed (then nothing links this process to a parent). */
int omni_lineage_read(omni_lineage_t *l);

/* Sets OMNIPYTHON_PARENT to describe *l (this process, for its children).
 * Only while this process has one thread, or in a child right after fork.
 * Returns 0 or -1. */
int omni_lineage_export(const omni_lineage_t *l);

/* A child's session path: beside the parent's, its name with -PID added
 * ("run.omni" -> "run-4242.omni"). Returns 0, or -1 if it does not fit. */
int omni_lineage_child_path(const char *parent_path, long pid, char *out, size_t cap);

#endif
