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

/* How the Python whose tokenize radon runs on splits strings: 3.12+ make an
 * f-string tokens of its own (FSTRING_START, its text, the replacement
 * fields' tokens, FSTRING_END; PEP 701), 3.14 a t-string too (PEP 750). */
#define OMNI_RAW_FSTRING_TOKENS 1
#define OMNI_RAW_TSTRING_TOKENS 2
/* The flags for the CPython that omnipython embeds. */
#define OMNI_RAW_FLAGS_OF(hex)                                                 \
    (((hex) >= 0x030C0000 ? OMNI_RAW_FSTRING_TOKENS : 0) |                     \
     ((hex) >= 0x030E0000 ? OMNI_RAW_TSTRING_TOKENS : 0))

/* Raw metrics of UTF-8 text (radon.raw.analyze), tokenized as flags say.
 * Returns 0, or -1 when the text ends inside a statement or a string
 * (radon's SyntaxError) with the line in *bad_line. */
int omni_raw_analyze(const char *text, size_t len, int flags, omni_raw_t *out, long *bad_line);

/* ---------------------------------------------------------------- cyclomatic complexity */

/* The rules of radon.complexity.cc_visit that differ: radon's -n (asserts
 * add nothing), and radon 6's match statement (each case adds one, less one
 * when a case catches everything: `case _`, or a bare capture). */
#define OMNI_CC_NO_ASSERT 1
#define OMNI_CC_MATCH_CASES 2

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
