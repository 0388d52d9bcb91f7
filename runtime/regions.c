/* regions.c - omni.profile's regions, kept for the session. */
#include "runtime/regions.h"
#include "runtime/ownmem.h"
#include "runtime/retire.h"

#include <stdlib.h>
#include <string.h>

typedef struct name_total {
    char name[96];
    uint64_t count, errors;
    double wall_s, cpu_s;
} name_total_t;

static struct {
    omni_region_t *r;
    size_t n, cap;
    uint64_t dropped;
    name_total_t names[OMNI_REGION_NAMES_MAX];
    size_t n_names;
    uint64_t names_dropped;
} reg;

int omni_regions_add(const omni_region_t *r) {
    name_total_t *t = NULL;
    for (size_t i = 0; i < reg.n_names && !t; i++)
        if (strcmp(reg.names[i].name, r->name) == 0)
            t = &reg.names[i];
    if (!t && reg.n_names < OMNI_REGION_NAMES_MAX) {
        t = &reg.names[reg.n_names];
        memcpy(t->name, r->name, sizeof t->name);
        __atomic_store_n(&reg.n_names, reg.n_names + 1, __ATOMIC_RELEASE);
    }
    if (t) {
        t->count++;
        t->errors += r->error[0] != 0;
        t->wall_s += (double)(r->end_ns - r->start_ns) / 1e9;
        t->cpu_s += r->cpu_s;
    } else {
        reg.names_dropped++;
    }
    if (reg.n == OMNI_REGIONS_MAX) {
        reg.dropped++;
        return 0;
    }
    if (reg.n == reg.cap) {
        size_t cap = reg.cap ? 2 * reg.cap : 64;
        /* A checkpoint may be reading the old rows (retire.h). */
        omni_region_t *nr = omni_retire_grow(reg.r, reg.cap * sizeof *nr, cap * sizeof *nr);
        if (!nr) {
            reg.dropped++;
            return -1;
        }
        omni_region_t *old = reg.r;
        __atomic_store_n(&reg.r, nr, __ATOMIC_RELEASE);
        reg.cap = cap;
        omni_retire(old);
    }
    reg.r[reg.n] = *r;
    __atomic_store_n(&reg.n, reg.n + 1, __ATOMIC_RELEASE); /* after the row: a checkpoint reads */
    return 0;
}

void omni_regions_write(msgpack_packer *pk) {
    if (!reg.n_names && !reg.names_dropped)
        return;
    msgpack_pack_map(pk, 5);
    omni_pack_kv_str(pk, "kind", "regions");
    omni_pack_kv_u64(pk, "dropped", reg.dropped);
    omni_pack_kv_u64(pk, "names_dropped", reg.names_dropped);
    static const char *const ncols[] = {"name", "count", "errors", "wall_s", "cpu_s"};
    size_t n_names = __atomic_load_n(&reg.n_names, __ATOMIC_ACQUIRE);
    omni_pack_table_head(pk, "names", ncols, 5, (uint32_t)n_names);
    for (size_t i = 0; i < n_names; i++) {
        const name_total_t *t = &reg.names[i];
        msgpack_pack_array(pk, 5);
        omni_pack_str(pk, t->name);
        msgpack_pack_uint64(pk, t->count);
        msgpack_pack_uint64(pk, t->errors);
        msgpack_pack_double(pk, t->wall_s);
        msgpack_pack_double(pk, t->cpu_s);
    }
    static const char *const cols[] = {"name", "tid", "start_ns", "end_ns", "cpu_s",
                                       "rss_start_bytes", "rss_end_bytes", "rss_peak_bytes",
                                       "read_bytes", "write_bytes", "flops", "error"};
    size_t n = __atomic_load_n(&reg.n, __ATOMIC_ACQUIRE);
    const omni_region_t *rows = __atomic_load_n(&reg.r, __ATOMIC_ACQUIRE);
    omni_pack_table_head(pk, "rows", cols, 12, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        const omni_region_t *r = &rows[i];
        msgpack_pack_array(pk, 12);
        omni_pack_str(pk, r->name);
        msgpack_pack_int64(pk, r->tid);
        msgpack_pack_uint64(pk, r->start_ns);
        msgpack_pack_uint64(pk, r->end_ns);
        msgpack_pack_double(pk, r->cpu_s);
        msgpack_pack_double(pk, r->rss_start);
        msgpack_pack_double(pk, r->rss_end);
        msgpack_pack_double(pk, r->rss_peak);
        msgpack_pack_double(pk, r->read_bytes);
        msgpack_pack_double(pk, r->write_bytes);
        if (r->flops >= 0)
            msgpack_pack_double(pk, r->flops);
        else
            msgpack_pack_nil(pk);
        if (r->error[0])
            omni_pack_str(pk, r->error);
        else
            msgpack_pack_nil(pk);
    }
}

void omni_regions_reset(void) {
    reg.n = 0;
    reg.dropped = 0;
    reg.n_names = 0;
    reg.names_dropped = 0;
}
