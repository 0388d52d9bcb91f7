/* procstat.c - reads the process's and the system's counters from /proc. */
#define _GNU_SOURCE
#include "hw/procstat.h"

#include "hw/procfs.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

static uint64_t tv_ns(struct timeval tv) {
    return (uint64_t)tv.tv_sec * 1000000000u + (uint64_t)tv.tv_usec * 1000u;
}

/* ---------------------------------------------------------------- kept descriptors */

/* The files a sample reads, opened once and read again from their start
 * while keeping is on (omni_procstat_keep): a descriptor opened for a moment
 * at every sample could take a number the program has just closed and is
 * about to reuse. */
enum { K_STATUS, K_IO, K_FDDIR, K_LOADAVG, K_MEMINFO, K_STAT, K_NETDEV, N_KEPT };
static const char *const kept_path[N_KEPT] = {
    "/proc/self/status", "/proc/self/io", "/proc/self/fd", "/proc/loadavg", "/proc/meminfo",
    "/proc/stat", "/proc/net/dev"};
static int kept_fd[N_KEPT] = {-1, -1, -1, -1, -1, -1, -1};
static int keeping;

static int kept_open(int i, int *close_it);

void omni_procstat_keep(int on) {
    keeping = on;
    for (int i = 0, close_it; on && i < N_KEPT; i++)
        kept_open(i, &close_it); /* now: the caller chooses where the numbers fall */
}

int omni_procstat_kept_fds(int *out, int cap) {
    int n = 0;
    for (int i = 0; i < N_KEPT && n < cap; i++)
        if (kept_fd[i] >= 0)
            out[n++] = kept_fd[i];
    return n;
}

void omni_procstat_drop_kept(void) {
    for (int i = 0; i < N_KEPT; i++)
        kept_fd[i] = -1;
    keeping = 0;
}

/* The descriptor of file i: the kept one, or one to close after (*close_it). */
static int kept_open(int i, int *close_it) {
    int flags = O_RDONLY | O_CLOEXEC | (i == K_FDDIR ? O_DIRECTORY : 0);
    *close_it = 0;
    if (kept_fd[i] >= 0)
        return kept_fd[i];
    int fd = open(kept_path[i], flags);
    if (fd >= 0 && keeping)
        kept_fd[i] = fd;
    else
        *close_it = fd >= 0;
    return fd;
}

/* Reads file i whole into buf (NUL-terminated); its length or -1. */
static ssize_t read_kept(int i, char *buf, size_t cap) {
    int close_it, fd = kept_open(i, &close_it);
    if (fd < 0)
        return -1;
    size_t len = 0;
    while (len + 1 < cap) {
        ssize_t n = pread(fd, buf + len, cap - 1 - len, (off_t)len);
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    if (close_it)
        close(fd);
    buf[len] = 0;
    return (ssize_t)len;
}

/* Walks /proc/self/fd with getdents64 (no allocation) and calls fn for each
 * descriptor but the directory's own. Returns 0 or -1. */
static int each_fd(void (*fn)(int fd, void *ctx), void *ctx) {
    int close_it, dfd = kept_open(K_FDDIR, &close_it);
    if (dfd < 0 || lseek(dfd, 0, SEEK_SET) < 0)
        return -1;
    char buf[4096];
    for (;;) {
        long got = syscall(SYS_getdents64, dfd, buf, sizeof buf);
        if (got <= 0)
            break;
        for (long off = 0; off < got;) {
            struct dirent64 *d = (struct dirent64 *)(buf + off);
            off += d->d_reclen;
            if (d->d_name[0] < '0' || d->d_name[0] > '9')
                continue;
            int fd = atoi(d->d_name);
            if (fd != dfd)
                fn(fd, ctx);
        }
    }
    if (close_it)
        close(dfd);
    return 0;
}

typedef struct fd_count {
    const int *skip;
    int n_skip;
    uint64_t n;
} fd_count_t;

static void count_one(int fd, void *ctx) {
    fd_count_t *c = ctx;
    for (int i = 0; i < c->n_skip; i++)
        if (c->skip[i] == fd)
            return;
    c->n++;
}

static uint64_t count_fds(const int *skip, int n_skip) {
    fd_count_t c = {skip, n_skip, 0};
    each_fd(count_one, &c);
    return c.n;
}

typedef struct fd_list {
    int *fds;
    int cap, n;
} fd_list_t;

static void list_one(int fd, void *ctx) {
    fd_list_t *l = ctx;
    if (l->n < l->cap)
        l->fds[l->n++] = fd;
}

int omni_fd_list(int *fds, int cap) {
    fd_list_t l = {fds, cap, 0};
    return each_fd(list_one, &l) < 0 ? -1 : l.n;
}

int omni_proc_read(omni_proc_sample_t *s, const int *skip_fds, int n_skip) {
    memset(s, 0, sizeof *s);
    int rc = 0;
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0) {
        s->cpu_user_ns = tv_ns(ru.ru_utime);
        s->cpu_sys_ns = tv_ns(ru.ru_stime);
        s->voluntary_ctx = (uint64_t)ru.ru_nvcsw;
        s->involuntary_ctx = (uint64_t)ru.ru_nivcsw;
        s->minor_faults = (uint64_t)ru.ru_minflt;
        s->major_faults = (uint64_t)ru.ru_majflt;
    }
    char text[4096];
    uint64_t kb;
    if (read_kept(K_STATUS, text, sizeof text) > 0) {
        if (omni_text_u64(text, "VmRSS", &kb) == 0)
            s->rss_bytes = kb * 1024;
        if (omni_text_u64(text, "VmHWM", &kb) == 0)
            s->peak_rss_bytes = kb * 1024;
        omni_text_u64(text, "Threads", &s->threads);
    } else {
        rc = -1;
    }
    if (read_kept(K_IO, text, sizeof text) > 0) {
        omni_text_u64(text, "read_bytes", &s->read_bytes);
        omni_text_u64(text, "write_bytes", &s->write_bytes);
        omni_text_u64(text, "rchar", &s->rchar);
        omni_text_u64(text, "wchar", &s->wchar);
        omni_text_u64(text, "syscr", &s->syscr);
        omni_text_u64(text, "syscw", &s->syscw);
    } else {
        rc = -1;
    }
    s->fds = count_fds(skip_fds, n_skip);
    return rc;
}

