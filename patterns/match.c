/* match.c - evaluates every pattern on every entity of its level, from the
 * strongest source of evidence the session holds, with what its other
 * sources say beside it. */
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
    v->held = omni_expr_compare(cmp->op, lhs, rhs);
}

/* (base + (max - base) x m) x e: m grows with how far past the thresholds
 * the values are (margin); e with the amount of evidence, when the source
 * names a metric counting it: each evidence_half of it halves the doubt. */
static double confidence(const omni_when_t *w, const omni_entity_t *e, double margin) {
    double m = 1 - exp(-fmax(margin, 0) / w->margin_scale);
    double c = w->conf_base + (w->conf_max - w->conf_base) * m;
    if (w->evidence_metric >= 0) {
        double ev = e->v[w->evidence_metric];
        c *= isnan(ev) || ev <= 0 ? 0 : 1 - exp2(-ev / w->evidence_half);
    }
    return round(c * 1000) / 1000; /* three digits: the same text on every machine */
}

static int where_cmp(const omni_entity_t *a, const omni_entity_t *b) {
    char wa[1024], wb[1024];
    omni_entity_where(a, 1, wa, sizeof wa);
    omni_entity_where(b, 1, wb, sizeof wb);
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
    for (size_t i = 0; i < f->n_also; i++)
        free(f->also[i].ev);
    free(f->also);
    memset(f, 0, sizeof *f);
}

static const omni_entity_t *the_run(const omni_entities_t *x) {
    for (size_t i = 0; i < x->n; i++)
        if (x->e[i].level == OMNI_LEVEL_PROCESS)
            return &x->e[i];
    return NULL;
}

/* What source w says of entity e: every comparison, and whether it holds. */
static int support(const omni_when_t *w, const omni_entity_t *e, omni_support_t *out) {
    ev_ctx_t ec = {0};
    omni_expr_comparisons(&w->cond, w->cond.root, e->v, add_evidence, &ec);
    if (ec.oom) {
        free(ec.ev);
        return -1;
    }
    int held = omni_expr_eval(&w->cond, w->cond.root, e->v) != 0;
    *out = (omni_support_t){w, e, held,
                            held ? confidence(w, e, omni_expr_margin(&w->cond, w->cond.root, e->v))
                                 : NAN,
                            ec.ev, ec.n};
    return 0;
}

/* Beside the finding, the session's other sources of its pattern, on the
 * same entity or (a process-level source) on the run. The finding is as
 * sure as the surest source that holds. */
static int add_support(const omni_pattern_t *p, const unsigned char *avail,
                       const omni_entities_t *x, omni_finding_t *f) {
    for (int k = 0; k < p->n_when; k++) {
        const omni_when_t *w = &p->when[k];
        if (!avail[k] || w == f->when)
            continue;
        const omni_entity_t *on = w->level == f->entity->level ? f->entity
                                  : w->level == OMNI_LEVEL_PROCESS ? the_run(x)
                                                                   : NULL;
        if (!on)
            continue;
        if (!f->also && !(f->also = calloc((size_t)p->n_when, sizeof *f->also)))
            return -1;
        omni_support_t *s = &f->also[f->n_also];
        if (support(w, on, s) < 0)
            return -1;
        f->n_also++;
        if (s->held && s->confidence > f->confidence)
            f->confidence = s->confidence;
    }
    return 0;
}

/* Whether a process-level condition is about the heaviest call path: the
 * run's entity carries that path's last frame as its place. */
static int about_hot_path(const omni_when_t *w) {
    if (w->level != OMNI_LEVEL_PROCESS)
        return 1;
    for (int i = 0; i < w->cond.n; i++) {
        const omni_expr_node_t *n = &w->cond.nodes[i];
        if (n->op == OMNI_X_METRIC && strncmp(omni_metrics[n->metric].name, "hot_path_", 9) == 0)
            return 1;
    }
    return 0;
}

/* Appends f to list (n, cap), or frees it. */
static int keep(omni_finding_t **list, size_t *n, size_t *cap, omni_finding_t *f) {
    omni_finding_t *nf = omni_grow(*list, cap, *n, sizeof *nf, 16);
    if (!nf) {
        free_finding(f);
        return -1;
    }
    *list = nf;
    (*list)[(*n)++] = *f;
    return 0;
}

typedef struct caps {
    size_t f, weak;
} caps_t;

/* The findings of one pattern, from the first of its sources the session
 * holds: the most confident, at most the cap of findings and of weak
 * signals. */
