/* scan_out.c - what --scan prints: the text summary (totals, the most
 * complex blocks, the least maintainable files, the entry points, the files
 * not analysed) and the JSON document (the files' records as they are, the
 * entry points, the run joined to the scan, the call graph). */
#include "static/scan_out.h"

#include "runtime/session/mp_get.h"
#include "static/cc.h"
#include "static/entry.h"

#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct top {
    size_t file;              /* the result it came from */
    const char *path, *name, *type, *classname;
    long lineno, complexity;
} top_t;

static int top_cmp(const void *x, const void *y) {
    const top_t *a = x, *b = y;
    if (a->complexity != b->complexity)
        return a->complexity < b->complexity ? 1 : -1;
    int c = strcmp(a->path, b->path);
    return c ? c : (int)(a->lineno - b->lineno);
}

static long mp_long(const msgpack_object *o, const char *key) {
    double v = 0;
    omni_mp_num(omni_mp_get(o, key), &v);
    return (long)v;
}

static const char *mp_cstr(const msgpack_object *o, const char *key, char *buf, size_t cap) {
    buf[0] = 0;
    omni_mp_str(omni_mp_get(o, key), buf, cap);
    return buf;
}

/* The tree's entry points: modules with a main guard, packages with a
 * __main__.py, and the scripts its packaging files declare. */
static void entry_points(const char *root, const omni_file_result_t *res, size_t n, omni_entries_t *x) {
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    for (size_t i = 0; i < n; i++) {
        if (!res[i].data ||
            msgpack_unpack_next(&u, res[i].data, res[i].size, NULL) != MSGPACK_UNPACK_SUCCESS)
            continue;
        char path[512] = "", src[600], how[600];
        omni_mp_str(omni_mp_get(&u.data, "path"), path, sizeof path);
        long guard = mp_long(&u.data, "main_guard");
        if (guard > 0) {
            snprintf(src, sizeof src, "%s:%ld", path, guard);
            snprintf(how, sizeof how, "python %s", path);
            omni_entries_add(x, "main", path, how, src);
        }
        const char *base = strrchr(path, '/');
        if (strcmp(base ? base + 1 : path, "__main__.py") == 0) {
            char pkg[512];
            snprintf(pkg, sizeof pkg, "%.*s", base ? (int)(base - path) : 0, path);
            for (char *c = pkg; *c; c++)
                if (*c == '/')
                    *c = '.';
            if (!pkg[0]) {
                const char *r = strrchr(root, '/');
                snprintf(pkg, sizeof pkg, "%s", r && r[1] ? r + 1 : root);
            }
            snprintf(how, sizeof how, "python -m %s", pkg);
            omni_entries_add(x, "package", pkg, how, path);
        }
    }
    msgpack_unpacked_destroy(&u);
    omni_entries_declared(root, x);
}

omni_scan_results_t omni_scan_results_of(const omni_file_result_t *res, size_t n, const char **data,
                                      uint32_t *size) {
    for (size_t i = 0; i < n; i++) {
        data[i] = res[i].data;
        size[i] = res[i].size;
    }
    return (omni_scan_results_t){data, size, n};
}

/* Whether a file's record says it could not be analysed. */
static int has_error(const msgpack_object *o) {
    const msgpack_object *e = omni_mp_get(o, "error");
    return e && e->type == MSGPACK_OBJECT_STR;
}

/* The files that could not be analysed. */
long omni_scan_count_errors(const omni_file_result_t *res, size_t n) {
    long errors = 0;
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    for (size_t i = 0; i < n; i++)
        errors += res[i].data &&
                  msgpack_unpack_next(&u, res[i].data, res[i].size, NULL) == MSGPACK_UNPACK_SUCCESS &&
                  has_error(&u.data);
    msgpack_unpacked_destroy(&u);
    return errors;
}

