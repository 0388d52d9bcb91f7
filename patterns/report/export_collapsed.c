/* export_collapsed.c - folded stacks: "frame;frame;frame count" a line, the
 * outermost frame first, for flamegraph.pl, inferno and Pyroscope. A frame
 * is "function (file:line)"; threads of one stack are added together. */
#include "patterns/report/export.h"

#include <stdlib.h>
#include <string.h>

/* A frame's label, with the characters the format uses (";" and the final
 * space) replaced. */
static void put_frame(FILE *f, const omni_session_t *s, const omni_snode_t *n) {
    const char *name = n->code >= 0 ? s->codes[n->code].name : "?";
    const char *file = n->code >= 0 ? s->codes[n->code].file : "?";
    for (const char *p = name; *p; p++)
        fputc(*p == ';' ? ':' : *p == ' ' ? '_' : *p, f);
    fputs(" (", f);
    for (const char *p = file; *p; p++)
        fputc(*p == ';' ? ':' : *p == ' ' ? '_' : *p, f);
    fprintf(f, ":%lld)", (long long)n->line);
}

static void put_path(FILE *f, const omni_session_t *s, int64_t node) {
    if (s->snodes[node].parent >= 0) {
        put_path(f, s, s->snodes[node].parent);
        fputc(';', f);
    }
    put_frame(f, s, &s->snodes[node]);
}

int omni_export_collapsed(const omni_session_t *s, FILE *f, char *err, size_t cap) {
    if (!s->has_samples) {
        snprintf(err, cap, "the session has no stack samples (it ran with --sample-rate 0 or "
                           "--interval 0)");
        return -2;
    }
    /* One line per node: the stacks of all threads that end there. */
    uint64_t *count = calloc(s->n_snodes + 1, sizeof *count);
    if (!count)
        return -1;
    for (size_t i = 0; i < s->n_sstacks; i++)
        count[s->sstacks[i].node] += s->sstacks[i].samples;
    for (size_t n = 0; n < s->n_snodes; n++) {
        if (!count[n])
            continue;
        put_path(f, s, (int64_t)n);
        fprintf(f, " %llu\n", (unsigned long long)count[n]);
    }
    free(count);
    return ferror(f) ? -1 : 0;
}
