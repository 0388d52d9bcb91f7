/* report_json.c - the JSON report: one document whose keys are the public,
 * versioned contract described in README.md. */
#include "patterns/report.h"

#include "patterns/json_out.h"

#define OMNI_REPORT_SCHEMA_VERSION 1

static void kv_str(omni_json_t *j, const char *k, const char *v) {
    omni_json_key(j, k);
    omni_json_str(j, v);
}

static void kv_num(omni_json_t *j, const char *k, double v) {
    omni_json_key(j, k);
    omni_json_num(j, v);
}

static void kv_uint(omni_json_t *j, const char *k, uint64_t v) {
    omni_json_key(j, k);
    omni_json_uint(j, v);
}

static void kv_int(omni_json_t *j, const char *k, int64_t v) {
    omni_json_key(j, k);
    omni_json_int(j, v);
}

static void str_list(omni_json_t *j, const char *k, char *const *v, size_t n) {
    omni_json_key(j, k);
    omni_json_begin_array(j);
    for (size_t i = 0; i < n; i++)
        omni_json_str(j, v[i]);
    omni_json_end_array(j);
}

/* A collector this version does not have: {available: false, reason}. */
static void unavailable(omni_json_t *j, const char *k, const char *reason) {
    omni_json_key(j, k);
    omni_json_begin_object(j);
    omni_json_key(j, "available");
    omni_json_bool(j, 0);
    kv_str(j, "reason", reason);
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
    kv_str(j, "target", s->target);
    exit_and_wall(j, s);
    kv_str(j, "exit_how", s->has_footer ? s->exit_how : NULL);
    kv_int(j, "signal", s->signal);
    kv_num(j, "cpu_user_s", s->cpu_user_s);
    kv_num(j, "cpu_sys_s", s->cpu_sys_s);
    kv_uint(j, "peak_rss_bytes", s->peak_rss_bytes);
    kv_str(j, "python_version", s->python_version);
    kv_str(j, "omni_version", s->omni_version);
    kv_str(j, "mode", s->mode);
    omni_json_key(j, "timed_out");
    omni_json_bool(j, 0);
    omni_json_key(j, "complete");
    omni_json_bool(j, s->has_footer && !s->truncated);
    kv_str(j, "session", path);
    kv_str(j, "session_id", s->session_id);
    kv_int(j, "pid", s->pid);
    kv_num(j, "start_unix_s", s->start_unix_s);
    kv_str(j, "cwd", s->cwd);
    kv_str(j, "clock", s->clock);
    str_list(j, "warnings", s->warnings, s->n_warnings);
    omni_json_end_object(j);
}

static void write_processes(omni_json_t *j, const omni_session_t *s, const char *path) {
    omni_json_key(j, "processes");
    omni_json_begin_array(j);
    omni_json_begin_object(j);
    kv_int(j, "pid", s->pid);
    kv_int(j, "ppid", s->ppid);
    str_list(j, "argv", s->argv, s->argc);
    kv_str(j, "session", path);
    exit_and_wall(j, s);
    omni_json_end_object(j);
    omni_json_end_array(j);
}

static void code_fields(omni_json_t *j, const omni_session_t *s, uint32_t code) {
    kv_str(j, "file", s->codes[code].file);
    kv_str(j, "name", s->codes[code].name);
    kv_int(j, "line", s->codes[code].line);
}

static void write_functions(omni_json_t *j, const omni_session_t *s, const omni_profile_t *p) {
    omni_json_key(j, "functions");
    omni_json_begin_array(j);
    for (size_t i = 0; i < p->n_funcs; i++) {
        const omni_ftotal_t *f = &p->funcs[i];
        omni_json_begin_object(j);
        code_fields(j, s, f->code);
        kv_uint(j, "calls", f->calls);
        kv_uint(j, "primitive_calls", f->primitive_calls);
        kv_num(j, "inclusive_s", f->inclusive_s);
        kv_num(j, "exclusive_s", f->exclusive_s);
        kv_uint(j, "max_recursion", f->max_recursion);
        omni_json_key(j, "samples");
        omni_json_null(j); /* no stack sampler in this version */
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
        kv_uint(j, "calls", e->calls);
        kv_uint(j, "primitive_calls", e->primitive_calls);
        kv_num(j, "inclusive_s", e->inclusive_s);
        kv_num(j, "exclusive_s", e->exclusive_s);
        omni_json_end_object(j);
    }
    omni_json_end_array(j);
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
        kv_uint(j, "id", t->id);
        kv_int(j, "native_id", t->native_id);
        kv_str(j, "name", t->name);
        kv_num(j, "cpu_s", t->cpu_s);
        kv_uint(j, "calls", calls);
        kv_uint(j, "max_depth", t->max_depth);
        omni_json_key(j, "samples");
        omni_json_null(j);
        omni_json_end_object(j);
    }
    omni_json_end_array(j);
}

static void write_hardware(omni_json_t *j, const omni_session_t *s) {
    omni_json_key(j, "hardware");
    omni_json_begin_object(j);
    omni_json_key(j, "available");
    omni_json_bool(j, 1);
    kv_str(j, "hostname", s->hostname);
    kv_str(j, "arch", s->arch);
    kv_str(j, "cpu_model", s->cpu_model);
    kv_uint(j, "logical_cpus", s->logical_cpus);
    kv_uint(j, "memory_total_bytes", s->memory_total_bytes);
    kv_str(j, "os", s->os);
    kv_str(j, "kernel", s->kernel);
    omni_json_end_object(j);
}

int omni_report_json(const omni_session_t *s, const char *session_path, FILE *f) {
    omni_profile_t p;
    if (omni_profile_build(s, &p) < 0)
        return -1;
    omni_json_t j;
    omni_json_init(&j, f);
    omni_json_begin_object(&j);
    kv_str(&j, "schema", "omnipython-report");
    kv_int(&j, "schema_version", OMNI_REPORT_SCHEMA_VERSION);
    write_run(&j, s, session_path);
    write_processes(&j, s, session_path);
    write_functions(&j, s, &p);
    omni_json_key(&j, "lines");
    omni_json_begin_array(&j);
    omni_json_end_array(&j);
    write_threads(&j, s);
    const char *later = "not collected by this version of omnipython";
    unavailable(&j, "memory", later);
    unavailable(&j, "io", later);
    unavailable(&j, "gpu", later);
    unavailable(&j, "counters", later);
    unavailable(&j, "timeline", later);
    write_hardware(&j, s);
    omni_json_key(&j, "findings");
    omni_json_begin_array(&j);
    omni_json_end_array(&j);
    omni_json_end_object(&j);
    fputc('\n', f);
    omni_profile_free(&p);
    return ferror(f) ? -1 : 0;
}
