/* monitor.c - the monitor thread: a libuv loop whose timer reads the
 * process, the system, counters, GPUs and energy, and appends the readings to
 * the session as timeline records, about one a second. */
#define _GNU_SOURCE
#include "runtime/monitor.h"

#include "hw/facts.h"
#include "runtime/session/pack_hw.h"
#include "hw/procstat.h"
#include "runtime/clock.h"
#include "runtime/iocount.h"
#include "runtime/memtrack.h"
#include "runtime/ownthread.h"
#include "runtime/sampler.h"
#include "runtime/session/trim.h"
#include "runtime/session/writer.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#define CHUNK_ROWS 64            /* samples per timeline record at most */
#define CHUNK_NS 1000000000ull   /* and a record at least every second */
#define STOP_WAIT_US 1000000   /* how long the end waits for the monitor */
#define STOP_POLL_US 50

/* ---------------------------------------------------------------- tables */

/* A table of numbers being filled for the next timeline record. NaN packs
 * as nil (a value the probe did not give); integral values pack as integers. */
typedef struct table {
    const char *name;
    int n_cols;
    char **cols;          /* owned */
    double *cells;        /* rows * n_cols */
    int rows, cap;
} table_t;

static int table_init(table_t *t, const char *name, int n_cols, int cap) {
    memset(t, 0, sizeof *t);
    t->name = name;
    t->n_cols = n_cols;
    t->cap = cap;
    t->cols = calloc((size_t)n_cols, sizeof *t->cols);
    t->cells = malloc(sizeof(double) * (size_t)n_cols * (size_t)cap);
    return t->cols && t->cells ? 0 : -ENOMEM;
}

static void table_col(table_t *t, int i, const char *fmt, const char *arg) {
    char buf[96];
    snprintf(buf, sizeof buf, fmt, arg);
    t->cols[i] = strdup(buf);
}

static void table_free(table_t *t) {
    for (int i = 0; t->cols && i < t->n_cols; i++)
        free(t->cols[i]);
    free(t->cols);
    free(t->cells);
    memset(t, 0, sizeof *t);
}

/* The next row to fill, or NULL when the table is full (or absent). */
static double *table_row(table_t *t) {
    if (!t->cells || t->rows == t->cap)
        return NULL;
    return t->cells + (size_t)t->n_cols * (size_t)t->rows++;
}

static void pack_num(msgpack_packer *pk, double v) {
    if (isnan(v))
        msgpack_pack_nil(pk);
    else if (v == (double)(int64_t)v && fabs(v) < 9e15)
        msgpack_pack_int64(pk, (int64_t)v);
    else
        msgpack_pack_double(pk, v);
}

/* A table's name, columns and the head of its n rows. */
static void table_head(msgpack_packer *pk, const table_t *t, size_t n) {
    omni_pack_str(pk, t->name);
    msgpack_pack_map(pk, 2);
    omni_pack_str(pk, "columns");
    msgpack_pack_array(pk, (size_t)t->n_cols);
    for (int i = 0; i < t->n_cols; i++)
        omni_pack_str(pk, t->cols[i] ? t->cols[i] : "?");
    omni_pack_str(pk, "rows");
    msgpack_pack_array(pk, n);
}

static void row_pack(msgpack_packer *pk, const double *row, int n_cols) {
    msgpack_pack_array(pk, (size_t)n_cols);
    for (int c = 0; c < n_cols; c++)
        pack_num(pk, row[c]);
}

static void table_pack(msgpack_packer *pk, const table_t *t) {
    table_head(pk, t, (size_t)t->rows);
    for (int r = 0; r < t->rows; r++)
        row_pack(pk, t->cells + (size_t)r * (size_t)t->n_cols, t->n_cols);
}

/* The rows the timeline's thinning leaves out of the session (row_period),
 * kept for the most recent cfg.full_res_ns, oldest first: the end writes
 * them (and a checkpoint the last RECENT_CKPT_NS of them), so that a long
 * run's last minutes are at full resolution. At most RING_MAX_BYTES a
 * table. */
typedef struct ring {
    double *cells;   /* cap rows of n_cols */
    int n_cols, cap, head, n;
} ring_t;

#define RING_MAX_BYTES (4u << 20)
#define RECENT_CKPT_NS 60000000000ull

static double *ring_at(const ring_t *g, int i) {
    return g->cells + (size_t)((g->head + i) % g->cap) * (size_t)g->n_cols;
}

/* Keeps a row taken at t (its first cell), dropping rows older than window. */
static void ring_push(ring_t *g, const table_t *t, const double *row, uint64_t window,
                      uint64_t interval) {
    if (!g->cells) {
        uint64_t rows = interval ? window / interval + 2 : 0;
        uint64_t most = RING_MAX_BYTES / (sizeof(double) * (size_t)t->n_cols);
        g->cap = (int)(rows < most ? rows : most);
        g->n_cols = t->n_cols;
        g->head = g->n = 0;
        if (g->cap < 1 || !(g->cells = malloc((size_t)g->cap * (size_t)g->n_cols * sizeof(double))))
            return;
    }
    while (g->n && (g->n == g->cap || ring_at(g, 0)[0] + (double)window < row[0]))
        g->head = (g->head + 1) % g->cap, g->n--;
    memcpy(ring_at(g, g->n++), row, (size_t)g->n_cols * sizeof(double));
}

static void ring_free(ring_t *g) {
    free(g->cells);
    memset(g, 0, sizeof *g);
}

