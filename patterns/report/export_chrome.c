/* export_chrome.c - Chrome's trace event format (JSON object form), for
 * Perfetto and chrome://tracing: a track per process and thread with their
 * names, the run as a span, and the timeline's counters (CPU %, RSS,
 * threads, open files, disk bytes, GPU) as counter tracks. */
#include "patterns/report/export.h"

#include "patterns/report/json_out.h"

#include <math.h>
#include <string.h>

static void meta(omni_json_t *j, const char *what, int64_t pid, int64_t tid, const char *name) {
    omni_json_begin_object(j);
    omni_json_kv_str(j, "ph", "M");
    omni_json_kv_str(j, "name", what);
    omni_json_kv_int(j, "pid", pid);
    omni_json_kv_int(j, "tid", tid);
    omni_json_key(j, "args");
    omni_json_begin_object(j);
    omni_json_kv_str(j, "name", name);
    omni_json_end_object(j);
    omni_json_end_object(j);
}

/* One counter event: ts in microseconds. */
static void counter(omni_json_t *j, int64_t pid, const char *name, double ts_us, const char *key,
                    double v) {
    if (isnan(v))
        return;
    omni_json_begin_object(j);
    omni_json_kv_str(j, "ph", "C");
    omni_json_kv_str(j, "name", name);
    omni_json_kv_int(j, "pid", pid);
    omni_json_kv_int(j, "tid", pid);
    omni_json_kv_num(j, "ts", ts_us);
    omni_json_key(j, "args");
    omni_json_begin_object(j);
    omni_json_kv_num(j, key, v);
    omni_json_end_object(j);
    omni_json_end_object(j);
}

/* The process table's counters; rates between rows for the cumulative ones. */
static void process_counters(omni_json_t *j, const omni_session_t *s) {
    const omni_series_t *p = omni_session_series(s, "process");
    if (!p)
        return;
    int t = omni_series_col(p, "t_ns"), u = omni_series_col(p, "cpu_user_ns"),
        sy = omni_series_col(p, "cpu_sys_ns"), rss = omni_series_col(p, "rss_bytes"),
        ss = omni_series_col(p, "stack_samples"), sc = omni_series_col(p, "cpu_samples"),
        th = omni_series_col(p, "threads"), fd = omni_series_col(p, "fds"),
        rb = omni_series_col(p, "read_bytes"), wb = omni_series_col(p, "write_bytes");
    for (size_t r = 0; r < p->n_rows; r++) {
        double ts = omni_series_at(p, r, t) / 1e3;
        counter(j, s->pid, "RSS", ts, "bytes", omni_series_at(p, r, rss));
        counter(j, s->pid, "threads", ts, "threads", omni_series_at(p, r, th));
        counter(j, s->pid, "open files", ts, "fds", omni_series_at(p, r, fd));
        if (r == 0)
            continue;
        double dt = omni_series_at(p, r, t) - omni_series_at(p, r - 1, t);
        if (dt <= 0)
            continue;
        double cpu = omni_series_at(p, r, u) + omni_series_at(p, r, sy) -
                     omni_series_at(p, r - 1, u) - omni_series_at(p, r - 1, sy);
        counter(j, s->pid, "CPU %", ts, "percent", 100 * cpu / dt);
        counter(j, s->pid, "disk read", ts, "bytes/s",
                (omni_series_at(p, r, rb) - omni_series_at(p, r - 1, rb)) / dt * 1e9);
        counter(j, s->pid, "disk write", ts, "bytes/s",
                (omni_series_at(p, r, wb) - omni_series_at(p, r - 1, wb)) / dt * 1e9);
        /* Of the stack samples in the interval, the share on a CPU. */
        double ds = omni_series_at(p, r, ss) - omni_series_at(p, r - 1, ss);
        if (ds > 0)
            counter(j, s->pid, "Python threads on CPU %", ts, "percent",
                    100 * (omni_series_at(p, r, sc) - omni_series_at(p, r - 1, sc)) / ds);
    }
    const omni_series_t *g = omni_session_series(s, "gpu");
    int gt = omni_series_col(g, "t_ns"), gu = omni_series_col(g, "util_pct"),
        gm = omni_series_col(g, "mem_used_bytes");
    for (size_t r = 0; g && r < g->n_rows; r++) {
        counter(j, s->pid, "GPU %", omni_series_at(g, r, gt) / 1e3, "percent",
                omni_series_at(g, r, gu));
        counter(j, s->pid, "GPU memory", omni_series_at(g, r, gt) / 1e3, "bytes",
                omni_series_at(g, r, gm));
    }
}

int omni_export_chrome(const omni_session_t *s, FILE *f, char *err, size_t cap) {
    (void)err;
    (void)cap;
    omni_json_t j;
    omni_json_init(&j, f);
    omni_json_begin_object(&j);
    omni_json_kv_str(&j, "displayTimeUnit", "ms");
    omni_json_key(&j, "otherData");
    omni_json_begin_object(&j);
    omni_json_kv_str(&j, "exporter", "omnipython " OMNI_VERSION);
    omni_json_kv_str(&j, "session_id", s->session_id);
    omni_json_end_object(&j);
    omni_json_key(&j, "traceEvents");
    omni_json_begin_array(&j);
    for (size_t i = 0; i < s->n_processes; i++) {
        const omni_sprocess_t *p = &s->processes[i];
        char name[256];
        snprintf(name, sizeof name, "%s (pid %lld)", p->argc > 1 ? p->argv[p->argc - 1] : "python",
                 (long long)p->pid);
        meta(&j, "process_name", p->pid, p->pid, name);
        if (!p->has_footer)
            continue;
        /* The process's life as one span on its main track. */
        omni_json_begin_object(&j);
        omni_json_kv_str(&j, "ph", "X");
        omni_json_kv_str(&j, "name", "run");
        omni_json_kv_int(&j, "pid", p->pid);
        omni_json_kv_int(&j, "tid", p->pid);
        omni_json_kv_num(&j, "ts", 0);
        omni_json_kv_num(&j, "dur", p->wall_s * 1e6);
        omni_json_end_object(&j);
    }
    for (size_t i = 0; i < s->n_threads; i++) {
        const omni_sthread_t *t = &s->threads[i];
        meta(&j, "thread_name", t->pid, t->native_id, t->name ? t->name : "thread");
    }
    /* omni.profile's regions as spans on their threads */
    for (size_t i = 0; i < s->n_regions; i++) {
        const omni_sregion_t *g = &s->regions[i];
        omni_json_begin_object(&j);
        omni_json_kv_str(&j, "ph", "X");
        omni_json_kv_str(&j, "cat", "omni.profile");
        omni_json_kv_str(&j, "name", g->name);
        omni_json_kv_int(&j, "pid", g->pid);
        omni_json_kv_int(&j, "tid", g->tid);
        omni_json_kv_num(&j, "ts", g->start_s * 1e6);
        omni_json_kv_num(&j, "dur", (g->end_s - g->start_s) * 1e6);
        omni_json_key(&j, "args");
        omni_json_begin_object(&j);
        omni_json_kv_num(&j, "cpu_s", g->cpu_s);
        omni_json_kv_num(&j, "peak_rss_bytes", g->rss_peak_bytes);
        omni_json_kv_str(&j, "error", g->error);
        omni_json_end_object(&j);
        omni_json_end_object(&j);
    }
    process_counters(&j, s);
    omni_json_end_array(&j);
    omni_json_end_object(&j);
    fputc('\n', f);
    return ferror(f) ? -1 : 0;
}
