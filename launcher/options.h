/* options.h - omnipython's own command line: long options before Python's,
 * and the same options from OMNIPYTHON_OPTIONS for shebang use. */
#ifndef OMNI_OPTIONS_H
#define OMNI_OPTIONS_H

#include "runtime/runtime.h"

typedef enum omni_cmd {
    OMNI_CMD_RUN = 0,   /* run and profile the Python arguments */
    OMNI_CMD_REPORT,    /* --report SESSION */
    OMNI_CMD_SESSIONS,  /* --sessions */
    OMNI_CMD_HW,        /* --hw [--bench] */
    OMNI_CMD_EXPORT,    /* --export FORMAT SESSION --out FILE */
    OMNI_CMD_PATTERNS,  /* --list-patterns [--patterns DIR] */
    OMNI_CMD_DIFF,      /* --diff A B [--threshold PCT] */
    OMNI_CMD_PUSH,      /* --push-session SESSION --push URL: --push's sender */
    OMNI_CMD_SCAN,      /* --scan DIR [--exclude GLOB]... [--jobs N] */
    OMNI_CMD_HELP       /* --help: ours, then Python's */
} omni_cmd_t;

/* Exit statuses of omnipython's own commands (the target's are its own). */
#define OMNI_EXIT_REGRESSED 1 /* --diff: something regressed beyond the threshold */
#define OMNI_EXIT_USAGE 2     /* a bad omnipython option */
#define OMNI_EXIT_BADFILE 3   /* a session file that is missing, unreadable or not a session;
                                 a pattern file that is invalid */
#define OMNI_EXIT_OUTPUT 4    /* the report could not be written */

/* Options given explicitly (on the command line or in OMNIPYTHON_OPTIONS):
 * a child of a profiled process takes the others from its parent. */
#define OMNI_GIVEN_MODE 1u
#define OMNI_GIVEN_INTERVAL 2u
#define OMNI_GIVEN_QUIET 4u
#define OMNI_GIVEN_CARBON 8u
#define OMNI_GIVEN_SAMPLE 16u

typedef struct omni_options {
    omni_cmd_t cmd;
    const char *out;        /* --out FILE (the session for a run, the report for --report) */
    int out_from_env;       /* --out came from OMNIPYTHON_OPTIONS */
    omni_mode_t mode;       /* --mode */
    int quiet;              /* --quiet */
    int follow;             /* --follow (with --report): again every 2 s while the run lasts */
    int interval_ms;        /* --interval MS: the monitor's interval; -1 = the mode's */
    double checkpoint_s;    /* --checkpoint S: between checkpoints; 0 = when asked, -1 = 10 s */
    double max_session_mb;  /* --max-session-mb M: the running session's bound; -1 = 100 */
    double grams_co2_per_kwh; /* --carbon-intensity G; 0 = the default */
    int bench;              /* --bench (with --hw) */
    int sample_hz;          /* --sample-rate HZ; -1 = the mode's */
    double timeout_s;       /* --timeout SECONDS; 0 = none */
    int repeat;             /* --repeat N: runs of the target into one session; 0 = once */
    int memory;             /* --memory: allocation accounting (always in --mode full) */
    size_t memory_interval; /* --memory-interval BYTES; 0 = the default */
    long long process;      /* --process PID (with --report): one process of the tree */
    unsigned given;         /* OMNI_GIVEN_*: which of the run's options were given */
    const char *session;    /* --report SESSION, --export FORMAT SESSION, --diff SESSION B */
    const char *session_b;  /* --diff A SESSION_B */
    const char *more[256];  /* --report A B C...: the sessions after the first, merged */
    int n_more;
    double threshold_pct;   /* --threshold PCT (with --diff); default 10 */
    double min_confidence;  /* --min-confidence C (with --report); -1 = the default */
    const char *push_url;   /* --push URL: send the run's profile to a Pyroscope-style ingest */
    const char *push_name;  /* --push-name NAME: the application's name there */
    const char *push_labels; /* --push-labels K=V,K=V: more labels */
    const char *push_session; /* --push-session SESSION: send that session (the sender) */
    int push_follow;          /* --push-follow: send its intervals while its run lasts */
    int push_from_argv;     /* --push was on the command line (not the file or environment) */
    const char *scan_dir;   /* --scan DIR */
    const char *exclude[32]; /* --exclude GLOB (with --scan) */
    int n_exclude;
    int jobs;               /* --jobs N (with --scan); 0 = one per core */
    int radon;              /* --radon 5|6 (with --scan): whose rules; 0 = the newest (6) */
    const char *run_args;   /* --run "PYTHON ARGS" (with --scan) */
    const char *callgraph;  /* --callgraph FILE (with --scan): DOT */
    const char *export_format; /* --export FORMAT */
    const char *format;     /* --format text|json|md|html (NULL = text) */
    const char *patterns_dir; /* --patterns DIR */
    const char *explain;    /* --explain BUNDLE (with --report --format md) */
    int py_index;           /* argv[py_index..] are Python's arguments */
    char err[256];          /* the reason, when parsing fails */
    char **env_tokens;      /* OMNIPYTHON_OPTIONS split on blanks (owned) */
    struct omni_config *config; /* the configuration file's options (owned) */
    char *env_copy;
} omni_options_t;

/* Parses omnipython's options from env (may be NULL) and then from argv[1..],
 * stopping at the first argument that is not one of them. Returns 0, or -1
 * with o->err set. Strings point into argv or into o (free with
 * omni_options_free). */
int omni_options_parse(omni_options_t *o, int argc, char **argv, const char *env);
void omni_options_free(omni_options_t *o);

/* Prints omnipython's part of --help to f. */
void omni_options_usage(void *f);

#endif
