/* export_pprof.c - Go's pprof format (profile.proto, gzip-compressed), the
 * format continuous-profiling engines read (Pyroscope, Parca, Datadog,
 * Google Cloud Profiler; `go tool pprof`).
 *
 * Sample types: samples/count, cpu/nanoseconds (the samples taken on a CPU,
 * times the period), wall/nanoseconds (all samples, times the period) -
 * then calls/count: the frame hook's exact calls, one sample per function
 * and thread at the function's first line, so that `-sample_index=calls
 * -top` lists every function's calls - and, with allocation accounting,
 * alloc_objects/count, alloc_space/bytes and inuse_space/bytes (alive at
 * exit) at the sampled allocations' stacks. A sample has the values of its
 * kind and zeros for the rest. One location per (function, line); samples
 * carry the process id and the thread's name (an allocation site: its heap,
 * python or native) as labels. */
#include "patterns/report/export.h"
#include "patterns/report/gzip.h"
#include "patterns/report/pb.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* profile.proto's field numbers */
enum {
    P_SAMPLE_TYPE = 1, P_SAMPLE = 2, P_LOCATION = 4, P_FUNCTION = 5, P_STRING_TABLE = 6,
    P_TIME_NANOS = 9, P_DURATION_NANOS = 10, P_PERIOD_TYPE = 11, P_PERIOD = 12, P_COMMENT = 13,
    P_DEFAULT_SAMPLE_TYPE = 14,
    VT_TYPE = 1, VT_UNIT = 2,
    S_LOCATION = 1, S_VALUE = 2, S_LABEL = 3,
    LB_KEY = 1, LB_STR = 2, LB_NUM = 3,
    P_MAPPING = 3, MAP_ID = 1, MAP_FILENAME = 5, MAP_HAS_FUNCTIONS = 7, MAP_HAS_FILENAMES = 8,
    MAP_HAS_LINE_NUMBERS = 9,
    LOC_ID = 1, LOC_MAPPING = 2, LOC_LINE = 4,
    LN_FUNCTION = 1, LN_LINE = 2,
    FN_ID = 1, FN_NAME = 2, FN_SYSTEM_NAME = 3, FN_FILENAME = 4, FN_START_LINE = 5,
};

/* The values of a sample, by sample type. */
enum { V_SAMPLES, V_CPU, V_WALL, V_CALLS, V_ALLOC_OBJECTS, V_ALLOC_SPACE, V_INUSE_SPACE, N_VALUES };
static const char *const value_types[N_VALUES][2] = {
    {"samples", "count"}, {"cpu", "nanoseconds"}, {"wall", "nanoseconds"}, {"calls", "count"},
    {"alloc_objects", "count"}, {"alloc_space", "bytes"}, {"inuse_space", "bytes"}};

/* ---------------------------------------------------------------- tables */

typedef struct strtab {
    char **s;
    size_t n, cap;
    int64_t *slot;     /* open addressing: index + 1, 0 = empty */
    size_t nslot;
    int oom;
} strtab_t;

static uint64_t hash_str(const char *s) {
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static int strtab_grow(strtab_t *t) {
    size_t nslot = t->nslot ? t->nslot * 2 : 1024;
    int64_t *slot = calloc(nslot, sizeof *slot);
    if (!slot)
        return -1;
    for (size_t i = 0; i < t->n; i++) {
        size_t k = hash_str(t->s[i]) & (nslot - 1);
        while (slot[k])
            k = (k + 1) & (nslot - 1);
        slot[k] = (int64_t)i + 1;
    }
    free(t->slot);
    t->slot = slot;
    t->nslot = nslot;
    return 0;
}

/* The string's index in the table (the table's first string is ""). */
static int64_t str_index(strtab_t *t, const char *s) {
    if (!s)
        s = "";
    if ((t->n + 1) * 2 > t->nslot && strtab_grow(t) < 0) {
        t->oom = 1;
        return 0;
    }
    size_t k = hash_str(s) & (t->nslot - 1);
    for (; t->slot[k]; k = (k + 1) & (t->nslot - 1))
        if (strcmp(t->s[t->slot[k] - 1], s) == 0)
            return t->slot[k] - 1;
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 256;
        char **ns = realloc(t->s, cap * sizeof *ns);
        if (!ns) {
            t->oom = 1;
            return 0;
        }
        t->s = ns;
        t->cap = cap;
    }
    if (!(t->s[t->n] = strdup(s))) {
        t->oom = 1;
        return 0;
    }
    t->slot[k] = (int64_t)t->n + 1;
    return (int64_t)t->n++;
}

