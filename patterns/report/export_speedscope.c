/* export_speedscope.c - speedscope's file format (its schema is
 * https://www.speedscope.app/file-format-schema.json): the frames shared by
 * all profiles, and one sampled profile per thread whose samples are the
 * distinct stacks, weighted by the time their samples stand for. */
#include "patterns/report/export.h"

#include "patterns/report/json_out.h"

#include <stdlib.h>
#include <string.h>

/* qsort has no context argument: the session being exported. */
static const omni_session_t *sorting;

static int by_place(const void *x, const void *y) {
    const omni_snode_t *a = &sorting->snodes[*(const int64_t *)x];
    const omni_snode_t *b = &sorting->snodes[*(const int64_t *)y];
    if (a->code != b->code)
        return a->code < b->code ? -1 : 1;
    return a->line < b->line ? -1 : a->line > b->line;
}

/* Frame index of every node: nodes of the same (code, line) share one.
 * *first_node[k] is a node of frame k. */
static int64_t *frame_ids(const omni_session_t *s, size_t *n_frames, int64_t **first_node) {
    int64_t *id = malloc((s->n_snodes + 1) * sizeof *id);
    int64_t *order = malloc((s->n_snodes + 1) * sizeof *order);
    if (!id || !order) {
        free(id);
        free(order);
        return NULL;
    }
    for (size_t i = 0; i < s->n_snodes; i++)
        order[i] = (int64_t)i;
    sorting = s;
    qsort(order, s->n_snodes, sizeof *order, by_place);
    size_t n = 0;
    for (size_t i = 0; i < s->n_snodes; i++) {
        if (i == 0 || by_place(&order[i - 1], &order[i]) != 0)
            order[n++] = order[i]; /* the frame's first node, kept in place */
        id[order[i]] = (int64_t)n - 1;
    }
    *n_frames = n;
    *first_node = order;
    return id;
}

static void put_stack(omni_json_t *j, const omni_session_t *s, const int64_t *id, int64_t node) {
    if (s->snodes[node].parent >= 0)
        put_stack(j, s, id, s->snodes[node].parent);
    omni_json_int(j, id[node]);
}

int omni_export_speedscope(const omni_session_t *s, FILE *f, char *err, size_t cap) {
    if (!s->has_samples) {
        snprintf(err, cap, "the session has no stack samples (it ran with --sample-rate 0 or "
                           "--interval 0)");
        return -2;
    }
    size_t n_frames;
    int64_t *first;
    int64_t *id = frame_ids(s, &n_frames, &first);
    if (!id)
        return -1;
    omni_json_t j;
    omni_json_init(&j, f);
    omni_json_begin_object(&j);
    omni_json_kv_str(&j, "$schema", "https://www.speedscope.app/file-format-schema.json");
    omni_json_kv_str(&j, "name", s->target);
    omni_json_kv_str(&j, "exporter", "omnipython " OMNI_VERSION);
    omni_json_kv_int(&j, "activeProfileIndex", 0);
    omni_json_key(&j, "shared");
    omni_json_begin_object(&j);
    omni_json_key(&j, "frames");
    omni_json_begin_array(&j);
    for (size_t k = 0; k < n_frames; k++) {
        const omni_snode_t *n = &s->snodes[first[k]];
        omni_json_begin_object(&j);
        omni_json_kv_str(&j, "name", n->code >= 0 ? s->codes[n->code].name : "?");
        omni_json_kv_str(&j, "file", n->code >= 0 ? s->codes[n->code].file : "?");
        omni_json_kv_int(&j, "line", n->line);
        omni_json_end_object(&j);
    }
    omni_json_end_array(&j);
    omni_json_end_object(&j);
    /* One profile per thread (pid, native id), in the order they appear. */
    omni_json_key(&j, "profiles");
    omni_json_begin_array(&j);
    for (size_t i = 0; i < s->n_sstacks; i++) {
        const omni_sstack_t *x = &s->sstacks[i];
        int seen = 0;
        for (size_t k = 0; k < i && !seen; k++)
            seen = s->sstacks[k].native_id == x->native_id && s->sstacks[k].pid == x->pid;
        if (seen)
            continue;
        const char *tname = NULL;
        for (size_t t = 0; t < s->n_threads; t++)
            if (s->threads[t].native_id == x->native_id && s->threads[t].pid == x->pid)
                tname = s->threads[t].name;
        char name[160];
        snprintf(name, sizeof name, "%s (pid %lld, tid %lld)", tname ? tname : "thread",
                 (long long)x->pid, (long long)x->native_id);
        double total = 0;
        omni_json_begin_object(&j);
        omni_json_kv_str(&j, "type", "sampled");
        omni_json_kv_str(&j, "name", name);
        omni_json_kv_str(&j, "unit", "seconds");
        omni_json_kv_int(&j, "startValue", 0);
        omni_json_key(&j, "samples");
        omni_json_begin_array(&j);
        for (size_t k = i; k < s->n_sstacks; k++) {
            if (s->sstacks[k].native_id != x->native_id || s->sstacks[k].pid != x->pid)
                continue;
            omni_json_begin_array(&j);
            put_stack(&j, s, id, s->sstacks[k].node);
            omni_json_end_array(&j);
        }
        omni_json_end_array(&j);
        omni_json_key(&j, "weights");
        omni_json_begin_array(&j);
        for (size_t k = i; k < s->n_sstacks; k++) {
            if (s->sstacks[k].native_id != x->native_id || s->sstacks[k].pid != x->pid)
                continue;
            double w = (double)s->sstacks[k].samples * s->sample_interval_s;
            total += w;
            omni_json_num(&j, w);
        }
        omni_json_end_array(&j);
        omni_json_kv_num(&j, "endValue", total);
        omni_json_end_object(&j);
    }
    omni_json_end_array(&j);
    omni_json_end_object(&j);
    fputc('\n', f);
    free(id);
    free(first);
    return ferror(f) ? -1 : 0;
}
