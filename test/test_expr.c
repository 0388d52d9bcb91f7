/* test_expr.c - the patterns' condition language: precedence, types, NaN,
 * margins, evidence, and errors with the offset of the problem. */
#include "patterns/expr.h"
#include "patterns/kb.h"
#include "test/unit.h"

#include <math.h>
#include <stdlib.h>

/* metrics a, b, c are 0, 1, 2 */
static int resolve(const char *name, size_t len, void *ctx) {
    (void)ctx;
    if (len == 1 && name[0] >= 'a' && name[0] <= 'c')
        return name[0] - 'a';
    return -1;
}

static double eval(const char *src, const double *v) {
    omni_expr_t e;
    char err[256];
    int at;
    if (omni_expr_parse(&e, src, resolve, NULL, err, sizeof err, &at) < 0) {
        fprintf(stderr, "parse %s: %s at %d\n", src, err, at);
        return -999;
    }
    double r = omni_expr_eval(&e, e.root, v);
    omni_expr_free(&e);
    return r;
}

/* The error's offset, and its message's start. */
static int error_at(const char *src, const char *msg) {
    omni_expr_t e;
    char err[256];
    int at = -1;
    if (omni_expr_parse(&e, src, resolve, NULL, err, sizeof err, &at) == 0) {
        omni_expr_free(&e);
        fprintf(stderr, "%s parsed\n", src);
        return -1;
    }
    if (strncmp(err, msg, strlen(msg)) != 0) {
        fprintf(stderr, "%s: \"%s\" does not start with \"%s\"\n", src, err, msg);
        return -2;
    }
    return at;
}

static int n_ev;
static char ev_text[4][64];
static void on_ev(const omni_expr_t *e, const omni_expr_node_t *cmp, double l, double r,
                  void *ctx) {
    (void)ctx;
    (void)l;
    (void)r;
    if (n_ev < 4)
        snprintf(ev_text[n_ev], sizeof ev_text[0], "%.*s", cmp->end - cmp->start,
                 e->src + cmp->start);
    n_ev++;
}

int main(void) {
    double v[3] = {10, 2, NAN};
    /* arithmetic and precedence */
    CHECK(eval("a + b * 3 == 16", v) == 1);
    CHECK(eval("(a + b) * 3 == 36", v) == 1);
    CHECK(eval("a / b - 1 == 4", v) == 1);
    CHECK(eval("-a + 1e1 == 0", v) == 1);
    CHECK(eval("min(a, b) == 2 and max(a, b) == 10 and abs(0 - a) == 10", v) == 1);
    CHECK(eval("2e-6 < 1", v) == 1);
    /* and binds tighter than or; not */
    CHECK(eval("a > 100 or a > 5 and b > 1", v) == 1);
    CHECK(eval("not a > 5 or b < 1", v) == 0);
    CHECK(eval("not (a > 5 and b < 1)", v) == 1);
    /* NaN: comparisons false, division by zero NaN */
    CHECK(eval("c > 0", v) == 0);
    CHECK(eval("c <= 0", v) == 0);
    CHECK(eval("a / 0 > 0 or a / 0 <= 0", v) == 0);
    CHECK(eval("c != 1", v) == 0);

    /* margins: relative distance past the threshold, least over and */
    omni_expr_t e;
    char err[256];
    int at;
    CHECK(omni_expr_parse(&e, "a >= 5 and b > 1", resolve, NULL, err, sizeof err, &at) == 0);
    CHECK(fabs(omni_expr_margin(&e, e.root, v) - 1.0) < 1e-12); /* min(5/5, 1/1) */
    n_ev = 0;
    omni_expr_evidence(&e, e.root, v, on_ev, NULL);
    CHECK_INT(n_ev, 2);
    CHECK_STR(ev_text[0], "a >= 5");
    CHECK_STR(ev_text[1], "b > 1");
    omni_expr_free(&e);
    /* or: evidence from the sides that held only */
    CHECK(omni_expr_parse(&e, "a > 100 or (b == 2)", resolve, NULL, err, sizeof err, &at) == 0);
    n_ev = 0;
    omni_expr_evidence(&e, e.root, v, on_ev, NULL);
    CHECK_INT(n_ev, 1);
    CHECK_STR(ev_text[0], "(b == 2)");
    CHECK(isnan(omni_expr_margin(&e, e.root, (double[]){0, 0, 0})));
    omni_expr_free(&e);

    /* errors at their offsets */
    CHECK_INT(error_at("a > d", "unknown metric 'd'"), 4);
    CHECK_INT(error_at("a > 1 and 2", "type error: 'and' takes conditions"), 10);
    CHECK_INT(error_at("(a > 1) + 2", "type error: '+' takes numbers"), 0);
    CHECK_INT(error_at("a > (1", "')' expected, not the end"), 6);
    CHECK_INT(error_at("a > 1 > 0", "comparisons do not chain"), 6);
    CHECK_INT(error_at("a = 1", "'=' is not an operator"), 2);
    CHECK_INT(error_at("a > 10ms", "bad number"), 4);
    CHECK_INT(error_at("a > 0x10", "bad number"), 4);
    CHECK_INT(error_at("a > 1 and", "a number, a metric or '(' expected, not the end"), 9);
    CHECK_INT(error_at("a > and", "'and' where a number"), 4);
    CHECK_INT(error_at("", "a number, a metric or '(' expected"), 0);
    CHECK_INT(error_at("a > 1 @", "unexpected '@'"), 6);
    CHECK_INT(error_at("min(a) > 1", "'min' takes two numbers"), 5);
    /* nesting is bounded: no stack overflow on hostile input */
    char deep[400];
    memset(deep, '(', sizeof deep - 1);
    deep[sizeof deep - 1] = 0;
    CHECK(error_at(deep, "nested too deeply") >= 0);

    /* every built-in pattern file loads */
    omni_kb_t kb;
    CHECK(omni_kb_load(&kb, NULL, err, sizeof err) == 0);
    CHECK(kb.n >= 17);
    omni_kb_free(&kb);
    UNIT_DONE();
}
