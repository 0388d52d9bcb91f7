/* options.c - parses omnipython's own options; everything else is Python's. */
#include "launcher/options.h"

#include "launcher/config.h"
#include "patterns/report/export.h"

#include "runtime/session/reader.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Python's own long options: they end omnipython's part of the line. */
static int is_python_long_option(const char *a) {
    return strcmp(a, "--help") == 0 || strcmp(a, "--version") == 0 ||
           strncmp(a, "--check-hash-based-pycs", 23) == 0 || strcmp(a, "--help-env") == 0 ||
           strcmp(a, "--help-xoptions") == 0 || strcmp(a, "--help-all") == 0 ||
           strcmp(a, "--") == 0;
}

static int parse_mode(const char *s, omni_mode_t *mode) {
    static const char *const names[] = {"off", "minimal", "default", "full", "sample"};
    for (int i = 0; i < 5; i++)
        if (strcmp(s, names[i]) == 0) {
            *mode = (omni_mode_t)i;
            return 0;
        }
    return -1;
}

/* Matches "--name VALUE" or "--name=VALUE" at args[*i]; advances *i past the
 * value. Returns 1 on a match, 0 if args[*i] is another option, -1 if the
 * value is missing. */
static int take_value(const char *name, char **args, int n, int *i, const char **value) {
    size_t len = strlen(name);
    const char *a = args[*i];
    if (strncmp(a, name, len) != 0)
        return 0;
    if (a[len] == '=') {
        *value = a + len + 1;
        return 1;
    }
    if (a[len] != 0)
        return 0;
    if (*i + 1 >= n)
        return -1;
    *value = args[++*i];
    return 1;
}

/* Where options come from: the command line, OMNIPYTHON_OPTIONS, the file. */
enum { FROM_ARGV, FROM_ENV, FROM_CONFIG };

/* ---------------------------------------------------------------- values */

/* A whole number in [lo, hi] at v (nothing else). Returns 0 or -1. */
static int whole(const char *v, long long lo, long long hi, long long *out) {
    char *end;
    long long k = strtoll(v, &end, 10);
    if (!*v || *end || k < lo || k > hi)
        return -1;
    *out = k;
    return 0;
}

/* A number at v (nothing else), with lo < x < hi, or lo <= x when closed. */
static int real(const char *v, double lo, int closed, double hi, double *out) {
    char *end;
    double x = strtod(v, &end);
    if (!*v || *end || !((closed ? x >= lo : x > lo) && x < hi))
        return -1;
    *out = x;
    return 0;
}

/* o->err = "NAME takes WHAT, not 'V'"; returns -1. */
static int takes(omni_options_t *o, const char *name, const char *what, const char *v) {
    snprintf(o->err, sizeof o->err, "%s takes %s, not '%s'", name, what, v);
    return -1;
}

/* ---------------------------------------------------------------- what each option sets */

/* Each sets what its option means from its value (NULL for a flag); from
 * says where the option came from. Returns 0, or -1 with o->err set. */
typedef int (*opt_set_fn)(omni_options_t *o, const char *v, int from);

static int set_out(omni_options_t *o, const char *v, int from) {
    o->out = v;
    /* a child Python reads the same environment and file: its session must
     * not overwrite the parent's */
    o->out_from_env = from != FROM_ARGV;
    return 0;
}

static int set_config(omni_options_t *o, const char *v, int from) {
    if (from == FROM_CONFIG) {
        snprintf(o->err, sizeof o->err, "a configuration file cannot name another");
        return -1;
    }
    return 0; /* read before everything else (omni_options_parse) */
}

static int set_mode(omni_options_t *o, const char *v, int from) {
    o->given |= OMNI_GIVEN_MODE;
    if (parse_mode(v, &o->mode) < 0) {
        snprintf(o->err, sizeof o->err,
                 "--mode must be off, minimal, default, full or sample, not '%s'", v);
        return -1;
    }
    return 0;
}

