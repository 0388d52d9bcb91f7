/* static_metrics.h - the metrics of one source file, as radon 5.1 defines
 * them (cc, raw, hal, mi), computed from CPython's own parser's tree and a
 * tokenizer of our own. */
#ifndef OMNI_STATIC_METRICS_H
#define OMNI_STATIC_METRICS_H

#include <stddef.h>

/* ---------------------------------------------------------------- raw */

typedef struct omni_raw {
    long loc, lloc, sloc, comments, multi, blank, single_comments;
} omni_raw_t;

/* Raw metrics of UTF-8 text (radon.raw.analyze). Returns 0, or -1 when the
 * text ends inside a statement or a string (radon's SyntaxError) with the
 * line in *bad_line. */
int omni_raw_analyze(const char *text, size_t len, omni_raw_t *out, long *bad_line);

/* ---------------------------------------------------------------- cyclomatic complexity */

typedef struct omni_block {
    char type;                /* 'F' function, 'M' method, 'C' class */
    char *name, *classname;   /* owned; classname NULL for a function */
    int lineno, col_offset, endline, complexity;
    int n_methods;            /* classes */
} omni_block_t;

typedef struct omni_cc {
    omni_block_t *blocks;     /* radon's blocks: functions, then each class and its methods */
    size_t n, cap;
    long total_complexity;    /* radon's total_complexity (the MI's input) */
} omni_cc_t;

/* ---------------------------------------------------------------- Halstead */

typedef struct omni_halstead {
    long h1, h2, N1, N2, vocabulary, length;
    double calculated_length, volume, difficulty, effort, time, bugs;
} omni_halstead_t;

typedef struct omni_hal_fn {
    char *name;
    int lineno;
    omni_halstead_t h;
} omni_hal_fn_t;

typedef struct omni_hal {
    omni_halstead_t total;
    omni_hal_fn_t *fns;       /* radon's functions: those its visitor tracks */
    size_t n, cap;
} omni_hal_t;

/* ---------------------------------------------------------------- the maintainability index */

/* radon.metrics.mi_compute */
double omni_mi_compute(double volume, long complexity, long sloc, double comments_pct);
/* radon's ranks: 'A'..'F' for a complexity, 'A'..'C' for an MI */
char omni_cc_rank(long cc);
char omni_mi_rank(double mi);

#endif
