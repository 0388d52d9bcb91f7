/* diff.c - two sessions compared function by function (joined by file
 * relative to each run's directory, name and line): time, calls and samples,
 * and which functions regressed beyond a threshold and beyond the noise. */
#include "patterns/report/diff.h"

#include "patterns/report/json_out.h"
#include "patterns/report/report.h"
#include "patterns/model/runs.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SHOW_N 25

typedef struct drow {
    const omni_fn_runs_t *a, *b;   /* NULL where the function did not run */
    double delta_s, delta_pct, noise_s;
    int regressed;
} drow_t;

/* The noise of a difference of means: their standard errors combined (0
 * when neither session has repeats). */
static double noise(double sd_a, int na, double sd_b, int nb) {
    return sqrt(sd_a * sd_a / na + sd_b * sd_b / nb);
}

/* A function or the run regressed: slower by more than the threshold, by
 * more than the floor (time too small to matter), and by more than twice
 * the noise when the runs were repeated. */
static int regressed(double a, double b, double noise_s, double floor_s, double threshold_pct) {
    double d = b - a;
    return d > floor_s && d > a * threshold_pct / 100 && d > 2 * noise_s;
}

static int by_delta(const void *x, const void *y) {
    const drow_t *a = x, *b = y;
    if (a->regressed != b->regressed)
        return b->regressed - a->regressed;
    double da = fabs(a->delta_s), db = fabs(b->delta_s);
    if (da != db)
        return da < db ? 1 : -1;
    const omni_fn_runs_t *fa = a->a ? a->a : a->b, *fb = b->a ? b->a : b->b;
    int c = strcmp(fa->file, fb->file);
    return c ? c : strcmp(fa->name, fb->name);
}

static void side_json(omni_json_t *j, const char *key, const omni_fn_runs_t *f) {
    omni_json_key(j, key);
    if (!f) {
        omni_json_null(j);
        return;
    }
    omni_json_begin_object(j);
    omni_json_kv_num(j, "calls", f->calls_mean);
    omni_json_kv_num(j, "exclusive_s", f->excl_mean);
    omni_json_kv_num(j, "exclusive_sd_s", f->excl_sd);
    omni_json_kv_num(j, "inclusive_s", f->incl_mean);
    omni_json_kv_num(j, "samples", f->samples_mean);
    omni_json_kv_num(j, "allocated_bytes", f->alloc_mean);
    omni_json_end_object(j);
}

static void run_json(omni_json_t *j, const char *key, const char *path, const omni_runs_t *r) {
    omni_json_key(j, key);
    omni_json_begin_object(j);
    omni_json_kv_str(j, "session", path);
    omni_json_kv_int(j, "runs", r->runs);
    omni_json_kv_num(j, "wall_s", r->wall_mean);
    omni_json_kv_num(j, "wall_sd_s", r->wall_sd);
    omni_json_kv_num(j, "exclusive_s", r->total_excl_mean);
    omni_json_end_object(j);
}