/* The table's rows of the ring taken at or after since, as table_pack packs. */
static void ring_pack(msgpack_packer *pk, const table_t *t, const ring_t *g, double since) {
    int first = 0;
    while (first < g->n && ring_at(g, first)[0] < since)
        first++;
    table_head(pk, t, (size_t)(g->n - first));
    for (int r = first; r < g->n; r++)
        row_pack(pk, ring_at(g, r), t->n_cols);
}

/* ---------------------------------------------------------------- state */

enum { T_PROCESS, T_CORES, T_NET, T_GPU, T_COUNTERS, T_ENERGY, N_TABLES };

static const char *const process_cols[] = {
    "t_ns", "cpu_user_ns", "cpu_sys_ns", "rss_bytes", "peak_rss_bytes", "threads",
    "voluntary_ctx", "involuntary_ctx", "minor_faults", "major_faults", "read_bytes",
    "write_bytes", "rchar", "wchar", "syscr", "syscw", "fds", "load1", "mem_available_bytes",
    "stack_samples", "cpu_samples", "gil_samples", "py_live_bytes", "native_live_bytes",
    "finalizing"};
#define N_PROCESS_COLS (int)(sizeof process_cols / sizeof process_cols[0])

static const char *const gpu_cols[] = {"t_ns", "device", "util_pct", "mem_util_pct",
                                       "mem_used_bytes", "proc_mem_bytes", "power_w",
                                       "energy_mj", "temp_c", "sm_mhz", "mem_mhz"};
#define N_GPU_COLS (int)(sizeof gpu_cols / sizeof gpu_cols[0])

static struct {
    omni_monitor_config_t cfg;
    char path[4096];
    int fd;                     /* the session, O_APPEND; -1 when closed */
    int running;                /* the thread exists (in this process) */
    pthread_t thread;
    uv_loop_t loop;
    uv_timer_t timer;
    uv_timer_t probe_timer;     /* starts the prober a moment after the target */
    uv_timer_t sample_timer;    /* the stack sampler's */
    uv_async_t wake;            /* omni_monitor_stop's request */
    int stop;                   /* atomic: write nothing more */
    int in_write;               /* atomic: a record is being written */
    int done;                   /* atomic: the thread has written its last record */
    int skip_fds[16];           /* the loop's and the session's descriptors */
    int n_skip;
    uint64_t seq;               /* timeline records written */
    uint64_t last_flush_ns;
    uint64_t last_row_ns;       /* when the last row was taken */
    char request[4120];         /* the file that asks for a checkpoint */
    uint64_t ckpt_seq;          /* checkpoints taken */
    uint64_t next_ckpt_ns;      /* when the next one is due (UINT64_MAX: when asked) */
    omni_hw_facts_t facts;      /* filled by the prober thread */
    int probe_done;             /* atomic: the prober has filled facts and counters */
    int prober_alive;           /* atomic: the prober thread is running */
    int probed;                 /* the monitor has taken the probes' results in */
    int facts_valid;            /* facts hold the machine (a forked child keeps its parent's) */
    omni_counters_t counters;
    omni_sys_sample_t sys[2];   /* the last two system readings */
    omni_cpu_times_t cpu_due;   /* the cores' times at the session's last row */
    int sys_cur;
    int n_cores, n_ifaces;
    char ifaces[OMNI_MAX_IFACES][32];
    table_t t[N_TABLES];
    ring_t recent[N_TABLES];    /* the rows thinned out of the session, lately */
    int dropped;                /* samples lost because a table was full */
} mon = {.fd = -1};

/* What omni_sys_read reads through, used where mon.sys is (procstat.h). */
static char sys_text[OMNI_SYS_TEXT];

static uint64_t now_ns(void) {
    return omni_clock_mono_ns() - mon.cfg.start_mono_ns;
}

/* ---------------------------------------------------------------- writing */

/* Writes one whole record with one write(2) (O_APPEND keeps it in one
 * piece), unless the process is ending: omni_monitor_stop sets stop, then
 * waits while in_write. The two flags in this order make sure that either
 * this write sees stop, or stop sees the write and waits for it. */
static void write_record(const msgpack_sbuffer *sb) {
    __atomic_store_n(&mon.in_write, 1, __ATOMIC_SEQ_CST);
    if (!__atomic_load_n(&mon.stop, __ATOMIC_SEQ_CST) && mon.fd >= 0) {
        size_t off = 0;
        while (off < sb->size) {
            ssize_t n = write(mon.fd, sb->data + off, sb->size - off);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            off += (size_t)n;
        }
    }
    __atomic_store_n(&mon.in_write, 0, __ATOMIC_SEQ_CST);
}

/* The session past its bound: its oldest timeline records go (only this
 * thread writes it while the run goes on). */
static void keep_in_bound(void) {
    struct stat st;
    if (!mon.cfg.max_session_bytes || mon.fd < 0 || fstat(mon.fd, &st) < 0 ||
        (uint64_t)st.st_size <= mon.cfg.max_session_bytes)
        return;
    __atomic_store_n(&mon.in_write, 1, __ATOMIC_SEQ_CST);
    if (!__atomic_load_n(&mon.stop, __ATOMIC_SEQ_CST)) {
        int fd = omni_session_trim(mon.path, (size_t)(mon.cfg.max_session_bytes / 2));
        if (fd >= 0) {
            omni_iocount_hide_own(fd);
            omni_iocount_close_own(mon.fd);
            mon.skip_fds[0] = fd;
            mon.fd = fd;
        }
    }
    __atomic_store_n(&mon.in_write, 0, __ATOMIC_SEQ_CST);
}