static int set_format(omni_options_t *o, const char *v, int from) {
    if (strcmp(v, "text") && strcmp(v, "json") && strcmp(v, "md") && strcmp(v, "html")) {
        snprintf(o->err, sizeof o->err, "--format must be text, json, md or html, not '%s'", v);
        return -1;
    }
    o->format = v;
    return 0;
}

static int set_report(omni_options_t *o, const char *v, int from) {
    o->cmd = OMNI_CMD_REPORT;
    o->session = v;
    return 0;
}

static int set_scan(omni_options_t *o, const char *v, int from) {
    o->cmd = OMNI_CMD_SCAN;
    o->scan_dir = v;
    return 0;
}

static int set_exclude(omni_options_t *o, const char *v, int from) {
    if (o->n_exclude == (int)(sizeof o->exclude / sizeof o->exclude[0])) {
        snprintf(o->err, sizeof o->err, "at most 32 --exclude globs");
        return -1;
    }
    o->exclude[o->n_exclude++] = v;
    return 0;
}

static int set_callgraph(omni_options_t *o, const char *v, int from) {
    o->callgraph = v;
    return 0;
}

static int set_run(omni_options_t *o, const char *v, int from) {
    o->run_args = v;
    return 0;
}

static int set_jobs(omni_options_t *o, const char *v, int from) {
    long long k;
    if (whole(v, 1, 1024, &k) < 0)
        return takes(o, "--jobs", "a number of processes from 1 to 1024", v);
    o->jobs = (int)k;
    return 0;
}

static int set_radon(omni_options_t *o, const char *v, int from) {
    long long k;
    if (whole(v, 5, 6, &k) < 0)
        return takes(o, "--radon", "5 or 6 (radon's major version)", v);
    o->radon = (int)k;
    return 0;
}

static int set_diff(omni_options_t *o, const char *v, int from) {
    o->cmd = OMNI_CMD_DIFF;
    o->session = v;
    return 0;
}

static int set_threshold(omni_options_t *o, const char *v, int from) {
    if (real(v, 0, 1, 1e6, &o->threshold_pct) < 0)
        return takes(o, "--threshold", "a percentage (>= 0)", v);
    return 0;
}

static int set_min_confidence(omni_options_t *o, const char *v, int from) {
    if (real(v, 0, 1, nextafter(1.0, 2.0), &o->min_confidence) < 0)
        return takes(o, "--min-confidence", "a number from 0 to 1", v);
    return 0;
}

static int set_push(omni_options_t *o, const char *v, int from) {
    if (strncmp(v, "http://", 7) != 0)
        return takes(o, "--push", "an http:// address (plain HTTP: a local Pyroscope, an agent "
                                  "or a proxy)", v);
    o->push_url = v;
    o->push_from_argv = from == FROM_ARGV;
    return 0;
}

static int set_push_name(omni_options_t *o, const char *v, int from) {
    o->push_name = v;
    return 0;
}

static int set_push_labels(omni_options_t *o, const char *v, int from) {
    o->push_labels = v;
    return 0;
}

static int set_push_follow(omni_options_t *o, const char *v, int from) {
    o->push_follow = 1;
    return 0;
}

static int set_push_session(omni_options_t *o, const char *v, int from) {
    o->cmd = OMNI_CMD_PUSH;
    o->push_session = v;
    return 0;
}

static int set_explain(omni_options_t *o, const char *v, int from) {
    o->explain = v;
    return 0;
}

static int set_patterns(omni_options_t *o, const char *v, int from) {
    o->patterns_dir = v;
    return 0;
}

static int set_interval(omni_options_t *o, const char *v, int from) {
    long long ms;
    if (whole(v, 0, 3600000, &ms) < 0)
        return takes(o, "--interval", "milliseconds from 0 (no monitor) to 3600000", v);
    o->interval_ms = (int)ms;
    o->given |= OMNI_GIVEN_INTERVAL;
    return 0;
}

