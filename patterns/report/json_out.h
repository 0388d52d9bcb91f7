/* json_out.h - a small streaming JSON writer for reports. */
#ifndef OMNI_JSON_OUT_H
#define OMNI_JSON_OUT_H

#include <msgpack.h>
#include <stdint.h>
#include <stdio.h>

#define OMNI_JSON_MAX_DEPTH 32

typedef struct omni_json {
    FILE *f;
    int depth;
    int need_comma[OMNI_JSON_MAX_DEPTH]; /* a value was written at this level */
    int after_key;                       /* the next value follows a key */
} omni_json_t;

void omni_json_init(omni_json_t *j, FILE *f);
void omni_json_begin_object(omni_json_t *j);
void omni_json_end_object(omni_json_t *j);
void omni_json_begin_array(omni_json_t *j);
void omni_json_end_array(omni_json_t *j);
void omni_json_key(omni_json_t *j, const char *key);
void omni_json_str(omni_json_t *j, const char *s);   /* NULL writes null */
void omni_json_int(omni_json_t *j, int64_t v);
void omni_json_uint(omni_json_t *j, uint64_t v);
void omni_json_num(omni_json_t *j, double v);        /* NaN and infinities write null */
void omni_json_bool(omni_json_t *j, int v);
void omni_json_null(omni_json_t *j);
/* A key and its value, in one call. */
void omni_json_kv_str(omni_json_t *j, const char *key, const char *s);
void omni_json_kv_int(omni_json_t *j, const char *key, int64_t v);
void omni_json_kv_uint(omni_json_t *j, const char *key, uint64_t v);
void omni_json_kv_num(omni_json_t *j, const char *key, double v);
void omni_json_kv_bool(omni_json_t *j, const char *key, int v);
/* Writes a msgpack value as JSON (maps with string keys, arrays, numbers,
 * strings, booleans; anything else, and nesting too deep, as null). NULL
 * writes null. */
void omni_json_msgpack(omni_json_t *j, const msgpack_object *o);

#endif