static void flush_timeline(void) {
    int n = 1;
    for (int i = 0; i < N_TABLES; i++)
        n += mon.t[i].rows > 0;
    if (n == 1)
        return;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, (size_t)n + 1);
    omni_pack_kv_str(&pk, "kind", "timeline");
    omni_pack_kv_u64(&pk, "seq", mon.seq++);
    for (int i = 0; i < N_TABLES; i++)
        if (mon.t[i].rows > 0) {
            table_pack(&pk, &mon.t[i]);
            mon.t[i].rows = 0;
        }
    write_record(&sb);
    msgpack_sbuffer_destroy(&sb);
    mon.last_flush_ns = now_ns();
    keep_in_bound();
}

/* ---------------------------------------------------------------- sampling */

/* on_monitor: called on the monitor thread (not before it starts). due:
 * the row goes into the session (else into the recent rows): its cores'
 * busy share is since the session's previous row, not the previous sample.
 * omnipython's threads and descriptors (ownthread.h) are not the target's. */
static void sample_process(uint64_t t, int on_monitor, int due) {
    omni_proc_sample_t p;
    omni_sys_sample_t *prev = &mon.sys[mon.sys_cur], *cur = &mon.sys[mon.sys_cur ^ 1];
    int skip[64];
    int n_skip = omni_iocount_own_fds(skip, 64);
    omni_proc_read(&p, skip, n_skip);
    omni_sys_read(cur, sys_text, sizeof sys_text);
    double *r = table_row(&mon.t[T_PROCESS]);
    if (!r) {
        mon.dropped++;
        return;
    }
    double threads = p.threads ? (double)p.threads - omni_own_threads_alive() : NAN;
    /* While the prober runs, the files it reads through the C library's
     * own calls (fopen, opendir: not seen as made by omnipython) would be
     * counted as the target's: no count then. */
    double fds = __atomic_load_n(&mon.prober_alive, __ATOMIC_ACQUIRE) ? NAN : (double)p.fds;
    double v[] = {t, p.cpu_user_ns, p.cpu_sys_ns, p.rss_bytes, p.peak_rss_bytes, threads,
                  p.voluntary_ctx, p.involuntary_ctx, p.minor_faults, p.major_faults,
                  p.read_bytes, p.write_bytes, p.rchar, p.wchar, p.syscr, p.syscw, fds,
                  cur->load1, cur->mem_available_bytes, NAN, NAN, NAN, NAN, NAN,
                  mon.cfg.finalizing ? mon.cfg.finalizing() : NAN};
    /* The sampler's totals so far (it runs on this thread): the timeline
     * of running against waiting. */
    if (mon.cfg.sample_interval_ns && on_monitor) {
        uint64_t a, b, c;
        omni_sampler_totals(&a, &b, &c);
        v[N_PROCESS_COLS - 6] = (double)a;
        v[N_PROCESS_COLS - 5] = (double)b;
        v[N_PROCESS_COLS - 4] = (double)c;
    }
    /* The allocators' live bytes: the timeline of the heap. */
    if (omni_memtrack_active()) {
        uint64_t live, peak;
        omni_memtrack_live(&live, &peak);
        v[N_PROCESS_COLS - 3] = (double)live;
        if (omni_memtrack_native_live(&live))
            v[N_PROCESS_COLS - 2] = (double)live;
    }
    memcpy(r, v, sizeof v);
    /* Per-core busy share since the previous reading. */
    if ((r = table_row(&mon.t[T_CORES]))) {
        uint16_t busy[OMNI_MAX_CORES];
        int n = mon.n_cores < cur->cpu.n ? mon.n_cores : cur->cpu.n;
        omni_cpu_busy_permille(due ? &mon.cpu_due : &prev->cpu, &cur->cpu, busy, n);
        r[0] = t;
        for (int i = 0; i < mon.n_cores; i++)
            r[1 + i] = i < n ? busy[i] / 1000.0 * 100.0 : NAN;
    }
    /* Interfaces by the names seen at the start. */
    if ((r = table_row(&mon.t[T_NET]))) {
        r[0] = t;
        for (int i = 0; i < mon.n_ifaces; i++) {
            int k = 0;
            while (k < cur->net.n && strcmp(cur->net.name[k], mon.ifaces[i]) != 0)
                k++;
            double *c = r + 1 + 4 * i;
            if (k == cur->net.n) {
                c[0] = c[1] = c[2] = c[3] = NAN;
                continue;
            }
            c[0] = cur->net.rx_bytes[k];
            c[1] = cur->net.rx_packets[k];
            c[2] = cur->net.tx_bytes[k];
            c[3] = cur->net.tx_packets[k];
        }
    }
    if (due)
        mon.cpu_due = cur->cpu;
    mon.sys_cur ^= 1;
}

static double or_nan(double v) {
    return v < 0 ? NAN : v;
}

/* The GPUs' latest readings, for omni.current_gpu_memory() (written by the
 * monitor thread, read by the target's; a reading is whole or the one
 * before it: doubles and words on 64-bit machines). */
static struct {
    int n;
    omni_gpu_sample_t s[OMNI_GPU_MAX];
} gpu_now;

int omni_monitor_gpu_now(struct omni_gpu_sample *out, uint64_t *vram_bytes) {
    int n = __atomic_load_n(&gpu_now.n, __ATOMIC_ACQUIRE);
    if (n <= 0)
        return -1;
    /* the device this process uses most, else the first */
    int best = 0;
    for (int i = 1; i < n; i++)
        if (gpu_now.s[i].proc_mem_bytes > gpu_now.s[best].proc_mem_bytes)
            best = i;
    *out = gpu_now.s[best];
    *vram_bytes = mon.facts.gpu.dev[best].vram_bytes;
    return 0;
}