static int match_pattern(const omni_pattern_t *p, const unsigned char *avail,
                         const omni_entities_t *x, omni_findings_t *out, caps_t *caps) {
    const omni_when_t *w = NULL;
    for (int k = 0; k < p->n_when && !w; k++)
        if (avail[k])
            w = &p->when[k];
    omni_finding_t *mine = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    for (size_t i = 0; i < x->n && rc == 0; i++) {
        const omni_entity_t *e = &x->e[i];
        if (e->level != w->level || omni_expr_eval(&w->cond, w->cond.root, e->v) == 0)
            continue;
        ev_ctx_t ec = {0};
        omni_expr_evidence(&w->cond, w->cond.root, e->v, add_evidence, &ec);
        double margin = omni_expr_margin(&w->cond, w->cond.root, e->v);
        omni_finding_t f = {p, w, e, confidence(w, e, margin), margin, ec.ev, ec.n, NULL, 0,
                            about_hot_path(w)};
        if (ec.oom || add_support(p, avail, x, &f) < 0) {
            free_finding(&f);
            rc = -1;
        } else
            rc = keep(&mine, &n, &cap, &f);
    }
    if (n)
        qsort(mine, n, sizeof *mine, by_confidence);
    size_t strong = 0, weak = 0;
    for (size_t i = 0; i < n; i++) {
        omni_finding_t *f = &mine[i];
        int is_strong = f->confidence >= out->min_confidence;
        if (rc < 0 || (!is_strong && f->confidence < out->min_confidence / 2)) {
            out->faint += rc == 0;
            free_finding(f);
        } else if ((is_strong ? strong : weak) >= OMNI_MAX_FINDINGS_PER_PATTERN) {
            out->omitted++;
            free_finding(f);
        } else if (is_strong) {
            strong++;
            rc = keep(&out->f, &out->n, &caps->f, f);
        } else {
            weak++;
            rc = keep(&out->weak, &out->n_weak, &caps->weak, f);
        }
    }
    free(mine);
    return rc;
}

int omni_match(const omni_kb_t *kb, const omni_entities_t *x, double min_confidence,
               omni_findings_t *out) {
    memset(out, 0, sizeof *out);
    out->min_confidence = min_confidence;
    caps_t caps = {0, 0};
    out->skipped = calloc(kb->n + 1, sizeof *out->skipped);
    if (!out->skipped)
        return -1;
    for (size_t i = 0; i < kb->n; i++) {
        const omni_pattern_t *p = &kb->p[i];
        unsigned char avail[OMNI_MAX_WHEN] = {0};
        const char *why = NULL;
        int any = 0;
        for (int k = 0; k < p->n_when; k++) {
            const char *lack = omni_entities_missing(x, p->when[k].needs);
            avail[k] = !lack;
            any |= !lack;
            if (!why)
                why = lack;
        }
        if (!any) {
            out->skipped[out->n_skipped++] = (omni_skipped_t){p, why};
            continue;
        }
        if (match_pattern(p, avail, x, out, &caps) < 0) {
            omni_findings_free(out);
            return -1;
        }
    }
    if (out->n)
        qsort(out->f, out->n, sizeof *out->f, by_confidence);
    if (out->n_weak)
        qsort(out->weak, out->n_weak, sizeof *out->weak, by_confidence);
    return 0;
}

void omni_findings_free(omni_findings_t *f) {
    for (size_t i = 0; i < f->n; i++)
        free_finding(&f->f[i]);
    for (size_t i = 0; i < f->n_weak; i++)
        free_finding(&f->weak[i]);
    free(f->f);
    free(f->weak);
    free(f->skipped);
    memset(f, 0, sizeof *f);
}

static const struct {
    unsigned need;
    const char *name;
} source_names[] = {
    {OMNI_NEEDS_PROFILE, "the frame hook's exact calls"},
    {OMNI_NEEDS_TIMES, "the frame hook's timings"},
    {OMNI_NEEDS_SAMPLES, "the stack sampler"},
    {OMNI_NEEDS_EVENTS, "audited events"},
    {OMNI_NEEDS_IO, "byte accounting"},
    {OMNI_NEEDS_FOOTER, "the run's wall and CPU time"},
    {OMNI_NEEDS_TIMELINE, "the monitor's timeline"},
    {OMNI_NEEDS_COUNTERS, "hardware counters"},
    {OMNI_NEEDS_GPU, "the GPU monitor"},
    {OMNI_NEEDS_MEMORY, "allocation accounting"},
    {OMNI_NEEDS_SCAN, "a static scan"},
    {OMNI_NEEDS_REPEATS, "repeated runs"},
};

void omni_sources(unsigned needs, void (*fn)(const char *name, void *ctx), void *ctx) {
    if (needs & OMNI_NEEDS_TIMES)
        needs &= ~OMNI_NEEDS_PROFILE; /* the timings are of the exact calls */
    for (size_t i = 0; i < sizeof source_names / sizeof source_names[0]; i++)
        if (needs & source_names[i].need)
            fn(source_names[i].name, ctx);
}

void omni_finding_metrics(const omni_finding_t *f,
                          void (*fn)(const char *name, double value, void *ctx), void *ctx) {
    const omni_expr_t *e = &f->when->cond;
    for (int m = 0; m < omni_n_metrics; m++) {
        int used = m == f->when->evidence_metric;
        for (int i = 0; i < e->n && !used; i++)
            used = e->nodes[i].op == OMNI_X_METRIC && e->nodes[i].metric == m;
        if (used)
            fn(omni_metrics[m].name, f->entity->v[m], ctx);
    }
}
