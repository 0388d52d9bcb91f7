/* metrics.c - the metric catalog, and the entities of a session with their
 * metric values: what the patterns' conditions are evaluated on. */
#include "patterns/metrics.h"
#include "runtime/grow.h"

#include "patterns/model/runs.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define F OMNI_LEVEL_FUNCTION
#define L OMNI_LEVEL_LINE
#define T OMNI_LEVEL_THREAD
#define P OMNI_LEVEL_PROCESS
#define FI OMNI_LEVEL_FILE
#define PROF OMNI_NEEDS_PROFILE
#define TIMES (OMNI_NEEDS_PROFILE | OMNI_NEEDS_TIMES)
#define SMP OMNI_NEEDS_SAMPLES
#define EV OMNI_NEEDS_EVENTS
#define IO OMNI_NEEDS_IO
#define FOOT OMNI_NEEDS_FOOTER
#define CNT OMNI_NEEDS_COUNTERS
#define GPU OMNI_NEEDS_GPU
#define MEM OMNI_NEEDS_MEMORY
#define SCAN OMNI_NEEDS_SCAN
#define REP OMNI_NEEDS_REPEATS
#define TL OMNI_NEEDS_TIMELINE

/* The order of each level's rows is the order of the enum below. */
const omni_metric_def_t omni_metrics[] = {
    /* function */
    {"calls", F, PROF, "calls", "calls of the function (cProfile's ncalls)"},
    {"primitive_calls", F, PROF, "calls", "calls not made by the function itself (recursion)"},
    {"inclusive_s", F, TIMES, "s", "time in the function and what it called"},
    {"exclusive_s", F, TIMES, "s", "time in the function's own code"},
    {"exclusive_share", F, TIMES, "fraction", "exclusive_s over all functions' exclusive time"},
    {"inclusive_share", F, TIMES, "fraction", "inclusive_s over all functions' exclusive time"},
    {"per_call_s", F, TIMES, "s", "exclusive_s / calls"},
    {"max_recursion", F, PROF, "frames", "the most activations of the function at once"},
    {"samples", F, SMP, "samples", "stack samples with the function on the stack"},
    {"self_samples", F, SMP, "samples", "stack samples with the function innermost"},
    {"sample_share", F, SMP, "fraction", "samples over all samples"},
    {"self_sample_share", F, SMP, "fraction", "self_samples over all samples"},
    {"read_bytes", F, IO, "bytes", "bytes the function read (files, sockets, pipes)"},
    {"write_bytes", F, IO, "bytes", "bytes the function wrote"},
    {"io_ops", F, IO, "ops", "read and write calls the function made"},
    {"io_bytes_per_op", F, IO, "bytes", "(read_bytes + write_bytes) / io_ops"},
    {"complexity", F, SCAN, "", "cyclomatic complexity (radon's), from a joined scan"},
    {"allocated_bytes", F, MEM, "bytes", "bytes allocated at the function"},
    {"allocations_per_s", F, MEM, "1/s", "allocations at the function a second of the run"},
    {"live_bytes", F, MEM, "bytes", "bytes allocated at the function still alive at exit"},
    {"growth_bytes_per_s", F, MEM, "bytes/s", "growth of the function's live bytes"},
    {"runs", F, REP, "runs", "runs the function was seen in"},
    {"exclusive_cv", F, REP, "fraction", "coefficient of variation of exclusive_s over runs"},
    /* line */
    {"samples", L, SMP, "samples", "stack samples with the line innermost"},
    {"sample_share", L, SMP, "fraction", "the line's samples over all samples"},
    {"cpu_share", L, SMP, "fraction", "of the line's samples, those on a CPU"},
    /* thread */
    {"samples", T, SMP, "samples", "stack samples of the thread"},
    {"cpu_share", T, SMP, "fraction", "of the thread's samples, those on a CPU"},
    {"gil_share", T, SMP, "fraction", "of the thread's samples, those holding the GIL"},
    {"cpu_s", T, PROF, "s", "the thread's CPU time"},
    /* process */
    {"wall_s", P, FOOT, "s", "the run's wall-clock time"},
    {"cpu_s", P, FOOT, "s", "the run's CPU time, user and system"},
    {"cpu_share", P, FOOT, "cores", "cpu_s / wall_s (1 = one core busy all along)"},
    {"samples", P, SMP, "samples", "stack samples of all threads"},
    {"sample_ticks", P, SMP, "ticks", "times the sampler looked at the threads"},
    {"cpu_sample_share", P, SMP, "fraction", "of all samples, those on a CPU"},
    {"gil_held_share", P, SMP, "fraction", "of the ticks, those a thread held the GIL in"},
    {"gil_threads", P, SMP, "threads", "threads that held the GIL in at least 10% of the ticks"},
    {"gil_sharing_threads", P, SMP, "threads",
     "of those, the threads that held it in less than 80% of their own samples: they took "
     "turns with others (one after another, each holds it nearly always)"},
    {"idle_share", P, SMP, "fraction",
     "of all samples, those off a CPU waiting for work: in a selector's select (an event "
     "loop, a server's serve_forever), in accept, or a thread pool's worker with nothing queued"},
    {"hot_path_share", P, SMP, "fraction", "samples under the heaviest call path's last frame"},
    {"hot_path_depth", P, SMP, "frames", "frames on the heaviest call path"},
    {"import_s", P, EV | FOOT, "s", "time in outermost imports"},
    {"import_share", P, EV | FOOT, "fraction", "import_s / wall_s"},
    {"processes_started", P, EV, "processes", "subprocess.Popen, os.system, os.exec*, "
                                              "os.spawn*, os.posix_spawn and os.fork calls"},
    {"processes_per_s", P, EV | FOOT, "1/s", "processes_started / wall_s"},
    {"opens", P, EV, "opens", "files the program opened (the interpreter's own left out)"},
    {"read_ops", P, IO, "ops", "read calls on files, sockets and pipes"},
    {"write_ops", P, IO, "ops", "write calls on files, sockets and pipes"},
    {"io_bytes", P, IO, "bytes", "bytes read and written on files, sockets and pipes"},
    {"small_ops", P, IO, "ops", "reads and writes of fewer than 512 bytes"},
    {"small_op_share", P, IO, "fraction", "small_ops over all reads and writes"},
    {"max_depth", P, PROF, "frames", "the deepest Python stack of any thread"},
    {"busy_threads", P, PROF | FOOT, "threads",
     "threads of the process that used at least 10% of its CPU time"},
    {"busy_python_s", P, TIMES | FOOT, "s",
     "time the busy threads spent in Python code by the frame hook's clock (waiting for the "
     "GIL included)"},
    {"peak_rss_bytes", P, FOOT, "bytes", "the largest resident set"},
    {"timeline_rows", P, TL, "rows", "the monitor's samples of the process while it ran"},
    {"rss_growth_bytes", P, TL, "bytes", "resident set at the last sample before exit "
                                         "minus at the first"},
    {"rss_growth_bytes_per_s", P, TL, "bytes/s", "the resident set's growth: the slope of a "
                                                 "least-squares line through the samples"},
    {"rss_fit_r2", P, TL, "fraction", "how well that line fits (R squared: 1 = steady growth)"},
    {"rss_held_share", P, TL, "fraction", "of the resident set's rise, what was still held at "
                                          "the last sample before exit"},
    {"ipc", P, CNT, "", "instructions per cycle"},
    {"llc_misses_per_kinstr", P, CNT, "", "last-level cache misses per 1000 instructions"},
    {"gpu_util_mean", P, GPU, "%", "the GPUs' mean utilisation while the process ran"},
    {"gpu_util_max", P, GPU, "%", "the GPUs' highest utilisation"},
    {"gpu_process_mem_bytes", P, GPU, "bytes", "the most GPU memory the process held"},
    {"peak_live_bytes", P, MEM, "bytes", "the most bytes allocated and alive at once"},
    {"allocations_per_s", P, MEM, "1/s", "allocations a second of the run"},
    {"runs", P, REP, "runs", "runs of the target in the session"},
    {"wall_cv", P, REP, "fraction", "coefficient of variation of wall_s over runs"},
    /* file (a path the program opened) */
    {"opens", FI, EV, "opens", "times the path was opened"},
    {"opens_per_s", FI, EV | FOOT, "1/s", "opens / the run's wall_s"},
};
const int omni_n_metrics = (int)(sizeof omni_metrics / sizeof omni_metrics[0]);

