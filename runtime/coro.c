/* coro.c - coroutines' wall and await times (coro.h). Everything here runs
 * with the GIL held (the frame hook), or at the end. */
#include "runtime/coro.h"

#include <string.h>

#include "runtime/ownmem.h"
#include "runtime/retire.h"
#include "runtime/session/pack.h"

/* The coroutines alive now, by frame address: open addressing with
 * tombstones; a coroutine dropped before its end leaves its entry until the
 * table is rebuilt (the entries of coroutines that never finished are then
 * forgotten: most recent first kept). */
#define LIVE_CAP (1u << 16)
typedef struct live {
    const void *frame;       /* NULL: empty; (void *)1: deleted */
    uint32_t code;
    int32_t offset;          /* where it is suspended, -1 while it runs */
    uint64_t first, since;   /* ticks: its first resumption; its suspension */
    uint64_t awaited;        /* ticks suspended so far */
} live_t;

/* Per coroutine function (by code id). */
typedef struct per_code {
    uint64_t finished, wall, awaited, max_wall;
} per_code_t;

/* Per await site (code id, offset). */
#define SITES_CAP 4096
typedef struct site {
    uint32_t code;
    int32_t offset;          /* -1: empty */
    uint64_t count, total, max;
} site_t;

static struct {
    live_t *live;
    uint32_t n_live, n_dead;
    per_code_t *codes;
    uint32_t codes_cap;
    site_t sites[SITES_CAP];
    uint32_t n_sites;
    uint64_t sites_dropped;
    int any;
} co;

static inline uint32_t hash_ptr(const void *p) {
    return (uint32_t)(((uintptr_t)p >> 4) * 0x9E3779B97F4A7C15ull >> 40);
}

static live_t *live_find(const void *frame, int make) {
    if (!co.live) {
        if (!make || !(co.live = omni_own_calloc(LIVE_CAP, sizeof *co.live)))
            return NULL;
    }
    uint32_t mask = LIVE_CAP - 1, j = hash_ptr(frame) & mask;
    live_t *grave = NULL;
    for (uint32_t n = 0; n < LIVE_CAP; n++, j = (j + 1) & mask) {
        live_t *e = &co.live[j];
        if (e->frame == frame)
            return e;
        if (e->frame == (void *)1 && !grave)
            grave = e;
        if (!e->frame) {
            if (!make)
                return NULL;
            if (co.n_live + co.n_dead >= LIVE_CAP / 2) {
                /* full of coroutines that never finished: start again */
                memset(co.live, 0, LIVE_CAP * sizeof *co.live);
                co.n_live = co.n_dead = 0;
                return live_find(frame, make);
            }
            if (grave) {
                co.n_dead--;
                e = grave;
            }
            co.n_live++;
            memset(e, 0, sizeof *e);
            e->frame = frame;
            return e;
        }
    }
    return NULL;
}

/* Grown as a checkpoint may be reading the table (retire.h): the new array
 * is published before its capacity, the old one freed once no reader holds it. */
static per_code_t *per_code(uint32_t code) {
    if (code >= co.codes_cap) {
        uint32_t cap = co.codes_cap ? co.codes_cap : 256;
        while (cap <= code)
            cap *= 2;
        per_code_t *n = omni_retire_grow(co.codes, co.codes_cap * sizeof *n, cap * sizeof *n);
        if (!n)
            return NULL;
        per_code_t *old = co.codes;
        __atomic_store_n(&co.codes, n, __ATOMIC_RELEASE);
        __atomic_store_n(&co.codes_cap, cap, __ATOMIC_RELEASE);
        omni_retire(old);
    }
    return &co.codes[code];
}

static site_t *site_for(uint32_t code, int32_t offset) {
    uint32_t j = (code * 2654435761u ^ (uint32_t)offset * 40503u) & (SITES_CAP - 1);
    for (uint32_t n = 0; n < SITES_CAP; n++, j = (j + 1) & (SITES_CAP - 1)) {
        site_t *x = &co.sites[j];
        if (x->count && x->code == code && x->offset == offset)
            return x;
        if (!x->count) {
            if (co.n_sites >= SITES_CAP / 2)
                break;
            co.n_sites++;
            x->code = code;
            x->offset = offset;
            /* named before a checkpoint can see it counted */
            __atomic_thread_fence(__ATOMIC_RELEASE);
            return x;
        }
    }
    co.sites_dropped++;
    return NULL;
}

