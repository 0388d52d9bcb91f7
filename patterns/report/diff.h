/* diff.h - omnipython --diff A B: per-function deltas between two sessions,
 * noise-aware when they hold repeated runs; usable as a CI gate. */
#ifndef OMNI_DIFF_H
#define OMNI_DIFF_H

#include <stdio.h>

#include "runtime/session/reader.h"

/* Writes the comparison (text, or JSON when json) and sets *any_regressed.
 * Returns 0, or -1 (memory, or a write error). */
int omni_diff(const omni_session_t *a, const char *path_a, const omni_session_t *b,
              const char *path_b, double threshold_pct, int json, FILE *f, int *any_regressed);

#endif