enum {
    M_CALLS, M_PRIM, M_INCL, M_EXCL, M_EXCL_SHARE, M_INCL_SHARE, M_PER_CALL, M_MAXREC,
    M_F_SAMPLES, M_F_SELF, M_F_SHARE, M_F_SELF_SHARE, M_F_READ, M_F_WRITE, M_F_OPS,
    M_F_PER_OP, M_F_CC, M_F_ALLOC, M_F_APS, M_F_LIVE, M_F_GROWTH, M_F_RUNS, M_F_CV,
    M_L_SAMPLES, M_L_SHARE, M_L_CPU,
    M_T_SAMPLES, M_T_CPU, M_T_GIL, M_T_CPU_S,
    M_WALL, M_CPU, M_CPU_SHARE, M_P_SAMPLES, M_TICKS, M_P_CPU_SHARE, M_GIL_HELD, M_GIL_THREADS, M_GIL_SHARING,
    M_IDLE_SHARE, M_HOT_SHARE, M_HOT_DEPTH, M_IMPORT, M_IMPORT_SHARE, M_PROCS, M_PROCS_PER_S,
    M_OPENS,
    M_READ_OPS, M_WRITE_OPS, M_IO_BYTES, M_SMALL, M_SMALL_SHARE, M_MAX_DEPTH, M_BUSY_THREADS,
    M_BUSY_PY, M_PEAK_RSS, M_TL_ROWS, M_RSS_GROWTH, M_RSS_SLOPE, M_RSS_R2, M_RSS_HELD,
    M_IPC, M_LLC, M_GPU_MEAN, M_GPU_MAX, M_GPU_PROC, M_PEAK_LIVE, M_P_APS, M_P_RUNS, M_WALL_CV,
    M_FI_OPENS, M_FI_OPENS_PER_S,
    M_COUNT
};
_Static_assert(M_COUNT == sizeof omni_metrics / sizeof omni_metrics[0], "catalog and enum");

