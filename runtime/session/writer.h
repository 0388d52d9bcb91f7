/* session_writer.h - writes the session file: a stream of msgpack maps, one
 * record after another (runtime/session/SESSION.md). */
#ifndef OMNI_SESSION_WRITER_H
#define OMNI_SESSION_WRITER_H

#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>

#include "hw/machine.h"
#include "runtime/session/format.h"
#include "runtime/session/pack.h"

/* The writer buffers into a fixed array and writes with write(2): it never
 * calls malloc, so the session can be finished from a fatal-signal handler. */
typedef struct omni_writer {
    int fd;              /* -1 when closed */
    int err;             /* first errno seen; later writes are dropped */
    size_t len;          /* bytes pending in buf */
    msgpack_packer pk;   /* packs into buf through omni_writer's callback */
    char buf[1 << 16];
} omni_writer_t;

typedef enum omni_writer_how {
    OMNI_WRITER_NEW,       /* create; fail with -EEXIST if the file exists */
    OMNI_WRITER_TRUNCATE,  /* create or empty an existing file */
    OMNI_WRITER_APPEND     /* add to an existing file */
} omni_writer_how_t;

/* Writes all n bytes of data to fd (again after EINTR and short writes).
 * Returns 0 or -errno. */
int omni_write_all(int fd, const void *data, size_t n);

/* Opens path for writing. Returns 0 or -errno. */
int omni_writer_open(omni_writer_t *w, const char *path, omni_writer_how_t how);
/* Writes what is buffered. Returns 0 or -errno (the first error seen). */
int omni_writer_flush(omni_writer_t *w);
/* Flushes and closes; idempotent. Returns 0 or -errno. */
int omni_writer_close(omni_writer_t *w);

/* What the header says about the run, filled in at start. */
typedef struct omni_header {
    char session_id[33];
    int64_t pid, ppid;
    uint64_t start_unix_ns;
    int argc;                 /* the command line omnipython was given */
    char **argv;
    int sys_argc;             /* sys.argv of the target (UTF-8) */
    char **sys_argv;
    char target[1024];        /* what runs: the script path, "-m module", "-c", "-" */
    char cwd[4096];
    char executable[4096];
    const char *python_version;
    const char *mode;
    omni_hw_summary_t machine;
    const char *started_by;   /* "command", "parent" (a profiled process ran it) or "fork" */
    char parent_session_id[33]; /* "" when there is no parent session */
    int64_t parent_pid;       /* 0 when there is none */
} omni_header_t;

/* How the process ended. */
typedef enum omni_exit_how {
    OMNI_EXIT_RETURN = 0,        /* the interpreter returned from its main */
    OMNI_EXIT_EXIT,              /* exit(): sys.exit in a script, Py_Exit */
    OMNI_EXIT_UNDERSCORE_EXIT,   /* _exit(): os._exit */
    OMNI_EXIT_SIGNAL,            /* a fatal signal */
    OMNI_EXIT_KEYBOARD_INTERRUPT, /* an uncaught KeyboardInterrupt */
    OMNI_EXIT_EXEC                /* os.exec*: the process becomes another program */
} omni_exit_how_t;

const char *omni_exit_how_name(omni_exit_how_t how);

typedef struct omni_footer {
    int exit_status;      /* as subprocess reports it: the status, or -signal */
    int timed_out;        /* --timeout ended the run */
    omni_exit_how_t how;
    int signal;           /* the signal for OMNI_EXIT_SIGNAL / KEYBOARD_INTERRUPT, else 0 */
    uint64_t wall_ns, cpu_user_ns, cpu_sys_ns, peak_rss_bytes, end_unix_ns;
    double ns_per_tick;
    const char *clock;
    uint64_t checkpoints;        /* written while the process ran */
    uint64_t checkpoint_bytes;   /* the last one's size */
    uint64_t checkpoint_max_ns;  /* the longest one took to pack and write (monitor thread) */
    int n_warnings;
    const char *const *warnings;
} omni_footer_t;

void omni_session_write_header(omni_writer_t *w, const omni_header_t *h);
void omni_session_write_footer(omni_writer_t *w, const omni_footer_t *f);

#endif
