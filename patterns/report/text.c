/* text.c - the terminal report: the run, the top functions by
 * exclusive and inclusive time, and who calls the hottest one. */
#include "patterns/report/report.h"
#include "patterns/match.h"
#include "runtime/session/list.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TOP_N 15
#define EDGE_N 8

typedef struct {
    FILE *f;
    int color;
    const omni_session_t *s;
    const omni_model_t *m;
} out_t;

static const char *bold(const out_t *o) { return o->color ? "\033[1m" : ""; }
static const char *dim(const out_t *o) { return o->color ? "\033[2m" : ""; }
static const char *reset(const out_t *o) { return o->color ? "\033[0m" : ""; }

static void print_function(const out_t *o, uint32_t code) {
    const omni_scode_t *c = &o->s->codes[code];
    fprintf(o->f, "%s  %s%s:%lld%s\n", c->name, dim(o), omni_short_file(o->s, c->file),
            (long long)c->line, reset(o));
}

static void print_bytes(FILE *f, uint64_t b) {
    char buf[32];
    fputs(omni_fmt_bytes((double)b, buf, sizeof buf), f);
}

static void print_run(const out_t *o) {
    const omni_session_t *s = o->s;
    FILE *f = o->f;
    fprintf(f, "%somnipython report%s  %s\n", bold(o), reset(o), s->target ? s->target : "?");
    if (s->has_footer) {
        fprintf(f, "  exit status %lld (%s", (long long)s->exit_status,
                s->exit_how ? s->exit_how : "?");
        if (s->signal)
            fprintf(f, ", signal %lld", (long long)s->signal);
        if (s->timed_out)
            fprintf(f, ", %stimed out%s", bold(o), reset(o));
        fprintf(f, ")\n  wall %.3f s   cpu %.3f s user + %.3f s sys   peak RSS ", s->wall_s,
                s->cpu_user_s, s->cpu_sys_s);
        print_bytes(f, s->peak_rss_bytes);
        fputc('\n', f);
    } else if (omni_session_still_running(s) == 1) {
        if (s->from_checkpoint)
            fprintf(f, "  %sstill running (pid %lld): its tables as of checkpoint %llu, %.1f s "
                       "after the start%s\n",
                    bold(o), (long long)s->pid, (unsigned long long)s->checkpoint_seq,
                    s->checkpoint_t_s, reset(o));
        else
            fprintf(f, "  %sstill running (pid %lld): no checkpoint yet - the timeline so far; "
                       "its calls, samples and I/O come with its first checkpoint%s\n",
                    bold(o), (long long)s->pid, reset(o));
    } else if (s->from_checkpoint) {
        fprintf(f, "  %sthe session has no footer: the process was killed (SIGKILL?) or is "
                   "running on another machine; its tables as of checkpoint %llu, %.1f s after "
                   "the start%s\n",
                bold(o), (unsigned long long)s->checkpoint_seq, s->checkpoint_t_s, reset(o));
    } else {
        fprintf(f, "  %sthe session has no footer: the process was killed before it could "
                   "finish (SIGKILL?) or is still running on another machine%s\n",
                bold(o), reset(o));
    }
    fprintf(f, "  Python %s   omnipython %s   mode %s   %zu thread%s\n",
            s->python_version ? s->python_version : "?", s->omni_version ? s->omni_version : "?",
            s->mode ? s->mode : "?", s->n_threads, s->n_threads == 1 ? "" : "s");
    fprintf(f, "  machine %s: %s, %llu logical CPUs, ", s->hostname ? s->hostname : "?",
            s->cpu_model ? s->cpu_model : "?", (unsigned long long)s->logical_cpus);
    print_bytes(f, s->memory_total_bytes);
    fputc('\n', f);
    if (s->mode && strcmp(s->mode, "minimal") == 0)
        fprintf(f, "  mode minimal: calls are exact, times were not measured\n");
    if (s->timeline_trimmed)
        fprintf(f, "  the timeline's oldest %llu records gave way to keep the session within "
                   "--max-session-mb\n",
                (unsigned long long)s->timeline_trimmed);
    if (s->estimated)
        fprintf(f, "  mode sample: no per-call work; function times are estimated from the "
                   "stack samples, calls are not counted\n");
    if (s->truncated)
        fprintf(f, "  %sthe session file ends inside an incomplete or damaged record: what "
                   "follows is what was written before it%s\n", bold(o), reset(o));
    for (size_t i = 0; i < s->n_warnings; i++)
        fprintf(f, "  warning: %s\n", s->warnings[i] ? s->warnings[i] : "?");
    if (s->has_push && s->push_intervals > 1)
        fprintf(f, "  %s%s: %llu of %llu intervals sent as %s (%llu failed, %llu dropped)%s%s\n",
                s->push_error ? "warning: --push to " : "pushed to ",
                s->push_url ? s->push_url : "?", (unsigned long long)s->push_intervals_sent,
                (unsigned long long)s->push_intervals, s->push_name ? s->push_name : "?",
                (unsigned long long)s->push_intervals_failed,
                (unsigned long long)s->push_intervals_dropped, s->push_error ? ": " : "",
                s->push_error ? s->push_error : "");
    else if (s->has_push && !s->push_error)
        fprintf(f, "  pushed to %s as %s (HTTP %lld)\n", s->push_url ? s->push_url : "?",
                s->push_name ? s->push_name : "?", (long long)s->push_status);
    else if (s->has_push)
        fprintf(f, "  warning: --push to %s failed after %llu attempts: %s\n",
                s->push_url ? s->push_url : "?", (unsigned long long)s->push_attempts,
                s->push_error);
}

