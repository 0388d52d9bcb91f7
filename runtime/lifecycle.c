/* lifecycle.c - a profiled run from start to finish: the session's header,
 * the hooks, and the one finish that every way out of the process reaches
 * (return from main, exit, _exit, an uncaught KeyboardInterrupt, a fatal
 * signal). */
#define _GNU_SOURCE
#include "runtime/pylayout.h"

#include "runtime/runtime.h"

#include "runtime/audit.h"
#include "runtime/callprof.h"
#include "runtime/checkpoint.h"
#include "runtime/coro.h"
#include "runtime/handoff.h"
#include "runtime/iocount.h"
#include "runtime/ownthread.h"
#include "runtime/memtrack.h"
#include "runtime/regions.h"
#include "runtime/clock.h"
#include "runtime/lineage.h"
#include "runtime/monitor.h"
#include "runtime/sampler.h"
#include "runtime/targetthreads.h"
#include "runtime/threadnames.h"

#include "hw/cpu.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_WARNINGS 32

/* The monitor's interval per mode (ms), and the stack sampler's rate (Hz):
 * off, minimal, default, full. */
static const int mode_interval_ms[] = {0, 1000, 100, 20, 1000};
static const int mode_sample_hz[] = {0, 100, 200, 1000, 100};
/* Grams of CO2 per kWh when the user gives none: the world average of
 * electricity generation (IEA, about 475 g/kWh). */
#define DEFAULT_GRAMS_CO2_PER_KWH 475.0

typedef void (*exit_fn_t)(int) __attribute__((noreturn));

/* The state of this process's run. */
static struct {
    omni_run_config_t cfg;
    pid_t pid;                 /* the process that owns the session */
    int started;               /* omni_runtime_start ran */
    int timed_out;             /* atomic: --timeout began ending the run */
    int finished;              /* omni_runtime_finish ran (set atomically) */
    int open_tried;            /* omni_runtime_open_session ran */
    int created;               /* the session file was made (omni_runtime_open_session) */
    int push_following;        /* --push's sender follows the run (handoff.h) */
    int have_session;          /* the header was written to path */
    char path[4096];
    omni_lineage_t parent;     /* the session this one belongs under */
    int has_parent;
    uint64_t start_mono_ns;
    uint64_t main_ident;       /* pthread_self() of the main thread */
    omni_header_t header;
    omni_writer_t writer;      /* 64 KiB: static, never on a stack */
    char warnings[MAX_WARNINGS][256];
    const char *warning_ptrs[MAX_WARNINGS];
    int n_warnings;
    char python_version[32];
    /* the monitor's account of the checkpoints, read after it stopped */
    uint64_t checkpoints, checkpoint_bytes, checkpoint_max_ns;
    exit_fn_t real_exit, real__exit;
} rt = {.writer = {.fd = -1}};

/* ---------------------------------------------------------------- warnings */

/* Keeps msg among the session's warnings; prints it too unless quiet. */
static void warn_msg(const char msg[256], int print) {
    if (rt.n_warnings < MAX_WARNINGS) {
        memcpy(rt.warnings[rt.n_warnings], msg, 256);
        rt.warning_ptrs[rt.n_warnings] = rt.warnings[rt.n_warnings];
        rt.n_warnings++;
    }
    if (print && !rt.cfg.quiet)
        fprintf(stderr, "omnipython: warning: %s\n", msg);
}

void omni_runtime_warn(const char *fmt, ...) {
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    warn_msg(msg, 1);
}

const char *omni_runtime_session_path(void) {
    return rt.have_session ? rt.path : NULL;
}

uint64_t omni_runtime_start_mono_ns(void) {
    return rt.start_mono_ns;
}

static char memory_why[256]; /* why allocation accounting could not start */

void omni_runtime_install_memory(void) {
    if (!rt.cfg.memory || rt.cfg.mode == OMNI_MODE_OFF)
        return;
    if (omni_memtrack_install(rt.cfg.memory_interval, memory_why, sizeof memory_why) < 0)
        omni_runtime_warn("no allocation accounting: %s", memory_why);
}

/* ---------------------------------------------------------------- exit interposition */

/* omnipython defines exit and _exit and exports them (-rdynamic), so that
 * libpython (linked in) and extension modules (loaded) reach these first:
 * sys.exit in a script ends in Py_Exit -> exit, os._exit in _exit. */
static exit_fn_t resolve_exit(const char *name) {
    return (exit_fn_t)dlsym(RTLD_NEXT, name);
}

void exit(int status) {
    if (__atomic_load_n(&rt.timed_out, __ATOMIC_SEQ_CST))
        status = OMNI_EXIT_TIMEOUT;
    omni_runtime_finish(status, OMNI_EXIT_EXIT, 0);
    if (!rt.real_exit)
        rt.real_exit = resolve_exit("exit");
    rt.real_exit(status);
}