int omni_scan_write_text(FILE *f, const char *root, const omni_file_result_t *res, size_t n,
                         long errors, double secs, int jobs) {
    long files_ok = 0, loc = 0, sloc = 0, lloc = 0, comments = 0, nblocks = 0;
    double cc_sum = 0, mi_sum = 0;
    size_t ntop = 0, captop = 0;
    top_t *tops = NULL;
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    fprintf(f, "omnipython scan  %s\n", root);
    /* pass 1: totals, and the blocks */
    char (*names)[3][256] = NULL;
    for (size_t i = 0; i < n; i++) {
        if (!res[i].data || msgpack_unpack_next(&u, res[i].data, res[i].size, NULL) !=
                                MSGPACK_UNPACK_SUCCESS)
            continue;
        const msgpack_object *o = &u.data;
        if (has_error(o))
            continue;
        files_ok++;
        loc += mp_long(o, "loc"), sloc += mp_long(o, "sloc"), lloc += mp_long(o, "lloc");
        comments += mp_long(o, "comments");
        double mi = 0;
        omni_mp_num(omni_mp_get(o, "mi"), &mi);
        mi_sum += mi;
        const msgpack_object *bl = omni_mp_get(o, "blocks");
        for (uint32_t k = 0; bl && bl->type == MSGPACK_OBJECT_ARRAY && k < bl->via.array.size;
             k++) {
            const msgpack_object *b = &bl->via.array.ptr[k];
            long c = mp_long(b, "complexity");
            cc_sum += (double)c;
            nblocks++;
            if (ntop == captop) {
                captop = captop ? 2 * captop : 256;
                top_t *nt = realloc(tops, captop * sizeof *nt);
                char(*nn)[3][256] = realloc(names, captop * sizeof *nn);
                if (nt)
                    tops = nt;
                if (nn)
                    names = nn;
                if (!nt || !nn)
                    break;
            }
            top_t *t = &tops[ntop];
            t->path = "";
            t->lineno = mp_long(b, "lineno");
            t->complexity = c;
            mp_cstr(b, "name", names[ntop][0], 256);
            mp_cstr(b, "classname", names[ntop][1], 256);
            mp_cstr(b, "type", names[ntop][2], 256);
            t->name = names[ntop][0];
            t->classname = names[ntop][1];
            t->type = names[ntop][2];
            t->file = i;
            ntop++;
        }
    }
    fprintf(f, "  %zu files (%ld analysed, %ld with errors) in %.2f s on %d processes\n", n,
            files_ok, errors, secs, jobs);
    fprintf(f, "  %ld lines: %ld source, %ld logical, %ld comments\n", loc, sloc, lloc, comments);
    fprintf(f, "  %ld blocks (functions, methods, classes), average complexity %.2f (%c)\n",
            nblocks, nblocks ? cc_sum / (double)nblocks : 0,
            omni_cc_rank((long)(nblocks ? cc_sum / (double)nblocks + 0.5 : 0)));
    fprintf(f, "  maintainability index: average %.1f over the files\n",
            files_ok ? mi_sum / (double)files_ok : 0);
    /* the most complex blocks, with their file's path */
    char (*paths)[512] = ntop ? calloc(ntop, sizeof *paths) : NULL;
    for (size_t t = 0; paths && t < ntop; t++) {
        size_t fi = tops[t].file;
        if (msgpack_unpack_next(&u, res[fi].data, res[fi].size, NULL) == MSGPACK_UNPACK_SUCCESS)
            mp_cstr(&u.data, "path", paths[t], sizeof paths[t]);
        tops[t].path = paths[t];
    }
    if (paths && ntop) {
        qsort(tops, ntop, sizeof *tops, top_cmp);
        fprintf(f, "\nMost complex blocks  (cyclomatic complexity, radon's definition)\n");
        for (size_t t = 0; t < ntop && t < 25; t++)
            fprintf(f, "  %4ld %c  %-8s %s%s%s  %s:%ld\n", tops[t].complexity,
                    omni_cc_rank(tops[t].complexity), tops[t].type, tops[t].classname,
                    tops[t].classname[0] ? "." : "", tops[t].name, tops[t].path, tops[t].lineno);
    }
    free(paths);
    free(tops);
    free(names);
    /* the least maintainable files, and the errors */
    if (files_ok) {
        fprintf(f, "\nLeast maintainable files  (maintainability index, 0-100)\n");
        typedef struct mif {
            double mi;
            size_t i;
        } mif_t;
        mif_t *m = calloc((size_t)files_ok, sizeof *m);
        size_t k = 0;
        for (size_t i = 0; m && i < n; i++) {
            if (!res[i].data ||
                msgpack_unpack_next(&u, res[i].data, res[i].size, NULL) != MSGPACK_UNPACK_SUCCESS)
                continue;
            if (has_error(&u.data))
                continue;
            double mi = 0;
            omni_mp_num(omni_mp_get(&u.data, "mi"), &mi);
            if (k < (size_t)files_ok)
                m[k++] = (mif_t){mi, i};
        }
        for (size_t a = 1; m && a < k; a++) /* insertion sort by MI, lowest first */
            for (size_t b = a; b > 0 && m[b - 1].mi > m[b].mi; b--) {
                mif_t x = m[b];
                m[b] = m[b - 1];
                m[b - 1] = x;
            }
        for (size_t a = 0; m && a < k && a < 10; a++) {
            msgpack_unpack_next(&u, res[m[a].i].data, res[m[a].i].size, NULL);
            char p[512];
            fprintf(f, "  %6.2f %c  %s\n", m[a].mi, omni_mi_rank(m[a].mi),
                    mp_cstr(&u.data, "path", p, sizeof p));
        }
        free(m);
    }
    omni_entries_t ep = {0};
    entry_points(root, res, n, &ep);
    if (ep.n) {
        fprintf(f, "\nEntry points\n");
        for (size_t i = 0; i < ep.n; i++)
            fprintf(f, "  %-14s %-30s %s  (%s)\n", ep.e[i].kind, ep.e[i].name, ep.e[i].target,
                    ep.e[i].source);
    }
    omni_entries_free(&ep);
    if (errors) {
        fprintf(f, "\nFiles not analysed\n");
        for (size_t i = 0; i < n; i++) {
            if (!res[i].data ||
                msgpack_unpack_next(&u, res[i].data, res[i].size, NULL) != MSGPACK_UNPACK_SUCCESS)
                continue;
            if (!has_error(&u.data))
                continue;
            char p[512], e[600];
            fprintf(f, "  %s: %s\n", mp_cstr(&u.data, "path", p, sizeof p),
                    mp_cstr(&u.data, "error", e, sizeof e));
        }
    }
    msgpack_unpacked_destroy(&u);
    return ferror(f) ? -1 : 0;
}