static int set_max_session_mb(omni_options_t *o, const char *v, int from) {
    if (real(v, 0, 1, 1e7, &o->max_session_mb) < 0)
        return takes(o, "--max-session-mb", "megabytes (0: no bound)", v);
    return 0;
}

static int set_checkpoint(omni_options_t *o, const char *v, int from) {
    if (real(v, 0, 1, 1e7, &o->checkpoint_s) < 0)
        return takes(o, "--checkpoint", "seconds (0: only when a report asks)", v);
    return 0;
}

static int set_timeout(omni_options_t *o, const char *v, int from) {
    if (real(v, 0, 0, 1e7, &o->timeout_s) < 0)
        return takes(o, "--timeout", "seconds (> 0)", v);
    return 0;
}

static int set_repeat(omni_options_t *o, const char *v, int from) {
    long long k;
    if (whole(v, 1, OMNI_MAX_RUNS, &k) < 0) {
        snprintf(o->err, sizeof o->err, "--repeat takes a number of runs from 1 to %d, not '%s'",
                 OMNI_MAX_RUNS, v);
        return -1;
    }
    o->repeat = (int)k;
    return 0;
}

static int set_sample_rate(omni_options_t *o, const char *v, int from) {
    long long hz;
    if (whole(v, 0, 1000, &hz) < 0)
        return takes(o, "--sample-rate", "samples a second from 0 (none) to 1000", v);
    o->sample_hz = (int)hz;
    o->given |= OMNI_GIVEN_SAMPLE;
    return 0;
}

static int set_carbon(omni_options_t *o, const char *v, int from) {
    if (real(v, 0, 0, 1e5, &o->grams_co2_per_kwh) < 0)
        return takes(o, "--carbon-intensity", "grams of CO2 per kWh (> 0)", v);
    o->given |= OMNI_GIVEN_CARBON;
    return 0;
}

static int set_export(omni_options_t *o, const char *v, int from) {
    if (!omni_export_find(v))
        return takes(o, "--export", "collapsed, speedscope, pstats, chrome or pprof", v);
    o->cmd = OMNI_CMD_EXPORT;
    o->export_format = v;
    return 0;
}

static int set_process(omni_options_t *o, const char *v, int from) {
    long long pid;
    if (whole(v, 1, LLONG_MAX, &pid) < 0)
        return takes(o, "--process", "a process id", v);
    o->process = pid;
    return 0;
}

static int set_memory(omni_options_t *o, const char *v, int from) {
    o->memory = 1;
    return 0;
}

static int set_memory_interval(omni_options_t *o, const char *v, int from) {
    long long b;
    if (whole(v, 1, 1LL << 40, &b) < 0)
        return takes(o, "--memory-interval", "a number of bytes (1 to 2^40)", v);
    o->memory_interval = (size_t)b;
    o->memory = 1;
    return 0;
}

static int set_hw(omni_options_t *o, const char *v, int from) {
    o->cmd = OMNI_CMD_HW;
    return 0;
}

static int set_bench(omni_options_t *o, const char *v, int from) {
    o->bench = 1;
    return 0;
}

static int set_follow(omni_options_t *o, const char *v, int from) {
    o->follow = 1;
    return 0;
}

static int set_quiet(omni_options_t *o, const char *v, int from) {
    o->quiet = 1;
    o->given |= OMNI_GIVEN_QUIET;
    return 0;
}

static int set_list_patterns(omni_options_t *o, const char *v, int from) {
    o->cmd = OMNI_CMD_PATTERNS;
    return 0;
}

static int set_sessions(omni_options_t *o, const char *v, int from) {
    o->cmd = OMNI_CMD_SESSIONS;
    return 0;
}

static int set_help(omni_options_t *o, const char *v, int from) {
    o->cmd = OMNI_CMD_HELP;
    return 0;
}

/* ---------------------------------------------------------------- the table */

/* Every option of omnipython's: its name, whether it takes a value
 * (--name VALUE or --name=VALUE), and what it sets. Which command each goes
 * with is checked once all are read (omni_options_parse); the help text is
 * omni_options_usage's. */
