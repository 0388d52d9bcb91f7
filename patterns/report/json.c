/* json.c - the JSON report: one document whose keys are the public,
 * versioned contract described in README.md. */
#include "patterns/report/report.h"
#include "patterns/model/runs.h"

#include "patterns/report/json_out.h"
#include "runtime/session/list.h"
#include "runtime/session/mp_get.h"

#include <math.h>
#include <string.h>

/* The timeline's series in the JSON report: at most this many rows each
 * (every k-th sample of a longer run; the summary uses them all). */
#define SERIES_MAX_ROWS 1000

#define OMNI_REPORT_SCHEMA_VERSION 1

/* NaN (a value nobody measured) writes null. */
static void str_list(omni_json_t *j, const char *k, char *const *v, size_t n) {
    omni_json_key(j, k);
    omni_json_begin_array(j);
    for (size_t i = 0; i < n; i++)
        omni_json_str(j, v[i]);
    omni_json_end_array(j);
}

/* Opens the object of a collector that has data: "k": {available: true, ...
 * (the caller writes the rest and closes it). */
static void available(omni_json_t *j, const char *k) {
    omni_json_key(j, k);
    omni_json_begin_object(j);
    omni_json_kv_bool(j, "available", 1);
}

/* A collector this version does not have: {available: false, reason}. */
static void unavailable(omni_json_t *j, const char *k, const char *reason) {
    omni_json_key(j, k);
    omni_json_begin_object(j);
    omni_json_kv_bool(j, "available", 0);
    omni_json_kv_str(j, "reason", reason);
    omni_json_end_object(j);
}

/* exit_status and wall_s: null when the session has no footer (the process
 * was killed, or is still running). */
static void exit_and_wall(omni_json_t *j, const omni_session_t *s) {
    omni_json_key(j, "exit_status");
    if (s->has_footer)
        omni_json_int(j, s->exit_status);
    else
        omni_json_null(j);
    omni_json_key(j, "wall_s");
    if (s->has_footer)
        omni_json_num(j, s->wall_s);
    else
        omni_json_null(j);
}

static void write_run(omni_json_t *j, const omni_session_t *s, const char *path) {
    omni_json_key(j, "run");
    omni_json_begin_object(j);
    str_list(j, "argv", s->argv, s->argc);
    str_list(j, "sys_argv", s->sys_argv, s->sys_argc);
    omni_json_kv_str(j, "target", s->target);
    exit_and_wall(j, s);
    omni_json_kv_str(j, "exit_how", s->has_footer ? s->exit_how : NULL);
    omni_json_kv_int(j, "signal", s->signal);
    omni_json_kv_num(j, "cpu_user_s", s->cpu_user_s);
    omni_json_kv_num(j, "cpu_sys_s", s->cpu_sys_s);
    omni_json_kv_uint(j, "peak_rss_bytes", s->peak_rss_bytes);
    omni_json_kv_str(j, "python_version", s->python_version);
    omni_json_kv_str(j, "omni_version", s->omni_version);
    omni_json_kv_str(j, "mode", s->mode);
    omni_json_kv_bool(j, "timed_out", s->timed_out);
    omni_json_kv_bool(j, "complete", s->has_footer && !s->truncated);
    int running = omni_session_still_running(s);
    omni_json_key(j, "running");
    if (running < 0)
        omni_json_null(j);
    else
        omni_json_bool(j, running);
    omni_json_kv_uint(j, "timeline_trimmed", s->timeline_trimmed);
    omni_json_key(j, "checkpoints");
    omni_json_begin_object(j);
    omni_json_kv_uint(j, "count", s->checkpoints);
    omni_json_kv_uint(j, "last_bytes", s->checkpoint_bytes);
    omni_json_kv_num(j, "max_s", s->checkpoint_max_s);
    omni_json_end_object(j);
    omni_json_key(j, "checkpoint");
    if (s->from_checkpoint) {
        omni_json_begin_object(j);
        omni_json_kv_uint(j, "seq", s->checkpoint_seq);
        omni_json_kv_num(j, "t_s", s->checkpoint_t_s);
        omni_json_end_object(j);
    } else {
        omni_json_null(j);
    }
    omni_json_kv_str(j, "session", path);
    omni_json_kv_str(j, "session_id", s->session_id);
    omni_json_kv_int(j, "pid", s->pid);
    omni_json_kv_num(j, "start_unix_s", s->start_unix_s);
    omni_json_kv_str(j, "cwd", s->cwd);
    omni_json_kv_str(j, "clock", s->clock);
    str_list(j, "warnings", s->warnings, s->n_warnings);
    omni_json_end_object(j);
}

static int fn_runs_by_excl(const void *x, const void *y) {
    const omni_fn_runs_t *a = *(const omni_fn_runs_t *const *)x, *b = *(const omni_fn_runs_t *const *)y;
    if (a->excl_mean != b->excl_mean)
        return a->excl_mean < b->excl_mean ? 1 : -1;
    int c = strcmp(a->file, b->file);
    return c ? c : strcmp(a->name, b->name);
}

/* --repeat: the runs' walls and the functions' spread over them. */
static void write_repeats(omni_json_t *j, const omni_session_t *s, const omni_runs_t *r) {
    if (!s->n_runs) {
        unavailable(j, "repeats", "one run of the target (--repeat N runs it N times)");
        return;
    }
    available(j, "repeats");
    omni_json_kv_int(j, "runs", r->runs);
    omni_json_kv_int(j, "shown_run", s->run_index);
    omni_json_key(j, "wall_s");
    omni_json_begin_array(j);
    for (int i = 0; i < r->runs; i++)
        omni_json_num(j, r->walls[i]);
    omni_json_end_array(j);
    omni_json_kv_num(j, "wall_mean_s", r->wall_mean);
    omni_json_kv_num(j, "wall_sd_s", r->wall_sd);
    omni_json_key(j, "functions");
    omni_json_begin_array(j);
    /* the functions with the most time on average */
    const omni_fn_runs_t **top = malloc((r->n + 1) * sizeof *top);
    size_t n = 0;
    for (size_t i = 0; top && i < r->n; i++)
        if (r->f[i].excl_mean > 0)
            top[n++] = &r->f[i];
    if (top)
        qsort(top, n, sizeof *top, fn_runs_by_excl);
    for (size_t i = 0; i < n && i < 100; i++) {
        omni_json_begin_object(j);
        omni_json_kv_str(j, "file", top[i]->file);
        omni_json_kv_str(j, "name", top[i]->name);
        omni_json_kv_int(j, "line", top[i]->line);
        omni_json_kv_int(j, "runs_seen", top[i]->runs_seen);
        omni_json_kv_num(j, "calls_mean", top[i]->calls_mean);
        omni_json_kv_num(j, "exclusive_mean_s", top[i]->excl_mean);
        omni_json_kv_num(j, "exclusive_sd_s", top[i]->excl_sd);
        omni_json_kv_num(j, "inclusive_mean_s", top[i]->incl_mean);
        omni_json_kv_num(j, "inclusive_sd_s", top[i]->incl_sd);
        omni_json_end_object(j);
    }
    free(top);
    omni_json_end_array(j);
    omni_json_end_object(j);
}

