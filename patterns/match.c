/* match.c - evaluates every pattern on every entity of its level. */
#include "patterns/match.h"
#include "runtime/grow.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct ev_ctx {
    omni_evidence_t *ev;
    size_t n, cap;
    int oom;
} ev_ctx_t;

static void add_evidence(const omni_expr_t *e, const omni_expr_node_t *cmp, double lhs,
                         double rhs, void *ctx) {
    ev_ctx_t *c = ctx;
    omni_evidence_t *nv = omni_grow(c->ev, &c->cap, c->n, sizeof *nv, 4);
    if (!nv) {
        c->oom = 1;
        return;
    }
    c->ev = nv;
    omni_evidence_t *v = &c->ev[c->n++];
    const omni_expr_node_t *a = &e->nodes[cmp->a];
    snprintf(v->text, sizeof v->text, "%.*s", cmp->end - cmp->start, e->src + cmp->start);
    snprintf(v->lhs, sizeof v->lhs, "%.*s", a->end - a->start, e->src + a->start);
    v->op = omni_expr_op_text(cmp->op);
    v->value = lhs;
    v->threshold = rhs;
}

/* base + (max - base) x g: g grows with how far past the thresholds the
 * values are (margin) and, when the pattern names one, with the amount of
 * evidence. */
static double confidence(const omni_pattern_t *p, const omni_entity_t *e, double margin) {
    double m = 1 - exp(-fmax(margin, 0) / p->margin_scale);
    double g = m;
    if (p->evidence_metric >= 0) {
        double ev = e->v[p->evidence_metric];
        double x = isnan(ev) || ev < 0 ? 0 : ev / (ev + p->evidence_half);
        g = (m + x) / 2;
    }
    double c = p->conf_base + (p->conf_max - p->conf_base) * g;
    return round(c * 1000) / 1000; /* three digits: the same text on every machine */
}

static int where_cmp(const omni_entity_t *a, const omni_entity_t *b) {
    char wa[1024], wb[1024];
    omni_entity_where(a, wa, sizeof wa);
    omni_entity_where(b, wb, sizeof wb);
    return strcmp(wa, wb);
}

static int by_confidence(const void *x, const void *y) {
    const omni_finding_t *a = x, *b = y;
    if (a->confidence != b->confidence)
        return a->confidence < b->confidence ? 1 : -1;
    int c = strcmp(a->pattern->id, b->pattern->id);
    if (c)
        return c;
    if (a->margin != b->margin)
        return a->margin < b->margin ? 1 : -1;
    return where_cmp(a->entity, b->entity);
}

static void free_finding(omni_finding_t *f) {
    free(f->ev);
    f->ev = NULL;
}

/* The findings of one pattern: the most confident, at most the cap. */
static int match_pattern(const omni_pattern_t *p, const omni_entities_t *x, omni_findings_t *out,
                         size_t *cap) {
    size_t first = out->n;
    for (size_t i = 0; i < x->n; i++) {
        const omni_entity_t *e = &x->e[i];
        if (e->level != p->level || omni_expr_eval(&p->cond, p->cond.root, e->v) == 0)
            continue;
        omni_finding_t *nf = omni_grow(out->f, cap, out->n, sizeof *nf, 16);
        if (!nf)
            return -1;
        out->f = nf;
        ev_ctx_t ec = {0};
        omni_expr_evidence(&p->cond, p->cond.root, e->v, add_evidence, &ec);
        if (ec.oom) {
            free(ec.ev);
            return -1;
        }
        double margin = omni_expr_margin(&p->cond, p->cond.root, e->v);
        out->f[out->n++] = (omni_finding_t){p, e, confidence(p, e, margin), margin, ec.ev, ec.n};
    }
    size_t n = out->n - first;
    if (n)
        qsort(out->f + first, n, sizeof *out->f, by_confidence);
    while (out->n - first > OMNI_MAX_FINDINGS_PER_PATTERN) {
        free_finding(&out->f[--out->n]);
        out->omitted++;
    }
    return 0;
}

int omni_match(const omni_kb_t *kb, const omni_entities_t *x, omni_findings_t *out) {
    memset(out, 0, sizeof *out);
    size_t cap = 0;
    out->skipped = calloc(kb->n + 1, sizeof *out->skipped);
    if (!out->skipped)
        return -1;
    for (size_t i = 0; i < kb->n; i++) {
        const omni_pattern_t *p = &kb->p[i];
        const char *why = omni_entities_missing(x, p->needs);
        if (why) {
            out->skipped[out->n_skipped++] = (omni_skipped_t){p, why};
            continue;
        }
        if (match_pattern(p, x, out, &cap) < 0) {
            omni_findings_free(out);
            return -1;
        }
    }
    if (out->n)
        qsort(out->f, out->n, sizeof *out->f, by_confidence);
    return 0;
}

void omni_findings_free(omni_findings_t *f) {
    for (size_t i = 0; i < f->n; i++)
        free_finding(&f->f[i]);
    free(f->f);
    free(f->skipped);
    memset(f, 0, sizeof *f);
}

void omni_finding_metrics(const omni_finding_t *f,
                          void (*fn)(const char *name, double value, void *ctx), void *ctx) {
    const omni_expr_t *e = &f->pattern->cond;
    for (int m = 0; m < omni_n_metrics; m++) {
        int used = m == f->pattern->evidence_metric;
        for (int i = 0; i < e->n && !used; i++)
            used = e->nodes[i].op == OMNI_X_METRIC && e->nodes[i].metric == m;
        if (used)
            fn(omni_metrics[m].name, f->entity->v[m], ctx);
    }
}
