/* expr.c - parses, checks and evaluates the patterns' conditions. */
#include "patterns/expr.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NESTING 64

typedef struct parser {
    omni_expr_t *e;
    const char *s;
    int pos;
    int depth;
    omni_expr_resolve_fn resolve;
    void *ctx;
    char *err;
    size_t errcap;
    int err_at;
    int failed;
} parser_t;

/* ---------------------------------------------------------------- tokens */

static void skip_space(parser_t *p) {
    while (p->s[p->pos] && isspace((unsigned char)p->s[p->pos]))
        p->pos++;
}

static int fail(parser_t *p, int at, const char *fmt, ...) {
    if (p->failed)
        return -1;
    p->failed = 1;
    p->err_at = at;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err, p->errcap, fmt, ap);
    va_end(ap);
    return -1;
}

static int is_word_char(char c) {
    return isalnum((unsigned char)c) || c == '_';
}

/* Whether the word w comes next (a whole word); consumes it if so. */
static int accept_word(parser_t *p, const char *w) {
    skip_space(p);
    size_t n = strlen(w);
    if (strncmp(p->s + p->pos, w, n) == 0 && !is_word_char(p->s[p->pos + n])) {
        p->pos += (int)n;
        return 1;
    }
    return 0;
}

static int accept(parser_t *p, const char *tok) {
    skip_space(p);
    size_t n = strlen(tok);
    if (strncmp(p->s + p->pos, tok, n) == 0) {
        p->pos += (int)n;
        return 1;
    }
    return 0;
}

/* What is at the current position, for messages. */
static void describe_here(parser_t *p, char *out, size_t cap) {
    skip_space(p);
    if (!p->s[p->pos]) {
        snprintf(out, cap, "the end");
        return;
    }
    int n = 0;
    if (is_word_char(p->s[p->pos]))
        while (is_word_char(p->s[p->pos + n]) && n < 40)
            n++;
    else
        n = 1;
    snprintf(out, cap, "'%.*s'", n, p->s + p->pos);
}

/* ---------------------------------------------------------------- nodes */

static int add_node(parser_t *p, omni_expr_op_t op, int a, int b, int start) {
    omni_expr_t *e = p->e;
    if (e->n == e->cap) {
        int cap = e->cap ? 2 * e->cap : 16;
        omni_expr_node_t *nn = realloc(e->nodes, (size_t)cap * sizeof *nn);
        if (!nn)
            return fail(p, start, "out of memory");
        e->nodes = nn;
        e->cap = cap;
    }
    omni_expr_node_t *x = &e->nodes[e->n];
    memset(x, 0, sizeof *x);
    x->op = op;
    x->a = a;
    x->b = b;
    x->start = start;
    x->end = p->pos;
    while (x->end > start && isspace((unsigned char)p->s[x->end - 1]))
        x->end--; /* the parser looked past the blanks after the node */
    x->metric = -1;
    return e->n++;
}

static int is_bool_op(omni_expr_op_t op) {
    return op >= OMNI_X_LT && op <= OMNI_X_NOT;
}

static int node_is_bool(parser_t *p, int i) {
    return is_bool_op(p->e->nodes[i].op);
}

/* The operands' types: arithmetic and comparisons take numbers, and/or/not
 * take truths. */
static int check_types(parser_t *p, int i, int want_bool, const char *op) {
    if (i < 0)
        return -1;
    if (node_is_bool(p, i) != want_bool) {
        const omni_expr_node_t *x = &p->e->nodes[i];
        return fail(p, x->start, "type error: '%s' takes %s, but '%.*s' is %s", op,
                    want_bool ? "conditions (comparisons)" : "numbers", x->end - x->start,
                    p->s + x->start, want_bool ? "a number" : "a condition");
    }
    return 0;
}

static int parse_or(parser_t *p);

static int parse_number(parser_t *p) {
    int start = p->pos;
    char *end;
    errno = 0;
    double v = strtod(p->s + p->pos, &end);
    if (end == p->s + p->pos || errno == ERANGE || !isfinite(v))
        return fail(p, start, "bad number");
    /* strtod also reads hex, inf and nan: only decimal numbers here */
    for (const char *c = p->s + p->pos; c < end; c++)
        if (!(isdigit((unsigned char)*c) || *c == '.' || *c == 'e' || *c == 'E' || *c == '+' ||
              *c == '-'))
            return fail(p, start, "bad number");
    p->pos = (int)(end - p->s);
    if (is_word_char(p->s[p->pos]))
        return fail(p, start, "bad number: '%.*s' (units are not part of the language)",
                    p->pos - start + 1, p->s + start);
    int i = add_node(p, OMNI_X_NUM, -1, -1, start);
    if (i >= 0)
        p->e->nodes[i].num = v;
    return i;
}