/* omni.profile's regions: totals by name, then the instances. */
static void write_regions(omni_json_t *j, const omni_session_t *s) {
    if (!s->has_regions) {
        unavailable(j, "regions", "the program marked no omni.profile regions");
        return;
    }
    available(j, "regions");
    omni_json_kv_uint(j, "dropped", s->regions_dropped);
    omni_json_key(j, "names");
    omni_json_begin_array(j);
    for (size_t i = 0; i < s->n_region_names; i++) {
        const omni_sregion_name_t *n = &s->region_names[i];
        omni_json_begin_object(j);
        omni_json_kv_str(j, "name", n->name);
        omni_json_kv_uint(j, "count", n->count);
        omni_json_kv_uint(j, "errors", n->errors);
        omni_json_kv_num(j, "wall_s", n->wall_s);
        omni_json_kv_num(j, "cpu_s", n->cpu_s);
        omni_json_end_object(j);
    }
    omni_json_end_array(j);
    omni_json_key(j, "instances");
    omni_json_begin_array(j);
    for (size_t i = 0; i < s->n_regions && i < 1000; i++) {
        const omni_sregion_t *g = &s->regions[i];
        omni_json_begin_object(j);
        omni_json_kv_str(j, "name", g->name);
        omni_json_kv_int(j, "pid", g->pid);
        omni_json_kv_int(j, "thread", g->tid);
        omni_json_kv_num(j, "start_s", g->start_s);
        omni_json_kv_num(j, "end_s", g->end_s);
        omni_json_kv_num(j, "wall_s", g->end_s - g->start_s);
        omni_json_kv_num(j, "cpu_s", g->cpu_s);
        omni_json_kv_num(j, "rss_start_bytes", g->rss_start_bytes);
        omni_json_kv_num(j, "rss_end_bytes", g->rss_end_bytes);
        omni_json_kv_num(j, "peak_rss_bytes", g->rss_peak_bytes);
        omni_json_kv_num(j, "read_bytes", g->read_bytes);
        omni_json_kv_num(j, "write_bytes", g->write_bytes);
        omni_json_kv_num(j, "flops", g->flops);
        omni_json_kv_str(j, "error", g->error);
        omni_json_end_object(j);
    }
    omni_json_end_array(j);
    omni_json_end_object(j);
}

static void write_processes(omni_json_t *j, const omni_session_t *s) {
    omni_json_key(j, "processes");
    omni_json_begin_array(j);
    for (size_t i = 0; i < s->n_processes; i++) {
        const omni_sprocess_t *p = &s->processes[i];
        omni_json_begin_object(j);
        omni_json_kv_int(j, "pid", p->pid);
        omni_json_kv_int(j, "ppid", p->ppid);
        str_list(j, "argv", p->argv, p->argc);
        omni_json_kv_str(j, "session", p->session);
        omni_json_kv_str(j, "session_id", p->session_id);
        omni_json_kv_str(j, "parent_session_id", p->parent_session_id);
        omni_json_kv_str(j, "started_by", p->started_by);
        omni_json_kv_str(j, "host", p->hostname);
        omni_json_kv_num(j, "cpu_s", p->has_footer ? p->cpu_s : NAN);
        omni_json_kv_uint(j, "samples", p->samples);
        omni_json_kv_uint(j, "cpu_samples", p->cpu_samples);
        /* null (NaN) for what a process without a footer did not say */
        omni_json_kv_num(j, "exit_status", p->has_footer ? (double)p->exit_status : NAN);
        omni_json_kv_num(j, "wall_s", p->has_footer ? p->wall_s : NAN);
        omni_json_kv_num(j, "peak_rss_bytes", p->has_footer ? (double)p->peak_rss_bytes : NAN);
        /* each process's own allocation accounting: the joined report's
         * memory section is the root's */
        omni_json_key(j, "memory");
        if (p->has_memory) {
            omni_json_begin_object(j);
            omni_json_kv_uint(j, "peak_bytes", p->mem_peak_bytes);
            omni_json_kv_uint(j, "exit_live_bytes", p->mem_exit_live_bytes);
            omni_json_kv_num(j, "native_peak_bytes",
                             p->has_native ? (double)p->native_peak_bytes : NAN);
            omni_json_kv_num(j, "native_exit_live_bytes",
                             p->has_native ? (double)p->native_exit_live_bytes : NAN);
            omni_json_end_object(j);
        } else {
            omni_json_null(j);
        }
        omni_json_end_object(j);
    }
    omni_json_end_array(j);
}

static void spread_json(omni_json_t *j, const char *key, double lo, double mid, double hi) {
    omni_json_key(j, key);
    omni_json_begin_object(j);
    omni_json_kv_num(j, "min", lo);
    omni_json_kv_num(j, "median", mid);
    omni_json_kv_num(j, "max", hi);
    omni_json_end_object(j);
}

/* What --push's sender did, or null. */
static void write_push(omni_json_t *j, const omni_session_t *s) {
    omni_json_key(j, "push");
    if (!s->has_push) {
        omni_json_null(j);
        return;
    }
    omni_json_begin_object(j);
    omni_json_kv_str(j, "url", s->push_url);
    omni_json_kv_str(j, "name", s->push_name);
    omni_json_kv_bool(j, "sent", s->push_error == NULL);
    omni_json_kv_int(j, "status", s->push_status);
    omni_json_kv_uint(j, "attempts", s->push_attempts);
    omni_json_kv_uint(j, "bytes", s->push_bytes);
    omni_json_kv_str(j, "error", s->push_error);
    omni_json_kv_uint(j, "intervals", s->push_intervals);
    omni_json_kv_uint(j, "intervals_sent", s->push_intervals_sent);
    omni_json_kv_uint(j, "intervals_failed", s->push_intervals_failed);
    omni_json_kv_uint(j, "intervals_dropped", s->push_intervals_dropped);
    omni_json_end_object(j);
}

