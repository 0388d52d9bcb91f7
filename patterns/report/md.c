/* md.c - report.md: what the run did, where the time went, the
 * findings with their evidence and suggestions, and how to verify a change. */
#include "patterns/match.h"
#include "patterns/report/report.h"

#include <math.h>
#include <string.h>

#define TOP_N 10

/* Markdown table cells must not hold '|' or a line break. */
static void cell(FILE *f, const char *s) {
    for (; s && *s; s++) {
        if (*s == '|')
            fputs("\\|", f);
        else if (*s == '\n' || *s == '\r')
            fputc(' ', f);
        else
            fputc(*s, f);
    }
}

static void summary(FILE *f, const omni_session_t *s, const omni_timeline_summary_t *tl,
                    const omni_sample_totals_t *st) {
    char a[64], b[64];
    fprintf(f, "## Summary\n\n");
    fprintf(f, "- Command: `");
    for (size_t i = 0; i < s->sys_argc; i++)
        fprintf(f, "%s%s", i ? " " : "", s->sys_argv[i]);
    fprintf(f, "` (Python %s, omnipython %s, mode %s)\n", s->python_version ? s->python_version : "?",
            s->omni_version ? s->omni_version : "?", s->mode ? s->mode : "?");
    if (s->has_footer) {
        double cpu = s->cpu_user_s + s->cpu_sys_s;
        fprintf(f, "- Ran %.3f s wall, %.3f s CPU (%.0f%% of one core), exit status %lld (%s)%s\n",
                s->wall_s, cpu, s->wall_s > 0 ? 100 * cpu / s->wall_s : 0,
                (long long)s->exit_status, s->exit_how ? s->exit_how : "?",
                s->timed_out ? ", ended by --timeout" : "");
        fprintf(f, "- Peak resident memory %s\n",
                omni_fmt_bytes((double)s->peak_rss_bytes, a, sizeof a));
    } else {
        fprintf(f, "- The run did not finish its session (killed, or still running): what was "
                   "recorded up to then is below\n");
        if (s->from_checkpoint)
            fprintf(f, "- Its tables are those of checkpoint %llu, %.1f s after the start\n",
                    (unsigned long long)s->checkpoint_seq, s->checkpoint_t_s);
    }
    if (s->n_roots > 1)
        fprintf(f, "- %zu runs merged into this report, %zu processes in all (the first run's "
                   "times above)\n", s->n_roots, s->n_processes);
    else if (s->n_processes > 1)
        fprintf(f, "- %zu processes (the run and the Python processes it started)\n",
                s->n_processes);
    size_t threads = 0;
    for (size_t i = 0; i < s->n_threads; i++)
        threads += s->threads[i].pid == s->pid;
    fprintf(f, "- %zu Python thread%s\n", threads, threads == 1 ? "" : "s");
    if (s->has_samples && st->total)
        fprintf(f, "- %llu stack samples every %.0f ms, %.0f%% of them on a CPU (the rest "
                   "waiting: sleep, I/O, locks)\n",
                (unsigned long long)st->total, s->sample_interval_s * 1000,
                100.0 * (double)st->cpu / (double)st->total);
    if (s->has_io) {
        double r = 0, w = 0;
        for (size_t k = 0; k < s->n_io_kinds; k++) {
            r += (double)s->io_kinds[k].read_bytes;
            w += (double)s->io_kinds[k].write_bytes;
        }
        fprintf(f, "- Read %s and wrote %s through files, sockets and pipes\n",
                omni_fmt_bytes(r, a, sizeof a), omni_fmt_bytes(w, b, sizeof b));
    }
    if (tl->available && !isnan(tl->cpu_pct_max))
        fprintf(f, "- CPU use over the run: mean %.0f%%, highest %.0f%% (of one core)\n",
                tl->cpu_pct_mean, tl->cpu_pct_max);
}

