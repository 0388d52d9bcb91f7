/* scan.c - omnipython --scan DIR: every Python file below DIR analysed
 * without running it (raw metrics, cyclomatic complexity, Halstead, the
 * maintainability index, as radon 5.1 defines them), on every core: the
 * interpreter is started once (CPython's own parser reads the files), then
 * worker processes take files one at a time and write their results to
 * files of their own, which the parent reads back in path order. */
#include "static/scan.h"
#include "runtime/grow.h"

#include "patterns/report/json_out.h"
#include "patterns/report/report.h"
#include "runtime/embedded.h"
#include "runtime/session/mp_get.h"
#include "runtime/pyerr.h"
#include "runtime/session/writer.h"
#include "static/callgraph.h"
#include "static/cc.h"
#include "static/entry.h"
#include "static/scan_run.h"

#include <internal/pycore_parser.h>
#include <internal/pycore_pyarena.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <msgpack.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_FILE_BYTES (64L << 20)

extern const omni_embedded_file_t omni_scan_template[]; /* patterns/report/scan.html */
#define MAX_DEPTH 64

/* ---------------------------------------------------------------- discovery */

typedef struct list {
    char **v;
    size_t n, cap;
} list_t;

static int list_add(list_t *l, const char *s) {
    char **nv = omni_grow(l->v, &l->cap, l->n, sizeof *nv, 256);
    if (!nv)
        return -1;
    l->v = nv;
    if (!(l->v[l->n] = strdup(s)))
        return -1;
    l->n++;
    return 0;
}