/* Processes side by side, the spread between them and the slowest. */
static void write_peers(omni_json_t *j, const omni_session_t *s, const omni_peers_t *pe) {
    omni_json_kv_uint(j, "runs_merged", s->n_roots ? s->n_roots : 1);
    omni_json_key(j, "peers");
    omni_json_begin_array(j);
    for (size_t i = 0; i < pe->n; i++) {
        const omni_peer_group_t *g = &pe->g[i];
        omni_json_begin_object(j);
        omni_json_kv_num(j, "started_by_pid", g->parent_pid >= 0 ? (double)g->parent_pid : NAN);
        omni_json_key(j, "pids");
        omni_json_begin_array(j);
        for (size_t k = 0; k < g->n; k++)
            omni_json_int(j, s->processes[g->members[k]].pid);
        omni_json_end_array(j);
        spread_json(j, "cpu_s", g->cpu_min, g->cpu_median, g->cpu_max);
        spread_json(j, "wall_s", g->wall_min, g->wall_median, g->wall_max);
        const omni_sprocess_t *p = &s->processes[g->slowest];
        omni_json_key(j, "slowest");
        omni_json_begin_object(j);
        omni_json_kv_int(j, "pid", p->pid);
        omni_json_kv_str(j, "host", p->hostname);
        omni_json_kv_num(j, "cpu_s", p->cpu_s);
        omni_json_kv_num(j, "wall_s", p->wall_s);
        omni_json_kv_num(j, "cpu_over_median", g->cpu_median > 0 ? p->cpu_s / g->cpu_median : NAN);
        omni_json_end_object(j);
        omni_json_end_object(j);
    }
    omni_json_end_array(j);
}

static void code_fields(omni_json_t *j, const omni_session_t *s, uint32_t code) {
    omni_json_kv_str(j, "file", s->codes[code].file);
    omni_json_kv_str(j, "name", s->codes[code].name);
    omni_json_kv_int(j, "line", s->codes[code].line);
}

/* A site's place: the file and name of its code, and the line allocated at. */
static void site_fields(omni_json_t *j, const omni_session_t *s, int64_t code, int64_t line,
                        int native) {
    omni_json_kv_str(j, "domain", native ? "native" : "python");
    omni_json_kv_str(j, "file", code >= 0 ? s->codes[code].file : NULL);
    omni_json_kv_str(j, "name", code >= 0 ? s->codes[code].name : NULL);
    omni_json_kv_int(j, "line", line >= 0 ? line : code >= 0 ? s->codes[code].line : 0);
    omni_json_kv_int(j, "function_line", code >= 0 ? s->codes[code].line : 0);
}

/* The native heap: malloc and its relatives and anonymous mmap outside
 * Python's allocators, counted apart (never in the totals above). */
static void write_native(omni_json_t *j, const omni_session_t *s) {
    if (!s->mem_native_available) {
        unavailable(j, "native", s->mem_native_reason ? s->mem_native_reason : "not measured");
        return;
    }
    available(j, "native");
    omni_json_kv_uint(j, "allocations", s->native_allocations);
    omni_json_kv_uint(j, "frees", s->native_frees);
    omni_json_kv_uint(j, "allocated_bytes", s->native_allocated_bytes);
    omni_json_kv_uint(j, "freed_bytes", s->native_freed_bytes);
    omni_json_kv_uint(j, "peak_bytes", s->native_peak_bytes);
    omni_json_kv_uint(j, "exit_live_bytes", s->native_exit_live_bytes);
    omni_json_kv_uint(j, "maps", s->native_maps);
    omni_json_kv_uint(j, "mapped_bytes", s->native_mapped_bytes);
    omni_json_end_object(j);
}

static void write_memory(omni_json_t *j, const omni_session_t *s, const omni_memory_t *m) {
    if (!s->has_memory) {
        unavailable(j, "memory", "no allocation accounting in this run (--mode full or --memory)");
        return;
    }
    if (!s->memory_available) {
        unavailable(j, "memory", s->memory_reason ? s->memory_reason : "not measured");
        return;
    }
    double wall = s->mem_exit_s > 0 ? s->mem_exit_s : s->mem_wall_s;
    available(j, "memory");
    omni_json_kv_uint(j, "peak_bytes", s->mem_peak_bytes);
    omni_json_kv_num(j, "peak_s", s->mem_peak_s);
    omni_json_kv_uint(j, "exit_live_bytes", s->mem_exit_live_bytes);
    omni_json_kv_uint(j, "allocations", s->mem_allocations);
    omni_json_kv_uint(j, "frees", s->mem_frees);
    omni_json_kv_uint(j, "allocated_bytes", s->mem_allocated_bytes);
    omni_json_kv_uint(j, "freed_bytes", s->mem_freed_bytes);
    omni_json_kv_num(j, "allocations_per_s", wall > 0 ? (double)s->mem_allocations / wall : NAN);
    omni_json_kv_num(j, "sample_interval_bytes", s->mem_interval_bytes);
    omni_json_kv_uint(j, "samples", s->mem_samples);
    omni_json_kv_num(j, "import_time_live_bytes", m->import_time_bytes);
    write_native(j, s);
    omni_json_kv_str(j, "estimates",
        "sites' bytes and counts are estimated from allocations sampled "
        "every sample_interval_bytes on average (each sampled block of "
        "size s stands for s / (1 - exp(-s / interval)) bytes); the totals "
        "are exact");
    omni_json_key(j, "sites");
    omni_json_begin_array(j);
    for (size_t i = 0; i < m->n_sites && i < 200; i++) {
        const omni_mem_site_t *x = &m->sites[i];
        omni_json_begin_object(j);
        site_fields(j, s, x->code, x->line, x->native);
        omni_json_kv_num(j, "allocated_bytes", x->alloc_bytes);
        omni_json_kv_num(j, "allocations", x->allocs);
        omni_json_kv_num(j, "allocations_per_s", wall > 0 ? x->allocs / wall : NAN);
        omni_json_kv_num(j, "live_bytes", x->live_bytes);
        omni_json_kv_num(j, "peak_live_bytes", x->peak_live_bytes);
        omni_json_kv_str(j, "referrers", x->referrers);
        omni_json_end_object(j);
    }
    omni_json_end_array(j);
    omni_json_key(j, "census");
    omni_json_begin_object(j);
    omni_json_kv_bool(j, "partial", s->mem_census_partial);
    omni_json_kv_uint(j, "objects", s->mem_census_objects);
    omni_json_kv_num(j, "seconds", s->mem_census_s);
    omni_json_kv_str(j, "reason", s->mem_census_reason);
    omni_json_key(j, "types");
    omni_json_begin_array(j);
    for (size_t i = 0; i < s->n_mem_census; i++) {
        omni_json_begin_object(j);
        omni_json_kv_str(j, "type", s->mem_census[i].type);
        omni_json_kv_uint(j, "count", s->mem_census[i].count);
        omni_json_kv_uint(j, "bytes", s->mem_census[i].bytes);
        omni_json_end_object(j);
    }
    omni_json_end_array(j);
    omni_json_end_object(j);
    omni_json_key(j, "leaks");
    omni_json_begin_array(j);
    for (size_t i = 0; i < m->n_leaks; i++) {
        const omni_mem_leak_t *x = &m->leaks[i];
        omni_json_begin_object(j);
        site_fields(j, s, x->code, x->line, x->native);
        omni_json_kv_num(j, "live_bytes", x->live_bytes);
        omni_json_kv_num(j, "growth_bytes_per_s", x->growth_bytes_per_s);
        omni_json_kv_num(j, "confidence", x->confidence);
        omni_json_kv_uint(j, "survivors", x->survivors);
        omni_json_kv_num(j, "first_s", x->first_s);
        omni_json_kv_num(j, "last_s", x->last_s);
        omni_json_kv_str(j, "referrers", x->referrers);
        omni_json_end_object(j);
    }
    omni_json_end_array(j);
    omni_json_end_object(j);
}