static void write_json(FILE *f, const char *pa, const char *pb, const omni_runs_t *a,
                       const omni_runs_t *b, const drow_t *rows, size_t n, double wall_delta,
                       int wall_regressed, double threshold, double floor_s) {
    omni_json_t j;
    omni_json_init(&j, f);
    omni_json_begin_object(&j);
    omni_json_kv_str(&j, "schema", "omnipython-diff");
    omni_json_kv_int(&j, "schema_version", 1);
    omni_json_kv_num(&j, "threshold_pct", threshold);
    omni_json_kv_num(&j, "floor_s", floor_s);
    run_json(&j, "a", pa, a);
    run_json(&j, "b", pb, b);
    omni_json_key(&j, "wall");
    omni_json_begin_object(&j);
    omni_json_kv_num(&j, "delta_s", wall_delta);
    omni_json_kv_num(&j, "delta_pct", a->wall_mean > 0 ? 100 * wall_delta / a->wall_mean : NAN);
    omni_json_kv_bool(&j, "regressed", wall_regressed);
    omni_json_end_object(&j);
    omni_json_key(&j, "functions");
    omni_json_begin_array(&j);
    for (size_t i = 0; i < n; i++) {
        const drow_t *r = &rows[i];
        const omni_fn_runs_t *k = r->a ? r->a : r->b;
        omni_json_begin_object(&j);
        omni_json_kv_str(&j, "file", k->file);
        omni_json_kv_str(&j, "name", k->name);
        omni_json_kv_int(&j, "line", k->line);
        side_json(&j, "a", r->a);
        side_json(&j, "b", r->b);
        omni_json_kv_num(&j, "delta_s", r->delta_s);
        omni_json_kv_num(&j, "delta_pct", r->delta_pct);
        omni_json_kv_num(&j, "noise_s", r->noise_s);
        omni_json_key(&j, "delta_allocated_bytes");
        omni_json_num(&j, a->memory && b->memory ? (r->b ? r->b->alloc_mean : 0) -
                                                       (r->a ? r->a->alloc_mean : 0)
                                                 : NAN);
        omni_json_kv_bool(&j, "regressed", r->regressed);
        omni_json_end_object(&j);
    }
    omni_json_end_array(&j);
    omni_json_key(&j, "regressed");
    omni_json_begin_array(&j);
    if (wall_regressed)
        omni_json_str(&j, "the run's wall time");
    for (size_t i = 0; i < n && rows[i].regressed; i++) {
        char name[1024];
        const omni_fn_runs_t *k = rows[i].a ? rows[i].a : rows[i].b;
        snprintf(name, sizeof name, "%s:%s:%lld", k->file, k->name, (long long)k->line);
        omni_json_str(&j, name);
    }
    omni_json_end_array(&j);
    omni_json_end_object(&j);
    fputc('\n', f);
}

static void fmt_s(double v, char *buf, size_t cap) {
    if (isnan(v))
        snprintf(buf, cap, "-");
    else
        snprintf(buf, cap, "%.4f", v);
}

static void write_text(FILE *f, const char *pa, const char *pb, const omni_runs_t *a,
                       const omni_runs_t *b, const drow_t *rows, size_t n, double wall_delta,
                       int wall_regressed, double threshold, double floor_s) {
    fprintf(f, "omnipython diff  (threshold %.3g%%, floor %.4f s%s)\n", threshold, floor_s,
            a->runs > 1 && b->runs > 1 ? ", beyond twice the noise of the repeats" : "");
    fprintf(f, "  A %s: %d run%s, wall %.3f s", pa, a->runs, a->runs == 1 ? "" : "s", a->wall_mean);
    if (a->runs > 1)
        fprintf(f, " +- %.3f", a->wall_sd);
    fprintf(f, "\n  B %s: %d run%s, wall %.3f s", pb, b->runs, b->runs == 1 ? "" : "s", b->wall_mean);
    if (b->runs > 1)
        fprintf(f, " +- %.3f", b->wall_sd);
    fprintf(f, "\n  wall %+.3f s (%+.1f%%)%s\n\n", wall_delta,
            a->wall_mean > 0 ? 100 * wall_delta / a->wall_mean : 0,
            wall_regressed ? "  REGRESSED" : "");
    int mem = a->memory && b->memory;
    fprintf(f, "  %10s %10s %10s %8s %12s %12s %s function\n", "excl A s", "excl B s", "delta s",
            "delta%", "calls A", "calls B", mem ? " alloc delta" : "");
    for (size_t i = 0; i < n && i < SHOW_N; i++) {
        const drow_t *r = &rows[i];
        const omni_fn_runs_t *k = r->a ? r->a : r->b;
        char ea[32], eb[32];
        fmt_s(r->a ? r->a->excl_mean : NAN, ea, sizeof ea);
        fmt_s(r->b ? r->b->excl_mean : NAN, eb, sizeof eb);
        fprintf(f, "  %10s %10s %+10.4f ", ea, eb, r->delta_s);
        if (isnan(r->delta_pct))
            fprintf(f, "%8s", r->a ? "-" : "new");
        else
            fprintf(f, "%+7.1f%%", r->delta_pct);
        fprintf(f, " %12.0f %12.0f ", r->a ? r->a->calls_mean : 0, r->b ? r->b->calls_mean : 0);
        if (mem) {
            char d[32];
            double delta = (r->b ? r->b->alloc_mean : 0) - (r->a ? r->a->alloc_mean : 0);
            omni_fmt_bytes(delta, d, sizeof d);
            fprintf(f, "%s%11s ", delta > 0 ? "+" : "", d);
        }
        fprintf(f, " %s  %s:%lld%s\n", k->name, k->file, (long long)k->line,
                r->regressed ? "  REGRESSED" : "");
    }
    if (n > SHOW_N)
        fprintf(f, "  ... %zu more functions\n", n - SHOW_N);
    size_t nreg = 0;
    for (size_t i = 0; i < n; i++)
        nreg += rows[i].regressed;
    if (nreg || wall_regressed)
        fprintf(f, "\nregressed: %s%zu function%s\n", wall_regressed ? "the run's wall time, " : "",
                nreg, nreg == 1 ? "" : "s");
    else
        fprintf(f, "\nno regression\n");
}

