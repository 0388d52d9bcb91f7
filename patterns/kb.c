/* kb.c - loads and checks pattern files (libyaml's document API). */
#include "patterns/kb.h"
#include "runtime/grow.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define MAX_FILE_BYTES (4 << 20)

typedef struct loader {
    yaml_document_t *doc;
    const char *name;      /* the file, for messages */
    const char *text;
    char *err;
    size_t errcap;
} loader_t;

/* "name:line:column: message" at a mark (libyaml's are 0-based). */
static int fail_at(loader_t *ld, yaml_mark_t m, const char *fmt, ...) {
    int n = snprintf(ld->err, ld->errcap, "%s:%zu:%zu: ", ld->name, m.line + 1, m.column + 1);
    if (n < 0 || (size_t)n >= ld->errcap)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ld->err + n, ld->errcap - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

static yaml_node_t *node(loader_t *ld, int i) {
    return yaml_document_get_node(ld->doc, i);
}

static const char *scalar(yaml_node_t *n) {
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* A mapping's key given twice is an error (YAML leaves it to the reader). */
static int check_unique_keys(loader_t *ld, yaml_node_t *n) {
    for (yaml_node_pair_t *a = n->data.mapping.pairs.start; a < n->data.mapping.pairs.top; a++)
        for (yaml_node_pair_t *b = n->data.mapping.pairs.start; b < a; b++) {
            const char *ka = scalar(node(ld, a->key)), *kb = scalar(node(ld, b->key));
            if (ka && kb && strcmp(ka, kb) == 0)
                return fail_at(ld, node(ld, a->key)->start_mark, "key '%s' given twice", ka);
        }
    return 0;
}

static int want_string(loader_t *ld, yaml_node_t *n, const char *key, char **out) {
    const char *s = scalar(n);
    if (!s || !*s)
        return fail_at(ld, n->start_mark, "'%s' must be a non-empty string", key);
    if (!(*out = strdup(s)))
        return fail_at(ld, n->start_mark, "out of memory");
    return 0;
}

static int want_number(loader_t *ld, yaml_node_t *n, const char *key, double *out) {
    const char *s = scalar(n);
    char *end;
    errno = 0;
    double v = s ? strtod(s, &end) : NAN;
    if (!s || end == s || *end || errno || !isfinite(v))
        return fail_at(ld, n->start_mark, "'%s' must be a number", key);
    *out = v;
    return 0;
}

/* The place in the file of offset at in a scalar's text: exact for a scalar
 * on one line; a block scalar's lines are found in the file's text. */
static yaml_mark_t mark_in_scalar(loader_t *ld, yaml_node_t *n, int at) {
    yaml_mark_t m = n->start_mark;
    yaml_scalar_style_t st = n->data.scalar.style;
    if (st == YAML_LITERAL_SCALAR_STYLE || st == YAML_FOLDED_SCALAR_STYLE) {
        /* content starts on the line after the indicator, indented */
        const char *v = (const char *)n->data.scalar.value;
        size_t line = m.line + 1, col = 0;
        for (int i = 0; i < at && v[i]; i++)
            if (v[i] == '\n')
                line++, col = 0;
            else
                col++;
        /* the indentation of that line of the file */
        const char *p = ld->text;
        for (size_t l = 0; p && l < line; l++)
            p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL;
        size_t indent = 0;
        while (p && p[indent] == ' ')
            indent++;
        m.line = line;
        m.column = indent + col;
        return m;
    }
    if (n->end_mark.line != m.line)
        return m; /* a plain or quoted scalar over several lines: its start */
    m.column += (size_t)at + (st == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
                              st == YAML_DOUBLE_QUOTED_SCALAR_STYLE);
    return m;
}

typedef struct resolve_ctx {
    omni_level_t level;
    unsigned needs;
} resolve_ctx_t;

static int resolve(const char *name, size_t len, void *ctx) {
    resolve_ctx_t *r = ctx;
    int m = omni_metric_find(r->level, name, len);
    if (m >= 0)
        r->needs |= omni_metrics[m].needs;
    return m;
}

/* The names a level has, for a message about an unknown one. */
static void level_names(omni_level_t level, char *out, size_t cap) {
    size_t used = 0;
    out[0] = 0;
    for (int i = 0; i < omni_n_metrics && used < cap; i++)
        if (omni_metrics[i].level == level)
            used += (size_t)snprintf(out + used, cap - used, "%s%s", used ? ", " : "",
                                     omni_metrics[i].name);
}

static int load_condition(loader_t *ld, yaml_node_t *n, omni_when_t *w) {
    const char *s = scalar(n);
    if (!s || !*s)
        return fail_at(ld, n->start_mark, "'condition' must be a non-empty string");
    resolve_ctx_t rc = {w->level, 0};
    char msg[256];
    int at = 0;
    if (omni_expr_parse(&w->cond, s, resolve, &rc, msg, sizeof msg, &at) < 0) {
        yaml_mark_t m = mark_in_scalar(ld, n, at);
        if (strncmp(msg, "unknown metric", 14) == 0) {
            char names[1024];
            level_names(w->level, names, sizeof names);
            return fail_at(ld, m, "%s at level %s (its metrics: %s)", msg,
                           omni_level_name(w->level), names);
        }
        return fail_at(ld, m, "%s", msg);
    }
    if (!w->cond.is_bool)
        return fail_at(ld, n->start_mark,
                       "type error: the condition is a number; it must be a comparison "
                       "(e.g. '%s > 0') or comparisons joined by and/or", s);
    w->needs |= rc.needs;
    return 0;
}

static int load_suggestions(loader_t *ld, yaml_node_t *n, omni_pattern_t *p) {
    if (n->type != YAML_SEQUENCE_NODE)
        return fail_at(ld, n->start_mark, "'suggestions' must be a list of strings");
    size_t k = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (!k)
        return fail_at(ld, n->start_mark, "'suggestions' must not be empty");
    p->suggestions = calloc(k, sizeof *p->suggestions);
    if (!p->suggestions)
        return fail_at(ld, n->start_mark, "out of memory");
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
         it++)
        if (want_string(ld, node(ld, *it), "suggestions", &p->suggestions[p->n_suggestions++]) <
            0)
            return -1;
    return 0;
}

static int load_confidence(loader_t *ld, yaml_node_t *n, omni_when_t *p) {
    if (n->type != YAML_MAPPING_NODE)
        return fail_at(ld, n->start_mark, "'confidence' must be a mapping (base, max, "
                                          "margin_scale, evidence, evidence_half)");
    if (check_unique_keys(ld, n) < 0)
        return -1;
    for (yaml_node_pair_t *kv = n->data.mapping.pairs.start; kv < n->data.mapping.pairs.top;
         kv++) {
        yaml_node_t *k = node(ld, kv->key), *v = node(ld, kv->value);
        const char *key = scalar(k);
        int rc;
        if (!key)
            return fail_at(ld, k->start_mark, "a key must be a string");
        if (strcmp(key, "base") == 0)
            rc = want_number(ld, v, key, &p->conf_base);
        else if (strcmp(key, "max") == 0)
            rc = want_number(ld, v, key, &p->conf_max);
        else if (strcmp(key, "margin_scale") == 0)
            rc = want_number(ld, v, key, &p->margin_scale);
        else if (strcmp(key, "evidence_half") == 0)
            rc = want_number(ld, v, key, &p->evidence_half);
        else if (strcmp(key, "evidence") == 0) {
            const char *m = scalar(v);
            if (!m)
                return fail_at(ld, v->start_mark, "'evidence' must name a metric of the "
                                                  "pattern's level");
            p->evidence_metric = omni_metric_find(p->level, m, strlen(m));
            if (p->evidence_metric < 0)
                return fail_at(ld, v->start_mark, "unknown metric '%s' at level %s", m,
                               omni_level_name(p->level));
            p->needs |= omni_metrics[p->evidence_metric].needs;
            rc = 0;
        } else
            return fail_at(ld, k->start_mark, "unknown key '%s' in confidence (keys: base, max, "
                                              "margin_scale, evidence, evidence_half)", key);
        if (rc < 0)
            return -1;
    }
    if (!(p->conf_base >= 0 && p->conf_base <= p->conf_max && p->conf_max <= 1))
        return fail_at(ld, n->start_mark, "confidence needs 0 <= base <= max <= 1");
    if (!(p->margin_scale > 0) || !(p->evidence_half > 0))
        return fail_at(ld, n->start_mark, "margin_scale and evidence_half must be above 0");
    return 0;
}

static int valid_id(const char *s) {
    if (!islower((unsigned char)*s))
        return 0;
    for (; *s; s++)
        if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '_'))
            return 0;
    return 1;
}