static void write_functions(omni_json_t *j, const omni_session_t *s, const omni_profile_t *p,
                            const omni_sample_totals_t *st) {
    omni_json_key(j, "functions");
    omni_json_begin_array(j);
    for (size_t i = 0; i < p->n_funcs; i++) {
        const omni_ftotal_t *f = &p->funcs[i];
        omni_json_begin_object(j);
        code_fields(j, s, f->code);
        omni_json_kv_uint(j, "calls", f->calls);
        omni_json_kv_uint(j, "primitive_calls", f->primitive_calls);
        omni_json_kv_num(j, "inclusive_s", f->inclusive_s);
        omni_json_kv_num(j, "exclusive_s", f->exclusive_s);
        omni_json_kv_uint(j, "max_recursion", f->max_recursion);
        omni_json_key(j, "samples");
        if (s->has_samples)
            omni_json_uint(j, st->fn_samples[f->code]);
        else
            omni_json_null(j);
        omni_json_key(j, "self_samples");
        if (s->has_samples)
            omni_json_uint(j, st->fn_self[f->code]);
        else
            omni_json_null(j);
        omni_json_end_object(j);
    }
    omni_json_end_array(j);

    omni_json_key(j, "calls");
    omni_json_begin_array(j);
    for (size_t i = 0; i < p->n_edges; i++) {
        const omni_etotal_t *e = &p->edges[i];
        omni_json_begin_object(j);
        omni_json_key(j, "caller");
        omni_json_begin_object(j);
        code_fields(j, s, e->caller);
        omni_json_end_object(j);
        omni_json_key(j, "callee");
        omni_json_begin_object(j);
        code_fields(j, s, e->callee);
        omni_json_end_object(j);
        omni_json_kv_uint(j, "calls", e->calls);
        omni_json_kv_uint(j, "primitive_calls", e->primitive_calls);
        omni_json_kv_num(j, "inclusive_s", e->inclusive_s);
        omni_json_kv_num(j, "exclusive_s", e->exclusive_s);
        omni_json_end_object(j);
    }
    omni_json_end_array(j);
}

/* Coroutines: per function, and the awaits that held the longest first. */
static int await_by_total(const void *a, const void *b) {
    const omni_sawait_t *x = *(omni_sawait_t *const *)a, *y = *(omni_sawait_t *const *)b;
    return x->total_s < y->total_s ? 1 : x->total_s > y->total_s ? -1 : 0;
}

static void write_coroutines(omni_json_t *j, const omni_session_t *s) {
    omni_json_key(j, "coroutines");
    if (!s->has_coros) {
        omni_json_null(j);
        omni_json_key(j, "awaits");
        omni_json_null(j);
        return;
    }
    omni_json_begin_array(j);
    for (size_t i = 0; i < s->n_coros; i++) {
        const omni_scoro_t *c = &s->coros[i];
        omni_json_begin_object(j);
        omni_json_kv_str(j, "name", s->codes[c->code].name);
        omni_json_kv_str(j, "file", s->codes[c->code].file);
        omni_json_kv_int(j, "line", s->codes[c->code].line);
        omni_json_kv_int(j, "pid", c->pid);
        omni_json_kv_uint(j, "finished", c->finished);
        omni_json_kv_num(j, "wall_s", c->wall_s);
        omni_json_kv_num(j, "await_s", c->await_s);
        omni_json_kv_num(j, "running_s", c->wall_s - c->await_s);
        omni_json_kv_num(j, "mean_wall_s", c->finished ? c->wall_s / (double)c->finished : NAN);
        omni_json_kv_num(j, "max_wall_s", c->max_wall_s);
        omni_json_end_object(j);
    }
    omni_json_end_array(j);
    omni_json_key(j, "awaits");
    const omni_sawait_t **order = malloc((s->n_awaits + 1) * sizeof *order);
    omni_json_begin_array(j);
    for (size_t i = 0; order && i < s->n_awaits; i++)
        order[i] = &s->awaits[i];
    if (order)
        qsort(order, s->n_awaits, sizeof *order, await_by_total);
    for (size_t i = 0; order && i < s->n_awaits; i++) {
        const omni_sawait_t *a = order[i];
        omni_json_begin_object(j);
        omni_json_kv_str(j, "name", s->codes[a->code].name);
        omni_json_kv_str(j, "file", s->codes[a->code].file);
        omni_json_kv_int(j, "line", a->line);
        omni_json_kv_int(j, "pid", a->pid);
        omni_json_kv_uint(j, "count", a->count);
        omni_json_kv_num(j, "total_s", a->total_s);
        omni_json_kv_num(j, "max_s", a->max_s);
        omni_json_end_object(j);
    }
    omni_json_end_array(j);
    free(order);
}

