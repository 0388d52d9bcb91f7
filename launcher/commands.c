/* commands.c - runs --report and --sessions: load, render, say what failed. */
#include "launcher/commands.h"

#include "runtime/session/pack_hw.h"
#include "patterns/report/export.h"
#include "launcher/embed.h"
#include "patterns/report/diff.h"
#include "static/scan.h"
#include "patterns/report/json_out.h"
#include "patterns/kb.h"
#include "patterns/match.h"
#include "patterns/report/push.h"
#include "patterns/report/report.h"
#include "runtime/session/mp_get.h"
#include "runtime/session/list.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The report's destination: stdout, or --out (NULL with a message on failure). */
static FILE *open_output(const omni_options_t *o) {
    FILE *f = o->out ? fopen(o->out, "w") : stdout;
    if (!f)
        fprintf(stderr, "omnipython: cannot write %s: %s\n", o->out, strerror(errno));
    return f;
}

/* Flushes and closes what open_output gave; returns the exit status. */
static int close_output(const omni_options_t *o, FILE *f, int rc) {
    if (fflush(f) != 0)
        rc = -1;
    if (f != stdout && fclose(f) != 0)
        rc = -1;
    if (rc < 0) {
        fprintf(stderr, "omnipython: cannot write the output%s%s\n", o->out ? " to " : "",
                o->out ? o->out : "");
        return OMNI_EXIT_OUTPUT;
    }
    return 0;
}

static int want_color(FILE *f) {
    const char *nc = getenv("NO_COLOR");
    return isatty(fileno(f)) && !(nc && *nc);
}

/* The knowledge base, built-in and --patterns DIR: a message and NULL when
 * a file is invalid (nothing runs half-loaded). */
static int load_kb(const omni_options_t *o, omni_kb_t *kb) {
    char err[1024];
    if (omni_kb_load(kb, o->patterns_dir, err, sizeof err) < 0) {
        fprintf(stderr, "omnipython: %s\n", err);
        return -1;
    }
    return 0;
}

/* One report of the session(s) o names; *running: the (one) run still
 * goes on here. Returns the command's exit status. */
static int report_once(const omni_options_t *o, omni_kb_t *kb, int *running) {
    omni_session_t s;
    char err[512];
    int rc_load;
    struct stat st;
    *running = 0;
    if (o->n_more || (stat(o->session, &st) == 0 && S_ISDIR(st.st_mode))) {
        const char *paths[1 + sizeof o->more / sizeof o->more[0]];
        paths[0] = o->session;
        for (int i = 0; i < o->n_more; i++)
            paths[1 + i] = o->more[i];
        rc_load = omni_session_load_many(paths, 1 + (size_t)o->n_more, &s, err, sizeof err);
    } else {
        /* a run still going on here writes its tables so far first */
        omni_session_ask_checkpoint(o->session, 2.0);
        if (o->process)
            rc_load = omni_session_load_process(o->session, o->process, &s, err, sizeof err);
        else
            rc_load = omni_session_load_tree(o->session, &s, err, sizeof err);
    }
    if (rc_load < 0) {
        fprintf(stderr, "omnipython: %s: %s\n", o->session, err);
        return OMNI_EXIT_BADFILE;
    }
    *running = omni_session_still_running(&s) == 1;
    /* the analysis, built once: the matcher and the report read it */
    omni_model_t m;
    if (omni_model_build(&s, &m) < 0) {
        fprintf(stderr, "omnipython: %s: out of memory analysing the session\n", o->session);
        omni_session_free(&s);
        return OMNI_EXIT_OUTPUT;
    }
    omni_entities_t ents;
    omni_findings_t fs;
    int analysed = omni_entities_build(&m, &ents) == 0;
    double min_conf = o->min_confidence >= 0 ? o->min_confidence : OMNI_DEFAULT_MIN_CONFIDENCE;
    if (analysed && omni_match(kb, &ents, min_conf, &fs) < 0) {
        omni_entities_free(&ents);
        analysed = 0;
    }
    if (!analysed)
        fprintf(stderr, "omnipython: out of memory matching the patterns: no findings\n");
    FILE *f = open_output(o);
    int rc = -1;
    if (f) {
        omni_report_args_t a = {o->session, analysed ? &fs : NULL, 0, o->explain};
        const char *fmt = o->format ? o->format : "text";
        a.color = strcmp(fmt, "text") == 0 && f == stdout && want_color(f);
        if (o->follow && f == stdout && isatty(fileno(f)))
            fputs("\033[H\033[2J", f); /* a terminal view: from the top */
        rc = omni_report_find(fmt)(&m, &a, f);
    }
    if (analysed) {
        omni_findings_free(&fs);
        omni_entities_free(&ents);
    }
    omni_model_free(&m);
    omni_session_free(&s);
    return f ? close_output(o, f, rc) : OMNI_EXIT_OUTPUT;
}

