/* unit.h - a minimal assertion kit for the C unit tests: every failed check
 * prints both sides and the test exits non-zero. */
#ifndef OMNI_TEST_UNIT_H
#define OMNI_TEST_UNIT_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int unit_failures;

#define CHECK(cond)                                                                       \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);      \
            unit_failures++;                                                              \
        }                                                                                 \
    } while (0)

#define CHECK_INT(a, b)                                                                   \
    do {                                                                                  \
        long long _a = (long long)(a), _b = (long long)(b);                               \
        if (_a != _b) {                                                                   \
            fprintf(stderr, "%s:%d: %s == %s: %lld != %lld\n", __FILE__, __LINE__, #a, #b, \
                    _a, _b);                                                              \
            unit_failures++;                                                              \
        }                                                                                 \
    } while (0)

#define CHECK_STR(a, b)                                                                   \
    do {                                                                                  \
        const char *_a = (a), *_b = (b);                                                  \
        if (!_a || !_b || strcmp(_a, _b) != 0) {                                          \
            fprintf(stderr, "%s:%d: %s == %s: \"%s\" != \"%s\"\n", __FILE__, __LINE__, #a, \
                    #b, _a ? _a : "(null)", _b ? _b : "(null)");                          \
            unit_failures++;                                                              \
        }                                                                                 \
    } while (0)

#define UNIT_DONE()                                                                       \
    do {                                                                                  \
        if (unit_failures)                                                                \
            fprintf(stderr, "%d check(s) failed\n", unit_failures);                       \
        return unit_failures ? 1 : 0;                                                     \
    } while (0)

#endif
