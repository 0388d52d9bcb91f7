/* explain.c - the prompt bundle of --explain: what a language model needs to
 * explain a run's findings (and nothing it would have to guess): the
 * instructions, the run, the findings with their evidence, the patterns'
 * texts, and the source around the hot spots; and the answer of the
 * endpoint it is sent to, appended to report.md. */
#include "patterns/report/explain_client.h"
#include "patterns/report/json_out.h"
#include "patterns/match.h"
#include "patterns/report/report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define HOT_SPOTS 8
#define CONTEXT_LINES 3

const char omni_explain_instructions[] =
    "You are helping a Python developer understand a profile of their program, made by "
    "omnipython. Explain the findings below in plain language, most important first, and "
    "say what to change. Rules: cite the evidence (the measured values and thresholds) for "
    "every claim; state your uncertainty, and the finding's confidence; do not guess data "
    "that is missing (patterns_skipped lists what was not measured, and why); do not promise "
    "speed-ups or savings - say how to verify a change instead (each finding's verify); refer "
    "to code by file and line as given. If there are no findings, say so and describe what "
    "the run did.";

static void source_context(omni_json_t *j, const char *file, int64_t line) {
    omni_json_key(j, "source");
    omni_json_begin_array(j);
    for (int64_t k = line - CONTEXT_LINES; k <= line + CONTEXT_LINES; k++) {
        char buf[400];
        if (k < 1 || !*omni_source_line(file, k, buf, sizeof buf))
            continue;
        char row[480];
        snprintf(row, sizeof row, "%lld%s %s", (long long)k, k == line ? ">" : ":", buf);
        omni_json_str(j, row);
    }
    omni_json_end_array(j);
}

int omni_explain_bundle(const omni_model_t *m, const char *session_path,
                        const struct omni_findings *fs, FILE *f) {
    const omni_session_t *s = m->s;
    const omni_sample_totals_t *st = &m->samples;
    omni_json_t j;
    omni_json_init(&j, f);
    omni_json_begin_object(&j);
    omni_json_kv_str(&j, "schema", "omnipython-explain");
    omni_json_kv_str(&j, "instructions", omni_explain_instructions);
    omni_json_key(&j, "run");
    omni_json_begin_object(&j);
    omni_json_kv_str(&j, "session", session_path);
    omni_json_kv_str(&j, "target", s->target);
    omni_json_kv_str(&j, "python_version", s->python_version);
    omni_json_kv_num(&j, "wall_s", s->has_footer ? s->wall_s : -1);
    omni_json_kv_num(&j, "cpu_s", s->has_footer ? s->cpu_user_s + s->cpu_sys_s : -1);
    omni_json_kv_uint(&j, "peak_rss_bytes", s->peak_rss_bytes);
    omni_json_kv_int(&j, "exit_status", s->exit_status);
    omni_json_kv_str(&j, "machine", s->cpu_model);
    omni_json_kv_uint(&j, "logical_cpus", s->logical_cpus);
    omni_json_end_object(&j);
    omni_findings_json(&j, fs);
    /* the patterns' own words, once each */
    omni_json_key(&j, "patterns");
    omni_json_begin_array(&j);
    for (size_t i = 0; fs && i < fs->n; i++) {
        int seen = 0;
        for (size_t k = 0; k < i && !seen; k++)
            seen = fs->f[k].pattern == fs->f[i].pattern;
        if (seen)
            continue;
        const omni_pattern_t *p = fs->f[i].pattern;
        omni_json_begin_object(&j);
        omni_json_kv_str(&j, "id", p->id);
        omni_json_kv_str(&j, "condition", fs->f[i].when->cond.src);
        omni_json_kv_str(&j, "description", p->description);
        omni_json_end_object(&j);
    }
    omni_json_end_array(&j);
    /* where the samples were, with the code around each line */
    omni_json_key(&j, "hot_spots");
    omni_json_begin_array(&j);
    for (size_t i = 0; i < st->n_lines && i < HOT_SPOTS; i++) {
        const omni_line_total_t *l = &st->lines[i];
        const omni_scode_t *c = &s->codes[l->code];
        omni_json_begin_object(&j);
        omni_json_kv_str(&j, "file", c->file);
        omni_json_kv_str(&j, "function", c->name);
        omni_json_kv_int(&j, "line", l->line);
        omni_json_kv_num(&j, "share_of_samples",
            st->total ? (double)l->samples / (double)st->total : 0);
        omni_json_kv_num(&j, "share_on_cpu", l->samples ? (double)l->cpu / (double)l->samples : 0);
        source_context(&j, c->file, l->line);
        omni_json_end_object(&j);
    }
    omni_json_end_array(&j);
    omni_json_end_object(&j);
    fputc('\n', f);
    return ferror(f) ? -1 : 0;
}

/* The bundle written to bundle_path, sent when an endpoint is set. Returns
 * the answer (free it) or NULL; note says what happened. */
static char *ask(const omni_model_t *am, const char *session_path, const omni_findings_t *fs,
                 const char *bundle_path, char *note, size_t cap, int *failed) {
    *failed = 0;
    char *bundle = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&bundle, &len);
    int rc = m ? omni_explain_bundle(am, session_path, fs, m) : -1;
    if (m && fclose(m) != 0)
        rc = -1;
    errno = 0;
    FILE *f = rc == 0 ? fopen(bundle_path, "w") : NULL;
    if (!f || fwrite(bundle, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "omnipython: cannot write %s%s%s\n", bundle_path, errno ? ": " : "",
                errno ? strerror(errno) : "");
        free(bundle);
        *failed = 1;
        return NULL;
    }
    char *answer = NULL, model[128], err[512];
    int asked = omni_explain_ask(bundle, &answer, model, sizeof model, err, sizeof err);
    free(bundle);
    if (asked == 1) {
        fprintf(stderr, "omnipython: wrote the prompt bundle %s; no endpoint is set "
                        "(OPENAI_BASE_URL), so nothing was sent\n", bundle_path);
        return NULL;
    }
    if (asked < 0) {
        fprintf(stderr, "omnipython: --explain: %s\n", err);
        snprintf(note, cap, "No explanation: %s.", err);
        return NULL;
    }
    snprintf(note, cap, "Written by the model %s at %s from the prompt bundle %s. It is not a "
                        "measurement: check each claim against the evidence above.",
             model, getenv("OPENAI_BASE_URL"), bundle_path);
    return answer;
}

int omni_explain_md(const omni_model_t *m, const char *session_path,
                    const struct omni_findings *findings, const char *bundle_path, FILE *md) {
    char note[1024] = "";
    int failed = 0;
    char *answer = ask(m, session_path, findings, bundle_path, note, sizeof note, &failed);
    if (note[0])
        fprintf(md, "\n## Explanation by a language model\n\n> %s\n%s%s", note,
                answer ? "\n" : "", answer ? answer : "");
    if (answer && answer[0] && answer[strlen(answer) - 1] != '\n')
        fputc('\n', md);
    free(answer);
    return failed ? -1 : 0;
}