static void sample_hardware(uint64_t t) {
    if (!mon.probed)
        return;
    double *r;
    for (int i = 0; i < mon.facts.gpu.n; i++) {
        omni_gpu_sample_t g;
        if (omni_gpu_sample(i, getpid(), &g) < 0)
            continue;
        gpu_now.s[i] = g;
        if (gpu_now.n < i + 1)
            __atomic_store_n(&gpu_now.n, i + 1, __ATOMIC_RELEASE);
        if (!(r = table_row(&mon.t[T_GPU])))
            continue;
        double v[] = {t, i, or_nan(g.util_pct), or_nan(g.mem_util_pct),
                      or_nan((double)g.mem_used_bytes), or_nan((double)g.proc_mem_bytes),
                      or_nan(g.power_w), or_nan((double)g.energy_mj), or_nan(g.temp_c),
                      or_nan((double)g.sm_mhz), or_nan((double)g.mem_mhz)};
        memcpy(r, v, sizeof v);
    }
    long long c[OMNI_COUNTERS_MAX];
    if (mon.counters.available && omni_counters_read(&mon.counters, c) == 0 &&
        (r = table_row(&mon.t[T_COUNTERS]))) {
        r[0] = t;
        for (int i = 0; i < mon.counters.n; i++)
            r[1 + i] = (double)c[i];
    }
    omni_energy_t *e = &mon.facts.energy;
    if (e->available && omni_energy_read(e) == 0 && (r = table_row(&mon.t[T_ENERGY]))) {
        r[0] = t;
        for (int i = 0; i < e->n; i++)
            r[1 + i] = (double)e->total_uj[i];
    }
}

static void take_probes(void);

/* The timeline of a long run stays small: a row every interval for the
 * first cfg.full_res_ns, then every 10 intervals until 6 times that, then
 * every 100 (at the default 100 ms and 10 minutes: 10 rows a second, then
 * one a second until the hour, then one every 10 s - about 11 MB a day for a
 * loaded server, test/stress/service_day.py measured).
 * Counters are cumulative, so a coarser row loses no total. The rows left
 * out are kept for the last cfg.full_res_ns (ring_t): the end writes them. */
static uint64_t row_period(uint64_t t) {
    uint64_t full = mon.cfg.full_res_ns;
    uint64_t k = !full || t < full ? 1 : t < 6 * full ? 10 : 100;
    return k * mon.cfg.interval_ns;
}

/* A row every interval: into the session when the thinning wants one
 * (always: at the end), else into the recent rows. */
static void sample(int always) {
    if (!mon.probed && __atomic_load_n(&mon.probe_done, __ATOMIC_ACQUIRE))
        take_probes(); /* (its first hardware row, before this sample's) */
    uint64_t t = now_ns();
    int before[N_TABLES];
    for (int i = 0; i < N_TABLES; i++)
        before[i] = mon.t[i].rows;
    int due = always || t - mon.last_row_ns + mon.cfg.interval_ns / 2 >= row_period(t);
    sample_process(t, 1, due);
    sample_hardware(t);
    if (!due) {
        for (int i = 0; i < N_TABLES; i++) {
            table_t *tb = &mon.t[i];
            for (int r = before[i]; r < tb->rows; r++)
                ring_push(&mon.recent[i], tb, tb->cells + (size_t)r * (size_t)tb->n_cols,
                          mon.cfg.full_res_ns, mon.cfg.interval_ns);
            tb->rows = before[i];
        }
        return;
    }
    mon.last_row_ns = t;
    int full = 0;
    for (int i = 0; i < N_TABLES; i++)
        full |= mon.t[i].cells && mon.t[i].rows + 4 > mon.t[i].cap;
    /* a record a second, or ten rows a record when rows are that sparse
     * (each record repeats its column names), at most a minute apart */
    uint64_t chunk = 10 * row_period(t);
    chunk = chunk < CHUNK_NS ? CHUNK_NS : chunk > 60 * CHUNK_NS ? 60 * CHUNK_NS : chunk;
    if (full || t - mon.last_flush_ns >= chunk)
        flush_timeline();
}

/* A "timeline" record of the recent rows taken at or after since (marked
 * recent: rows the session's other records left out, between theirs);
 * nothing when there are none. */
static int pack_recent(msgpack_packer *pk, double since) {
    int n = 0;
    for (int i = 0; i < N_TABLES; i++)
        n += mon.recent[i].n > 0 && ring_at(&mon.recent[i], mon.recent[i].n - 1)[0] >= since;
    if (!n)
        return 0;
    msgpack_pack_map(pk, (size_t)n + 2);
    omni_pack_kv_str(pk, "kind", "timeline");
    omni_pack_str(pk, "recent");
    msgpack_pack_true(pk);
    for (int i = 0; i < N_TABLES; i++)
        if (mon.recent[i].n > 0 && ring_at(&mon.recent[i], mon.recent[i].n - 1)[0] >= since)
            ring_pack(pk, &mon.t[i], &mon.recent[i], since);
    return 1;
}

/* At the end: the recent rows into the session. */
static void write_recent(void) {
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    if (pack_recent(&pk, 0))
        write_record(&sb);
    msgpack_sbuffer_destroy(&sb);
}

void omni_monitor_pack_recent(msgpack_packer *pk, uint64_t t_ns) {
    pack_recent(pk, t_ns > RECENT_CKPT_NS ? (double)(t_ns - RECENT_CKPT_NS) : 0);
}

/* A checkpoint when one is due or asked for: the timeline first, so that
 * the session holds the rows up to it. */
