/* model.h - the analysis of a session, built once for a report: the matcher
 * (patterns/) and the printed forms (patterns/report/) read the same one. */
#ifndef OMNI_MODEL_H
#define OMNI_MODEL_H

#include "patterns/model/analysis.h"
#include "patterns/model/peers.h"
#include "patterns/model/runs.h"

/* Every piece of analysis.h and runs.h that a report and the matcher read,
 * built once per report from one (joined) session. */
typedef struct omni_model {
    const omni_session_t *s;         /* borrowed: outlives the model */
    omni_profile_t profile;
    omni_sample_totals_t samples;
    omni_timeline_summary_t timeline;
    omni_memory_t memory;            /* empty unless the run's allocations were accounted */
    omni_runs_t runs;                /* the runs of --repeat (s->n_runs of them), else empty */
    omni_peers_t peers;              /* processes side by side, and the slowest of each group */
} omni_model_t;

/* Builds the analysis of s. Returns 0, or -1 when memory runs out (m is
 * then freed). */
int omni_model_build(const omni_session_t *s, omni_model_t *m);
/* Idempotent. */
void omni_model_free(omni_model_t *m);

#endif