/* Processes side by side: each, the spread, and the slowest. */
static void peers(FILE *f, const omni_session_t *s, const omni_peers_t *pe) {
    if (!pe->n)
        return;
    fprintf(f, "\n## Processes side by side\n\nThe slowest of each group is the one the others "
               "wait for (the most CPU time).\n");
    for (size_t i = 0; i < pe->n; i++) {
        const omni_peer_group_t *g = &pe->g[i];
        const omni_sprocess_t *slow = &s->processes[g->slowest];
        if (g->parent_pid >= 0)
            fprintf(f, "\n%zu processes started by pid %lld", g->n, (long long)g->parent_pid);
        else
            fprintf(f, "\n%zu runs merged", g->n);
        fprintf(f, ": the slowest is pid %lld%s%s, %.3f s of CPU, %.2fx the median (%.3f s).\n\n",
                (long long)slow->pid, slow->hostname ? " on " : "",
                slow->hostname ? slow->hostname : "", slow->cpu_s,
                g->cpu_median > 0 ? slow->cpu_s / g->cpu_median : 0, g->cpu_median);
        fprintf(f, "| pid | host | CPU s | wall s | samples |\n|---|---|---|---|---|\n");
        for (size_t k = 0; k < g->n; k++) {
            const omni_sprocess_t *p = &s->processes[g->members[k]];
            fprintf(f, "| %lld%s | %s | %.3f | %.3f | %llu |\n", (long long)p->pid,
                    g->members[k] == g->slowest ? " (slowest)" : "",
                    p->hostname ? p->hostname : "?", p->cpu_s, p->wall_s,
                    (unsigned long long)p->samples);
        }
    }
}

static void bottlenecks(FILE *f, const omni_session_t *s, const omni_profile_t *p,
                        const omni_sample_totals_t *st) {
    fprintf(f, "\n## Key bottlenecks\n");
    if (p->n_funcs && p->total_exclusive_s > 0) {
        fprintf(f, "\nFunctions by their own (exclusive) time, exact from the frame hook:\n\n"
                   "| function | file:line | calls | exclusive | inclusive | share |\n"
                   "|---|---|---:|---:|---:|---:|\n");
        for (size_t i = 0; i < p->n_funcs && i < TOP_N; i++) {
            const omni_ftotal_t *ft = &p->funcs[i];
            const omni_scode_t *c = &s->codes[ft->code];
            fputs("| `", f);
            cell(f, c->name);
            fputs("` | ", f);
            cell(f, omni_short_file(s, c->file));
            fprintf(f, ":%lld | %llu | %.4f s | %.4f s | %.1f%% |\n", (long long)c->line,
                    (unsigned long long)ft->calls, ft->exclusive_s, ft->inclusive_s,
                    100 * ft->exclusive_s / p->total_exclusive_s);
        }
    }
    if (s->has_samples && st->n_lines) {
        fprintf(f, "\nHot lines (share of the stack samples with the line innermost):\n\n"
                   "| samples | on CPU | where | source |\n|---:|---:|---|---|\n");
        for (size_t i = 0; i < st->n_lines && i < TOP_N; i++) {
            const omni_line_total_t *l = &st->lines[i];
            const omni_scode_t *c = &s->codes[l->code];
            char src[160];
            fprintf(f, "| %.1f%% | %.1f%% | `", 100.0 * (double)l->samples / (double)st->total,
                    100.0 * (double)l->cpu / (double)st->total);
            cell(f, c->name);
            fputs("` ", f);
            cell(f, omni_short_file(s, c->file));
            fprintf(f, ":%lld | `", (long long)l->line);
            cell(f, omni_source_line(c->file, l->line, src, sizeof src));
            fputs("` |\n", f);
        }
    }
    if (!(p->n_funcs && p->total_exclusive_s > 0) && !(s->has_samples && st->n_lines))
        fprintf(f, "\nNo function times or stack samples were recorded.\n");
}

/* Allocation accounting's section: the heaps' totals, the top sites, the
 * leak candidates (when --memory ran). */
