/* findings.c - findings in the reports: JSON (findings.json's shape),
 * text and markdown. */
#include "patterns/report/json_out.h"
#include "patterns/match.h"
#include "patterns/report/report.h"

#include <math.h>
#include <string.h>

/* The unit of a metric named by an evidence's left side ("" when the side
 * is an expression, not one metric). */
static const char *unit_of(const omni_finding_t *f, const char *lhs) {
    int m = omni_metric_find(f->pattern->level, lhs, strlen(lhs));
    if (m < 0 || strcmp(omni_metrics[m].unit, lhs) == 0)
        return ""; /* "calls is 10 calls" says calls once too often */
    return omni_metrics[m].unit;
}

static void location_json(omni_json_t *j, const omni_entity_t *e) {
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
    if (e->file) {
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

void omni_findings_json(omni_json_t *j, const omni_findings_t *fs) {
    omni_json_key(j, "findings");
    omni_json_begin_array(j);
    for (size_t i = 0; fs && i < fs->n; i++) {
        const omni_finding_t *f = &fs->f[i];
        const omni_pattern_t *p = f->pattern;
        char where[2048];
        omni_entity_where(f->entity, where, sizeof where);
        omni_json_begin_object(j);
        omni_json_kv_str(j, "id", p->id);
        omni_json_kv_str(j, "level", omni_level_name(p->level));
        location_json(j, f->entity);
        omni_json_kv_str(j, "where", where);
        if (f->entity->detail) {
            omni_json_kv_str(j, "call_path", f->entity->detail);
        }
        omni_json_kv_str(j, "description", p->description);
        omni_json_key(j, "evidence");
        omni_json_begin_array(j);
        for (size_t k = 0; k < f->n_ev; k++) {
            const omni_evidence_t *ev = &f->ev[k];
            omni_json_begin_object(j);
            omni_json_kv_str(j, "condition", ev->text);
            omni_json_kv_str(j, "metric", ev->lhs);
            omni_json_kv_num(j, "value", ev->value);
            omni_json_kv_str(j, "op", ev->op);
            omni_json_kv_num(j, "threshold", ev->threshold);
            omni_json_end_object(j);
        }
        omni_json_end_array(j);
        omni_json_key(j, "metrics");
        omni_json_begin_object(j);
        omni_finding_metrics(f, metric_json, j);
        omni_json_end_object(j);
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
    omni_json_end_array(j);
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
static void where_text(const omni_session_t *s, const omni_entity_t *e, char *buf, size_t cap) {
    switch (e->level) {
    case OMNI_LEVEL_THREAD:
    case OMNI_LEVEL_FILE:
        omni_entity_where(e, buf, cap);
        break;
    case OMNI_LEVEL_PROCESS:
        if (e->file)
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

size_t omni_findings_print(FILE *f, const omni_session_t *s, const omni_findings_t *fs,
                           int md) {
    if (!fs)
        return 0;
    for (size_t i = 0; i < fs->n; i++) {
        const omni_finding_t *x = &fs->f[i];
        const omni_pattern_t *p = x->pattern;
        char where[2048];
        where_text(s, x->entity, where, sizeof where);
        if (md)
            fprintf(f, "\n### %zu. `%s` - %s (confidence %.2f)\n\n%s\n", i + 1, p->id, where,
                    x->confidence, p->description);
        else
            fprintf(f, "\n  %zu. %s  %s  (confidence %.2f)\n     %s\n", i + 1, p->id, where,
                    x->confidence, p->description);
        if (x->entity->detail)
            fprintf(f, md ? "\nCall path: `%s`\n" : "     call path: %s\n", x->entity->detail);
        fprintf(f, md ? "\n**Evidence**\n\n" : "     evidence:\n");
        for (size_t k = 0; k < x->n_ev; k++) {
            const omni_evidence_t *ev = &x->ev[k];
            const char *unit = unit_of(x, ev->lhs);
            char v[64], t[64];
            omni_fmt_value(ev->value, unit, v, sizeof v);
            omni_fmt_value(ev->threshold, unit, t, sizeof t);
            fprintf(f, md ? "- `%s`: %s is %s (threshold %s)\n" : "       %s: %s is %s (threshold %s)\n",
                    ev->text, ev->lhs, v, t);
        }
        fprintf(f, md ? "\n**Suggestions**\n\n" : "     suggestions:\n");
        for (size_t k = 0; k < p->n_suggestions; k++)
            fprintf(f, md ? "- %s\n" : "       - %s\n", p->suggestions[k]);
        fprintf(f, md ? "\n**Verify**: %s\n" : "     verify: %s\n", p->verify);
    }
    return fs->n;
}