static void list_free(list_t *l) {
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

/* Folders never scanned: version control, caches, virtual environments,
 * build output, dependencies. */
static const char *const skip_dirs[] = {".git", ".hg", ".svn", "__pycache__", "node_modules",
                                        ".tox", ".nox", ".eggs", ".mypy_cache", ".pytest_cache",
                                        ".ruff_cache", "build", "dist", "venv", ".venv", NULL};

typedef struct walk {
    const char *root;
    list_t ignore;          /* the root's .gitignore patterns */
    const omni_scan_options_t *opt;
    list_t files;           /* relative paths */
    dev_t dev[MAX_DEPTH];
    ino_t ino[MAX_DEPTH];
    int oom;
} walk_t;

static void read_gitignore(walk_t *w) {
    char path[4096];
    snprintf(path, sizeof path, "%s/.gitignore", w->root);
    FILE *f = fopen(path, "r");
    char line[1024];
    while (f && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        size_t n = strlen(line);
        while (n && (line[n - 1] == ' ' || line[n - 1] == '\t'))
            line[--n] = 0;
        if (!n || line[0] == '#' || line[0] == '!')
            continue; /* negations are not supported (documented) */
        if (list_add(&w->ignore, line) < 0)
            w->oom = 1;
    }
    if (f)
        fclose(f);
}

/* Whether rel (a/b/c.py; dir: a folder) is excluded by a .gitignore pattern
 * or --exclude glob. */
static int excluded(const walk_t *w, const char *rel, int dir) {
    const char *base = strrchr(rel, '/');
    base = base ? base + 1 : rel;
    for (size_t i = 0; i < w->ignore.n; i++) {
        char pat[1024];
        snprintf(pat, sizeof pat, "%s", w->ignore.v[i]);
        size_t n = strlen(pat);
        int dir_only = n > 1 && pat[n - 1] == '/';
        if (dir_only)
            pat[--n] = 0;
        if (dir_only && !dir)
            continue;
        const char *p = pat[0] == '/' ? pat + 1 : pat;
        int anchored = pat[0] == '/' || strchr(p, '/') != NULL;
        if (anchored ? fnmatch(p, rel, FNM_PATHNAME) == 0 : fnmatch(p, base, 0) == 0)
            return 1;
    }
    for (size_t i = 0; i < w->opt->n_exclude; i++) {
        const char *g = w->opt->exclude[i];
        if (fnmatch(g, rel, 0) == 0 || fnmatch(g, base, 0) == 0)
            return 1;
    }
    return 0;
}

static int by_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void walk_dir(walk_t *w, const char *rel, int depth) {
    char path[4096];
    snprintf(path, sizeof path, "%s%s%s", w->root, *rel ? "/" : "", rel);
    struct stat st;
    if (depth >= MAX_DEPTH || stat(path, &st) != 0)
        return;
    for (int i = 0; i < depth; i++)
        if (w->dev[i] == st.st_dev && w->ino[i] == st.st_ino)
            return; /* a link back up: a loop */
    w->dev[depth] = st.st_dev;
    w->ino[depth] = st.st_ino;
    char probe[4200];
    snprintf(probe, sizeof probe, "%s/pyvenv.cfg", path);
    if (depth > 0 && access(probe, F_OK) == 0)
        return; /* a virtual environment */
    DIR *d = opendir(path);
    if (!d) {
        /* unreadable: reported as a file with an error */
        if (list_add(&w->files, *rel ? rel : ".") < 0)
            w->oom = 1;
        return;
    }
    list_t names = {0};
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && list_add(&names, e->d_name) < 0)
            w->oom = 1;
    closedir(d);
    if (names.n)
        qsort(names.v, names.n, sizeof *names.v, by_str);
    for (size_t i = 0; i < names.n && !w->oom; i++) {
        const char *name = names.v[i];
        char child[4096], full[4200];
        snprintf(child, sizeof child, "%s%s%s", rel, *rel ? "/" : "", name);
        snprintf(full, sizeof full, "%s/%s", w->root, child);
        struct stat cs;
        if (lstat(full, &cs) != 0)
            continue;
        int is_dir = S_ISDIR(cs.st_mode);
        if (S_ISLNK(cs.st_mode)) {
            struct stat ts;
            if (stat(full, &ts) != 0)
                continue; /* a dangling link */
            is_dir = S_ISDIR(ts.st_mode);
            cs = ts;
        }
        if (is_dir) {
            int skip = 0;
            for (int k = 0; skip_dirs[k] && !skip; k++)
                skip = strcmp(name, skip_dirs[k]) == 0;
            size_t nl = strlen(name);
            skip |= nl > 9 && strcmp(name + nl - 9, ".egg-info") == 0;
            if (!skip && !excluded(w, child, 1))
                walk_dir(w, child, depth + 1);
            continue;
        }
        size_t nl = strlen(name);
        if (S_ISREG(cs.st_mode) && nl > 3 && strcmp(name + nl - 3, ".py") == 0 &&
            !excluded(w, child, 0) && list_add(&w->files, child) < 0)
            w->oom = 1;
    }
    list_free(&names);
}

/* ---------------------------------------------------------------- one file */

/* The file's text as UTF-8 (PEP 263: a BOM, or a coding cookie in its
 * first two lines; UTF-8 otherwise). Returns a new PyObject str or NULL
 * with *why set. */
