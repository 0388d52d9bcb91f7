/* findings.c - findings in the reports: JSON (findings.json's shape),
 * text and markdown; the weak signals after them. */
#include "patterns/report/json_out.h"
#include "patterns/match.h"
#include "patterns/report/report.h"

#include <math.h>
#include <string.h>

/* The unit of a metric named by an evidence's left side ("" when the side
 * is an expression, not one metric). */
static const char *unit_of(omni_level_t level, const char *lhs) {
    int m = omni_metric_find(level, lhs, strlen(lhs));
    if (m < 0 || strcmp(omni_metrics[m].unit, lhs) == 0)
        return ""; /* "calls is 10 calls" says calls once too often */
    return omni_metrics[m].unit;
}

static void location_json(omni_json_t *j, const omni_entity_t *e, int at_code) {
    omni_json_key(j, "location");
    omni_json_begin_object(j);
    if (e->level == OMNI_LEVEL_THREAD) {
        omni_json_kv_str(j, "thread", e->thread);
    }
    if (e->level == OMNI_LEVEL_THREAD || e->level == OMNI_LEVEL_PROCESS) {
        omni_json_kv_int(j, "pid", e->pid);
    }
    if (e->path) {
        omni_json_kv_str(j, "path", e->path);
    }
    if (e->file && at_code) {
        omni_json_kv_str(j, "file", e->file);
        omni_json_kv_str(j, "function", e->function);
        omni_json_kv_int(j, "line", e->line);
    }
    omni_json_end_object(j);
}

static void metric_json(const char *name, double value, void *ctx) {
    omni_json_t *j = ctx;
    omni_json_kv_num(j, name, value);
}

static void source_json(const char *name, void *ctx) {
    omni_json_str(ctx, name);
}

static void sources_json(omni_json_t *j, unsigned needs) {
    omni_json_key(j, "sources");
    omni_json_begin_array(j);
    omni_sources(needs, source_json, j);
    omni_json_end_array(j);
}

static void evidence_json(omni_json_t *j, const omni_evidence_t *ev, size_t n, int with_held) {
    omni_json_key(j, "evidence");
    omni_json_begin_array(j);
    for (size_t k = 0; k < n; k++) {
        omni_json_begin_object(j);
        omni_json_kv_str(j, "condition", ev[k].text);
        omni_json_kv_str(j, "metric", ev[k].lhs);
        omni_json_kv_num(j, "value", ev[k].value);
        omni_json_kv_str(j, "op", ev[k].op);
        omni_json_kv_num(j, "threshold", ev[k].threshold);
        if (with_held)
            omni_json_kv_bool(j, "held", ev[k].held);
        omni_json_end_object(j);
    }
    omni_json_end_array(j);
}

static void finding_json(omni_json_t *j, const omni_finding_t *f) {
    const omni_pattern_t *p = f->pattern;
    char where[2048];
    omni_entity_where(f->entity, f->at_code, where, sizeof where);
    omni_json_begin_object(j);
    omni_json_kv_str(j, "id", p->id);
    omni_json_kv_str(j, "kind", p->shape ? "shape" : "problem");
    omni_json_kv_str(j, "level", omni_level_name(f->when->level));
    location_json(j, f->entity, f->at_code);
    omni_json_kv_str(j, "where", where);
    if (f->entity->detail && f->at_code) {
        omni_json_kv_str(j, "call_path", f->entity->detail);
    }
    omni_json_kv_str(j, "description", p->description);
    sources_json(j, f->when->needs);
    evidence_json(j, f->ev, f->n_ev, 0);
    omni_json_key(j, "metrics");
    omni_json_begin_object(j);
    omni_finding_metrics(f, metric_json, j);
    omni_json_end_object(j);
    /* what the session's other sources of the pattern say */
    omni_json_key(j, "also");
    omni_json_begin_array(j);
    for (size_t k = 0; k < f->n_also; k++) {
        const omni_support_t *s = &f->also[k];
        omni_json_begin_object(j);
        omni_json_kv_str(j, "level", omni_level_name(s->when->level));
        sources_json(j, s->when->needs);
        omni_json_kv_bool(j, "held", s->held);
        omni_json_kv_num(j, "confidence", s->confidence);
        evidence_json(j, s->ev, s->n_ev, 1);
        omni_json_end_object(j);
    }
    omni_json_end_array(j);
    omni_json_kv_num(j, "confidence", f->confidence);
    omni_json_key(j, "suggestions");
    omni_json_begin_array(j);
    for (size_t k = 0; k < p->n_suggestions; k++)
        omni_json_str(j, p->suggestions[k]);
    omni_json_end_array(j);
    omni_json_kv_str(j, "verify", p->verify);
    omni_json_kv_str(j, "pattern_source", p->source);
    omni_json_end_object(j);
}

void omni_findings_json(omni_json_t *j, const omni_findings_t *fs) {
    omni_json_key(j, "findings");
    omni_json_begin_array(j);
    for (size_t i = 0; fs && i < fs->n; i++)
        finding_json(j, &fs->f[i]);
    omni_json_end_array(j);
    omni_json_kv_num(j, "min_confidence", fs ? fs->min_confidence : OMNI_DEFAULT_MIN_CONFIDENCE);
    omni_json_key(j, "weak_signals");
    omni_json_begin_array(j);
    for (size_t i = 0; fs && i < fs->n_weak; i++)
        finding_json(j, &fs->weak[i]);
    omni_json_end_array(j);
    omni_json_kv_uint(j, "signals_left_out", fs ? fs->faint : 0);
    omni_json_kv_uint(j, "findings_omitted", fs ? fs->omitted : 0);
    omni_json_key(j, "patterns_skipped");
    omni_json_begin_array(j);
    for (size_t i = 0; fs && i < fs->n_skipped; i++) {
        omni_json_begin_object(j);
        omni_json_kv_str(j, "id", fs->skipped[i].pattern->id);
        omni_json_kv_str(j, "reason", fs->skipped[i].why);
        omni_json_end_object(j);
    }
    omni_json_end_array(j);
}