static void write_threads(omni_json_t *j, const omni_session_t *s) {
    omni_json_key(j, "threads");
    omni_json_begin_array(j);
    for (size_t i = 0; i < s->n_threads; i++) {
        const omni_sthread_t *t = &s->threads[i];
        uint64_t calls = 0;
        for (size_t k = 0; k < t->n_funcs; k++)
            calls += t->funcs[k].calls;
        omni_json_begin_object(j);
        omni_json_kv_int(j, "pid", t->pid);
        omni_json_kv_uint(j, "id", t->id);
        omni_json_kv_int(j, "native_id", t->native_id);
        omni_json_kv_str(j, "name", t->name);
        omni_json_kv_uint(j, "threads", t->threads ? t->threads : 1);
        omni_json_kv_str(j, "kind", t->kind);
        omni_json_kv_num(j, "cpu_s", t->cpu_s);
        omni_json_kv_uint(j, "calls", calls);
        omni_json_kv_uint(j, "max_depth", t->max_depth);
        if (s->has_samples) {
            omni_json_kv_uint(j, "samples", t->samples);
            omni_json_kv_uint(j, "cpu_samples", t->cpu_samples);
            omni_json_kv_uint(j, "gil_samples", t->gil_samples);
        } else {
            omni_json_key(j, "samples");
            omni_json_null(j);
        }
        omni_json_end_object(j);
    }
    omni_json_end_array(j);
}

/* ---------------------------------------------------------------- audited events */

static void function_or_null(omni_json_t *j, const omni_session_t *s, int64_t code) {
    omni_json_key(j, "function");
    if (code < 0) {
        omni_json_null(j);
        return;
    }
    omni_json_begin_object(j);
    code_fields(j, s, (uint32_t)code);
    omni_json_end_object(j);
}

/* The interpreter's own transfers: importlib's frames reading modules. */
static int is_interpreter(const omni_session_t *s, int64_t code) {
    return code >= 0 && strncmp(s->codes[code].file, "<frozen ", 8) == 0;
}

typedef struct io_sum {
    uint64_t rb, wb, rops, wops;
} io_sum_t;

static void sum_fields(omni_json_t *j, const io_sum_t *t) {
    omni_json_kv_uint(j, "read_bytes", t->rb);
    omni_json_kv_uint(j, "write_bytes", t->wb);
    omni_json_kv_uint(j, "read_ops", t->rops);
    omni_json_kv_uint(j, "write_ops", t->wops);
}

/* {"2^k": ops} for the sizes of one direction (bucket b holds [2^(b-1), 2^b)). */
static void sizes(omni_json_t *j, const char *key, const uint64_t *h) {
    omni_json_key(j, key);
    omni_json_begin_object(j);
    for (int b = 0; b < 48; b++) {
        if (!h[b])
            continue;
        char k[32];
        if (b == 0)
            snprintf(k, sizeof k, "0");
        else
            snprintf(k, sizeof k, "%llu", 1ull << (b - 1));
        omni_json_kv_uint(j, k, h[b]);
    }
    omni_json_end_object(j);
}

static int by_io_bytes(const void *x, const void *y) {
    const omni_siofn_t *a = *(omni_siofn_t *const *)x, *b = *(omni_siofn_t *const *)y;
    uint64_t ta = a->read_bytes + a->write_bytes, tb = b->read_bytes + b->write_bytes;
    return ta < tb ? 1 : ta > tb ? -1 : 0;
}

/* file, socket (tcp, udp, unix and others), pipe, tty, other: the target's
 * bytes (the interpreter's module reads taken out), the sizes of the
 * operations, and the functions that made them. */
static void write_io_bytes(omni_json_t *j, const omni_session_t *s) {
    if (!s->has_io) {
        unavailable(j, "kinds", "the session has no io record");
        return;
    }
    io_sum_t kinds[OMNI_IO_KINDS] = {{0}}, interp = {0};
    for (size_t k = 0; k < s->n_io_kinds; k++) {
        const omni_siokind_t *t = &s->io_kinds[k];
        kinds[k] = (io_sum_t){t->read_bytes, t->write_bytes, t->read_ops, t->write_ops};
    }
    for (size_t i = 0; i < s->n_io_fns; i++) {
        const omni_siofn_t *f = &s->io_fns[i];
        if (!is_interpreter(s, f->code))
            continue;
        io_sum_t *k = &kinds[f->kind];
        k->rb -= f->read_bytes, k->wb -= f->write_bytes;
        k->rops -= f->read_ops, k->wops -= f->write_ops;
        interp.rb += f->read_bytes, interp.wb += f->write_bytes;
        interp.rops += f->read_ops, interp.wops += f->write_ops;
    }
    static const char *const groups[] = {"file", "socket", "pipe", "tty", "other"};
    for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++) {
        io_sum_t sum = {0};
        uint64_t h[2][48] = {{0}};
        for (size_t k = 0; k < s->n_io_kinds; k++) {
            const char *n = s->io_kinds[k].name;
            int in = g == 1 ? strcmp(n, "tcp") == 0 || strcmp(n, "udp") == 0 ||
                                  strcmp(n, "unix") == 0 || strcmp(n, "socket") == 0
                            : strcmp(n, groups[g]) == 0;
            if (!in)
                continue;
            sum.rb += kinds[k].rb, sum.wb += kinds[k].wb;
            sum.rops += kinds[k].rops, sum.wops += kinds[k].wops;
            for (int d = 0; d < 2; d++)
                for (int b = 0; b < 48; b++)
                    h[d][b] += s->io_kinds[k].sizes[d][b];
        }
        omni_json_key(j, groups[g]);
        omni_json_begin_object(j);
        sum_fields(j, &sum);
        sizes(j, "read_sizes", h[0]);
        sizes(j, "write_sizes", h[1]);
        if (g == 1) /* the socket families apart */
            for (size_t k = 0; k < s->n_io_kinds; k++) {
                const char *n = s->io_kinds[k].name;
                if (strcmp(n, "tcp") && strcmp(n, "udp") && strcmp(n, "unix") && strcmp(n, "socket"))
                    continue;
                omni_json_key(j, n);
                omni_json_begin_object(j);
                sum_fields(j, &kinds[k]);
                omni_json_end_object(j);
            }
        omni_json_end_object(j);
    }
    omni_json_key(j, "interpreter");
    omni_json_begin_object(j);
    sum_fields(j, &interp);
    omni_json_end_object(j);
    const omni_siofn_t **v = malloc((s->n_io_fns + 1) * sizeof *v);
    size_t n = 0;
    for (size_t i = 0; v && i < s->n_io_fns; i++)
        if (!is_interpreter(s, s->io_fns[i].code))
            v[n++] = &s->io_fns[i];
    if (v)
        qsort(v, n, sizeof *v, by_io_bytes);
    omni_json_key(j, "by_function");
    omni_json_begin_array(j);
    for (size_t i = 0; i < n; i++) {
        const omni_siofn_t *f = v[i];
        omni_json_begin_object(j);
        if (f->code >= 0) {
            code_fields(j, s, (uint32_t)f->code);
        } else {
            omni_json_kv_str(j, "file", NULL);
            omni_json_kv_str(j, "name", NULL);
            omni_json_kv_str(j, "line", NULL);
        }
        omni_json_kv_str(j, "kind", s->io_kinds[f->kind].name);
        omni_json_kv_int(j, "pid", f->pid);
        omni_json_kv_uint(j, "read_bytes", f->read_bytes);
        omni_json_kv_uint(j, "write_bytes", f->write_bytes);
        omni_json_kv_uint(j, "read_ops", f->read_ops);
        omni_json_kv_uint(j, "write_ops", f->write_ops);
        omni_json_end_object(j);
    }
    omni_json_end_array(j);
    free(v);
}