static PyObject *decode(const char *buf, size_t len, char *why, size_t cap) {
    const char *p = buf;
    size_t n = len;
    if (n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3, n -= 3;
    char enc[64] = "utf-8";
    const char *line = p;
    for (int l = 0; l < 2 && line < p + n; l++) {
        const char *eol = memchr(line, '\n', (size_t)(p + n - line));
        size_t ll = eol ? (size_t)(eol - line) : (size_t)(p + n - line);
        const char *q = line;
        while (q < line + ll && (*q == ' ' || *q == '\t' || *q == '\f'))
            q++;
        if (q < line + ll && *q == '#') {
            const char *c = q;
            for (; c + 6 <= line + ll; c++)
                if (memcmp(c, "coding", 6) == 0 && c + 6 < line + ll && (c[6] == ':' || c[6] == '=')) {
                    const char *v = c + 7;
                    while (v < line + ll && (*v == ' ' || *v == '\t'))
                        v++;
                    size_t k = 0;
                    while (v + k < line + ll && k + 1 < sizeof enc &&
                           (isalnum((unsigned char)v[k]) || v[k] == '-' || v[k] == '_' || v[k] == '.'))
                        k++;
                    if (k) {
                        memcpy(enc, v, k);
                        enc[k] = 0;
                    }
                    break;
                }
            if (strcmp(enc, "utf-8"))
                break;
        } else if (q < line + ll) {
            break; /* a cookie only on a comment line, before any code */
        }
        if (!eol)
            break;
        line = eol + 1;
    }
    PyObject *s = PyUnicode_Decode(p, (Py_ssize_t)n, enc, "strict");
    if (!s) {
        char prefix[96];
        snprintf(prefix, sizeof prefix, "cannot decode as %s: ", enc);
        omni_pyerr_take(why, cap, prefix, 0, "?");
    }
    return s;
}

static void pack_halstead(msgpack_packer *pk, const omni_halstead_t *h) {
    msgpack_pack_map(pk, 12);
    omni_pack_kv_i64(pk, "h1", h->h1);
    omni_pack_kv_i64(pk, "h2", h->h2);
    omni_pack_kv_i64(pk, "N1", h->N1);
    omni_pack_kv_i64(pk, "N2", h->N2);
    omni_pack_kv_i64(pk, "vocabulary", h->vocabulary);
    omni_pack_kv_i64(pk, "length", h->length);
    omni_pack_kv_f64(pk, "calculated_length", h->calculated_length);
    omni_pack_kv_f64(pk, "volume", h->volume);
    omni_pack_kv_f64(pk, "difficulty", h->difficulty);
    omni_pack_kv_f64(pk, "effort", h->effort);
    omni_pack_kv_f64(pk, "time", h->time);
    omni_pack_kv_f64(pk, "bugs", h->bugs);
}

static int is_str(expr_ty e, const char *s) {
    if (e->kind == Name_kind)
        return PyUnicode_CompareWithASCIIString(e->v.Name.id, s) == 0;
    if (e->kind == Constant_kind && PyUnicode_Check(e->v.Constant.value))
        return PyUnicode_CompareWithASCIIString(e->v.Constant.value, s) == 0;
    return 0;
}

/* The line of a module-level `if __name__ == "__main__":`, or 0. */
static int main_guard(mod_ty mod) {
    if (mod->kind != Module_kind)
        return 0;
    asdl_stmt_seq *body = mod->v.Module.body;
    for (Py_ssize_t i = 0; i < asdl_seq_LEN(body); i++) {
        stmt_ty s = asdl_seq_GET(body, i);
        if (s->kind != If_kind || s->v.If.test->kind != Compare_kind)
            continue;
        expr_ty t = s->v.If.test;
        if (asdl_seq_LEN(t->v.Compare.ops) != 1 || asdl_seq_GET(t->v.Compare.ops, 0) != Eq)
            continue;
        expr_ty a = t->v.Compare.left, b = asdl_seq_GET(t->v.Compare.comparators, 0);
        if ((a->kind == Name_kind && is_str(a, "__name__") && b->kind == Constant_kind &&
             is_str(b, "__main__")) ||
            (b->kind == Name_kind && is_str(b, "__name__") && a->kind == Constant_kind &&
             is_str(a, "__main__")))
            return s->lineno;
    }
    return 0;
}

static int by_complexity(const void *x, const void *y) {
    const omni_block_t *a = x, *b = y;
    if (a->complexity != b->complexity)
        return a->complexity < b->complexity ? 1 : -1;
    return a->lineno - b->lineno;
}

/* Packs {path, error} for a file that could not be analysed. */
static void pack_error(msgpack_packer *pk, const char *rel, const char *why) {
    msgpack_pack_map(pk, 2);
    omni_pack_kv_str(pk, "path", rel);
    omni_pack_kv_str(pk, "error", why);
}

/* Analyses one file into pk. */
static void analyse(const char *root, const char *rel, int no_assert, msgpack_packer *pk) {
    char path[4200], why[512];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(why, sizeof why, "cannot read: %s", strerror(errno));
        if (fd >= 0)
            close(fd);
        pack_error(pk, rel, why);
        return;
    }
    if (!S_ISREG(st.st_mode) || st.st_size > MAX_FILE_BYTES) {
        close(fd);
        pack_error(pk, rel, S_ISREG(st.st_mode) ? "larger than 64 MiB" : "not a file");
        return;
    }
    char *buf = malloc((size_t)st.st_size + 1);
    ssize_t got = 0, k;
    while (buf && got < st.st_size && (k = read(fd, buf + got, (size_t)(st.st_size - got))) > 0)
        got += k;
    close(fd);
    if (!buf || got != st.st_size) {
        free(buf);
        pack_error(pk, rel, buf ? "cannot read the whole file" : "out of memory");
        return;
    }
    buf[got] = 0;
    if (memchr(buf, 0, (size_t)got)) {
        free(buf);
        pack_error(pk, rel, "binary content (a NUL byte)");
        return;
    }
    PyObject *text = decode(buf, (size_t)got, why, sizeof why);
    Py_ssize_t tlen = 0;
    const char *utf8 = text ? PyUnicode_AsUTF8AndSize(text, &tlen) : NULL;
    if (!utf8) {
        free(buf);
        Py_XDECREF(text);
        PyErr_Clear();
        pack_error(pk, rel, why);
        return;
    }
    /* CPython's parser, on the bytes (it honours the cookie itself) */
    PyArena *arena = _PyArena_New();
    PyObject *fname = PyUnicode_DecodeFSDefault(path);
    PyCompilerFlags flags = _PyCompilerFlags_INIT;
#ifdef OMNI_NO_PARSER
    mod_ty mod = NULL; /* omni_scan refuses before any file is read */
    (void)flags;
#else
    mod_ty mod = arena && fname ? _PyParser_ASTFromString(buf, fname, Py_file_input, &flags, arena)
                                : NULL;
#endif
    free(buf);
    if (!mod) {
        omni_pyerr_take(why, sizeof why, "", 1, "cannot parse");
        pack_error(pk, rel, why);
        goto out;
    }
    omni_raw_t raw;
    long bad = 0;
    omni_cc_t cc;
    omni_hal_t hal;
    if (omni_raw_analyze(utf8, (size_t)tlen, &raw, &bad) < 0) {
        snprintf(why, sizeof why, "SyntaxError at line: %ld (the tokenizer found no end)", bad);
        pack_error(pk, rel, why);
        goto out;
    }
    if (omni_cc_visit(mod, no_assert, &cc) < 0) {
        pack_error(pk, rel, "out of memory");
        goto out;
    }
    if (omni_hal_visit(mod, &hal) < 0) {
        omni_cc_free(&cc);
        pack_error(pk, rel, "out of memory");
        goto out;
    }
    /* radon's mi_visit with multi-line strings counted as comments */
    double comments = raw.sloc ? (double)(raw.comments + raw.multi) / (double)raw.sloc * 100 : 0;
    double mi = omni_mi_compute(hal.total.volume, cc.total_complexity, raw.lloc, comments);
    msgpack_pack_map(pk, 17);
    omni_pack_kv_str(pk, "path", rel);
    omni_pack_kv_str(pk, "error", NULL);
    omni_pack_kv_i64(pk, "loc", raw.loc);
    omni_pack_kv_i64(pk, "lloc", raw.lloc);
    omni_pack_kv_i64(pk, "sloc", raw.sloc);
    omni_pack_kv_i64(pk, "comments", raw.comments);
    omni_pack_kv_i64(pk, "multi", raw.multi);
    omni_pack_kv_i64(pk, "blank", raw.blank);
    omni_pack_kv_i64(pk, "single_comments", raw.single_comments);
    omni_pack_kv_f64(pk, "mi", mi);
    char rank[2] = {omni_mi_rank(mi), 0};
    omni_pack_kv_str(pk, "mi_rank", rank);
    omni_pack_kv_i64(pk, "total_complexity", cc.total_complexity);
    omni_pack_kv_i64(pk, "main_guard", main_guard(mod)); /* its line, 0 when none */
    omni_pack_str(pk, "callgraph");
    omni_cg_facts(mod, pk);
    omni_pack_str(pk, "halstead");
    pack_halstead(pk, &hal.total);
    omni_pack_str(pk, "halstead_functions");
    msgpack_pack_array(pk, (uint32_t)hal.n);
    for (size_t i = 0; i < hal.n; i++) {
        msgpack_pack_map(pk, 3);
        omni_pack_kv_str(pk, "name", hal.fns[i].name);
        omni_pack_kv_i64(pk, "lineno", hal.fns[i].lineno);
        omni_pack_str(pk, "halstead");
        pack_halstead(pk, &hal.fns[i].h);
    }
    /* radon cc's order: the most complex first (stable) */
    if (cc.n)
        qsort(cc.blocks, cc.n, sizeof *cc.blocks, by_complexity);
    omni_pack_str(pk, "blocks");
    msgpack_pack_array(pk, (uint32_t)cc.n);
    for (size_t i = 0; i < cc.n; i++) {
        const omni_block_t *b = &cc.blocks[i];
        msgpack_pack_map(pk, 8);
        omni_pack_kv_str(pk, "type", b->type == 'C' ? "class" : b->type == 'M' ? "method" : "function");
        omni_pack_kv_str(pk, "name", b->name);
        omni_pack_kv_str(pk, "classname", b->classname);
        omni_pack_kv_i64(pk, "lineno", b->lineno);
        omni_pack_kv_i64(pk, "col_offset", b->col_offset);
        omni_pack_kv_i64(pk, "endline", b->endline);
        omni_pack_kv_i64(pk, "complexity", b->complexity);
        char r[2] = {omni_cc_rank(b->complexity), 0};
        omni_pack_kv_str(pk, "rank", r);
    }
    omni_cc_free(&cc);
    omni_hal_free(&hal);
out:
    if (arena)
        _PyArena_Free(arena);
    Py_XDECREF(fname);
    Py_XDECREF(text);
}