static void strtab_free(strtab_t *t) {
    for (size_t i = 0; i < t->n; i++)
        free(t->s[i]);
    free(t->s);
    free(t->slot);
}

/* Locations: one per (code, line), ids from 1 in the order first used. */
typedef struct locs {
    struct loc {
        int64_t code, line;
    } *l;
    size_t n, cap;
    uint64_t *slot;    /* open addressing: id, 0 = empty */
    size_t nslot;
    int oom;
} locs_t;

static uint64_t hash_loc(int64_t code, int64_t line) {
    return ((uint64_t)code * 0x9E3779B97F4A7C15ull) ^ ((uint64_t)line * 0xC2B2AE3D27D4EB4Full);
}

static uint64_t loc_id(locs_t *t, int64_t code, int64_t line) {
    if ((t->n + 1) * 2 > t->nslot) {
        size_t nslot = t->nslot ? t->nslot * 2 : 1024;
        uint64_t *slot = calloc(nslot, sizeof *slot);
        if (!slot) {
            t->oom = 1;
            return 0;
        }
        for (size_t i = 0; i < t->n; i++) {
            size_t k = hash_loc(t->l[i].code, t->l[i].line) & (nslot - 1);
            while (slot[k])
                k = (k + 1) & (nslot - 1);
            slot[k] = i + 1;
        }
        free(t->slot);
        t->slot = slot;
        t->nslot = nslot;
    }
    size_t k = hash_loc(code, line) & (t->nslot - 1);
    for (; t->slot[k]; k = (k + 1) & (t->nslot - 1)) {
        const struct loc *l = &t->l[t->slot[k] - 1];
        if (l->code == code && l->line == line)
            return t->slot[k];
    }
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 256;
        struct loc *nl = realloc(t->l, cap * sizeof *nl);
        if (!nl) {
            t->oom = 1;
            return 0;
        }
        t->l = nl;
        t->cap = cap;
    }
    t->l[t->n] = (struct loc){code, line};
    t->slot[k] = ++t->n;
    return t->n;
}

/* ---------------------------------------------------------------- building */

typedef struct builder {
    const omni_session_t *s;
    omni_pb_t out;
    strtab_t str;
    locs_t locs;
    uint64_t *stack;   /* location ids of one sample, the innermost first */
    size_t depth, cap;
    int oom;
} builder_t;

static void push_loc(builder_t *b, int64_t code, int64_t line) {
    if (b->depth == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        uint64_t *ns = realloc(b->stack, cap * sizeof *ns);
        if (!ns) {
            b->oom = 1;
            return;
        }
        b->stack = ns;
        b->cap = cap;
    }
    /* a caller's line unknown: the function's first */
    if (line < 0 && code >= 0 && (size_t)code < b->s->n_codes)
        line = b->s->codes[code].line;
    b->stack[b->depth++] = loc_id(&b->locs, code, line < 0 ? 0 : line);
}

static const char *thread_name(const omni_session_t *s, int64_t pid, int64_t native_id) {
    for (size_t i = 0; i < s->n_threads; i++)
        if (s->threads[i].pid == pid && s->threads[i].native_id == native_id)
            return s->threads[i].name;
    return NULL;
}

static void label_str(builder_t *b, omni_pb_t *sample, const char *key, const char *value) {
    omni_pb_t l = {0};
    omni_pb_int(&l, LB_KEY, str_index(&b->str, key));
    omni_pb_int(&l, LB_STR, str_index(&b->str, value));
    omni_pb_msg(sample, S_LABEL, &l);
    omni_pb_free(&l);
}

static void label_num(builder_t *b, omni_pb_t *sample, const char *key, int64_t value) {
    omni_pb_t l = {0};
    omni_pb_int(&l, LB_KEY, str_index(&b->str, key));
    omni_pb_int(&l, LB_NUM, value);
    omni_pb_msg(sample, S_LABEL, &l);
    omni_pb_free(&l);
}

/* A sample of b->stack with values v, labelled with its process and its
 * thread (or, for an allocation site, its heap). */
static void sample(builder_t *b, const int64_t *v, int64_t pid, const char *thread,
                   const char *heap) {
    omni_pb_t m = {0};
    omni_pb_packed(&m, S_LOCATION, b->stack, b->depth);
    uint64_t uv[N_VALUES];
    for (int i = 0; i < N_VALUES; i++)
        uv[i] = (uint64_t)v[i];
    /* every value is written: a packed field of N_VALUES varints, zeros too */
    omni_pb_packed(&m, S_VALUE, uv, N_VALUES);
    if (thread)
        label_str(b, &m, "thread", thread);
    if (heap)
        label_str(b, &m, "heap", heap);
    label_num(b, &m, "pid", pid);
    omni_pb_msg(&b->out, P_SAMPLE, &m);
    omni_pb_free(&m);
}

