/* json_out.c - writes JSON values with commas and escaping handled. */
#include "patterns/json_out.h"

#include <inttypes.h>
#include <math.h>

void omni_json_init(omni_json_t *j, FILE *f) {
    j->f = f;
    j->depth = 0;
    j->need_comma[0] = 0;
    j->after_key = 0;
}

/* Separates a value from the one before it, unless it follows a key. */
static void value_start(omni_json_t *j) {
    if (j->after_key) {
        j->after_key = 0;
        return;
    }
    if (j->need_comma[j->depth])
        fputc(',', j->f);
    j->need_comma[j->depth] = 1;
}

static void open_level(omni_json_t *j, char c) {
    value_start(j);
    fputc(c, j->f);
    if (j->depth + 1 < OMNI_JSON_MAX_DEPTH)
        j->depth++;
    j->need_comma[j->depth] = 0;
}

static void close_level(omni_json_t *j, char c) {
    if (j->depth > 0)
        j->depth--;
    fputc(c, j->f);
}

void omni_json_begin_object(omni_json_t *j) { open_level(j, '{'); }
void omni_json_end_object(omni_json_t *j) { close_level(j, '}'); }
void omni_json_begin_array(omni_json_t *j) { open_level(j, '['); }
void omni_json_end_array(omni_json_t *j) { close_level(j, ']'); }

static void write_escaped(FILE *f, const char *s) {
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (*p < 0x20)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
        }
    }
    fputc('"', f);
}

void omni_json_key(omni_json_t *j, const char *key) {
    value_start(j);
    write_escaped(j->f, key);
    fputc(':', j->f);
    j->after_key = 1;
}

void omni_json_str(omni_json_t *j, const char *s) {
    value_start(j);
    if (s)
        write_escaped(j->f, s);
    else
        fputs("null", j->f);
}

void omni_json_int(omni_json_t *j, int64_t v) {
    value_start(j);
    fprintf(j->f, "%" PRId64, v);
}

void omni_json_uint(omni_json_t *j, uint64_t v) {
    value_start(j);
    fprintf(j->f, "%" PRIu64, v);
}

void omni_json_num(omni_json_t *j, double v) {
    value_start(j);
    if (isfinite(v))
        fprintf(j->f, "%.15g", v);
    else
        fputs("null", j->f);
}

void omni_json_bool(omni_json_t *j, int v) {
    value_start(j);
    fputs(v ? "true" : "false", j->f);
}

void omni_json_null(omni_json_t *j) {
    value_start(j);
    fputs("null", j->f);
}