/* "cpuN user nice system idle iowait irq softirq steal ..." lines. */
static void read_cpu_times(const char *text, omni_cpu_times_t *c) {
    c->n = 0;
    for (const char *line = strstr(text, "\ncpu"); line && c->n < OMNI_MAX_CORES;
         line = strstr(line + 1, "\ncpu")) {
        unsigned long long v[8] = {0};
        int core;
        if (line[4] < '0' || line[4] > '9') /* "cpu " is the machine's total */
            continue;
        if (sscanf(line + 1, "cpu%d %llu %llu %llu %llu %llu %llu %llu %llu", &core, &v[0],
                   &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) < 5)
            continue;
        uint64_t total = 0;
        for (int i = 0; i < 8; i++)
            total += v[i];
        c->total[c->n] = total;
        c->busy[c->n] = total - v[3] - v[4]; /* less idle and iowait */
        c->n++;
    }
}

static void read_net(const char *text, omni_net_sample_t *n) {
    n->n = 0;
    /* Two header lines, then "  iface: rxbytes rxpackets errs drop fifo frame
     * compressed multicast txbytes txpackets ..." */
    const char *line = strchr(text, '\n');
    line = line ? strchr(line + 1, '\n') : NULL;
    while (line && *++line && n->n < OMNI_MAX_IFACES) {
        const char *colon = strchr(line, ':');
        const char *eol = strchr(line, '\n');
        if (!colon || (eol && colon > eol))
            break;
        const char *name = line;
        while (*name == ' ')
            name++;
        unsigned long long v[10];
        if (sscanf(colon + 1, "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
                   &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]) == 10) {
            int i = n->n++;
            snprintf(n->name[i], sizeof n->name[i], "%.*s", (int)(colon - name), name);
            n->rx_bytes[i] = v[0];
            n->rx_packets[i] = v[1];
            n->tx_bytes[i] = v[8];
            n->tx_packets[i] = v[9];
        }
        line = eol;
    }
}

int omni_sys_read(omni_sys_sample_t *s, char *text, size_t cap) {
    int rc = 0;
    s->load1 = 0;
    s->mem_available_bytes = 0;
    if (read_kept(K_LOADAVG, text, cap) > 0)
        sscanf(text, "%lf", &s->load1);
    uint64_t kb;
    if (read_kept(K_MEMINFO, text, cap < 512 ? cap : 512) > 0 &&
        omni_text_u64(text, "MemAvailable", &kb) == 0)
        s->mem_available_bytes = kb * 1024;
    /* A leading newline makes the first "cpu" line findable as "\ncpu". */
    text[0] = '\n';
    if (read_kept(K_STAT, text + 1, cap - 1) > 0)
        read_cpu_times(text, &s->cpu);
    else
        s->cpu.n = 0, rc = -1;
    if (read_kept(K_NETDEV, text, cap) > 0)
        read_net(text, &s->net);
    else
        s->net.n = 0;
    return rc;
}

void omni_cpu_busy_permille(const omni_cpu_times_t *a, const omni_cpu_times_t *b,
                            uint16_t *out, int n) {
    for (int i = 0; i < n; i++) {
        uint64_t dt = b->total[i] - a->total[i], db = b->busy[i] - a->busy[i];
        out[i] = dt ? (uint16_t)(db * 1000 / dt) : 0;
    }
}
