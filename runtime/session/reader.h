/* reader.h - reads a session file back into a neutral model that
 * reports and exports use; they never see the interpreter. */
#ifndef OMNI_SESSION_READER_H
#define OMNI_SESSION_READER_H

#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>

typedef struct omni_scode {
    char *file;
    char *name;
    int64_t line;
} omni_scode_t;

/* One row of a thread's function table: times in seconds. */
typedef struct omni_sfunc {
    uint32_t code;
    uint64_t calls, primitive_calls;
    double inclusive_s, exclusive_s;
    uint64_t max_recursion;
} omni_sfunc_t;

typedef struct omni_sedge {
    uint32_t caller, callee;
    uint64_t calls, primitive_calls;
    double inclusive_s, exclusive_s;
} omni_sedge_t;

typedef struct omni_sthread {
    int64_t pid;         /* the process it ran in (joined reports hold several) */
    uint64_t id;
    int64_t native_id;
    char *name;          /* NULL when unknown */
    uint64_t threads;    /* threads of one kind it counts, one after another (1: itself) */
    char *kind;          /* their name with digits made N, when threads > 1 */
    double cpu_s;
    uint64_t max_depth;
    uint64_t samples, cpu_samples, gil_samples;  /* from the sampler */
    omni_sfunc_t *funcs;
    size_t n_funcs;
    omni_sedge_t *edges;
    size_t n_edges;
} omni_sthread_t;

/* One table of the monitor's timeline (process, cores, net, gpu, counters,
 * energy), its rows gathered over all timeline records. */
typedef struct omni_series {
    char *name;
    char **cols;
    size_t n_cols;
    double *v;            /* n_rows * n_cols, row-major; NaN where the value was nil */
    size_t n_rows, cap_rows;
} omni_series_t;

/* A sampler's row that served several threads of one kind, one after
 * another, or named its thread (--mode sample): its latest thread, how
 * many, and that thread's name (NULL when unknown). */
typedef struct omni_ssgroup {
    int64_t native_id;
    uint64_t threads;
    char *name;
} omni_ssgroup_t;

/* An audited event's row: what happened how often, and where. */
typedef struct omni_sevent {
    char *event;            /* open, socket, process, import */
    char *what;             /* the path, address, program or module */
    char *detail;           /* open's mode, socket's connect/bind/sendto, the process event */
    int64_t code;           /* the target's function that caused it, -1 when none */
    uint64_t count;
    double seconds;         /* imports: time in the import (inclusive) */
    int64_t pid;            /* the process it happened in */
} omni_sevent_t;

/* Bytes moved through descriptors, by kind (file, pipe, tcp, udp, unix,
 * socket, tty, other). */
#define OMNI_IO_KINDS 9
typedef struct omni_siokind {
    char name[16];
    uint64_t read_bytes, write_bytes, read_ops, write_ops;
    uint64_t sizes[2][48];   /* [read, write][log2 bucket]: ops by size */
} omni_siokind_t;

typedef struct omni_siofn {
    int64_t code;            /* -1: no Python caller */
    int kind;                /* index into io_kinds */
    uint64_t read_bytes, write_bytes, read_ops, write_ops;
    int64_t pid;
} omni_siofn_t;

/* Coroutines (the "coroutines" record): per coroutine function, those that
 * ran to their end, their wall time from the first resumption and the part
 * spent awaiting; per await (the line a coroutine was suspended at), how
 * often and how long it held its coroutine. */
typedef struct omni_scoro {
    int64_t pid;
    uint32_t code;
    uint64_t finished;
    double wall_s, await_s, max_wall_s;
} omni_scoro_t;

typedef struct omni_sawait {
    int64_t pid;
    uint32_t code;
    int64_t line;
    uint64_t count;
    double total_s, max_s;
} omni_sawait_t;

/* omni.profile's regions: totals by name, and each instance (up to a bound). */
typedef struct omni_sregion_name {
    char *name;
    uint64_t count, errors;
    double wall_s, cpu_s;
} omni_sregion_name_t;

typedef struct omni_sregion {
    char *name, *error;      /* error: the exception's type, NULL when none */
    int64_t tid, pid;
    double start_s, end_s;   /* since the session's start (the timeline's clock) */
    double cpu_s, rss_start_bytes, rss_end_bytes, rss_peak_bytes, read_bytes, write_bytes;
    double flops;            /* NaN when not estimated */
} omni_sregion_t;

/* Allocation accounting: a node of the sampled allocations' stacks (a frame
 * under its caller), with the bytes it stands for (estimated from samples). */
typedef struct omni_smemnode {
    int64_t parent;          /* -1 for an outermost frame */
    int64_t code;            /* -1 when unknown */
    int64_t line;            /* the innermost frame's line; -1 for callers */
    double alloc_bytes, allocs, exit_live_bytes, peak_live_bytes;
    int native;              /* the native heap's blocks (malloc, mmap), not Python's */
} omni_smemnode_t;

/* A sampled block alive when the program ended. */
typedef struct omni_smemsurvivor {
    uint32_t node;
    double bytes, t_s;       /* estimated bytes; when it was allocated */
} omni_smemsurvivor_t;