static int by_inclusive(const void *a, const void *b) {
    const omni_ftotal_t *x = *(omni_ftotal_t *const *)a, *y = *(omni_ftotal_t *const *)b;
    if (x->inclusive_s != y->inclusive_s)
        return x->inclusive_s < y->inclusive_s ? 1 : -1;
    return x->code < y->code ? -1 : x->code > y->code;
}

static void print_row(const out_t *o, const omni_ftotal_t *ft, double total) {
    double pct = total > 0 ? 100.0 * ft->exclusive_s / total : 0;
    double per = ft->calls ? 1e6 * ft->inclusive_s / (double)ft->calls : 0;
    char calls[48];
    if (o->s->estimated) /* --mode sample: no calls counted */
        snprintf(calls, sizeof calls, "-");
    else if (ft->primitive_calls != ft->calls)
        snprintf(calls, sizeof calls, "%llu/%llu", (unsigned long long)ft->calls,
                 (unsigned long long)ft->primitive_calls);
    else
        snprintf(calls, sizeof calls, "%llu", (unsigned long long)ft->calls);
    if (o->s->estimated)
        fprintf(o->f, "  %9.4f %6.1f%% %9.4f %15s %10s  ", ft->exclusive_s, pct, ft->inclusive_s,
                calls, "-");
    else
        fprintf(o->f, "  %9.4f %6.1f%% %9.4f %15s %10.2f  ", ft->exclusive_s, pct,
                ft->inclusive_s, calls, per);
    print_function(o, ft->code);
}

static void print_header_row(const out_t *o) {
    fprintf(o->f, "  %s%9s %7s %9s %15s %10s  %s%s\n", dim(o), "excl s", "excl%", "incl s",
            "calls", "us/call", "function", reset(o));
}

static int edge_by_inclusive(const void *a, const void *b) {
    const omni_etotal_t *x = *(omni_etotal_t *const *)a, *y = *(omni_etotal_t *const *)b;
    if (x->inclusive_s != y->inclusive_s)
        return x->inclusive_s < y->inclusive_s ? 1 : -1;
    return x->calls < y->calls ? 1 : x->calls > y->calls ? -1 : 0;
}

/* The callers (or callees) of code with the largest inclusive time. */
static void print_edges(const out_t *o, const omni_profile_t *p, uint32_t code, int callers) {
    const omni_etotal_t **pick = malloc((p->n_edges + 1) * sizeof *pick);
    if (!pick)
        return;
    size_t n = 0;
    for (size_t i = 0; i < p->n_edges; i++)
        if ((callers ? p->edges[i].callee : p->edges[i].caller) == code)
            pick[n++] = &p->edges[i];
    qsort(pick, n, sizeof *pick, edge_by_inclusive);
    fprintf(o->f, "  %s%s%s\n", bold(o), callers ? "called by" : "calls", reset(o));
    if (!n)
        fprintf(o->f, "    %s(none: %s)%s\n", dim(o),
                callers ? "called from outside Python code or at top level" : "no Python callees",
                reset(o));
    for (size_t i = 0; i < n && i < EDGE_N; i++) {
        fprintf(o->f, "    %12llu calls %9.4f s  ", (unsigned long long)pick[i]->calls,
                pick[i]->inclusive_s);
        print_function(o, callers ? pick[i]->caller : pick[i]->callee);
    }
    free(pick);
}