static void maybe_checkpoint(void) {
    if (!mon.cfg.checkpoint)
        return;
    uint64_t t = now_ns();
    int asked = access(mon.request, F_OK) == 0;
    if (!asked && t < mon.next_ckpt_ns)
        return;
    if (asked)
        unlink(mon.request);
    flush_timeline();
    mon.cfg.checkpoint(mon.ckpt_seq++, t);
    if (mon.cfg.checkpoint_ns)
        mon.next_ckpt_ns = now_ns() + mon.cfg.checkpoint_ns;
}

static void on_tick(uv_timer_t *timer) {
    (void)timer;
    sample(0);
    maybe_checkpoint();
}

static void on_close(uv_handle_t *h) {
    (void)h;
}

static void on_wake(uv_async_t *a) {
    (void)a;
    sample(1);
    flush_timeline();
    write_recent();
    uv_close((uv_handle_t *)&mon.timer, on_close);
    uv_close((uv_handle_t *)&mon.probe_timer, on_close);
    uv_close((uv_handle_t *)&mon.sample_timer, on_close);
    uv_close((uv_handle_t *)&mon.wake, on_close);
}

static void on_sample(uv_timer_t *t) {
    (void)t;
    omni_sampler_take(now_ns());
}

/* ---------------------------------------------------------------- records at the start */

static void write_machine(void) {
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    omni_pack_hw_facts(&pk, &mon.facts, 1);
    omni_pack_kv_str(&pk, "kind", "machine");
    write_record(&sb);
    msgpack_sbuffer_destroy(&sb);
}

static void pack_probe(msgpack_packer *pk, const char *name, int ok, const char *reason,
                       const char *list_key, int n, const char *const *list) {
    omni_pack_str(pk, name);
    msgpack_pack_map(pk, 2);
    omni_pack_str(pk, "available");
    if (ok)
        msgpack_pack_true(pk);
    else
        msgpack_pack_false(pk);
    if (!ok) {
        omni_pack_kv_str(pk, "reason", reason);
        return;
    }
    omni_pack_str(pk, list_key);
    msgpack_pack_array(pk, (size_t)n);
    for (int i = 0; i < n; i++)
        omni_pack_str(pk, list[i]);
}

static void write_monitor_record(void) {
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 8);
    omni_pack_kv_str(&pk, "kind", "monitor");
    omni_pack_kv_u64(&pk, "interval_ns", mon.cfg.interval_ns);
    omni_pack_kv_f64(&pk, "grams_co2_per_kwh", mon.cfg.grams_co2_per_kwh);
    omni_pack_kv_i64(&pk, "cores", mon.n_cores);
    const char *ifaces[OMNI_MAX_IFACES];
    for (int i = 0; i < mon.n_ifaces; i++)
        ifaces[i] = mon.ifaces[i];
    omni_pack_str(&pk, "interfaces");
    msgpack_pack_array(&pk, (size_t)mon.n_ifaces);
    for (int i = 0; i < mon.n_ifaces; i++)
        omni_pack_str(&pk, ifaces[i]);
    const omni_gpu_info_t *g = &mon.facts.gpu;
    const char *models[OMNI_GPU_MAX];
    for (int i = 0; i < g->n; i++)
        models[i] = g->dev[i].model;
    pack_probe(&pk, "gpu", g->available, g->reason, "devices", g->n, models);
    pack_probe(&pk, "counters", mon.counters.available, mon.counters.reason, "events",
               mon.counters.n, mon.counters.names);
    const omni_energy_t *e = &mon.facts.energy;
    const char *domains[OMNI_ENERGY_MAX];
    for (int i = 0; i < e->n; i++)
        domains[i] = e->name[i];
    pack_probe(&pk, "energy", e->available, e->reason, "domains", e->n, domains);
    write_record(&sb);
    msgpack_sbuffer_destroy(&sb);
}

/* The tables whose columns depend on what the probes found. */
static void init_hardware_tables(void) {
    const omni_gpu_info_t *g = &mon.facts.gpu;
    if (g->available && table_init(&mon.t[T_GPU], "gpu", N_GPU_COLS, CHUNK_ROWS * g->n) == 0)
        for (int i = 0; i < N_GPU_COLS; i++)
            table_col(&mon.t[T_GPU], i, "%s", gpu_cols[i]);
    if (mon.counters.available &&
        table_init(&mon.t[T_COUNTERS], "counters", 1 + mon.counters.n, CHUNK_ROWS) == 0) {
        table_col(&mon.t[T_COUNTERS], 0, "%s", "t_ns");
        for (int i = 0; i < mon.counters.n; i++)
            table_col(&mon.t[T_COUNTERS], 1 + i, "%s", mon.counters.names[i]);
    }
    const omni_energy_t *e = &mon.facts.energy;
    if (e->available && table_init(&mon.t[T_ENERGY], "energy", 1 + e->n, CHUNK_ROWS) == 0) {
        table_col(&mon.t[T_ENERGY], 0, "%s", "t_ns");
        for (int i = 0; i < e->n; i++)
            table_col(&mon.t[T_ENERGY], 1 + i, "%s_uj", e->name[i]);
    }
}