int omni_cmd_report(const omni_options_t *o) {
    omni_kb_t kb;
    if (load_kb(o, &kb) < 0)
        return OMNI_EXIT_BADFILE;
    int running, rc;
    /* --follow: again every 2 s while the run lasts, then once more (its
     * final tables) */
    while ((rc = report_once(o, &kb, &running)) == 0 && o->follow && running) {
        fflush(stdout);
        struct timespec ts = {2, 0};
        nanosleep(&ts, NULL);
    }
    omni_kb_free(&kb);
    return rc;
}

int omni_cmd_diff(const omni_options_t *o) {
    omni_session_t a, b;
    char err[512];
    if (omni_session_load_tree(o->session, &a, err, sizeof err) < 0) {
        fprintf(stderr, "omnipython: %s: %s\n", o->session, err);
        return OMNI_EXIT_BADFILE;
    }
    if (omni_session_load_tree(o->session_b, &b, err, sizeof err) < 0) {
        fprintf(stderr, "omnipython: %s: %s\n", o->session_b, err);
        omni_session_free(&a);
        return OMNI_EXIT_BADFILE;
    }
    FILE *f = open_output(o);
    int regressed = 0, rc = -1;
    if (f)
        rc = omni_diff(&a, o->session, &b, o->session_b, o->threshold_pct,
                       o->format && strcmp(o->format, "json") == 0, f, &regressed);
    omni_session_free(&a);
    omni_session_free(&b);
    if (!f)
        return OMNI_EXIT_OUTPUT;
    int st = close_output(o, f, rc);
    return st ? st : regressed ? OMNI_EXIT_REGRESSED : 0;
}

/* --scan DIR: CPython's parser is needed, not the runtime's hooks. */
int omni_cmd_scan(const omni_options_t *o) {
    if (omni_embed_init_plain() < 0) {
        fprintf(stderr, "omnipython: cannot start the interpreter for --scan\n");
        return OMNI_EXIT_USAGE;
    }
    FILE *f = open_output(o);
    if (!f)
        return OMNI_EXIT_OUTPUT;
    omni_scan_options_t so = {.root = o->scan_dir, .exclude = o->exclude,
                              .n_exclude = (size_t)o->n_exclude, .jobs = o->jobs, .radon = o->radon,
                              .json = o->format && strcmp(o->format, "json") == 0,
                              .html = o->format && strcmp(o->format, "html") == 0,
                              .progress = 1, .run_args = o->run_args,
                              .run_timeout_s = o->timeout_s, .patterns_dir = o->patterns_dir,
                              .min_confidence = o->min_confidence,
                              .dot_path = o->callgraph};
    char err[512] = "";
    int rc = omni_scan(&so, f, err, sizeof err);
    if (err[0])
        fprintf(stderr, "omnipython: %s\n", err);
    int st = close_output(o, f, rc == OMNI_SCAN_OUTPUT ? -1 : 0);
    return st ? st : rc;
}

/* --list-patterns [--patterns DIR] [--format text|json]: the knowledge base
 * as loaded (which checks the user's files). */
int omni_cmd_patterns(const omni_options_t *o) {
    omni_kb_t kb;
    if (load_kb(o, &kb) < 0)
        return OMNI_EXIT_BADFILE;
    FILE *f = open_output(o);
    if (!f) {
        omni_kb_free(&kb);
        return OMNI_EXIT_OUTPUT;
    }
    int json = o->format && strcmp(o->format, "json") == 0;
    omni_json_t j;
    if (json) {
        omni_json_init(&j, f);
        omni_json_begin_object(&j);
        omni_json_key(&j, "patterns");
        omni_json_begin_array(&j);
    }
    for (size_t i = 0; i < kb.n; i++) {
        const omni_pattern_t *p = &kb.p[i];
        if (!json) {
            /* one line a way to recognise it, the strongest evidence first */
            for (int k = 0; k < p->n_when; k++)
                fprintf(f, "%-20s %-8s %s\n", k ? "" : p->id, omni_level_name(p->when[k].level),
                        p->when[k].cond.src);
            fprintf(f, "%20s %s\n", "", p->source);
            continue;
        }
        omni_json_begin_object(&j);
        omni_json_kv_str(&j, "id", p->id);
        omni_json_kv_str(&j, "level", omni_level_name(p->level));
        omni_json_kv_str(&j, "kind", p->shape ? "shape" : "problem");
        omni_json_kv_str(&j, "condition", p->when[0].cond.src);
        omni_json_key(&j, "when");
        omni_json_begin_array(&j);
        for (int k = 0; k < p->n_when; k++) {
            omni_json_begin_object(&j);
            omni_json_kv_str(&j, "level", omni_level_name(p->when[k].level));
            omni_json_kv_str(&j, "condition", p->when[k].cond.src);
            omni_json_end_object(&j);
        }
        omni_json_end_array(&j);
        omni_json_kv_str(&j, "source", p->source);
        omni_json_kv_bool(&j, "builtin", p->builtin);
        omni_json_end_object(&j);
    }
    if (json) {
        /* the metric catalog the conditions may use */
        omni_json_end_array(&j);
        omni_json_key(&j, "metrics");
        omni_json_begin_array(&j);
        for (int m = 0; m < omni_n_metrics; m++) {
            omni_json_begin_object(&j);
            omni_json_kv_str(&j, "name", omni_metrics[m].name);
            omni_json_kv_str(&j, "level", omni_level_name(omni_metrics[m].level));
            omni_json_kv_str(&j, "unit", omni_metrics[m].unit);
            omni_json_kv_str(&j, "doc", omni_metrics[m].doc);
            omni_json_end_object(&j);
        }
        omni_json_end_array(&j);
        omni_json_end_object(&j);
        fputc('\n', f);
    }
    omni_kb_free(&kb);
    return close_output(o, f, 0);
}