static void write_io(omni_json_t *j, const omni_session_t *s) {
    if (!s->has_events && !s->has_io) {
        unavailable(j, "io", "the session has no events or io record (an older session, or "
                             "one cut short)");
        return;
    }
    omni_events_t opens, socks;
    if (omni_events_build(s, "open", &opens) < 0)
        return;
    if (omni_events_build(s, "socket", &socks) < 0) {
        omni_events_free(&opens);
        return;
    }
    available(j, "io");
    uint64_t interp_files = 0, interp_opens = 0;
    omni_json_key(j, "opened");
    omni_json_begin_array(j);
    for (size_t i = 0; i < opens.n; i++) {
        const omni_etotal_ev_t *r = &opens.rows[i];
        if (omni_events_is_interpreter(r)) {
            interp_files++, interp_opens += r->count;
            continue;
        }
        omni_json_begin_object(j);
        omni_json_kv_str(j, "path", r->what);
        omni_json_kv_str(j, "mode", r->detail);
        omni_json_kv_uint(j, "count", r->count);
        function_or_null(j, s, r->code);
        omni_json_end_object(j);
    }
    omni_json_end_array(j);
    omni_json_key(j, "interpreter_reads");
    omni_json_begin_object(j);
    omni_json_kv_uint(j, "files", interp_files);
    omni_json_kv_uint(j, "opens", interp_opens);
    omni_json_end_object(j);
    omni_json_key(j, "sockets");
    omni_json_begin_array(j);
    for (size_t i = 0; i < socks.n; i++) {
        const omni_etotal_ev_t *r = &socks.rows[i];
        omni_json_begin_object(j);
        omni_json_kv_str(j, "address", r->what);
        omni_json_kv_str(j, "how", r->detail);
        omni_json_kv_uint(j, "count", r->count);
        function_or_null(j, s, r->code);
        omni_json_end_object(j);
    }
    omni_json_end_array(j);
    omni_json_kv_uint(j, "events_dropped", s->events_dropped);
    write_io_bytes(j, s);
    omni_json_end_object(j);
    omni_events_free(&opens);
    omni_events_free(&socks);
}

static void write_imports(omni_json_t *j, const omni_session_t *s) {
    omni_events_t im;
    if (!s->has_events || omni_events_build(s, "import", &im) < 0) {
        unavailable(j, "imports", "the session has no events record");
        return;
    }
    double total = 0;
    for (size_t i = 0; i < im.n; i++)
        if (strcmp(im.rows[i].detail, "outermost") == 0)
            total += im.rows[i].seconds;
    available(j, "imports");
    omni_json_kv_num(j, "total_s", total);
    omni_json_kv_num(j, "share_of_wall", s->has_footer && s->wall_s > 0 ? total / s->wall_s : NAN);
    omni_json_key(j, "modules");
    omni_json_begin_array(j);
    for (size_t i = 0; i < im.n; i++) {
        const omni_etotal_ev_t *r = &im.rows[i];
        omni_json_begin_object(j);
        omni_json_kv_str(j, "module", r->what);
        omni_json_kv_num(j, "seconds", r->seconds);
        omni_json_kv_bool(j, "outermost", strcmp(r->detail, "outermost") == 0);
        omni_json_kv_uint(j, "count", r->count);
        function_or_null(j, s, r->code);
        omni_json_end_object(j);
    }
    omni_json_end_array(j);
    omni_json_end_object(j);
    omni_events_free(&im);
}

/* Profilers and tracers of the target's own (cProfile, coverage, debuggers):
 * they keep working; omnipython's times then include their cost. */
static void write_conflicts(omni_json_t *j, const omni_session_t *s) {
    omni_events_t c;
    omni_json_key(j, "conflicts");
    omni_json_begin_array(j);
    if (s->has_events && omni_events_build(s, "conflict", &c) == 0) {
        for (size_t i = 0; i < c.n; i++) {
            omni_json_begin_object(j);
            omni_json_kv_str(j, "event", c.rows[i].what);
            omni_json_kv_uint(j, "count", c.rows[i].count);
            function_or_null(j, s, c.rows[i].code);
            omni_json_kv_str(j, "effect",
                "both run; omnipython's times include the other tool's cost");
            omni_json_end_object(j);
        }
        omni_events_free(&c);
    }
    for (size_t i = 0; i < s->n_warnings; i++)
        if (s->warnings[i] && strstr(s->warnings[i], "frame-evaluation hook replaced")) {
            omni_json_begin_object(j);
            omni_json_kv_str(j, "event", "frame evaluation hook");
            omni_json_kv_uint(j, "count", 1);
            omni_json_key(j, "function");
            omni_json_null(j);
            omni_json_kv_str(j, "effect", s->warnings[i]);
            omni_json_end_object(j);
        }
    omni_json_end_array(j);
}

