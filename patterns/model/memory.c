/* memory.c - what the allocation accounting says per site: bytes and
 * allocations (estimated from the samples), bytes alive when the program
 * ended and at the peak, and leak candidates: sites whose sampled blocks
 * alive at the end were allocated steadily across the run (not at import
 * time), with the growth rate fitted to them. */
#include "patterns/model/analysis.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int site_cmp(const void *x, const void *y) {
    const omni_mem_site_t *a = x, *b = y;
    if (a->code != b->code)
        return a->code < b->code ? -1 : 1;
    if (a->line != b->line)
        return a->line < b->line ? -1 : 1;
    return a->native - b->native;
}

static int by_alloc(const void *x, const void *y) {
    const omni_mem_site_t *a = x, *b = y;
    if (a->alloc_bytes != b->alloc_bytes)
        return a->alloc_bytes < b->alloc_bytes ? 1 : -1;
    return site_cmp(x, y);
}

static int by_leak(const void *x, const void *y) {
    const omni_mem_leak_t *a = x, *b = y;
    double sa = a->live_bytes * a->confidence, sb = b->live_bytes * b->confidence;
    if (sa != sb)
        return sa < sb ? 1 : -1;
    return a->code < b->code ? -1 : a->code > b->code;
}

/* Whether node's stack passes through importlib (module-level code run by
 * an import: caches made once, not growth). */
static int under_import(const omni_session_t *s, int64_t node) {
    for (int depth = 0; node >= 0 && depth < 256; depth++, node = s->mem_nodes[node].parent) {
        int64_t c = s->mem_nodes[node].code;
        if (c >= 0 && s->codes[c].file && !strncmp(s->codes[c].file, "<frozen importlib", 17))
            return 1;
    }
    return 0;
}

typedef struct pt {
    double t, bytes;
} pt_t;

static int by_t(const void *x, const void *y) {
    const pt_t *a = x, *b = y;
    return a->t < b->t ? -1 : a->t > b->t;
}

/* A site's survivors as a leak candidate, or 0. */
static int leak_of(const omni_session_t *s, pt_t *p, size_t n, double live, omni_mem_leak_t *out) {
    double run = s->mem_exit_s > 0 ? s->mem_exit_s : s->mem_wall_s;
    if (n < 3 || live < (1 << 20) || run <= 0)
        return 0;
    qsort(p, n, sizeof *p, by_t);
    double span = p[n - 1].t - p[0].t, late = 0, total = 0;
    for (size_t i = 0; i < n; i++) {
        total += p[i].bytes;
        late += p[i].t > 0.1 * run ? p[i].bytes : 0;
    }
    if (span < 0.3 * run || late < 0.5 * total)
        return 0;
    /* cumulative bytes against time: the slope is the growth, R^2 how
     * steady it was */
    double sx = 0, sy = 0, sxx = 0, sxy = 0, syy = 0, cum = 0;
    for (size_t i = 0; i < n; i++) {
        cum += p[i].bytes;
        sx += p[i].t, sy += cum, sxx += p[i].t * p[i].t, sxy += p[i].t * cum, syy += cum * cum;
    }
    double dn = (double)n, vx = sxx - sx * sx / dn, vy = syy - sy * sy / dn, cxy = sxy - sx * sy / dn;
    if (vx <= 0)
        return 0;
    double slope = cxy / vx, r2 = vy > 0 ? cxy * cxy / (vx * vy) : 0;
    if (slope <= 0)
        return 0;
    out->live_bytes = live;
    out->growth_bytes_per_s = slope;
    out->survivors = n;
    out->first_s = p[0].t;
    out->last_s = p[n - 1].t;
    out->confidence = round((0.3 + 0.35 * (1 - exp(-dn / 10)) + 0.3 * r2) * 1000) / 1000;
    return 1;
}

