/* scan.c - omnipython --scan DIR: every Python file below DIR analysed
 * without running it (raw metrics, cyclomatic complexity, Halstead, the
 * maintainability index, as radon 5.1 defines them), on every core: the
 * interpreter is started once (CPython's own parser reads the files), then
 * worker processes take files one at a time (analyse.c); the parent reads
 * their results back in path order, builds the call graph and writes the
 * chosen output (scan_out.c, or the HTML page around the JSON). */
#include "static/scan.h"

#include "patterns/report/report.h"
#include "runtime/embedded.h"
#include "static/analyse.h"
#include "static/callgraph.h"
#include "static/discover.h"
#include "static/scan_out.h"
#include "static/scan_run.h"
#include "static/static_metrics.h"

#include <Python.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

extern const omni_embedded_file_t omni_scan_template[]; /* patterns/report/scan.html */

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The chosen output: the HTML page around the JSON document, the JSON
 * document, or the text summary with the call graph's totals and the run
 * joined to the scan. Returns 0 or -1 (write error); *run_failed is set when
 * --run could not be joined (err says why). */
static int write_output(const omni_scan_options_t *opt, FILE *out, const omni_file_result_t *res,
                        size_t n, long errors, double secs, int started,
                        const omni_scan_run_options_t *ro, omni_cg_t *cg, char *err,
                        size_t errcap, int *run_failed) {
    const omni_scan_run_options_t *run = opt->run_args ? ro : NULL;
    if (opt->html) {
        /* the JSON document, drawn by the page */
        char *buf = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&buf, &len);
        int wr = m ? omni_scan_write_json(m, opt->root, res, n, errors, secs, started, run, cg,
                                          err, errcap, run_failed)
                   : -1;
        if (m && fclose(m) != 0)
            wr = -1;
        if (wr == 0)
            wr = omni_html_fill(out, omni_scan_template[0].text, buf, len);
        free(buf);
        return wr;
    }
    if (opt->json)
        return omni_scan_write_json(out, opt->root, res, n, errors, secs, started, run, cg, err,
                                    errcap, run_failed);
    if (omni_scan_write_text(out, opt->root, res, n, errors, secs, started) < 0)
        return -1;
    if (cg) {
        size_t nn, ne;
        uint64_t calls, resolved;
        omni_cg_totals(cg, &nn, &ne, &calls, &resolved);
        fprintf(out, "\nCall graph  %zu functions, methods and classes; %zu edges; %llu call "
                     "sites, %llu resolved in the tree\n", nn, ne, (unsigned long long)calls,
                (unsigned long long)resolved);
    }
    if (run) {
        const char **data = calloc(n + 1, sizeof *data);
        uint32_t *size = calloc(n + 1, sizeof *size);
        omni_scan_results_t r = omni_scan_results_of(res, data && size ? n : 0, data, size);
        if (omni_scan_run(run, &r, cg, NULL, out, err, errcap) < 0)
            *run_failed = 1;
        free(data);
        free(size);
    }
    return 0;
}

int omni_scan(const omni_scan_options_t *opt, FILE *out, char *err, size_t errcap) {
#ifdef OMNI_NO_PARSER
    snprintf(err, errcap, "--scan is unavailable in this build: it links a shared libpython "
                          "that keeps CPython's parser internal (build against "
                          "libpython%d.%d.a; where it lacks the HACL* objects, give cmake "
                          "-DOMNI_PYTHON_SOURCE=the CPython %d.%d source tree)",
             PY_MAJOR_VERSION, PY_MINOR_VERSION, PY_MAJOR_VERSION, PY_MINOR_VERSION);
    return OMNI_SCAN_UNAVAILABLE;
#endif
    double t0 = now_s();
    struct stat st;
    if (stat(opt->root, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errcap, "%s: %s", opt->root, errno ? strerror(errno) : "not a folder");
        return OMNI_SCAN_BADDIR;
    }
    omni_paths_t files;
    if (omni_discover(opt->root, opt->exclude, opt->n_exclude, &files) < 0) {
        snprintf(err, errcap, "out of memory listing %s", opt->root);
        return OMNI_SCAN_BADDIR;
    }
    int jobs = opt->jobs > 0 ? opt->jobs : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (jobs < 1)
        jobs = 1;
    if ((size_t)jobs > files.n)
        jobs = files.n ? (int)files.n : 1;
    omni_analysis_t an;
    int rules = (opt->no_assert ? OMNI_CC_NO_ASSERT : 0) |
                (opt->radon == 5 ? 0 : OMNI_CC_MATCH_CASES);
    if (omni_analyse_files(opt->root, &files, jobs, rules, opt->progress, &an) < 0) {
        snprintf(err, errcap, "out of memory");
        omni_paths_free(&files);
        return OMNI_SCAN_BADDIR;
    }
    const omni_file_result_t *res = an.res;
    int started = an.processes, rc = 0;
    size_t missing = 0;
    for (size_t i = 0; i < files.n; i++)
        missing += !res[i].data;
    long errors = omni_scan_count_errors(res, files.n);
    double secs = now_s() - t0;
    omni_scan_run_options_t ro = {opt->root, opt->run_args, "/proc/self/exe", opt->run_timeout_s,
                                  opt->patterns_dir, opt->min_confidence};
    int run_failed = 0;
    /* the call graph over all the files */
    const char **cgd = calloc(files.n + 1, sizeof *cgd);
    uint32_t *cgs = calloc(files.n + 1, sizeof *cgs);
    omni_cg_t *cg = NULL;
    if (cgd && cgs) {
        omni_scan_results_t r = omni_scan_results_of(res, files.n, cgd, cgs);
        cg = omni_cg_build(r.data, r.size, r.n);
    }
    int wr = write_output(opt, out, res, files.n, errors, secs, started, &ro, cg, err, errcap,
                          &run_failed);
    if (opt->dot_path && cg) {
        FILE *d = fopen(opt->dot_path, "w");
        if (!d || omni_cg_dot(cg, d) < 0 || fclose(d) != 0) {
            snprintf(err, errcap, "cannot write %s", opt->dot_path);
            wr = -1;
        }
    }
    omni_cg_free(cg);
    free(cgd);
    free(cgs);
    if (wr < 0) {
        snprintf(err, errcap, "cannot write the output");
        rc = OMNI_SCAN_OUTPUT;
    } else if (run_failed) {
        rc = OMNI_SCAN_RUN_FAILED;
    } else if (missing) {
        snprintf(err, errcap, "%zu files were not analysed (a worker process failed)", missing);
        rc = OMNI_SCAN_FILE_ERRORS;
    } else if (errors) {
        rc = OMNI_SCAN_FILE_ERRORS;
    }
    omni_analysis_free(&an);
    omni_paths_free(&files);
    return rc;
}
