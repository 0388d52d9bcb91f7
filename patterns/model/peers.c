/* peers.c - processes side by side: siblings under one parent session, or
 * the runs a report merged. */
#include "patterns/model/peers.h"

#include <stdlib.h>
#include <string.h>

static int by_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, size_t n) {
    qsort(v, n, sizeof *v, by_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Whether process i was started by none of the others: a run of its own. */
static int is_root(const omni_session_t *s, size_t i) {
    const char *parent = s->processes[i].parent_session_id;
    if (!parent)
        return 1;
    for (size_t k = 0; k < s->n_processes; k++)
        if (s->processes[k].session_id && strcmp(s->processes[k].session_id, parent) == 0)
            return 0;
    return 1;
}

/* The group of the processes with the given parent (NULL: the roots). */
static int add_group(const omni_session_t *s, const char *parent, int64_t parent_pid,
                     omni_peers_t *out) {
    size_t *m = calloc(s->n_processes, sizeof *m);
    double *cpu = calloc(s->n_processes, sizeof *cpu), *wall = calloc(s->n_processes, sizeof *wall);
    if (!m || !cpu || !wall) {
        free(m), free(cpu), free(wall);
        return -1;
    }
    size_t n = 0;
    for (size_t i = 0; i < s->n_processes; i++) {
        const omni_sprocess_t *p = &s->processes[i];
        if (!p->has_footer)
            continue;
        if (parent ? p->parent_session_id && strcmp(p->parent_session_id, parent) == 0
                   : is_root(s, i))
            m[n++] = i;
    }
    if (n < 2) {
        free(m), free(cpu), free(wall);
        return 0;
    }
    omni_peer_group_t *ng = realloc(out->g, (out->n + 1) * sizeof *ng);
    if (!ng) {
        free(m), free(cpu), free(wall);
        return -1;
    }
    out->g = ng;
    for (size_t k = 1; k < n; k++) /* by pid (a handful: insertion) */
        for (size_t j = k; j > 0 && s->processes[m[j - 1]].pid > s->processes[m[j]].pid; j--) {
            size_t t = m[j];
            m[j] = m[j - 1];
            m[j - 1] = t;
        }
    omni_peer_group_t *g = &out->g[out->n++];
    *g = (omni_peer_group_t){.parent_pid = parent_pid, .members = m, .n = n, .slowest = m[0]};
    for (size_t k = 0; k < n; k++) {
        const omni_sprocess_t *p = &s->processes[m[k]], *best = &s->processes[g->slowest];
        cpu[k] = p->cpu_s;
        wall[k] = p->wall_s;
        if (p->cpu_s > best->cpu_s || (p->cpu_s == best->cpu_s && p->wall_s > best->wall_s))
            g->slowest = m[k];
    }
    g->cpu_median = median(cpu, n);
    g->cpu_min = cpu[0], g->cpu_max = cpu[n - 1];
    g->wall_median = median(wall, n);
    g->wall_min = wall[0], g->wall_max = wall[n - 1];
    free(cpu);
    free(wall);
    return 0;
}

int omni_peers_build(const omni_session_t *s, omni_peers_t *out) {
    memset(out, 0, sizeof *out);
    if (s->n_processes < 2)
        return 0;
    int rc = add_group(s, NULL, -1, out);
    /* the children of each process, in the processes' order */
    for (size_t i = 0; i < s->n_processes && rc == 0; i++)
        if (s->processes[i].session_id)
            rc = add_group(s, s->processes[i].session_id, s->processes[i].pid, out);
    if (rc < 0)
        omni_peers_free(out);
    return rc;
}

void omni_peers_free(omni_peers_t *p) {
    for (size_t i = 0; i < p->n; i++)
        free(p->g[i].members);
    free(p->g);
    memset(p, 0, sizeof *p);
}
