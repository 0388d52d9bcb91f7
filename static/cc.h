/* cc.h - radon's cyclomatic complexity and Halstead metrics over CPython's
 * syntax tree. Called with the GIL held (names and constants are Python
 * objects of the tree). */
#ifndef OMNI_CC_H
#define OMNI_CC_H

#include "static/ast_walk.h"
#include "static/static_metrics.h"

/* radon.complexity.cc_visit, with rules (OMNI_CC_*). Returns 0 or -1 (memory). */
int omni_cc_visit(mod_ty mod, int rules, omni_cc_t *out);
void omni_cc_free(omni_cc_t *c);

/* radon.metrics.h_visit: the file's total and its functions'. Returns 0 or
 * -1 (memory). */
int omni_hal_visit(mod_ty mod, omni_hal_t *out);
void omni_hal_free(omni_hal_t *h);

#endif