static void print_processes(const out_t *o) {
    const omni_session_t *s = o->s;
    if (s->n_processes < 2)
        return;
    fprintf(o->f, "\n%sProcesses%s  %s(the profile above adds them up; --process PID shows one)%s\n",
            bold(o), reset(o), dim(o), reset(o));
    for (size_t i = 0; i < s->n_processes; i++) {
        const omni_sprocess_t *p = &s->processes[i];
        fprintf(o->f, "  pid %-8lld ppid %-8lld %-8s ", (long long)p->pid, (long long)p->ppid,
                p->started_by ? p->started_by : "?");
        char a[32], b[32];
        if (p->has_footer)
            fprintf(o->f, "exit %-4lld %8.3f s  peak RSS %9s  ", (long long)p->exit_status, p->wall_s,
                    omni_fmt_bytes((double)p->peak_rss_bytes, a, sizeof a));
        else
            fprintf(o->f, "%-39s", "(no footer)");
        if (p->has_memory)
            fprintf(o->f, "heap peak %9s  native peak %9s  ",
                    omni_fmt_bytes((double)p->mem_peak_bytes, a, sizeof a),
                    p->has_native ? omni_fmt_bytes((double)p->native_peak_bytes, b, sizeof b) : "-");
        for (size_t k = 0; k < p->argc && k < 6; k++)
            fprintf(o->f, "%s%s", k ? " " : "", p->argv[k] ? p->argv[k] : "");
        fputc('\n', o->f);
    }
}

/* Processes side by side: the spread, and the slowest, which the others
 * wait for. */
static void print_peers(const out_t *o) {
    const omni_peers_t *pe = &o->m->peers;
    if (!pe->n)
        return;
    fprintf(o->f, "\n%sPeers%s  %s(processes side by side; the slowest is the one the others wait "
                  "for)%s\n", bold(o), reset(o), dim(o), reset(o));
    for (size_t i = 0; i < pe->n; i++) {
        const omni_peer_group_t *g = &pe->g[i];
        const omni_sprocess_t *slow = &o->s->processes[g->slowest];
        if (g->parent_pid >= 0)
            fprintf(o->f, "  %zu processes started by pid %lld", g->n, (long long)g->parent_pid);
        else
            fprintf(o->f, "  %zu runs merged", g->n);
        fprintf(o->f, ": CPU %.3f / %.3f / %.3f s, wall %.3f / %.3f / %.3f s (min / median / max)\n",
                g->cpu_min, g->cpu_median, g->cpu_max, g->wall_min, g->wall_median, g->wall_max);
        fprintf(o->f, "    slowest: pid %lld%s%s, %.3f s CPU (%.2fx the median), %.3f s wall\n",
                (long long)slow->pid, slow->hostname ? " on " : "",
                slow->hostname ? slow->hostname : "", slow->cpu_s,
                g->cpu_median > 0 ? slow->cpu_s / g->cpu_median : 0, slow->wall_s);
        for (size_t k = 0; k < g->n; k++) {
            const omni_sprocess_t *p = &o->s->processes[g->members[k]];
            fprintf(o->f, "    pid %-8lld %-16s CPU %8.3f s  wall %8.3f s  samples %6llu%s\n",
                    (long long)p->pid, p->hostname ? p->hostname : "?", p->cpu_s, p->wall_s,
                    (unsigned long long)p->samples, g->members[k] == g->slowest ? "  slowest" : "");
        }
    }
}

static void print_threads(const out_t *o) {
    if (o->s->n_threads < 2)
        return;
    fprintf(o->f, "\n%sThreads%s\n", bold(o), reset(o));
    for (size_t i = 0; i < o->s->n_threads; i++) {
        const omni_sthread_t *t = &o->s->threads[i];
        double excl = 0;
        uint64_t calls = 0;
        for (size_t k = 0; k < t->n_funcs; k++) {
            excl += t->funcs[k].exclusive_s;
            calls += t->funcs[k].calls;
        }
        fprintf(o->f, "  %-20s pid %-8lld tid %-8lld cpu %8.3f s  python %8.3f s  %12llu calls",
                t->name ? t->name : "(unnamed)", (long long)t->pid, (long long)t->native_id,
                t->cpu_s, excl, (unsigned long long)calls);
        if (t->threads > 1)
            fprintf(o->f, "  (%llu threads of kind %s, one after another)",
                    (unsigned long long)t->threads, t->kind ? t->kind : "?");
        if (t->samples)
            fprintf(o->f, "  samples %llu: %.0f%% on a CPU, %.0f%% holding the GIL",
                    (unsigned long long)t->samples, 100.0 * (double)t->cpu_samples / (double)t->samples,
                    100.0 * (double)t->gil_samples / (double)t->samples);
        fputc('\n', o->f);
    }
}