static const char *const level_names[OMNI_N_LEVELS] = {"function", "line", "thread", "process",
                                                       "file"};

const char *omni_level_name(omni_level_t l) {
    return l < OMNI_N_LEVELS ? level_names[l] : "?";
}

int omni_level_parse(const char *name) {
    for (int i = 0; i < OMNI_N_LEVELS; i++)
        if (strcmp(name, level_names[i]) == 0)
            return i;
    return -1;
}

int omni_metric_find(omni_level_t level, const char *name, size_t len) {
    for (int i = 0; i < omni_n_metrics; i++)
        if (omni_metrics[i].level == level && strlen(omni_metrics[i].name) == len &&
            strncmp(omni_metrics[i].name, name, len) == 0)
            return i;
    return -1;
}

/* ---------------------------------------------------------------- entities */

static omni_entity_t *add_entity(omni_entities_t *x, omni_level_t level) {
    omni_entity_t *grown = omni_grow(x->e, &x->cap, x->n, sizeof *grown, 64);
    if (!grown)
        return NULL;
    x->e = grown;
    omni_entity_t *e = &x->e[x->n];
    memset(e, 0, sizeof *e);
    e->v = malloc((size_t)omni_n_metrics * sizeof *e->v);
    if (!e->v)
        return NULL;
    for (int i = 0; i < omni_n_metrics; i++)
        e->v[i] = NAN;
    e->level = level;
    e->line = -1;
    x->n++;
    return e;
}

static char *dup_or_null(const char *s) {
    return s ? strdup(s) : NULL;
}

static double ratio(double a, double b) {
    return b > 0 ? a / b : NAN;
}

static void set_code(omni_entity_t *e, const omni_session_t *s, int64_t code) {
    if (code < 0 || (size_t)code >= s->n_codes)
        return;
    e->file = dup_or_null(s->codes[code].file);
    e->function = dup_or_null(s->codes[code].name);
}

static void need_missing(omni_entities_t *x, unsigned need, const char *fmt, ...) {
    int bit = __builtin_ctz(need);
    x->have &= ~need;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->why[bit], sizeof x->why[bit], fmt, ap);
    va_end(ap);
}

/* What the session holds, and why not the rest. */
static void find_needs(const omni_session_t *s, const omni_timeline_summary_t *tl,
                       omni_entities_t *x) {
    x->have = ~0u;
    int any_funcs = 0;
    for (size_t t = 0; t < s->n_threads; t++)
        any_funcs |= s->threads[t].n_funcs > 0;
    if (!any_funcs)
        need_missing(x, OMNI_NEEDS_PROFILE, "the session has no function profile");
    if (s->mode && strcmp(s->mode, "minimal") == 0)
        need_missing(x, OMNI_NEEDS_TIMES, "--mode minimal counts calls without timing them");
    if (!s->has_samples)
        need_missing(x, OMNI_NEEDS_SAMPLES, "the session has no stack samples");
    if (!s->has_events)
        need_missing(x, OMNI_NEEDS_EVENTS, "the session has no audited events");
    if (!s->has_io)
        need_missing(x, OMNI_NEEDS_IO, "the session has no byte accounting");
    if (!s->has_footer || !(s->wall_s > 0))
        need_missing(x, OMNI_NEEDS_FOOTER, "the run did not finish its session (no footer)");
    if (!tl->available)
        need_missing(x, OMNI_NEEDS_TIMELINE, "no timeline: %s", tl->reason);
    if (!tl->counters_available)
        need_missing(x, OMNI_NEEDS_COUNTERS, "no hardware counters: %s",
                     tl->counters_reason[0] ? tl->counters_reason : "not measured");
    if (!tl->gpu_available || tl->n_gpus == 0)
        need_missing(x, OMNI_NEEDS_GPU, "no GPU: %s",
                     tl->gpu_reason[0] ? tl->gpu_reason : "none seen");
    if (!s->has_memory)
        need_missing(x, OMNI_NEEDS_MEMORY,
                     "no allocation accounting in this run (--mode full or --memory)");
    else if (!s->memory_available)
        need_missing(x, OMNI_NEEDS_MEMORY, "no allocation accounting: %s",
                     s->memory_reason ? s->memory_reason : "?");
    need_missing(x, OMNI_NEEDS_SCAN, "no static scan joined to the run");
    if (!s->n_runs)
        need_missing(x, OMNI_NEEDS_REPEATS, "one run of the target (--repeat N runs it N times)");
}