static void write_subprocesses(omni_json_t *j, const omni_session_t *s) {
    omni_events_t pr;
    omni_json_key(j, "subprocesses");
    omni_json_begin_array(j);
    if (s->has_events && omni_events_build(s, "process", &pr) == 0) {
        for (size_t i = 0; i < pr.n; i++) {
            const omni_etotal_ev_t *r = &pr.rows[i];
            omni_json_begin_object(j);
            omni_json_kv_str(j, "event", r->detail);
            omni_json_kv_str(j, "program", r->what);
            omni_json_kv_uint(j, "count", r->count);
            function_or_null(j, s, r->code);
            omni_json_end_object(j);
        }
        omni_events_free(&pr);
    }
    omni_json_end_array(j);
}

/* ---------------------------------------------------------------- the monitor */

static void write_series(omni_json_t *j, const omni_series_t *t) {
    omni_json_key(j, t->name);
    omni_json_begin_object(j);
    str_list(j, "columns", t->cols, t->n_cols);
    size_t step = t->n_rows > SERIES_MAX_ROWS ? (t->n_rows + SERIES_MAX_ROWS - 1) / SERIES_MAX_ROWS
                                              : 1;
    omni_json_kv_uint(j, "every", step);
    omni_json_key(j, "rows");
    omni_json_begin_array(j);
    for (size_t r = 0; r < t->n_rows; r += step) {
        omni_json_begin_array(j);
        for (size_t c = 0; c < t->n_cols; c++)
            omni_json_num(j, omni_series_at(t, r, (int)c));
        omni_json_end_array(j);
    }
    omni_json_end_array(j);
    omni_json_end_object(j);
}

static void write_timeline(omni_json_t *j, const omni_session_t *s,
                           const omni_timeline_summary_t *t) {
    if (!t->available) {
        unavailable(j, "timeline", t->reason);
        return;
    }
    available(j, "timeline");
    omni_json_kv_num(j, "interval_s", t->interval_s);
    omni_json_kv_uint(j, "samples", t->samples);
    omni_json_kv_num(j, "span_s", t->span_s);
    omni_json_key(j, "summary");
    omni_json_begin_object(j);
    omni_json_kv_num(j, "cpu_pct_mean", t->cpu_pct_mean);
    omni_json_kv_num(j, "cpu_pct_max", t->cpu_pct_max);
    omni_json_kv_num(j, "peak_rss_bytes", t->peak_rss_bytes);
    omni_json_kv_num(j, "final_rss_bytes", t->final_rss_bytes);
    omni_json_kv_num(j, "threads_max", t->threads_max);
    omni_json_kv_num(j, "fds_max", t->fds_max);
    omni_json_kv_num(j, "disk_read_bytes", t->read_bytes);
    omni_json_kv_num(j, "disk_write_bytes", t->write_bytes);
    double span = t->span_s > 0 ? t->span_s : NAN;
    omni_json_kv_num(j, "disk_read_bytes_per_s", t->read_bytes / span);
    omni_json_kv_num(j, "disk_write_bytes_per_s", t->write_bytes / span);
    omni_json_kv_num(j, "read_call_bytes", t->rchar);
    omni_json_kv_num(j, "write_call_bytes", t->wchar);
    omni_json_kv_num(j, "read_syscalls", t->syscr);
    omni_json_kv_num(j, "write_syscalls", t->syscw);
    omni_json_kv_num(j, "voluntary_ctx", t->voluntary_ctx);
    omni_json_kv_num(j, "involuntary_ctx", t->involuntary_ctx);
    omni_json_kv_num(j, "minor_faults", t->minor_faults);
    omni_json_kv_num(j, "major_faults", t->major_faults);
    omni_json_kv_num(j, "load1_max", t->load1_max);
    omni_json_kv_num(j, "mem_available_min_bytes", t->mem_available_min_bytes);
    omni_json_kv_num(j, "machine_busy_pct_mean", t->machine_busy_pct_mean);
    omni_json_key(j, "net");
    omni_json_begin_object(j);
    for (int i = 0; i < t->n_ifaces; i++) {
        omni_json_key(j, t->iface[i]);
        omni_json_begin_object(j);
        omni_json_kv_num(j, "rx_bytes", t->rx_bytes[i]);
        omni_json_kv_num(j, "rx_packets", t->rx_packets[i]);
        omni_json_kv_num(j, "tx_bytes", t->tx_bytes[i]);
        omni_json_kv_num(j, "tx_packets", t->tx_packets[i]);
        omni_json_end_object(j);
    }
    omni_json_end_object(j);
    omni_json_end_object(j);
    omni_json_key(j, "series");
    omni_json_begin_object(j);
    for (size_t i = 0; i < s->n_series; i++)
        write_series(j, &s->series[i]);
    omni_json_end_object(j);
    omni_json_end_object(j);
}

static void write_gpu(omni_json_t *j, const omni_timeline_summary_t *t) {
    if (!t->gpu_available) {
        unavailable(j, "gpu", t->gpu_reason);
        return;
    }
    available(j, "gpu");
    omni_json_key(j, "devices");
    omni_json_begin_array(j);
    for (int d = 0; d < t->n_gpus; d++) {
        omni_json_begin_object(j);
        omni_json_kv_int(j, "index", d);
        omni_json_kv_str(j, "model", t->gpu_model[d]);
        omni_json_kv_num(j, "util_mean_pct", t->gpu_util_mean[d]);
        omni_json_kv_num(j, "util_max_pct", t->gpu_util_max[d]);
        omni_json_kv_num(j, "mem_used_max_bytes", t->gpu_mem_max[d]);
        omni_json_kv_num(j, "process_mem_max_bytes", t->gpu_proc_mem_max[d]);
        omni_json_kv_num(j, "power_max_w", t->gpu_power_max_w[d]);
        omni_json_kv_num(j, "energy_j", t->gpu_energy_j[d]);
        omni_json_end_object(j);
    }
    omni_json_end_array(j);
    omni_json_end_object(j);
}

