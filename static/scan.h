/* scan.h - omnipython --scan DIR: the static metrics of a whole tree. */
#ifndef OMNI_SCAN_H
#define OMNI_SCAN_H

#include <stddef.h>
#include <stdio.h>

/* Exit statuses of --scan. */
#define OMNI_SCAN_OK 0
#define OMNI_SCAN_FILE_ERRORS 1  /* some files could not be analysed (each says why) */
#define OMNI_SCAN_BADDIR 3       /* DIR is missing or not a folder */
#define OMNI_SCAN_OUTPUT 4       /* the output could not be written */
#define OMNI_SCAN_RUN_FAILED 5   /* --run: the target could not be run or left no session */
#define OMNI_SCAN_UNAVAILABLE 6  /* this build cannot parse Python (a shared libpython that hides the parser) */

typedef struct omni_scan_options {
    const char *root;
    const char *const *exclude;  /* --exclude globs */
    size_t n_exclude;
    int jobs;                    /* processes; 0 = one per core */
    int json;
    int html;                    /* one self-contained page (the call graph drawn) */
    int progress;                /* a progress line on a terminal */
    int no_assert;               /* radon's -n: asserts add no complexity */
    int radon;                   /* 5 or 6: whose rules (0: 6, the newest) */
    const char *run_args;        /* --run "PYTHON ARGS", or NULL */
    double run_timeout_s;        /* --timeout for the run (0: 600 s) */
    const char *patterns_dir;    /* --patterns DIR for the run's findings */
    double min_confidence;       /* --min-confidence for them (-1: the default) */
    const char *dot_path;        /* --callgraph FILE: the call graph as DOT */
} omni_scan_options_t;

/* Scans opt->root into out. The interpreter must be initialised (its parser
 * reads the files). Returns an OMNI_SCAN_* status; err says why for 3, 4 and 6. */
int omni_scan(const omni_scan_options_t *opt, FILE *out, char *err, size_t errcap);

#endif