static int await_by_total(const void *a, const void *b) {
    const omni_sawait_t *x = *(omni_sawait_t *const *)a, *y = *(omni_sawait_t *const *)b;
    return x->total_s < y->total_s ? 1 : x->total_s > y->total_s ? -1 : 0;
}

/* Coroutines: what each coroutine function's instances took from their
 * first resumption to their end, and how much of it they awaited; then
 * the awaits that held their coroutines the longest. */
static void print_coroutines(const out_t *o) {
    const omni_session_t *s = o->s;
    if (!s->has_coros || (!s->n_coros && !s->n_awaits))
        return;
    fprintf(o->f, "\n%sCoroutines%s  %s(from the first resumption to the end; cProfile counts "
                  "the resumptions as calls)%s\n",
            bold(o), reset(o), dim(o), reset(o));
    fprintf(o->f, "  %s%9s %10s %10s %8s %10s  %s%s\n", dim(o), "finished", "mean s", "max s",
            "awaited", "running s", "coroutine", reset(o));
    for (size_t i = 0; i < s->n_coros; i++) {
        const omni_scoro_t *c = &s->coros[i];
        fprintf(o->f, "  %9llu %10.4f %10.4f %7.0f%% %10.4f  ", (unsigned long long)c->finished,
                c->finished ? c->wall_s / (double)c->finished : 0, c->max_wall_s,
                c->wall_s > 0 ? 100 * c->await_s / c->wall_s : 0, c->wall_s - c->await_s);
        print_function(o, c->code);
    }
    if (s->coros_unfinished)
        fprintf(o->f, "  %s(%llu still awaiting when the run ended)%s\n", dim(o),
                (unsigned long long)s->coros_unfinished, reset(o));
    const omni_sawait_t **order = malloc((s->n_awaits + 1) * sizeof *order);
    if (!order || !s->n_awaits) {
        free(order);
        return;
    }
    for (size_t i = 0; i < s->n_awaits; i++)
        order[i] = &s->awaits[i];
    qsort(order, s->n_awaits, sizeof *order, await_by_total);
    fprintf(o->f, "\n%sLongest awaits%s  %s(time a coroutine was suspended at the line)%s\n",
            bold(o), reset(o), dim(o), reset(o));
    fprintf(o->f, "  %s%9s %10s %10s  %s%s\n", dim(o), "awaits", "total s", "max s", "where",
            reset(o));
    for (size_t i = 0; i < s->n_awaits && i < 10; i++) {
        const omni_sawait_t *a = order[i];
        const omni_scode_t *c = &s->codes[a->code];
        fprintf(o->f, "  %9llu %10.4f %10.4f  %s  %s%s:%lld%s\n", (unsigned long long)a->count,
                a->total_s, a->max_s, c->name, dim(o), omni_short_file(s, c->file),
                (long long)a->line, reset(o));
    }
    free(order);
}

#define EVENT_N 8

static void print_function_or_none(const out_t *o, int64_t code) {
    if (code < 0)
        fprintf(o->f, "%s(no Python caller)%s\n", dim(o), reset(o));
    else
        print_function(o, (uint32_t)code);
}

#define LINES_N 10

/* The lines where the samples found the threads, with their source. */
static void print_hot_lines(const out_t *o) {
    const omni_session_t *s = o->s;
    FILE *f = o->f;
    if (!s->has_samples)
        return;
    const omni_sample_totals_t *st = &o->m->samples;
    fprintf(f, "\n%sHot lines%s  %s(%llu stack samples every %.0f ms, %llu on a CPU; %% of samples "
               "with the line innermost)%s\n",
            bold(o), reset(o), dim(o), (unsigned long long)st->total, s->sample_interval_s * 1000,
            (unsigned long long)st->cpu, reset(o));
    if (!st->n_lines)
        fprintf(f, "  (no sample found Python code running)\n");
    for (size_t i = 0; i < st->n_lines && i < LINES_N; i++) {
        const omni_line_total_t *l = &st->lines[i];
        const omni_scode_t *c = &s->codes[l->code];
        char src[160];
        fprintf(f, "  %5.1f%% %s%5.1f%% cpu%s  %s:%lld  %s%s%s\n",
                st->total ? 100.0 * (double)l->samples / (double)st->total : 0, dim(o),
                st->total ? 100.0 * (double)l->cpu / (double)st->total : 0, reset(o),
                omni_short_file(s, c->file), (long long)l->line, bold(o),
                omni_source_line(c->file, l->line, src, sizeof src), reset(o));
        fprintf(f, "          %sin %s%s\n", dim(o), c->name, reset(o));
    }
}