static const struct opt {
    const char *name;
    int takes_value;
    opt_set_fn set;
} opts[] = {
    {"--out", 1, set_out},
    {"--config", 1, set_config},
    {"--mode", 1, set_mode},
    {"--format", 1, set_format},
    {"--report", 1, set_report},
    {"--scan", 1, set_scan},
    {"--exclude", 1, set_exclude},
    {"--callgraph", 1, set_callgraph},
    {"--run", 1, set_run},
    {"--jobs", 1, set_jobs},
    {"--radon", 1, set_radon},
    {"--diff", 1, set_diff},
    {"--threshold", 1, set_threshold},
    {"--min-confidence", 1, set_min_confidence},
    {"--push", 1, set_push},
    {"--push-name", 1, set_push_name},
    {"--push-labels", 1, set_push_labels},
    {"--push-session", 1, set_push_session},
    {"--push-follow", 0, set_push_follow},
    {"--explain", 1, set_explain},
    {"--patterns", 1, set_patterns},
    {"--interval", 1, set_interval},
    {"--checkpoint", 1, set_checkpoint},
    {"--max-session-mb", 1, set_max_session_mb},
    {"--timeout", 1, set_timeout},
    {"--repeat", 1, set_repeat},
    {"--sample-rate", 1, set_sample_rate},
    {"--carbon-intensity", 1, set_carbon},
    {"--export", 1, set_export},
    {"--process", 1, set_process},
    {"--memory", 0, set_memory},
    {"--memory-interval", 1, set_memory_interval},
    {"--hw", 0, set_hw},
    {"--bench", 0, set_bench},
    {"--quiet", 0, set_quiet},
    {"--follow", 0, set_follow},
    {"--list-patterns", 0, set_list_patterns},
    {"--sessions", 0, set_sessions},
    {"--omni-help", 0, set_help},
};

/* Parses args[from..n) and returns the index of the first argument that is
 * not omnipython's, or -1 on error. */
static int parse_list(omni_options_t *o, char **args, int from, int n, int from_env) {
    int i;
    for (i = from; i < n; i++) {
        const char *a = args[i];
        if (strncmp(a, "--", 2) != 0 || is_python_long_option(a))
            break;
        const struct opt *op = NULL;
        const char *v = NULL;
        for (size_t k = 0; k < sizeof opts / sizeof opts[0] && !op; k++) {
            if (!opts[k].takes_value) {
                if (strcmp(a, opts[k].name) == 0)
                    op = &opts[k];
                continue;
            }
            int r = take_value(opts[k].name, args, n, &i, &v);
            if (r < 0) {
                snprintf(o->err, sizeof o->err, "%s needs a value", args[i]);
                return -1;
            }
            if (r > 0)
                op = &opts[k];
        }
        if (!op) {
            snprintf(o->err, sizeof o->err, "unknown option %s%s", a,
                     from_env == FROM_ENV ? " (in OMNIPYTHON_OPTIONS)" : "");
            return -1;
        }
        if (op->set(o, v, from_env) < 0)
            return -1;
    }
    return i;
}

static int split_env(omni_options_t *o, const char *env, int *count) {
    *count = 0;
    o->env_copy = strdup(env);
    o->env_tokens = calloc(strlen(env) / 2 + 2, sizeof(char *));
    if (!o->env_copy || !o->env_tokens)
        return -1;
    for (char *save = NULL, *t = strtok_r(o->env_copy, " \t\n", &save); t;
         t = strtok_r(NULL, " \t\n", &save))
        o->env_tokens[(*count)++] = t;
    return 0;
}

/* --config FILE among omnipython's options in args[from..n), or NULL. */
static const char *find_config(char **args, int from, int n) {
    const char *found = NULL;
    for (int i = from; i < n; i++) {
        const char *a = args[i];
        if (strncmp(a, "--", 2) != 0 || is_python_long_option(a))
            break;
        if (strcmp(a, "--config") == 0 && i + 1 < n)
            found = args[++i];
        else if (strncmp(a, "--config=", 9) == 0)
            found = a + 9;
    }
    return found;
}

