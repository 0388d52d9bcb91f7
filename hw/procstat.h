/* procstat.h - one reading of the process and of the system from /proc, for
 * the monitor thread's timeline. Cumulative counters are read as they are;
 * rates are made from differences by the reports. */
#ifndef OMNI_HW_PROCSTAT_H
#define OMNI_HW_PROCSTAT_H

#include <stddef.h>
#include <stdint.h>

#define OMNI_MAX_CORES 1024
#define OMNI_MAX_IFACES 16

typedef struct omni_proc_sample {
    uint64_t cpu_user_ns, cpu_sys_ns;          /* getrusage(RUSAGE_SELF) */
    uint64_t rss_bytes, peak_rss_bytes;        /* VmRSS, VmHWM */
    uint64_t threads;
    uint64_t voluntary_ctx, involuntary_ctx;
    uint64_t minor_faults, major_faults;
    uint64_t read_bytes, write_bytes;          /* /proc/self/io: storage I/O */
    uint64_t rchar, wchar, syscr, syscw;       /* /proc/self/io: all read/write calls */
    uint64_t fds;                              /* open descriptors, omnipython's own left out */
} omni_proc_sample_t;

/* Reads the process. skip_fds lists descriptors not to count (n_skip of
 * them). Returns 0, or -1 when /proc cannot be read (the fields that could
 * be read are filled). */
int omni_proc_read(omni_proc_sample_t *s, const int *skip_fds, int n_skip);

/* Lists this process's open descriptors (at most cap) into fds. Returns how
 * many, or -1. */
int omni_fd_list(int *fds, int cap);

typedef struct omni_cpu_times {
    int n;                                     /* cores seen */
    uint64_t busy[OMNI_MAX_CORES], total[OMNI_MAX_CORES]; /* jiffies */
} omni_cpu_times_t;

typedef struct omni_net_sample {
    int n;
    char name[OMNI_MAX_IFACES][32];
    uint64_t rx_bytes[OMNI_MAX_IFACES], rx_packets[OMNI_MAX_IFACES];
    uint64_t tx_bytes[OMNI_MAX_IFACES], tx_packets[OMNI_MAX_IFACES];
} omni_net_sample_t;

typedef struct omni_sys_sample {
    double load1;
    uint64_t mem_available_bytes;
    omni_cpu_times_t cpu;
    omni_net_sample_t net;
} omni_sys_sample_t;

/* Reads the system: load, free memory, per-core times, network interfaces,
 * through text, the caller's buffer of cap bytes (OMNI_SYS_TEXT holds
 * /proc/stat of hundreds of cores): reading allocates nothing - the monitor
 * reads while the target may fork, and a lock an allocator held at the fork
 * stays held in the child (ASan's allocator, 2 runs in 25 of a forking
 * program under load). Not in thread-local storage either: every thread of
 * the process would carry and zero it. Returns 0 or -1. */
#define OMNI_SYS_TEXT 65536
int omni_sys_read(omni_sys_sample_t *s, char *text, size_t cap);

/* While on, the files a reading opens stay open and are read again from
 * their start (the monitor's: no descriptor opened for a moment at every
 * sample); turning it on opens them at once. omni_procstat_kept_fds lists them (up to cap into out; returns
 * how many); omni_procstat_drop_kept forgets them without closing (the
 * caller closes them: a forked child's are its parent's /proc/self) and
 * turns keeping off. */
void omni_procstat_keep(int on);
int omni_procstat_kept_fds(int *out, int cap);
void omni_procstat_drop_kept(void);

/* Per-core busy share between two readings, in permille (0..1000). */
void omni_cpu_busy_permille(const omni_cpu_times_t *a, const omni_cpu_times_t *b,
                            uint16_t *out, int n);

#endif