void omni_entities_join_scan(omni_entities_t *x, omni_scan_lookup_fn lookup, void *ctx) {
    for (size_t i = 0; i < x->n; i++) {
        omni_entity_t *e = &x->e[i];
        if (e->level != OMNI_LEVEL_FUNCTION || !e->file || !e->function)
            continue;
        int cc = lookup(e->file, e->function, e->line, ctx);
        if (cc >= 0)
            e->v[M_F_CC] = cc;
    }
    x->have |= OMNI_NEEDS_SCAN;
}

const char *omni_entities_missing(const omni_entities_t *x, unsigned needs) {
    unsigned lack = needs & ~x->have;
    return lack ? x->why[__builtin_ctz(lack)] : NULL;
}

static int build_functions(const omni_model_t *m, const omni_runs_t *runs, omni_entities_t *x) {
    const omni_session_t *s = m->s;
    const omni_sample_totals_t *st = &m->samples;
    const omni_profile_t *p = &m->profile;
    /* the byte accounting by function */
    size_t nc = s->n_codes + 1;
    double *rd = calloc(nc, sizeof *rd), *wr = calloc(nc, sizeof *wr),
           *ops = calloc(nc, sizeof *ops);
    char *seen = calloc(nc, 1);
    double *ma = calloc(nc, sizeof *ma), *mn = calloc(nc, sizeof *mn), *ml = calloc(nc, sizeof *ml),
           *mg = calloc(nc, sizeof *mg);
    int rc = -1;
    if (!rd || !wr || !ops || !seen || !ma || !mn || !ml || !mg)
        goto out;
    int mem = (x->have & OMNI_NEEDS_MEMORY) != 0;
    double mem_wall = s->mem_exit_s > 0 ? s->mem_exit_s : s->mem_wall_s;
    if (mem) {
        omni_memory_sum_by_code(&m->memory, s->n_codes, ma, mn, ml, mg);
        for (size_t c = 0; c < s->n_codes; c++)
            if (ma[c] > 0 || ml[c] > 0)
                seen[c] = 1; /* a function with allocation sites is an entity too */
    }
    for (size_t i = 0; i < s->n_io_fns; i++) {
        const omni_siofn_t *r = &s->io_fns[i];
        if (r->code < 0 || (size_t)r->code >= s->n_codes)
            continue;
        rd[r->code] += (double)r->read_bytes;
        wr[r->code] += (double)r->write_bytes;
        ops[r->code] += (double)(r->read_ops + r->write_ops);
    }
    double total = (double)st->total;
    for (size_t i = 0; i < p->n_funcs; i++) {
        const omni_ftotal_t *f = &p->funcs[i];
        seen[f->code] = 1;
    }
    /* a function either ran under the frame hook or was only sampled */
    for (size_t c = 0; c < s->n_codes; c++)
        if (st->fn_samples && st->fn_samples[c])
            seen[c] = 1;
    omni_ftotal_t *by_code = calloc(nc, sizeof *by_code);
    if (!by_code)
        goto out;
    for (size_t i = 0; i < p->n_funcs; i++)
        by_code[p->funcs[i].code] = p->funcs[i];
    for (size_t c = 0; c < s->n_codes; c++) {
        if (!seen[c])
            continue;
        omni_entity_t *e = add_entity(x, OMNI_LEVEL_FUNCTION);
        if (!e) {
            free(by_code);
            goto out;
        }
        set_code(e, s, (int64_t)c);
        e->line = s->codes[c].line;
        const omni_ftotal_t *f = &by_code[c];
        double *v = e->v;
        if (x->have & OMNI_NEEDS_PROFILE) {
            v[M_CALLS] = (double)f->calls;
            v[M_PRIM] = (double)f->primitive_calls;
            v[M_MAXREC] = (double)f->max_recursion;
            v[M_INCL] = f->inclusive_s;
            v[M_EXCL] = f->exclusive_s;
            v[M_EXCL_SHARE] = ratio(f->exclusive_s, p->total_exclusive_s);
            v[M_INCL_SHARE] = ratio(f->inclusive_s, p->total_exclusive_s);
            v[M_PER_CALL] = ratio(f->exclusive_s, (double)f->calls);
        }
        if (x->have & OMNI_NEEDS_SAMPLES) {
            v[M_F_SAMPLES] = (double)st->fn_samples[c];
            v[M_F_SELF] = (double)st->fn_self[c];
            v[M_F_SHARE] = ratio((double)st->fn_samples[c], total);
            v[M_F_SELF_SHARE] = ratio((double)st->fn_self[c], total);
        }
        if (runs) {
            const omni_fn_runs_t *fr = omni_runs_find(runs, omni_short_file(s, s->codes[c].file),
                                                      s->codes[c].name ? s->codes[c].name : "?",
                                                      s->codes[c].line);
            if (fr) {
                v[M_F_RUNS] = fr->runs_seen;
                v[M_F_CV] = ratio(fr->excl_sd, fr->excl_mean);
            }
        }
        if (mem) {
            v[M_F_ALLOC] = ma[c];
            v[M_F_APS] = ratio(mn[c], mem_wall);
            v[M_F_LIVE] = ml[c];
            v[M_F_GROWTH] = mg[c];
        }
        if (x->have & OMNI_NEEDS_IO) {
            v[M_F_READ] = rd[c];
            v[M_F_WRITE] = wr[c];
            v[M_F_OPS] = ops[c];
            v[M_F_PER_OP] = ratio(rd[c] + wr[c], ops[c]);
        }
    }
    free(by_code);
    rc = 0;
out:
    free(rd);
    free(wr);
    free(ops);
    free(seen);
    free(ma);
    free(mn);
    free(ml);
    free(mg);
    return rc;
}

