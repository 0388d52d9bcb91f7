/* match.h - the knowledge base matched against a session's entities:
 * findings with their evidence and confidence, and the patterns that could
 * not be tried (with why). Deterministic: the same session file gives the
 * same findings in the same order. */
#ifndef OMNI_MATCH_H
#define OMNI_MATCH_H

#include "patterns/kb.h"

/* At most this many findings of one pattern (the most confident). */
#define OMNI_MAX_FINDINGS_PER_PATTERN 10

/* One comparison that held: lhs op rhs. */
typedef struct omni_evidence {
    char text[200];        /* the comparison as written */
    char lhs[100];         /* its left side as written (a metric name, often) */
    const char *op;
    double value, threshold;
} omni_evidence_t;

typedef struct omni_finding {
    const omni_pattern_t *pattern;
    const omni_entity_t *entity;
    double confidence, margin;
    omni_evidence_t *ev;
    size_t n_ev;
} omni_finding_t;

typedef struct omni_skipped {
    const omni_pattern_t *pattern;
    const char *why;       /* borrowed from the entities */
} omni_skipped_t;

typedef struct omni_findings {
    omni_finding_t *f;     /* most confident first */
    size_t n;
    omni_skipped_t *skipped;
    size_t n_skipped;
    size_t omitted;        /* findings left out over the per-pattern cap */
} omni_findings_t;

/* Returns 0, or -1 (memory). */
int omni_match(const omni_kb_t *kb, const omni_entities_t *x, omni_findings_t *out);
void omni_findings_free(omni_findings_t *f);

/* Every metric a pattern's condition names, with the entity's value:
 * calls fn(name, value) once per metric, in catalog order. */
void omni_finding_metrics(const omni_finding_t *f,
                          void (*fn)(const char *name, double value, void *ctx), void *ctx);

#endif