/* Bytes by descriptor kind and the functions that moved the most. */
static void print_io_bytes(const out_t *o) {
    const omni_session_t *s = o->s;
    FILE *f = o->f;
    if (!s->has_io || !s->n_io_kinds)
        return;
    fprintf(f, "\n%sI/O%s  %s(bytes through read/write/send/recv and their relatives; the "
               "interpreter's module reads included)%s\n",
            bold(o), reset(o), dim(o), reset(o));
    for (size_t k = 0; k < s->n_io_kinds; k++) {
        const omni_siokind_t *t = &s->io_kinds[k];
        fprintf(f, "  %-6s read ", t->name);
        print_bytes(f, t->read_bytes);
        fprintf(f, " in %llu ops, wrote ", (unsigned long long)t->read_ops);
        print_bytes(f, t->write_bytes);
        fprintf(f, " in %llu ops\n", (unsigned long long)t->write_ops);
    }
    const omni_siofn_t *top[EVENT_N] = {0};
    for (size_t i = 0; i < s->n_io_fns; i++) {
        const omni_siofn_t *x = &s->io_fns[i];
        if (x->code >= 0 && strncmp(s->codes[x->code].file, "<frozen ", 8) == 0)
            continue;
        uint64_t w = x->read_bytes + x->write_bytes;
        for (int k = 0; k < EVENT_N; k++)
            if (!top[k] || w > top[k]->read_bytes + top[k]->write_bytes) {
                memmove(&top[k + 1], &top[k], (EVENT_N - 1 - (size_t)k) * sizeof top[0]);
                top[k] = x;
                break;
            }
    }
    for (int k = 0; k < EVENT_N && top[k]; k++) {
        fprintf(f, "  %-6s ", s->io_kinds[top[k]->kind].name);
        print_bytes(f, top[k]->read_bytes);
        fprintf(f, " read, ");
        print_bytes(f, top[k]->write_bytes);
        fprintf(f, " written  ");
        print_function_or_none(o, top[k]->code);
    }
}

/* Files opened, sockets, processes started and the slowest imports. */
static void print_events(const out_t *o) {
    const omni_session_t *s = o->s;
    if (!s->has_events)
        return;
    omni_events_t ev;
    FILE *f = o->f;
    if (omni_events_build(s, "open", &ev) == 0) {
        size_t shown = 0;
        for (size_t i = 0; i < ev.n; i++) {
            const omni_etotal_ev_t *r = &ev.rows[i];
            if (omni_events_is_interpreter(r))
                continue;
            if (!shown++)
                fprintf(f, "\n%sFiles opened%s  %s(most often first; %s)%s\n", bold(o), reset(o),
                        dim(o), "the interpreter's reads of modules and of the script are left out", reset(o));
            if (shown <= EVENT_N) {
                fprintf(f, "  %8llu x %-4s %s  ", (unsigned long long)r->count, r->detail, r->what);
                print_function_or_none(o, r->code);
            }
        }
        if (shown > EVENT_N)
            fprintf(f, "  %s... %zu more%s\n", dim(o), shown - EVENT_N, reset(o));
        omni_events_free(&ev);
    }
    static const char *const kinds[] = {"socket", "process", "conflict"};
    static const char *const titles[] = {"Sockets", "Processes started",
                                         ("Profilers and tracers of the program's own (both ran; "
                                          "times include theirs)")};
    for (int k = 0; k < 3; k++) {
        if (omni_events_build(s, kinds[k], &ev) < 0)
            continue;
        if (ev.n)
            fprintf(f, "\n%s%s%s\n", bold(o), titles[k], reset(o));
        for (size_t i = 0; i < ev.n && i < EVENT_N; i++) {
            const omni_etotal_ev_t *r = &ev.rows[i];
            fprintf(f, "  %8llu x %-16s %s  ", (unsigned long long)r->count, r->detail,
                    r->what[0] ? r->what : "-");
            print_function_or_none(o, r->code);
        }
        omni_events_free(&ev);
    }
    if (omni_events_build(s, "import", &ev) == 0) {
        double total = 0;
        for (size_t i = 0; i < ev.n; i++)
            if (strcmp(ev.rows[i].detail, "outermost") == 0)
                total += ev.rows[i].seconds;
        if (ev.n) {
            fprintf(f, "\n%sImports%s  %s(%zu modules, %.3f s", bold(o), reset(o), dim(o), ev.n,
                    total);
            if (s->has_footer && s->wall_s > 0)
                fprintf(f, " = %.0f%% of the run", 100 * total / s->wall_s);
            fprintf(f, "; each with the imports inside it)%s\n", reset(o));
        }
        for (size_t i = 0; i < ev.n && i < EVENT_N; i++) {
            const omni_etotal_ev_t *r = &ev.rows[i];
            fprintf(f, "  %9.4f s  %-32s ", r->seconds, r->what);
            print_function_or_none(o, r->code);
        }
        omni_events_free(&ev);
    }
}

