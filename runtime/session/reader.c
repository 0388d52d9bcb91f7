/* reader.c - turns the msgpack record stream back into the session
 * model, checking every type on the way: a damaged file gives a message,
 * never a crash. */
#include "runtime/session/reader.h"

#include "runtime/session/mp_get.h"
#include "runtime/session/writer.h"
#include "runtime/threadnames.h"

#include <errno.h>
#include <math.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- typed access */

static char *obj_strdup(const msgpack_object *o) {
    if (!o || o->type != MSGPACK_OBJECT_STR)
        return NULL;
    char *s = malloc(o->via.str.size + 1);
    if (!s)
        return NULL;
    memcpy(s, o->via.str.ptr, o->via.str.size);
    s[o->via.str.size] = 0;
    /* A NUL inside the string would cut it short in reports: keep it visible. */
    for (uint32_t i = 0; i < o->via.str.size; i++)
        if (!s[i])
            s[i] = '?';
    return s;
}

static int obj_i64(const msgpack_object *o, int64_t *v) {
    if (!o)
        return -1;
    if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 <= INT64_MAX)
        *v = (int64_t)o->via.u64;
    else if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        *v = o->via.i64;
    else
        return -1;
    return 0;
}

static int obj_u64(const msgpack_object *o, uint64_t *v) {
    if (!o || o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return -1;
    *v = o->via.u64;
    return 0;
}

static char **str_array(const msgpack_object *o, size_t *n) {
    *n = 0;
    if (!o || o->type != MSGPACK_OBJECT_ARRAY)
        return NULL;
    char **v = calloc(o->via.array.size + 1, sizeof *v);
    if (!v)
        return NULL;
    for (uint32_t i = 0; i < o->via.array.size; i++)
        v[(*n)++] = obj_strdup(&o->via.array.ptr[i]);
    return v;
}

/* The position of column name in table t, or -1. */
static int column_of(const msgpack_object *t, const char *name) {
    const msgpack_object *cols = omni_mp_get(t, "columns");
    for (uint32_t c = 0; cols && cols->type == MSGPACK_OBJECT_ARRAY && c < cols->via.array.size; c++)
        if (omni_mp_is_str(&cols->via.array.ptr[c], name))
            return (int)c;
    return -1;
}

/* A table is {columns: [names], rows: [[values]]}. Finds where each wanted
 * column is; returns the rows array, or NULL when the table is malformed. */
static const msgpack_object *table_rows(const msgpack_object *t, const char *const *want,
                                        int nwant, int *pos) {
    const msgpack_object *cols = omni_mp_get(t, "columns");
    const msgpack_object *rows = omni_mp_get(t, "rows");
    if (!cols || cols->type != MSGPACK_OBJECT_ARRAY || !rows || rows->type != MSGPACK_OBJECT_ARRAY)
        return NULL;
    for (int w = 0; w < nwant; w++)
        if ((pos[w] = column_of(t, want[w])) < 0)
            return NULL;
    for (uint32_t r = 0; r < rows->via.array.size; r++) {
        const msgpack_object *row = &rows->via.array.ptr[r];
        if (row->type != MSGPACK_OBJECT_ARRAY || row->via.array.size < cols->via.array.size)
            return NULL;
    }
    return rows;
}

static const msgpack_object *cell(const msgpack_object *row, int pos) {
    return &row->via.array.ptr[pos];
}

/* ---------------------------------------------------------------- records */

static int read_header(const msgpack_object *r, omni_session_t *s, char *err, size_t cap) {
    if (!omni_mp_is_str(omni_mp_get(r, "format"), OMNI_SESSION_FORMAT)) {
        snprintf(err, cap, "not an omnipython session (no '%s' header)", OMNI_SESSION_FORMAT);
        return -1;
    }
    if (obj_u64(omni_mp_get(r, "version"), &s->version) < 0 || s->version < 1) {
        snprintf(err, cap, "the session header has no valid format version");
        return -1;
    }
    if (s->version > OMNI_SESSION_VERSION) {
        snprintf(err, cap, "session format version %llu is newer than this omnipython reads (%d)",
                 (unsigned long long)s->version, OMNI_SESSION_VERSION);
        return -1;
    }
    s->session_id = obj_strdup(omni_mp_get(r, "session_id"));
    obj_i64(omni_mp_get(r, "pid"), &s->pid);
    obj_i64(omni_mp_get(r, "ppid"), &s->ppid);
    uint64_t ns = 0;
    if (obj_u64(omni_mp_get(r, "start_unix_ns"), &ns) == 0)
        s->start_unix_s = (double)ns / 1e9;
    s->argv = str_array(omni_mp_get(r, "argv"), &s->argc);
    s->sys_argv = str_array(omni_mp_get(r, "sys_argv"), &s->sys_argc);
    s->target = obj_strdup(omni_mp_get(r, "target"));
    s->cwd = obj_strdup(omni_mp_get(r, "cwd"));
    s->executable = obj_strdup(omni_mp_get(r, "executable"));
    s->python_version = obj_strdup(omni_mp_get(r, "python_version"));
    s->omni_version = obj_strdup(omni_mp_get(r, "omni_version"));
    s->mode = obj_strdup(omni_mp_get(r, "mode"));
    s->parent_session_id = obj_strdup(omni_mp_get(r, "parent_session_id"));
    s->started_by = obj_strdup(omni_mp_get(r, "started_by"));
    obj_i64(omni_mp_get(r, "parent_pid"), &s->parent_pid);
    const msgpack_object *m = omni_mp_get(r, "machine");
    s->hostname = obj_strdup(omni_mp_get(m, "hostname"));
    s->arch = obj_strdup(omni_mp_get(m, "arch"));
    s->cpu_model = obj_strdup(omni_mp_get(m, "cpu_model"));
    s->os = obj_strdup(omni_mp_get(m, "os"));
    s->kernel = obj_strdup(omni_mp_get(m, "kernel"));
    obj_u64(omni_mp_get(m, "logical_cpus"), &s->logical_cpus);
    obj_u64(omni_mp_get(m, "memory_total_bytes"), &s->memory_total_bytes);
    return 0;
}

static int read_codes(const msgpack_object *r, omni_session_t *s, char *err, size_t cap) {
    static const char *const want[] = {"id", "file", "name", "line"};
    int pos[4];
    const msgpack_object *rows = table_rows(r, want, 4, pos);
    if (!rows || s->codes) {
        snprintf(err, cap, "malformed code table");
        return -1;
    }
    size_t n = rows->via.array.size;
    s->codes = calloc(n ? n : 1, sizeof *s->codes);
    if (!s->codes) {
        snprintf(err, cap, "out of memory");
        return -1;
    }
    s->n_codes = n;
    for (size_t i = 0; i < n; i++) {
        const msgpack_object *row = &rows->via.array.ptr[i];
        uint64_t id;
        if (obj_u64(cell(row, pos[0]), &id) < 0 || id >= n || s->codes[id].file) {
            snprintf(err, cap, "malformed code table (row %zu)", i);
            return -1;
        }
        omni_scode_t *c = &s->codes[id];
        c->file = obj_strdup(cell(row, pos[1]));
        c->name = obj_strdup(cell(row, pos[2]));
        if (!c->file)
            c->file = strdup("?");
        if (!c->name)
            c->name = strdup("?");
        obj_i64(cell(row, pos[3]), &c->line);
    }
    return 0;
}

static int read_thread(const msgpack_object *r, omni_session_t *s, char *err, size_t cap) {
    static const char *const fwant[] = {"code", "calls", "primitive_calls", "inclusive_ns",
                                        "exclusive_ns", "max_recursion"};
    static const char *const ewant[] = {"caller", "callee", "calls", "primitive_calls",
                                        "inclusive_ns", "exclusive_ns"};
    omni_sthread_t *ts = realloc(s->threads, (s->n_threads + 1) * sizeof *ts);
    if (!ts) {
        snprintf(err, cap, "out of memory");
        return -1;
    }
    s->threads = ts;
    omni_sthread_t *t = &ts[s->n_threads++];
    memset(t, 0, sizeof *t);
    t->pid = s->pid;
    obj_u64(omni_mp_get(r, "id"), &t->id);
    obj_i64(omni_mp_get(r, "native_id"), &t->native_id);
    t->name = obj_strdup(omni_mp_get(r, "name"));
    uint64_t ns = 0;
    if (obj_u64(omni_mp_get(r, "cpu_ns"), &ns) == 0)
        t->cpu_s = (double)ns / 1e9;
    obj_u64(omni_mp_get(r, "max_depth"), &t->max_depth);
    t->threads = 1;
    obj_u64(omni_mp_get(r, "threads"), &t->threads);
    t->kind = obj_strdup(omni_mp_get(r, "thread_kind"));

    int pos[6];
    const msgpack_object *rows = table_rows(omni_mp_get(r, "functions"), fwant, 6, pos);
    if (!rows) {
        snprintf(err, cap, "malformed function table in thread %llu", (unsigned long long)t->id);
        return -1;
    }
    t->funcs = calloc(rows->via.array.size + 1, sizeof *t->funcs);
    if (!t->funcs) {
        snprintf(err, cap, "out of memory");
        return -1;
    }
    for (uint32_t i = 0; i < rows->via.array.size; i++) {
        const msgpack_object *row = &rows->via.array.ptr[i];
        omni_sfunc_t *f = &t->funcs[t->n_funcs];
        uint64_t code, in, ex;
        if (obj_u64(cell(row, pos[0]), &code) < 0 || code > UINT32_MAX ||
            obj_u64(cell(row, pos[1]), &f->calls) < 0 ||
            obj_u64(cell(row, pos[2]), &f->primitive_calls) < 0 ||
            obj_u64(cell(row, pos[3]), &in) < 0 || obj_u64(cell(row, pos[4]), &ex) < 0 ||
            obj_u64(cell(row, pos[5]), &f->max_recursion) < 0) {
            snprintf(err, cap, "malformed function row %u", i);
            return -1;
        }
        if (!f->calls)
            continue; /* a checkpoint's padding */
        f->code = (uint32_t)code;
        f->inclusive_s = (double)in / 1e9;
        f->exclusive_s = (double)ex / 1e9;
        t->n_funcs++;
    }
    rows = table_rows(omni_mp_get(r, "edges"), ewant, 6, pos);
    if (!rows) {
        snprintf(err, cap, "malformed edge table in thread %llu", (unsigned long long)t->id);
        return -1;
    }
    t->edges = calloc(rows->via.array.size + 1, sizeof *t->edges);
    if (!t->edges) {
        snprintf(err, cap, "out of memory");
        return -1;
    }
    for (uint32_t i = 0; i < rows->via.array.size; i++) {
        const msgpack_object *row = &rows->via.array.ptr[i];
        omni_sedge_t *e = &t->edges[t->n_edges];
        uint64_t a, b, in, ex;
        if (obj_u64(cell(row, pos[0]), &a) < 0 || a > UINT32_MAX ||
            obj_u64(cell(row, pos[1]), &b) < 0 || b > UINT32_MAX ||
            obj_u64(cell(row, pos[2]), &e->calls) < 0 ||
            obj_u64(cell(row, pos[3]), &e->primitive_calls) < 0 ||
            obj_u64(cell(row, pos[4]), &in) < 0 || obj_u64(cell(row, pos[5]), &ex) < 0) {
            snprintf(err, cap, "malformed edge row %u", i);
            return -1;
        }
        if (!e->calls)
            continue; /* a checkpoint's padding */
        e->caller = (uint32_t)a;
        e->callee = (uint32_t)b;
        e->inclusive_s = (double)in / 1e9;
        e->exclusive_s = (double)ex / 1e9;
        t->n_edges++;
    }
    return 0;
}

static int read_footer(const msgpack_object *r, omni_session_t *s, char *err, size_t cap) {
    uint64_t ns;
    if (s->has_footer) {
        snprintf(err, cap, "damaged session (a second footer)");
        return -1;
    }
    if (obj_i64(omni_mp_get(r, "exit_status"), &s->exit_status) < 0) {
        snprintf(err, cap, "the footer has no exit status");
        return -1;
    }
    s->has_footer = 1;
    s->exit_how = obj_strdup(omni_mp_get(r, "exit_how"));
    const msgpack_object *to = omni_mp_get(r, "timed_out");
    s->timed_out = to && to->type == MSGPACK_OBJECT_BOOLEAN && to->via.boolean;
    obj_i64(omni_mp_get(r, "signal"), &s->signal);
    if (obj_u64(omni_mp_get(r, "wall_ns"), &ns) == 0)
        s->wall_s = (double)ns / 1e9;
    if (obj_u64(omni_mp_get(r, "cpu_user_ns"), &ns) == 0)
        s->cpu_user_s = (double)ns / 1e9;
    if (obj_u64(omni_mp_get(r, "cpu_sys_ns"), &ns) == 0)
        s->cpu_sys_s = (double)ns / 1e9;
    obj_u64(omni_mp_get(r, "peak_rss_bytes"), &s->peak_rss_bytes);
    s->clock = obj_strdup(omni_mp_get(r, "clock"));
    obj_u64(omni_mp_get(r, "checkpoints"), &s->checkpoints);
    obj_u64(omni_mp_get(r, "checkpoint_bytes"), &s->checkpoint_bytes);
    if (obj_u64(omni_mp_get(r, "checkpoint_max_ns"), &ns) == 0)
        s->checkpoint_max_s = (double)ns / 1e9;
    s->warnings = str_array(omni_mp_get(r, "warnings"), &s->n_warnings);
    return 0;
}

/* --push's sender's account, appended after the footer. */
static int read_push(const msgpack_object *r, omni_session_t *s) {
    free(s->push_url);
    free(s->push_name);
    free(s->push_error);
    s->has_push = 1;
    s->push_url = obj_strdup(omni_mp_get(r, "url"));
    s->push_name = obj_strdup(omni_mp_get(r, "name"));
    s->push_error = obj_strdup(omni_mp_get(r, "error"));
    s->push_status = 0;
    obj_i64(omni_mp_get(r, "status"), &s->push_status);
    s->push_attempts = s->push_bytes = 0;
    obj_u64(omni_mp_get(r, "attempts"), &s->push_attempts);
    obj_u64(omni_mp_get(r, "bytes"), &s->push_bytes);
    s->push_intervals = s->push_intervals_sent = 0;
    s->push_intervals_failed = s->push_intervals_dropped = 0;
    obj_u64(omni_mp_get(r, "intervals"), &s->push_intervals);
    obj_u64(omni_mp_get(r, "intervals_sent"), &s->push_intervals_sent);
    obj_u64(omni_mp_get(r, "intervals_failed"), &s->push_intervals_failed);
    obj_u64(omni_mp_get(r, "intervals_dropped"), &s->push_intervals_dropped);
    return 0;
}

/* ---------------------------------------------------------------- the monitor's records */

static int keep_raw(const char *buf, size_t from, size_t to, char **raw, size_t *len,
                    char *err, size_t cap) {
    if (*raw) {
        snprintf(err, cap, "damaged session (a second machine or monitor record)");
        return -1;
    }
    *raw = malloc(to - from);
    if (!*raw) {
        snprintf(err, cap, "out of memory");
        return -1;
    }
    memcpy(*raw, buf + from, to - from);
    *len = to - from;
    return 0;
}

static omni_series_t *series_for(omni_session_t *s, const msgpack_object *name,
                                 const msgpack_object *cols) {
    for (size_t i = 0; i < s->n_series; i++)
        if (omni_mp_is_str(name, s->series[i].name))
            return &s->series[i];
    omni_series_t *v = realloc(s->series, (s->n_series + 1) * sizeof *v);
    if (!v)
        return NULL;
    s->series = v;
    omni_series_t *t = &v[s->n_series];
    memset(t, 0, sizeof *t);
    t->name = obj_strdup(name);
    t->cols = calloc(cols->via.array.size + 1, sizeof *t->cols);
    if (!t->name || !t->cols) {
        free(t->name);
        free(t->cols);
        return NULL;
    }
    for (uint32_t c = 0; c < cols->via.array.size; c++) {
        t->cols[c] = obj_strdup(&cols->via.array.ptr[c]);
        if (!t->cols[c])
            t->cols[c] = strdup("?");
    }
    t->n_cols = cols->via.array.size;
    s->n_series++;
    return t;
}

/* Appends a timeline table's rows to its series; columns are matched by
 * name, so records may order them differently. */
static int read_series(omni_session_t *s, const msgpack_object *name, const msgpack_object *tbl,
                       char *err, size_t cap) {
    const msgpack_object *cols = omni_mp_get(tbl, "columns");
    const msgpack_object *rows = omni_mp_get(tbl, "rows");
    if (!cols || cols->type != MSGPACK_OBJECT_ARRAY || !rows ||
        rows->type != MSGPACK_OBJECT_ARRAY || cols->via.array.size == 0 ||
        cols->via.array.size > 4096)
        goto bad;
    omni_series_t *t = series_for(s, name, cols);
    if (!t) {
        snprintf(err, cap, "out of memory");
        return -1;
    }
    int map[4096];
    for (uint32_t c = 0; c < cols->via.array.size; c++) {
        map[c] = -1;
        for (size_t k = 0; k < t->n_cols; k++)
            if (omni_mp_is_str(&cols->via.array.ptr[c], t->cols[k]))
                map[c] = (int)k;
    }
    size_t need = t->n_rows + rows->via.array.size;
    if (need > t->cap_rows) {
        size_t ncap = t->cap_rows ? t->cap_rows : 64;
        while (ncap < need)
            ncap *= 2;
        double *nv = realloc(t->v, ncap * t->n_cols * sizeof *nv);
        if (!nv) {
            snprintf(err, cap, "out of memory");
            return -1;
        }
        t->v = nv;
        t->cap_rows = ncap;
    }
    for (uint32_t r = 0; r < rows->via.array.size; r++) {
        const msgpack_object *row = &rows->via.array.ptr[r];
        if (row->type != MSGPACK_OBJECT_ARRAY || row->via.array.size != cols->via.array.size)
            goto bad;
        double *out = t->v + t->n_rows * t->n_cols;
        for (size_t k = 0; k < t->n_cols; k++)
            out[k] = NAN;
        for (uint32_t c = 0; c < row->via.array.size; c++) {
            const msgpack_object *cellv = &row->via.array.ptr[c];
            double x;
            if (omni_mp_num(cellv, &x) == 0) {
                if (map[c] >= 0)
                    out[map[c]] = x;
            } else if (cellv->type != MSGPACK_OBJECT_NIL) {
                goto bad;
            }
        }
        t->n_rows++;
    }
    return 0;
bad:
    snprintf(err, cap, "malformed timeline table");
    return -1;
}

/* Rows by time (t_ns, the first column), in the order read where equal; a
 * row read twice (a run cut short between writing its recent rows and
 * removing the checkpoint that held them) once. The session's own rows come
 * first, thinned with age; its recent rows (and a checkpoint's) fill in
 * between them. */
typedef struct row_key {
    double t;
    size_t row;
} row_key_t;

static int by_time(const void *x, const void *y) {
    const row_key_t *a = x, *b = y;
    if (a->t != b->t)
        return a->t < b->t ? -1 : 1;
    return a->row < b->row ? -1 : 1;
}

static int sort_series(omni_session_t *s, char *err, size_t cap) {
    for (size_t i = 0; i < s->n_series; i++) {
        omni_series_t *t = &s->series[i];
        int sorted = 1;
        for (size_t r = 1; r < t->n_rows && sorted; r++)
            sorted = !(t->v[r * t->n_cols] < t->v[(r - 1) * t->n_cols]);
        if (sorted)
            continue;
        row_key_t *order = malloc(t->n_rows * sizeof *order);
        double *v = malloc(t->n_rows * t->n_cols * sizeof *v);
        if (!order || !v) {
            free(order);
            free(v);
            snprintf(err, cap, "out of memory");
            return -1;
        }
        for (size_t r = 0; r < t->n_rows; r++)
            order[r] = (row_key_t){t->v[r * t->n_cols], r};
        qsort(order, t->n_rows, sizeof *order, by_time);
        size_t n = 0, w = t->n_cols * sizeof *v;
        for (size_t r = 0; r < t->n_rows; r++) {
            const double *row = t->v + order[r].row * t->n_cols;
            if (n && !memcmp(row, v + (n - 1) * t->n_cols, w))
                continue;
            memcpy(v + n++ * t->n_cols, row, w);
        }
        free(order);
        free(t->v);
        t->v = v;
        t->n_rows = t->cap_rows = n;
    }
    return 0;
}

static int read_timeline(const msgpack_object *r, omni_session_t *s, char *err, size_t cap) {
    for (uint32_t i = 0; i < r->via.map.size; i++) {
        const msgpack_object_kv *kv = &r->via.map.ptr[i];
        if (kv->val.type != MSGPACK_OBJECT_MAP || kv->key.type != MSGPACK_OBJECT_STR)
            continue; /* kind, seq */
        if (read_series(s, &kv->key, &kv->val, err, cap) < 0)
            return -1;
    }
    return 0;
}

const omni_series_t *omni_session_series(const omni_session_t *s, const char *name) {
    for (size_t i = 0; i < s->n_series; i++)
        if (strcmp(s->series[i].name, name) == 0)
            return &s->series[i];
    return NULL;
}

int omni_series_col(const omni_series_t *t, const char *col) {
    for (size_t i = 0; t && i < t->n_cols; i++)
        if (strcmp(t->cols[i], col) == 0)
            return (int)i;
    return -1;
}

double omni_series_at(const omni_series_t *t, size_t row, int col) {
    if (!t || col < 0 || (size_t)col >= t->n_cols || row >= t->n_rows)
        return NAN;
    return t->v[row * t->n_cols + (size_t)col];
}

const msgpack_object *omni_session_record(const char *raw, size_t len, msgpack_unpacked *u) {
    msgpack_unpacked_init(u);
    size_t off = 0;
    if (!raw || msgpack_unpack_next(u, raw, len, &off) != MSGPACK_UNPACK_SUCCESS ||
        u->data.type != MSGPACK_OBJECT_MAP)
        return NULL;
    return &u->data;
}

static int read_events(const msgpack_object *r, omni_session_t *s, char *err, size_t cap) {
    static const char *const want[] = {"event", "what", "detail", "code", "count", "ns"};
    int pos[6];
    const msgpack_object *rows = table_rows(omni_mp_get(r, "rows"), want, 6, pos);
    if (!rows || s->has_events) {
        snprintf(err, cap, "malformed events record");
        return -1;
    }
    s->has_events = 1;
    obj_u64(omni_mp_get(r, "dropped"), &s->events_dropped);
    s->events = calloc(rows->via.array.size + 1, sizeof *s->events);
    if (!s->events) {
        snprintf(err, cap, "out of memory");
        return -1;
    }
    for (uint32_t i = 0; i < rows->via.array.size; i++) {
        const msgpack_object *row = &rows->via.array.ptr[i];
        omni_sevent_t *e = &s->events[s->n_events];
        uint64_t ns = 0;
        e->code = -1;
        if (cell(row, pos[3])->type != MSGPACK_OBJECT_NIL &&
            (obj_i64(cell(row, pos[3]), &e->code) < 0 || e->code < 0)) {
            snprintf(err, cap, "malformed event row %u", i);
            return -1;
        }
        e->event = obj_strdup(cell(row, pos[0]));
        e->what = obj_strdup(cell(row, pos[1]));
        e->detail = obj_strdup(cell(row, pos[2]));
        obj_u64(cell(row, pos[4]), &e->count);
        obj_u64(cell(row, pos[5]), &ns);
        e->seconds = (double)ns / 1e9;
        e->pid = s->pid;
        s->n_events++;
        if (!e->event || !e->what || !e->detail) {
            snprintf(err, cap, "malformed event row %u", i);
            return -1;
        }
    }
    return 0;
}

static double cell_num(const msgpack_object *row, int pos) {
    double v;
    return omni_mp_num(cell(row, pos), &v) == 0 ? v : NAN;
}

static int read_regions(const msgpack_object *r, omni_session_t *s, char *err, size_t cap) {
    static const char *const nwant[] = {"name", "count", "errors", "wall_s", "cpu_s"};
    static const char *const want[] = {"name", "tid", "start_ns", "end_ns", "cpu_s",
                                       "rss_start_bytes", "rss_end_bytes", "rss_peak_bytes",
                                       "read_bytes", "write_bytes", "flops", "error"};
    int npos[5], pos[12];
    const msgpack_object *names = table_rows(omni_mp_get(r, "names"), nwant, 5, npos);
    const msgpack_object *rows = table_rows(omni_mp_get(r, "rows"), want, 12, pos);
    if (!names || !rows || s->has_regions) {
        snprintf(err, cap, "malformed regions record");
        return -1;
    }
    s->has_regions = 1;
    obj_u64(omni_mp_get(r, "dropped"), &s->regions_dropped);
    s->region_names = calloc(names->via.array.size + 1, sizeof *s->region_names);
    s->regions = calloc(rows->via.array.size + 1, sizeof *s->regions);
    if (!s->region_names || !s->regions) {
        snprintf(err, cap, "out of memory");
        return -1;
    }
    for (uint32_t i = 0; i < names->via.array.size; i++) {
        const msgpack_object *row = &names->via.array.ptr[i];
        omni_sregion_name_t *n = &s->region_names[s->n_region_names];
        if (!(n->name = obj_strdup(cell(row, npos[0])))) {
            snprintf(err, cap, "malformed region name %u", i);
            return -1;
        }
        s->n_region_names++;
        obj_u64(cell(row, npos[1]), &n->count);
        obj_u64(cell(row, npos[2]), &n->errors);
        n->wall_s = cell_num(row, npos[3]);
        n->cpu_s = cell_num(row, npos[4]);
    }
    for (uint32_t i = 0; i < rows->via.array.size; i++) {
        const msgpack_object *row = &rows->via.array.ptr[i];
        omni_sregion_t *g = &s->regions[s->n_regions];
        if (!(g->name = obj_strdup(cell(row, pos[0])))) {
            snprintf(err, cap, "malformed region %u", i);
            return -1;
        }
        s->n_regions++;
        if (cell(row, pos[11])->type == MSGPACK_OBJECT_STR)
            g->error = obj_strdup(cell(row, pos[11]));
        obj_i64(cell(row, pos[1]), &g->tid);
        g->pid = s->pid;
        g->start_s = cell_num(row, pos[2]) / 1e9;
        g->end_s = cell_num(row, pos[3]) / 1e9;
        g->cpu_s = cell_num(row, pos[4]);
        g->rss_start_bytes = cell_num(row, pos[5]);
        g->rss_end_bytes = cell_num(row, pos[6]);
        g->rss_peak_bytes = cell_num(row, pos[7]);
        g->read_bytes = cell_num(row, pos[8]);
        g->write_bytes = cell_num(row, pos[9]);
        g->flops = cell_num(row, pos[10]);
    }
    return 0;
}

static uint64_t get_u64(const msgpack_object *r, const char *key) {
    uint64_t v = 0;
    obj_u64(omni_mp_get(r, key), &v);
    return v;
}

static int read_memory(const msgpack_object *r, omni_session_t *s, char *err, size_t cap) {
    if (s->has_memory) {
        snprintf(err, cap, "malformed memory record (a second one)");
        return -1;
    }
    s->has_memory = 1;
    const msgpack_object *av = omni_mp_get(r, "available");
    s->memory_available = av && av->type == MSGPACK_OBJECT_BOOLEAN && av->via.boolean;
    if (!s->memory_available) {
        s->memory_reason = obj_strdup(omni_mp_get(r, "reason"));
        return 0;
    }
    static const char *const nwant[] = {"parent", "code", "line", "alloc_bytes", "allocs",
                                        "exit_live_bytes", "peak_live_bytes"};
    static const char *const swant[] = {"node", "bytes", "t_ns"};
    int npos[7], spos[3];
    const msgpack_object *nodes = table_rows(omni_mp_get(r, "nodes"), nwant, 7, npos);
    const msgpack_object *surv = table_rows(omni_mp_get(r, "survivors"), swant, 3, spos);
    if (!nodes || !surv) {
        snprintf(err, cap, "malformed memory record");
        return -1;
    }
    omni_mp_num(omni_mp_get(r, "mean_interval_bytes"), &s->mem_interval_bytes);
    s->mem_allocations = get_u64(r, "allocations");
    s->mem_frees = get_u64(r, "frees");
    s->mem_allocated_bytes = get_u64(r, "allocated_bytes");
    s->mem_freed_bytes = get_u64(r, "freed_bytes");
    s->mem_peak_bytes = get_u64(r, "peak_bytes");
    s->mem_exit_live_bytes = get_u64(r, "exit_live_bytes");
    s->mem_samples = get_u64(r, "samples");
    s->mem_unknown_frees = get_u64(r, "unknown_frees");
    s->mem_peak_s = (double)get_u64(r, "peak_ns") / 1e9;
    s->mem_exit_s = (double)get_u64(r, "exit_ns") / 1e9;
    s->mem_wall_s = (double)get_u64(r, "wall_ns") / 1e9;
    const msgpack_object *nat = omni_mp_get(r, "native");
    const msgpack_object *nav = nat ? omni_mp_get(nat, "available") : NULL;
    s->mem_native_available = nav && nav->type == MSGPACK_OBJECT_BOOLEAN && nav->via.boolean;
    if (nat && !s->mem_native_available)
        s->mem_native_reason = obj_strdup(omni_mp_get(nat, "reason"));
    if (s->mem_native_available) {
        s->native_allocations = get_u64(nat, "allocations");
        s->native_frees = get_u64(nat, "frees");
        s->native_allocated_bytes = get_u64(nat, "allocated_bytes");
        s->native_freed_bytes = get_u64(nat, "freed_bytes");
        s->native_peak_bytes = get_u64(nat, "peak_bytes");
        s->native_exit_live_bytes = get_u64(nat, "exit_live_bytes");
        s->native_maps = get_u64(nat, "maps");
        s->native_mapped_bytes = get_u64(nat, "mapped_bytes");
    }
    /* the native column came later: a session without it has none */
    int native_col = column_of(omni_mp_get(r, "nodes"), "native");
    uint32_t nn = nodes->via.array.size, ns = surv->via.array.size;
    s->mem_nodes = calloc(nn + 1, sizeof *s->mem_nodes);
    s->mem_survivors = calloc(ns + 1, sizeof *s->mem_survivors);
    if (!s->mem_nodes || !s->mem_survivors) {
        snprintf(err, cap, "out of memory");
        return -1;
    }
    for (uint32_t i = 0; i < nn; i++) {
        const msgpack_object *row = &nodes->via.array.ptr[i];
        omni_smemnode_t *m = &s->mem_nodes[i];
        m->parent = m->code = -1;
        if (cell(row, npos[0])->type != MSGPACK_OBJECT_NIL &&
            (obj_i64(cell(row, npos[0]), &m->parent) < 0 || m->parent < 0 ||
             m->parent >= (int64_t)i)) {
            snprintf(err, cap, "malformed memory node %u", i);
            return -1;
        }
        if (cell(row, npos[1])->type != MSGPACK_OBJECT_NIL)
            obj_i64(cell(row, npos[1]), &m->code);
        obj_i64(cell(row, npos[2]), &m->line);
        m->alloc_bytes = cell_num(row, npos[3]);
        m->allocs = cell_num(row, npos[4]);
        m->exit_live_bytes = cell_num(row, npos[5]);
        m->peak_live_bytes = cell_num(row, npos[6]);
        m->native = native_col >= 0 && cell(row, native_col)->type == MSGPACK_OBJECT_BOOLEAN &&
                    cell(row, native_col)->via.boolean;
        s->n_mem_nodes++;
    }
    const msgpack_object *cen = omni_mp_get(r, "census");
    static const char *const cwant[] = {"type", "count", "bytes"};
    int cpos[3];
    const msgpack_object *crow = cen ? table_rows(omni_mp_get(cen, "rows"), cwant, 3, cpos) : NULL;
    if (cen) {
        const msgpack_object *pa = omni_mp_get(cen, "partial");
        s->mem_census_partial = pa && pa->type == MSGPACK_OBJECT_BOOLEAN && pa->via.boolean;
        s->mem_census_objects = get_u64(cen, "objects");
        s->mem_census_s = NAN;
        omni_mp_num(omni_mp_get(cen, "seconds"), &s->mem_census_s);
        const msgpack_object *why = omni_mp_get(cen, "reason");
        if (why && why->type == MSGPACK_OBJECT_STR)
            s->mem_census_reason = obj_strdup(why);
    }
    static const char *const rwant[] = {"node", "chain"};
    int rpos[2];
    const msgpack_object *rrow = cen ? table_rows(omni_mp_get(cen, "referrers"), rwant, 2, rpos)
                                     : NULL;
    if (rrow) {
        s->mem_chains = calloc(rrow->via.array.size + 1, sizeof *s->mem_chains);
        for (uint32_t i = 0; s->mem_chains && i < rrow->via.array.size; i++) {
            const msgpack_object *row = &rrow->via.array.ptr[i];
            uint64_t node = 0;
            char *chain = obj_strdup(cell(row, rpos[1]));
            if (obj_u64(cell(row, rpos[0]), &node) < 0 || node >= nn || !chain) {
                free(chain);
                continue;
            }
            s->mem_chains[s->n_mem_chains++] = (struct omni_smemchain){(uint32_t)node, chain};
        }
    }
    if (crow) {
        s->mem_census = calloc(crow->via.array.size + 1, sizeof *s->mem_census);
        if (!s->mem_census) {
            snprintf(err, cap, "out of memory");
            return -1;
        }
        for (uint32_t i = 0; i < crow->via.array.size; i++) {
            const msgpack_object *row = &crow->via.array.ptr[i];
            omni_smemtype_t *t = &s->mem_census[s->n_mem_census];
            if (!(t->type = obj_strdup(cell(row, cpos[0]))))
                break;
            obj_u64(cell(row, cpos[1]), &t->count);
            obj_u64(cell(row, cpos[2]), &t->bytes);
            s->n_mem_census++;
        }
    }
    for (uint32_t i = 0; i < ns; i++) {
        const msgpack_object *row = &surv->via.array.ptr[i];
        uint64_t node = 0;
        if (obj_u64(cell(row, spos[0]), &node) < 0 || node >= nn) {
            snprintf(err, cap, "malformed memory survivor %u", i);
            return -1;
        }
        s->mem_survivors[s->n_mem_survivors++] =
            (omni_smemsurvivor_t){(uint32_t)node, cell_num(row, spos[1]),
                                  cell_num(row, spos[2]) / 1e9};
    }
    return 0;
}

int omni_session_io_kind(omni_session_t *s, const char *name) {
    for (size_t i = 0; i < s->n_io_kinds; i++)
        if (strcmp(s->io_kinds[i].name, name) == 0)
            return (int)i;
    if (s->n_io_kinds == OMNI_IO_KINDS)
        return -1;
    omni_siokind_t *k = &s->io_kinds[s->n_io_kinds];
    memset(k, 0, sizeof *k);
    snprintf(k->name, sizeof k->name, "%s", name);
    return (int)s->n_io_kinds++;
}

static int io_kind_of(omni_session_t *s, const msgpack_object *o) {
    char name[16];
    if (!o || o->type != MSGPACK_OBJECT_STR || o->via.str.size >= sizeof name)
        return -1;
    memcpy(name, o->via.str.ptr, o->via.str.size);
    name[o->via.str.size] = 0;
    return omni_session_io_kind(s, name);
}

static int read_io(const msgpack_object *r, omni_session_t *s, char *err, size_t cap) {
    static const char *const twant[] = {"kind", "read_bytes", "write_bytes", "read_ops",
                                        "write_ops"};
    static const char *const hwant[] = {"kind", "op", "size_log2", "count"};
    static const char *const fwant[] = {"code", "kind", "read_bytes", "write_bytes", "read_ops",
                                        "write_ops"};
    int pos[6];
    const msgpack_object *rows;
    if (s->has_io)
        goto bad;
    s->has_io = 1;
    if (!(rows = table_rows(omni_mp_get(r, "totals"), twant, 5, pos)))
        goto bad;
    for (uint32_t i = 0; i < rows->via.array.size; i++) {
        const msgpack_object *row = &rows->via.array.ptr[i];
        int k = io_kind_of(s, cell(row, pos[0]));
        omni_siokind_t *t = k >= 0 ? &s->io_kinds[k] : NULL;
        if (!t || obj_u64(cell(row, pos[1]), &t->read_bytes) < 0 ||
            obj_u64(cell(row, pos[2]), &t->write_bytes) < 0 ||
            obj_u64(cell(row, pos[3]), &t->read_ops) < 0 ||
            obj_u64(cell(row, pos[4]), &t->write_ops) < 0)
            goto bad;
    }
    if (!(rows = table_rows(omni_mp_get(r, "sizes"), hwant, 4, pos)))
        goto bad;
    for (uint32_t i = 0; i < rows->via.array.size; i++) {
        const msgpack_object *row = &rows->via.array.ptr[i];
        int k = io_kind_of(s, cell(row, pos[0]));
        uint64_t b, n;
        int dir = omni_mp_is_str(cell(row, pos[1]), "write");
        if (k < 0 || obj_u64(cell(row, pos[2]), &b) < 0 || b >= 48 ||
            obj_u64(cell(row, pos[3]), &n) < 0)
            goto bad;
        s->io_kinds[k].sizes[dir][b] += n;
    }
    if (!(rows = table_rows(omni_mp_get(r, "functions"), fwant, 6, pos)))
        goto bad;
    s->io_fns = calloc(rows->via.array.size + 1, sizeof *s->io_fns);
    if (!s->io_fns) {
        snprintf(err, cap, "out of memory");
        return -1;
    }
    for (uint32_t i = 0; i < rows->via.array.size; i++) {
        const msgpack_object *row = &rows->via.array.ptr[i];
        omni_siofn_t *f = &s->io_fns[s->n_io_fns];
        f->code = -1;
        f->pid = s->pid;
        if ((cell(row, pos[0])->type != MSGPACK_OBJECT_NIL &&
             (obj_i64(cell(row, pos[0]), &f->code) < 0 || f->code < 0)) ||
            (f->kind = io_kind_of(s, cell(row, pos[1]))) < 0 ||
            obj_u64(cell(row, pos[2]), &f->read_bytes) < 0 ||
            obj_u64(cell(row, pos[3]), &f->write_bytes) < 0 ||
            obj_u64(cell(row, pos[4]), &f->read_ops) < 0 ||
            obj_u64(cell(row, pos[5]), &f->write_ops) < 0)
            goto bad;
        s->n_io_fns++;
    }
    return 0;
bad:
    snprintf(err, cap, "malformed io record");
    return -1;
}

static int read_samples(const msgpack_object *r, omni_session_t *s, char *err, size_t cap) {
    static const char *const nwant[] = {"id", "parent", "code", "line"};
    static const char *const swant[] = {"thread", "node", "samples", "cpu", "gil"};
    static const char *const twant[] = {"native_id", "samples", "cpu", "gil"};
    int pos[5];
    const msgpack_object *rows;
    uint64_t ns = 0;
    if (s->has_samples)
        goto bad;
    s->has_samples = 1;
    obj_u64(omni_mp_get(r, "interval_ns"), &ns);
    s->sample_interval_s = (double)ns / 1e9;
    obj_u64(omni_mp_get(r, "taken"), &s->samples_taken);
    obj_u64(omni_mp_get(r, "errors"), &s->sample_errors);
    obj_u64(omni_mp_get(r, "dropped"), &s->samples_dropped);
    if (!(rows = table_rows(omni_mp_get(r, "nodes"), nwant, 4, pos)))
        goto bad;
    s->snodes = calloc(rows->via.array.size + 1, sizeof *s->snodes);
    if (!s->snodes)
        goto oom;
    for (uint32_t i = 0; i < rows->via.array.size; i++) {
        const msgpack_object *row = &rows->via.array.ptr[i];
        omni_snode_t *n = &s->snodes[i];
        uint64_t id;
        n->parent = n->code = -1;
        if (obj_u64(cell(row, pos[0]), &id) < 0 || id != i)
            goto bad;
        if (cell(row, pos[1])->type != MSGPACK_OBJECT_NIL &&
            (obj_i64(cell(row, pos[1]), &n->parent) < 0 || n->parent < 0 || n->parent >= i))
            goto bad; /* a caller is always made before its callees */
        if (cell(row, pos[2])->type != MSGPACK_OBJECT_NIL &&
            (obj_i64(cell(row, pos[2]), &n->code) < 0 || n->code < 0))
            goto bad;
        obj_i64(cell(row, pos[3]), &n->line);
        s->n_snodes++;
    }
    if (!(rows = table_rows(omni_mp_get(r, "stacks"), swant, 5, pos)))
        goto bad;
    s->sstacks = calloc(rows->via.array.size + 1, sizeof *s->sstacks);
    if (!s->sstacks)
        goto oom;
    for (uint32_t i = 0; i < rows->via.array.size; i++) {
        const msgpack_object *row = &rows->via.array.ptr[i];
        omni_sstack_t *x = &s->sstacks[i];
        uint64_t node;
        x->pid = s->pid;
        if (obj_i64(cell(row, pos[0]), &x->native_id) < 0 ||
            obj_u64(cell(row, pos[1]), &node) < 0 || node >= s->n_snodes ||
            obj_u64(cell(row, pos[2]), &x->samples) < 0 || obj_u64(cell(row, pos[3]), &x->cpu) < 0 ||
            obj_u64(cell(row, pos[4]), &x->gil) < 0)
            goto bad;
        x->node = (uint32_t)node;
        s->n_sstacks++;
    }
    const msgpack_object *tt = omni_mp_get(r, "threads");
    if ((rows = table_rows(tt, twant, 4, pos))) {
        int served = column_of(tt, "threads"); /* (older sessions: none) */
        int named = column_of(tt, "name");
        s->sgroups = calloc(rows->via.array.size + 1, sizeof *s->sgroups);
        if (!s->sgroups)
            goto oom;
        for (uint32_t i = 0; i < rows->via.array.size; i++) {
            const msgpack_object *row = &rows->via.array.ptr[i];
            int64_t nid;
            uint64_t n = 1, samples = 0, cpu = 0, gil = 0;
            if (obj_i64(cell(row, pos[0]), &nid) < 0)
                continue;
            if (served >= 0 && obj_u64(cell(row, served), &n) < 0)
                n = 1;
            char *name = named >= 0 ? obj_strdup(cell(row, named)) : NULL;
            if (n > 1 || name)
                s->sgroups[s->n_sgroups++] = (omni_ssgroup_t){nid, n, name};
            obj_u64(cell(row, pos[1]), &samples);
            obj_u64(cell(row, pos[2]), &cpu);
            obj_u64(cell(row, pos[3]), &gil);
            /* a thread record's rows: the one of its kind's row and, when the
             * sampler saw its latest thread before the hook did, that
             * thread's own */
            for (size_t t = 0; t < s->n_threads; t++)
                if (s->threads[t].native_id == nid) {
                    s->threads[t].samples += samples;
                    s->threads[t].cpu_samples += cpu;
                    s->threads[t].gil_samples += gil;
                }
        }
    }
    return 0;
oom:
    snprintf(err, cap, "out of memory");
    return -1;
bad:
    snprintf(err, cap, "malformed samples record");
    return -1;
}

static int read_coroutines(const msgpack_object *r, omni_session_t *s, char *err, size_t cap) {
    static const char *const fwant[] = {"code", "finished", "wall_ns", "await_ns", "max_wall_ns"};
    static const char *const awant[] = {"code", "line", "count", "total_ns", "max_ns"};
    int pos[5];
    const msgpack_object *rows;
    if (s->has_coros)
        goto bad;
    s->has_coros = 1;
    obj_u64(omni_mp_get(r, "unfinished"), &s->coros_unfinished);
    if (!(rows = table_rows(omni_mp_get(r, "functions"), fwant, 5, pos)))
        goto bad;
    s->coros = calloc(rows->via.array.size + 1, sizeof *s->coros);
    if (!s->coros)
        goto oom;
    for (uint32_t i = 0; i < rows->via.array.size; i++) {
        const msgpack_object *row = &rows->via.array.ptr[i];
        omni_scoro_t *c = &s->coros[s->n_coros];
        uint64_t code, w, a, m;
        if (obj_u64(cell(row, pos[0]), &code) < 0 || code > UINT32_MAX ||
            obj_u64(cell(row, pos[1]), &c->finished) < 0 || obj_u64(cell(row, pos[2]), &w) < 0 ||
            obj_u64(cell(row, pos[3]), &a) < 0 || obj_u64(cell(row, pos[4]), &m) < 0)
            goto bad;
        c->pid = s->pid;
        c->code = (uint32_t)code;
        c->wall_s = (double)w / 1e9;
        c->await_s = (double)a / 1e9;
        c->max_wall_s = (double)m / 1e9;
        s->n_coros++;
    }
    if (!(rows = table_rows(omni_mp_get(r, "awaits"), awant, 5, pos)))
        goto bad;
    s->awaits = calloc(rows->via.array.size + 1, sizeof *s->awaits);
    if (!s->awaits)
        goto oom;
    for (uint32_t i = 0; i < rows->via.array.size; i++) {
        const msgpack_object *row = &rows->via.array.ptr[i];
        omni_sawait_t *x = &s->awaits[s->n_awaits];
        uint64_t code, t, m;
        if (obj_u64(cell(row, pos[0]), &code) < 0 || code > UINT32_MAX ||
            obj_i64(cell(row, pos[1]), &x->line) < 0 || obj_u64(cell(row, pos[2]), &x->count) < 0 ||
            obj_u64(cell(row, pos[3]), &t) < 0 || obj_u64(cell(row, pos[4]), &m) < 0)
            goto bad;
        x->pid = s->pid;
        x->code = (uint32_t)code;
        x->total_s = (double)t / 1e9;
        x->max_s = (double)m / 1e9;
        s->n_awaits++;
    }
    return 0;
oom:
    snprintf(err, cap, "out of memory");
    return -1;
bad:
    snprintf(err, cap, "malformed coroutines record");
    return -1;
}

/* Every code id a table refers to must exist. */
static int check_refs(const omni_session_t *s, char *err, size_t cap) {
    for (size_t i = 0; i < s->n_events; i++)
        if (s->events[i].code >= (int64_t)s->n_codes)
            goto bad;
    for (size_t i = 0; i < s->n_io_fns; i++)
        if (s->io_fns[i].code >= (int64_t)s->n_codes)
            goto bad;
    for (size_t i = 0; i < s->n_snodes; i++)
        if (s->snodes[i].code >= (int64_t)s->n_codes)
            goto bad;
    for (size_t i = 0; i < s->n_mem_nodes; i++)
        if (s->mem_nodes[i].code >= (int64_t)s->n_codes)
            goto bad;
    for (size_t i = 0; i < s->n_coros; i++)
        if (s->coros[i].code >= s->n_codes)
            goto bad;
    for (size_t i = 0; i < s->n_awaits; i++)
        if (s->awaits[i].code >= s->n_codes)
            goto bad;
    for (size_t t = 0; t < s->n_threads; t++) {
        const omni_sthread_t *th = &s->threads[t];
        for (size_t i = 0; i < th->n_funcs; i++)
            if (th->funcs[i].code >= s->n_codes)
                goto bad;
        for (size_t i = 0; i < th->n_edges; i++)
            if (th->edges[i].caller >= s->n_codes || th->edges[i].callee >= s->n_codes)
                goto bad;
    }
    return 0;
bad:
    snprintf(err, cap, "a profile row names a code object the session does not list");
    return -1;
}

/* ---------------------------------------------------------------- the stream */

/* The records that hold a run's tables: written at its end, or in its
 * checkpoint while it runs. */
static const char *const table_kinds[] = {"codes", "thread", "samples", "io",
                                          "events", "regions", "memory", "coroutines"};

static int is_table(const msgpack_object *kind) {
    for (size_t i = 0; i < sizeof table_kinds / sizeof table_kinds[0]; i++)
        if (omni_mp_is_str(kind, table_kinds[i]))
            return 1;
    return 0;
}

/* One of them into s. Returns 0, -1 on an error (err), 1 when kind is not
 * one of them. */
static int read_table(const msgpack_object *kind, const msgpack_object *r, omni_session_t *s,
                      char *err, size_t cap) {
    if (omni_mp_is_str(kind, "codes"))
        return read_codes(r, s, err, cap);
    if (omni_mp_is_str(kind, "thread"))
        return read_thread(r, s, err, cap);
    if (omni_mp_is_str(kind, "samples"))
        return read_samples(r, s, err, cap);
    if (omni_mp_is_str(kind, "io"))
        return read_io(r, s, err, cap);
    if (omni_mp_is_str(kind, "events"))
        return read_events(r, s, err, cap);
    if (omni_mp_is_str(kind, "regions"))
        return read_regions(r, s, err, cap);
    if (omni_mp_is_str(kind, "memory"))
        return read_memory(r, s, err, cap);
    if (omni_mp_is_str(kind, "coroutines"))
        return read_coroutines(r, s, err, cap);
    return 1;
}

/* The next whole record of buf at *off into u. Returns 1 (one read), 0 at
 * the end or where the data stops inside a record (*cut = 1), -1 when it is
 * not msgpack (err says so; what names the file's kind of data). */
static int next_record(const char *buf, size_t len, size_t *off, msgpack_unpacked *u, int *cut,
                       char *err, size_t cap, const char *what) {
    size_t before = *off, end = 0;
    if (*off >= len)
        return 0;
    int scan = omni_mp_scan((const unsigned char *)buf, len, *off, &end);
    if (scan < 0) {
        snprintf(err, cap, "%s (the record at byte %zu is not msgpack)", what, before);
        return -1;
    }
    msgpack_unpack_return ret =
        scan > 0 ? MSGPACK_UNPACK_CONTINUE : msgpack_unpack_next(u, buf, end, off);
    if (ret == MSGPACK_UNPACK_CONTINUE) {
        *cut = 1;
        return 0;
    }
    if (ret != MSGPACK_UNPACK_SUCCESS && ret != MSGPACK_UNPACK_EXTRA_BYTES) {
        snprintf(err, cap, "%s at byte %zu",
                 ret == MSGPACK_UNPACK_NOMEM_ERROR ? "damaged session (a record too large)"
                                                   : "damaged session (not msgpack)",
                 before);
        return -1;
    }
    return 1;
}

/* The tables of a checkpoint (its records after the first, a "checkpoint"
 * record naming the run) into s, which holds none. Returns 0, 1 when it is
 * another run's or not one at all, -1 on an error (err). */
static int read_checkpoint(const char *buf, size_t len, omni_session_t *s, char *err,
                           size_t cap) {
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    int cut = 0, rc = 0, n = 0;
    while (rc == 0) {
        int got = next_record(buf, len, &off, &u, &cut, err, cap, "damaged checkpoint");
        if (got <= 0) {
            rc = got < 0 ? -1 : cut ? 1 : 0;
            break;
        }
        const msgpack_object *kind = omni_mp_get(&u.data, "kind");
        if (!kind || kind->type != MSGPACK_OBJECT_STR) {
            rc = 1;
        } else if (n++ == 0) {
            const msgpack_object *id = omni_mp_get(&u.data, "session_id");
            if (!omni_mp_is_str(kind, "checkpoint") || !s->session_id ||
                !omni_mp_is_str(id, s->session_id))
                rc = 1;
            obj_u64(omni_mp_get(&u.data, "seq"), &s->checkpoint_seq);
            uint64_t t = 0;
            obj_u64(omni_mp_get(&u.data, "t_ns"), &t);
            s->checkpoint_t_s = (double)t / 1e9;
        } else if (is_table(kind) && read_table(kind, &u.data, s, err, cap) < 0) {
            rc = -1;
        } else if (omni_mp_is_str(kind, "timeline") && read_timeline(&u.data, s, err, cap) < 0) {
            rc = -1; /* the recent rows the session's thinning left out */
        }
    }
    msgpack_unpacked_destroy(&u);
    return rc == 0 && n == 0 ? 1 : rc;
}

/* One run: the records from a header up to the next header (a file of
 * repeated runs holds one after another) or the end; *used is where it
 * stopped. skip_tables: the run's own table records are left out (a
 * checkpoint is read in their place). */
static int parse_run(const char *buf, size_t len, omni_session_t *s, char *err, size_t cap,
                     size_t *used, int skip_tables, int *tables_seen) {
    memset(s, 0, sizeof *s);
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    int nrec = 0, rc = 0;
    *used = len;
    *tables_seen = 0;
    while (off < len) {
        size_t before = off;
        int cut = 0;
        int got = next_record(buf, len, &off, &u, &cut, err, cap,
                              nrec ? "damaged session" : "not an omnipython session");
        if (got < 0) {
            rc = -1;
            break;
        }
        if (got == 0) {
            if (!nrec) {
                snprintf(err, cap, "not an omnipython session (too short)");
                rc = -1;
            }
            s->truncated = 1;
            break;
        }
        const msgpack_object *r = &u.data;
        const msgpack_object *kind = omni_mp_get(r, "kind");
        if (!kind || kind->type != MSGPACK_OBJECT_STR) {
            snprintf(err, cap, "%s (record %d at byte %zu has no kind)",
                     nrec ? "damaged session" : "not an omnipython session", nrec, before);
            rc = -1;
            break;
        }
        if (nrec == 0 && !omni_mp_is_str(kind, "header")) {
            snprintf(err, cap, "not an omnipython session (it does not start with a header)");
            rc = -1;
            break;
        }
        if (omni_mp_is_str(kind, "header") && nrec > 0) {
            *used = before; /* the next run's */
            break;
        }
        if (omni_mp_is_str(kind, "header")) {
            rc = read_header(r, s, err, cap);
        } else if (is_table(kind)) {
            *tables_seen = 1;
            if (!skip_tables)
                rc = read_table(kind, r, s, err, cap);
        } else if (omni_mp_is_str(kind, "footer")) {
            rc = read_footer(r, s, err, cap);
        } else if (omni_mp_is_str(kind, "timeline")) {
            rc = read_timeline(r, s, err, cap);
        } else if (omni_mp_is_str(kind, "push")) {
            rc = read_push(r, s);
        } else if (omni_mp_is_str(kind, "trimmed")) {
            obj_u64(omni_mp_get(r, "dropped_records"), &s->timeline_trimmed);
        } else if (omni_mp_is_str(kind, "machine")) {
            rc = keep_raw(buf, before, off, &s->machine_raw, &s->machine_len, err, cap);
        } else if (omni_mp_is_str(kind, "monitor")) {
            rc = keep_raw(buf, before, off, &s->monitor_raw, &s->monitor_len, err, cap);
        } else {
            s->unknown_records++;
        }
        if (rc < 0)
            break;
        nrec++;
    }
    msgpack_unpacked_destroy(&u);
    if (rc == 0 && nrec == 0) {
        snprintf(err, cap, "not an omnipython session (empty)");
        rc = -1;
    }
    if (rc == 0)
        rc = check_refs(s, err, cap);
    if (rc < 0)
        omni_session_free(s);
    return rc;
}

/* --mode sample has no frame hook, so no thread records: they are made from
 * the samples - a thread per sampled thread, its functions' exclusive time
 * the samples whose innermost frame they were, their inclusive time those
 * they were anywhere on the stack (once a stack), times the interval; calls
 * are not known (0). s->estimated says so. */
static int estimate_from_samples(omni_session_t *s, char *err, size_t cap) {
    if (!s->mode || strcmp(s->mode, "sample") != 0 || s->n_threads || !s->has_samples)
        return 0;
    s->estimated = 1;
    size_t nt = 0;
    int64_t *tids = calloc(s->n_sstacks + 1, sizeof *tids);
    uint64_t *excl = calloc(s->n_codes + 1, sizeof *excl);
    uint64_t *incl = calloc(s->n_codes + 1, sizeof *incl);
    size_t *stamp = calloc(s->n_codes + 1, sizeof *stamp);
    if (!tids || !excl || !incl || !stamp)
        goto oom;
    for (size_t i = 0; i < s->n_sstacks; i++) { /* the threads, in order of first sample */
        size_t k = 0;
        while (k < nt && tids[k] != s->sstacks[i].native_id)
            k++;
        if (k == nt)
            tids[nt++] = s->sstacks[i].native_id;
    }
    s->threads = calloc(nt + 1, sizeof *s->threads);
    if (!s->threads)
        goto oom;
    double dt = s->sample_interval_s;
    for (size_t k = 0; k < nt; k++) {
        omni_sthread_t *t = &s->threads[s->n_threads++];
        t->pid = s->pid;
        t->native_id = tids[k];
        t->threads = 1;
        const char *name = tids[k] == s->pid ? "MainThread" : NULL;
        for (size_t g = 0; g < s->n_sgroups; g++)
            if (s->sgroups[g].native_id == tids[k]) {
                t->threads = s->sgroups[g].threads;
                name = s->sgroups[g].name ? s->sgroups[g].name : name;
            }
        if (name && !(t->name = strdup(name)))
            goto oom;
        if (name && t->threads > 1) { /* as the frame hook's records say it */
            char kind[OMNI_THREAD_NAME_MAX];
            omni_thread_kind_of(name, kind);
            if (!(t->kind = strdup(kind)))
                goto oom;
        }
        memset(excl, 0, (s->n_codes + 1) * sizeof *excl);
        memset(incl, 0, (s->n_codes + 1) * sizeof *incl);
        size_t nf = 0;
        for (size_t i = 0; i < s->n_sstacks; i++) {
            const omni_sstack_t *x = &s->sstacks[i];
            if (x->native_id != tids[k])
                continue;
            t->samples += x->samples;
            t->cpu_samples += x->cpu;
            t->gil_samples += x->gil;
            int leaf = 1;
            uint64_t depth = 0;
            for (int64_t n = x->node; n >= 0; n = s->snodes[n].parent, leaf = 0, depth++) {
                int64_t c = s->snodes[n].code;
                if (c < 0 || (size_t)c >= s->n_codes)
                    continue;
                nf += !incl[c] && !excl[c];
                if (leaf)
                    excl[c] += x->samples;
                if (stamp[c] != i + 1) { /* once a stack: recursion counts once */
                    stamp[c] = i + 1;
                    incl[c] += x->samples;
                }
            }
            if (depth > t->max_depth)
                t->max_depth = depth;
        }
        t->funcs = calloc(nf + 1, sizeof *t->funcs);
        if (!t->funcs)
            goto oom;
        for (size_t c = 0; c < s->n_codes; c++)
            if (incl[c] || excl[c])
                t->funcs[t->n_funcs++] = (omni_sfunc_t){(uint32_t)c, 0, 0, (double)incl[c] * dt,
                                                        (double)excl[c] * dt, 0};
    }
    free(tids);
    free(excl);
    free(incl);
    free(stamp);
    return 0;
oom:
    free(tids);
    free(excl);
    free(incl);
    free(stamp);
    snprintf(err, cap, "out of memory");
    return -1;
}

/* One run, read up to its checkpoint when it has no footer (ckpt: the
 * checkpoint's bytes or NULL). A checkpoint that is not the run's or does
 * not read whole is left unused; one that does replaces whatever tables the
 * run's end began to write. */
static int parse_run_ckpt(const char *buf, size_t len, const char *ckpt, size_t ckpt_len,
                          omni_session_t *s, char *err, size_t cap, size_t *used) {
    int seen;
    if (parse_run(buf, len, s, err, cap, used, 0, &seen) < 0)
        return -1;
    if (!ckpt || s->has_footer || !s->session_id)
        goto estimate;
    omni_session_t t;
    memset(&t, 0, sizeof t);
    t.session_id = s->session_id; /* borrowed */
    char terr[256];
    int ok = read_checkpoint(ckpt, ckpt_len, &t, terr, sizeof terr) == 0 &&
             check_refs(&t, terr, sizeof terr) == 0;
    t.session_id = NULL;
    omni_session_free(&t);
    if (!ok)
        goto estimate;
    if (seen && parse_run(buf, len, s, err, cap, used, 1, &seen) < 0)
        return -1;
    if (read_checkpoint(ckpt, ckpt_len, s, err, cap) != 0 || check_refs(s, err, cap) < 0) {
        omni_session_free(s);
        return -1;
    }
    s->from_checkpoint = 1;
estimate:
    if (sort_series(s, err, cap) < 0 || estimate_from_samples(s, err, cap) < 0) {
        omni_session_free(s);
        return -1;
    }
    return 0;
}

static int by_wall(const void *x, const void *y) {
    const omni_session_t *a = x, *b = y;
    double wa = a->has_footer ? a->wall_s : INFINITY, wb = b->has_footer ? b->wall_s : INFINITY;
    return wa < wb ? -1 : wa > wb;
}

int omni_session_parse(const char *buf, size_t len, omni_session_t *s, char *err, size_t cap) {
    return omni_session_parse_with(buf, len, NULL, 0, s, err, cap);
}

int omni_session_parse_with(const char *buf, size_t len, const char *ckpt, size_t ckpt_len,
                            omni_session_t *s, char *err, size_t cap) {
    size_t used;
    if (parse_run_ckpt(buf, len, ckpt, ckpt_len, s, err, cap, &used) < 0)
        return -1;
    if (used >= len)
        return 0;
    /* Repeated runs (--repeat): every run read; the model is the median run
     * by wall time (the first run's caches are cold), the others in runs. */
    omni_session_t *all = NULL;
    size_t n = 1, capr = 0;
    int rc = 0;
    omni_session_t first = *s;
    for (size_t off = used; off < len && rc == 0; off += used) {
        if (n + 1 > OMNI_MAX_RUNS) {
            snprintf(err, cap, "damaged session (more than %d runs)", OMNI_MAX_RUNS);
            rc = -1;
            break;
        }
        if (n + 1 > capr) {
            capr = capr ? 2 * capr : 8;
            omni_session_t *na = realloc(all, capr * sizeof *na);
            if (!na) {
                snprintf(err, cap, "out of memory");
                rc = -1;
                break;
            }
            all = na;
        }
        if (n == 1)
            all[0] = first;
        rc = parse_run_ckpt(buf + off, len - off, ckpt, ckpt_len, &all[n], err, cap, &used);
        if (rc == 0)
            n++;
    }
    if (rc < 0) {
        for (size_t i = 1; i < n; i++)
            omni_session_free(&all[i]);
        if (n == 1 || !all)
            omni_session_free(&first);
        else
            omni_session_free(&all[0]);
        free(all);
        memset(s, 0, sizeof *s);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        all[i].run_index = (int)i;
    qsort(all, n, sizeof *all, by_wall);
    size_t mid = (n - 1) / 2;
    *s = all[mid];
    /* the others, in run order */
    s->runs = calloc(n - 1, sizeof *s->runs);
    if (!s->runs) {
        for (size_t i = 0; i < n; i++)
            if (i != mid)
                omni_session_free(&all[i]);
        free(all);
        omni_session_free(s);
        snprintf(err, cap, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (i != mid)
            s->runs[s->n_runs++] = all[i];
    free(all);
    for (size_t i = 1; i < s->n_runs; i++)
        for (size_t k = i; k > 0 && s->runs[k - 1].run_index > s->runs[k].run_index; k--) {
            omni_session_t t = s->runs[k];
            s->runs[k] = s->runs[k - 1];
            s->runs[k - 1] = t;
        }
    return 0;
}

/* processes[0]: the session's own process. Returns 0 or -1 (out of memory). */
static int add_own_process(omni_session_t *s, const char *path) {
    s->processes = calloc(1, sizeof *s->processes);
    if (!s->processes)
        return -1;
    omni_sprocess_t *p = &s->processes[0];
    s->n_processes = 1;
    p->pid = s->pid;
    p->ppid = s->ppid;
    p->parent_pid = s->parent_pid;
    p->session = strdup(path);
    p->session_id = s->session_id ? strdup(s->session_id) : NULL;
    p->parent_session_id = s->parent_session_id ? strdup(s->parent_session_id) : NULL;
    p->started_by = s->started_by ? strdup(s->started_by) : NULL;
    p->argv = calloc(s->argc + 1, sizeof *p->argv);
    for (size_t i = 0; p->argv && i < s->argc; i++)
        p->argv[p->argc++] = s->argv[i] ? strdup(s->argv[i]) : NULL;
    p->hostname = s->hostname ? strdup(s->hostname) : NULL;
    p->has_footer = s->has_footer;
    p->exit_status = s->exit_status;
    p->wall_s = s->wall_s;
    p->cpu_s = s->has_footer ? s->cpu_user_s + s->cpu_sys_s : 0;
    for (size_t i = 0; i < s->n_sstacks; i++) {
        p->samples += s->sstacks[i].samples;
        p->cpu_samples += s->sstacks[i].cpu;
    }
    s->n_roots = 1;
    p->peak_rss_bytes = s->has_footer ? s->peak_rss_bytes : 0;
    p->has_memory = s->has_memory && s->memory_available;
    p->has_native = p->has_memory && s->mem_native_available;
    p->mem_peak_bytes = s->mem_peak_bytes;
    p->mem_exit_live_bytes = s->mem_exit_live_bytes;
    p->native_peak_bytes = s->native_peak_bytes;
    p->native_exit_live_bytes = s->native_exit_live_bytes;
    return p->session ? 0 : -1;
}

/* The whole file at path into *buf (malloc'd), its size in *len. Returns 0,
 * or -errno (ENOMEM when memory ran out, EIO when reading failed). */
static int slurp(const char *path, char **buf, size_t *len) {
    *buf = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return -errno;
    size_t capb = 0;
    for (;;) {
        if (*len == capb) {
            capb = capb ? capb * 2 : 1 << 16;
            char *nb = realloc(*buf, capb);
            if (!nb) {
                free(*buf);
                *buf = NULL;
                fclose(f);
                return -ENOMEM;
            }
            *buf = nb;
        }
        size_t k = fread(*buf + *len, 1, capb - *len, f);
        *len += k;
        if (k == 0)
            break;
    }
    int rerr = ferror(f);
    fclose(f);
    if (rerr) {
        free(*buf);
        *buf = NULL;
        return -EIO;
    }
    return 0;
}

int omni_session_load(const char *path, omni_session_t *s, char *err, size_t cap) {
    memset(s, 0, sizeof *s);
    char *buf, *ckpt = NULL;
    size_t len, ckpt_len = 0;
    int rc = slurp(path, &buf, &len);
    if (rc < 0) {
        if (rc == -ENOMEM)
            snprintf(err, cap, "out of memory reading %s", path);
        else if (rc == -EIO)
            snprintf(err, cap, "cannot read %s", path);
        else
            snprintf(err, cap, "cannot open %s: %s", path, strerror(-rc));
        return -1;
    }
    /* Read after the session: a run that has ended by now has its footer
     * there, or still a checkpoint here (it is removed after the footer). */
    size_t n = strlen(path);
    char *cpath = malloc(n + sizeof OMNI_CHECKPOINT_SUFFIX);
    if (cpath) {
        memcpy(cpath, path, n);
        memcpy(cpath + n, OMNI_CHECKPOINT_SUFFIX, sizeof OMNI_CHECKPOINT_SUFFIX);
        if (slurp(cpath, &ckpt, &ckpt_len) < 0)
            ckpt = NULL;
        free(cpath);
    }
    rc = omni_session_parse_with(buf, len, ckpt, ckpt_len, s, err, cap);
    free(buf);
    free(ckpt);
    if (rc == 0 && add_own_process(s, path) < 0) {
        omni_session_free(s);
        snprintf(err, cap, "out of memory reading %s", path);
        return -1;
    }
    return rc;
}

static void free_strv(char **v, size_t n) {
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

void omni_session_free(omni_session_t *s) {
    free_strv(s->argv, s->argc);
    free_strv(s->sys_argv, s->sys_argc);
    free_strv(s->warnings, s->n_warnings);
    char **strs[] = {&s->session_id, &s->target, &s->cwd, &s->executable, &s->python_version,
                     &s->omni_version, &s->mode, &s->parent_session_id, &s->started_by,
                     &s->hostname, &s->arch, &s->cpu_model, &s->os,
                     &s->kernel, &s->exit_how, &s->clock};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        free(*strs[i]);
    for (size_t i = 0; i < s->n_codes; i++) {
        free(s->codes[i].file);
        free(s->codes[i].name);
    }
    free(s->codes);
    for (size_t i = 0; i < s->n_threads; i++) {
        free(s->threads[i].name);
        free(s->threads[i].kind);
        free(s->threads[i].funcs);
        free(s->threads[i].edges);
    }
    free(s->threads);
    free(s->machine_raw);
    free(s->monitor_raw);
    for (size_t i = 0; i < s->n_series; i++) {
        omni_series_t *t = &s->series[i];
        for (size_t c = 0; c < t->n_cols; c++)
            free(t->cols[c]);
        free(t->cols);
        free(t->name);
        free(t->v);
    }
    free(s->series);
    for (size_t i = 0; i < s->n_events; i++) {
        free(s->events[i].event);
        free(s->events[i].what);
        free(s->events[i].detail);
    }
    free(s->events);
    free(s->io_fns);
    free(s->coros);
    free(s->awaits);
    free(s->snodes);
    free(s->sstacks);
    for (size_t g = 0; g < s->n_sgroups; g++)
        free(s->sgroups[g].name);
    free(s->sgroups);
    for (size_t i = 0; i < s->n_processes; i++) {
        omni_sprocess_t *p = &s->processes[i];
        free(p->session);
        free(p->session_id);
        free(p->parent_session_id);
        free(p->started_by);
        free(p->hostname);
        free_strv(p->argv, p->argc);
    }
    free(s->processes);
    free(s->push_url);
    free(s->push_name);
    free(s->push_error);
    free(s->memory_reason);
    free(s->mem_native_reason);
    free(s->mem_census_reason);
    for (size_t i = 0; i < s->n_mem_chains; i++)
        free(s->mem_chains[i].chain);
    free(s->mem_chains);
    for (size_t i = 0; i < s->n_mem_census; i++)
        free(s->mem_census[i].type);
    free(s->mem_census);
    free(s->mem_nodes);
    free(s->mem_survivors);
    for (size_t i = 0; i < s->n_region_names; i++)
        free(s->region_names[i].name);
    free(s->region_names);
    for (size_t i = 0; i < s->n_regions; i++) {
        free(s->regions[i].name);
        free(s->regions[i].error);
    }
    free(s->regions);
    for (size_t i = 0; i < s->n_runs; i++)
        omni_session_free(&s->runs[i]);
    free(s->runs);
    memset(s, 0, sizeof *s);
}