int omni_scan_write_json(FILE *f, const char *root, const omni_file_result_t *res, size_t n,
                         long errors, double secs, int jobs, const omni_scan_run_options_t *run,
                         omni_cg_t *cg, char *err, size_t cap, int *run_failed) {
    omni_json_t j;
    omni_json_init(&j, f);
    omni_json_begin_object(&j);
    omni_json_kv_str(&j, "schema", "omnipython-scan");
    omni_json_kv_int(&j, "schema_version", 1);
    omni_json_kv_str(&j, "root", root);
    omni_json_kv_num(&j, "seconds", secs);
    omni_json_kv_int(&j, "processes", jobs);
    omni_json_key(&j, "files");
    omni_json_begin_array(&j);
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    for (size_t i = 0; i < n; i++)
        if (res[i].data &&
            msgpack_unpack_next(&u, res[i].data, res[i].size, NULL) == MSGPACK_UNPACK_SUCCESS)
            omni_json_msgpack(&j, &u.data);
    msgpack_unpacked_destroy(&u);
    omni_json_end_array(&j);
    omni_json_kv_int(&j, "errors", errors);
    omni_entries_t ep = {0};
    entry_points(root, res, n, &ep);
    omni_json_key(&j, "entry_points");
    omni_json_begin_array(&j);
    for (size_t i = 0; i < ep.n; i++) {
        omni_json_begin_object(&j);
        omni_json_kv_str(&j, "kind", ep.e[i].kind);
        omni_json_kv_str(&j, "name", ep.e[i].name);
        omni_json_kv_str(&j, "target", ep.e[i].target);
        omni_json_kv_str(&j, "source", ep.e[i].source);
        omni_json_end_object(&j);
    }
    omni_json_end_array(&j);
    omni_entries_free(&ep);
    if (run) {
        const char **data = calloc(n + 1, sizeof *data);
        uint32_t *size = calloc(n + 1, sizeof *size);
        omni_scan_results_t r = omni_scan_results_of(res, data && size ? n : 0, data, size);
        if (omni_scan_run(run, &r, cg, &j, NULL, err, cap) < 0)
            *run_failed = 1;
        free(data);
        free(size);
    }
    if (cg)
        omni_cg_json(cg, &j);
    omni_json_end_object(&j);
    fputc('\n', f);
    return ferror(f) ? -1 : 0;
}