int omni_memory_build(const omni_session_t *s, omni_memory_t *out) {
    memset(out, 0, sizeof *out);
    if (!s->has_memory || !s->memory_available)
        return 0;
    size_t n = s->n_mem_nodes;
    out->sites = calloc(n + 1, sizeof *out->sites);
    int64_t *site_of = malloc((n + 1) * sizeof *site_of);
    if (!out->sites || !site_of) {
        free(site_of);
        omni_memory_free(out);
        return -1;
    }
    /* sites: the innermost frames (code, line) of the sampled stacks */
    for (size_t i = 0; i < n; i++) {
        const omni_smemnode_t *m = &s->mem_nodes[i];
        site_of[i] = -1;
        if (m->alloc_bytes <= 0 && m->exit_live_bytes <= 0)
            continue;
        out->sites[out->n_sites++] = (omni_mem_site_t){m->code, m->line, m->native,
                                                       m->alloc_bytes, m->allocs,
                                                       m->exit_live_bytes, m->peak_live_bytes,
                                                       NULL};
    }
    if (out->n_sites)
        qsort(out->sites, out->n_sites, sizeof *out->sites, site_cmp);
    size_t k = 0;
    for (size_t i = 0; i < out->n_sites; i++) {
        if (k && !site_cmp(&out->sites[k - 1], &out->sites[i])) {
            omni_mem_site_t *d = &out->sites[k - 1];
            d->alloc_bytes += out->sites[i].alloc_bytes;
            d->allocs += out->sites[i].allocs;
            d->live_bytes += out->sites[i].live_bytes;
            d->peak_live_bytes += out->sites[i].peak_live_bytes;
        } else {
            out->sites[k++] = out->sites[i];
        }
    }
    out->n_sites = k;
    for (size_t i = 0; i < n; i++) {
        omni_mem_site_t key = {s->mem_nodes[i].code, s->mem_nodes[i].line,
                               s->mem_nodes[i].native, 0, 0, 0, 0, NULL};
        omni_mem_site_t *f = k ? bsearch(&key, out->sites, k, sizeof key, site_cmp) : NULL;
        site_of[i] = f ? f - out->sites : -1;
    }
    /* the census's referrer chains, by site */
    for (size_t i = 0; i < s->n_mem_chains; i++) {
        int64_t site = site_of[s->mem_chains[i].node];
        if (site >= 0 && !out->sites[site].referrers)
            out->sites[site].referrers = s->mem_chains[i].chain;
    }
    /* the survivors by site: leak candidates */
    pt_t *pts = malloc((s->n_mem_survivors + 1) * sizeof *pts);
    out->leaks = calloc(k + 1, sizeof *out->leaks);
    if (!pts || !out->leaks) {
        free(pts);
        free(site_of);
        omni_memory_free(out);
        return -1;
    }
    for (size_t site = 0; site < k; site++) {
        size_t m = 0;
        for (size_t i = 0; i < s->n_mem_survivors; i++) {
            const omni_smemsurvivor_t *v = &s->mem_survivors[i];
            if (site_of[v->node] != (int64_t)site)
                continue;
            if (under_import(s, v->node)) {
                out->import_time_bytes += v->bytes;
                continue;
            }
            pts[m++] = (pt_t){v->t_s, v->bytes};
        }
        omni_mem_leak_t l = {out->sites[site].code, out->sites[site].line,
                             out->sites[site].native, 0, 0, 0, 0, 0, 0,
                             out->sites[site].referrers};
        if (leak_of(s, pts, m, out->sites[site].live_bytes, &l))
            out->leaks[out->n_leaks++] = l;
    }
    free(pts);
    free(site_of);
    if (out->n_leaks)
        qsort(out->leaks, out->n_leaks, sizeof *out->leaks, by_leak);
    if (out->n_sites)
        qsort(out->sites, out->n_sites, sizeof *out->sites, by_alloc);
    return 0;
}

void omni_memory_free(omni_memory_t *m) {
    free(m->sites);
    free(m->leaks);
    memset(m, 0, sizeof *m);
}

void omni_memory_sum_by_code(const omni_memory_t *m, size_t n_codes, double *alloc,
                             double *allocs, double *live, double *growth) {
    for (size_t i = 0; i < m->n_sites; i++) {
        int64_t c = m->sites[i].code;
        if (c < 0 || (size_t)c >= n_codes)
            continue;
        if (alloc)
            alloc[c] += m->sites[i].alloc_bytes;
        if (allocs)
            allocs[c] += m->sites[i].allocs;
        if (live)
            live[c] += m->sites[i].live_bytes;
    }
    for (size_t i = 0; growth && i < m->n_leaks; i++)
        if (m->leaks[i].code >= 0 && (size_t)m->leaks[i].code < n_codes)
            growth[m->leaks[i].code] += m->leaks[i].growth_bytes_per_s;
}

int omni_memory_by_code(const omni_session_t *s, double *alloc, double *allocs, double *live,
                        double *growth) {
    omni_memory_t m;
    if (omni_memory_build(s, &m) < 0)
        return -1;
    omni_memory_sum_by_code(&m, s->n_codes, alloc, allocs, live, growth);
    omni_memory_free(&m);
    return 0;
}
