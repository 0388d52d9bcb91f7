/* scan_run.c - --scan DIR --run "PYTHON ARGS": an entry point of the tree
 * run under omnipython (in DIR, with a time limit), and its profile joined
 * to the static metrics: each function's complexity next to its share of
 * the samples, and the findings of the knowledge base, complex_and_hot
 * among them. */
#include "static/scan_run.h"

#include "patterns/kb.h"
#include "patterns/match.h"
#include "patterns/report/report.h"
#include "runtime/session/mp_get.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Splits a command line on blanks, with '...' and "..." quoting. */
static int split_args(const char *s, char **out, int cap, char *buf, size_t bufcap) {
    int n = 0;
    size_t o = 0;
    while (*s) {
        while (*s == ' ' || *s == '\t')
            s++;
        if (!*s)
            break;
        if (n == cap || o >= bufcap)
            return -1;
        out[n++] = buf + o;
        while (*s && *s != ' ' && *s != '\t' && o + 1 < bufcap) {
            if (*s == '\'' || *s == '"') {
                char q = *s++;
                while (*s && *s != q && o + 1 < bufcap)
                    buf[o++] = *s++;
                if (*s == q)
                    s++;
            } else {
                buf[o++] = *s++;
            }
        }
        buf[o++] = 0;
    }
    out[n] = NULL;
    return n;
}

/* ---------------------------------------------------------------- the join */

typedef struct jblock {
    char path[512], qualname[512];
    int lineno, endline, complexity;
} jblock_t;

typedef struct jctx {
    jblock_t *b;
    size_t n;
    char root[PATH_MAX];
} jctx_t;

/* A code object's file relative to the tree (NULL when outside it). */
static const char *relative(const jctx_t *c, const char *file, char *buf, size_t cap) {
    if (file[0] != '/') {
        snprintf(buf, cap, "%s", file[0] == '.' && file[1] == '/' ? file + 2 : file);
        return buf;
    }
    char real[PATH_MAX];
    if (!realpath(file, real))
        snprintf(real, sizeof real, "%s", file);
    size_t n = strlen(c->root);
    if (strncmp(real, c->root, n) != 0 || real[n] != '/')
        return NULL;
    snprintf(buf, cap, "%s", real + n + 1);
    return buf;
}

/* The block of (file, qualname): radon's lines are the def's, a code
 * object's first line its first decorator's: the nearest block at or after
 * the code's line wins. */
static int lookup(const char *file, const char *qualname, int64_t line, void *ctx) {
    const jctx_t *c = ctx;
    char rel[PATH_MAX];
    if (!relative(c, file, rel, sizeof rel))
        return -1;
    const jblock_t *best = NULL;
    for (size_t i = 0; i < c->n; i++) {
        const jblock_t *b = &c->b[i];
        if (strcmp(b->path, rel) || strcmp(b->qualname, qualname))
            continue;
        if (!best || (b->lineno >= line && (best->lineno < line || b->lineno < best->lineno)))
            best = b;
    }
    return best ? best->complexity : -1;
}

static int collect_blocks(const omni_scan_results_t *r, jctx_t *c) {
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t cap = 0;
    int rc = 0;
    for (size_t i = 0; i < r->n && rc == 0; i++) {
        if (!r->data[i] || msgpack_unpack_next(&u, r->data[i], r->size[i], NULL) !=
                               MSGPACK_UNPACK_SUCCESS)
            continue;
        char path[512] = "";
        omni_mp_str(omni_mp_get(&u.data, "path"), path, sizeof path);
        const msgpack_object *bl = omni_mp_get(&u.data, "blocks");
        for (uint32_t k = 0; bl && bl->type == MSGPACK_OBJECT_ARRAY && k < bl->via.array.size;
             k++) {
            const msgpack_object *b = &bl->via.array.ptr[k];
            char type[16] = "", name[256] = "", cls[256] = "";
            omni_mp_str(omni_mp_get(b, "type"), type, sizeof type);
            if (!strcmp(type, "class"))
                continue;
            if (c->n == cap) {
                cap = cap ? 2 * cap : 256;
                jblock_t *nb = realloc(c->b, cap * sizeof *nb);
                if (!nb) {
                    rc = -1;
                    break;
                }
                c->b = nb;
            }
            jblock_t *j = &c->b[c->n++];
            omni_mp_str(omni_mp_get(b, "name"), name, sizeof name);
            omni_mp_str(omni_mp_get(b, "classname"), cls, sizeof cls);
            snprintf(j->path, sizeof j->path, "%s", path);
            snprintf(j->qualname, sizeof j->qualname, "%s%s%s", cls, *cls ? "." : "", name);
            double v = 0;
            omni_mp_num(omni_mp_get(b, "lineno"), &v);
            j->lineno = (int)v;
            omni_mp_num(omni_mp_get(b, "complexity"), &v);
            j->complexity = (int)v;
        }
    }
    msgpack_unpacked_destroy(&u);
    return rc;
}

