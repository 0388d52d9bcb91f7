/* timeline.c - summarises the monitor's timeline: totals over the run,
 * extremes of the intervals, and what the probes could not read. */
#include "patterns/model/analysis.h"

#include "runtime/session/mp_get.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Last value minus first over the rows where the column has a value. */
static double delta(const omni_series_t *t, int col) {
    double first = NAN, last = NAN;
    for (size_t r = 0; t && r < t->n_rows; r++) {
        double v = omni_series_at(t, r, col);
        if (isnan(v))
            continue;
        if (isnan(first))
            first = v;
        last = v;
    }
    return last - first;
}

static double col_max(const omni_series_t *t, int col) {
    double m = NAN;
    for (size_t r = 0; t && r < t->n_rows; r++) {
        double v = omni_series_at(t, r, col);
        if (!isnan(v) && (isnan(m) || v > m))
            m = v;
    }
    return m;
}

static double col_min(const omni_series_t *t, int col) {
    double m = NAN;
    for (size_t r = 0; t && r < t->n_rows; r++) {
        double v = omni_series_at(t, r, col);
        if (!isnan(v) && (isnan(m) || v < m))
            m = v;
    }
    return m;
}

static double col_last(const omni_series_t *t, int col) {
    return t && t->n_rows ? omni_series_at(t, t->n_rows - 1, col) : NAN;
}

static double named_delta(const omni_series_t *t, const char *col) {
    return delta(t, omni_series_col(t, col));
}

static void summarize_process(const omni_series_t *p, omni_timeline_summary_t *o) {
    int t = omni_series_col(p, "t_ns"), u = omni_series_col(p, "cpu_user_ns"),
        sy = omni_series_col(p, "cpu_sys_ns");
    o->samples = p->n_rows;
    o->span_s = delta(p, t) / 1e9;
    double cpu = delta(p, u) + delta(p, sy);
    o->cpu_pct_mean = o->span_s > 0 ? cpu / 1e9 / o->span_s * 100 : NAN;
    o->cpu_pct_max = NAN;
    for (size_t r = 1; r < p->n_rows; r++) {
        double dt = omni_series_at(p, r, t) - omni_series_at(p, r - 1, t);
        double dc = omni_series_at(p, r, u) + omni_series_at(p, r, sy) -
                    omni_series_at(p, r - 1, u) - omni_series_at(p, r - 1, sy);
        if (dt > 0 && !isnan(dc) && (isnan(o->cpu_pct_max) || dc / dt * 100 > o->cpu_pct_max))
            o->cpu_pct_max = dc / dt * 100;
    }
    o->peak_rss_bytes = col_max(p, omni_series_col(p, "peak_rss_bytes"));
    o->final_rss_bytes = col_last(p, omni_series_col(p, "rss_bytes"));
    o->rss_min_bytes = col_min(p, omni_series_col(p, "rss_bytes"));
    o->threads_max = col_max(p, omni_series_col(p, "threads"));
    o->fds_max = col_max(p, omni_series_col(p, "fds"));
    o->read_bytes = named_delta(p, "read_bytes");
    o->write_bytes = named_delta(p, "write_bytes");
    o->rchar = named_delta(p, "rchar");
    o->wchar = named_delta(p, "wchar");
    o->syscr = named_delta(p, "syscr");
    o->syscw = named_delta(p, "syscw");
    o->voluntary_ctx = named_delta(p, "voluntary_ctx");
    o->involuntary_ctx = named_delta(p, "involuntary_ctx");
    o->minor_faults = named_delta(p, "minor_faults");
    o->major_faults = named_delta(p, "major_faults");
    o->load1_max = col_max(p, omni_series_col(p, "load1"));
    o->mem_available_min_bytes = col_min(p, omni_series_col(p, "mem_available_bytes"));
}

static void summarize_cores(const omni_series_t *c, omni_timeline_summary_t *o) {
    double sum = 0;
    size_t n = 0;
    /* The first row covers the time before the run: leave it out. */
    for (size_t r = 1; c && r < c->n_rows; r++)
        for (size_t k = 1; k < c->n_cols; k++) {
            double v = omni_series_at(c, r, (int)k);
            if (!isnan(v))
                sum += v, n++;
        }
    o->machine_busy_pct_mean = n ? sum / (double)n : NAN;
}