static int build_lines(const omni_session_t *s, const omni_sample_totals_t *st,
                       omni_entities_t *x) {
    for (size_t i = 0; i < st->n_lines; i++) {
        const omni_line_total_t *l = &st->lines[i];
        omni_entity_t *e = add_entity(x, OMNI_LEVEL_LINE);
        if (!e)
            return -1;
        set_code(e, s, l->code);
        e->line = l->line;
        e->v[M_L_SAMPLES] = (double)l->samples;
        e->v[M_L_SHARE] = ratio((double)l->samples, (double)st->total);
        e->v[M_L_CPU] = ratio((double)l->cpu, (double)l->samples);
    }
    return 0;
}

static int build_threads(const omni_session_t *s, omni_entities_t *x) {
    for (size_t i = 0; i < s->n_threads; i++) {
        const omni_sthread_t *t = &s->threads[i];
        omni_entity_t *e = add_entity(x, OMNI_LEVEL_THREAD);
        if (!e)
            return -1;
        char name[160];
        snprintf(name, sizeof name, "%s", t->name ? t->name : "?");
        e->thread = strdup(name);
        e->pid = t->pid;
        if (x->have & OMNI_NEEDS_SAMPLES) {
            e->v[M_T_SAMPLES] = (double)t->samples;
            e->v[M_T_CPU] = ratio((double)t->cpu_samples, (double)t->samples);
            e->v[M_T_GIL] = ratio((double)t->gil_samples, (double)t->samples);
        }
        if (x->have & OMNI_NEEDS_PROFILE)
            e->v[M_T_CPU_S] = t->cpu_s;
    }
    return 0;
}

/* The heaviest call path: from the outermost frames, the heaviest function
 * among the callees of the path so far, while it keeps at least half of all
 * samples. A function's frames are taken together whatever line they were
 * at and whichever thread ran them (the sampler's tree has a node per line
 * and per thread). The path ends where the import system begins. */
static void hot_path(const omni_session_t *s, omni_entity_t *e, uint64_t total) {
    size_t n = s->n_snodes;
    double *incl = calloc(n + 1, sizeof *incl), *by_code = calloc(s->n_codes + 1, sizeof *by_code);
    char *on = calloc(n + 1, 1), *next = calloc(n + 1, 1);
    if (!incl || !by_code || !on || !next || !total)
        goto out;
    for (size_t i = 0; i < s->n_sstacks; i++)
        for (int64_t k = s->sstacks[i].node; k >= 0; k = s->snodes[k].parent)
            incl[k] += (double)s->sstacks[i].samples;
    int depth = 0;
    int64_t last = -1; /* the heaviest node of the path's last function */
    double share = 0;
    char path[1024] = "";
    size_t used = 0;
    for (;;) {
        /* the callees of the path so far (the outermost frames at first) */
        size_t nc = s->n_codes;
        memset(by_code, 0, (nc + 1) * sizeof *by_code);
        int any = 0;
        for (size_t i = 0; i < n; i++) {
            int64_t par = s->snodes[i].parent;
            next[i] = depth == 0 ? par < 0 : par >= 0 && on[par];
            if (!next[i])
                continue;
            int64_t c = s->snodes[i].code;
            by_code[c >= 0 && (size_t)c < nc ? (size_t)c : nc] += incl[i];
            any = 1;
        }
        size_t best = nc;
        for (size_t c = 0; any && c < nc; c++)
            if (by_code[c] > by_code[best] || (best == nc && by_code[c] > 0))
                best = c;
        /* the import system's frames end the path: a run that mostly
         * imports is slow_imports' to tell, and its hot frame is no place
         * to change anything */
        const char *file = best < nc ? s->codes[best].file : NULL;
        if (!any || best == nc || by_code[best] < 0.5 * (double)total ||
            (file && strncmp(file, "<frozen importlib.", 18) == 0))
            break;
        last = -1;
        for (size_t i = 0; i < n; i++) {
            on[i] = next[i] && s->snodes[i].code == (int64_t)best;
            if (on[i] && (last < 0 || incl[i] > incl[last]))
                last = (int64_t)i;
        }
        depth++;
        share = by_code[best] / (double)total;
        const char *name = s->codes[best].name ? s->codes[best].name : "?";
        if (used < sizeof path)
            used += (size_t)snprintf(path + used, sizeof path - used, "%s%s", depth > 1 ? " > " : "",
                                     name);
    }
    e->v[M_HOT_DEPTH] = depth;
    e->v[M_HOT_SHARE] = share;
    if (last >= 0) {
        set_code(e, s, s->snodes[last].code);
        e->line = s->snodes[last].line;
        e->detail = strdup(path);
    }
out:
    free(incl);
    free(by_code);
    free(on);
    free(next);
}