/* ---------------------------------------------------------------- the run */

static int run_target(const omni_scan_run_options_t *o, const char *session, int *status,
                      char *err, size_t cap) {
    char *argv[256], buf[8192];
    int k = 0;
    char timeout[32];
    snprintf(timeout, sizeof timeout, "%g", o->timeout_s > 0 ? o->timeout_s : 600);
    argv[k++] = (char *)o->exe;
    argv[k++] = "--quiet";
    argv[k++] = "--timeout";
    argv[k++] = timeout;
    argv[k++] = "--out";
    argv[k++] = (char *)session;
    int n = split_args(o->args, argv + k, 256 - k - 1, buf, sizeof buf);
    if (n <= 0) {
        snprintf(err, cap, "--run needs Python's arguments, e.g. --run \"-m pytest -x\"");
        return -1;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, cap, "cannot start the run: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        /* the target's output goes to stderr: stdout is the scan's */
        dup2(STDERR_FILENO, STDOUT_FILENO);
        if (chdir(o->root) != 0)
            _exit(127);
        execv(o->exe, argv);
        _exit(127);
    }
    int ws;
    while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
        ;
    *status = WIFEXITED(ws) ? WEXITSTATUS(ws) : -WTERMSIG(ws);
    return 0;
}

typedef struct hot {
    const omni_entity_t *e;
    double score;
} hot_t;

static int hot_cmp(const void *x, const void *y) {
    const hot_t *a = x, *b = y;
    if (a->score != b->score)
        return a->score < b->score ? 1 : -1;
    int c = strcmp(a->e->file, b->e->file);
    return c ? c : (int)(a->e->line - b->e->line);
}

/* The run's caller -> callee pairs onto the static graph. */
static void mark_edges(const jctx_t *c, const omni_model_t *m, omni_cg_t *cg) {
    const omni_session_t *s = m->s;
    const omni_profile_t *p = &m->profile;
    for (size_t i = 0; cg && i < p->n_edges; i++) {
        const omni_scode_t *a = &s->codes[p->edges[i].caller], *b = &s->codes[p->edges[i].callee];
        char ra[PATH_MAX], rb[PATH_MAX];
        if (a->file && b->file && a->name && b->name && relative(c, a->file, ra, sizeof ra) &&
            relative(c, b->file, rb, sizeof rb))
            omni_cg_seen(cg, ra, a->name, rb, b->name, p->edges[i].calls);
    }
}