static int parse_call(parser_t *p, omni_expr_op_t op, int start, const char *name) {
    if (!accept(p, "("))
        return fail(p, p->pos, "'%s' needs '(' after it", name);
    int a = parse_or(p), b = -1;
    if (check_types(p, a, 0, name) < 0)
        return -1;
    if (op != OMNI_X_ABS) {
        if (!accept(p, ","))
            return fail(p, p->pos, "'%s' takes two numbers: ',' expected", name);
        b = parse_or(p);
        if (check_types(p, b, 0, name) < 0)
            return -1;
    }
    if (!accept(p, ")")) {
        char what[64];
        describe_here(p, what, sizeof what);
        return fail(p, p->pos, "')' expected, not %s", what);
    }
    return add_node(p, op, a, b, start);
}

static int parse_atom(parser_t *p) {
    skip_space(p);
    int start = p->pos;
    char c = p->s[p->pos];
    if (c == '(') {
        if (++p->depth > MAX_NESTING)
            return fail(p, start, "nested too deeply");
        p->pos++;
        int i = parse_or(p);
        p->depth--;
        if (i < 0)
            return -1;
        if (!accept(p, ")")) {
            char what[64];
            describe_here(p, what, sizeof what);
            return fail(p, p->pos, "')' expected, not %s", what);
        }
        /* the node's text takes in the parentheses */
        p->e->nodes[i].start = start;
        p->e->nodes[i].end = p->pos;
        return i;
    }
    if (isdigit((unsigned char)c) || (c == '.' && isdigit((unsigned char)p->s[p->pos + 1])))
        return parse_number(p);
    if (isalpha((unsigned char)c) || c == '_') {
        int n = 0;
        while (is_word_char(p->s[p->pos + n]))
            n++;
        const char *w = p->s + p->pos;
        static const struct {
            const char *name;
            omni_expr_op_t op;
        } fns[] = {{"min", OMNI_X_MIN}, {"max", OMNI_X_MAX}, {"abs", OMNI_X_ABS}};
        for (size_t k = 0; k < sizeof fns / sizeof fns[0]; k++)
            if ((size_t)n == strlen(fns[k].name) && strncmp(w, fns[k].name, (size_t)n) == 0) {
                p->pos += n;
                return parse_call(p, fns[k].op, start, fns[k].name);
            }
        static const char *reserved[] = {"and", "or", "not"};
        for (size_t k = 0; k < 3; k++)
            if ((size_t)n == strlen(reserved[k]) && strncmp(w, reserved[k], (size_t)n) == 0)
                return fail(p, start, "'%s' where a number or a metric was expected",
                            reserved[k]);
        int m = p->resolve(w, (size_t)n, p->ctx);
        if (m < 0)
            return fail(p, start, "unknown metric '%.*s'", n, w);
        p->pos += n;
        int i = add_node(p, OMNI_X_METRIC, -1, -1, start);
        if (i >= 0)
            p->e->nodes[i].metric = m;
        return i;
    }
    char what[64];
    describe_here(p, what, sizeof what);
    return fail(p, start, "a number, a metric or '(' expected, not %s", what);
}

static int parse_unary(parser_t *p) {
    skip_space(p);
    int start = p->pos;
    if (accept(p, "-")) {
        if (++p->depth > MAX_NESTING)
            return fail(p, start, "nested too deeply");
        int a = parse_unary(p);
        p->depth--;
        if (check_types(p, a, 0, "-") < 0)
            return -1;
        return add_node(p, OMNI_X_NEG, a, -1, start);
    }
    return parse_atom(p);
}

static int parse_product(parser_t *p) {
    skip_space(p);
    int start = p->pos;
    int a = parse_unary(p);
    while (a >= 0) {
        omni_expr_op_t op;
        const char *t;
        if (accept(p, "*"))
            op = OMNI_X_MUL, t = "*";
        else if (accept(p, "/"))
            op = OMNI_X_DIV, t = "/";
        else
            break;
        int b = parse_unary(p);
        if (check_types(p, a, 0, t) < 0 || check_types(p, b, 0, t) < 0)
            return -1;
        a = add_node(p, op, a, b, start);
    }
    return a;
}

static int parse_sum(parser_t *p) {
    skip_space(p);
    int start = p->pos;
    int a = parse_product(p);
    while (a >= 0) {
        omni_expr_op_t op;
        const char *t;
        if (accept(p, "+"))
            op = OMNI_X_ADD, t = "+";
        else if (accept(p, "-"))
            op = OMNI_X_SUB, t = "-";
        else
            break;
        int b = parse_product(p);
        if (check_types(p, a, 0, t) < 0 || check_types(p, b, 0, t) < 0)
            return -1;
        a = add_node(p, op, a, b, start);
    }
    return a;
}

