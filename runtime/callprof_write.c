/* callprof_write.c - writes the call profile into the session: the code
 * table and one record per thread (runtime/session/SESSION.md). Runs at the
 * end, possibly from a fatal-signal handler: it allocates nothing. */
#include "runtime/callprof.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

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

void omni_callprof_write(omni_writer_t *w, double ns_per_tick, uint64_t main_ident) {
    write_codes(&w->pk);
    /* Threads are listed newest first; the session lists them in order of
     * start. Without allocating (this may run in a signal handler): blocks
     * of up to 4096, the oldest block first, each found by a walk from the
     * newest - every thread, however many. */
    static omni_cthread_t *order[4096];
    size_t total = 0;
    for (omni_cthread_t *t = omni_callprof_threads(); t; t = t->next)
        total++;
    for (size_t hi = total; hi > 0;) {
        size_t lo = hi > 4096 ? hi - 4096 : 0, i = 0, n = 0;
        for (omni_cthread_t *t = omni_callprof_threads(); t && i < hi; t = t->next, i++)
            if (i >= lo)
                order[n++] = t;
        while (n)
            write_thread(&w->pk, order[--n], ns_per_tick, main_ident);
        hi = lo;
    }
}