/* The configuration file: --config FILE (the command line's, else
 * OMNIPYTHON_OPTIONS'), else ./omnipython.yaml when there is one; "none"
 * reads none. Its options are parsed first: the environment and the command
 * line come after and win. */
static int apply_config(omni_options_t *o, int argc, char **argv, int n_env) {
    const char *path = find_config(argv, 1, argc);
    if (!path && n_env)
        path = find_config(o->env_tokens, 0, n_env);
    int required = path != NULL;
    if (path && strcmp(path, "none") == 0)
        return 0;
    if (!path)
        path = "omnipython.yaml";
    o->config = calloc(1, sizeof *o->config);
    if (!o->config) {
        snprintf(o->err, sizeof o->err, "out of memory");
        return -1;
    }
    char err[sizeof o->err];
    if (omni_config_load(path, required, o->config, err, sizeof err) < 0) {
        snprintf(o->err, sizeof o->err, "%s", err);
        return -1;
    }
    omni_config_t *c = o->config;
    /* one key (one or two tokens) at a time, so that an error names its line */
    for (int i = 0; i < c->n;) {
        int k = i + 1 < c->n && strncmp(c->tok[i + 1], "--", 2) != 0 ? 2 : 1;
        if (parse_list(o, c->tok, i, i + k, FROM_CONFIG) != i + k) {
            char msg[sizeof o->err];
            snprintf(msg, sizeof msg, "%s", o->err);
            snprintf(o->err, sizeof o->err, "%.60s:%zu: %.180s", c->path, c->line[i], msg);
            return -1;
        }
        i += k;
    }
    return 0;
}

