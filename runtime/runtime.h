/* runtime.h - what the launcher asks of the runtime: prepare before the
 * interpreter starts, start once it runs, finish exactly once however the
 * process ends. */
#ifndef OMNI_RUNTIME_H
#define OMNI_RUNTIME_H

#include "runtime/session/writer.h"

typedef enum omni_mode {
    OMNI_MODE_OFF = 0,  /* no hooks, no session: a plain drop-in python3 */
    OMNI_MODE_MINIMAL,
    OMNI_MODE_DEFAULT,
    OMNI_MODE_FULL,
    OMNI_MODE_SAMPLE    /* no frame hook, no per-call work: the stack sampler alone */
} omni_mode_t;

#define OMNI_DEFAULT_CHECKPOINT_S 10.0
#define OMNI_DEFAULT_MAX_SESSION_MB 100.0

typedef struct omni_run_config {
    const char *out_path;   /* the session file; NULL = a new file under ./.omni/ */
    omni_mode_t mode;
    int quiet;              /* omnipython prints nothing of its own */
    int interval_ms;        /* the monitor's sampling interval; 0 = no monitor, -1 = the mode's */
    double checkpoint_s;    /* between checkpoints (checkpoint.h); 0 = when asked, -1 = default */
    double max_session_mb;  /* the session's bound while it runs (trim.h); 0 = none, -1 = default */
    double grams_co2_per_kwh; /* carbon intensity of the electricity; 0 = the default */
    int sample_hz;          /* stack samples a second; 0 = none, -1 = the mode's */
    double timeout_s;       /* --timeout: end the target after this long; 0 = never */
    int append;             /* a later run of --repeat: add to out_path's runs */
    int memory;             /* allocation accounting (--mode full, --memory) */
    size_t memory_interval; /* --memory-interval: mean bytes between samples; 0 = default */
    const char *push_url;   /* --push: send the run's profile there when it ends; NULL = no */
    const char *push_name;  /* --push-name, --push-labels (borrowed; NULL = the defaults) */
    const char *push_labels;
    int argc;               /* omnipython's whole command line (borrowed) */
    char **argv;
} omni_run_config_t;

/* Before Py_Initialize: clocks, the machine summary, exit interposition.
 * The config is copied. Returns 0. */
int omni_runtime_prepare(const omni_run_config_t *cfg);

/* Before Py_Initialize, once the target is known: creates the session file
 * (beside the parent's session when a profiled process started this one)
 * and sets OMNIPYTHON_PARENT for the processes the target will start, while
 * the interpreter has not yet read the environment. Returns 0 or -errno (a
 * warning is printed; the target runs without a session). */
int omni_runtime_open_session(const char *target);

/* After Py_Initialize, with the GIL held, before the target runs: opens the
 * session and writes its header, installs the hooks. target describes what
 * runs ("script.py", "-m mod", "-c", "-"); sys_argv is the target's argv in
 * UTF-8 (borrowed for the call). Never fails the run: a problem becomes a
 * warning and the target runs unprofiled. */
void omni_runtime_start(const char *target, int sys_argc, char **sys_argv);

/* Ends the session: stops the hooks, writes the profile and the footer, and
 * says where the session is. Runs once per process (later calls do nothing),
 * only in the process that started the session (not in a forked child).
 * Safe to call from exit(), _exit() and fatal-signal handlers. */
void omni_runtime_finish(int exit_status, omni_exit_how_t how, int signum);

/* Records a warning for the session footer (copied; at most a few dozen kept)
 * and prints it to stderr unless quiet. */
void omni_runtime_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The exit status of a run that --timeout ended (timeout(1)'s). */
#define OMNI_EXIT_TIMEOUT 124

/* Whether this process's parent runs the same omnipython executable (a
 * child started through sys.executable). Reads /proc; not for hot paths. */
int omni_runtime_parent_is_omnipython(void);

/* After pre-initialisation, before the interpreter starts: the allocator
 * hooks when the run asks for memory accounting (a failure is a reason in
 * the session, not an error). */
void omni_runtime_install_memory(void);

/* The session path of this run, or NULL when there is none. */
const char *omni_runtime_session_path(void);

/* CLOCK_MONOTONIC at the session's start: the timeline's zero. */
uint64_t omni_runtime_start_mono_ns(void);

#endif