void omni_coro_resumed(const void *frame, uint32_t code, int starting, uint64_t now) {
    live_t *e = live_find(frame, 1);
    if (!e)
        return;
    co.any = 1;
    if (starting || e->code != code) { /* a new coroutine (perhaps where an old one was) */
        e->code = code;
        e->first = now;
        e->awaited = 0;
        e->offset = -1;
        return;
    }
    if (e->offset >= 0) { /* back from an await */
        uint64_t held = now > e->since ? now - e->since : 0;
        e->awaited += held;
        site_t *x = site_for(code, e->offset);
        if (x) {
            x->count++;
            x->total += held;
            if (held > x->max)
                x->max = held;
        }
        e->offset = -1;
    }
}

void omni_coro_stopped(const void *frame, uint32_t code, int suspended, int offset,
                       uint64_t now) {
    live_t *e = live_find(frame, 0);
    if (!e || e->code != code)
        return;
    if (suspended) {
        e->offset = offset;
        e->since = now;
        return;
    }
    per_code_t *p = per_code(code);
    if (p) {
        uint64_t wall = now > e->first ? now - e->first : 0;
        p->finished++;
        p->wall += wall;
        p->awaited += e->awaited;
        if (wall > p->max_wall)
            p->max_wall = wall;
    }
    e->frame = (void *)1;
    co.n_live--;
    co.n_dead++;
}

static uint64_t ns(uint64_t ticks, double npt) {
    return (uint64_t)((double)ticks * npt + 0.5);
}

/* Also from a checkpoint, on the monitor thread while the hook counts on:
 * each table's rows are counted first and exactly that many written (a count
 * only grows), from the array published with the capacity read. */
void omni_coro_write(msgpack_packer *pk, double npt, int (*line_of)(uint32_t, int)) {
    if (!__atomic_load_n(&co.any, __ATOMIC_ACQUIRE))
        return;
    uint32_t n = 0, awaiting = 0, n_sites = 0;
    uint32_t codes_cap = __atomic_load_n(&co.codes_cap, __ATOMIC_ACQUIRE);
    const per_code_t *codes = __atomic_load_n(&co.codes, __ATOMIC_ACQUIRE);
    for (uint32_t i = 0; i < codes_cap; i++)
        n += codes[i].finished != 0;
    for (uint32_t i = 0; i < SITES_CAP; i++)
        n_sites += co.sites[i].count != 0;
    /* coroutines still suspended at the end: their awaits so far */
    for (uint32_t i = 0; co.live && i < LIVE_CAP; i++)
        awaiting += co.live[i].frame > (void *)1 && co.live[i].offset >= 0;
    msgpack_pack_map(pk, 5);
    omni_pack_kv_str(pk, "kind", "coroutines");
    omni_pack_kv_u64(pk, "sites_dropped", co.sites_dropped);
    omni_pack_kv_u64(pk, "unfinished", awaiting);
    static const char *const fcols[] = {"code", "finished", "wall_ns", "await_ns", "max_wall_ns"};
    omni_pack_table_head(pk, "functions", fcols, 5, n);
    for (uint32_t i = 0, done = 0; i < codes_cap && done < n; i++) {
        const per_code_t *p = &codes[i];
        if (!p->finished)
            continue;
        done++;
        msgpack_pack_array(pk, 5);
        msgpack_pack_uint32(pk, i);
        msgpack_pack_uint64(pk, p->finished);
        msgpack_pack_uint64(pk, ns(p->wall, npt));
        msgpack_pack_uint64(pk, ns(p->awaited, npt));
        msgpack_pack_uint64(pk, ns(p->max_wall, npt));
    }
    static const char *const scols[] = {"code", "line", "count", "total_ns", "max_ns"};
    omni_pack_table_head(pk, "awaits", scols, 5, n_sites);
    uint32_t done = 0;
    for (uint32_t i = 0; i < SITES_CAP && done < n_sites; i++) {
        const site_t *x = &co.sites[i];
        if (!x->count)
            continue;
        msgpack_pack_array(pk, 5);
        msgpack_pack_uint32(pk, x->code);
        msgpack_pack_int(pk, line_of(x->code, x->offset));
        msgpack_pack_uint64(pk, x->count);
        msgpack_pack_uint64(pk, ns(x->total, npt));
        msgpack_pack_uint64(pk, ns(x->max, npt));
        done++;
    }
}

void omni_coro_reset(void) {
    if (co.live)
        memset(co.live, 0, LIVE_CAP * sizeof *co.live);
    co.n_live = co.n_dead = 0;
    if (co.codes)
        memset(co.codes, 0, co.codes_cap * sizeof *co.codes);
    memset(co.sites, 0, sizeof co.sites);
    co.n_sites = 0;
    co.sites_dropped = 0;
    co.any = 0;
}