int omni_options_parse(omni_options_t *o, int argc, char **argv, const char *env) {
    memset(o, 0, sizeof *o);
    o->mode = OMNI_MODE_DEFAULT;
    o->interval_ms = -1;
    o->checkpoint_s = -1;
    o->max_session_mb = -1;
    o->sample_hz = -1;
    o->threshold_pct = -1;
    o->min_confidence = -1;
    int n_env = 0;
    if (env && *env && split_env(o, env, &n_env) < 0) {
        snprintf(o->err, sizeof o->err, "out of memory");
        return -1;
    }
    if (apply_config(o, argc, argv, n_env) < 0)
        return -1;
    if (n_env) {
        int n = n_env;
        int end = parse_list(o, o->env_tokens, 0, n, FROM_ENV);
        if (end < 0)
            return -1;
        if (end < n) {
            snprintf(o->err, sizeof o->err,
                     "OMNIPYTHON_OPTIONS holds only omnipython's options, not '%s'",
                     o->env_tokens[end]);
            return -1;
        }
    }
    int end = parse_list(o, argv, 1, argc, FROM_ARGV);
    if (end < 0)
        return -1;
    o->py_index = end;
    if (o->cmd == OMNI_CMD_RUN && end < argc && strcmp(argv[end], "--help") == 0)
        o->cmd = OMNI_CMD_HELP;
    if (o->cmd == OMNI_CMD_EXPORT) {
        /* --export FORMAT SESSION: the session is the one argument after. */
        if (end >= argc) {
            snprintf(o->err, sizeof o->err, "--export %s needs a session file", o->export_format);
            return -1;
        }
        o->session = argv[end];
        /* omnipython's options may follow it (--out FILE, --process PID). */
        if ((end = parse_list(o, argv, end + 1, argc, FROM_ARGV)) < 0)
            return -1;
        if (!o->out) {
            snprintf(o->err, sizeof o->err, "--export needs --out FILE");
            return -1;
        }
        o->py_index = end;
    }
    if (o->cmd == OMNI_CMD_REPORT) {
        /* --report A B C...: more sessions (or folders) for one merged
         * report; options may come between and after them */
        while (end < argc && strncmp(argv[end], "--", 2) != 0) {
            if (o->n_more == (int)(sizeof o->more / sizeof o->more[0])) {
                snprintf(o->err, sizeof o->err, "--report merges at most %d sessions in one "
                                                "report (name their folder instead)",
                         (int)(sizeof o->more / sizeof o->more[0]) + 1);
                return -1;
            }
            o->more[o->n_more++] = argv[end];
            if ((end = parse_list(o, argv, end + 1, argc, FROM_ARGV)) < 0)
                return -1;
        }
        if (o->n_more && o->process) {
            snprintf(o->err, sizeof o->err, "--process goes with one session");
            return -1;
        }
        o->py_index = end;
    }
    if (o->cmd == OMNI_CMD_DIFF) {
        /* --diff A B: B is the one argument after; options may follow */
        if (end >= argc) {
            snprintf(o->err, sizeof o->err, "--diff needs two sessions: --diff A B");
            return -1;
        }
        o->session_b = argv[end];
        if ((end = parse_list(o, argv, end + 1, argc, FROM_ARGV)) < 0)
            return -1;
        o->py_index = end;
    }
    /* --out from the environment or the file names a session: it is for
     * runs, never where a report goes (it would overwrite the session) */
    if (o->out && o->out_from_env && o->cmd != OMNI_CMD_RUN)
        o->out = NULL;
    if ((o->n_exclude || o->jobs || o->radon || o->run_args || o->callgraph) &&
        o->cmd != OMNI_CMD_SCAN) {
        snprintf(o->err, sizeof o->err,
                 "--exclude, --jobs, --radon, --run and --callgraph go with --scan");
        return -1;
    }
    if (o->threshold_pct >= 0 && o->cmd != OMNI_CMD_DIFF) {
        snprintf(o->err, sizeof o->err, "--threshold goes with --diff");
        return -1;
    }
    if (o->threshold_pct < 0)
        o->threshold_pct = 10;
    if ((o->push_name || o->push_labels) && !o->push_url) {
        snprintf(o->err, sizeof o->err, "--push-name and --push-labels go with --push URL");
        return -1;
    }
    if (o->push_url && o->cmd != OMNI_CMD_RUN && o->cmd != OMNI_CMD_PUSH) {
        if (o->push_from_argv) {
            snprintf(o->err, sizeof o->err, "--push goes with a run");
            return -1;
        }
        /* the file's or the environment's: for the runs, not this command */
        o->push_url = o->push_name = o->push_labels = NULL;
    }
    if (o->push_follow && o->cmd != OMNI_CMD_PUSH) {
        snprintf(o->err, sizeof o->err, "--push-follow goes with --push-session");
        return -1;
    }
    if (o->cmd == OMNI_CMD_PUSH && !o->push_url) {
        snprintf(o->err, sizeof o->err, "--push-session needs --push URL");
        return -1;
    }
    if (o->min_confidence >= 0 && o->cmd != OMNI_CMD_REPORT &&
        !(o->cmd == OMNI_CMD_SCAN && o->run_args)) {
        snprintf(o->err, sizeof o->err, "--min-confidence goes with --report");
        return -1;
    }
    if (o->follow && (o->cmd != OMNI_CMD_REPORT || o->n_more || o->explain)) {
        snprintf(o->err, sizeof o->err, "--follow goes with --report SESSION (one session)");
        return -1;
    }
    if (o->process && o->cmd != OMNI_CMD_REPORT && o->cmd != OMNI_CMD_EXPORT) {
        snprintf(o->err, sizeof o->err, "--process goes with --report");
        return -1;
    }
    if (o->cmd == OMNI_CMD_SCAN && o->format && !strcmp(o->format, "md")) {
        snprintf(o->err, sizeof o->err, "--scan writes text, json or html, not %s", o->format);
        return -1;
    }
    if (o->format && (strcmp(o->format, "md") == 0 || strcmp(o->format, "html") == 0) &&
        o->cmd != OMNI_CMD_REPORT && o->cmd != OMNI_CMD_SCAN) {
        snprintf(o->err, sizeof o->err, "--format %s goes with --report", o->format);
        return -1;
    }
    if (o->explain && (o->cmd != OMNI_CMD_REPORT || !o->format || strcmp(o->format, "md") != 0)) {
        snprintf(o->err, sizeof o->err, "--explain goes with --report SESSION --format md");
        return -1;
    }
    if (o->patterns_dir && o->cmd != OMNI_CMD_REPORT && o->cmd != OMNI_CMD_PATTERNS &&
        !(o->cmd == OMNI_CMD_SCAN && o->run_args)) {
        snprintf(o->err, sizeof o->err, "--patterns goes with --report or --list-patterns");
        return -1;
    }
    if (o->repeat > 1 && o->cmd != OMNI_CMD_RUN) {
        snprintf(o->err, sizeof o->err, "--repeat goes with a run of a target");
        return -1;
    }
    if (o->bench && o->cmd != OMNI_CMD_HW) {
        snprintf(o->err, sizeof o->err, "--bench goes with --hw");
        return -1;
    }
    if (o->cmd != OMNI_CMD_RUN && o->cmd != OMNI_CMD_HELP && end < argc) {
        snprintf(o->err, sizeof o->err, "unexpected argument '%s'", argv[end]);
        return -1;
    }
    return 0;
}