/* The tables whose columns are known from the first system reading. */
static int init_system_tables(void) {
    omni_sys_sample_t *s = &mon.sys[0];
    omni_sys_read(s, sys_text, sizeof sys_text);
    mon.sys_cur = 0;
    mon.cpu_due = s->cpu;
    mon.n_cores = s->cpu.n;
    mon.n_ifaces = s->net.n;
    for (int i = 0; i < s->net.n; i++)
        snprintf(mon.ifaces[i], sizeof mon.ifaces[i], "%s", s->net.name[i]);
    if (table_init(&mon.t[T_PROCESS], "process", N_PROCESS_COLS, CHUNK_ROWS) < 0)
        return -ENOMEM;
    for (int i = 0; i < N_PROCESS_COLS; i++)
        table_col(&mon.t[T_PROCESS], i, "%s", process_cols[i]);
    if (mon.n_cores && table_init(&mon.t[T_CORES], "cores", 1 + mon.n_cores, CHUNK_ROWS) == 0) {
        table_col(&mon.t[T_CORES], 0, "%s", "t_ns");
        for (int i = 0; i < mon.n_cores; i++) {
            char name[16];
            snprintf(name, sizeof name, "cpu%d", i);
            table_col(&mon.t[T_CORES], 1 + i, "%s_busy_pct", name);
        }
    }
    if (mon.n_ifaces && table_init(&mon.t[T_NET], "net", 1 + 4 * mon.n_ifaces, CHUNK_ROWS) == 0) {
        static const char *const what[] = {"rx_bytes", "rx_packets", "tx_bytes", "tx_packets"};
        table_col(&mon.t[T_NET], 0, "%s", "t_ns");
        for (int i = 0; i < mon.n_ifaces; i++)
            for (int k = 0; k < 4; k++) {
                char name[64];
                snprintf(name, sizeof name, "%s.%s", mon.ifaces[i], what[k]);
                table_col(&mon.t[T_NET], 1 + 4 * i + k, "%s", name);
            }
    }
    return 0;
}

/* ---------------------------------------------------------------- the threads */

/* omnipython's long-lived descriptors (the session it appends to, the loop's)
 * are made above the numbers a program takes first: the free numbers below
 * OWN_FD_FLOOR are held on /dev/null while they are made, so that the
 * program's lowest free numbers run on unbroken, as under python3 (test_os's
 * closerange cases want two free numbers at the lowest free one). Where the
 * descriptor limit is lower, what is left is used. Returns how many held. */
#define OWN_FD_FLOOR 100

static int hold_low_fds(int *held) {
    int n = 0;
    while (n < OWN_FD_FLOOR) {
        int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            break;
        if (fd >= OWN_FD_FLOOR) {
            close(fd);
            break;
        }
        held[n++] = fd;
    }
    return n;
}

static void release_fds(const int *held, int n) {
    for (int i = 0; i < n; i++)
        close(held[i]);
}

/* The descriptors open now that before (n_before of them) did not hold, up
 * to cap into out; returns how many. */
static int new_fds(const int *before, int n_before, int *out, int cap) {
    int now[256];
    int n = omni_fd_list(now, 256), k = 0;
    for (int i = 0; i < n && k < cap; i++) {
        int old = 0;
        for (int j = 0; j < n_before && !old; j++)
            old = before[j] == now[i];
        if (!old)
            out[k++] = now[i];
    }
    return k;
}

/* The descriptors that appeared while the probes ran, of the kinds a
 * driver opens for itself: the accelerators' device files, pipes and event
 * descriptors. NVIDIA's driver opens eight /dev/nvidia* and four pipe ends
 * inside nvmlInit (seen on an H100), not all through the executable's
 * functions, so they are not known as omnipython's from their making. A
 * pipe the target makes in that window is taken for omnipython's until it
 * closes it. */
static void claim_probe_files(const int *before, int n_before) {
    int fresh[256];
    int n = new_fds(before, n_before, fresh, 256);
    for (int i = 0; i < n; i++) {
        char link[64], path[64];
        snprintf(link, sizeof link, "/proc/self/fd/%d", fresh[i]);
        ssize_t len = readlink(link, path, sizeof path - 1);
        if (len <= 0)
            continue;
        path[len] = 0;
        if (!strncmp(path, "/dev/nvidia", 11) || !strcmp(path, "/dev/kfd") ||
            !strncmp(path, "/dev/dri/", 9) || !strncmp(path, "pipe:", 5) ||
            !strncmp(path, "anon_inode:", 11))
            omni_iocount_mark_own(fresh[i]);
    }
}

/* The probe, in a thread with a descriptor table of its own (unshare
 * CLONE_FILES): hwloc, the OS probe, the GPU libraries' search, PAPI's
 * start open and close hundreds of files, and in the process's table each
 * would take the lowest free number for a moment - one the target had just
 * closed and was about to use again (test_select's test_errno: select on a
 * closed descriptor found it open, 1 of ~16 runs; a loop closing and
 * selecting saw it 11-23 times in its first second). What it opens dies
 * with it: a GPU library that answered is opened again, in the process's
 * table, for the samples. */
static void *probe_private_main(void *arg) {
    pthread_setname_np(pthread_self(), "omni-probe-p");
    (void)unshare(CLONE_FILES); /* if refused (a seccomp policy): as before */
    omni_hw_facts_probe(arg);
    return NULL;
}

static void probe_facts(omni_hw_facts_t *f) {
    pthread_t t;
    if (omni_own_thread_start(&t, NULL, probe_private_main, f) != 0) {
        omni_hw_facts_probe(f);
        return;
    }
    pthread_join(t, NULL);
    if (f->gpu.available) {
        omni_gpu_close();
        omni_gpu_open(&f->gpu);
    }
}

/* The probes take milliseconds (hwloc about 8 ms, PAPI, a GPU driver far
 * more): a thread of their own does them, so that neither the monitor's
 * samples nor the end of a short run wait for them. A run that ends first
 * has no machine record; the prober is left to the process's exit. */