int omni_diff(const omni_session_t *sa, const char *pa, const omni_session_t *sb, const char *pb,
              double threshold_pct, int json, FILE *f, int *any_regressed) {
    omni_runs_t a, b;
    if (omni_runs_build(sa, &a) < 0)
        return -1;
    if (omni_runs_build(sb, &b) < 0) {
        omni_runs_free(&a);
        return -1;
    }
    drow_t *rows = calloc(a.n + b.n + 1, sizeof *rows);
    if (!rows) {
        omni_runs_free(&a);
        omni_runs_free(&b);
        return -1;
    }
    /* Functions are too small to matter below 1% of A's time in Python
     * code (and below 5 ms). */
    double floor_s = fmax(0.005, 0.01 * a.total_excl_mean);
    size_t n = 0;
    for (size_t i = 0; i < a.n; i++)
        rows[n++].a = &a.f[i];
    for (size_t i = 0; i < b.n; i++) {
        const omni_fn_runs_t *x = &b.f[i];
        const omni_fn_runs_t *m = omni_runs_find(&a, x->file, x->name, x->line);
        if (m)
            rows[m - a.f].b = x;
        else
            rows[n++].b = x;
    }
    for (size_t i = 0; i < n; i++) {
        drow_t *r = &rows[i];
        double ea = r->a ? r->a->excl_mean : 0, eb = r->b ? r->b->excl_mean : 0;
        r->delta_s = eb - ea;
        r->delta_pct = r->a && ea > 0 ? 100 * (eb - ea) / ea : NAN;
        r->noise_s = noise(r->a ? r->a->excl_sd : 0, a.runs, r->b ? r->b->excl_sd : 0, b.runs);
        r->regressed = regressed(ea, eb, r->noise_s, floor_s, threshold_pct);
    }
    qsort(rows, n, sizeof *rows, by_delta);
    double wall_delta = b.wall_mean - a.wall_mean;
    int wall_reg = regressed(a.wall_mean, b.wall_mean, noise(a.wall_sd, a.runs, b.wall_sd, b.runs),
                             0.005, threshold_pct);
    if (json)
        write_json(f, pa, pb, &a, &b, rows, n, wall_delta, wall_reg, threshold_pct, floor_s);
    else
        write_text(f, pa, pb, &a, &b, rows, n, wall_delta, wall_reg, threshold_pct, floor_s);
    *any_regressed = wall_reg || (n && rows[0].regressed);
    free(rows);
    omni_runs_free(&a);
    omni_runs_free(&b);
    return ferror(f) ? -1 : 0;
}
