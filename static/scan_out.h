/* scan_out.h - --scan's outputs from the files' results (scan_out.c). */
#ifndef OMNI_SCAN_OUT_H
#define OMNI_SCAN_OUT_H

#include <stdio.h>

#include "static/analyse.h"
#include "static/callgraph.h"
#include "static/scan_run.h"

/* The results as scan_run.c takes them: data and size (arrays of n the
 * caller owns) filled from res. */
omni_scan_results_t omni_scan_results_of(const omni_file_result_t *res, size_t n,
                                         const char **data, uint32_t *size);
/* The files whose record says they could not be analysed. */
long omni_scan_count_errors(const omni_file_result_t *res, size_t n);
/* The text summary of n files under root (secs: the scan's time, jobs: its
 * processes). Returns 0, or -1 on a write error. */
int omni_scan_write_text(FILE *f, const char *root, const omni_file_result_t *res, size_t n,
                         long errors, double secs, int jobs);
/* The JSON document; with run, the target run and joined (run_failed set
 * when it could not be, with err); cg may be NULL. Returns 0 or -1. */
int omni_scan_write_json(FILE *f, const char *root, const omni_file_result_t *res, size_t n,
                         long errors, double secs, int jobs, const omni_scan_run_options_t *run,
                         omni_cg_t *cg, char *err, size_t cap, int *run_failed);

#endif
