/* scan_run.h - --scan DIR --run "PYTHON ARGS": a run of the tree joined to
 * its static metrics. */
#ifndef OMNI_SCAN_RUN_H
#define OMNI_SCAN_RUN_H

#include <stdint.h>
#include <stdio.h>

#include "patterns/report/json_out.h"
#include "static/callgraph.h"

/* The scan's per-file results (msgpack maps), by file. */
typedef struct omni_scan_results {
    const char *const *data;
    const uint32_t *size;
    size_t n;
} omni_scan_results_t;

typedef struct omni_scan_run_options {
    const char *root, *args;   /* the tree, and Python's arguments for the run */
    const char *exe;           /* omnipython */
    double timeout_s;          /* 0: 600 s */
    const char *patterns_dir;  /* --patterns DIR, or NULL */
    double min_confidence;     /* the findings' threshold (-1: the default) */
} omni_scan_run_options_t;

/* Runs the target in the tree under omnipython, joins its functions to the
 * scan's blocks, marks the call graph's edges seen at run time (cg may be
 * NULL) and matches the knowledge base; writes the "run" object into
 * j (JSON) or a section to text. Returns 0, or -1 with err set. */
int omni_scan_run(const omni_scan_run_options_t *o, const omni_scan_results_t *results,
                  omni_cg_t *cg, omni_json_t *j, FILE *text, char *err, size_t cap);

#endif