static void pattern_free(omni_pattern_t *p) {
    free(p->id);
    free(p->description);
    free(p->verify);
    free(p->source);
    for (int i = 0; i < p->n_when; i++)
        omni_expr_free(&p->when[i].cond);
    for (size_t i = 0; i < p->n_suggestions; i++)
        free(p->suggestions[i]);
    free(p->suggestions);
    memset(p, 0, sizeof *p);
}

static const char *const keys =
    "id, description, level, kind, condition, confidence, when, suggestions, verify";

/* A new way to recognise p, at level, with the default confidence. */
static omni_when_t *add_when(omni_pattern_t *p, omni_level_t level) {
    omni_when_t *w = &p->when[p->n_when++];
    memset(w, 0, sizeof *w);
    w->level = level;
    w->conf_base = 0.5;
    w->conf_max = 0.95;
    w->margin_scale = 1;
    w->evidence_half = 100;
    w->evidence_metric = -1;
    w->cond.root = -1;
    return w;
}

/* A way to recognise p at level, from its condition and (optional)
 * confidence nodes. */
static int load_way(loader_t *ld, omni_pattern_t *p, omni_level_t level, yaml_node_t *cond,
                    yaml_node_t *conf) {
    omni_when_t *w = add_when(p, level);
    if (load_condition(ld, cond, w) < 0)
        return -1;
    return conf ? load_confidence(ld, conf, w) : 0;
}