/* Whether code (a sample's innermost frame) is where a service waits for
 * work: the standard library's selectors (asyncio's loop, socketserver's
 * serve_forever), socket.accept, concurrent.futures' idle worker. */
static int waits_for_work(const omni_session_t *s, int64_t code) {
    if (code < 0 || (size_t)code >= s->n_codes || !s->codes[code].file || !s->codes[code].name)
        return 0;
    const char *file = s->codes[code].file, *name = s->codes[code].name;
    static const struct {
        const char *file, *name; /* file's tail; name, or its tail after a '.' when it starts so */
    } idle[] = {{"/selectors.py", ".select"},
                {"/socket.py", "socket.accept"},
                {"/concurrent/futures/thread.py", "_worker"}};
    size_t fl = strlen(file), nl = strlen(name);
    for (size_t i = 0; i < sizeof idle / sizeof idle[0]; i++) {
        size_t a = strlen(idle[i].file), b = strlen(idle[i].name);
        if (fl < a || strcmp(file + fl - a, idle[i].file) != 0)
            continue;
        if (idle[i].name[0] == '.' ? nl >= b && strcmp(name + nl - b, idle[i].name) == 0
                                   : strcmp(name, idle[i].name) == 0)
            return 1;
    }
    return 0;
}

static void sampler_process_metrics(const omni_session_t *s, const omni_sample_totals_t *st,
                                    double *v) {
    double idle = 0;
    for (size_t i = 0; i < s->n_sstacks; i++) {
        const omni_sstack_t *x = &s->sstacks[i];
        if (x->pid == s->pid && x->samples > x->cpu && waits_for_work(s, s->snodes[x->node].code))
            idle += (double)(x->samples - x->cpu);
    }
    v[M_IDLE_SHARE] = ratio(idle, (double)st->total);
    double ticks = (double)s->samples_taken, gil = 0;
    int gil_threads = 0, sharing = 0;
    for (size_t i = 0; i < s->n_threads; i++) {
        const omni_sthread_t *t = &s->threads[i];
        if (t->pid != s->pid)
            continue;
        gil += (double)t->gil_samples;
        int held = ticks > 0 && (double)t->gil_samples >= 0.1 * ticks;
        gil_threads += held;
        sharing += held && (double)t->gil_samples < 0.8 * (double)t->samples;
    }
    v[M_GIL_SHARING] = sharing;
    v[M_P_SAMPLES] = (double)st->total;
    v[M_TICKS] = ticks;
    v[M_P_CPU_SHARE] = ratio((double)st->cpu, (double)st->total);
    v[M_GIL_HELD] = ratio(gil, ticks);
    v[M_GIL_THREADS] = gil_threads;
}

/* The target's reads and writes (terminals left out: a person reads them). */
static void io_process_metrics(const omni_session_t *s, double *v) {
    double r = 0, w = 0, bytes = 0, small = 0;
    for (size_t k = 0; k < s->n_io_kinds; k++) {
        const omni_siokind_t *io = &s->io_kinds[k];
        if (strcmp(io->name, "tty") == 0)
            continue;
        r += (double)io->read_ops;
        w += (double)io->write_ops;
        bytes += (double)(io->read_bytes + io->write_bytes);
        /* bucket b holds sizes in [2^(b-1), 2^b): below 512 is buckets 0..9 */
        for (int d = 0; d < 2; d++)
            for (int b = 0; b <= 9; b++)
                small += (double)io->sizes[d][b];
    }
    v[M_READ_OPS] = r;
    v[M_WRITE_OPS] = w;
    v[M_IO_BYTES] = bytes;
    v[M_SMALL] = small;
    v[M_SMALL_SHARE] = ratio(small, r + w);
}

/* Threads that used at least a tenth of the process's CPU time, and the
 * time they spent in Python code by the frame hook's clock: far above the
 * CPU time they used while the process keeps about one core busy, they
 * took turns on the GIL. */
static void busy_threads(const omni_session_t *s, int timed, double *v) {
    double cpu = s->cpu_user_s + s->cpu_sys_s, n = 0, py = 0;
    for (size_t i = 0; i < s->n_threads; i++) {
        const omni_sthread_t *t = &s->threads[i];
        if (t->pid != s->pid || !(cpu > 0) || t->cpu_s < 0.1 * cpu)
            continue;
        n++;
        for (size_t k = 0; k < t->n_funcs; k++)
            py += t->funcs[k].exclusive_s;
    }
    v[M_BUSY_THREADS] = n;
    if (timed)
        v[M_BUSY_PY] = py;
}

