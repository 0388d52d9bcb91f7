/* match.h - the knowledge base matched against a session's entities:
 * findings with their evidence and confidence, and the patterns that could
 * not be tried (with why). Deterministic: the same session file gives the
 * same findings in the same order. */
#ifndef OMNI_MATCH_H
#define OMNI_MATCH_H

#include "patterns/kb.h"

/* At most this many findings of one pattern (the most confident). */
#define OMNI_MAX_FINDINGS_PER_PATTERN 10

/* The report's confidence threshold unless the user gives one (--min-confidence):
 * findings below it are weak signals, and below half of it left out. */
#define OMNI_DEFAULT_MIN_CONFIDENCE 0.5

/* One comparison of a condition: lhs op rhs, and whether it held. */
typedef struct omni_evidence {
    char text[200];        /* the comparison as written */
    char lhs[100];         /* its left side as written (a metric name, often) */
    const char *op;
    double value, threshold;
    int held;
} omni_evidence_t;

/* What another source of evidence says of a finding: every comparison of
 * its condition, evaluated on the same entity (or on the run, for a
 * process-level source). */
typedef struct omni_support {
    const omni_when_t *when;
    const omni_entity_t *entity;
    int held;
    double confidence;     /* NaN when its condition does not hold */
    omni_evidence_t *ev;
    size_t n_ev;
} omni_support_t;

typedef struct omni_finding {
    const omni_pattern_t *pattern;
    const omni_when_t *when;      /* the source that decided: the strongest the session has */
    const omni_entity_t *entity;
    double confidence, margin;
    omni_evidence_t *ev;          /* the comparisons that made its condition true */
    size_t n_ev;
    omni_support_t *also;         /* the session's other sources of this pattern */
    size_t n_also;
    int at_code;                  /* the entity's file, function and line are the finding's
                                   * place (a process-level finding has one only when its
                                   * condition is about the heaviest call path) */
} omni_finding_t;

typedef struct omni_skipped {
    const omni_pattern_t *pattern;
    const char *why;       /* borrowed from the entities */
} omni_skipped_t;

typedef struct omni_findings {
    double min_confidence;
    omni_finding_t *f;     /* at or above min_confidence, most confident first */
    size_t n;
    omni_finding_t *weak;  /* weak signals: below it, at or above half of it */
    size_t n_weak;
    size_t faint;          /* below half of it: counted, not kept */
    omni_skipped_t *skipped;
    size_t n_skipped;
    size_t omitted;        /* findings left out over the per-pattern cap */
} omni_findings_t;

/* Returns 0, or -1 (memory). */
int omni_match(const omni_kb_t *kb, const omni_entities_t *x, double min_confidence,
               omni_findings_t *out);
void omni_findings_free(omni_findings_t *f);

/* The names of the sources of evidence needs asks for ("the stack sampler",
 * "the frame hook's timings", ...): calls fn once per source. */
void omni_sources(unsigned needs, void (*fn)(const char *name, void *ctx), void *ctx);

/* Every metric the deciding condition names, with the entity's value:
 * calls fn(name, value) once per metric, in catalog order. */
void omni_finding_metrics(const omni_finding_t *f,
                          void (*fn)(const char *name, double value, void *ctx), void *ctx);

#endif
