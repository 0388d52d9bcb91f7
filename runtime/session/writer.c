/* session_writer.c - packs the header, the call profile and the footer into
 * the session file without allocating memory. */
#include "runtime/session_writer.h"

#include "runtime/callprof.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

/* ---------------------------------------------------------------- the byte sink */

static int write_all(int fd, const char *p, size_t n) {
    while (n) {
        ssize_t k = write(fd, p, n);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

int omni_writer_flush(omni_writer_t *w) {
    if (w->fd < 0 || w->err) {
        w->len = 0;
        return w->err ? -w->err : -EBADF;
    }
    int rc = write_all(w->fd, w->buf, w->len);
    w->len = 0;
    if (rc < 0)
        w->err = -rc;
    return rc;
}

static int sink(void *data, const char *p, size_t n) {
    omni_writer_t *w = data;
    if (w->err)
        return -1;
    if (w->len + n > sizeof w->buf) {
        if (omni_writer_flush(w) < 0)
            return -1;
        if (n > sizeof w->buf) {
            int rc = write_all(w->fd, p, n);
            if (rc < 0) {
                w->err = -rc;
                return -1;
            }
            return 0;
        }
    }
    memcpy(w->buf + w->len, p, n);
    w->len += n;
    return 0;
}

int omni_writer_open(omni_writer_t *w, const char *path, omni_writer_how_t how) {
    w->len = 0;
    w->err = 0;
    int flags = O_WRONLY | O_CLOEXEC;
    flags |= how == OMNI_WRITER_NEW ? O_CREAT | O_EXCL
           : how == OMNI_WRITER_TRUNCATE ? O_CREAT | O_TRUNC : O_APPEND;
    w->fd = open(path, flags, 0644);
    if (w->fd < 0)
        return -errno;
    msgpack_packer_init(&w->pk, w, sink);
    return 0;
}

int omni_writer_close(omni_writer_t *w) {
    if (w->fd < 0)
        return 0;
    int rc = omni_writer_flush(w);
    if (close(w->fd) != 0 && rc == 0)
        rc = -errno;
    w->fd = -1;
    return rc;
}

/* ---------------------------------------------------------------- packing helpers */

void omni_pack_str(msgpack_packer *pk, const char *s) {
    if (!s) {
        msgpack_pack_nil(pk);
        return;
    }
    size_t n = strlen(s);
    msgpack_pack_str(pk, n);
    msgpack_pack_str_body(pk, s, n);
}

void omni_pack_kv_str(msgpack_packer *pk, const char *key, const char *val) {
    omni_pack_str(pk, key);
    omni_pack_str(pk, val);
}

void omni_pack_kv_u64(msgpack_packer *pk, const char *key, uint64_t val) {
    omni_pack_str(pk, key);
    msgpack_pack_uint64(pk, val);
}

void omni_pack_kv_i64(msgpack_packer *pk, const char *key, int64_t val) {
    omni_pack_str(pk, key);
    msgpack_pack_int64(pk, val);
}

void omni_pack_kv_f64(msgpack_packer *pk, const char *key, double val) {
    omni_pack_str(pk, key);
    msgpack_pack_double(pk, val);
}

static void pack_str_array(msgpack_packer *pk, int n, char *const *v) {
    msgpack_pack_array(pk, (size_t)(n > 0 ? n : 0));
    for (int i = 0; i < n; i++)
        omni_pack_str(pk, v[i]);
}

/* The start of a table {columns: [...], rows: [...]}: the caller packs
 * nrows rows next. key names the table inside its record, NULL when the
 * table's two keys are the record's own (the caller counted them). */
void omni_pack_table_head(msgpack_packer *pk, const char *key, const char *const *cols,
                          size_t ncols, size_t nrows) {
    if (key) {
        omni_pack_str(pk, key);
        msgpack_pack_map(pk, 2);
    }
    omni_pack_str(pk, "columns");
    msgpack_pack_array(pk, ncols);
    for (size_t i = 0; i < ncols; i++)
        omni_pack_str(pk, cols[i]);
    omni_pack_str(pk, "rows");
    msgpack_pack_array(pk, nrows);
}

/* ---------------------------------------------------------------- records */

void omni_session_write_header(omni_writer_t *w, const omni_header_t *h) {
    msgpack_packer *pk = &w->pk;
    msgpack_pack_map(pk, 19);
    omni_pack_kv_str(pk, "kind", "header");
    omni_pack_kv_str(pk, "format", OMNI_SESSION_FORMAT);
    omni_pack_kv_u64(pk, "version", OMNI_SESSION_VERSION);
    omni_pack_kv_str(pk, "session_id", h->session_id);
    omni_pack_kv_i64(pk, "pid", h->pid);
    omni_pack_kv_i64(pk, "ppid", h->ppid);
    omni_pack_kv_u64(pk, "start_unix_ns", h->start_unix_ns);
    omni_pack_str(pk, "argv");
    pack_str_array(pk, h->argc, h->argv);
    omni_pack_str(pk, "sys_argv");
    pack_str_array(pk, h->sys_argc, h->sys_argv);
    omni_pack_kv_str(pk, "target", h->target);
    omni_pack_kv_str(pk, "cwd", h->cwd);
    omni_pack_kv_str(pk, "executable", h->executable);
    omni_pack_kv_str(pk, "python_version", h->python_version);
    omni_pack_kv_str(pk, "omni_version", OMNI_VERSION);
    omni_pack_kv_str(pk, "mode", h->mode);
    omni_pack_kv_str(pk, "started_by", h->started_by ? h->started_by : "command");
    omni_pack_str(pk, "parent_session_id");
    if (h->parent_session_id[0])
        omni_pack_str(pk, h->parent_session_id);
    else
        msgpack_pack_nil(pk);
    omni_pack_str(pk, "parent_pid");
    if (h->parent_pid)
        msgpack_pack_int64(pk, h->parent_pid);
    else
        msgpack_pack_nil(pk);
    omni_pack_str(pk, "machine");
    const omni_hw_summary_t *m = &h->machine;
    msgpack_pack_map(pk, 7);
    omni_pack_kv_str(pk, "hostname", m->hostname);
    omni_pack_kv_str(pk, "arch", m->arch);
    omni_pack_kv_str(pk, "cpu_model", m->cpu_model);
    omni_pack_kv_u64(pk, "logical_cpus", (uint64_t)m->logical_cpus);
    omni_pack_kv_u64(pk, "memory_total_bytes", m->mem_total_bytes);
    omni_pack_kv_str(pk, "os", m->os);
    omni_pack_kv_str(pk, "kernel", m->kernel);
}

static uint64_t ticks_to_ns(uint64_t ticks, double ns_per_tick) {
    return (uint64_t)((double)ticks * ns_per_tick + 0.5);
}

/* calls, primitive_calls, inclusive_ns, exclusive_ns: four cells of a row. */
static void pack_counts(msgpack_packer *pk, const omni_counts_t *c, double npt) {
    msgpack_pack_uint64(pk, c->calls);
    msgpack_pack_uint64(pk, c->calls - c->rec_calls);
    msgpack_pack_uint64(pk, ticks_to_ns(c->incl, npt));
    msgpack_pack_uint64(pk, ticks_to_ns(c->excl, npt));
}

/* CPU time of a thread that is still alive, from the scheduler's own
 * accounting (ns); 0 if it is gone or the file is missing. */
static uint64_t task_cpu_ns(long tid) {
    char path[64], buf[128];
    snprintf(path, sizeof path, "/proc/self/task/%ld/schedstat", tid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    unsigned long long ns = 0;
    return sscanf(buf, "%llu", &ns) == 1 ? (uint64_t)ns : 0;
}

static void write_codes(msgpack_packer *pk) {
    static const char *const cols[] = {"id", "file", "name", "line"};
    uint32_t n = omni_callprof_code_count();
    msgpack_pack_map(pk, 3);
    omni_pack_kv_str(pk, "kind", "codes");
    omni_pack_table_head(pk, NULL, cols, 4, n);
    for (uint32_t i = 0; i < n; i++) {
        const omni_code_info_t *c = omni_callprof_code(i);
        msgpack_pack_array(pk, 4);
        msgpack_pack_uint32(pk, i);
        omni_pack_str(pk, c->file);
        omni_pack_str(pk, c->name);
        msgpack_pack_int(pk, c->line);
    }
}

static void write_thread(msgpack_packer *pk, omni_cthread_t *t, double npt, uint64_t main_ident) {
    static const char *const fcols[] = {"code", "calls", "primitive_calls", "inclusive_ns",
                                        "exclusive_ns", "max_recursion"};
    static const char *const ecols[] = {"caller", "callee", "calls", "primitive_calls",
                                        "inclusive_ns", "exclusive_ns"};
    uint32_t nf = 0;
    for (uint32_t i = 0; i < t->fn_cap; i++)
        nf += t->fn[i].c.calls != 0;
    uint64_t cpu = task_cpu_ns(t->native_id);
    if (!cpu && t->cpu_known)
        cpu = t->cpu_ns;
    const char *name = t->name[0] ? t->name : t->ident == main_ident ? "MainThread" : NULL;

    msgpack_pack_map(pk, 8);
    omni_pack_kv_str(pk, "kind", "thread");
    omni_pack_kv_u64(pk, "id", t->ident);
    omni_pack_kv_i64(pk, "native_id", t->native_id);
    omni_pack_kv_str(pk, "name", name);
    omni_pack_kv_u64(pk, "cpu_ns", cpu);
    omni_pack_kv_u64(pk, "max_depth", t->max_depth);

    omni_pack_table_head(pk, "functions", fcols, 6, nf);
    for (uint32_t i = 0; i < t->fn_cap; i++) {
        const omni_fstat_t *s = &t->fn[i];
        if (!s->c.calls)
            continue;
        msgpack_pack_array(pk, 6);
        msgpack_pack_uint32(pk, i);
        pack_counts(pk, &s->c, npt);
        msgpack_pack_uint32(pk, s->max_level);
    }

    uint32_t ne = 0;
    for (uint32_t i = 0; i < t->edge_count; i++)
        ne += t->edges[i].c.calls != 0;
    omni_pack_table_head(pk, "edges", ecols, 6, ne);
    for (uint32_t i = 0; i < t->edge_count; i++) {
        const omni_edge_t *e = &t->edges[i];
        if (!e->c.calls)
            continue;
        msgpack_pack_array(pk, 6);
        msgpack_pack_uint32(pk, e->caller);
        msgpack_pack_uint32(pk, e->callee);
        pack_counts(pk, &e->c, npt);
    }
}

void omni_session_write_profile(omni_writer_t *w, double ns_per_tick, uint64_t main_ident) {
    write_codes(&w->pk);
    /* Threads are listed newest first; the session lists them in order of start. */
    omni_cthread_t *order[4096];
    size_t n = 0;
    for (omni_cthread_t *t = omni_callprof_threads(); t && n < 4096; t = t->next)
        order[n++] = t;
    while (n)
        write_thread(&w->pk, order[--n], ns_per_tick, main_ident);
}

const char *omni_exit_how_name(omni_exit_how_t how) {
    switch (how) {
    case OMNI_EXIT_RETURN: return "return";
    case OMNI_EXIT_EXIT: return "exit";
    case OMNI_EXIT_UNDERSCORE_EXIT: return "_exit";
    case OMNI_EXIT_SIGNAL: return "signal";
    case OMNI_EXIT_KEYBOARD_INTERRUPT: return "keyboard_interrupt";
    case OMNI_EXIT_EXEC: return "exec";
    }
    return "unknown";
}

void omni_session_write_footer(omni_writer_t *w, const omni_footer_t *f) {
    msgpack_packer *pk = &w->pk;
    msgpack_pack_map(pk, 14);
    omni_pack_kv_str(pk, "kind", "footer");
    omni_pack_kv_i64(pk, "exit_status", f->exit_status);
    omni_pack_str(pk, "timed_out");
    if (f->timed_out)
        msgpack_pack_true(pk);
    else
        msgpack_pack_false(pk);
    omni_pack_kv_str(pk, "exit_how", omni_exit_how_name(f->how));
    omni_pack_kv_i64(pk, "signal", f->signal);
    omni_pack_kv_u64(pk, "wall_ns", f->wall_ns);
    omni_pack_kv_u64(pk, "cpu_user_ns", f->cpu_user_ns);
    omni_pack_kv_u64(pk, "cpu_sys_ns", f->cpu_sys_ns);
    omni_pack_kv_u64(pk, "peak_rss_bytes", f->peak_rss_bytes);
    omni_pack_kv_u64(pk, "end_unix_ns", f->end_unix_ns);
    omni_pack_kv_f64(pk, "ns_per_tick", f->ns_per_tick);
    omni_pack_kv_str(pk, "clock", f->clock);
    omni_pack_str(pk, "warnings");
    msgpack_pack_array(pk, (size_t)f->n_warnings);
    for (int i = 0; i < f->n_warnings; i++)
        omni_pack_str(pk, f->warnings[i]);
    omni_pack_kv_str(pk, "end", "complete");
}