/* The resident set over the run, from the monitor's samples of the main
 * process: a least-squares line through them, how well it fits, and how
 * much of the rise was still held at the end. The rows taken while the
 * interpreter tore down (its memory given back) are not the program's: left
 * out (a session without that column: a finished run's last row). */
static void rss_trend(const omni_session_t *s, double *v) {
    const omni_series_t *p = omni_session_series(s, "process");
    int tc = p ? omni_series_col(p, "t_ns") : -1, rc = p ? omni_series_col(p, "rss_bytes") : -1;
    int fc = p ? omni_series_col(p, "finalizing") : -1;
    size_t n = p && tc >= 0 && rc >= 0 ? p->n_rows : 0;
    if (n && s->has_footer && fc < 0)
        n--;
    while (n && fc >= 0 && omni_series_at(p, n - 1, fc) == 1)
        n--;
    double st = 0, sr = 0, stt = 0, str = 0, srr = 0, first = NAN, last = NAN, top = NAN;
    size_t k = 0;
    for (size_t r = 0; r < n; r++) {
        double t = omni_series_at(p, r, tc) / 1e9, m = omni_series_at(p, r, rc);
        if (isnan(t) || isnan(m))
            continue;
        if (isnan(first))
            first = m;
        last = m;
        top = isnan(top) ? m : fmax(top, m);
        st += t, sr += m, stt += t * t, str += t * m, srr += m * m, k++;
    }
    v[M_TL_ROWS] = (double)k;
    if (k < 4)
        return; /* three points make no trend */
    double kk = (double)k, vt = kk * stt - st * st, vr = kk * srr - sr * sr,
           cov = kk * str - st * sr;
    v[M_RSS_GROWTH] = last - first;
    v[M_RSS_SLOPE] = vt > 0 ? cov / vt : NAN;
    v[M_RSS_R2] = vt > 0 && vr > 0 ? cov * cov / (vt * vr) : NAN;
    v[M_RSS_HELD] = ratio(last - first, top - first);
}

static double counter_total(const omni_timeline_summary_t *tl, const char *name) {
    for (int i = 0; i < tl->n_events; i++)
        if (strcmp(tl->event[i], name) == 0)
            return tl->event_total[i];
    return NAN;
}

static int build_process(const omni_session_t *s, const omni_sample_totals_t *st,
                         const omni_timeline_summary_t *tl, const omni_runs_t *runs,
                         omni_entities_t *x) {
    omni_entity_t *e = add_entity(x, OMNI_LEVEL_PROCESS);
    if (!e)
        return -1;
    e->pid = s->pid;
    double *v = e->v;
    if (x->have & OMNI_NEEDS_FOOTER) {
        v[M_WALL] = s->wall_s;
        v[M_CPU] = s->cpu_user_s + s->cpu_sys_s;
        v[M_CPU_SHARE] = ratio(v[M_CPU], s->wall_s);
        v[M_PEAK_RSS] = (double)s->peak_rss_bytes;
    }
    if (x->have & OMNI_NEEDS_SAMPLES) {
        sampler_process_metrics(s, st, v);
        hot_path(s, e, st->total);
    }
    if (x->have & OMNI_NEEDS_EVENTS) {
        double imp = 0, procs = 0, opens = 0;
        for (size_t i = 0; i < s->n_events; i++) {
            const omni_sevent_t *r = &s->events[i];
            if (strcmp(r->event, "import") == 0 && strcmp(r->detail, "outermost") == 0)
                imp += r->seconds;
            else if (strcmp(r->event, "process") == 0)
                procs += (double)r->count;
            else if (strcmp(r->event, "open") == 0) {
                omni_etotal_ev_t t = {.detail = r->detail};
                if (!omni_events_is_interpreter(&t))
                    opens += (double)r->count;
            }
        }
        v[M_IMPORT] = imp;
        v[M_IMPORT_SHARE] = ratio(imp, s->wall_s);
        v[M_PROCS] = procs;
        v[M_PROCS_PER_S] = ratio(procs, s->wall_s);
        v[M_OPENS] = opens;
    }
    if (x->have & OMNI_NEEDS_IO)
        io_process_metrics(s, v);
    if (x->have & OMNI_NEEDS_PROFILE) {
        double depth = 0;
        for (size_t i = 0; i < s->n_threads; i++)
            depth = fmax(depth, (double)s->threads[i].max_depth);
        v[M_MAX_DEPTH] = depth;
        if (x->have & OMNI_NEEDS_FOOTER)
            busy_threads(s, x->have & OMNI_NEEDS_TIMES, v);
    }
    if (x->have & OMNI_NEEDS_TIMELINE)
        rss_trend(s, v);
    if (x->have & OMNI_NEEDS_MEMORY) {
        double w = s->mem_exit_s > 0 ? s->mem_exit_s : s->mem_wall_s;
        v[M_PEAK_LIVE] = (double)s->mem_peak_bytes;
        v[M_P_APS] = ratio((double)s->mem_allocations, w);
    }
    if (runs) {
        v[M_P_RUNS] = runs->runs;
        v[M_WALL_CV] = ratio(runs->wall_sd, runs->wall_mean);
    }
    if (x->have & OMNI_NEEDS_COUNTERS) {
        v[M_IPC] = tl->ipc;
        v[M_LLC] = ratio(counter_total(tl, "llc_misses") * 1000, counter_total(tl, "instructions"));
    }
    if (x->have & OMNI_NEEDS_GPU) {
        double mean = 0, mx = 0, mem = 0;
        for (int g = 0; g < tl->n_gpus; g++) {
            mean = fmax(mean, tl->gpu_util_mean[g]);
            mx = fmax(mx, tl->gpu_util_max[g]);
            mem = fmax(mem, tl->gpu_proc_mem_max[g]);
        }
        v[M_GPU_MEAN] = mean;
        v[M_GPU_MAX] = mx;
        v[M_GPU_PROC] = mem;
    }
    return 0;
}