static void write_counters(omni_json_t *j, const omni_timeline_summary_t *t) {
    if (!t->counters_available) {
        unavailable(j, "counters", t->counters_reason);
        return;
    }
    available(j, "counters");
    omni_json_key(j, "events");
    omni_json_begin_object(j);
    for (int i = 0; i < t->n_events; i++)
        omni_json_kv_num(j, t->event[i], t->event_total[i]);
    omni_json_end_object(j);
    omni_json_kv_num(j, "ipc", t->ipc);
    /* An estimate: every last-level miss moves one cache line from memory. */
    omni_json_kv_num(j, "estimated_memory_bytes", t->est_memory_bytes);
    omni_json_kv_num(j, "estimated_memory_bandwidth_gbps",
                     t->span_s > 0 ? t->est_memory_bytes / t->span_s / 1e9 : NAN);
    omni_json_end_object(j);
}

static void write_energy(omni_json_t *j, const omni_timeline_summary_t *t) {
    int cpu = t->energy_available && !isnan(t->cpu_energy_j);
    int gpu = t->gpu_available && !isnan(t->gpu_energy_total_j) && t->gpu_energy_total_j > 0;
    if (!cpu && !gpu) {
        char why[1024];
        snprintf(why, sizeof why, "%s%s", t->energy_reason,
                 t->gpu_available ? "; the GPUs report no energy" : "");
        unavailable(j, "energy", why);
        return;
    }
    double total = (cpu ? t->cpu_energy_j : 0) + (gpu ? t->gpu_energy_total_j : 0);
    double kwh = total / 3.6e6;
    available(j, "energy");
    omni_json_kv_num(j, "cpu_j", cpu ? t->cpu_energy_j : NAN);
    omni_json_kv_num(j, "gpu_j", gpu ? t->gpu_energy_total_j : NAN);
    omni_json_kv_num(j, "total_j", total);
    omni_json_kv_num(j, "kwh", kwh);
    omni_json_kv_num(j, "grams_co2_per_kwh", t->grams_co2_per_kwh);
    omni_json_kv_num(j, "co2_grams", kwh * t->grams_co2_per_kwh);
    omni_json_kv_str(j, "scope",
        "RAPL counts whole sockets and NVML whole devices, not only this process");
    omni_json_end_object(j);
}

static void write_hardware(omni_json_t *j, const omni_session_t *s) {
    available(j, "hardware");
    /* The monitor's full facts, when it wrote them: cpu, memory, gpu,
     * counters, energy, os (as --hw --format json). */
    msgpack_unpacked u;
    const msgpack_object *m = omni_session_record(s->machine_raw, s->machine_len, &u);
    for (uint32_t i = 0; m && i < m->via.map.size; i++) {
        const msgpack_object_kv *kv = &m->via.map.ptr[i];
        char key[32];
        omni_mp_str(&kv->key, key, sizeof key);
        if (!key[0] || strcmp(key, "kind") == 0)
            continue;
        omni_json_key(j, key);
        omni_json_msgpack(j, &kv->val);
    }
    msgpack_unpacked_destroy(&u);
    omni_json_kv_str(j, "hostname", s->hostname);
    omni_json_kv_str(j, "arch", s->arch);
    omni_json_kv_str(j, "cpu_model", s->cpu_model);
    omni_json_kv_uint(j, "logical_cpus", s->logical_cpus);
    omni_json_kv_uint(j, "memory_total_bytes", s->memory_total_bytes);
    omni_json_kv_str(j, "os", s->os);
    omni_json_kv_str(j, "kernel", s->kernel);
    omni_json_end_object(j);
}

static void write_lines(omni_json_t *j, const omni_session_t *s, const omni_sample_totals_t *st) {
    omni_json_key(j, "lines");
    omni_json_begin_array(j);
    for (size_t i = 0; i < st->n_lines; i++) {
        const omni_line_total_t *l = &st->lines[i];
        omni_json_begin_object(j);
        omni_json_kv_str(j, "file", s->codes[l->code].file);
        omni_json_kv_int(j, "line", l->line);
        omni_json_kv_str(j, "function", s->codes[l->code].name);
        omni_json_kv_int(j, "function_line", s->codes[l->code].line);
        omni_json_kv_uint(j, "samples", l->samples);
        omni_json_kv_uint(j, "cpu_samples", l->cpu);
        omni_json_end_object(j);
    }
    omni_json_end_array(j);
}

static void write_sampling(omni_json_t *j, const omni_session_t *s,
                           const omni_sample_totals_t *st) {
    if (!s->has_samples) {
        unavailable(j, "sampling", "no stack samples (--sample-rate 0, --interval 0, or an "
                                   "older session)");
        return;
    }
    available(j, "sampling");
    omni_json_kv_num(j, "interval_s", s->sample_interval_s);
    omni_json_kv_uint(j, "taken", s->samples_taken);
    omni_json_kv_uint(j, "stack_samples", st->total);
    omni_json_kv_uint(j, "cpu_samples", st->cpu);
    omni_json_kv_uint(j, "errors", s->sample_errors);
    omni_json_kv_uint(j, "dropped", s->samples_dropped);
    omni_json_end_object(j);
}

int omni_report_json(const omni_model_t *m, const char *session_path,
                     const struct omni_findings *findings, FILE *f) {
    const omni_session_t *s = m->s;
    omni_json_t j;
    omni_json_init(&j, f);
    omni_json_begin_object(&j);
    omni_json_kv_str(&j, "schema", "omnipython-report");
    omni_json_kv_int(&j, "schema_version", OMNI_REPORT_SCHEMA_VERSION);
    write_run(&j, s, session_path);
    write_processes(&j, s);
    write_peers(&j, s, &m->peers);
    write_push(&j, s);
    write_repeats(&j, s, &m->runs);
    write_regions(&j, s);
    write_functions(&j, s, &m->profile, &m->samples);
    write_lines(&j, s, &m->samples);
    write_threads(&j, s);
    write_coroutines(&j, s);
    write_sampling(&j, s, &m->samples);
    write_memory(&j, s, &m->memory);
    write_io(&j, s);
    write_imports(&j, s);
    write_subprocesses(&j, s);
    write_conflicts(&j, s);
    write_gpu(&j, &m->timeline);
    write_counters(&j, &m->timeline);
    write_timeline(&j, s, &m->timeline);
    write_energy(&j, &m->timeline);
    write_hardware(&j, s);
    omni_findings_json(&j, findings);
    omni_json_end_object(&j);
    fputc('\n', f);
    return ferror(f) ? -1 : 0;
}