static void memory(FILE *f, const omni_session_t *s, const omni_memory_t *m) {
    if (!s->has_memory || !s->memory_available)
        return;
    char a[32], b[32], c[32];
    fprintf(f, "\n## Memory\n\n- Python's allocators: peak %s at %.2f s, %s alive at the end; "
               "%llu allocations, %s allocated (exact)\n",
            omni_fmt_bytes((double)s->mem_peak_bytes, a, sizeof a), s->mem_peak_s,
            omni_fmt_bytes((double)s->mem_exit_live_bytes, b, sizeof b),
            (unsigned long long)s->mem_allocations,
            omni_fmt_bytes((double)s->mem_allocated_bytes, c, sizeof c));
    if (s->mem_native_available)
        fprintf(f, "- Native heap (malloc and anonymous mmap outside them: C extensions, "
                   "libraries): peak %s, %s alive at the end; %llu allocations, %s allocated "
                   "(exact)\n",
                omni_fmt_bytes((double)s->native_peak_bytes, a, sizeof a),
                omni_fmt_bytes((double)s->native_exit_live_bytes, b, sizeof b),
                (unsigned long long)s->native_allocations,
                omni_fmt_bytes((double)s->native_allocated_bytes, c, sizeof c));
    if (m->n_sites) {
        fprintf(f, "\nAllocation sites (estimated from allocations sampled every %s on "
                   "average):\n\n| where | heap | allocated | alive at the end |\n"
                   "|---|---|---:|---:|\n",
                omni_fmt_bytes(s->mem_interval_bytes, a, sizeof a));
        for (size_t i = 0; i < m->n_sites && i < TOP_N; i++) {
            const omni_mem_site_t *x = &m->sites[i];
            const omni_scode_t *code = x->code >= 0 ? &s->codes[x->code] : NULL;
            if (!code) {
                fputs("| (no Python frame: start-up, shutdown, C threads)", f);
            } else {
                fputs("| `", f);
                cell(f, code->name);
                fputs("` ", f);
                cell(f, omni_short_file(s, code->file));
                fprintf(f, ":%lld", (long long)x->line);
            }
            fprintf(f, " | %s | %s | %s |\n",
                    x->native ? "native" : "Python", omni_fmt_bytes(x->alloc_bytes, a, sizeof a),
                    omni_fmt_bytes(x->live_bytes, b, sizeof b));
        }
    }
    for (size_t i = 0; i < m->n_leaks && i < 5; i++) {
        const omni_mem_leak_t *x = &m->leaks[i];
        const omni_scode_t *code = x->code >= 0 ? &s->codes[x->code] : NULL;
        fprintf(f, "%s- Leak candidate: `", i ? "" : "\n");
        cell(f, code ? code->name : "?");
        fputs("` ", f);
        cell(f, code ? omni_short_file(s, code->file) : "?");
        fprintf(f, ":%lld%s, %s alive, growing %s/s (confidence %.2f)", (long long)x->line,
                x->native ? " (native)" : "", omni_fmt_bytes(x->live_bytes, a, sizeof a),
                omni_fmt_bytes(x->growth_bytes_per_s, b, sizeof b), x->confidence);
        if (x->referrers) {
            fputs("; kept by `", f);
            cell(f, x->referrers);
            fputc('`', f);
        }
        fputc('\n', f);
    }
}

int omni_report_md(const omni_model_t *m, const char *session_path,
                   const omni_findings_t *fs, FILE *f) {
    const omni_session_t *s = m->s;
    fprintf(f, "# omnipython report: %s\n\nSession `%s`", s->target ? s->target : "?",
            session_path);
    if (s->session_id)
        fprintf(f, " (id %s)", s->session_id);
    fprintf(f, ".\n\n");
    summary(f, s, &m->timeline, &m->samples);
    peers(f, s, &m->peers);
    bottlenecks(f, s, &m->profile, &m->samples);
    memory(f, s, &m->memory);

    fprintf(f, "\n## Findings\n");
    if (!omni_findings_print(f, s, fs, 1))
        fprintf(f, "\nNo pattern of the knowledge base matched this run.\n");
    omni_weak_signals_print(f, s, fs, 1);
    if (fs && fs->omitted)
        fprintf(f, "\n(%zu more findings of the same patterns left out: the %d most confident "
                   "of each are shown.)\n",
                fs->omitted, OMNI_MAX_FINDINGS_PER_PATTERN);
    if (fs && fs->n_skipped) {
        fprintf(f, "\n## Patterns not tried\n\nThese patterns need measurements this session "
                   "does not have:\n\n");
        for (size_t i = 0; i < fs->n_skipped; i++)
            fprintf(f, "- `%s`: %s\n", fs->skipped[i].pattern->id, fs->skipped[i].why);
    }
    fprintf(f, "\n## How to verify an improvement\n\n"
               "1. Keep this session (`%s`) as the baseline.\n"
               "2. Change the code, then run the same command under omnipython again with "
               "`--out new.omni`.\n"
               "3. Compare them: `omnipython --diff %s new.omni` (exit status 1 when something "
               "got slower beyond `--threshold`); each finding's **Verify** line names the "
               "metrics that should move. On a busy machine run both with `--repeat 5`: single "
               "runs vary by a few percent, and --diff then tells a change from the noise.\n",
            session_path, session_path);
    return ferror(f) ? -1 : 0;
}