/* A value that may be missing (NaN): "?" then. */
static void print_bytes_or_q(FILE *f, double b) {
    if (isnan(b) || b < 0)
        fputc('?', f);
    else
        print_bytes(f, (uint64_t)b);
}

static void print_resources(const out_t *o) {
    const omni_timeline_summary_t *t = &o->m->timeline;
    FILE *f = o->f;
    fprintf(f, "\n%sResources%s  ", bold(o), reset(o));
    if (!t->available) {
        fprintf(f, "%s(no timeline: %s)%s\n", dim(o), t->reason, reset(o));
        return;
    }
    fprintf(f, "%s(monitor: %zu samples every %.0f ms over %.2f s)%s\n", dim(o), t->samples,
            t->interval_s * 1000, t->span_s, reset(o));
    fprintf(f, "  CPU %.0f%% mean, %.0f%% max of one core;  machine busy %.0f%% mean\n",
            t->cpu_pct_mean, t->cpu_pct_max, t->machine_busy_pct_mean);
    fprintf(f, "  RSS peak ");
    print_bytes_or_q(f, t->peak_rss_bytes);
    fprintf(f, ", at the end ");
    print_bytes_or_q(f, t->final_rss_bytes);
    fprintf(f, ";  threads %.0f max;  open files %.0f max\n", t->threads_max, t->fds_max);
    fprintf(f, "  disk read ");
    print_bytes_or_q(f, t->read_bytes);
    fprintf(f, ", written ");
    print_bytes_or_q(f, t->write_bytes);
    fprintf(f, ";  read/write calls %.0f / %.0f moving ", t->syscr, t->syscw);
    print_bytes_or_q(f, t->rchar);
    fprintf(f, " / ");
    print_bytes_or_q(f, t->wchar);
    fprintf(f, "\n  context switches %.0f voluntary, %.0f involuntary;  page faults %.0f minor, "
               "%.0f major\n",
            t->voluntary_ctx, t->involuntary_ctx, t->minor_faults, t->major_faults);
    for (int i = 0; i < t->n_ifaces; i++) {
        if (!(t->rx_bytes[i] > 0) && !(t->tx_bytes[i] > 0))
            continue;
        fprintf(f, "  network %s (whole machine): received ", t->iface[i]);
        print_bytes_or_q(f, t->rx_bytes[i]);
        fprintf(f, " in %.0f packets, sent ", t->rx_packets[i]);
        print_bytes_or_q(f, t->tx_bytes[i]);
        fprintf(f, " in %.0f packets\n", t->tx_packets[i]);
    }
    if (t->counters_available) {
        fprintf(f, "  counters");
        for (int i = 0; i < t->n_events; i++)
            fprintf(f, " %s %.3g", t->event[i], t->event_total[i]);
        fprintf(f, ";  IPC %.2f\n", t->ipc);
    } else {
        fprintf(f, "  %scounters unavailable: %s%s\n", dim(o), t->counters_reason, reset(o));
    }
    if (t->gpu_available) {
        for (int d = 0; d < t->n_gpus; d++) {
            fprintf(f, "  gpu %d %s: busy %.0f%% mean, %.0f%% max; memory peak ", d,
                    t->gpu_model[d], t->gpu_util_mean[d], t->gpu_util_max[d]);
            print_bytes_or_q(f, t->gpu_mem_max[d]);
            fprintf(f, " (this process ");
            print_bytes_or_q(f, t->gpu_proc_mem_max[d]);
            fprintf(f, ");  %.1f J\n", t->gpu_energy_j[d]);
        }
    } else {
        fprintf(f, "  %sgpu unavailable: %s%s\n", dim(o), t->gpu_reason, reset(o));
    }
    if (t->energy_available && !isnan(t->cpu_energy_j)) {
        double j = t->cpu_energy_j + (t->gpu_energy_total_j > 0 ? t->gpu_energy_total_j : 0);
        fprintf(f, "  energy %.1f J (CPU sockets %.1f J) = %.3g kWh, about %.3g g CO2 at %.0f "
                   "g/kWh\n",
                j, t->cpu_energy_j, j / 3.6e6, j / 3.6e6 * t->grams_co2_per_kwh,
                t->grams_co2_per_kwh);
    } else {
        fprintf(f, "  %senergy unavailable: %s%s\n", dim(o), t->energy_reason, reset(o));
    }
}