static const struct {
    const char *text;
    omni_expr_op_t op;
} cmp_ops[] = {{"<=", OMNI_X_LE}, {">=", OMNI_X_GE}, {"==", OMNI_X_EQ}, {"!=", OMNI_X_NE},
               {"<", OMNI_X_LT},  {">", OMNI_X_GT}};

const char *omni_expr_op_text(omni_expr_op_t op) {
    for (size_t k = 0; k < sizeof cmp_ops / sizeof cmp_ops[0]; k++)
        if (cmp_ops[k].op == op)
            return cmp_ops[k].text;
    return "?";
}

static int parse_comparison(parser_t *p) {
    skip_space(p);
    int start = p->pos;
    int a = parse_sum(p);
    if (a < 0)
        return -1;
    for (size_t k = 0; k < sizeof cmp_ops / sizeof cmp_ops[0]; k++)
        if (accept(p, cmp_ops[k].text)) {
            int b = parse_sum(p);
            if (check_types(p, a, 0, cmp_ops[k].text) < 0 ||
                check_types(p, b, 0, cmp_ops[k].text) < 0)
                return -1;
            int i = add_node(p, cmp_ops[k].op, a, b, start);
            skip_space(p);
            for (size_t m = 0; i >= 0 && m < sizeof cmp_ops / sizeof cmp_ops[0]; m++)
                if (strncmp(p->s + p->pos, cmp_ops[m].text, strlen(cmp_ops[m].text)) == 0)
                    return fail(p, p->pos, "comparisons do not chain: use 'and'");
            return i;
        }
    if (accept(p, "="))
        return fail(p, p->pos - 1, "'=' is not an operator: '==' compares");
    return a;
}

static int parse_not(parser_t *p) {
    skip_space(p);
    int start = p->pos;
    if (accept_word(p, "not")) {
        if (++p->depth > MAX_NESTING)
            return fail(p, start, "nested too deeply");
        int a = parse_not(p);
        p->depth--;
        if (check_types(p, a, 1, "not") < 0)
            return -1;
        return add_node(p, OMNI_X_NOT, a, -1, start);
    }
    return parse_comparison(p);
}

static int parse_and(parser_t *p) {
    skip_space(p);
    int start = p->pos;
    int a = parse_not(p);
    while (a >= 0 && accept_word(p, "and")) {
        int b = parse_not(p);
        if (check_types(p, a, 1, "and") < 0 || check_types(p, b, 1, "and") < 0)
            return -1;
        a = add_node(p, OMNI_X_AND, a, b, start);
    }
    return a;
}

static int parse_or(parser_t *p) {
    skip_space(p);
    int start = p->pos;
    int a = parse_and(p);
    while (a >= 0 && accept_word(p, "or")) {
        int b = parse_and(p);
        if (check_types(p, a, 1, "or") < 0 || check_types(p, b, 1, "or") < 0)
            return -1;
        a = add_node(p, OMNI_X_OR, a, b, start);
    }
    return a;
}

int omni_expr_parse(omni_expr_t *e, const char *src, omni_expr_resolve_fn resolve, void *ctx,
                    char *err, size_t errcap, int *err_at) {
    memset(e, 0, sizeof *e);
    e->root = -1;
    parser_t p = {.e = e, .s = src, .resolve = resolve, .ctx = ctx, .err = err, .errcap = errcap};
    int root = parse_or(&p);
    if (root >= 0) {
        skip_space(&p);
        if (p.s[p.pos]) {
            char what[64];
            describe_here(&p, what, sizeof what);
            fail(&p, p.pos, "unexpected %s", what);
        }
    }
    if (p.failed || root < 0) {
        if (!p.failed)
            fail(&p, p.pos, "cannot parse");
        *err_at = p.err_at;
        omni_expr_free(e);
        return -1;
    }
    e->root = root;
    e->is_bool = is_bool_op(e->nodes[root].op);
    e->src = strdup(src);
    if (!e->src) {
        snprintf(err, errcap, "out of memory");
        *err_at = 0;
        omni_expr_free(e);
        return -1;
    }
    return 0;
}

void omni_expr_free(omni_expr_t *e) {
    free(e->nodes);
    free(e->src);
    memset(e, 0, sizeof *e);
    e->root = -1;
}

/* ---------------------------------------------------------------- evaluation */