/* One item of 'when': condition, and optionally confidence and level (the
 * pattern's own, or process: a finding of another level is then backed by
 * the run as a whole). */
static int load_when_item(loader_t *ld, yaml_node_t *n, omni_pattern_t *p) {
    if (n->type != YAML_MAPPING_NODE)
        return fail_at(ld, n->start_mark, "an item of 'when' must be a mapping (condition, "
                                          "confidence, level)");
    if (check_unique_keys(ld, n) < 0)
        return -1;
    yaml_node_t *cond = NULL, *conf = NULL;
    omni_level_t level = p->level;
    for (yaml_node_pair_t *kv = n->data.mapping.pairs.start; kv < n->data.mapping.pairs.top;
         kv++) {
        yaml_node_t *k = node(ld, kv->key), *v = node(ld, kv->value);
        const char *key = scalar(k);
        if (key && strcmp(key, "condition") == 0)
            cond = v;
        else if (key && strcmp(key, "confidence") == 0)
            conf = v;
        else if (key && strcmp(key, "level") == 0) {
            const char *l = scalar(v);
            int lv = l ? omni_level_parse(l) : -1;
            if (lv != (int)p->level && lv != OMNI_LEVEL_PROCESS)
                return fail_at(ld, v->start_mark, "an item of 'when' is at the pattern's level "
                                                  "(%s) or at process",
                               omni_level_name(p->level));
            level = (omni_level_t)lv;
        } else
            return fail_at(ld, k->start_mark, "unknown key '%s' in when (keys: condition, "
                                              "confidence, level)", key ? key : "?");
    }
    if (!cond)
        return fail_at(ld, n->start_mark, "an item of 'when' has no 'condition'");
    return load_way(ld, p, level, cond, conf);
}

