/* events.c - the audited events of a session (or a joined tree), added up
 * by what happened and where, for the reports. */
#include "patterns/model/analysis.h"

#include <stdlib.h>
#include <string.h>

static int same(const omni_sevent_t *a, const omni_sevent_t *b) {
    return a->code == b->code && strcmp(a->event, b->event) == 0 &&
           strcmp(a->what, b->what) == 0 && strcmp(a->detail, b->detail) == 0;
}

static int by_key(const void *x, const void *y) {
    const omni_sevent_t *a = *(omni_sevent_t *const *)x, *b = *(omni_sevent_t *const *)y;
    int c = strcmp(a->event, b->event);
    if (!c)
        c = strcmp(a->what, b->what);
    if (!c)
        c = strcmp(a->detail, b->detail);
    if (!c)
        c = a->code < b->code ? -1 : a->code > b->code;
    return c;
}

static int by_weight(const void *x, const void *y) {
    const omni_etotal_ev_t *a = x, *b = y;
    if (a->seconds != b->seconds)
        return a->seconds < b->seconds ? 1 : -1;
    if (a->count != b->count)
        return a->count < b->count ? 1 : -1;
    return strcmp(a->what, b->what);
}

int omni_events_build(const omni_session_t *s, const char *event, omni_events_t *out) {
    memset(out, 0, sizeof *out);
    const omni_sevent_t **v = malloc((s->n_events + 1) * sizeof *v);
    out->rows = calloc(s->n_events + 1, sizeof *out->rows);
    if (!v || !out->rows) {
        free(v);
        free(out->rows);
        out->rows = NULL;
        return -1;
    }
    size_t n = 0;
    for (size_t i = 0; i < s->n_events; i++)
        if (strcmp(s->events[i].event, event) == 0)
            v[n++] = &s->events[i];
    qsort(v, n, sizeof *v, by_key);
    for (size_t i = 0; i < n; i++) {
        if (out->n && same(v[i], v[i - 1])) {
            omni_etotal_ev_t *r = &out->rows[out->n - 1];
            r->count += v[i]->count;
            r->seconds += v[i]->seconds;
            continue;
        }
        out->rows[out->n++] = (omni_etotal_ev_t){v[i]->what, v[i]->detail, v[i]->code,
                                                 v[i]->count, v[i]->seconds};
    }
    qsort(out->rows, out->n, sizeof *out->rows, by_weight);
    free(v);
    return 0;
}

void omni_events_free(omni_events_t *e) {
    free(e->rows);
    memset(e, 0, sizeof *e);
}

int omni_events_is_interpreter(const omni_etotal_ev_t *r) {
    size_t n = strlen(r->detail);
    return n >= 13 && strcmp(r->detail + n - 13, "(interpreter)") == 0;
}
