/* monitor.h - the monitor thread: one libuv loop on its own thread whose
 * timer samples the process, the system, hardware counters, GPUs and energy
 * into the session's timeline while the target runs. */
#ifndef OMNI_MONITOR_H
#define OMNI_MONITOR_H

#include <msgpack.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct omni_monitor_config {
    const char *session_path;   /* appended to (copied) */
    uint64_t interval_ns;       /* between samples; at least 1 ms */
    uint64_t start_mono_ns;     /* the run's start: timeline times count from it */
    pid_t main_tid;             /* whose counters to read (threads it starts inherit them) */
    double grams_co2_per_kwh;   /* for the carbon estimate */
    uint64_t sample_interval_ns; /* the stack sampler's interval (at least 1 ms); 0: no sampling */
    int (*finalizing)(void);    /* whether the interpreter is being torn down, or NULL */
    /* Checkpoints: every checkpoint_ns (0: only when asked) and whenever the
     * file session_path + OMNI_CHECKPOINT_REQUEST_SUFFIX appears (it is
     * removed), the timeline is flushed and checkpoint(seq, t_ns) runs on
     * the monitor thread. NULL: none. */
    uint64_t checkpoint_ns;
    void (*checkpoint)(uint64_t seq, uint64_t t_ns);
    /* rows every interval_ns for this long, then coarser (monitor.c); 0: always */
    uint64_t full_res_ns;
    /* past this size, the session's oldest timeline records give way
     * (runtime/session/trim.h) so that it keeps half of it; 0: no bound */
    uint64_t max_session_bytes;
} omni_monitor_config_t;

/* Starts the thread (all signals blocked in it). Returns 0 or -errno; on
 * failure nothing is left running. */
int omni_monitor_start(const omni_monitor_config_t *cfg);

/* Takes a last sample, writes what is pending and ends the thread, waiting
 * at most about a second. Afterwards the monitor writes nothing more, even
 * if it did not answer in time: then -ETIMEDOUT (its rows since its last
 * record are lost), else 0. Idempotent; callable from omni_runtime_finish
 * in any context it runs in (exit, fatal-signal handlers). */
int omni_monitor_stop(void);

/* A checkpoint's "timeline" record of the rows the session's thinning left
 * out (cfg.full_res_ns on) over the minute up to t_ns (nothing when there
 * are none): on the monitor thread, from cfg.checkpoint. The end writes
 * every such row of the last cfg.full_res_ns into the session. */
void omni_monitor_pack_recent(msgpack_packer *pk, uint64_t t_ns);

/* Before fork(): waits (boundedly) until the prober holds no lock. */
void omni_monitor_before_fork(void);

/* In a forked child: the thread does not exist there; forget it. */
void omni_monitor_after_fork_child(void);

/* The latest reading of the GPU this process uses most (vram_bytes: its
 * memory). Returns 0, or -1 when the monitor has read no GPU. */
struct omni_gpu_sample;
int omni_monitor_gpu_now(struct omni_gpu_sample *out, uint64_t *vram_bytes);

#endif
