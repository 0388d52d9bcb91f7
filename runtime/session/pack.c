/* pack.c - the msgpack helpers the session's records are packed with. */
#include "runtime/session/pack.h"

#include <string.h>

void omni_pack_str(msgpack_packer *pk, const char *s) {
    if (!s) {
        msgpack_pack_nil(pk);
        return;
    }
    size_t n = strlen(s);
    msgpack_pack_str(pk, n);
    msgpack_pack_str_body(pk, s, n);
}

void omni_pack_kv_str(msgpack_packer *pk, const char *key, const char *val) {
    omni_pack_str(pk, key);
    omni_pack_str(pk, val);
}

void omni_pack_kv_u64(msgpack_packer *pk, const char *key, uint64_t val) {
    omni_pack_str(pk, key);
    msgpack_pack_uint64(pk, val);
}

void omni_pack_kv_i64(msgpack_packer *pk, const char *key, int64_t val) {
    omni_pack_str(pk, key);
    msgpack_pack_int64(pk, val);
}

void omni_pack_kv_f64(msgpack_packer *pk, const char *key, double val) {
    omni_pack_str(pk, key);
    msgpack_pack_double(pk, val);
}

void omni_pack_str_array(msgpack_packer *pk, int n, char *const *v) {
    msgpack_pack_array(pk, (size_t)(n > 0 ? n : 0));
    for (int i = 0; i < n; i++)
        omni_pack_str(pk, v[i]);
}

/* The start of a table {columns: [...], rows: [...]}: the caller packs
 * nrows rows next. key names the table inside its record, NULL when the
 * table's two keys are the record's own (the caller counted them). */
void omni_pack_table_head(msgpack_packer *pk, const char *key, const char *const *cols,
                          size_t ncols, size_t nrows) {
    if (key) {
        omni_pack_str(pk, key);
        msgpack_pack_map(pk, 2);
    }
    omni_pack_str(pk, "columns");
    msgpack_pack_array(pk, ncols);
    for (size_t i = 0; i < ncols; i++)
        omni_pack_str(pk, cols[i]);
    omni_pack_str(pk, "rows");
    msgpack_pack_array(pk, nrows);
}

void omni_pack_unavailable(msgpack_packer *pk, const char *reason) {
    msgpack_pack_map(pk, 2);
    omni_pack_str(pk, "available");
    msgpack_pack_false(pk);
    omni_pack_kv_str(pk, "reason", reason);
}
