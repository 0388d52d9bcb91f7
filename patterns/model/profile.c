/* profile.c - merges the per-thread call tables of a session into totals;
 * names a function's file as the run saw it. */
#include "patterns/model/analysis.h"

#include <stdlib.h>
#include <string.h>

static int by_exclusive(const void *a, const void *b) {
    const omni_ftotal_t *x = a, *y = b;
    if (x->exclusive_s != y->exclusive_s)
        return x->exclusive_s < y->exclusive_s ? 1 : -1;
    if (x->calls != y->calls)
        return x->calls < y->calls ? 1 : -1;
    return x->code < y->code ? -1 : x->code > y->code;
}

static int by_pair(const void *a, const void *b) {
    const omni_etotal_t *x = a, *y = b;
    if (x->caller != y->caller)
        return x->caller < y->caller ? -1 : 1;
    return x->callee < y->callee ? -1 : x->callee > y->callee;
}

int omni_profile_build(const omni_session_t *s, omni_profile_t *p) {
    memset(p, 0, sizeof *p);
    omni_ftotal_t *by_code = calloc(s->n_codes + 1, sizeof *by_code);
    size_t n_edges = 0;
    for (size_t t = 0; t < s->n_threads; t++)
        n_edges += s->threads[t].n_edges;
    p->edges = calloc(n_edges + 1, sizeof *p->edges);
    if (!by_code || !p->edges) {
        free(by_code);
        free(p->edges);
        p->edges = NULL;
        return -1;
    }
    for (size_t t = 0; t < s->n_threads; t++) {
        const omni_sthread_t *th = &s->threads[t];
        for (size_t i = 0; i < th->n_funcs; i++) {
            const omni_sfunc_t *f = &th->funcs[i];
            omni_ftotal_t *d = &by_code[f->code];
            d->calls += f->calls;
            d->primitive_calls += f->primitive_calls;
            d->inclusive_s += f->inclusive_s;
            d->exclusive_s += f->exclusive_s;
            if (f->max_recursion > d->max_recursion)
                d->max_recursion = f->max_recursion;
        }
        for (size_t i = 0; i < th->n_edges; i++) {
            const omni_sedge_t *e = &th->edges[i];
            p->edges[p->n_edges++] = (omni_etotal_t){e->caller, e->callee, e->calls,
                                                     e->primitive_calls, e->inclusive_s,
                                                     e->exclusive_s};
        }
    }
    /* Compact the functions that ran, then sort. */
    for (size_t c = 0; c < s->n_codes; c++) {
        /* ran: counted calls, or (--mode sample) time estimated from samples */
        if (!by_code[c].calls && !(by_code[c].inclusive_s > 0))
            continue;
        by_code[c].code = (uint32_t)c;
        p->total_exclusive_s += by_code[c].exclusive_s;
        by_code[p->n_funcs++] = by_code[c];
    }
    p->funcs = by_code;
    qsort(p->funcs, p->n_funcs, sizeof *p->funcs, by_exclusive);
    /* Merge the same pair seen on several threads. */
    qsort(p->edges, p->n_edges, sizeof *p->edges, by_pair);
    size_t w = 0;
    for (size_t r = 0; r < p->n_edges; r++) {
        if (w && p->edges[w - 1].caller == p->edges[r].caller &&
            p->edges[w - 1].callee == p->edges[r].callee) {
            omni_etotal_t *d = &p->edges[w - 1];
            d->calls += p->edges[r].calls;
            d->primitive_calls += p->edges[r].primitive_calls;
            d->inclusive_s += p->edges[r].inclusive_s;
            d->exclusive_s += p->edges[r].exclusive_s;
        } else {
            p->edges[w++] = p->edges[r];
        }
    }
    p->n_edges = w;
    return 0;
}

void omni_profile_free(omni_profile_t *p) {
    free(p->funcs);
    free(p->edges);
    memset(p, 0, sizeof *p);
}

const char *omni_short_file(const omni_session_t *s, const char *file) {
    size_t n = s->cwd ? strlen(s->cwd) : 0;
    if (file && n > 1 && strncmp(file, s->cwd, n) == 0 && file[n] == '/')
        return file + n + 1;
    return file ? file : "?";
}
