/* tree.c - joins the sessions of a process tree: the processes a
 * profiled run started write sessions of their own beside its session,
 * each naming its parent's session id. */
#include "runtime/session/reader.h"

#include "runtime/session/mp_get.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEADER_PEEK 65536   /* a header record is far smaller */
#define MAX_TREE 4096       /* sessions joined at most */

/* The session id and parent session id in the header of the file at path
 * (reading only its start). Returns 0 or -1. */
static int peek_ids(const char *path, char id[33], char parent[33]) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    static char buf[HEADER_PEEK];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    int rc = -1;
    if (msgpack_unpack_next(&u, buf, n, &off) == MSGPACK_UNPACK_SUCCESS &&
        omni_mp_is_str(omni_mp_get(&u.data, "kind"), "header")) {
        omni_mp_str(omni_mp_get(&u.data, "session_id"), id, 33);
        omni_mp_str(omni_mp_get(&u.data, "parent_session_id"), parent, 33);
        rc = id[0] ? 0 : -1;
    }
    msgpack_unpacked_destroy(&u);
    return rc;
}

typedef struct node {
    char path[4096];
    char id[33], parent[33];
    int in_tree;
} node_t;

/* The folder of path ("." when it has none). */
static void dir_of(const char *path, char *out, size_t cap) {
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(out, cap, ".");
    else if (slash == path)
        snprintf(out, cap, "/");
    else
        snprintf(out, cap, "%.*s", (int)(slash - path), path);
}

/* The sessions in path's folder that descend from path's session, in the
 * order they are found, path itself first. Returns how many (at least 1),
 * or -1. *nodes is the caller's to free. */
static int find_tree(const char *path, node_t **nodes) {
    char dir[4096];
    dir_of(path, dir, sizeof dir);
    node_t *v = calloc(MAX_TREE, sizeof *v);
    if (!v)
        return -1;
    int n = 0;
    snprintf(v[0].path, sizeof v[0].path, "%s", path);
    if (peek_ids(path, v[0].id, v[0].parent) < 0) {
        *nodes = v;
        return 1;
    }
    v[0].in_tree = 1;
    n = 1;
    DIR *d = opendir(dir);
    struct dirent *e;
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    while (d && (e = readdir(d)) && n < MAX_TREE) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".omni") != 0 || strcmp(e->d_name, base) == 0)
            continue;
        node_t *c = &v[n];
        if (snprintf(c->path, sizeof c->path, "%.3800s/%.255s", dir, e->d_name) >=
            (int)sizeof c->path)
            continue;
        if (peek_ids(c->path, c->id, c->parent) == 0 && c->parent[0])
            n++;
    }
    if (d)
        closedir(d);
    /* Take in every session whose parent is in the tree, until none is left. */
    for (int grew = 1; grew;) {
        grew = 0;
        for (int i = 1; i < n; i++) {
            if (v[i].in_tree)
                continue;
            for (int k = 0; k < n; k++)
                if (v[k].in_tree && strcmp(v[i].parent, v[k].id) == 0) {
                    v[i].in_tree = grew = 1;
                    break;
                }
        }
    }
    int m = 0;
    for (int i = 0; i < n; i++)
        if (v[i].in_tree)
            v[m++] = v[i];
    *nodes = v;
    return m;
}

/* ---------------------------------------------------------------- joining */

static int same_code(const omni_scode_t *a, const omni_scode_t *b) {
    return a->line == b->line && strcmp(a->file, b->file) == 0 && strcmp(a->name, b->name) == 0;
}

