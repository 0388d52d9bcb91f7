/* model.c - the analysis of a session, built once for a report: the
 * matcher and every printed form read the same totals. */
#include "patterns/model/model.h"

#include <string.h>

int omni_model_build(const omni_session_t *s, omni_model_t *m) {
    memset(m, 0, sizeof *m);
    m->s = s;
    omni_timeline_summarize(s, &m->timeline);
    if (omni_profile_build(s, &m->profile) < 0)
        goto fail;
    if (omni_samples_build(s, &m->samples) < 0)
        goto fail;
    if (s->has_memory && s->memory_available && omni_memory_build(s, &m->memory) < 0)
        goto fail;
    if (s->n_runs && omni_runs_build(s, &m->runs) < 0)
        goto fail;
    if (omni_peers_build(s, &m->peers) < 0)
        goto fail;
    return 0;
fail:
    omni_model_free(m);
    return -1;
}

void omni_model_free(omni_model_t *m) {
    omni_profile_free(&m->profile);
    omni_samples_free(&m->samples);
    omni_memory_free(&m->memory);
    omni_runs_free(&m->runs);
    omni_peers_free(&m->peers);
    memset(m, 0, sizeof *m);
}