static void stack_samples(builder_t *b, int64_t period_ns) {
    const omni_session_t *s = b->s;
    for (size_t i = 0; i < s->n_sstacks && !b->oom; i++) {
        const omni_sstack_t *st = &s->sstacks[i];
        if (!st->samples)
            continue; /* an interval's stack that took no sample in it */
        b->depth = 0;
        for (int64_t k = st->node; k >= 0; k = s->snodes[k].parent)
            push_loc(b, s->snodes[k].code, s->snodes[k].line);
        int64_t v[N_VALUES] = {0};
        v[V_SAMPLES] = (int64_t)st->samples;
        v[V_CPU] = (int64_t)st->cpu * period_ns;
        v[V_WALL] = (int64_t)st->samples * period_ns;
        sample(b, v, st->pid, thread_name(s, st->pid, st->native_id), NULL);
    }
}

static void call_samples(builder_t *b) {
    const omni_session_t *s = b->s;
    for (size_t t = 0; t < s->n_threads && !b->oom; t++) {
        const omni_sthread_t *th = &s->threads[t];
        for (size_t i = 0; i < th->n_funcs; i++) {
            const omni_sfunc_t *f = &th->funcs[i];
            if (!f->calls || f->code >= s->n_codes)
                continue;
            b->depth = 0;
            push_loc(b, f->code, s->codes[f->code].line);
            int64_t v[N_VALUES] = {0};
            v[V_CALLS] = (int64_t)f->calls;
            sample(b, v, th->pid, th->name, NULL);
        }
    }
}

static void memory_samples(builder_t *b) {
    const omni_session_t *s = b->s;
    for (size_t i = 0; i < s->n_mem_nodes && !b->oom; i++) {
        const omni_smemnode_t *n = &s->mem_nodes[i];
        if (!(n->alloc_bytes > 0) && !(n->exit_live_bytes > 0))
            continue;
        b->depth = 0;
        for (int64_t k = (int64_t)i; k >= 0; k = s->mem_nodes[k].parent)
            push_loc(b, s->mem_nodes[k].code, s->mem_nodes[k].line);
        int64_t v[N_VALUES] = {0};
        v[V_ALLOC_OBJECTS] = (int64_t)llround(n->allocs);
        v[V_ALLOC_SPACE] = (int64_t)llround(n->alloc_bytes);
        v[V_INUSE_SPACE] = (int64_t)llround(n->exit_live_bytes);
        sample(b, v, s->pid, NULL, n->native ? "native" : "python");
    }
}

static void value_type(builder_t *b, int field, const char *type, const char *unit) {
    omni_pb_t m = {0};
    omni_pb_int(&m, VT_TYPE, str_index(&b->str, type));
    omni_pb_int(&m, VT_UNIT, str_index(&b->str, unit));
    omni_pb_msg(&b->out, field, &m);
    omni_pb_free(&m);
}

/* The locations, and a function per code object they name. */
static void locations_and_functions(builder_t *b) {
    const omni_session_t *s = b->s;
    char *used = calloc(s->n_codes + 1, 1);
    if (!used) {
        b->oom = 1;
        return;
    }
    for (size_t i = 0; i < b->locs.n; i++) {
        const struct loc *l = &b->locs.l[i];
        /* function ids: the code's index + 1; an unknown code is the last */
        size_t fn = l->code >= 0 && (size_t)l->code < s->n_codes ? (size_t)l->code : s->n_codes;
        used[fn] = 1;
        omni_pb_t line = {0}, m = {0};
        omni_pb_uint(&line, LN_FUNCTION, fn + 1);
        omni_pb_int(&line, LN_LINE, l->line);
        omni_pb_uint(&m, LOC_ID, i + 1);
        omni_pb_uint(&m, LOC_MAPPING, 1);
        omni_pb_msg(&m, LOC_LINE, &line);
        omni_pb_msg(&b->out, P_LOCATION, &m);
        omni_pb_free(&line);
        omni_pb_free(&m);
    }
    for (size_t c = 0; c <= s->n_codes; c++) {
        if (!used[c])
            continue;
        const omni_scode_t *code = c < s->n_codes ? &s->codes[c] : NULL;
        const char *name = code && code->name ? code->name : "?";
        /* pprof drops a name in angle brackets whole (C++ template
         * arguments, to it): "<module>" is shown as its module's,
         * "hot_path.<module>" */
        char shown[512];
        if (name[0] == '<' && code && code->file) {
            const char *base = strrchr(code->file, '/');
            base = base ? base + 1 : code->file;
            size_t len = strlen(base);
            if (len > 3 && strcmp(base + len - 3, ".py") == 0)
                len -= 3;
            snprintf(shown, sizeof shown, "%.*s.%s", (int)len, base, name);
        } else
            snprintf(shown, sizeof shown, "%s", name);
        omni_pb_t m = {0};
        omni_pb_uint(&m, FN_ID, c + 1);
        omni_pb_int(&m, FN_NAME, str_index(&b->str, shown));
        omni_pb_int(&m, FN_SYSTEM_NAME, str_index(&b->str, name));
        omni_pb_int(&m, FN_FILENAME, str_index(&b->str, code ? code->file : "?"));
        omni_pb_int(&m, FN_START_LINE, code ? code->line : 0);
        omni_pb_msg(&b->out, P_FUNCTION, &m);
        omni_pb_free(&m);
    }
    free(used);
}