static void *prober_main(void *arg) {
    (void)arg;
    pthread_setname_np(pthread_self(), "omni-probe");
    int before[256];
    int n_before = omni_fd_list(before, 256);
    if (mon.facts_valid) {
        /* A forked child: the machine is its parent's, but the GPU library
         * and the counters must be opened again for this process. */
        omni_gpu_open(&mon.facts.gpu);
    } else {
        probe_facts(&mon.facts);
        mon.facts_valid = 1;
    }
    omni_counters_open(&mon.counters, mon.cfg.main_tid);
    if (n_before >= 0)
        claim_probe_files(before, n_before);
    __atomic_store_n(&mon.probe_done, 1, __ATOMIC_RELEASE);
    __atomic_store_n(&mon.prober_alive, 0, __ATOMIC_RELEASE);
    return NULL;
}

/* On the monitor thread, once the prober is done: the hardware tables, the
 * machine and monitor records, and a first hardware sample. */
static void take_probes(void) {
    init_hardware_tables();
    mon.probed = 1;
    write_machine();
    write_monitor_record();
    sample_hardware(now_ns());
}

/* Returns 0 where a fork is under way (ownthread.h): the prober waits. The
 * flag is up before the fork's hiding is checked, and the fork waits for
 * the flag to fall (omni_monitor_before_fork): one of the two sees the
 * other. */
static int start_prober(void) {
    pthread_t t;
    pthread_attr_t attr;
    __atomic_store_n(&mon.prober_alive, 1, __ATOMIC_SEQ_CST);
    if (omni_own_threads_hiding()) {
        __atomic_store_n(&mon.prober_alive, 0, __ATOMIC_SEQ_CST);
        return 0;
    }
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (omni_own_thread_start(&t, &attr, prober_main, NULL) != 0) {
        __atomic_store_n(&mon.prober_alive, 0, __ATOMIC_RELEASE);
        prober_main(NULL); /* no thread to spare: probe here */
    }
    pthread_attr_destroy(&attr);
    return 1;
}

/* The probes map libraries and read /sys while the target starts, which
 * slowed a 90 ms I/O-heavy program by 2-4% (mmap_lock and cache contention
 * on 2 cores): they start once the target has run PROBE_DELAY_MS, so a
 * run shorter than that has no machine record (its header still has the
 * machine's summary). */
#define PROBE_DELAY_MS 100

#define PROBE_RETRY_MS 5

static void on_probe_timer(uv_timer_t *t) {
    /* inherits this thread's mask (every signal blocked) and descriptors */
    if (!start_prober())
        uv_timer_start(t, on_probe_timer, PROBE_RETRY_MS, 0);
}