static void summarize_net(const omni_series_t *t, omni_timeline_summary_t *o) {
    for (size_t k = 1; t && k < t->n_cols && o->n_ifaces < OMNI_TL_MAX_IFACES; k++) {
        const char *dot = strrchr(t->cols[k], '.');
        if (!dot || strcmp(dot, ".rx_bytes") != 0)
            continue;
        int i = o->n_ifaces++;
        snprintf(o->iface[i], sizeof o->iface[i], "%.*s", (int)(dot - t->cols[k]), t->cols[k]);
        char name[96];
        snprintf(name, sizeof name, "%s.rx_bytes", o->iface[i]);
        o->rx_bytes[i] = named_delta(t, name);
        snprintf(name, sizeof name, "%s.tx_bytes", o->iface[i]);
        o->tx_bytes[i] = named_delta(t, name);
        snprintf(name, sizeof name, "%s.rx_packets", o->iface[i]);
        o->rx_packets[i] = named_delta(t, name);
        snprintf(name, sizeof name, "%s.tx_packets", o->iface[i]);
        o->tx_packets[i] = named_delta(t, name);
    }
}

static void summarize_gpu(const omni_series_t *g, omni_timeline_summary_t *o) {
    int dev = omni_series_col(g, "device"), util = omni_series_col(g, "util_pct"),
        mem = omni_series_col(g, "mem_used_bytes"), proc = omni_series_col(g, "proc_mem_bytes"),
        pw = omni_series_col(g, "power_w"), en = omni_series_col(g, "energy_mj");
    for (int d = 0; d < o->n_gpus; d++) {
        double usum = 0, first_e = NAN, last_e = NAN;
        size_t un = 0;
        o->gpu_util_max[d] = o->gpu_mem_max[d] = o->gpu_proc_mem_max[d] = NAN;
        o->gpu_power_max_w[d] = NAN;
        for (size_t r = 0; g && r < g->n_rows; r++) {
            if (omni_series_at(g, r, dev) != d)
                continue;
            double v = omni_series_at(g, r, util);
            if (!isnan(v)) {
                usum += v, un++;
                if (isnan(o->gpu_util_max[d]) || v > o->gpu_util_max[d])
                    o->gpu_util_max[d] = v;
            }
            double m = omni_series_at(g, r, mem), pm = omni_series_at(g, r, proc),
                   p = omni_series_at(g, r, pw), e = omni_series_at(g, r, en);
            if (!isnan(m) && (isnan(o->gpu_mem_max[d]) || m > o->gpu_mem_max[d]))
                o->gpu_mem_max[d] = m;
            if (!isnan(pm) && (isnan(o->gpu_proc_mem_max[d]) || pm > o->gpu_proc_mem_max[d]))
                o->gpu_proc_mem_max[d] = pm;
            if (!isnan(p) && (isnan(o->gpu_power_max_w[d]) || p > o->gpu_power_max_w[d]))
                o->gpu_power_max_w[d] = p;
            if (!isnan(e)) {
                if (isnan(first_e))
                    first_e = e;
                last_e = e;
            }
        }
        o->gpu_util_mean[d] = un ? usum / (double)un : NAN;
        o->gpu_energy_j[d] = (last_e - first_e) / 1000.0;
        if (!isnan(o->gpu_energy_j[d]))
            o->gpu_energy_total_j += o->gpu_energy_j[d];
    }
}

/* The monitor record says which probes answered and why the others did not. */
static void read_probes(const omni_session_t *s, omni_timeline_summary_t *o) {
    msgpack_unpacked u;
    const msgpack_object *m = omni_session_record(s->monitor_raw, s->monitor_len, &u);
    const char *none = s->n_series
                           ? "the run ended before the monitor had probed the machine"
                           : "the session has no monitor record (the monitor did not run)";
    snprintf(o->gpu_reason, sizeof o->gpu_reason, "%s", none);
    snprintf(o->counters_reason, sizeof o->counters_reason, "%s", none);
    snprintf(o->energy_reason, sizeof o->energy_reason, "%s", none);
    o->grams_co2_per_kwh = NAN;
    if (m) {
        double v;
        if (omni_mp_num(omni_mp_get(m, "interval_ns"), &v) == 0)
            o->interval_s = v / 1e9;
        if (omni_mp_num(omni_mp_get(m, "grams_co2_per_kwh"), &v) == 0)
            o->grams_co2_per_kwh = v;
        const msgpack_object *g = omni_mp_get(m, "gpu"), *c = omni_mp_get(m, "counters"),
                             *e = omni_mp_get(m, "energy");
        const msgpack_object *av;
        if ((av = omni_mp_get(g, "available")) && av->type == MSGPACK_OBJECT_BOOLEAN)
            o->gpu_available = av->via.boolean;
        omni_mp_str(omni_mp_get(g, "reason"), o->gpu_reason, sizeof o->gpu_reason);
        const msgpack_object *devs = omni_mp_get(g, "devices");
        if (o->gpu_available && devs && devs->type == MSGPACK_OBJECT_ARRAY)
            for (uint32_t i = 0; i < devs->via.array.size && o->n_gpus < OMNI_TL_MAX_GPUS; i++)
                omni_mp_str(&devs->via.array.ptr[i], o->gpu_model[o->n_gpus++],
                            sizeof o->gpu_model[0]);
        if ((av = omni_mp_get(c, "available")) && av->type == MSGPACK_OBJECT_BOOLEAN)
            o->counters_available = av->via.boolean;
        omni_mp_str(omni_mp_get(c, "reason"), o->counters_reason, sizeof o->counters_reason);
        if ((av = omni_mp_get(e, "available")) && av->type == MSGPACK_OBJECT_BOOLEAN)
            o->energy_available = av->via.boolean;
        omni_mp_str(omni_mp_get(e, "reason"), o->energy_reason, sizeof o->energy_reason);
    }
    msgpack_unpacked_destroy(&u);
}

