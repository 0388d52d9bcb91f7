/* analyse.c - --scan's per-file analysis (raw metrics, cyclomatic
 * complexity, Halstead, the maintainability index, the call graph's facts,
 * as one msgpack map a file) and the worker processes that do it: each takes
 * files one at a time and writes its results to a file of its own, which
 * the parent maps and indexes by file. */
#include "static/analyse.h"

#include "runtime/pyerr.h"
#include "runtime/session/pack.h"
#include "static/callgraph.h"
#include "static/cc.h"

#include <internal/pycore_parser.h>
#include <internal/pycore_pyarena.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_FILE_BYTES (64L << 20)

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
static void analyse(const char *root, const char *rel, int cc_rules, msgpack_packer *pk) {
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
    if (omni_raw_analyze(utf8, (size_t)tlen, OMNI_RAW_FLAGS_OF(PY_VERSION_HEX), &raw, &bad) < 0) {
        snprintf(why, sizeof why, "SyntaxError at line: %ld (the tokenizer found no end)", bad);
        pack_error(pk, rel, why);
        goto out;
    }
    if (omni_cc_visit(mod, cc_rules, &cc) < 0) {
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
static void worker(const char *root, const omni_paths_t *files, shared_t *sh, int fd,
                   int cc_rules) {
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    for (;;) {
        long i = __atomic_fetch_add(&sh->next, 1, __ATOMIC_RELAXED);
        if (i >= (long)files->n)
            break;
        msgpack_sbuffer_clear(&sb);
        analyse(root, files->v[i], cc_rules, &pk);
        uint32_t head[2] = {(uint32_t)i, (uint32_t)sb.size};
        if (write(fd, head, sizeof head) != (ssize_t)sizeof head ||
            write(fd, sb.data, sb.size) != (ssize_t)sb.size)
            _exit(4);
        __atomic_fetch_add(&sh->done, 1, __ATOMIC_RELAXED);
    }
    msgpack_sbuffer_destroy(&sb);
}

/* A temporary file's descriptor (the file already unlinked), or -1. */
static int temp_fd(void) {
    FILE *tf = tmpfile();
    int fd = tf ? dup(fileno(tf)) : -1;
    if (tf)
        fclose(tf);
    return fd;
}

int omni_analyse_files(const char *root, const omni_paths_t *files, int jobs, int cc_rules,
                       int progress, omni_analysis_t *a) {
    memset(a, 0, sizeof *a);
    a->jobs = jobs;
    shared_t *sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    a->fds = calloc((size_t)jobs, sizeof *a->fds);
    pid_t *pids = calloc((size_t)jobs, sizeof *pids);
    a->res = calloc(files->n + 1, sizeof *a->res);
    a->maps = calloc((size_t)jobs, sizeof *a->maps);
    a->lens = calloc((size_t)jobs, sizeof *a->lens);
    if (sh == MAP_FAILED || !a->fds || !pids || !a->res || !a->maps || !a->lens) {
        if (sh != MAP_FAILED)
            munmap(sh, sizeof *sh);
        free(pids);
        omni_analysis_free(a);
        return -1;
    }
    for (int k = 0; k < jobs; k++)
        a->fds[k] = -1;
    fflush(NULL);
    int started = 0;
    for (int k = 0; k < jobs; k++) {
        if ((a->fds[k] = temp_fd()) < 0)
            break;
        pid_t pid = fork();
        if (pid == 0) {
            worker(root, files, sh, a->fds[k], cc_rules);
            _exit(0);
        }
        if (pid < 0) {
            close(a->fds[k]);
            a->fds[k] = -1;
            break;
        }
        pids[k] = pid;
        started++;
    }
    if (!started) { /* no process to spare: this one does the work */
        a->fds[0] = temp_fd();
        if (a->fds[0] >= 0)
            worker(root, files, sh, a->fds[0], cc_rules);
        started = a->fds[0] >= 0;
    }
    a->processes = started;
    /* wait, with a progress line on a terminal */
    int tty = progress && isatty(STDERR_FILENO);
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
            fprintf(stderr, "\rscanning %s: %ld/%zu files", root,
                    __atomic_load_n(&sh->done, __ATOMIC_RELAXED), files->n);
        if (alive) {
            struct timespec ts = {0, 20 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    if (tty)
        fprintf(stderr, "\r\033[K");
    munmap(sh, sizeof *sh);
    free(pids);
    /* the results, by file index */
    for (int k = 0; k < jobs; k++) {
        struct stat fs;
        if (a->fds[k] < 0 || fstat(a->fds[k], &fs) != 0 || fs.st_size == 0)
            continue;
        a->lens[k] = (size_t)fs.st_size;
        a->maps[k] = mmap(NULL, a->lens[k], PROT_READ, MAP_PRIVATE, a->fds[k], 0);
        if (a->maps[k] == MAP_FAILED) {
            a->maps[k] = NULL;
            continue;
        }
        for (size_t off = 0; off + 8 <= a->lens[k];) {
            uint32_t head[2];
            memcpy(head, a->maps[k] + off, sizeof head);
            off += 8;
            if (head[0] >= files->n || off + head[1] > a->lens[k])
                break;
            a->res[head[0]] = (omni_file_result_t){a->maps[k] + off, head[1]};
            off += head[1];
        }
    }
    return 0;
}

void omni_analysis_free(omni_analysis_t *a) {
    for (int k = 0; a->maps && a->lens && k < a->jobs; k++)
        if (a->maps[k])
            munmap(a->maps[k], a->lens[k]);
    for (int k = 0; a->fds && k < a->jobs; k++)
        if (a->fds[k] >= 0)
            close(a->fds[k]);
    free(a->maps);
    free(a->lens);
    free(a->fds);
    free(a->res);
    memset(a, 0, sizeof *a);
}