static int load_when(loader_t *ld, yaml_node_t *n, omni_pattern_t *p) {
    size_t k = n->type == YAML_SEQUENCE_NODE
                   ? (size_t)(n->data.sequence.items.top - n->data.sequence.items.start)
                   : 0;
    if (!k || k > OMNI_MAX_WHEN)
        return fail_at(ld, n->start_mark, "'when' must be a list of 1 to %d ways to recognise "
                                          "the pattern, the strongest evidence first",
                       OMNI_MAX_WHEN);
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
         it++)
        if (load_when_item(ld, node(ld, *it), p) < 0)
            return -1;
    return 0;
}

static int load_pattern(loader_t *ld, yaml_node_t *n, omni_pattern_t *p) {
    memset(p, 0, sizeof *p);
    if (n->type != YAML_MAPPING_NODE)
        return fail_at(ld, n->start_mark, "a pattern must be a mapping (%s)", keys);
    if (check_unique_keys(ld, n) < 0)
        return -1;
    char where[512];
    snprintf(where, sizeof where, "%s:%zu", ld->name, n->start_mark.line + 1);
    if (!(p->source = strdup(where)))
        return fail_at(ld, n->start_mark, "out of memory");
    /* level first: the condition's names are resolved at it */
    yaml_node_t *cond = NULL, *conf = NULL, *when = NULL;
    int level_known = 0;
    for (yaml_node_pair_t *kv = n->data.mapping.pairs.start; kv < n->data.mapping.pairs.top;
         kv++) {
        const char *key = scalar(node(ld, kv->key));
        yaml_node_t *v = node(ld, kv->value);
        if (key && strcmp(key, "level") == 0) {
            const char *l = scalar(v);
            int lv = l ? omni_level_parse(l) : -1;
            if (lv < 0)
                return fail_at(ld, v->start_mark,
                               "'level' must be function, line, thread, process or file");
            p->level = (omni_level_t)lv;
            level_known = 1;
        }
    }
    for (yaml_node_pair_t *kv = n->data.mapping.pairs.start; kv < n->data.mapping.pairs.top;
         kv++) {
        yaml_node_t *k = node(ld, kv->key), *v = node(ld, kv->value);
        const char *key = scalar(k);
        int rc = 0;
        if (!key)
            return fail_at(ld, k->start_mark, "a key must be a string");
        if (strcmp(key, "id") == 0) {
            if ((rc = want_string(ld, v, key, &p->id)) == 0 && !valid_id(p->id))
                return fail_at(ld, v->start_mark, "'id' must be lower case letters, digits "
                                                  "and '_', starting with a letter");
        } else if (strcmp(key, "description") == 0)
            rc = want_string(ld, v, key, &p->description);
        else if (strcmp(key, "verify") == 0)
            rc = want_string(ld, v, key, &p->verify);
        else if (strcmp(key, "level") == 0)
            continue;
        else if (strcmp(key, "condition") == 0)
            cond = v;
        else if (strcmp(key, "confidence") == 0)
            conf = v;
        else if (strcmp(key, "when") == 0)
            when = v;
        else if (strcmp(key, "kind") == 0) {
            const char *k = scalar(v);
            if (!k || (strcmp(k, "problem") != 0 && strcmp(k, "shape") != 0))
                return fail_at(ld, v->start_mark, "'kind' must be problem (the default) or shape");
            p->shape = strcmp(k, "shape") == 0;
        }
        else if (strcmp(key, "suggestions") == 0)
            rc = load_suggestions(ld, v, p);
        else
            return fail_at(ld, k->start_mark, "unknown key '%s' (keys: %s)", key, keys);
        if (rc < 0)
            return -1;
    }
    if (when && (cond || conf))
        return fail_at(ld, (cond ? cond : conf)->start_mark,
                       "pattern %s gives 'when': its conditions and confidences go there",
                       p->id ? p->id : "without an id");
    const char *missing = !p->id                ? "id"
                          : !p->description     ? "description"
                          : !level_known        ? "level"
                          : !cond && !when      ? "condition"
                          : !p->n_suggestions   ? "suggestions"
                          : !p->verify          ? "verify"
                                                : NULL;
    if (missing)
        return fail_at(ld, n->start_mark, "pattern %s has no '%s' (keys: %s)",
                       p->id ? p->id : "without an id", missing, keys);
    if (when)
        return load_when(ld, when, p);
    return load_way(ld, p, p->level, cond, conf);
}

