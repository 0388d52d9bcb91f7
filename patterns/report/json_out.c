/* json_out.c - writes JSON values with commas and escaping handled. */
#include "patterns/report/json_out.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

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

static void write_escaped_n(FILE *f, const char *s, size_t n) {
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s, *end = p + n; p < end; p++) {
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

static void write_escaped(FILE *f, const char *s) {
    write_escaped_n(f, s, strlen(s));
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

void omni_json_kv_str(omni_json_t *j, const char *key, const char *v) {
    omni_json_key(j, key);
    omni_json_str(j, v);
}

void omni_json_kv_int(omni_json_t *j, const char *key, int64_t v) {
    omni_json_key(j, key);
    omni_json_int(j, v);
}

void omni_json_kv_uint(omni_json_t *j, const char *key, uint64_t v) {
    omni_json_key(j, key);
    omni_json_uint(j, v);
}

void omni_json_kv_num(omni_json_t *j, const char *key, double v) {
    omni_json_key(j, key);
    omni_json_num(j, v);
}

void omni_json_kv_bool(omni_json_t *j, const char *key, int v) {
    omni_json_key(j, key);
    omni_json_bool(j, v);
}

/* Depth beyond which a msgpack value is written as null: the writer's own
 * nesting limit, with room for the document around it. */
#define MSGPACK_MAX_DEPTH (OMNI_JSON_MAX_DEPTH - 8)

static void msgpack_value(omni_json_t *j, const msgpack_object *o, int depth) {
    if (depth > MSGPACK_MAX_DEPTH) {
        omni_json_null(j);
        return;
    }
    switch (o->type) {
    case MSGPACK_OBJECT_BOOLEAN:
        omni_json_bool(j, o->via.boolean);
        break;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        omni_json_uint(j, o->via.u64);
        break;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        omni_json_int(j, o->via.i64);
        break;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        omni_json_num(j, o->via.f64);
        break;
    case MSGPACK_OBJECT_STR:
        value_start(j);
        write_escaped_n(j->f, o->via.str.ptr, o->via.str.size);
        break;
    case MSGPACK_OBJECT_ARRAY:
        omni_json_begin_array(j);
        for (uint32_t i = 0; i < o->via.array.size; i++)
            msgpack_value(j, &o->via.array.ptr[i], depth + 1);
        omni_json_end_array(j);
        break;
    case MSGPACK_OBJECT_MAP:
        omni_json_begin_object(j);
        for (uint32_t i = 0; i < o->via.map.size; i++) {
            const msgpack_object_kv *kv = &o->via.map.ptr[i];
            /* JSON keys are strings: other keys are left out. */
            if (kv->key.type != MSGPACK_OBJECT_STR)
                continue;
            value_start(j);
            write_escaped_n(j->f, kv->key.via.str.ptr, kv->key.via.str.size);
            fputc(':', j->f);
            j->after_key = 1;
            msgpack_value(j, &kv->val, depth + 1);
        }
        omni_json_end_object(j);
        break;
    default: /* nil, binary, extension */
        omni_json_null(j);
    }
}

void omni_json_msgpack(omni_json_t *j, const msgpack_object *o) {
    if (o)
        msgpack_value(j, o, 0);
    else
        omni_json_null(j);
}