int omni_export_pprof(const omni_session_t *s, FILE *f, char *err, size_t cap) {
    int funcs = 0;
    for (size_t t = 0; t < s->n_threads; t++)
        funcs |= s->threads[t].n_funcs > 0;
    if (!s->has_samples && !funcs) {
        snprintf(err, cap, "the session has neither stack samples nor a function profile");
        return -2;
    }
    return omni_export_pprof_span(s, s->start_unix_s, s->has_footer ? s->wall_s : 0, f);
}

int omni_export_pprof_span(const omni_session_t *s, double from_unix_s, double duration_s,
                           FILE *f) {
    builder_t b = {.s = s};
    str_index(&b.str, ""); /* the table starts with "" */
    int64_t period_ns = s->sample_interval_s > 0 ? llround(s->sample_interval_s * 1e9) : 0;
    int mem = s->has_memory && s->memory_available && s->n_mem_nodes > 0;
    /* every sample has all N_VALUES values: the types are all declared, the
     * memory ones too (zeros) when there was no accounting, so that one
     * reader reads every session */
    for (int i = 0; i < N_VALUES; i++)
        value_type(&b, P_SAMPLE_TYPE, value_types[i][0], value_types[i][1]);
    stack_samples(&b, period_ns);
    call_samples(&b);
    if (mem)
        memory_samples(&b);
    /* one mapping, the interpreter, its functions and lines all known */
    omni_pb_t map = {0};
    omni_pb_uint(&map, MAP_ID, 1);
    omni_pb_int(&map, MAP_FILENAME, str_index(&b.str, s->executable ? s->executable : "python"));
    omni_pb_uint(&map, MAP_HAS_FUNCTIONS, 1);
    omni_pb_uint(&map, MAP_HAS_FILENAMES, 1);
    omni_pb_uint(&map, MAP_HAS_LINE_NUMBERS, 1);
    omni_pb_msg(&b.out, P_MAPPING, &map);
    omni_pb_free(&map);
    locations_and_functions(&b);
    omni_pb_int(&b.out, P_TIME_NANOS, llround(from_unix_s * 1e9));
    omni_pb_int(&b.out, P_DURATION_NANOS, llround(duration_s * 1e9));
    value_type(&b, P_PERIOD_TYPE, "wall", "nanoseconds");
    omni_pb_int(&b.out, P_PERIOD, period_ns);
    char note[256];
    snprintf(note, sizeof note, "omnipython %s, Python %s, mode %s: %s",
             s->omni_version ? s->omni_version : "?", s->python_version ? s->python_version : "?",
             s->mode ? s->mode : "?",
             s->has_samples ? "stack samples, exact calls" : "exact calls (no stack samples)");
    uint64_t comment = (uint64_t)str_index(&b.str, note);
    omni_pb_packed(&b.out, P_COMMENT, &comment, 1);
    omni_pb_int(&b.out, P_DEFAULT_SAMPLE_TYPE,
                str_index(&b.str, s->has_samples ? "cpu" : "calls"));
    for (size_t i = 0; i < b.str.n; i++)
        omni_pb_bytes(&b.out, P_STRING_TABLE, b.str.s[i], strlen(b.str.s[i]));
    int rc = 0;
    if (b.oom || b.out.oom || b.str.oom || b.locs.oom)
        rc = -1;
    else if (omni_gzip_write(b.out.p, b.out.n, f) < 0)
        rc = -1;
    omni_pb_free(&b.out);
    strtab_free(&b.str);
    free(b.locs.l);
    free(b.locs.slot);
    free(b.stack);
    return rc;
}
