/* fuzz_raw.c - libFuzzer target: any text given to the raw-metrics
 * tokenizer gives counts or "no end", never a crash or undefined behaviour;
 * the counts always add up as radon's do. */
#include "static/static_metrics.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    omni_raw_t r;
    long bad;
    /* every way of tokenizing strings: 3.11's, 3.12's f-strings, 3.14's t-strings */
    for (int flags = 0; flags <= OMNI_RAW_FSTRING_TOKENS + OMNI_RAW_TSTRING_TOKENS; flags++) {
        if (omni_raw_analyze((const char *)data, size, flags, &r, &bad) == 0 &&
            (r.loc != r.sloc + r.blank + r.multi + r.single_comments || r.lloc < 0))
            abort();
    }
    return 0;
}
