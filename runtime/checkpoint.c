/* checkpoint.c - the running process's tables, beside its session
 * (checkpoint.h). */
#define _GNU_SOURCE
#include "runtime/checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <msgpack.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "runtime/audit.h"
#include "runtime/callprof.h"
#include "runtime/clock.h"
#include "runtime/coro.h"
#include "runtime/iocount.h"
#include "runtime/memtrack.h"
#include "runtime/monitor.h"
#include "runtime/regions.h"
#include "runtime/retire.h"
#include "runtime/sampler.h"
#include "runtime/session/format.h"
#include "runtime/session/pack.h"
#include "runtime/session/writer.h"

/* The records, in the session's own encoding: the threads before the codes,
 * so that every code a table names is in the code table read after it (the
 * memory record's sites too). */
static void pack(msgpack_packer *pk, const omni_checkpoint_t *c) {
    msgpack_pack_map(pk, 5);
    omni_pack_kv_str(pk, "kind", "checkpoint");
    omni_pack_kv_str(pk, "session_id", c->session_id);
    omni_pack_kv_u64(pk, "seq", c->seq);
    omni_pack_kv_u64(pk, "t_ns", c->t_ns);
    omni_pack_kv_u64(pk, "unix_ns", omni_clock_unix_ns());
    double npt = omni_clock_ns_per_tick();
    static omni_cthread_t *order[OMNI_THREAD_BLOCK]; /* the end has its own */
    omni_retire_read_begin();
    omni_callprof_write_threads(pk, omni_callprof_threads(), npt, c->main_ident, order);
    omni_audit_write(pk, npt);
    omni_sampler_write(pk);
    omni_iocount_write(pk);
    omni_regions_write(pk);
    omni_coro_write(pk, npt, omni_callprof_code_line);
    omni_memtrack_write_checkpoint(pk, c->t_ns);
    omni_monitor_pack_recent(pk, c->t_ns);
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    omni_callprof_write_codes(pk);
    omni_retire_read_end();
}

long long omni_checkpoint_write(const omni_checkpoint_t *c) {
    char path[4200], tmp[4210];
    if ((size_t)snprintf(path, sizeof path, "%s%s", c->session_path, OMNI_CHECKPOINT_SUFFIX) >=
        sizeof path)
        return -ENAMETOOLONG;
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    pack(&pk, c);
    int rc = 0;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = -errno;
    } else {
        rc = omni_write_all(fd, sb.data, sb.size);
        if (close(fd) < 0 && rc == 0)
            rc = -errno;
        if (rc == 0 && rename(tmp, path) < 0)
            rc = -errno;
        if (rc < 0)
            unlink(tmp);
    }
    long long size = (long long)sb.size;
    msgpack_sbuffer_destroy(&sb);
    return rc < 0 ? rc : size;
}

void omni_checkpoint_remove(const char *session_path) {
    char path[4200];
    if ((size_t)snprintf(path, sizeof path, "%s%s", session_path, OMNI_CHECKPOINT_SUFFIX) <
        sizeof path)
        unlink(path); /* async-signal-safe: the end may run in a signal handler */
}
