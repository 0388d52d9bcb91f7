/* runs.c - per-function statistics over the runs of a session. */
#include "patterns/model/runs.h"
#include "runtime/grow.h"

#include "patterns/model/analysis.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct row {
    const char *file, *name;
    int64_t line;
    int run;
    double calls, excl, incl, samples, alloc;
} row_t;

static int key_cmp(const char *fa, const char *na, int64_t la, const char *fb, const char *nb,
                   int64_t lb) {
    int c = strcmp(fa, fb);
    if (!c)
        c = strcmp(na, nb);
    if (!c)
        c = la < lb ? -1 : la > lb;
    return c;
}

static int by_key(const void *x, const void *y) {
    const row_t *a = x, *b = y;
    return key_cmp(a->file, a->name, a->line, b->file, b->name, b->line);
}

/* One run's functions as rows (run r). Returns rows added, or -1. */
static long add_rows(const omni_session_t *run, int r, row_t **rows, size_t *n, size_t *cap) {
    omni_profile_t p;
    omni_sample_totals_t st;
    if (omni_profile_build(run, &p) < 0)
        return -1;
    if (omni_samples_build(run, &st) < 0) {
        omni_profile_free(&p);
        return -1;
    }
    long added = 0;
    /* the allocation accounting's sites, by their function */
    double *alloc = calloc(run->n_codes + 1, sizeof *alloc);
    if (alloc)
        omni_memory_by_code(run, alloc, NULL, NULL, NULL);
    const omni_ftotal_t **by_code = calloc(run->n_codes + 1, sizeof *by_code);
    if (!by_code)
        added = -1;
    for (size_t i = 0; by_code && i < p.n_funcs; i++)
        by_code[p.funcs[i].code] = &p.funcs[i];
    for (size_t c = 0; by_code && c < run->n_codes; c++) {
        double samples = st.fn_samples ? (double)st.fn_samples[c] : 0;
        const omni_ftotal_t *f = by_code[c];
        double a = alloc ? alloc[c] : 0;
        if (!f && !samples && !a)
            continue;
        row_t *nr = omni_grow(*rows, cap, *n, sizeof *nr, 256);
        if (!nr) {
            added = -1;
            break;
        }
        *rows = nr;
        const omni_scode_t *code = &run->codes[c];
        (*rows)[(*n)++] = (row_t){omni_short_file(run, code->file), code->name ? code->name : "?",
                                  code->line, r, f ? (double)f->calls : 0,
                                  f ? f->exclusive_s : 0, f ? f->inclusive_s : 0, samples, a};
        added++;
    }
    free(by_code);
    free(alloc);
    omni_samples_free(&st);
    omni_profile_free(&p);
    return added;
}

static double sd_of(double sum, double sumsq, int n) {
    if (n < 2)
        return 0;
    double mean = sum / n, var = (sumsq - n * mean * mean) / (n - 1);
    return var > 0 ? sqrt(var) : 0;
}

int omni_runs_build(const omni_session_t *s, omni_runs_t *out) {
    memset(out, 0, sizeof *out);
    int R = 1 + (int)s->n_runs;
    const omni_session_t **all = malloc((size_t)R * sizeof *all);
    out->walls = malloc((size_t)R * sizeof *out->walls);
    row_t *rows = NULL;
    size_t n = 0, cap = 0;
    if (!all || !out->walls)
        goto fail;
    /* run order: the model is the run at its run_index */
    all[0] = s;
    for (size_t i = 0; i < s->n_runs; i++)
        all[i + 1] = &s->runs[i];
    double wsum = 0, wsq = 0, esum = 0;
    int wn = 0;
    out->memory = 1;
    for (int r = 0; r < R; r++) {
        const omni_session_t *run = all[r];
        int idx = run->run_index < R ? run->run_index : r;
        out->walls[idx] = run->has_footer ? run->wall_s : NAN;
        out->memory &= run->has_memory && run->memory_available;
        if (run->has_footer) {
            wsum += run->wall_s;
            wsq += run->wall_s * run->wall_s;
            wn++;
        }
        size_t before = n;
        if (add_rows(run, r, &rows, &n, &cap) < 0)
            goto fail;
        for (size_t i = before; i < n; i++)
            esum += rows[i].excl;
    }
    out->runs = R;
    out->wall_mean = wn ? wsum / wn : NAN;
    out->wall_sd = sd_of(wsum, wsq, wn);
    out->total_excl_mean = esum / R;
    if (n)
        qsort(rows, n, sizeof *rows, by_key);
    out->f = calloc(n + 1, sizeof *out->f);
    if (!out->f)
        goto fail;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        double c = 0, e = 0, e2 = 0, in = 0, in2 = 0, sm = 0, al = 0;
        int seen = 0, last_run = -1;
        for (; j < n && by_key(&rows[i], &rows[j]) == 0; j++) {
            c += rows[j].calls;
            e += rows[j].excl;
            e2 += rows[j].excl * rows[j].excl;
            in += rows[j].incl;
            in2 += rows[j].incl * rows[j].incl;
            sm += rows[j].samples;
            al += rows[j].alloc;
            seen += rows[j].run != last_run;
            last_run = rows[j].run;
        }
        /* two code objects of one key in a run (a module loaded twice) add
         * up within the run; the squares then undercount: a bounded error */
        omni_fn_runs_t *f = &out->f[out->n++];
        f->file = strdup(rows[i].file);
        f->name = strdup(rows[i].name);
        f->line = rows[i].line;
        f->runs_seen = seen;
        f->calls_mean = c / R;
        f->excl_mean = e / R;
        f->excl_sd = sd_of(e, e2, R);
        f->incl_mean = in / R;
        f->incl_sd = sd_of(in, in2, R);
        f->samples_mean = sm / R;
        f->alloc_mean = out->memory ? al / R : NAN;
        if (!f->file || !f->name)
            goto fail;
        i = j;
    }
    free(rows);
    free(all);
    return 0;
fail:
    free(rows);
    free(all);
    omni_runs_free(out);
    return -1;
}

void omni_runs_free(omni_runs_t *r) {
    for (size_t i = 0; r->f && i < r->n; i++) {
        free(r->f[i].file);
        free(r->f[i].name);
    }
    free(r->f);
    free(r->walls);
    memset(r, 0, sizeof *r);
}

const omni_fn_runs_t *omni_runs_find(const omni_runs_t *r, const char *file, const char *name,
                                     int64_t line) {
    size_t lo = 0, hi = r->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const omni_fn_runs_t *f = &r->f[mid];
        int c = key_cmp(f->file, f->name, f->line, file, name, line);
        if (c == 0)
            return f;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}
