/* samples.c - what the stack samples say per function and per line. */
#include "patterns/model/analysis.h"

#include <stdlib.h>
#include <string.h>

static int by_place(const void *x, const void *y) {
    const omni_line_total_t *a = x, *b = y;
    if (a->code != b->code)
        return a->code < b->code ? -1 : 1;
    return a->line < b->line ? -1 : a->line > b->line;
}

static int line_cmp(const void *x, const void *y) {
    const omni_line_total_t *a = x, *b = y;
    if (a->samples != b->samples)
        return a->samples < b->samples ? 1 : -1;
    if (a->code != b->code)
        return a->code < b->code ? -1 : 1;
    return a->line < b->line ? -1 : a->line > b->line;
}

int omni_samples_build(const omni_session_t *s, omni_sample_totals_t *out) {
    memset(out, 0, sizeof *out);
    out->fn_samples = calloc(s->n_codes + 1, sizeof *out->fn_samples);
    out->fn_self = calloc(s->n_codes + 1, sizeof *out->fn_self);
    out->lines = calloc(s->n_sstacks + 1, sizeof *out->lines);
    uint32_t *mark = calloc(s->n_codes + 1, sizeof *mark); /* the stack that counted a code last */
    if (!out->fn_samples || !out->fn_self || !out->lines || !mark) {
        free(mark);
        omni_samples_free(out);
        return -1;
    }
    for (size_t i = 0; i < s->n_sstacks; i++) {
        const omni_sstack_t *x = &s->sstacks[i];
        out->total += x->samples;
        out->cpu += x->cpu;
        const omni_snode_t *leaf = &s->snodes[x->node];
        if (leaf->code >= 0) {
            out->fn_self[leaf->code] += x->samples;
            /* Lines: the innermost frame's (merged per (code, line) below). */
            out->lines[out->n_lines++] =
                (omni_line_total_t){leaf->code, leaf->line, x->samples, x->cpu};
        }
        /* Every function on the stack, once even when it recurses. */
        for (int64_t n = x->node; n >= 0; n = s->snodes[n].parent) {
            int64_t c = s->snodes[n].code;
            if (c >= 0 && mark[c] != i + 1) {
                mark[c] = (uint32_t)(i + 1);
                out->fn_samples[c] += x->samples;
            }
        }
    }
    free(mark);
    qsort(out->lines, out->n_lines, sizeof *out->lines, by_place);
    size_t m = 0;
    for (size_t i = 0; i < out->n_lines; i++) {
        if (m && by_place(&out->lines[m - 1], &out->lines[i]) == 0) {
            out->lines[m - 1].samples += out->lines[i].samples;
            out->lines[m - 1].cpu += out->lines[i].cpu;
        } else {
            out->lines[m++] = out->lines[i];
        }
    }
    out->n_lines = m;
    qsort(out->lines, out->n_lines, sizeof *out->lines, line_cmp);
    return 0;
}

void omni_samples_free(omni_sample_totals_t *t) {
    free(t->fn_samples);
    free(t->fn_self);
    free(t->lines);
    memset(t, 0, sizeof *t);
}