static int by_what(const void *a, const void *b) {
    const omni_etotal_ev_t *x = a, *y = b;
    int c = strcmp(x->what, y->what);
    if (c)
        return c;
    return x->count < y->count ? 1 : x->count > y->count ? -1 : 0;
}

/* Paths the program opened, with where it opened each most. */
static int build_files(const omni_session_t *s, omni_entities_t *x) {
    omni_events_t ev;
    if (omni_events_build(s, "open", &ev) < 0)
        return -1;
    qsort(ev.rows, ev.n, sizeof *ev.rows, by_what);
    int rc = 0;
    for (size_t i = 0; i < ev.n && rc == 0;) {
        size_t j = i;
        double opens = 0;
        const omni_etotal_ev_t *most = NULL;
        for (; j < ev.n && strcmp(ev.rows[j].what, ev.rows[i].what) == 0; j++) {
            if (omni_events_is_interpreter(&ev.rows[j]))
                continue;
            opens += (double)ev.rows[j].count;
            if (!most || ev.rows[j].count > most->count)
                most = &ev.rows[j];
        }
        if (most) {
            omni_entity_t *e = add_entity(x, OMNI_LEVEL_FILE);
            if (!e) {
                rc = -1;
                break;
            }
            e->path = strdup(most->what);
            if (most->code >= 0 && (size_t)most->code < s->n_codes) {
                set_code(e, s, most->code);
                e->line = s->codes[most->code].line;
            }
            e->v[M_FI_OPENS] = opens;
            e->v[M_FI_OPENS_PER_S] = ratio(opens, s->wall_s);
        }
        i = j;
    }
    omni_events_free(&ev);
    return rc;
}

int omni_entities_build(const omni_model_t *m, omni_entities_t *out) {
    const omni_session_t *s = m->s;
    memset(out, 0, sizeof *out);
    find_needs(s, &m->timeline, out);
    const omni_runs_t *rp = out->have & OMNI_NEEDS_REPEATS ? &m->runs : NULL;
    int rc = build_functions(m, rp, out);
    if (rc == 0 && (out->have & OMNI_NEEDS_SAMPLES))
        rc = build_lines(s, &m->samples, out);
    if (rc == 0)
        rc = build_threads(s, out);
    if (rc == 0)
        rc = build_process(s, &m->samples, &m->timeline, rp, out);
    if (rc == 0 && (out->have & OMNI_NEEDS_EVENTS))
        rc = build_files(s, out);
    if (rc < 0)
        omni_entities_free(out);
    return rc;
}

void omni_entities_free(omni_entities_t *x) {
    for (size_t i = 0; i < x->n; i++) {
        omni_entity_t *e = &x->e[i];
        free(e->file);
        free(e->function);
        free(e->path);
        free(e->thread);
        free(e->detail);
        free(e->v);
    }
    free(x->e);
    memset(x, 0, sizeof *x);
}

void omni_entity_where(const omni_entity_t *e, int at_code, char *buf, size_t cap) {
    switch (e->level) {
    case OMNI_LEVEL_THREAD:
        snprintf(buf, cap, "thread %s (pid %lld)", e->thread ? e->thread : "?", (long long)e->pid);
        break;
    case OMNI_LEVEL_PROCESS:
        if (e->file && at_code)
            snprintf(buf, cap, "process %lld, at %s:%s:%lld", (long long)e->pid, e->file,
                     e->function ? e->function : "?", (long long)e->line);
        else
            snprintf(buf, cap, "process %lld", (long long)e->pid);
        break;
    case OMNI_LEVEL_FILE:
        snprintf(buf, cap, "%s", e->path ? e->path : "?");
        break;
    default:
        snprintf(buf, cap, "%s:%s:%lld", e->file ? e->file : "?",
                 e->function ? e->function : "?", (long long)e->line);
    }
}
