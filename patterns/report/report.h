/* report.h - the printed forms of a session's analysis: the text, markdown,
 * JSON and HTML reports, the findings' printers, the explanation bundle and
 * the pieces the human reports share. Reports read only the session model. */
#ifndef OMNI_REPORT_H
#define OMNI_REPORT_H

#include <stdio.h>

#include "patterns/model/model.h"

/* The machine's facts (a session's machine record, or --hw's) as text; bench
 * may be NULL. Returns 0 or -1 on a write error. */
int omni_hw_text(const msgpack_object *facts, const msgpack_object *bench, FILE *f);

/* ---------------------------------------------------------------- the human reports' pieces */

/* The source text of line n of file, trimmed, into buf ("" when unreadable). */
const char *omni_source_line(const char *file, int64_t n, char *buf, size_t cap);
/* "12.3 MiB" */
const char *omni_fmt_bytes(double b, char *buf, size_t cap);
/* A metric's value in its unit (the catalog's: bytes, s, fraction, %, or a
 * count's noun): "1.2 MiB", "450 us", "63%", "2,000,000 calls"; "n/a" for NaN. */
const char *omni_fmt_value(double v, const char *unit, char *buf, size_t cap);

/* ---------------------------------------------------------------- the reports */

struct omni_findings;

/* The text report; color = 1 for ANSI colours; findings may be NULL.
 * Returns 0 or -1 on a write error. */
int omni_report_text(const omni_model_t *m, const char *session_path,
                     const struct omni_findings *findings, FILE *f, int color);

/* The JSON report (the public contract in README.md); findings may be NULL
 * (an empty list). Returns 0 or -1. */
int omni_report_json(const omni_model_t *m, const char *session_path,
                     const struct omni_findings *findings, FILE *f);

/* report.md: what the run did, its bottlenecks, the findings with their
 * evidence and suggestions, and how to verify a change. Returns 0 or -1. */
int omni_report_md(const omni_model_t *m, const char *session_path,
                   const struct omni_findings *findings, FILE *f);

/* report.html: one self-contained page (no network) with the findings, a
 * flame graph of the samples, timeline charts and the tables. Returns 0 or -1. */
int omni_report_html(const omni_model_t *m, const char *session_path,
                     const struct omni_findings *findings, FILE *f);

/* A page from an HTML template: its data (JSON) put where the template says
 the OMNI_DATA comment marker, made safe inside a script element. Returns 0 or -1. */
int omni_html_fill(FILE *f, const char *tpl, const char *data, size_t len);

/* --explain: the prompt bundle (JSON: instructions, the run, the findings,
 * the matched patterns' texts, the hot spots with their source). Returns 0
 * or -1. */
int omni_explain_bundle(const omni_model_t *m, const char *session_path,
                        const struct omni_findings *findings, FILE *f);
extern const char omni_explain_instructions[];
/* --explain FILE with the md report: the bundle written to bundle_path, sent
 * to the endpoint when one is set (explain_client.h), and the answer, or why
 * there is none, appended to md under "Explanation by a language model".
 * Returns 0, or -1 when the bundle could not be written. */
int omni_explain_md(const omni_model_t *m, const char *session_path,
                    const struct omni_findings *findings, const char *bundle_path, FILE *md);

/* The findings as a JSON array under key "findings", and the patterns not
 * tried under "patterns_skipped". */
struct omni_json;
void omni_findings_json(struct omni_json *j, const struct omni_findings *findings);
/* The findings as text (markdown = 0) or markdown; returns how many. */
size_t omni_findings_print(FILE *f, const omni_session_t *s, const struct omni_findings *findings,
                           int markdown);
/* The weak signals, under a heading of their own when there are any;
 * returns how many. */
size_t omni_weak_signals_print(FILE *f, const omni_session_t *s,
                               const struct omni_findings *findings, int markdown);

/* ---------------------------------------------------------------- by format */

/* What a report is made with besides the analysis. */
typedef struct omni_report_args {
    const char *session_path;             /* as the user named it */
    const struct omni_findings *findings; /* may be NULL (matching failed) */
    int color;                            /* text: ANSI colours */
    const char *explain;                  /* md: --explain BUNDLE, or NULL */
} omni_report_args_t;

/* Writes one report to f. Returns 0 or -1 (a write error). */
typedef int (*omni_report_fn)(const omni_model_t *m, const omni_report_args_t *a, FILE *f);
/* The report of format (text, json, md, html), or NULL. */
omni_report_fn omni_report_find(const char *format);

#endif