/* ---------------------------------------------------------------- workers */

typedef struct shared {
    long next;      /* the next file to take */
    long done;      /* files finished */
} shared_t;

/* A worker: takes files until none is left, writing [u32 index, u32 size,
 * msgpack] for each to fd. */
static void worker(const walk_t *w, shared_t *sh, int fd, int no_assert) {
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    for (;;) {
        long i = __atomic_fetch_add(&sh->next, 1, __ATOMIC_RELAXED);
        if (i >= (long)w->files.n)
            break;
        msgpack_sbuffer_clear(&sb);
        analyse(w->root, w->files.v[i], no_assert, &pk);
        uint32_t head[2] = {(uint32_t)i, (uint32_t)sb.size};
        if (write(fd, head, sizeof head) != (ssize_t)sizeof head ||
            write(fd, sb.data, sb.size) != (ssize_t)sb.size)
            _exit(4);
        __atomic_fetch_add(&sh->done, 1, __ATOMIC_RELAXED);
    }
    msgpack_sbuffer_destroy(&sb);
}

/* ---------------------------------------------------------------- output */

typedef struct result {
    const char *data;   /* into the workers' mapped files */
    uint32_t size;
} result_t;

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
static void entry_points(const char *root, const result_t *res, size_t n, omni_entries_t *x) {
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

static omni_scan_results_t results_of(const result_t *res, size_t n, const char **data,
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
static long count_errors(const result_t *res, size_t n) {
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

static int write_text(FILE *f, const char *root, const result_t *res, size_t n, long errors,
                      double secs, int jobs) {
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

static int write_json(FILE *f, const char *root, const result_t *res, size_t n, long errors,
                      double secs, int jobs, const omni_scan_run_options_t *run, omni_cg_t *cg, char *err,
                      size_t cap, int *run_failed) {
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
        omni_scan_results_t r = results_of(res, data && size ? n : 0, data, size);
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

/* ---------------------------------------------------------------- the command */

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int omni_scan(const omni_scan_options_t *opt, FILE *out, char *err, size_t errcap) {
#ifdef OMNI_NO_PARSER
    snprintf(err, errcap, "--scan is unavailable in this build: it links a shared libpython "
                          "that keeps CPython's parser internal (build against libpython%d.%d.a)",
             PY_MAJOR_VERSION, PY_MINOR_VERSION);
    return OMNI_SCAN_UNAVAILABLE;
#endif
    double t0 = now_s();
    struct stat st;
    if (stat(opt->root, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errcap, "%s: %s", opt->root, errno ? strerror(errno) : "not a folder");
        return OMNI_SCAN_BADDIR;
    }
    walk_t w = {.root = opt->root, .opt = opt};
    read_gitignore(&w);
    walk_dir(&w, "", 0);
    if (w.oom) {
        snprintf(err, errcap, "out of memory listing %s", opt->root);
        list_free(&w.files);
        list_free(&w.ignore);
        return OMNI_SCAN_BADDIR;
    }
    int jobs = opt->jobs > 0 ? opt->jobs : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (jobs < 1)
        jobs = 1;
    if ((size_t)jobs > w.files.n)
        jobs = w.files.n ? (int)w.files.n : 1;
    shared_t *sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    int *fds = calloc((size_t)jobs, sizeof *fds);
    pid_t *pids = calloc((size_t)jobs, sizeof *pids);
    result_t *res = calloc(w.files.n + 1, sizeof *res);
    int rc = 0;
    if (sh == MAP_FAILED || !fds || !pids || !res) {
        snprintf(err, errcap, "out of memory");
        rc = OMNI_SCAN_BADDIR;
        goto done;
    }
    fflush(NULL);
    int started = 0;
    for (int k = 0; k < jobs; k++) {
        FILE *tf = tmpfile();
        fds[k] = tf ? dup(fileno(tf)) : -1;
        if (tf)
            fclose(tf);
        if (fds[k] < 0)
            break;
        pid_t pid = fork();
        if (pid == 0) {
            worker(&w, sh, fds[k], opt->no_assert);
            _exit(0);
        }
        if (pid < 0) {
            close(fds[k]);
            fds[k] = -1;
            break;
        }
        pids[k] = pid;
        started++;
    }
    if (!started) { /* no process to spare: this one does the work */
        FILE *tf = tmpfile();
        fds[0] = tf ? dup(fileno(tf)) : -1;
        if (tf)
            fclose(tf);
        if (fds[0] >= 0)
            worker(&w, sh, fds[0], opt->no_assert);
        started = fds[0] >= 0;
    }
    /* wait, with a progress line on a terminal */
    int tty = opt->progress && isatty(STDERR_FILENO);
    for (int alive = 1; alive;) {
        alive = 0;
        for (int k = 0; k < jobs; k++) {
            if (pids[k] <= 0)
                continue;
            int ws;
            pid_t r = waitpid(pids[k], &ws, WNOHANG);
            if (r == pids[k] || (r < 0 && errno != EINTR))
                pids[k] = 0;
            else
                alive = 1;
        }
        if (tty)
            fprintf(stderr, "\rscanning %s: %ld/%zu files", opt->root,
                    __atomic_load_n(&sh->done, __ATOMIC_RELAXED), w.files.n);
        if (alive) {
            struct timespec ts = {0, 20 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    if (tty)
        fprintf(stderr, "\r\033[K");
    /* the results, by file index */
    char **maps = calloc((size_t)jobs, sizeof *maps);
    size_t *lens = calloc((size_t)jobs, sizeof *lens);
    for (int k = 0; maps && lens && k < jobs; k++) {
        struct stat fs;
        if (fds[k] < 0 || fstat(fds[k], &fs) != 0 || fs.st_size == 0)
            continue;
        lens[k] = (size_t)fs.st_size;
        maps[k] = mmap(NULL, lens[k], PROT_READ, MAP_PRIVATE, fds[k], 0);
        if (maps[k] == MAP_FAILED) {
            maps[k] = NULL;
            continue;
        }
        for (size_t off = 0; off + 8 <= lens[k];) {
            uint32_t head[2];
            memcpy(head, maps[k] + off, sizeof head);
            off += 8;
            if (head[0] >= w.files.n || off + head[1] > lens[k])
                break;
            res[head[0]] = (result_t){maps[k] + off, head[1]};
            off += head[1];
        }
    }
    size_t missing = 0;
    for (size_t i = 0; i < w.files.n; i++)
        missing += !res[i].data;
    long errors = count_errors(res, w.files.n);
    double secs = now_s() - t0;
    omni_scan_run_options_t ro = {opt->root, opt->run_args, "/proc/self/exe", opt->run_timeout_s,
                                  opt->patterns_dir};
    int run_failed = 0;
    /* the call graph over all the files */
    const char **cgd = calloc(w.files.n + 1, sizeof *cgd);
    uint32_t *cgs = calloc(w.files.n + 1, sizeof *cgs);
    omni_cg_t *cg = NULL;
    if (cgd && cgs) {
        omni_scan_results_t r = results_of(res, w.files.n, cgd, cgs);
        cg = omni_cg_build(r.data, r.size, r.n);
    }
    int wr;
    if (opt->html) {
        /* the JSON document, drawn by the page */
        char *buf = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&buf, &len);
        wr = m ? write_json(m, opt->root, res, w.files.n, errors, secs, started,
                            opt->run_args ? &ro : NULL, cg, err, errcap, &run_failed)
               : -1;
        if (m && fclose(m) != 0)
            wr = -1;
        if (wr == 0)
            wr = omni_html_fill(out, omni_scan_template[0].text, buf, len);
        free(buf);
    } else if (opt->json) {
        wr = write_json(out, opt->root, res, w.files.n, errors, secs, started,
                        opt->run_args ? &ro : NULL, cg, err, errcap, &run_failed);
    } else {
        wr = write_text(out, opt->root, res, w.files.n, errors, secs, started);
    }
    if (!opt->json && !opt->html && wr == 0 && cg) {
        size_t nn, ne;
        uint64_t calls, resolved;
        omni_cg_totals(cg, &nn, &ne, &calls, &resolved);
        fprintf(out, "\nCall graph  %zu functions, methods and classes; %zu edges; %llu call "
                     "sites, %llu resolved in the tree\n", nn, ne, (unsigned long long)calls,
                (unsigned long long)resolved);
    }
    if (!opt->json && !opt->html && opt->run_args && wr == 0) {
        omni_scan_results_t r = results_of(res, cgd && cgs ? w.files.n : 0, cgd, cgs);
        if (omni_scan_run(&ro, &r, cg, NULL, out, err, errcap) < 0)
            run_failed = 1;
    }
    if (opt->dot_path && cg) {
        FILE *d = fopen(opt->dot_path, "w");
        if (!d || omni_cg_dot(cg, d) < 0 || fclose(d) != 0) {
            snprintf(err, errcap, "cannot write %s", opt->dot_path);
            wr = -1;
        }
    }
    omni_cg_free(cg);
    free(cgd);
    free(cgs);
    for (int k = 0; maps && lens && k < jobs; k++)
        if (maps[k])
            munmap(maps[k], lens[k]);
    free(maps);
    free(lens);
    if (wr < 0) {
        snprintf(err, errcap, "cannot write the output");
        rc = OMNI_SCAN_OUTPUT;
    } else if (run_failed) {
        rc = OMNI_SCAN_RUN_FAILED;
    } else if (missing) {
        snprintf(err, errcap, "%zu files were not analysed (a worker process failed)", missing);
        rc = OMNI_SCAN_FILE_ERRORS;
    } else if (errors) {
        rc = OMNI_SCAN_FILE_ERRORS;
    }
done:
    for (int k = 0; fds && k < jobs; k++)
        if (fds[k] > 0)
            close(fds[k]);
    if (sh != MAP_FAILED)
        munmap(sh, sizeof *sh);
    free(fds);
    free(pids);
    free(res);
    list_free(&w.files);
    list_free(&w.ignore);
    return rc;
}