/* Allocation accounting: totals, the sites, the leak candidates. */
/* An allocation site's place, and its heap when native; a line's end. */
static void print_site(FILE *f, const omni_session_t *s, int64_t code, int64_t line, int native) {
    if (code >= 0)
        fprintf(f, "%s  %s:%lld", s->codes[code].name, omni_short_file(s, s->codes[code].file),
                (long long)line);
    else
        fprintf(f, "(no Python frame: start-up, shutdown, C threads)");
    fprintf(f, "%s\n", native ? "  (native)" : "");
}

static void print_memory(const out_t *o) {
    const omni_session_t *s = o->s;
    FILE *f = o->f;
    if (!s->has_memory)
        return;
    fprintf(f, "\n%sMemory%s", bold(o), reset(o));
    if (!s->memory_available) {
        fprintf(f, "  unavailable: %s\n", s->memory_reason ? s->memory_reason : "?");
        return;
    }
    const omni_memory_t *m = &o->m->memory;
    char a[32], b[32], c[32];
    double wall = s->mem_exit_s > 0 ? s->mem_exit_s : s->mem_wall_s;
    fprintf(f, "  %s(Python's allocators, exact; sites estimated from a sample every %s)%s\n", dim(o),
            omni_fmt_bytes(s->mem_interval_bytes, a, sizeof a), reset(o));
    fprintf(f, "  peak %s at %.2f s, alive at the end %s; %llu allocations (%.0f/s), %s allocated\n",
            omni_fmt_bytes((double)s->mem_peak_bytes, a, sizeof a), s->mem_peak_s,
            omni_fmt_bytes((double)s->mem_exit_live_bytes, b, sizeof b),
            (unsigned long long)s->mem_allocations,
            wall > 0 ? (double)s->mem_allocations / wall : 0,
            omni_fmt_bytes((double)s->mem_allocated_bytes, c, sizeof c));
    if (s->mem_native_available)
        fprintf(f, "  native heap (malloc, mmap outside Python's allocators): peak %s, alive at the "
                   "end %s; %llu allocations, %s allocated, %llu mappings\n",
                omni_fmt_bytes((double)s->native_peak_bytes, a, sizeof a),
                omni_fmt_bytes((double)s->native_exit_live_bytes, b, sizeof b),
                (unsigned long long)s->native_allocations,
                omni_fmt_bytes((double)s->native_allocated_bytes, c, sizeof c),
                (unsigned long long)s->native_maps);
    else if (s->mem_native_reason)
        fprintf(f, "  %snative heap: unavailable: %s%s\n", dim(o), s->mem_native_reason, reset(o));
    for (size_t i = 0; i < m->n_sites && i < 10; i++) {
        const omni_mem_site_t *x = &m->sites[i];
        fprintf(f, "  %10s allocated %10s alive  ", omni_fmt_bytes(x->alloc_bytes, a, sizeof a),
                omni_fmt_bytes(x->live_bytes, b, sizeof b));
        print_site(f, s, x->code, x->line, x->native);
    }
    if (s->n_mem_census) {
        fprintf(f, "  %salive at the end, by type (%llu objects%s", dim(o),
                (unsigned long long)s->mem_census_objects, s->mem_census_partial ? ", partial" : "");
        if (!isnan(s->mem_census_s))
            fprintf(f, ", census %.2f s", s->mem_census_s);
        fprintf(f, ")%s:", reset(o));
        for (size_t i = 0; i < s->n_mem_census && i < 6; i++)
            fprintf(f, "%s %s %s (%llu)", i ? "," : "", s->mem_census[i].type,
                    omni_fmt_bytes((double)s->mem_census[i].bytes, a, sizeof a),
                    (unsigned long long)s->mem_census[i].count);
        fputc('\n', f);
    }
    for (size_t i = 0; i < m->n_leaks && i < 5; i++) {
        const omni_mem_leak_t *x = &m->leaks[i];
        fprintf(f, "  %sleak candidate%s %s alive, growing %s/s (confidence %.2f)  ", bold(o),
                reset(o), omni_fmt_bytes(x->live_bytes, a, sizeof a),
                omni_fmt_bytes(x->growth_bytes_per_s, b, sizeof b), x->confidence);
        print_site(f, s, x->code, x->line, x->native);
        if (x->referrers)
            fprintf(f, "      %skept by: %s%s\n", dim(o), x->referrers, reset(o));
    }
}

