/* writer.c - the session file's byte sink, and its header and footer records,
 * written without allocating memory. */
#include "runtime/session/writer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

/* ---------------------------------------------------------------- the byte sink */

int omni_write_all(int fd, const void *data, size_t n) {
    const char *p = data;
    while (n) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return k < 0 ? -errno : -EIO;
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
    int rc = omni_write_all(w->fd, w->buf, w->len);
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
            int rc = omni_write_all(w->fd, p, n);
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
    omni_pack_str_array(pk, h->argc, h->argv);
    omni_pack_str(pk, "sys_argv");
    omni_pack_str_array(pk, h->sys_argc, h->sys_argv);
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
    msgpack_pack_map(pk, 17);
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
    omni_pack_kv_u64(pk, "checkpoints", f->checkpoints);
    omni_pack_kv_u64(pk, "checkpoint_bytes", f->checkpoint_bytes);
    omni_pack_kv_u64(pk, "checkpoint_max_ns", f->checkpoint_max_ns);
    omni_pack_str(pk, "warnings");
    msgpack_pack_array(pk, (size_t)f->n_warnings);
    for (int i = 0; i < f->n_warnings; i++)
        omni_pack_str(pk, f->warnings[i]);
    omni_pack_kv_str(pk, "end", "complete");
}