/* The heap census at the program's end: a type's live objects. */
typedef struct omni_smemtype {
    char *type;
    uint64_t count, bytes;
} omni_smemtype_t;

/* The stack sampler's tree: a node is a frame under its caller. */
typedef struct omni_snode {
    int64_t parent;          /* -1 for an outermost frame */
    int64_t code;            /* -1 when the code object was not known */
    int64_t line;
} omni_snode_t;

/* Samples whose innermost frame was node, on one thread. */
typedef struct omni_sstack {
    int64_t native_id;       /* the thread */
    int64_t pid;
    uint32_t node;
    uint64_t samples, cpu, gil;
} omni_sstack_t;

/* One process of the report: the session's own, then its children's when
 * the sessions are joined (omni_session_load_tree). Strings owned. */
typedef struct omni_sprocess {
    int64_t pid, ppid, parent_pid;
    char *session;          /* its session file */
    char *session_id, *parent_session_id, *started_by;
    char **argv;
    size_t argc;
    char *hostname;           /* the machine it ran on, NULL when unknown */
    int has_footer;
    int64_t exit_status;
    double wall_s, cpu_s;     /* the footer's (CPU: user and system), 0 without one */
    uint64_t peak_rss_bytes;  /* the footer's, 0 without one */
    uint64_t samples, cpu_samples; /* the stack sampler's, of its threads */
    /* its allocation accounting (--memory), when it ran */
    int has_memory, has_native;
    uint64_t mem_peak_bytes, mem_exit_live_bytes, native_peak_bytes, native_exit_live_bytes;
} omni_sprocess_t;

/* The most runs one session file may hold (--repeat). */
#define OMNI_MAX_RUNS 1000

typedef struct omni_session {
    /* header */
    uint64_t version;
    char *session_id;
    int64_t pid, ppid;
    double start_unix_s;
    char **argv;
    size_t argc;
    char **sys_argv;
    size_t sys_argc;
    char *target, *cwd, *executable, *python_version, *omni_version, *mode;
    char *parent_session_id;   /* NULL for a session no profiled process started */
    char *started_by;          /* command, parent, fork */
    int64_t parent_pid;
    char *hostname, *arch, *cpu_model, *os, *kernel;
    uint64_t logical_cpus, memory_total_bytes;
    /* profile */
    omni_scode_t *codes;
    size_t n_codes;
    omni_sthread_t *threads;
    size_t n_threads;
    /* footer */
    int has_footer;
    int64_t exit_status;
    char *exit_how;
    int timed_out;           /* --timeout ended the run */
    int64_t signal;
    double wall_s, cpu_user_s, cpu_sys_s;
    uint64_t peak_rss_bytes;
    char *clock;
    char **warnings;
    size_t n_warnings;
    /* the monitor: the machine's facts and the probes' state as msgpack
     * records (unpack with omni_session_record), and the timeline */
    char *machine_raw, *monitor_raw;
    size_t machine_len, monitor_len;
    omni_series_t *series;
    size_t n_series;
    /* audited events */
    omni_sevent_t *events;
    size_t n_events;
    uint64_t events_dropped;
    int has_events;
    /* byte accounting */
    int has_io;
    omni_siokind_t io_kinds[OMNI_IO_KINDS];
    size_t n_io_kinds;
    omni_siofn_t *io_fns;
    size_t n_io_fns;
    /* stack samples */
    int has_samples;
    double sample_interval_s;
    uint64_t samples_taken, sample_errors, samples_dropped;
    omni_snode_t *snodes;
    size_t n_snodes;
    omni_sstack_t *sstacks;
    size_t n_sstacks;
    omni_ssgroup_t *sgroups;
    size_t n_sgroups;
    /* coroutines */
    int has_coros;
    omni_scoro_t *coros;
    size_t n_coros;
    omni_sawait_t *awaits;
    size_t n_awaits;
    uint64_t coros_unfinished;
    /* allocation accounting */
    int has_memory;          /* a memory record was read */
    int memory_available;
    char *memory_reason;
    double mem_interval_bytes, mem_peak_s, mem_exit_s, mem_wall_s;
    uint64_t mem_allocations, mem_frees, mem_allocated_bytes, mem_freed_bytes;
    uint64_t mem_peak_bytes, mem_exit_live_bytes, mem_samples, mem_unknown_frees;
    /* the native heap (malloc and anonymous mmap outside Python's allocators) */
    int mem_native_available;
    char *mem_native_reason;
    uint64_t native_allocations, native_frees, native_allocated_bytes, native_freed_bytes;
    uint64_t native_peak_bytes, native_exit_live_bytes, native_maps, native_mapped_bytes;
    omni_smemnode_t *mem_nodes;
    size_t n_mem_nodes;
    omni_smemsurvivor_t *mem_survivors;
    size_t n_mem_survivors;
    struct omni_smemchain {
        uint32_t node;
        char *chain;               /* what keeps that node's blocks alive, from a module */
    } *mem_chains;
    size_t n_mem_chains;
    omni_smemtype_t *mem_census;   /* the most bytes first */
    size_t n_mem_census;
    int mem_census_partial;
    uint64_t mem_census_objects;
    double mem_census_s;           /* what the census took (NaN: not said) */
    char *mem_census_reason;       /* why there is none, or NULL */
    /* omni.profile's regions */
    int has_regions;
    omni_sregion_name_t *region_names;
    size_t n_region_names;
    omni_sregion_t *regions;
    size_t n_regions;
    uint64_t regions_dropped;
    /* the processes joined in this model: [0] is this session's own */
    omni_sprocess_t *processes;
    size_t n_processes;
    size_t n_roots;          /* runs joined by omni_session_load_many (1 otherwise) */
    /* --push: what the sender did (the last push record), when there is one */
    int has_push;
    char *push_url, *push_name, *push_error;  /* push_error NULL when it was taken */
    int64_t push_status;     /* the endpoint's HTTP status; 0 when it never answered */
    uint64_t push_attempts, push_bytes;
    /* pushed at checkpoints: the intervals made, sent, failed, dropped (0s
     * for a profile sent once at the end) */
    uint64_t push_intervals, push_intervals_sent, push_intervals_failed, push_intervals_dropped;
    /* repeated runs (--repeat): this model is the median run by wall time;
     * runs holds the others in run order. run_index: the run's place (0 =
     * the first run). */
    struct omni_session *runs;
    size_t n_runs;
    int run_index;
    /* A session without a footer is read up to its checkpoint (the file
     * beside it, SESSION.md) when there is one: its tables are then the
     * checkpoint's, taken checkpoint_t_s after the start. */
    int from_checkpoint;
    /* timeline records dropped to keep the running session within its bound */
    uint64_t timeline_trimmed;
    /* --mode sample: the thread records and their functions' times were
     * estimated from the stack samples (calls are not known: 0) */
    int estimated;
    uint64_t checkpoint_seq;
    double checkpoint_t_s;
    /* the footer's account of them: how many, the last one's size, the
     * longest one's packing and writing (on the monitor thread) */
    uint64_t checkpoints, checkpoint_bytes;
    double checkpoint_max_s;
    /* what the reader noticed */
    int truncated;           /* the file ends inside a record */
    size_t unknown_records;  /* records of kinds this version does not know (skipped) */
} omni_session_t;

