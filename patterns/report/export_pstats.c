/* export_pstats.c - Python's pstats file: marshal.dumps of the dict that
 * cProfile's create_stats() makes, {(file, line, name): (primitive calls,
 * calls, tottime, cumtime, {caller: (pc, nc, tt, ct)})}, from the frame
 * hook's exact counts and times (all threads and processes added up).
 * Loadable by pstats.Stats, snakeviz and gprof2dot. */
#include "patterns/report/export.h"

#include "patterns/report/report.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- marshal (version 2 objects) */

static void m_u32(FILE *f, uint32_t v) {
    unsigned char b[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 24)};
    fwrite(b, 1, 4, f);
}

/* An int: TYPE_INT for 32 bits, else TYPE_LONG in base-2^15 digits. */
static void m_int(FILE *f, uint64_t v) {
    if (v <= INT32_MAX) {
        fputc('i', f);
        m_u32(f, (uint32_t)v);
        return;
    }
    int n = 0;
    for (uint64_t x = v; x; x >>= 15)
        n++;
    fputc('l', f);
    m_u32(f, (uint32_t)n);
    for (int i = 0; i < n; i++, v >>= 15) {
        unsigned d = (unsigned)(v & 0x7fff);
        fputc((int)(d & 0xff), f);
        fputc((int)(d >> 8), f);
    }
}

static void m_float(FILE *f, double v) {
    fputc('g', f); /* TYPE_BINARY_FLOAT: 8 bytes, little-endian IEEE 754 */
    unsigned char b[8];
    memcpy(b, &v, 8);
    fwrite(b, 1, 8, f);
}

static void m_str(FILE *f, const char *s) {
    size_t n = strlen(s);
    fputc('u', f);
    m_u32(f, (uint32_t)n);
    fwrite(s, 1, n, f);
}

/* cProfile's key: (co_filename, co_firstlineno, co_name); our name is
 * co_qualname, whose last dotted part is co_name. */
static void m_key(FILE *f, const omni_scode_t *c) {
    const char *dot = strrchr(c->name, '.');
    const char *name = dot && dot[1] ? dot + 1 : c->name;
    fputc('(', f);
    m_u32(f, 3);
    m_str(f, c->file);
    m_int(f, (uint64_t)(c->line > 0 ? c->line : 0));
    m_str(f, name);
}

static void m_counts(FILE *f, uint64_t pc, uint64_t nc, double tt, double ct) {
    m_int(f, pc);
    m_int(f, nc);
    m_float(f, tt);
    m_float(f, ct);
}

static int by_callee(const void *x, const void *y) {
    const omni_etotal_t *a = *(omni_etotal_t *const *)x, *b = *(omni_etotal_t *const *)y;
    return a->callee < b->callee ? -1 : a->callee > b->callee;
}

int omni_export_pstats(const omni_session_t *s, FILE *f, char *err, size_t cap) {
    omni_profile_t p;
    if (omni_profile_build(s, &p) < 0) {
        snprintf(err, cap, "out of memory");
        return -1;
    }
    /* The callers of each function: edges grouped by callee. */
    const omni_etotal_t **by = malloc((p.n_edges + 1) * sizeof *by);
    if (!by) {
        omni_profile_free(&p);
        snprintf(err, cap, "out of memory");
        return -1;
    }
    for (size_t e = 0; e < p.n_edges; e++)
        by[e] = &p.edges[e];
    qsort(by, p.n_edges, sizeof *by, by_callee);
    fputc('{', f);
    for (size_t i = 0; i < p.n_funcs; i++) {
        const omni_ftotal_t *fn = &p.funcs[i];
        m_key(f, &s->codes[fn->code]);
        fputc('(', f);
        m_u32(f, 5);
        m_counts(f, fn->primitive_calls, fn->calls, fn->exclusive_s, fn->inclusive_s);
        fputc('{', f);
        size_t lo = 0, hi = p.n_edges; /* the first edge whose callee is fn */
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (by[mid]->callee < fn->code)
                lo = mid + 1;
            else
                hi = mid;
        }
        for (size_t e = lo; e < p.n_edges && by[e]->callee == fn->code; e++) {
            const omni_etotal_t *ed = by[e];
            m_key(f, &s->codes[ed->caller]);
            fputc('(', f);
            m_u32(f, 4);
            m_counts(f, ed->primitive_calls, ed->calls, ed->exclusive_s, ed->inclusive_s);
        }
        fputc('0', f); /* TYPE_NULL ends a dict */
    }
    fputc('0', f);
    free(by);
    omni_profile_free(&p);
    (void)err;
    return ferror(f) ? -1 : 0;
}