double omni_expr_eval(const omni_expr_t *e, int i, const double *v) {
    const omni_expr_node_t *x = &e->nodes[i];
    double a = 0, b = 0;
    switch (x->op) {
    case OMNI_X_NUM:
        return x->num;
    case OMNI_X_METRIC:
        return v[x->metric];
    case OMNI_X_AND:
        return omni_expr_eval(e, x->a, v) != 0 && omni_expr_eval(e, x->b, v) != 0;
    case OMNI_X_OR:
        return omni_expr_eval(e, x->a, v) != 0 || omni_expr_eval(e, x->b, v) != 0;
    case OMNI_X_NOT:
        return omni_expr_eval(e, x->a, v) == 0;
    default:
        break;
    }
    a = omni_expr_eval(e, x->a, v);
    if (x->b >= 0)
        b = omni_expr_eval(e, x->b, v);
    if (x->op >= OMNI_X_LT && x->op <= OMNI_X_NE)
        return omni_expr_compare(x->op, a, b);
    int nan = isnan(a) || isnan(b);
    switch (x->op) {
    case OMNI_X_ADD: return a + b;
    case OMNI_X_SUB: return a - b;
    case OMNI_X_MUL: return a * b;
    case OMNI_X_DIV: return b == 0 ? NAN : a / b;
    case OMNI_X_NEG: return -a;
    case OMNI_X_MIN: return nan ? NAN : fmin(a, b);
    case OMNI_X_MAX: return nan ? NAN : fmax(a, b);
    case OMNI_X_ABS: return fabs(a);
    default: return NAN;
    }
}

int omni_expr_compare(omni_expr_op_t op, double a, double b) {
    if (isnan(a) || isnan(b))
        return 0;
    switch (op) {
    case OMNI_X_LT: return a < b;
    case OMNI_X_LE: return a <= b;
    case OMNI_X_GT: return a > b;
    case OMNI_X_GE: return a >= b;
    case OMNI_X_EQ: return a == b;
    case OMNI_X_NE: return a != b;
    default: return 0;
    }
}

static int is_comparison(omni_expr_op_t op) {
    return op >= OMNI_X_LT && op <= OMNI_X_NE;
}

double omni_expr_margin(const omni_expr_t *e, int i, const double *v) {
    const omni_expr_node_t *x = &e->nodes[i];
    if (omni_expr_eval(e, i, v) == 0)
        return NAN;
    if (is_comparison(x->op)) {
        double a = omni_expr_eval(e, x->a, v), b = omni_expr_eval(e, x->b, v);
        if (x->op == OMNI_X_EQ)
            return 0;
        if (b == 0)
            return a == 0 ? 0 : 1; /* past a zero threshold: a full unit */
        return fabs(a - b) / fabs(b);
    }
    if (x->op == OMNI_X_AND)
        return fmin(omni_expr_margin(e, x->a, v), omni_expr_margin(e, x->b, v));
    if (x->op == OMNI_X_OR)
        return fmax(omni_expr_margin(e, x->a, v), omni_expr_margin(e, x->b, v)); /* fmax skips NaN */
    return 0; /* not: true because something did not hold; no distance to tell */
}

void omni_expr_evidence(const omni_expr_t *e, int i, const double *v, omni_expr_cmp_fn fn,
                        void *ctx) {
    const omni_expr_node_t *x = &e->nodes[i];
    if (is_comparison(x->op)) {
        fn(e, x, omni_expr_eval(e, x->a, v), omni_expr_eval(e, x->b, v), ctx);
        return;
    }
    if (x->op == OMNI_X_AND || x->op == OMNI_X_OR) {
        if (x->op == OMNI_X_AND || omni_expr_eval(e, x->a, v) != 0)
            omni_expr_evidence(e, x->a, v, fn, ctx);
        if (x->op == OMNI_X_AND || omni_expr_eval(e, x->b, v) != 0)
            omni_expr_evidence(e, x->b, v, fn, ctx);
    }
}

void omni_expr_comparisons(const omni_expr_t *e, int i, const double *v, omni_expr_cmp_fn fn,
                           void *ctx) {
    const omni_expr_node_t *x = &e->nodes[i];
    if (is_comparison(x->op)) {
        fn(e, x, omni_expr_eval(e, x->a, v), omni_expr_eval(e, x->b, v), ctx);
        return;
    }
    if (x->op == OMNI_X_AND || x->op == OMNI_X_OR || x->op == OMNI_X_NOT) {
        omni_expr_comparisons(e, x->a, v, fn, ctx);
        if (x->b >= 0)
            omni_expr_comparisons(e, x->b, v, fn, ctx);
    }
}