static uint64_t code_hash(const omni_scode_t *c) {
    uint64_t h = 1469598103934665603ull ^ (uint64_t)c->line;
    for (const char *p = c->file; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    for (const char *p = c->name; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    return h;
}

/* An open-addressing index of codes: slot = code id + 1, 0 = empty. */
typedef struct code_index {
    uint32_t *slots;
    size_t mask;
} code_index_t;

static void index_add(code_index_t *x, const omni_scode_t *codes, uint32_t id) {
    size_t j = code_hash(&codes[id]) & x->mask;
    while (x->slots[j])
        j = (j + 1) & x->mask;
    x->slots[j] = id + 1;
}

/* The id of a code equal to c in codes, or -1. */
static int64_t index_find(const code_index_t *x, const omni_scode_t *codes,
                          const omni_scode_t *c) {
    for (size_t j = code_hash(c) & x->mask; x->slots[j]; j = (j + 1) & x->mask)
        if (same_code(&codes[x->slots[j] - 1], c))
            return x->slots[j] - 1;
    return -1;
}

/* Moves src's codes, threads and process into dst; src is emptied (the
 * caller frees it). Code ids of src are renumbered into dst's. Returns 0 or
 * -1 (out of memory: dst stays whole, without src). */
/* omni.profile's regions: totals added by name, instances kept. */
static int join_regions(omni_session_t *dst, omni_session_t *src) {
    if (!src->has_regions)
        return 0;
    omni_sregion_name_t *names = realloc(dst->region_names, (dst->n_region_names +
                                                             src->n_region_names + 1) *
                                                                sizeof *names);
    if (names)
        dst->region_names = names;
    omni_sregion_t *regs = realloc(dst->regions, (dst->n_regions + src->n_regions + 1) *
                                                     sizeof *regs);
    if (regs)
        dst->regions = regs;
    if (!names || !regs)
        return -1;
    for (size_t i = 0; i < src->n_region_names; i++) {
        omni_sregion_name_t *a = &src->region_names[i], *b = NULL;
        for (size_t k = 0; k < dst->n_region_names && !b; k++)
            if (strcmp(dst->region_names[k].name, a->name) == 0)
                b = &dst->region_names[k];
        if (!b) {
            dst->region_names[dst->n_region_names++] = *a;
            a->name = NULL;
            continue;
        }
        b->count += a->count, b->errors += a->errors;
        b->wall_s += a->wall_s, b->cpu_s += a->cpu_s;
    }
    for (size_t i = 0; i < src->n_regions; i++)
        dst->regions[dst->n_regions++] = src->regions[i];
    src->n_regions = 0;
    dst->regions_dropped += src->regions_dropped;
    dst->has_regions = 1;
    return 0;
}

static int join(omni_session_t *dst, omni_session_t *src) {
    uint32_t *map = malloc((src->n_codes + 1) * sizeof *map);
    omni_scode_t *codes = realloc(dst->codes, (dst->n_codes + src->n_codes + 1) * sizeof *codes);
    if (codes)
        dst->codes = codes;
    omni_sthread_t *threads = realloc(dst->threads, (dst->n_threads + src->n_threads + 1) *
                                                        sizeof *threads);
    if (threads)
        dst->threads = threads;
    omni_sprocess_t *procs = realloc(dst->processes, (dst->n_processes + src->n_processes) *
                                                         sizeof *procs);
    if (procs)
        dst->processes = procs;
    omni_sevent_t *events = realloc(dst->events, (dst->n_events + src->n_events + 1) *
                                                     sizeof *events);
    if (events)
        dst->events = events;
    omni_siofn_t *iofns = realloc(dst->io_fns, (dst->n_io_fns + src->n_io_fns + 1) *
                                                   sizeof *iofns);
    if (iofns)
        dst->io_fns = iofns;
    omni_snode_t *snodes = realloc(dst->snodes, (dst->n_snodes + src->n_snodes + 1) *
                                                    sizeof *snodes);
    if (snodes)
        dst->snodes = snodes;
    omni_sstack_t *sstacks = realloc(dst->sstacks, (dst->n_sstacks + src->n_sstacks + 1) *
                                                       sizeof *sstacks);
    if (sstacks)
        dst->sstacks = sstacks;
    omni_scoro_t *coros = realloc(dst->coros, (dst->n_coros + src->n_coros + 1) * sizeof *coros);
    if (coros)
        dst->coros = coros;
    omni_sawait_t *awaits = realloc(dst->awaits, (dst->n_awaits + src->n_awaits + 1) *
                                                     sizeof *awaits);
    if (awaits)
        dst->awaits = awaits;
    code_index_t x = {NULL, 0};
    size_t cap = 64;
    while (cap < 2 * (dst->n_codes + src->n_codes))
        cap *= 2;
    x.slots = map ? calloc(cap, sizeof *x.slots) : NULL;
    x.mask = cap - 1;
    if (!map || !codes || !threads || !procs || !events || !iofns || !snodes || !sstacks ||
        !coros || !awaits || !x.slots) {
        free(map);
        free(x.slots);
        return -1;
    }
    for (uint32_t i = 0; i < dst->n_codes; i++)
        index_add(&x, dst->codes, i);
    for (size_t i = 0; i < src->n_codes; i++) {
        int64_t k = index_find(&x, dst->codes, &src->codes[i]);
        if (k < 0) {
            k = (int64_t)dst->n_codes++;
            dst->codes[k] = src->codes[i];
            src->codes[i].file = src->codes[i].name = NULL;
            index_add(&x, dst->codes, (uint32_t)k);
        }
        map[i] = (uint32_t)k;
    }
    free(x.slots);
    for (size_t t = 0; t < src->n_threads; t++) {
        omni_sthread_t *th = &src->threads[t];
        for (size_t i = 0; i < th->n_funcs; i++)
            th->funcs[i].code = map[th->funcs[i].code];
        for (size_t i = 0; i < th->n_edges; i++) {
            th->edges[i].caller = map[th->edges[i].caller];
            th->edges[i].callee = map[th->edges[i].callee];
        }
        dst->threads[dst->n_threads++] = *th;
    }
    src->n_threads = 0;
    for (size_t i = 0; i < src->n_events; i++) {
        omni_sevent_t *e = &src->events[i];
        if (e->code >= 0)
            e->code = map[e->code];
        dst->events[dst->n_events++] = *e;
    }
    src->n_events = 0;
    dst->has_events |= src->has_events;
    /* I/O: kinds by name, functions by the new ids. */
    int kmap[OMNI_IO_KINDS];
    for (size_t k = 0; k < src->n_io_kinds; k++) {
        const omni_siokind_t *a = &src->io_kinds[k];
        int d = kmap[k] = omni_session_io_kind(dst, a->name);
        if (d < 0)
            continue;
        omni_siokind_t *b = &dst->io_kinds[d];
        b->read_bytes += a->read_bytes, b->write_bytes += a->write_bytes;
        b->read_ops += a->read_ops, b->write_ops += a->write_ops;
        for (int dir = 0; dir < 2; dir++)
            for (int i = 0; i < 48; i++)
                b->sizes[dir][i] += a->sizes[dir][i];
    }
    for (size_t i = 0; i < src->n_io_fns; i++) {
        omni_siofn_t f = src->io_fns[i];
        if (kmap[f.kind] < 0)
            continue;
        f.kind = kmap[f.kind];
        if (f.code >= 0)
            f.code = map[f.code];
        dst->io_fns[dst->n_io_fns++] = f;
    }
    dst->has_io |= src->has_io;
    /* Samples: the child's tree after the parent's, its ids moved along. */
    size_t base = dst->n_snodes;
    for (size_t i = 0; i < src->n_snodes; i++) {
        omni_snode_t n = src->snodes[i];
        if (n.parent >= 0)
            n.parent += (int64_t)base;
        if (n.code >= 0)
            n.code = map[n.code];
        dst->snodes[dst->n_snodes++] = n;
    }
    for (size_t i = 0; i < src->n_sstacks; i++) {
        omni_sstack_t x = src->sstacks[i];
        x.node += (uint32_t)base;
        dst->sstacks[dst->n_sstacks++] = x;
    }
    dst->has_samples |= src->has_samples;
    for (size_t i = 0; i < src->n_coros; i++) {
        omni_scoro_t c = src->coros[i];
        c.code = map[c.code];
        dst->coros[dst->n_coros++] = c;
    }
    for (size_t i = 0; i < src->n_awaits; i++) {
        omni_sawait_t a = src->awaits[i];
        a.code = map[a.code];
        dst->awaits[dst->n_awaits++] = a;
    }
    dst->has_coros |= src->has_coros;
    dst->coros_unfinished += src->coros_unfinished;
    dst->samples_taken += src->samples_taken;
    dst->sample_errors += src->sample_errors;
    dst->samples_dropped += src->samples_dropped;
    dst->events_dropped += src->events_dropped;
    for (size_t i = 0; i < src->n_processes; i++)
        dst->processes[dst->n_processes++] = src->processes[i];
    src->n_processes = 0;
    free(map);
    return join_regions(dst, src);
}

static void warn(omni_session_t *s, const char *fmt, const char *a, const char *b) {
    char msg[1024];
    snprintf(msg, sizeof msg, fmt, a, b);
    char **w = realloc(s->warnings, (s->n_warnings + 1) * sizeof *w);
    if (!w)
        return;
    s->warnings = w;
    w[s->n_warnings] = strdup(msg);
    if (w[s->n_warnings])
        s->n_warnings++;
}

int omni_session_load_tree(const char *path, omni_session_t *s, char *err, size_t cap) {
    if (omni_session_load(path, s, err, cap) < 0)
        return -1;
    node_t *nodes = NULL;
    int n = find_tree(path, &nodes);
    for (int i = 1; i < n; i++) {
        omni_session_t c;
        char cerr[512];
        if (omni_session_load(nodes[i].path, &c, cerr, sizeof cerr) < 0) {
            warn(s, "a child's session was left out: %s: %s", nodes[i].path, cerr);
            continue;
        }
        if (join(s, &c) < 0)
            warn(s, "a child's session was left out: %s: %s", nodes[i].path, "out of memory");
        omni_session_free(&c);
    }
    free(nodes);
    return 0;
}

static int is_session_name(const struct dirent *e) {
    size_t len = strlen(e->d_name);
    return len > 5 && e->d_name[0] != '.' && strcmp(e->d_name + len - 5, ".omni") == 0;
}

/* Appends a copy of path to the list. Returns 0 or -1. */
static int push_run(char ***runs, size_t *n, size_t *cap, const char *path) {
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        char **nr = realloc(*runs, nc * sizeof *nr);
        if (!nr)
            return -1;
        *runs = nr;
        *cap = nc;
    }
    if (!((*runs)[*n] = strdup(path)))
        return -1;
    (*n)++;
    return 0;
}

/* The sessions of folder dir that no other session of it started (the
 * runs; their children join them), in name order, appended to *runs. */
static int folder_roots(const char *dir, char ***runs, size_t *n, size_t *cap) {
    struct dirent **names;
    int k = scandir(dir, &names, is_session_name, alphasort);
    if (k < 0)
        return -1;
    node_t *v = calloc((size_t)k + 1, sizeof *v);
    int rc = v ? 0 : -1;
    for (int i = 0; i < k && rc == 0; i++) {
        snprintf(v[i].path, sizeof v[i].path, "%.3800s/%.255s", dir, names[i]->d_name);
        if (peek_ids(v[i].path, v[i].id, v[i].parent) < 0)
            v[i].in_tree = -1; /* not a session: left out */
    }
    for (int i = 0; i < k && rc == 0; i++) {
        if (v[i].in_tree < 0)
            continue;
        int started = 0;
        for (int j = 0; j < k && !started && v[i].parent[0]; j++)
            started = j != i && v[j].in_tree >= 0 && strcmp(v[j].id, v[i].parent) == 0;
        if (!started)
            rc = push_run(runs, n, cap, v[i].path);
    }
    for (int i = 0; i < k; i++)
        free(names[i]);
    free(names);
    free(v);
    return rc;
}

/* "/a/b/../c/./d" -> "/a/c/d", in place (a script run as ../x.py is named so). */
static void normalize_path(char *p) {
    if (p[0] != '/' || (!strstr(p, "/./") && !strstr(p, "/../")))
        return;
    char *out = p, *in = p;
    while (*in) {
        while (*in == '/')
            in++;
        char *end = strchr(in, '/');
        size_t len = end ? (size_t)(end - in) : strlen(in);
        if (len == 1 && in[0] == '.') {
        } else if (len == 2 && in[0] == '.' && in[1] == '.') {
            while (out > p && *--out != '/')
                ;
        } else if (len) {
            *out++ = '/';
            memmove(out, in, len);
            out += len;
        }
        in += len;
    }
    if (out == p)
        *out++ = '/';
    *out = 0;
}

/* A run joined to another: its code's paths made plain, and the files under
 * its working folder moved under the first run's (the same program run
 * from another folder, or on another host, is the same code). */
static void align_run(omni_session_t *run, const omni_session_t *first) {
    size_t nc = run->cwd ? strlen(run->cwd) : 0;
    for (size_t i = 0; i < run->n_codes; i++) {
        char *f = run->codes[i].file;
        if (!f)
            continue;
        normalize_path(f);
        if (!nc || !first->cwd || strcmp(run->cwd, first->cwd) == 0 ||
            strncmp(f, run->cwd, nc) != 0 || f[nc] != '/')
            continue;
        size_t len = strlen(first->cwd) + strlen(f + nc) + 1;
        char *moved = malloc(len);
        if (!moved)
            continue;
        snprintf(moved, len, "%s%s", first->cwd, f + nc);
        free(f);
        run->codes[i].file = moved;
    }
}

int omni_session_load_many(const char *const *paths, size_t n, omni_session_t *s, char *err,
                           size_t cap) {
    char **runs = NULL;
    size_t nr = 0, capr = 0;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        DIR *d = opendir(paths[i]);
        if (d) {
            closedir(d);
            size_t before = nr;
            if (folder_roots(paths[i], &runs, &nr, &capr) < 0) {
                snprintf(err, cap, "cannot read the folder %s", paths[i]);
                rc = -1;
            } else if (nr == before) {
                snprintf(err, cap, "no session (*.omni) in the folder %s", paths[i]);
                rc = -1;
            }
            continue;
        }
        if (push_run(&runs, &nr, &capr, paths[i]) < 0) {
            snprintf(err, cap, "out of memory");
            rc = -1;
        }
    }
    if (rc == 0 && !nr) {
        snprintf(err, cap, "no session named");
        rc = -1;
    }
    if (rc == 0 && omni_session_load_tree(runs[0], s, err, cap) < 0)
        rc = -1;
    if (rc == 0)
        align_run(s, s);
    for (size_t i = 1; i < nr && rc == 0; i++) {
        omni_session_t c;
        char cerr[512];
        if (omni_session_load_tree(runs[i], &c, cerr, sizeof cerr) < 0) {
            /* a run named on the command line must be there */
            snprintf(err, cap, "%s", cerr);
            omni_session_free(s);
            rc = -1;
            break;
        }
        align_run(&c, s);
        if (join(s, &c) < 0)
            warn(s, "a run's session was left out: %s: %s", runs[i], "out of memory");
        else
            s->n_roots++;
        omni_session_free(&c);
    }
    for (size_t i = 0; i < nr; i++)
        free(runs[i]);
    free(runs);
    return rc;
}

int omni_session_load_process(const char *path, int64_t pid, omni_session_t *s, char *err,
                              size_t cap) {
    node_t *nodes = NULL;
    int n = find_tree(path, &nodes);
    for (int i = 0; i < n; i++) {
        if (omni_session_load(nodes[i].path, s, err, cap) < 0)
            continue;
        if (s->pid == pid) {
            free(nodes);
            return 0;
        }
        omni_session_free(s);
    }
    free(nodes);
    snprintf(err, cap, "no process %lld in the tree of %s", (long long)pid, path);
    return -1;
}
