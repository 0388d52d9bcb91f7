/* expr.h - the patterns' condition language: numbers, metric names,
 * + - * /, comparisons, and/or/not, parentheses, min/max/abs. Parsed once
 * when a pattern is loaded (names resolved, types checked), evaluated for
 * every entity of the pattern's level. */
#ifndef OMNI_EXPR_H
#define OMNI_EXPR_H

#include <stddef.h>

typedef enum omni_expr_op {
    OMNI_X_NUM, OMNI_X_METRIC,
    OMNI_X_ADD, OMNI_X_SUB, OMNI_X_MUL, OMNI_X_DIV, OMNI_X_NEG,
    OMNI_X_LT, OMNI_X_LE, OMNI_X_GT, OMNI_X_GE, OMNI_X_EQ, OMNI_X_NE,
    OMNI_X_AND, OMNI_X_OR, OMNI_X_NOT,
    OMNI_X_MIN, OMNI_X_MAX, OMNI_X_ABS
} omni_expr_op_t;

typedef struct omni_expr_node {
    omni_expr_op_t op;
    int a, b;            /* operands (node indexes), -1 when none */
    double num;          /* OMNI_X_NUM */
    int metric;          /* OMNI_X_METRIC: the resolver's index */
    int start, end;      /* the node's text: src[start..end) */
} omni_expr_node_t;

typedef struct omni_expr {
    char *src;           /* owned copy of the text */
    omni_expr_node_t *nodes;
    int n, cap;
    int root;
    int is_bool;         /* the whole expression's type */
} omni_expr_t;

/* Resolves a metric name to an index (>= 0), or -1 when unknown. */
typedef int (*omni_expr_resolve_fn)(const char *name, size_t len, void *ctx);

/* Parses src. Returns 0, or -1 with a message in err and the 0-based
 * offset in src where the problem is in *err_at. */
int omni_expr_parse(omni_expr_t *e, const char *src, omni_expr_resolve_fn resolve, void *ctx,
                    char *err, size_t errcap, int *err_at);
void omni_expr_free(omni_expr_t *e);

/* The value of node i (a number, or 1/0 for a truth) with metric values v.
 * A comparison with NaN on either side is false; arithmetic carries NaN. */
double omni_expr_eval(const omni_expr_t *e, int i, const double *v);

/* How far a true condition is past its thresholds, relative (0 = at the
 * threshold): a comparison's |lhs - rhs| / |rhs|, the least over 'and', the
 * most over the true sides of 'or'. NaN for a false condition. */
double omni_expr_margin(const omni_expr_t *e, int i, const double *v);

/* Calls fn for every comparison that decided a true condition (the
 * evidence), in source order. */
typedef void (*omni_expr_cmp_fn)(const omni_expr_t *e, const omni_expr_node_t *cmp,
                                 double lhs, double rhs, void *ctx);
void omni_expr_evidence(const omni_expr_t *e, int i, const double *v, omni_expr_cmp_fn fn,
                        void *ctx);

/* Calls fn for every comparison of the condition, true or not, in source
 * order. */
void omni_expr_comparisons(const omni_expr_t *e, int i, const double *v, omni_expr_cmp_fn fn,
                           void *ctx);

/* a op b for a comparison operator: false when either side is NaN. */
int omni_expr_compare(omni_expr_op_t op, double a, double b);

/* The comparison operator's text ("<", ">=", ...). */
const char *omni_expr_op_text(omni_expr_op_t op);

#endif