static omni_pattern_t *find_id(omni_kb_t *kb, const char *id, size_t from) {
    for (size_t i = from; i < kb->n; i++)
        if (strcmp(kb->p[i].id, id) == 0)
            return &kb->p[i];
    return NULL;
}

/* The patterns of one document, appended to kb. */
static int load_document(loader_t *ld, omni_kb_t *kb, size_t first, int builtin) {
    yaml_node_t *root = yaml_document_get_root_node(ld->doc);
    if (!root)
        return 0;
    if (root->type != YAML_SEQUENCE_NODE)
        return fail_at(ld, root->start_mark, "a pattern file is a list of patterns "
                                             "('- id: ...')");
    for (yaml_node_item_t *it = root->data.sequence.items.start;
         it < root->data.sequence.items.top; it++) {
        omni_pattern_t *np = omni_grow(kb->p, &kb->cap, kb->n, sizeof *np, 32);
        if (!np)
            return fail_at(ld, root->start_mark, "out of memory");
        kb->p = np;
        omni_pattern_t p;
        yaml_node_t *n = node(ld, *it);
        if (load_pattern(ld, n, &p) < 0) {
            pattern_free(&p);
            return -1;
        }
        p.builtin = builtin;
        if (find_id(kb, p.id, first)) {
            fail_at(ld, n->start_mark, "pattern %s is defined twice", p.id);
            pattern_free(&p);
            return -1;
        }
        kb->p[kb->n++] = p;
    }
    return 0;
}

int omni_kb_add_text(omni_kb_t *kb, const char *name, const char *text, size_t len, int builtin,
                     char *err, size_t errcap) {
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
        snprintf(err, errcap, "%s: out of memory", name);
        return -1;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    loader_t ld = {.name = name, .text = text, .err = err, .errcap = errcap};
    size_t first = kb->n;
    /* patterns of the same load (built-in, or one --patterns folder) must
     * not share an id: the earlier ones of this load start at first_of_load */
    int rc = 0;
    for (;;) {
        yaml_document_t doc;
        if (!yaml_parser_load(&parser, &doc)) {
            yaml_mark_t m = parser.problem_mark;
            snprintf(err, errcap, "%s:%zu:%zu: invalid YAML: %s%s%s", name, m.line + 1,
                     m.column + 1, parser.problem ? parser.problem : "cannot parse",
                     parser.context ? " " : "", parser.context ? parser.context : "");
            rc = -1;
            break;
        }
        ld.doc = &doc;
        int empty = !yaml_document_get_root_node(&doc);
        rc = empty ? 0 : load_document(&ld, kb, first, builtin);
        yaml_document_delete(&doc);
        if (rc < 0 || empty)
            break;
    }
    yaml_parser_delete(&parser);
    if (rc < 0) {
        while (kb->n > first)
            pattern_free(&kb->p[--kb->n]);
    }
    return rc;
}

static int yaml_name(const struct dirent *d) {
    size_t n = strlen(d->d_name);
    return d->d_name[0] != '.' && ((n > 5 && strcmp(d->d_name + n - 5, ".yaml") == 0) ||
                                   (n > 4 && strcmp(d->d_name + n - 4, ".yml") == 0));
}

