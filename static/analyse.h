/* analyse.h - the files of a scan analysed by worker processes (analyse.c). */
#ifndef OMNI_ANALYSE_H
#define OMNI_ANALYSE_H

#include <stddef.h>
#include <stdint.h>

#include "static/discover.h"

/* One file's result: a msgpack map (SESSION-independent: {path, error} or
 * the metrics, as --scan --format json prints them), borrowed from the
 * analysis' mapped files. */
typedef struct omni_file_result {
    const char *data;   /* NULL when no worker wrote it */
    uint32_t size;
} omni_file_result_t;

typedef struct omni_analysis {
    omni_file_result_t *res;   /* by file index */
    int processes;             /* workers that ran (1 when this process did the work) */
    int jobs;                  /* workers asked for */
    int *fds;                  /* the workers' result files, -1 when none */
    char **maps;               /* those files mapped */
    size_t *lens;
} omni_analysis_t;

/* Analyses files (relative to root) in jobs worker processes, this one
 * when none can start. The interpreter must be initialised. Returns 0, or -1
 * when memory runs out; free with omni_analysis_free. */
int omni_analyse_files(const char *root, const omni_paths_t *files, int jobs, int cc_rules,
                       int progress, omni_analysis_t *a);
/* Idempotent. */
void omni_analysis_free(omni_analysis_t *a);

#endif