int omni_scan_run(const omni_scan_run_options_t *o, const omni_scan_results_t *results,
                  omni_cg_t *cg, omni_json_t *j, FILE *text, char *err, size_t cap) {
    char session[PATH_MAX + 64];
    snprintf(session, sizeof session, "%s/.omni", o->root);
    mkdir(session, 0755);
    snprintf(session, sizeof session, "%s/.omni/scan-run-%d.omni", o->root, (int)getpid());
    int status = 0;
    if (run_target(o, session, &status, err, cap) < 0)
        return -1;
    omni_session_t s;
    char lerr[512];
    if (omni_session_load_tree(session, &s, lerr, sizeof lerr) < 0) {
        snprintf(err, cap, "the run (exit status %d) left no session: %s", status, lerr);
        return -1;
    }
    jctx_t c = {0};
    if (!realpath(o->root, c.root))
        snprintf(c.root, sizeof c.root, "%s", o->root);
    omni_kb_t kb;
    omni_model_t model;
    omni_entities_t ents;
    omni_findings_t fs;
    int rc = -1;
    if (collect_blocks(results, &c) < 0) {
        snprintf(err, cap, "out of memory");
        goto out_session;
    }
    if (omni_kb_load(&kb, o->patterns_dir, lerr, sizeof lerr) < 0) {
        snprintf(err, cap, "%s", lerr);
        goto out_session;
    }
    if (omni_model_build(&s, &model) < 0) {
        snprintf(err, cap, "out of memory");
        goto out_kb;
    }
    if (omni_entities_build(&model, &ents) < 0) {
        snprintf(err, cap, "out of memory");
        goto out_model;
    }
    omni_entities_join_scan(&ents, lookup, &c);
    mark_edges(&c, &model, cg);
    if (omni_match(&kb, &ents, o->min_confidence >= 0 ? o->min_confidence : OMNI_DEFAULT_MIN_CONFIDENCE,
                   &fs) < 0) {
        snprintf(err, cap, "out of memory");
        goto out_ents;
    }
    /* the joined functions, complex and hot first */
    int cc_m = omni_metric_find(OMNI_LEVEL_FUNCTION, "complexity", 10);
    int share_m = omni_metric_find(OMNI_LEVEL_FUNCTION, "sample_share", 12);
    int excl_m = omni_metric_find(OMNI_LEVEL_FUNCTION, "exclusive_s", 11);
    int calls_m = omni_metric_find(OMNI_LEVEL_FUNCTION, "calls", 5);
    hot_t *hot = calloc(ents.n + 1, sizeof *hot);
    size_t nh = 0;
    for (size_t i = 0; hot && i < ents.n; i++) {
        const omni_entity_t *e = &ents.e[i];
        if (e->level != OMNI_LEVEL_FUNCTION || isnan(e->v[cc_m]))
            continue;
        double share = isnan(e->v[share_m]) ? 0 : e->v[share_m];
        hot[nh++] = (hot_t){e, e->v[cc_m] * share};
    }
    if (nh)
        qsort(hot, nh, sizeof *hot, hot_cmp);
    if (j) {
        omni_json_key(j, "run");
        omni_json_begin_object(j);
        omni_json_kv_str(j, "command", o->args);
        omni_json_kv_int(j, "exit_status", status);
        omni_json_kv_str(j, "session", session);
        omni_json_key(j, "functions");
        omni_json_begin_array(j);
        for (size_t i = 0; i < nh && i < 100; i++) {
            const omni_entity_t *e = hot[i].e;
            char rel[PATH_MAX];
            omni_json_begin_object(j);
            omni_json_kv_str(j, "path", relative(&c, e->file, rel, sizeof rel));
            omni_json_kv_str(j, "name", e->function);
            omni_json_kv_int(j, "line", e->line);
            omni_json_kv_num(j, "complexity", e->v[cc_m]);
            omni_json_kv_num(j, "sample_share", e->v[share_m]);
            omni_json_kv_num(j, "exclusive_s", e->v[excl_m]);
            omni_json_kv_num(j, "calls", e->v[calls_m]);
            omni_json_end_object(j);
        }
        omni_json_end_array(j);
        omni_findings_json(j, &fs);
        omni_json_end_object(j);
    }
    if (text) {
        fprintf(text, "\nThe run  %s  (exit status %d; session %s)\n", o->args, status, session);
        fprintf(text, "  complex and hot: cyclomatic complexity x share of the samples\n");
        for (size_t i = 0; i < nh && i < 15; i++) {
            const omni_entity_t *e = hot[i].e;
            char rel[PATH_MAX];
            fprintf(text, "  %4.0f cc  %5.1f%% of samples  %s  %s:%lld\n", e->v[cc_m],
                    100 * (isnan(e->v[share_m]) ? 0 : e->v[share_m]), e->function,
                    relative(&c, e->file, rel, sizeof rel), (long long)e->line);
        }
        if (!omni_findings_print(text, &s, &fs, 0))
            fprintf(text, "  no findings\n");
    }
    free(hot);
    rc = 0;
    omni_findings_free(&fs);
out_ents:
    omni_entities_free(&ents);
out_model:
    omni_model_free(&model);
out_kb:
    omni_kb_free(&kb);
out_session:
    free(c.b);
    omni_session_free(&s);
    return rc;
}