/* omni.profile's regions by name. */
static void print_regions(const out_t *o) {
    const omni_session_t *s = o->s;
    if (!s->has_regions)
        return;
    fprintf(o->f, "\n%sRegions%s  %s(omni.profile: count, wall and CPU time in total)%s\n", bold(o),
            reset(o), dim(o), reset(o));
    for (size_t i = 0; i < s->n_region_names; i++) {
        const omni_sregion_name_t *n = &s->region_names[i];
        fprintf(o->f, "  %8llu x  %10.4f s wall  %10.4f s cpu  %s%s\n",
                (unsigned long long)n->count, n->wall_s, n->cpu_s, n->name,
                n->errors ? "  (some raised)" : "");
    }
}

/* The findings first: what a person should look at. */
static void print_findings(const out_t *o, const struct omni_findings *fs) {
    if (!fs)
        return;
    fprintf(o->f, "\n%sFindings%s", bold(o), reset(o));
    if (!omni_findings_print(o->f, o->s, fs, 0))
        fprintf(o->f, "\n  none: no pattern of the knowledge base matched this run%s\n",
                fs->n_weak ? " with confidence" : "");
    omni_weak_signals_print(o->f, o->s, fs, 0);
}

int omni_report_text(const omni_model_t *m, const char *session_path,
                     const struct omni_findings *findings, FILE *f, int color) {
    out_t o = {f, color, m->s, m};
    const omni_profile_t *p = &m->profile;
    print_run(&o);
    fprintf(f, "  session %s\n", session_path);
    print_findings(&o, findings);

    size_t n = p->n_funcs < TOP_N ? p->n_funcs : TOP_N;
    fprintf(f, "\n%sTop functions by exclusive time%s  %s(%zu functions, %.3f s in Python code; "
               "calls shown total/primitive when recursive)%s\n",
            bold(&o), reset(&o), dim(&o), p->n_funcs, p->total_exclusive_s, reset(&o));
    if (!p->n_funcs)
        fprintf(f, "  (no Python function calls were recorded)\n");
    else
        print_header_row(&o);
    if (p->n_funcs && m->s->estimated)
        fprintf(f, "  %s(--mode sample: times estimated from %llu stack samples at %.0f Hz - "
                   "a function's exclusive time is the samples it was the innermost frame of; "
                   "calls are not counted)%s\n",
                dim(&o), (unsigned long long)m->s->samples_taken,
                m->s->sample_interval_s > 0 ? 1 / m->s->sample_interval_s : 0, reset(&o));
    for (size_t i = 0; i < n; i++)
        print_row(&o, &p->funcs[i], p->total_exclusive_s);

    if (p->n_funcs) {
        const omni_ftotal_t **inc = malloc(p->n_funcs * sizeof *inc);
        if (inc) {
            for (size_t i = 0; i < p->n_funcs; i++)
                inc[i] = &p->funcs[i];
            qsort(inc, p->n_funcs, sizeof *inc, by_inclusive);
            fprintf(f, "\n%sTop functions by inclusive time%s\n", bold(&o), reset(&o));
            print_header_row(&o);
            for (size_t i = 0; i < n; i++)
                print_row(&o, inc[i], p->total_exclusive_s);
            free(inc);
        }
        fprintf(f, "\n%sThe hottest function%s  ", bold(&o), reset(&o));
        print_function(&o, p->funcs[0].code);
        print_edges(&o, p, p->funcs[0].code, 1);
        print_edges(&o, p, p->funcs[0].code, 0);
    }
    print_hot_lines(&o);
    print_memory(&o);
    print_regions(&o);
    print_processes(&o);
    print_peers(&o);
    print_threads(&o);
    print_coroutines(&o);
    print_io_bytes(&o);
    print_events(&o);
    print_resources(&o);
    return ferror(f) ? -1 : 0;
}