void _exit(int status) {
    if (__atomic_load_n(&rt.timed_out, __ATOMIC_SEQ_CST))
        status = OMNI_EXIT_TIMEOUT;
    omni_runtime_finish(status, OMNI_EXIT_UNDERSCORE_EXIT, 0);
    if (!rt.real__exit)
        rt.real__exit = resolve_exit("_exit");
    rt.real__exit(status);
}

/* ---------------------------------------------------------------- fatal signals */

/* Signals whose default action ends the process. Installed only where the
 * disposition is still the default once Python has set up its own, so the
 * target sees SIG_DFL through the signal module and can replace ours. */
/* The fatal signals another process sends (not those a fault raises). */
static const int async_fatal[] = {SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGXCPU,
                                  SIGVTALRM};

static void finish_locked(int exit_status, omni_exit_how_t how, int signum);

static const int fatal_signals[] = {SIGTERM, SIGHUP,  SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM,
                                    SIGSEGV, SIGBUS,  SIGFPE,  SIGILL,  SIGABRT, SIGXCPU,
                                    SIGVTALRM, SIGSYS, SIGTRAP};

static void on_fatal_signal(int sig) {
    int saved = errno;
    omni_runtime_finish(-sig, OMNI_EXIT_SIGNAL, sig);
    /* --timeout's SIGTERM: the run ends with timeout(1)'s status. */
    if (sig == SIGTERM && __atomic_load_n(&rt.timed_out, __ATOMIC_SEQ_CST))
        rt.real__exit(OMNI_EXIT_TIMEOUT);
    /* SA_RESETHAND restored the default action: deliver the signal again so
     * the process dies of it, as it would have without omnipython. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    raise(sig);
    errno = saved;
}

static void install_signal_handlers(void) {
    for (size_t i = 0; i < sizeof fatal_signals / sizeof fatal_signals[0]; i++) {
        struct sigaction old, sa;
        if (sigaction(fatal_signals[i], NULL, &old) != 0 || old.sa_handler != SIG_DFL ||
            (old.sa_flags & SA_SIGINFO))
            continue;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_fatal_signal;
        sa.sa_flags = SA_RESETHAND | SA_NODEFER | SA_ONSTACK;
        sigemptyset(&sa.sa_mask);
        sigaction(fatal_signals[i], &sa, NULL);
    }
}

/* ---------------------------------------------------------------- start */

int omni_runtime_prepare(const omni_run_config_t *cfg) {
    rt.cfg = *cfg;
    rt.pid = getpid();
    rt.start_mono_ns = omni_clock_mono_ns();
    rt.real_exit = resolve_exit("exit");
    rt.real__exit = resolve_exit("_exit");
    omni_clock_init();
    /* The monitor's probes run on threads later; what must happen while
     * this process has one thread happens now. */
    if (cfg->mode != OMNI_MODE_OFF && cfg->interval_ms != 0)
        omni_hw_cpu_prepare();
    return 0;
}

/* A short name for the session file from what runs. */
static void target_stem(const char *target, char *out, size_t cap) {
    const char *s = target;
    if (strncmp(s, "-m ", 3) == 0)
        s += 3;
    else if (strcmp(s, "-c") == 0)
        s = "command";
    else if (strcmp(s, "-") == 0 || !*s)
        s = "stdin";
    const char *slash = strrchr(s, '/');
    if (slash && slash[1])
        s = slash + 1;
    size_t n = 0;
    for (; *s && n + 1 < cap && n < 48; s++) {
        char c = *s;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '_' || c == '-' || c == '.';
        out[n++] = ok ? c : '_';
    }
    out[n] = 0;
    if (n > 3 && strcmp(out + n - 3, ".py") == 0)
        out[n -= 3] = 0;
    if (!n)
        snprintf(out, cap, "run");
}

/* Creates a file that does not exist yet at base (+ "-N" before ".omni"
 * when it does). Returns 0 or -errno. */
static int create_new(const char *base) {
    size_t n = strlen(base);
    int ext = n > 5 && strcmp(base + n - 5, ".omni") == 0;
    for (int attempt = 0; attempt < 100; attempt++) {
        if (attempt)
            snprintf(rt.path, sizeof rt.path, "%.*s-%d%s", (int)(ext ? n - 5 : n), base, attempt,
                     ext ? ".omni" : "");
        else
            snprintf(rt.path, sizeof rt.path, "%s", base);
        int rc = omni_writer_open(&rt.writer, rt.path, OMNI_WRITER_NEW);
        if (rc != -EEXIST)
            return rc;
    }
    return -EEXIST;
}

/* Opens the session file: --out; beside the parent's session for a child
 * of a profiled process; else a new name under ./.omni/. */
static int open_session(const char *target) {
    if (rt.cfg.out_path) {
        snprintf(rt.path, sizeof rt.path, "%s", rt.cfg.out_path);
        return omni_writer_open(&rt.writer, rt.path,
                                rt.cfg.append ? OMNI_WRITER_APPEND : OMNI_WRITER_TRUNCATE);
    }
    char base[4096];
    if (rt.has_parent) {
        if (omni_lineage_child_path(rt.parent.session_path, (long)rt.pid, base, sizeof base) < 0)
            return -ENAMETOOLONG;
        return create_new(base);
    }
    if (mkdir(".omni", 0755) != 0 && errno != EEXIST)
        return -errno;
    char stem[64], stamp[32];
    target_stem(target, stem, sizeof stem);
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    snprintf(base, sizeof base, ".omni/%s-%s-%d.omni", stem, stamp, (int)rt.pid);
    return create_new(base);
}

static void new_session_id(char id[33]) {
    unsigned char rnd[16];
    if (getrandom(rnd, sizeof rnd, GRND_NONBLOCK) != (ssize_t)sizeof rnd) {
        uint64_t x = omni_clock_unix_ns() ^ ((uint64_t)getpid() << 32);
        for (int i = 0; i < 16; i++, x = x * 6364136223846793005ull + 1442695040888963407ull)
            rnd[i] = (unsigned char)(x >> 56);
    }
    for (int i = 0; i < 16; i++)
        snprintf(id + 2 * i, 3, "%02x", rnd[i]);
}

/* This session, as the parent of the processes it starts. */
static void export_lineage(void) {
    omni_lineage_t me = {.pid = (long)rt.pid,
                         .mode = (int)rt.cfg.mode,
                         .interval_ms = rt.cfg.interval_ms,
                         .quiet = rt.cfg.quiet,
                         .grams_co2_per_kwh = rt.cfg.grams_co2_per_kwh};
    memcpy(me.session_id, rt.header.session_id, 33);
    if (rt.path[0] == '/') {
        snprintf(me.session_path, sizeof me.session_path, "%s", rt.path);
    } else {
        char cwd[4096];
        if (!getcwd(cwd, sizeof cwd) ||
            snprintf(me.session_path, sizeof me.session_path, "%s/%s", cwd, rt.path) >=
                (int)sizeof me.session_path)
            return;
    }
    omni_lineage_export(&me);
}

int omni_runtime_open_session(const char *target) {
    if (rt.cfg.mode == OMNI_MODE_OFF || rt.created)
        return 0;
    if (rt.open_tried)
        return -EEXIST; /* it failed once, and said so */
    rt.open_tried = 1;
    rt.has_parent = omni_lineage_read(&rt.parent) == 0 && rt.parent.pid != (long)rt.pid;
    new_session_id(rt.header.session_id);
    int rc = open_session(target);
    if (rc == 0)
        rc = omni_writer_close(&rt.writer);
    if (rc < 0) {
        omni_runtime_warn("cannot write the session %s: %s; the program runs without one",
                          rt.path[0] ? rt.path : "under ./.omni", strerror(-rc));
        return rc;
    }
    rt.created = 1;
    /* --push: a sender follows the run from now on (checkpoints); when it
     * cannot start, the one at the end sends the whole run */
    if (rt.cfg.push_url && !rt.has_parent && !rt.cfg.append) {
        int prc = omni_handoff_push_follow(rt.path, rt.cfg.push_url, rt.cfg.push_name,
                                           rt.cfg.push_labels);
        rt.push_following = prc == 0;
        if (prc < 0 && !rt.cfg.quiet)
            fprintf(stderr, "omnipython: warning: --push: cannot start the sender: %s\n",
                    strerror(-prc));
    }
    export_lineage();
    return 0;
}

static void fill_header(const char *target, int sys_argc, char **sys_argv) {
    omni_header_t *h = &rt.header;
    h->started_by = rt.has_parent ? "parent" : "command";
    if (rt.has_parent) {
        memcpy(h->parent_session_id, rt.parent.session_id, 33);
        h->parent_pid = rt.parent.pid;
    }
    h->pid = rt.pid;
    h->ppid = getppid();
    h->start_unix_ns = omni_clock_unix_ns() - (omni_clock_mono_ns() - rt.start_mono_ns);
    h->argc = rt.cfg.argc;
    h->argv = rt.cfg.argv;
    h->sys_argc = sys_argc;
    h->sys_argv = calloc((size_t)(sys_argc > 0 ? sys_argc : 1), sizeof(char *));
    for (int i = 0; h->sys_argv && i < sys_argc; i++)
        h->sys_argv[i] = strdup(sys_argv[i] ? sys_argv[i] : "");
    if (!h->sys_argv)
        h->sys_argc = 0;
    snprintf(h->target, sizeof h->target, "%s", target);
    if (!getcwd(h->cwd, sizeof h->cwd))
        h->cwd[0] = 0;
    ssize_t n = readlink("/proc/self/exe", h->executable, sizeof h->executable - 1);
    h->executable[n > 0 ? n : 0] = 0;
    snprintf(rt.python_version, sizeof rt.python_version, "%s", Py_GetVersion());
    rt.python_version[strcspn(rt.python_version, " ")] = 0;
    h->python_version = rt.python_version;
    static const char *const modes[] = {"off", "minimal", "default", "full", "sample"};
    h->mode = modes[rt.cfg.mode];
    omni_hw_summary(&h->machine);
}

static void on_py_finalized(void) {
    /* Py_FinalizeEx is done. If the target died of an uncaught
     * KeyboardInterrupt, Py_RunMain now kills the process with SIGINT;
     * when --timeout sent it, the run ends with timeout(1)'s status. */
    if (omni_py_unhandled_keyboard_interrupt()) {
        omni_runtime_finish(-SIGINT, OMNI_EXIT_KEYBOARD_INTERRUPT, SIGINT);
        if (__atomic_load_n(&rt.timed_out, __ATOMIC_SEQ_CST))
            rt.real__exit(OMNI_EXIT_TIMEOUT);
    }
}

/* os.execv and its relatives replace the process image: nothing of ours
 * runs after that, so the session ends here (if the exec fails, the rest of
 * the run is not recorded). Audit hooks run for every audited event: compare
 * the name and return. */
static int on_audit(const char *event, PyObject *args, void *data) {
    (void)data;
    omni_audit_event(event, args);
    if (event[0] == 'o' && strcmp(event, "os.exec") == 0)
        omni_runtime_finish(0, OMNI_EXIT_EXEC, 0);
    return 0;
}

/* The target made one of the monitor's descriptors a copy of its own (dup2
 * onto every number it finds free, as multiprocessing's fd-passing test
 * does): the monitor stops, and the number is the target's, as under python3. */
static void on_fd_taken(int fd) {
    static int warned;
    omni_monitor_stop();
    /* in the session only: the program's stderr is as under python3 */
    char msg[256];
    snprintf(msg, sizeof msg, "the program took descriptor %d, which the monitor used: the "
                              "timeline ends there", fd);
    if (!__atomic_exchange_n(&warned, 1, __ATOMIC_RELAXED))
        warn_msg(msg, 0);
}

static void after_fork_child(void) {
    omni_target_threads_after_fork();
    omni_callprof_after_fork_child();
    omni_monitor_after_fork_child();
}

/* ---------------------------------------------------------------- --timeout */

/* After the deadline: a KeyboardInterrupt in the main thread (what Ctrl-C
 * gives), then SIGTERM, then SIGKILL, each after a grace period. */
#define TIMEOUT_GRACE_INT_S 5.0
#define TIMEOUT_GRACE_TERM_S 2.0

/* Sleeps seconds unless the run ends first. Returns 1 when the time ran out. */
static int sleep_unless_finished(double seconds) {
    uint64_t until = omni_clock_mono_ns() + (uint64_t)(seconds * 1e9);
    while (omni_clock_mono_ns() < until) {
        if (__atomic_load_n(&rt.finished, __ATOMIC_SEQ_CST))
            return 0;
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return !__atomic_load_n(&rt.finished, __ATOMIC_SEQ_CST);
}

static void *watchdog_main(void *arg) {
    (void)arg;
    pthread_setname_np(pthread_self(), "omni-timeout");
    if (!sleep_unless_finished(rt.cfg.timeout_s))
        return NULL;
    __atomic_store_n(&rt.timed_out, 1, __ATOMIC_SEQ_CST);
    omni_runtime_warn("timed out after %g s: KeyboardInterrupt sent to the main thread",
                      rt.cfg.timeout_s);
    pthread_kill((pthread_t)rt.main_ident, SIGINT);
    if (!sleep_unless_finished(TIMEOUT_GRACE_INT_S))
        return NULL;
    omni_runtime_warn("still running %g s later: SIGTERM", TIMEOUT_GRACE_INT_S);
    kill(getpid(), SIGTERM);
    if (!sleep_unless_finished(TIMEOUT_GRACE_TERM_S))
        return NULL;
    /* The target ignores both: the session ends here, then the process. */
    omni_runtime_finish(-SIGKILL, OMNI_EXIT_SIGNAL, SIGKILL);
    kill(getpid(), SIGKILL);
    return NULL;
}

static void start_watchdog(void) {
    if (rt.cfg.timeout_s <= 0)
        return;
    pthread_t t;
    pthread_attr_t attr;
    sigset_t all, old;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = omni_own_thread_start(&t, &attr, watchdog_main, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    if (rc != 0)
        omni_runtime_warn("--timeout cannot work: no thread (%s)", strerror(rc));
}

/* ---------------------------------------------------------------- forked children */

static void start_monitor(void);

/* A forked child (os.fork, multiprocessing's fork start method) becomes a
 * session of its own, under its parent's: called through
 * os.register_at_fork(after_in_child=...), with the GIL held, after CPython
 * has made the child whole again. The parent's counts stay the parent's. */
static void begin_forked_child(void) {
    if (!rt.have_session || rt.finished)
        return;
    omni_lineage_t *p = &rt.parent;
    memset(p, 0, sizeof *p);
    memcpy(p->session_id, rt.header.session_id, 33);
    p->pid = (long)rt.pid;
    snprintf(p->session_path, sizeof p->session_path, "%s", rt.path);
    rt.has_parent = 1;
    rt.pid = getpid();
    rt.have_session = rt.created = 0;
    rt.n_warnings = 0;
    rt.start_mono_ns = omni_clock_mono_ns();
    rt.main_ident = (uint64_t)pthread_self();
    rt.cfg.out_path = NULL; /* the child's name derives from the parent's session */
    new_session_id(rt.header.session_id);
    char base[4096];
    int rc = omni_lineage_child_path(p->session_path, (long)rt.pid, base, sizeof base) < 0
                 ? -ENAMETOOLONG
                 : create_new(base);
    if (rc == 0)
        rc = omni_writer_close(&rt.writer);
    if (rc < 0)
        return; /* the child runs without a session, as an unprofiled fork would */
    rt.created = 1;
    omni_header_t *h = &rt.header;
    h->started_by = "fork";
    memcpy(h->parent_session_id, p->session_id, 33);
    h->parent_pid = p->pid;
    h->pid = rt.pid;
    h->ppid = getppid();
    h->start_unix_ns = omni_clock_unix_ns();
    rc = omni_writer_open(&rt.writer, rt.path, OMNI_WRITER_APPEND);
    if (rc == 0) {
        omni_session_write_header(&rt.writer, h);
        rc = omni_writer_close(&rt.writer);
    }
    if (rc < 0) {
        unlink(rt.path);
        return;
    }
    rt.have_session = 1;
    omni_callprof_reset_counts(omni_clock_ticks());
    omni_audit_reset();
    omni_audit_start();
    omni_iocount_reset();
    omni_regions_reset();
    omni_coro_reset();
    omni_memtrack_reset();
    omni_sampler_reset();
    rt.checkpoints = rt.checkpoint_bytes = rt.checkpoint_max_ns = 0;
    export_lineage();
    start_monitor();
}

static PyObject *on_fork_child_py(PyObject *self, PyObject *unused) {
    (void)self;
    (void)unused;
    omni_own_threads_hide(0);
    omni_own_threads_after_fork();
    begin_forked_child();
    Py_RETURN_NONE;
}

/* Between these two, CPython 3.12 and 3.14 count the process's threads to
 * warn about forking a multi-threaded process: omnipython's are not counted.
 * 3.13 counts them after the second: hidden then from its one read. */
static PyObject *on_fork_before_py(PyObject *self, PyObject *unused) {
    (void)self, (void)unused;
    omni_own_threads_hide(1);
    Py_RETURN_NONE;
}

static PyObject *on_fork_parent_py(PyObject *self, PyObject *unused) {
    (void)self, (void)unused;
    omni_own_threads_hide(OMNI_PY_FORK_WARNS_LATE ? OMNI_HIDE_ONE_READ : 0);
    Py_RETURN_NONE;
}

static PyMethodDef fork_defs[] = {
    {"_omnipython_before_fork", on_fork_before_py, METH_NOARGS, NULL},
    {"_omnipython_after_fork_in_parent", on_fork_parent_py, METH_NOARGS, NULL},
    {"_omnipython_after_fork_in_child", on_fork_child_py, METH_NOARGS, NULL},
};

/* posix.register_at_fork (os.register_at_fork) is the one place where a
 * forked Python child runs code after CPython has reinitialised itself. */
static int watch_forks(void) {
    PyObject *posix = PyImport_ImportModule("posix");
    PyObject *reg = posix ? PyObject_GetAttrString(posix, "register_at_fork") : NULL;
    PyObject *before = reg ? PyCFunction_New(&fork_defs[0], NULL) : NULL;
    PyObject *parent = before ? PyCFunction_New(&fork_defs[1], NULL) : NULL;
    PyObject *child = parent ? PyCFunction_New(&fork_defs[2], NULL) : NULL;
    PyObject *args = child ? PyTuple_New(0) : NULL;
    PyObject *kw = args ? Py_BuildValue("{s:O,s:O,s:O}", "before", before, "after_in_parent",
                                        parent, "after_in_child", child)
                        : NULL;
    PyObject *r = kw ? PyObject_Call(reg, args, kw) : NULL;
    int rc = r ? 0 : -1;
    if (!r)
        PyErr_Clear();
    Py_XDECREF(r);
    Py_XDECREF(kw);
    Py_XDECREF(args);
    Py_XDECREF(child);
    Py_XDECREF(parent);
    Py_XDECREF(before);
    Py_XDECREF(reg);
    Py_XDECREF(posix);
    return rc;
}

/* atexit: the program's own exit handlers have run (they were registered
 * later, and run first), the interpreter has not torn anything down. */
static PyObject *on_program_exit(PyObject *self, PyObject *noargs) {
    (void)self, (void)noargs;
    omni_memtrack_mark_exit();
    /* the census is omnipython's Python code, not the target's */
    omni_callprof_pause(1);
    omni_sampler_pause(1);
    omni_memtrack_census();
    omni_sampler_pause(0);
    omni_callprof_pause(0);
    Py_RETURN_NONE;
}

static PyMethodDef program_exit_def = {"_omnipython_program_exit", on_program_exit, METH_NOARGS,
                                       NULL};

/* The callbacks live in the interpreter, not in the module: a program that
 * had not imported atexit does not find it in sys.modules afterwards (3.14's
 * test_site checks that site imports nothing of the kind at start-up). */
static void watch_program_exit(void) {
    PyObject *name = PyUnicode_FromString("atexit");
    PyObject *had = name ? PyImport_GetModule(name) : NULL;
    Py_XDECREF(name);
    PyErr_Clear();
    PyObject *atexit = PyImport_ImportModule("atexit");
    PyObject *fn = atexit ? PyCFunction_New(&program_exit_def, NULL) : NULL;
    PyObject *r = fn ? PyObject_CallMethod(atexit, "register", "O", fn) : NULL;
    if (!r)
        PyErr_Clear();
    if (!had && PyDict_DelItemString(PyImport_GetModuleDict(), "atexit") < 0)
        PyErr_Clear();
    Py_XDECREF(had);
    Py_XDECREF(r);
    Py_XDECREF(fn);
    Py_XDECREF(atexit);
}

/* For the monitor's timeline: the rows taken while the interpreter frees
 * everything at the end are not the program's. (Reads one word: callable
 * from the monitor thread without the GIL.) */
static int interpreter_finalizing(void) {
    return omni_py_finalizing();
}

/* How long the timeline keeps a row every interval before it thins out:
 * OMNIPYTHON_TIMELINE_FULL seconds (default 600; 0: never thins). */
static uint64_t timeline_full_res_ns(void) {
    const char *v = getenv("OMNIPYTHON_TIMELINE_FULL");
    char *end;
    double s = v && *v ? strtod(v, &end) : 600;
    if (v && *v && (*end || !(s >= 0) || s > 1e7))
        s = 600;
    return (uint64_t)(s * 1e9);
}

/* On the monitor thread: the tables so far, beside the session. */
static void take_checkpoint(uint64_t seq, uint64_t t_ns) {
    omni_checkpoint_t c = {rt.path, rt.header.session_id, seq, t_ns, rt.main_ident};
    uint64_t t0 = omni_clock_mono_ns();
    long long rc = omni_checkpoint_write(&c);
    uint64_t took = omni_clock_mono_ns() - t0;
    if (rc >= 0) {
        rt.checkpoints++;
        rt.checkpoint_bytes = (uint64_t)rc;
        if (took > rt.checkpoint_max_ns)
            rt.checkpoint_max_ns = took;
    }
    if (rc < 0 && seq == 0)
        omni_runtime_warn("no checkpoint beside the session: %s", strerror((int)-rc));
}

static void start_monitor(void) {
    int ms = rt.cfg.interval_ms < 0 ? mode_interval_ms[rt.cfg.mode] : rt.cfg.interval_ms;
    if (ms <= 0)
        return;
    double ckpt_s = rt.cfg.checkpoint_s < 0 ? OMNI_DEFAULT_CHECKPOINT_S : rt.cfg.checkpoint_s;
    omni_monitor_config_t mc = {
        .session_path = rt.path,
        .interval_ns = (uint64_t)ms * 1000000u,
        .start_mono_ns = rt.start_mono_ns,
        .main_tid = gettid(),
        .grams_co2_per_kwh = rt.cfg.grams_co2_per_kwh > 0 ? rt.cfg.grams_co2_per_kwh
                                                          : DEFAULT_GRAMS_CO2_PER_KWH,
        .finalizing = interpreter_finalizing,
        .checkpoint_ns = (uint64_t)(ckpt_s * 1e9),
        .checkpoint = take_checkpoint,
        .full_res_ns = timeline_full_res_ns(),
        .max_session_bytes = (uint64_t)((rt.cfg.max_session_mb < 0 ? OMNI_DEFAULT_MAX_SESSION_MB
                                                                     : rt.cfg.max_session_mb) *
                                        1048576.0),
    };
    int hz = rt.cfg.sample_hz < 0 ? mode_sample_hz[rt.cfg.mode] : rt.cfg.sample_hz;
    mc.sample_interval_ns = hz > 0 ? 1000000000u / (uint64_t)hz : 0;
    if (hz > 0)
        omni_sampler_prepare(rt.cfg.mode == OMNI_MODE_SAMPLE);
    int rc = omni_monitor_start(&mc);
    if (rc < 0)
        omni_runtime_warn("the monitor thread could not start (%s): no timeline", strerror(-rc));
}

void omni_runtime_start(const char *target, int sys_argc, char **sys_argv) {
    if (rt.cfg.mode == OMNI_MODE_OFF || rt.started)
        return;
    rt.started = 1;
    rt.main_ident = (uint64_t)pthread_self();
    omni_target_threads_start();
    if (!rt.created && omni_runtime_open_session(target) < 0)
        return;
    fill_header(target, sys_argc, sys_argv);
    int rc = omni_writer_open(&rt.writer, rt.path, OMNI_WRITER_APPEND);
    if (rc == 0) {
        omni_session_write_header(&rt.writer, &rt.header);
        /* The header reaches the disk now: a run killed with SIGKILL leaves it. */
        rc = omni_writer_close(&rt.writer);
    }
    if (rc < 0) {
        unlink(rt.path);
        omni_runtime_warn("cannot write the session %s: %s; the program runs without one",
                          rt.path, strerror(-rc));
        return;
    }
    rt.have_session = 1;
    /* minimal counts calls exactly but leaves timing to cheaper means;
     * sample has no frame hook at all */
    if (rt.cfg.mode != OMNI_MODE_SAMPLE &&
        omni_callprof_start(rt.cfg.mode != OMNI_MODE_MINIMAL) < 0)
        omni_runtime_warn("the call profiler could not start: no code extra slot is left");
    if (rt.cfg.mode == OMNI_MODE_SAMPLE)
        omni_thread_names_enable(); /* (the frame hook names threads in the other modes) */
    if (PySys_AddAuditHook(on_audit, NULL) != 0) {
        PyErr_Clear();
        omni_runtime_warn("cannot add an audit hook: no files, sockets, processes or imports "
                          "recorded, and a session ended by exec will have no footer");
    } else {
        omni_audit_start();
    }
    if (omni_memtrack_active())
        watch_program_exit();
    if (Py_AtExit(on_py_finalized) != 0)
        omni_runtime_warn("cannot watch for KeyboardInterrupt at exit");
    pthread_atfork(omni_monitor_before_fork, NULL, after_fork_child);
    if (watch_forks() < 0)
        omni_runtime_warn("cannot watch for os.fork: forked children will have no sessions");
    install_signal_handlers();
    omni_iocount_on_taken(on_fd_taken);
    start_monitor();
    start_watchdog();
    omni_iocount_start();
    omni_memtrack_start_native();
}

/* ---------------------------------------------------------------- finish */

int omni_runtime_parent_is_omnipython(void) {
    char self[4096], parent[4096], path[64];
    ssize_t a = readlink("/proc/self/exe", self, sizeof self - 1);
    snprintf(path, sizeof path, "/proc/%d/exe", (int)getppid());
    ssize_t b = readlink(path, parent, sizeof parent - 1);
    return a > 0 && a == b && memcmp(self, parent, (size_t)a) == 0;
}

static uint64_t tv_ns(struct timeval tv) {
    return (uint64_t)tv.tv_sec * 1000000000u + (uint64_t)tv.tv_usec * 1000u;
}

/* CPython 3.13's Py_RunMain returns the status of an uncaught SystemExit
 * (sys.exit in a script) instead of calling exit(): its one test for it,
 * _Py_HandleSystemExit, is wrapped at link time (-Wl,--wrap, a static
 * libpython only; CMakeLists.txt), and the frame hook sees the main thread's
 * outermost call end in SystemExit (any libpython), so that the run still
 * ends "exit". */
#if OMNI_WRAP_SYSTEM_EXIT
static int system_exit_handled;
/* weak: the unit tests link this file without the wrapping */
int __real__Py_HandleSystemExit(int *exitcode) __attribute__((weak));
int __wrap__Py_HandleSystemExit(int *exitcode);
int __wrap__Py_HandleSystemExit(int *exitcode) {
    int r = __real__Py_HandleSystemExit(exitcode);
    if (r)
        system_exit_handled = 1;
    return r;
}
#endif

void omni_runtime_finish(int exit_status, omni_exit_how_t how, int signum) {
#if OMNI_WRAP_SYSTEM_EXIT
    if (how == OMNI_EXIT_RETURN && system_exit_handled)
        how = OMNI_EXIT_EXIT;
#endif
    if (how == OMNI_EXIT_RETURN && omni_callprof_main_system_exit())
        how = OMNI_EXIT_EXIT;
    /* A forked (or vforked) child shares our memory image but not our
     * session: leave every flag as it is. */
    if (getpid() != rt.pid)
        return;
    if (!rt.started) {
        /* The interpreter did not start (a bad Python option): no empty session. */
        if (rt.created && !__atomic_exchange_n(&rt.finished, 1, __ATOMIC_SEQ_CST))
            unlink(rt.path);
        return;
    }
    if (__atomic_exchange_n(&rt.finished, 1, __ATOMIC_SEQ_CST))
        return;
    /* A second signal while the session is written (a pool's terminate()
     * sends SIGTERM, a worker may be in _exit already) would kill the
     * process half-way: hold the asynchronous ones until the end. */
    sigset_t hold, old;
    sigemptyset(&hold);
    for (size_t i = 0; i < sizeof async_fatal / sizeof async_fatal[0]; i++)
        sigaddset(&hold, async_fatal[i]);
    pthread_sigmask(SIG_BLOCK, &hold, &old);
    finish_locked(exit_status, how, signum);
    /* The process ends with its exit status on the exit paths: what was
     * held stays held (as if it had come a moment later). os.exec keeps
     * the mask, an uncaught KeyboardInterrupt re-raises SIGINT, and a fatal
     * signal re-raises itself: those give the mask back. */
    if (how == OMNI_EXIT_EXEC || how == OMNI_EXIT_KEYBOARD_INTERRUPT || how == OMNI_EXIT_SIGNAL)
        pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* The end of the session, with the asynchronous fatal signals held. */
static void finish_locked(int exit_status, omni_exit_how_t how, int signum) {
    omni_iocount_stop(); /* before the session's own writes */
    omni_memtrack_stop();
    omni_audit_stop();
    omni_callprof_stop();
    uint64_t now = omni_clock_ticks();
    uint64_t end_mono = omni_clock_mono_ns();
    if (!rt.have_session)
        return;
    /* The monitor's last records go before the final ones. */
    if (omni_monitor_stop() < 0) {
        char msg[256] = "the monitor did not answer at the end within a second: the timeline's "
                        "rows since its last record are not in the session";
        warn_msg(msg, 0);
    }
    omni_callprof_flush(now);

    if (omni_callprof_hook_replaced())
        omni_runtime_warn("another frame-evaluation hook replaced omnipython's: the calls made "
                          "after that were not counted (the session's conflicts say so)");

    omni_footer_t f = {0};
    f.timed_out = __atomic_load_n(&rt.timed_out, __ATOMIC_SEQ_CST);
    if (f.timed_out && exit_status != -SIGKILL)
        exit_status = OMNI_EXIT_TIMEOUT; /* what the process will exit with */
    f.exit_status = exit_status;
    f.how = how;
    f.signal = signum;
    f.wall_ns = end_mono - rt.start_mono_ns;
    f.end_unix_ns = omni_clock_unix_ns();
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0) {
        f.cpu_user_ns = tv_ns(ru.ru_utime);
        f.cpu_sys_ns = tv_ns(ru.ru_stime);
        f.peak_rss_bytes = (uint64_t)ru.ru_maxrss * 1024;
    }
    f.ns_per_tick = omni_clock_ns_per_tick();
    f.clock = omni_clock_source();
    f.checkpoints = rt.checkpoints;
    f.checkpoint_bytes = rt.checkpoint_bytes;
    f.checkpoint_max_ns = rt.checkpoint_max_ns;

    int rc = omni_writer_open(&rt.writer, rt.path, OMNI_WRITER_APPEND);
    if (rc == 0) {
        omni_callprof_write(&rt.writer.pk, f.ns_per_tick, rt.main_ident);
        omni_audit_write(&rt.writer.pk, f.ns_per_tick);
        omni_sampler_write(&rt.writer.pk);
        omni_iocount_write(&rt.writer.pk);
        omni_regions_write(&rt.writer.pk);
        omni_coro_write(&rt.writer.pk, f.ns_per_tick, omni_callprof_code_line);
        if (omni_memtrack_active())
            omni_memtrack_write(&rt.writer, end_mono - rt.start_mono_ns);
        else if (rt.cfg.memory && memory_why[0])
            omni_memtrack_write_unavailable(&rt.writer, memory_why);
        f.n_warnings = rt.n_warnings;
        f.warnings = rt.warning_ptrs;
        omni_session_write_footer(&rt.writer, &f);
        rc = omni_writer_close(&rt.writer);
    }
    if (rc == 0)
        omni_checkpoint_remove(rt.path); /* the final tables supersede it */
    if (rc < 0) {
        if (!rt.cfg.quiet)
            fprintf(stderr, "omnipython: warning: the session %s is incomplete: %s\n", rt.path,
                    strerror(-rc));
        return;
    }
    if (!rt.cfg.quiet && isatty(STDERR_FILENO) && !omni_runtime_parent_is_omnipython())
        fprintf(stderr, "omnipython: session %s (omnipython --report %s)\n", rt.path, rt.path);
    /* --push: the run's own (its tree joined), sent by a process of its own
     * so that nothing waits for the endpoint; not from a fatal signal's
     * handler, nor by the processes it started (their sessions go with it) */
    if (rt.cfg.push_url && !rt.has_parent && !rt.push_following && how != OMNI_EXIT_SIGNAL &&
        how != OMNI_EXIT_EXEC) {
        int prc = omni_handoff_push(rt.path, rt.cfg.push_url, rt.cfg.push_name,
                                    rt.cfg.push_labels);
        if (prc < 0 && !rt.cfg.quiet)
            fprintf(stderr, "omnipython: warning: --push: cannot start the sender: %s\n",
                    strerror(-prc));
    }
}