static void summarize_counters(const omni_series_t *c, omni_timeline_summary_t *o) {
    for (size_t k = 1; c && k < c->n_cols && o->n_events < OMNI_TL_MAX_EVENTS; k++) {
        int i = o->n_events++;
        snprintf(o->event[i], sizeof o->event[i], "%s", c->cols[k]);
        o->event_total[i] = delta(c, (int)k);
    }
    double ins = named_delta(c, "instructions"), cyc = named_delta(c, "cycles");
    o->ipc = cyc > 0 ? ins / cyc : NAN;
}

/* The last-level cache's line size from the machine record (64 bytes when
 * the record does not say): each miss brings one line from memory. */
static double llc_line_bytes(const omni_session_t *s) {
    msgpack_unpacked u;
    const msgpack_object *m = omni_session_record(s->machine_raw, s->machine_len, &u);
    const msgpack_object *caches = omni_mp_get(omni_mp_get(m, "cpu"), "caches");
    double line = 64, level = 0;
    for (uint32_t i = 0; caches && caches->type == MSGPACK_OBJECT_ARRAY &&
                         i < caches->via.array.size; i++) {
        double l, b;
        const msgpack_object *c = &caches->via.array.ptr[i];
        if (omni_mp_num(omni_mp_get(c, "level"), &l) == 0 && l > level &&
            omni_mp_num(omni_mp_get(c, "line_bytes"), &b) == 0 && b > 0)
            level = l, line = b;
    }
    msgpack_unpacked_destroy(&u);
    return line;
}

static void summarize_energy(const omni_series_t *e, omni_timeline_summary_t *o) {
    o->cpu_energy_j = NAN;
    for (size_t k = 1; e && k < e->n_cols; k++) {
        /* "package-0_uj" is a whole socket; "core-0:0_uj" is inside one. */
        if (strchr(e->cols[k], ':'))
            continue;
        double d = delta(e, (int)k) / 1e6;
        if (!isnan(d))
            o->cpu_energy_j = isnan(o->cpu_energy_j) ? d : o->cpu_energy_j + d;
    }
}

int omni_timeline_summarize(const omni_session_t *s, omni_timeline_summary_t *o) {
    memset(o, 0, sizeof *o);
    read_probes(s, o);
    const omni_series_t *p = omni_session_series(s, "process");
    if (!p || p->n_rows == 0) {
        snprintf(o->reason, sizeof o->reason, "%s",
                 s->monitor_raw ? "the monitor took no sample"
                                : "no monitor ran (--interval 0, --mode off, or an older session)");
        o->cpu_energy_j = o->gpu_energy_total_j = NAN;
        return 0;
    }
    o->available = 1;
    summarize_process(p, o);
    summarize_cores(omni_session_series(s, "cores"), o);
    summarize_net(omni_session_series(s, "net"), o);
    summarize_gpu(omni_session_series(s, "gpu"), o);
    if (!o->gpu_available)
        o->gpu_energy_total_j = NAN;
    summarize_counters(omni_session_series(s, "counters"), o);
    o->est_memory_bytes = named_delta(omni_session_series(s, "counters"), "llc_misses") *
                          llc_line_bytes(s);
    summarize_energy(omni_session_series(s, "energy"), o);
    return 0;
}
