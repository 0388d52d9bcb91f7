/* test_raw.c - the raw-metrics tokenizer in each way Python's tokenize
 * splits strings: 3.11's (an f-string is one STRING token) and 3.12+'s
 * (PEP 701: FSTRING_START, its text, its fields' tokens, FSTRING_END). The
 * expected counts are radon's: radon 5.1 on python3.11 and radon 6.0.1 on
 * python3.13 (radon.raw.analyze on the same text). */
#include "static/static_metrics.h"
#include "test/unit.h"

typedef struct {
    const char *src;
    long lloc, sloc, single_comments, multi; /* radon's */
} case_t;

static void check(const case_t *c, int flags) {
    omni_raw_t r;
    long bad = 0;
    int rc = omni_raw_analyze(c->src, strlen(c->src), flags, &r, &bad);
    if (rc != 0) {
        fprintf(stderr, "no end (line %ld) in: %s\n", bad, c->src);
        unit_failures++;
        return;
    }
    long got[4] = {r.lloc, r.sloc, r.single_comments, r.multi};
    long want[4] = {c->lloc, c->sloc, c->single_comments, c->multi};
    for (int i = 0; i < 4; i++)
        if (got[i] != want[i]) {
            fprintf(stderr, "flags %d, %s: [lloc sloc single multi][%d] = %ld, radon %ld\n",
                    flags, c->src, i, got[i], want[i]);
            unit_failures++;
        }
}

int main(void) {
    /* text both tokenize alike */
    static const case_t both[] = {
        {"x = 1\n", 1, 1, 0, 0},
        {"'''doc'''\n", 1, 0, 1, 0},
        {"'''doc\nmore'''\n", 1, 0, 0, 2},
        {"if x: y = 1\n", 2, 1, 0, 0},
        {"s = 'a:b'\n", 1, 1, 0, 0},
    };
    for (size_t i = 0; i < sizeof both / sizeof both[0]; i++) {
        check(&both[i], 0);
        check(&both[i], OMNI_RAW_FSTRING_TOKENS);
    }
    /* 3.11: an f-string is one string */
    static const case_t py311[] = {
        {"f'plain'\n", 1, 0, 1, 0},
        {"x = f'{a:>10}'\n", 1, 1, 0, 0},
        {"f'{x!r}'\n", 1, 0, 1, 0},
        {"y = f'''\n{a\n+b}\nz'''\n", 1, 4, 0, 0},
    };
    for (size_t i = 0; i < sizeof py311 / sizeof py311[0]; i++)
        check(&py311[i], 0);
    /* 3.12+: its tokens; a ':' in a field counts in the logical-lines rule */
    static const case_t py312[] = {
        {"f'plain'\n", 1, 1, 0, 0},
        {"x = f'{a:>10}'\n", 2, 1, 0, 0},
        {"f'{x!r}'\n", 1, 1, 0, 0},
        {"y = f'''\n{a\n+b}\nz'''\n", 1, 4, 0, 0},
        {"s = f'{d[\"k\"]}'\n", 1, 1, 0, 0},
        {"s = f'{f'{1}'}'\n", 1, 1, 0, 0},
        {"s = f'a{{b}}c'\n", 1, 1, 0, 0},
        {"s = f'{a:{w}.{p}}'\n", 2, 1, 0, 0},
        {"if x: s = f'{a}'\n", 2, 1, 0, 0},
        {"s = f'{x=}'  # comment\n", 1, 1, 0, 0},
    };
    for (size_t i = 0; i < sizeof py312 / sizeof py312[0]; i++)
        check(&py312[i], OMNI_RAW_FSTRING_TOKENS);
    /* 3.14: a t-string too; 3.12 reads t'...' as a name and a string */
    static const case_t py314[] = {
        {"t'{a:>3}'\n", 2, 1, 0, 0},
    };
    check(&py314[0], OMNI_RAW_FSTRING_TOKENS | OMNI_RAW_TSTRING_TOKENS);
    UNIT_DONE();
}