static int read_file(const char *path, char **out, size_t *len, char *err, size_t errcap) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errcap, "%s: %s", path, strerror(errno));
        return -1;
    }
    char *buf = malloc(MAX_FILE_BYTES + 1);
    size_t n = buf ? fread(buf, 1, MAX_FILE_BYTES + 1, f) : 0;
    int bad = ferror(f);
    fclose(f);
    if (!buf || bad || n > MAX_FILE_BYTES) {
        snprintf(err, errcap, "%s: %s", path,
                 !buf ? "out of memory" : bad ? "cannot read" : "larger than 4 MiB");
        free(buf);
        return -1;
    }
    buf[n] = 0;
    if (memchr(buf, 0, n)) {
        snprintf(err, errcap, "%s: not a text file", path);
        free(buf);
        return -1;
    }
    *out = buf;
    *len = n;
    return 0;
}

/* The user's patterns: a pattern of theirs with a built-in id replaces it. */
static int load_dir(omni_kb_t *kb, const char *dir, char *err, size_t errcap) {
    struct dirent **names;
    int n = scandir(dir, &names, yaml_name, alphasort);
    if (n < 0) {
        snprintf(err, errcap, "%s: %s", dir, strerror(errno));
        return -1;
    }
    size_t builtin_end = kb->n;
    int rc = 0;
    for (int i = 0; i < n; i++) {
        char path[4096];
        char *text = NULL;
        size_t len = 0;
        snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
        if (rc == 0 && (rc = read_file(path, &text, &len, err, errcap)) == 0) {
            size_t before = kb->n;
            rc = omni_kb_add_text(kb, path, text, len, 0, err, errcap);
            /* ids must be unique across the folder's files too */
            for (size_t k = before; rc == 0 && k < kb->n; k++) {
                omni_pattern_t *twin = find_id(kb, kb->p[k].id, builtin_end);
                if (twin && twin != &kb->p[k]) {
                    snprintf(err, errcap, "%s: pattern %s is defined twice (also at %s)",
                             kb->p[k].source, kb->p[k].id, twin->source);
                    rc = -1;
                }
            }
        }
        free(text);
        free(names[i]);
    }
    free(names);
    if (rc < 0)
        return -1;
    /* overrides: drop the built-in pattern a user's pattern replaces */
    size_t m = 0;
    for (size_t i = 0; i < kb->n; i++) {
        omni_pattern_t *p = &kb->p[i];
        if (i < builtin_end && find_id(kb, p->id, builtin_end)) {
            pattern_free(p);
            continue;
        }
        kb->p[m++] = *p;
    }
    kb->n = m;
    return 0;
}

int omni_kb_load(omni_kb_t *kb, const char *dir, char *err, size_t errcap) {
    memset(kb, 0, sizeof *kb);
    for (int i = 0; i < omni_n_builtin_patterns; i++) {
        char name[128];
        snprintf(name, sizeof name, "patterns/%s", omni_builtin_patterns[i].name);
        if (omni_kb_add_text(kb, name, omni_builtin_patterns[i].text, omni_builtin_patterns[i].len,
                             1, err, errcap) < 0) {
            omni_kb_free(kb);
            return -1;
        }
    }
    /* the built-in files share one set of ids */
    for (size_t i = 0; i < kb->n; i++)
        for (size_t k = i + 1; k < kb->n; k++)
            if (strcmp(kb->p[i].id, kb->p[k].id) == 0) {
                snprintf(err, errcap, "%s: pattern %s is defined twice (also at %s)",
                         kb->p[k].source, kb->p[k].id, kb->p[i].source);
                omni_kb_free(kb);
                return -1;
            }
    if (dir && load_dir(kb, dir, err, errcap) < 0) {
        omni_kb_free(kb);
        return -1;
    }
    return 0;
}

void omni_kb_free(omni_kb_t *kb) {
    for (size_t i = 0; i < kb->n; i++)
        pattern_free(&kb->p[i]);
    free(kb->p);
    memset(kb, 0, sizeof *kb);
}
