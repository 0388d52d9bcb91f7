/* report.c - the reports by format (--report SESSION --format FMT). */
#include "patterns/report/report.h"

#include <string.h>

static int text(const omni_model_t *m, const omni_report_args_t *a, FILE *f) {
    return omni_report_text(m, a->session_path, a->findings, f, a->color);
}

static int json(const omni_model_t *m, const omni_report_args_t *a, FILE *f) {
    return omni_report_json(m, a->session_path, a->findings, f);
}

/* report.md, and with --explain the bundle, the endpoint's answer after it */
static int md(const omni_model_t *m, const omni_report_args_t *a, FILE *f) {
    int rc = omni_report_md(m, a->session_path, a->findings, f);
    if (a->explain && omni_explain_md(m, a->session_path, a->findings, a->explain, f) < 0)
        rc = -1;
    return rc;
}

static int html(const omni_model_t *m, const omni_report_args_t *a, FILE *f) {
    return omni_report_html(m, a->session_path, a->findings, f);
}

omni_report_fn omni_report_find(const char *format) {
    static const struct {
        const char *format;
        omni_report_fn fn;
    } all[] = {{"text", text}, {"json", json}, {"md", md}, {"html", html}};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (strcmp(all[i].format, format) == 0)
            return all[i].fn;
    return NULL;
}