/* Reads the session in buf[0..len). Returns 0 and fills *s (free it with
 * omni_session_free), or -1 with a message in err. A file cut short after
 * the header is read up to the cut (s->truncated = 1). */
int omni_session_parse(const char *buf, size_t len, omni_session_t *s, char *err, size_t errcap);

/* The same, with the checkpoint of a run that has no footer: the bytes of
 * the file beside the session (ckpt, NULL for none). A checkpoint that is
 * not the run's, or that cannot be read whole, is left unused. */
int omni_session_parse_with(const char *buf, size_t len, const char *ckpt, size_t ckpt_len,
                            omni_session_t *s, char *err, size_t errcap);

/* Reads the file at path, and its checkpoint (path + OMNI_CHECKPOINT_SUFFIX)
 * when it has no footer; the same contract, and a missing or unreadable
 * session file is an error too. */
int omni_session_load(const char *path, omni_session_t *s, char *err, size_t errcap);

void omni_session_free(omni_session_t *s);

/* Loads the session at path and joins to it the sessions of the processes
 * it started (children and their children: the sessions in the same folder
 * whose parent_session_id leads to it). Functions of all processes become
 * one profile (code objects matched by file, name and line); threads keep
 * their process's pid; processes lists each. The same contract as
 * omni_session_load; a child's session that cannot be read is left out
 * with a warning in s->warnings. */
int omni_session_load_tree(const char *path, omni_session_t *s, char *err, size_t errcap);

/* Several runs in one model: each path is a session (loaded with its tree)
 * or a folder (every session in it that no other session of the folder
 * started, each with its tree), joined as omni_session_load_tree joins a
 * tree - the ranks of a distributed job, the workers of a service, runs on
 * several hosts. s->n_roots says how many runs were joined. Returns 0, or
 * -1 with err set (a path that cannot be read, a folder without sessions). */
int omni_session_load_many(const char *const *paths, size_t n, omni_session_t *s, char *err,
                           size_t errcap);

/* The session of the process pid in the tree of path, alone (no join).
 * Returns 0, or -1 with err set (no such process). */
int omni_session_load_process(const char *path, int64_t pid, omni_session_t *s, char *err,
                              size_t errcap);

/* The index of the io kind called name, added when new; -1 when full. */
int omni_session_io_kind(omni_session_t *s, const char *name);

/* The timeline table called name, or NULL. */
const omni_series_t *omni_session_series(const omni_session_t *s, const char *name);
/* The index of a column, or -1. */
int omni_series_col(const omni_series_t *t, const char *col);
/* The value at (row, col); NaN when col < 0. */
double omni_series_at(const omni_series_t *t, size_t row, int col);

/* Unpacks a stored record (machine_raw, monitor_raw) into u, which the
 * caller destroys with msgpack_unpacked_destroy. Returns the record's map,
 * or NULL when there is none. */
const msgpack_object *omni_session_record(const char *raw, size_t len, msgpack_unpacked *u);

#endif
