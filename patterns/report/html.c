/* html.c - the HTML report: the template (patterns/report/report.html,
 * compiled in) with the JSON report and the sampler's tree inlined; the
 * page's own script draws the rest. No network, one file. */
#include "patterns/report/json_out.h"
#include "patterns/kb.h"
#include "patterns/report/report.h"

#include <stdlib.h>
#include <string.h>

extern const omni_embedded_file_t omni_html_template[];
extern const int omni_n_html_template;

#define MARK "/*OMNI_DATA*/"

/* The flame graph's data: names, files and first lines by code id (one more
 * for frames of unknown code), and the tree's nodes as [parent, code, line,
 * samples with the node innermost]; the page merges a function's lines. */
static void flame_json(omni_json_t *j, const omni_session_t *s) {
    omni_json_begin_object(j);
    omni_json_key(j, "names");
    omni_json_begin_array(j);
    for (size_t i = 0; i < s->n_codes; i++)
        omni_json_str(j, s->codes[i].name ? s->codes[i].name : "?");
    omni_json_str(j, "?");
    omni_json_end_array(j);
    omni_json_key(j, "files");
    omni_json_begin_array(j);
    for (size_t i = 0; i < s->n_codes; i++)
        omni_json_str(j, s->codes[i].file ? s->codes[i].file : "?");
    omni_json_str(j, "?");
    omni_json_end_array(j);
    omni_json_key(j, "lines");
    omni_json_begin_array(j);
    for (size_t i = 0; i < s->n_codes; i++)
        omni_json_int(j, s->codes[i].line);
    omni_json_int(j, 0);
    omni_json_end_array(j);
    uint64_t *self = calloc(s->n_snodes + 1, sizeof *self);
    for (size_t i = 0; self && i < s->n_sstacks; i++)
        self[s->sstacks[i].node] += s->sstacks[i].samples;
    omni_json_key(j, "nodes");
    omni_json_begin_array(j);
    for (size_t i = 0; self && i < s->n_snodes; i++) {
        const omni_snode_t *n = &s->snodes[i];
        omni_json_begin_array(j);
        omni_json_int(j, n->parent);
        omni_json_int(j, n->code >= 0 && (size_t)n->code < s->n_codes ? n->code : (int64_t)s->n_codes);
        omni_json_int(j, n->line);
        omni_json_uint(j, self[i]);
        omni_json_end_array(j);
    }
    omni_json_end_array(j);
    omni_json_end_object(j);
    free(self);
}

/* Copies data into the page's script element: "</" would end it. */
static void write_escaped(FILE *f, const char *data, size_t len) {
    for (size_t i = 0; i < len; i++) {
        if (data[i] == '<' && i + 1 < len && data[i + 1] == '/') {
            fputs("<\\/", f);
            i++;
        } else {
            fputc(data[i], f);
        }
    }
}

int omni_html_fill(FILE *f, const char *tpl, const char *data, size_t len) {
    const char *mark = strstr(tpl, MARK);
    if (!mark)
        return -1;
    fwrite(tpl, 1, (size_t)(mark - tpl), f);
    write_escaped(f, data, len);
    fputs(mark + strlen(MARK), f);
    return ferror(f) ? -1 : 0;
}

int omni_report_html(const omni_model_t *model, const char *session_path,
                     const struct omni_findings *findings, FILE *f) {
    if (omni_n_html_template < 1)
        return -1;
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (!m)
        return -1;
    fputs("{\"report\":", m);
    int rc = omni_report_json(model, session_path, findings, m);
    fputs(",\"flame\":", m);
    omni_json_t j;
    omni_json_init(&j, m);
    flame_json(&j, model->s);
    fputc('}', m);
    if (fclose(m) != 0 || rc < 0 || !buf) {
        free(buf);
        return -1;
    }
    rc = omni_html_fill(f, omni_html_template[0].text, buf, len);
    free(buf);
    return rc;
}