/* The finding's place, for people: file names relative to the run. */
static void where_text(const omni_session_t *s, const omni_entity_t *e, int at_code, char *buf,
                       size_t cap) {
    switch (e->level) {
    case OMNI_LEVEL_THREAD:
    case OMNI_LEVEL_FILE:
        omni_entity_where(e, 1, buf, cap);
        break;
    case OMNI_LEVEL_PROCESS:
        if (e->file && at_code)
            snprintf(buf, cap, "the run (pid %lld), at %s in %s:%lld", (long long)e->pid,
                     e->function ? e->function : "?", omni_short_file(s, e->file),
                     (long long)e->line);
        else
            snprintf(buf, cap, "the run (pid %lld)", (long long)e->pid);
        break;
    default:
        snprintf(buf, cap, "%s in %s:%lld", e->function ? e->function : "?",
                 omni_short_file(s, e->file), (long long)e->line);
    }
}

typedef struct names {
    char buf[512];
    size_t used;
} names_t;

static void add_name(const char *name, void *ctx) {
    names_t *n = ctx;
    if (n->used < sizeof n->buf)
        n->used += (size_t)snprintf(n->buf + n->used, sizeof n->buf - n->used, "%s%s",
                                    n->used ? ", " : "", name);
}

static void print_evidence(FILE *f, omni_level_t level, const omni_evidence_t *ev, size_t n,
                           int md) {
    for (size_t k = 0; k < n; k++) {
        const char *unit = unit_of(level, ev[k].lhs);
        char v[64], t[64];
        omni_fmt_value(ev[k].value, unit, v, sizeof v);
        omni_fmt_value(ev[k].threshold, unit, t, sizeof t);
        fprintf(f, md ? "- `%s`: %s is %s (threshold %s)%s\n"
                      : "       %s: %s is %s (threshold %s)%s\n",
                ev[k].text, ev[k].lhs, v, t, ev[k].held ? "" : " - not met");
    }
}

/* One finding: where, what, the evidence of each source; with advice
 * unless it is a weak signal. */
static void print_one(FILE *f, const omni_session_t *s, const omni_finding_t *x, size_t i, int md,
                      int advice) {
    const omni_pattern_t *p = x->pattern;
    char where[2048];
    where_text(s, x->entity, x->at_code, where, sizeof where);
    const char *kind = p->shape ? ", the run's shape" : "";
    if (md)
        fprintf(f, "\n### %zu. `%s` - %s (confidence %.2f%s)\n\n%s\n", i + 1, p->id, where,
                x->confidence, kind, p->description);
    else
        fprintf(f, "\n  %zu. %s  %s  (confidence %.2f%s)\n     %s\n", i + 1, p->id, where,
                x->confidence, kind, p->description);
    if (x->entity->detail && x->at_code)
        fprintf(f, md ? "\nCall path: `%s`\n" : "     call path: %s\n", x->entity->detail);
    names_t src = {.used = 0};
    omni_sources(x->when->needs, add_name, &src);
    fprintf(f, md ? "\n**Evidence** (from %s)\n\n" : "     evidence (from %s):\n", src.buf);
    print_evidence(f, x->when->level, x->ev, x->n_ev, md);
    for (size_t k = 0; k < x->n_also; k++) {
        const omni_support_t *a = &x->also[k];
        names_t an = {.used = 0};
        omni_sources(a->when->needs, add_name, &an);
        char held[64];
        if (a->held)
            snprintf(held, sizeof held, "holds too, confidence %.2f", a->confidence);
        else
            snprintf(held, sizeof held, "does not hold");
        fprintf(f, md ? "\n**Also** (from %s%s): %s\n\n" : "     also (from %s%s): %s\n", an.buf,
                a->when->level != x->entity->level ? ", the run as a whole" : "", held);
        print_evidence(f, a->when->level, a->ev, a->n_ev, md);
    }
    if (!advice)
        return;
    fprintf(f, md ? "\n**Suggestions**\n\n" : "     suggestions:\n");
    for (size_t k = 0; k < p->n_suggestions; k++)
        fprintf(f, md ? "- %s\n" : "       - %s\n", p->suggestions[k]);
    fprintf(f, md ? "\n**Verify**: %s\n" : "     verify: %s\n", p->verify);
}

size_t omni_findings_print(FILE *f, const omni_session_t *s, const omni_findings_t *fs,
                           int md) {
    if (!fs)
        return 0;
    for (size_t i = 0; i < fs->n; i++)
        print_one(f, s, &fs->f[i], i, md, 1);
    return fs->n;
}

size_t omni_weak_signals_print(FILE *f, const omni_session_t *s, const omni_findings_t *fs,
                               int md) {
    if (!fs || !fs->n_weak)
        return 0;
    fprintf(f, md ? "\n## Weak signals\n\nPatterns that matched with a confidence below the "
                    "report's threshold (%.2f): too little evidence (a short run, few samples "
                    "or calls) or values just past the thresholds. A longer run tells.\n"
                  : "\nWeak signals  (confidence below %.2f: too little evidence, or just past "
                    "the thresholds; a longer run tells)\n",
            fs->min_confidence);
    for (size_t i = 0; i < fs->n_weak; i++)
        print_one(f, s, &fs->weak[i], i, md, 0);
    return fs->n_weak;
}