static void *monitor_main(void *arg) {
    (void)arg;
    pthread_setname_np(pthread_self(), "omni-monitor");
    uint64_t ms = mon.cfg.interval_ns / 1000000;
    uv_timer_start(&mon.timer, on_tick, ms, ms);
    uv_timer_start(&mon.probe_timer, on_probe_timer, PROBE_DELAY_MS, 0);
    if (mon.cfg.sample_interval_ns) {
        uint64_t sms = mon.cfg.sample_interval_ns / 1000000;
        omni_sampler_init(sms * 1000000);
        uv_timer_start(&mon.sample_timer, on_sample, sms, sms);
    }
    uv_run(&mon.loop, UV_RUN_DEFAULT);
    if (mon.probed) {
        omni_counters_close(&mon.counters);
        omni_gpu_close();
    }
    __atomic_store_n(&mon.done, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

static void free_tables(void) {
    for (int i = 0; i < N_TABLES; i++) {
        table_free(&mon.t[i]);
        ring_free(&mon.recent[i]);
    }
}

int omni_monitor_start(const omni_monitor_config_t *cfg) {
    if (mon.running)
        return -EALREADY;
    mon.cfg = *cfg;
    if (mon.cfg.interval_ns < 1000000)
        mon.cfg.interval_ns = 1000000;
    if (mon.cfg.sample_interval_ns && mon.cfg.sample_interval_ns < 1000000)
        mon.cfg.sample_interval_ns = 1000000; /* libuv's timers count milliseconds */
    snprintf(mon.path, sizeof mon.path, "%s", cfg->session_path);
    mon.cfg.session_path = mon.path;
    mon.stop = mon.in_write = mon.done = 0;
    mon.probe_done = mon.probed = 0;
    mon.seq = 0;
    mon.ckpt_seq = 0;
    mon.next_ckpt_ns = mon.cfg.checkpoint_ns ? mon.cfg.checkpoint_ns : UINT64_MAX;
    snprintf(mon.request, sizeof mon.request, "%s%s", mon.path, OMNI_CHECKPOINT_REQUEST_SUFFIX);
    int rc, held[OWN_FD_FLOOR], n_held = hold_low_fds(held);
    mon.fd = open(mon.path, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (mon.fd < 0) {
        rc = -errno;
        release_fds(held, n_held);
        return rc;
    }
    if ((rc = init_system_tables()) < 0)
        goto fail_tables;
    /* The target has not started yet, so the descriptors that appear while
     * the loop is made are the loop's: they are not the target's files. */
    int before[256];
    int n_before = omni_fd_list(before, 256);
    if ((rc = uv_loop_init(&mon.loop)) < 0)
        goto fail_tables;
    if ((rc = uv_timer_init(&mon.loop, &mon.timer)) < 0)
        goto fail_loop;
    if ((rc = uv_timer_init(&mon.loop, &mon.probe_timer)) < 0)
        goto fail_timer;
    uv_timer_init(&mon.loop, &mon.sample_timer); /* cannot fail once the loop is made */
    if ((rc = uv_async_init(&mon.loop, &mon.wake, on_wake)) < 0)
        goto fail_probe_timer;
    /* The loop's descriptors and the session's are omnipython's: the
     * target neither counts, sees nor closes them (iocount.c). */
    mon.n_skip = 0;
    mon.skip_fds[mon.n_skip++] = mon.fd;
    int fresh[16];
    int n_fresh = new_fds(before, n_before, fresh, 16);
    for (int i = 0; i < n_fresh && mon.n_skip < 16; i++)
        if (fresh[i] != mon.fd)
            mon.skip_fds[mon.n_skip++] = fresh[i];
    for (int i = 0; i < mon.n_skip; i++)
        omni_iocount_hide_own(mon.skip_fds[i]);
    /* The /proc files every sample reads, kept open from now on: above the
     * held numbers, hidden like the loop's. */
    omni_procstat_keep(1);
    int kept[16], n_kept = omni_procstat_kept_fds(kept, 16);
    for (int i = 0; i < n_kept; i++)
        omni_iocount_hide_own(kept[i]);
    release_fds(held, n_held);
    n_held = 0;
    /* The first sample before the target runs, so that the timeline's
     * differences cover all of it however late the thread gets a CPU. */
    sample_process(now_ns(), 0, 1);
    /* Every signal is for the target's threads, none for this one. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = -omni_own_thread_start(&mon.thread, NULL, monitor_main, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc < 0)
        goto fail_async;
    mon.running = 1;
    return 0;

fail_async:
    omni_iocount_ignore(1); /* the loop closes its own descriptors */
    uv_close((uv_handle_t *)&mon.wake, NULL);
fail_probe_timer:
    uv_close((uv_handle_t *)&mon.sample_timer, NULL);
    uv_close((uv_handle_t *)&mon.probe_timer, NULL);
fail_timer:
    uv_close((uv_handle_t *)&mon.timer, NULL);
    uv_run(&mon.loop, UV_RUN_NOWAIT);
fail_loop:
    uv_loop_close(&mon.loop);
fail_tables:
    free_tables();
    omni_iocount_close_own(mon.fd);
    omni_iocount_ignore(0);
    release_fds(held, n_held);
    mon.fd = -1;
    return rc;
}

/* Waits until *flag is want, at most STOP_WAIT_US, with nanosleep (safe in
 * a signal handler). Returns whether it got there. */
static int wait_flag(int *flag, int want) {
    struct timespec ts = {0, STOP_POLL_US * 1000L};
    for (int i = 0; i < STOP_WAIT_US / STOP_POLL_US; i++) {
        if (__atomic_load_n(flag, __ATOMIC_SEQ_CST) == want)
            return 1;
        nanosleep(&ts, NULL);
    }
    return __atomic_load_n(flag, __ATOMIC_SEQ_CST) == want;
}

int omni_monitor_stop(void) {
    if (!mon.running)
        return 0;
    mon.running = 0;
    if (pthread_equal(pthread_self(), mon.thread)) {
        /* A fault in the monitor itself: just make sure it writes no more. */
        __atomic_store_n(&mon.stop, 1, __ATOMIC_SEQ_CST);
        return 0;
    }
    uv_async_send(&mon.wake); /* async-signal-safe */
    int answered = wait_flag(&mon.done, 1);
    /* A prober still at work would run into the process's exit (its
     * libraries' destructors): let it finish first, as long as it takes
     * (milliseconds; bounded like the rest). */
    wait_flag(&mon.prober_alive, 0);
    __atomic_store_n(&mon.stop, 1, __ATOMIC_SEQ_CST);
    wait_flag(&mon.in_write, 0);
    /* Nothing is freed or joined: this may run in a signal handler that
     * interrupted malloc (free would wait for that very lock forever), and
     * the process is ending. A finished thread is left to the exit. */
    omni_iocount_close_own(mon.fd);
    mon.fd = -1;
    return answered ? 0 : -ETIMEDOUT;
}

void omni_monitor_before_fork(void) {
    /* The prober loads libraries (the dynamic loader's lock) and starts
     * PAPI and the GPU library (their locks): a fork in the middle would
     * leave the child with locks no thread of it will ever release, and the
     * child's next dlopen (an import) would hang. It takes milliseconds. */
    if (mon.running && !pthread_equal(pthread_self(), mon.thread))
        wait_flag(&mon.prober_alive, 0);
}

void omni_monitor_after_fork_child(void) {
    /* The threads are not in the child. Its copies of the loop's
     * descriptors are closed (the parent's stay open: closing a copy never
     * wakes or stops the parent's loop), and nothing of the parent's loop is
     * used again: a new monitor makes a new one. The prober may have been
     * cut short in the parent's middle: the facts count only if it was done. */
    int was_running = mon.running;
    mon.running = 0;
    if (mon.fd >= 0)
        omni_iocount_close_own(mon.fd);
    mon.fd = -1;
    for (int i = 1; was_running && i < mon.n_skip; i++)
        omni_iocount_close_own(mon.skip_fds[i]);
    /* the kept /proc/self files are the parent's */
    int kept[16], n_kept = omni_procstat_kept_fds(kept, 16);
    for (int i = 0; i < n_kept; i++)
        omni_iocount_close_own(kept[i]);
    omni_procstat_drop_kept();
    mon.n_skip = 0;
    mon.facts_valid = __atomic_load_n(&mon.probe_done, __ATOMIC_ACQUIRE);
    /* The parent's counters and GPU handles are the parent's. */
    memset(&mon.counters, 0, sizeof mon.counters);
    mon.prober_alive = 0;
    free_tables();
}
