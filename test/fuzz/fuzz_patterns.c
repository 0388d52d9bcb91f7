/* fuzz_patterns.c - libFuzzer target: any bytes given as a pattern file give
 * patterns or a message with a place, never a crash, a leak or undefined
 * behaviour; what loads can be evaluated. */
#include "patterns/kb.h"
#include "patterns/match.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

static void on_ev(const omni_expr_t *e, const omni_expr_node_t *cmp, double l, double r,
                  void *ctx) {
    (void)e, (void)cmp, (void)l, (void)r, (void)ctx;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    omni_kb_t kb = {0};
    char err[1024];
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = 0;
    if (omni_kb_add_text(&kb, "fuzz.yaml", text, size, 0, err, sizeof err) == 0) {
        double *v = malloc((size_t)omni_n_metrics * sizeof *v);
        for (int i = 0; v && i < omni_n_metrics; i++)
            v[i] = i % 3 == 0 ? NAN : (double)i;
        for (size_t i = 0; v && i < kb.n; i++)
            for (int k = 0; k < kb.p[i].n_when; k++) {
                const omni_expr_t *e = &kb.p[i].when[k].cond;
                omni_expr_eval(e, e->root, v);
                omni_expr_margin(e, e->root, v);
                omni_expr_evidence(e, e->root, v, on_ev, NULL);
                omni_expr_comparisons(e, e->root, v, on_ev, NULL);
            }
        free(v);
    }
    omni_kb_free(&kb);
    free(text);
    return 0;
}
