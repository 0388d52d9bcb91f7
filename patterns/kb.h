/* kb.h - the knowledge base: performance patterns loaded from YAML (the
 * built-in files compiled into omnipython, then --patterns DIR), each
 * checked whole before anything runs. The format is in patterns/README.md. */
#ifndef OMNI_KB_H
#define OMNI_KB_H

#include "patterns/expr.h"
#include "runtime/embedded.h"
#include "patterns/metrics.h"

/* A pattern's sources of evidence: at most this many ways to recognise it. */
#define OMNI_MAX_WHEN 4

/* One way to recognise a pattern, from one kind of evidence: a condition at
 * a level, and how sure a finding of it is. */
typedef struct omni_when {
    omni_level_t level;
    omni_expr_t cond;
    double conf_base, conf_max, margin_scale, evidence_half;
    int evidence_metric;     /* catalog index, or -1 */
    unsigned needs;          /* OMNI_NEEDS_* of the metrics it uses */
} omni_when_t;

typedef struct omni_pattern {
    char *id, *description, *verify;
    char *source;            /* "file:line" where it was defined */
    omni_level_t level;      /* the pattern's own (when[0]'s) */
    omni_when_t when[OMNI_MAX_WHEN];  /* the strongest evidence first */
    int n_when;
    char **suggestions;
    size_t n_suggestions;
    int shape;               /* kind: shape - describes the run (CPU-bound, a hot path), not a defect */
    int builtin;
} omni_pattern_t;

typedef struct omni_kb {
    omni_pattern_t *p;
    size_t n, cap;
} omni_kb_t;

/* One pattern file's text. */
typedef omni_embedded_file_t omni_kb_file_t;

extern const omni_kb_file_t omni_builtin_patterns[];
extern const int omni_n_builtin_patterns;

/* Loads the built-in patterns, then every *.yaml and *.yml file of dir (NULL
 * for none; files in name order). A pattern of dir whose id is a built-in
 * one replaces it. Returns 0, or -1 with "file:line:column: reason" in err
 * and kb empty. */
int omni_kb_load(omni_kb_t *kb, const char *dir, char *err, size_t errcap);
/* Adds the patterns of one file's text (name is for messages). Returns 0 or
 * -1 with err set; on failure nothing of the file is added. */
int omni_kb_add_text(omni_kb_t *kb, const char *name, const char *text, size_t len, int builtin,
                     char *err, size_t errcap);
void omni_kb_free(omni_kb_t *kb);

#endif
