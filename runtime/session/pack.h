/* pack.h - the msgpack helpers every record of a session is packed with
 * (keys and strings, key-value pairs, the head of a {columns, rows} table). */
#ifndef OMNI_SESSION_PACK_H
#define OMNI_SESSION_PACK_H

#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>

/* A string, or nil for NULL. */
void omni_pack_str(msgpack_packer *pk, const char *s);
void omni_pack_kv_str(msgpack_packer *pk, const char *key, const char *val);
void omni_pack_kv_u64(msgpack_packer *pk, const char *key, uint64_t val);
void omni_pack_kv_i64(msgpack_packer *pk, const char *key, int64_t val);
void omni_pack_kv_f64(msgpack_packer *pk, const char *key, double val);
/* n strings (none when n <= 0) as one array. */
void omni_pack_str_array(msgpack_packer *pk, int n, char *const *v);
/* The head of a table {columns, rows}: with key, "key" and the map first;
 * the caller then packs nrows arrays of ncols cells. */
void omni_pack_table_head(msgpack_packer *pk, const char *key, const char *const *cols,
                          size_t ncols, size_t nrows);
/* {available: false, reason}: what a probe that found nothing packs. */
void omni_pack_unavailable(msgpack_packer *pk, const char *reason);

#endif