void omni_options_free(omni_options_t *o) {
    if (o->config) {
        omni_config_free(o->config);
        free(o->config);
        o->config = NULL;
    }
    free(o->env_tokens);
    free(o->env_copy);
    o->env_tokens = NULL;
    o->env_copy = NULL;
}

void omni_options_usage(void *fp) {
    FILE *f = fp;
    fprintf(f,
            "omnipython " OMNI_VERSION " - python3 that profiles what it runs\n"
            "\n"
            "usage: omnipython [OMNI OPTIONS] [PYTHON OPTIONS AND ARGUMENTS]\n"
            "       omnipython --report SESSION|DIR [SESSION|DIR...] [--format text|md|json|html]\n"
            "                  [--patterns DIR]\n"
            "                  [--min-confidence C] [--out FILE]\n"
            "       omnipython --list-patterns [--patterns DIR] [--format text|json]\n"
            "       omnipython --diff A B [--threshold PCT] [--format text|json] [--out FILE]\n"
            "       omnipython --scan DIR [--exclude GLOB]... [--jobs N] [--radon 5|6]\n"
            "                  [--format text|json|html] [--out FILE]\n"
            "       omnipython --sessions\n"
            "       omnipython --hw [--bench] [--format text|json]\n"
            "       omnipython --export collapsed|speedscope|pstats|chrome|pprof SESSION --out FILE\n"
            "\n"
            "omnipython's options come before Python's (also from OMNIPYTHON_OPTIONS):\n"
            "  --out FILE      write the session to FILE (default: a new file under ./.omni/);\n"
            "                  with --report, write the report to FILE\n"
            "  --mode MODE     off (no hooks, no session) | minimal | default | full |\n"
            "                  sample (stack samples alone: no per-call work, for production)\n"
            "  --quiet         print nothing of omnipython's own\n"
            "  --interval MS   the monitor's sampling interval (default: 1000 in minimal,\n"
            "                  100 in default, 20 in full); 0 runs no monitor thread\n"
            "  --checkpoint S  write the tables so far beside the session every S seconds\n"
            "                  (10; 0: only when a report asks): a process killed with\n"
            "                  SIGKILL keeps them, a report on a running one shows them\n"
            "  --max-session-mb M  keep a running session within M megabytes (100; 0: no\n"
            "                  bound): its oldest timeline records give way to the newest\n"
            "  --carbon-intensity G  grams of CO2 per kWh for the carbon estimate (475)\n"
            "  --timeout S     after S seconds: KeyboardInterrupt in the main thread, 5 s\n"
            "                  later SIGTERM, 2 s later SIGKILL; exit status 124\n"
            "  --memory        allocation accounting (always in --mode full): exact counts,\n"
            "                  live and peak bytes, sampled allocation sites, leak candidates\n"
            "  --memory-interval BYTES  mean bytes between sampled allocations (262144)\n"
            "  --repeat N      run the target N times into one session (the report shows\n"
            "                  the median run and the spread over all)\n"
            "  --sample-rate HZ  stack samples a second (100 minimal, 200 default, 1000\n"
            "                  full; at most 1000); 0 takes none. Sampling runs on the\n"
            "                  monitor thread: --interval 0 turns it off too\n"
            "  --report FILE   print the report of a session (with the sessions of the\n"
            "                  processes it started); several sessions, or a folder of\n"
            "                  them: one report of all the runs, each process shown\n"
            "  --format FMT    report format: text (default), md (report.md), json or html\n"
            "                  (one self-contained page: flame graph, charts, findings)\n"
            "  --patterns DIR  with --report: the patterns of DIR/*.yaml too (one with a\n"
            "                  built-in pattern's id replaces it)\n"
            "  --push URL      when the run ends, send its profile (pprof, the whole tree)\n"
            "                  to a Pyroscope-style ingest at URL/ingest, from a process\n"
            "                  of its own (the run does not wait); --push-name NAME (the\n"
            "                  script's name), --push-labels K=V,K=V (host and pid are set)\n"
            "  --min-confidence C  with --report: findings at confidence C or more (0.5);\n"
            "                  those from C/2 up to C are listed as weak signals\n"
            "  --list-patterns print the knowledge base (and check --patterns DIR)\n"
            "  --follow        with --report on a running process: the report again every\n"
            "                  2 s from a fresh checkpoint, until the process ends\n"
            "  --explain FILE  with --report --format md: write a prompt bundle for a\n"
            "                  language model to FILE; when OPENAI_BASE_URL names an\n"
            "                  endpoint (http://), send it and add the answer to the report\n"
            "  --scan DIR      static metrics of every Python file below DIR (radon's\n"
            "                  cc, raw, hal and mi), on every core; exit status 1 when a\n"
            "                  file could not be analysed, 3 when DIR is no folder\n"
            "  --exclude GLOB  with --scan: leave out paths matching GLOB (repeatable)\n"
            "  --run \"ARGS\"    with --scan: run python ARGS in DIR under omnipython\n"
            "                  (--timeout S, default 600) and join its profile to the\n"
            "                  metrics: the complex and hot functions first\n"
            "  --jobs N        with --scan: N processes (default: one per core)\n"
            "  --radon 5|6     with --scan: radon 5's rules or radon 6's (the default:\n"
            "                  a match statement adds its cases to the complexity)\n"
            "  --callgraph FILE  with --scan: write the static call graph as DOT\n"
            "  --diff A B      compare two sessions function by function; exit status 1\n"
            "                  when B regressed beyond --threshold PCT (default 10)\n"
            "  --process PID   with --report: that process of the tree alone (the report\n"
            "                  joins the sessions of the processes the run started)\n"
            "  --sessions      list the sessions under ./.omni/\n"
            "  --hw            print the machine's capabilities; --bench also measures\n"
            "                  its memory bandwidth and floating-point rates\n"
            "  --config FILE   read options from FILE (YAML; default ./omnipython.yaml when\n"
            "                  there is one; 'none' reads none); the environment and the\n"
            "                  command line win over it\n"
            "  --omni-help     print this part only\n"
            "exit status: the target's own (124 when --timeout ended it); for omnipython's\n"
            "commands 0, 1 when --diff found a regression, 2 for a bad option,\n"
            "3 for a missing or unreadable session or an invalid pattern file, 4 when the\n"
            "report cannot be written.\n"
            "\n");
}
