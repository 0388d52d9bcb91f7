/* report.h - the analysis of a session (per-function totals over threads)
 * and the reports made from it. Reports read only the session model. */
#ifndef OMNI_REPORT_H
#define OMNI_REPORT_H

#include <stdio.h>

#include "runtime/session_reader.h"

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

/* The text report; color = 1 for ANSI colours. Returns 0 or -1 on a write error. */
int omni_report_text(const omni_session_t *s, const char *session_path, FILE *f, int color);

/* The JSON report (the public contract in README.md). Returns 0 or -1. */
int omni_report_json(const omni_session_t *s, const char *session_path, FILE *f);

#endif
