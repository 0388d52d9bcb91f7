/* config.c - omnipython.yaml: the same options as the command line, read
 * with libyaml, applied before OMNIPYTHON_OPTIONS and the command line (which
 * win). Each key becomes the option of the same name, so one parser checks
 * all three sources. */
#include "launcher/config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* key -> option; flags take no value (true gives the flag, false nothing) */
static const struct {
    const char *key, *option;
    int flag;
} keys[] = {
    {"out", "--out", 0},           {"mode", "--mode", 0},
    {"quiet", "--quiet", 1},       {"interval", "--interval", 0},
    {"sample_rate", "--sample-rate", 0}, {"timeout", "--timeout", 0},
    {"carbon_intensity", "--carbon-intensity", 0}, {"patterns", "--patterns", 0},
    {"threshold", "--threshold", 0}, {"repeat", "--repeat", 0},
    {"push", "--push", 0},         {"push_name", "--push-name", 0},
    {"push_labels", "--push-labels", 0}, {"min_confidence", "--min-confidence", 0},
    {"checkpoint", "--checkpoint", 0}, {"max_session_mb", "--max-session-mb", 0},
};

static int fail(char *err, size_t cap, const char *path, size_t line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int fail(char *err, size_t cap, const char *path, size_t line, const char *fmt, ...) {
    int n = snprintf(err, cap, "%s:%zu: ", path, line);
    va_list ap;
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < cap)
        vsnprintf(err + n, cap - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

static const char *key_list(void) {
    return "out, mode, quiet, interval, sample_rate, timeout, carbon_intensity, patterns, "
           "threshold, repeat, push, push_name, push_labels, min_confidence, checkpoint, "
           "max_session_mb";
}

int omni_config_load(const char *path, int required, omni_config_t *out, char *err, size_t cap) {
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (!required && errno == ENOENT)
            return 0;
        snprintf(err, cap, "%s: %s", path, strerror(errno));
        return -1;
    }
    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&parser)) {
        fclose(f);
        snprintf(err, cap, "%s: out of memory", path);
        return -1;
    }
    yaml_parser_set_input_file(&parser, f);
    int rc = 0;
    if (!yaml_parser_load(&parser, &doc)) {
        rc = fail(err, cap, path, parser.problem_mark.line + 1, "invalid YAML: %s",
                  parser.problem ? parser.problem : "cannot parse");
        yaml_parser_delete(&parser);
        fclose(f);
        return rc;
    }
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (root && root->type != YAML_MAPPING_NODE)
        rc = fail(err, cap, path, root->start_mark.line + 1,
                  "the configuration is a mapping of options (%s)", key_list());
    for (yaml_node_pair_t *kv = root && rc == 0 ? root->data.mapping.pairs.start : NULL;
         kv && kv < root->data.mapping.pairs.top && rc == 0; kv++) {
        yaml_node_t *k = yaml_document_get_node(&doc, kv->key);
        yaml_node_t *v = yaml_document_get_node(&doc, kv->value);
        size_t line = k->start_mark.line + 1;
        const char *key = k->type == YAML_SCALAR_NODE ? (const char *)k->data.scalar.value : NULL;
        const char *val = v->type == YAML_SCALAR_NODE ? (const char *)v->data.scalar.value : NULL;
        int idx = -1;
        for (size_t i = 0; key && i < sizeof keys / sizeof keys[0]; i++)
            if (strcmp(key, keys[i].key) == 0)
                idx = (int)i;
        if (idx < 0) {
            rc = fail(err, cap, path, line, "unknown option '%s' (options: %s)", key ? key : "?",
                      key_list());
            break;
        }
        if (!val || !*val) {
            rc = fail(err, cap, path, v->start_mark.line + 1, "'%s' needs a value", key);
            break;
        }
        if (out->n + 2 > OMNI_CONFIG_MAX) {
            rc = fail(err, cap, path, line, "too many options");
            break;
        }
        if (keys[idx].flag) {
            if (strcmp(val, "true") && strcmp(val, "false") && strcmp(val, "yes") &&
                strcmp(val, "no")) {
                rc = fail(err, cap, path, v->start_mark.line + 1,
                          "'%s' is true or false, not '%s'", key, val);
                break;
            }
            if (!strcmp(val, "true") || !strcmp(val, "yes")) {
                out->line[out->n] = line;
                out->tok[out->n++] = strdup(keys[idx].option);
            }
            continue;
        }
        out->line[out->n] = line;
        out->tok[out->n++] = strdup(keys[idx].option);
        out->line[out->n] = v->start_mark.line + 1;
        out->tok[out->n++] = strdup(val);
    }
    for (int i = 0; i < out->n; i++)
        if (!out->tok[i])
            rc = fail(err, cap, path, out->line[i], "out of memory");
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    fclose(f);
    if (rc < 0)
        omni_config_free(out);
    else
        snprintf(out->path, sizeof out->path, "%s", path);
    return rc;
}

void omni_config_free(omni_config_t *c) {
    for (int i = 0; i < c->n; i++)
        free(c->tok[i]);
    c->n = 0;
}
