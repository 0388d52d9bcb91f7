/* callprof_write.c - writes the call profile into the session: the code
 * table and one record per thread (runtime/session/SESSION.md). Runs at the
 * end, possibly from a fatal-signal handler: it allocates nothing. It also
 * runs for a checkpoint on the monitor thread while the target's threads
 * count on (retire.h): a row is read once, counts only grow, and a table
 * never claims more rows than it then holds. */
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

void omni_callprof_write_codes(msgpack_packer *pk) {
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
    uint32_t fn_cap = __atomic_load_n(&t->fn_cap, __ATOMIC_ACQUIRE);
    const omni_fstat_t *fn = __atomic_load_n(&t->fn, __ATOMIC_ACQUIRE);
    uint32_t nf = 0;
    for (uint32_t i = 0; i < fn_cap; i++)
        nf += fn[i].c.calls != 0;
    /* the threads it served that ended, and the one it serves now */
    uint64_t cpu = t->cpu_done_ns;
    if (!__atomic_load_n(&t->ended, __ATOMIC_ACQUIRE)) {
        uint64_t now = task_cpu_ns(t->native_id);
        cpu += !now && t->cpu_known ? t->cpu_ns : now;
    }
    const char *name = t->name[0] ? t->name : t->ident == main_ident ? "MainThread" : NULL;
    uint32_t threads = __atomic_load_n(&t->threads, __ATOMIC_ACQUIRE);

    msgpack_pack_map(pk, threads > 1 ? 10 : 8);
    omni_pack_kv_str(pk, "kind", "thread");
    omni_pack_kv_u64(pk, "id", t->ident);
    omni_pack_kv_i64(pk, "native_id", t->native_id);
    omni_pack_kv_str(pk, "name", name);
    omni_pack_kv_u64(pk, "cpu_ns", cpu);
    omni_pack_kv_u64(pk, "max_depth", t->max_depth);
    if (threads > 1) { /* a record that served several threads of one kind */
        omni_pack_kv_u64(pk, "threads", threads);
        omni_pack_kv_str(pk, "thread_kind", t->kind);
    }

    /* Rows that began to count since they were counted wait for the next
     * checkpoint; the table keeps the length it claims (zero rows pad it:
     * readers skip rows without calls). */
    omni_pack_table_head(pk, "functions", fcols, 6, nf);
    uint32_t done = 0;
    for (uint32_t i = 0; i < fn_cap && done < nf; i++) {
        omni_counts_t c = fn[i].c;
        if (!c.calls)
            continue;
        msgpack_pack_array(pk, 6);
        msgpack_pack_uint32(pk, i);
        pack_counts(pk, &c, npt);
        msgpack_pack_uint32(pk, fn[i].max_level);
        done++;
    }
    static const omni_counts_t none;
    for (; done < nf; done++) {
        msgpack_pack_array(pk, 6);
        msgpack_pack_uint32(pk, 0);
        pack_counts(pk, &none, npt);
        msgpack_pack_uint32(pk, 0);
    }

    uint32_t edge_count = __atomic_load_n(&t->edge_count, __ATOMIC_ACQUIRE);
    const omni_edge_t *edges = __atomic_load_n(&t->edges, __ATOMIC_ACQUIRE);
    uint32_t ne = 0;
    for (uint32_t i = 0; i < edge_count; i++)
        ne += edges[i].c.calls != 0;
    omni_pack_table_head(pk, "edges", ecols, 6, ne);
    done = 0;
    for (uint32_t i = 0; i < edge_count && done < ne; i++) {
        omni_counts_t c = edges[i].c;
        if (!c.calls)
            continue;
        msgpack_pack_array(pk, 6);
        msgpack_pack_uint32(pk, edges[i].caller);
        msgpack_pack_uint32(pk, edges[i].callee);
        pack_counts(pk, &c, npt);
        done++;
    }
    for (; done < ne; done++) {
        msgpack_pack_array(pk, 6);
        msgpack_pack_uint32(pk, 0);
        msgpack_pack_uint32(pk, 0);
        pack_counts(pk, &none, npt);
    }
}

size_t omni_callprof_thread_count(const omni_cthread_t *head) {
    size_t n = 0;
    for (; head; head = head->next)
        n++;
    return n;
}

void omni_callprof_write_threads(msgpack_packer *pk, omni_cthread_t *head, double ns_per_tick,
                                 uint64_t main_ident, omni_cthread_t **order) {
    /* Threads are listed newest first; the session lists them in order of
     * start. Without allocating (this may run in a signal handler): blocks
     * of up to OMNI_THREAD_BLOCK, the oldest block first, each found by a
     * walk from the newest - every thread, however many. */
    size_t total = omni_callprof_thread_count(head);
    for (size_t hi = total; hi > 0;) {
        size_t lo = hi > OMNI_THREAD_BLOCK ? hi - OMNI_THREAD_BLOCK : 0, i = 0, n = 0;
        for (omni_cthread_t *t = head; t && i < hi; t = t->next, i++)
            if (i >= lo)
                order[n++] = t;
        while (n)
            write_thread(pk, order[--n], ns_per_tick, main_ident);
        hi = lo;
    }
}

void omni_callprof_write(msgpack_packer *pk, double ns_per_tick, uint64_t main_ident) {
    static omni_cthread_t *order[OMNI_THREAD_BLOCK];
    omni_callprof_write_codes(pk);
    omni_callprof_write_threads(pk, omni_callprof_threads(), ns_per_tick, main_ident, order);
}