/* --export FORMAT SESSION --out FILE: the joined tree (or --process PID). */
int omni_cmd_export(const omni_options_t *o) {
    omni_session_t s;
    char err[512];
    int rc_load = o->process ? omni_session_load_process(o->session, o->process, &s, err, sizeof err)
                             : omni_session_load_tree(o->session, &s, err, sizeof err);
    if (rc_load < 0) {
        fprintf(stderr, "omnipython: %s: %s\n", o->session, err);
        return OMNI_EXIT_BADFILE;
    }
    FILE *f = fopen(o->out, "wb");
    if (!f) {
        fprintf(stderr, "omnipython: cannot write %s: %s\n", o->out, strerror(errno));
        omni_session_free(&s);
        return OMNI_EXIT_OUTPUT;
    }
    err[0] = 0;
    int rc = omni_export_find(o->export_format)(&s, f, err, sizeof err);
    omni_session_free(&s);
    if (fclose(f) != 0 && rc == 0)
        rc = -1;
    if (rc == -2) {
        fprintf(stderr, "omnipython: %s: cannot export %s: %s\n", o->session, o->export_format,
                err);
        unlink(o->out);
        return OMNI_EXIT_BADFILE;
    }
    if (rc < 0) {
        fprintf(stderr, "omnipython: cannot write %s\n", o->out);
        return OMNI_EXIT_OUTPUT;
    }
    return 0;
}

/* --push's sender (started by a run that ends, detached): the session to
 * the endpoint, tried up to three times; its stdio is /dev/null, what
 * happened goes into the session. */
int omni_cmd_push(const omni_options_t *o) {
    const char *to = getenv("OMNIPYTHON_PUSH_TIMEOUT");
    int timeout = to && atoi(to) > 0 ? atoi(to) : 10;
    omni_push_target_t t = {o->push_url, o->push_name, o->push_labels, timeout, 3};
    char err[512];
    if (o->push_follow ? omni_push_follow(o->push_session, &t, err, sizeof err) < 0
                       : omni_push_session(o->push_session, &t, err, sizeof err) < 0) {
        fprintf(stderr, "omnipython: --push: %s\n", err);
        return OMNI_EXIT_OUTPUT;
    }
    return 0;
}

/* Probes the machine (and measures it with --bench), packs the facts as
 * msgpack and prints them: the same layout as a session's machine record. */
int omni_cmd_hw(const omni_options_t *o) {
    static omni_hw_facts_t facts; /* large: not on the stack */
    omni_hw_cpu_prepare();
    omni_hw_facts_probe(&facts);
    omni_gpu_close();
    omni_hw_bench_t bench;
    if (o->bench) {
        uint64_t llc = 0;
        for (int i = 0; i < facts.cpu.n_caches; i++)
            if (facts.cpu.caches[i].size_bytes * (uint64_t)facts.cpu.caches[i].count > llc &&
                strcmp(facts.cpu.caches[i].type, "instruction") != 0)
                llc = facts.cpu.caches[i].size_bytes * (uint64_t)facts.cpu.caches[i].count;
        if (omni_hw_bench_run(&bench, facts.cpu.logical_cores, llc, facts.os.mem_available_bytes,
                              facts.cpu.simd, facts.cpu.n_simd) < 0)
            fprintf(stderr, "omnipython: not enough memory for the bandwidth measurement\n");
    }
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    omni_pack_hw_facts(&pk, &facts, o->bench);
    if (o->bench) {
        msgpack_pack_str(&pk, 5);
        msgpack_pack_str_body(&pk, "bench", 5);
        omni_pack_hw_bench(&pk, &bench);
    }
    msgpack_unpacked u;
    const msgpack_object *m = omni_session_record(sb.data, sb.size, &u);
    int rc = -1;
    FILE *f = m ? open_output(o) : NULL;
    if (f) {
        if (o->format && strcmp(o->format, "json") == 0) {
            omni_json_t j;
            omni_json_init(&j, f);
            omni_json_msgpack(&j, m);
            fputc('\n', f);
            rc = 0;
        } else {
            rc = omni_hw_text(m, o->bench ? omni_mp_get(m, "bench") : NULL, f);
        }
        rc = close_output(o, f, rc);
    } else {
        rc = OMNI_EXIT_OUTPUT;
    }
    msgpack_unpacked_destroy(&u);
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

int omni_cmd_sessions(const omni_options_t *o) {
    (void)o;
    return omni_sessions_list(".omni", stdout) < 0 ? OMNI_EXIT_BADFILE : 0;
}
