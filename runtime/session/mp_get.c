/* mp_get.c - typed access to unpacked msgpack values. */
#include "runtime/session/mp_get.h"

#include <stdint.h>
#include <string.h>

const msgpack_object *omni_mp_get(const msgpack_object *m, const char *key) {
    if (!m || m->type != MSGPACK_OBJECT_MAP)
        return NULL;
    size_t klen = strlen(key);
    for (uint32_t i = 0; i < m->via.map.size; i++) {
        const msgpack_object *k = &m->via.map.ptr[i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == klen &&
            memcmp(k->via.str.ptr, key, klen) == 0)
            return &m->via.map.ptr[i].val;
    }
    return NULL;
}

int omni_mp_is_str(const msgpack_object *o, const char *s) {
    return o && o->type == MSGPACK_OBJECT_STR && o->via.str.size == strlen(s) &&
           memcmp(o->via.str.ptr, s, o->via.str.size) == 0;
}

int omni_mp_num(const msgpack_object *o, double *v) {
    if (!o)
        return -1;
    switch (o->type) {
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        *v = (double)o->via.u64;
        return 0;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        *v = (double)o->via.i64;
        return 0;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        *v = o->via.f64;
        return 0;
    default:
        return -1;
    }
}

const char *omni_mp_str(const msgpack_object *o, char *buf, size_t cap) {
    size_t n = 0;
    if (cap == 0)
        return buf;
    if (o && o->type == MSGPACK_OBJECT_STR) {
        n = o->via.str.size < cap - 1 ? o->via.str.size : cap - 1;
        memcpy(buf, o->via.str.ptr, n);
        for (size_t i = 0; i < n; i++)
            if (!buf[i])
                buf[i] = '?';
    }
    buf[n] = 0;
    return buf;
}

/* msgpack-c allocates room for a container as soon as it reads its claimed
 * size, so four damaged bytes could ask for gigabytes. Before unpacking a
 * record, walk it: every element takes at least one byte, so no claim may
 * exceed the bytes that are left. Returns 0 with *end after the object, 1
 * when the data ends inside it (or claims more than is left), -1 when it
 * cannot be msgpack. */
int omni_mp_scan(const unsigned char *p, size_t len, size_t off, size_t *end) {
    uint64_t pending = 1; /* elements still to read */
    while (pending) {
        if (off >= len)
            return 1;
        unsigned c = p[off++];
        uint64_t skip = 0, items = 0;
        size_t width = 0; /* bytes of a big-endian length that follows */
        int per = 0;      /* what the length counts: 1 bytes, 2 map pairs, 3 array items */
        if (c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3) {
        } else if (c <= 0x8f) {
            items = 2 * (uint64_t)(c & 0x0f);
        } else if (c <= 0x9f) {
            items = c & 0x0f;
        } else if (c <= 0xbf) {
            skip = c & 0x1f;
        } else if (c == 0xc1) {
            return -1;
        } else if (c >= 0xc4 && c <= 0xc6) {
            width = (size_t)1 << (c - 0xc4), per = 1;
        } else if (c >= 0xc7 && c <= 0xc9) {
            width = (size_t)1 << (c - 0xc7), per = 1, skip = 1; /* + the ext type byte */
        } else if (c == 0xca || c == 0xcb) {
            skip = c == 0xca ? 4 : 8;
        } else if (c >= 0xcc && c <= 0xd3) {
            skip = (uint64_t)1 << ((c - 0xcc) & 3);
        } else if (c >= 0xd4 && c <= 0xd8) {
            skip = 1 + ((uint64_t)1 << (c - 0xd4));
        } else if (c >= 0xd9 && c <= 0xdb) {
            width = (size_t)1 << (c - 0xd9), per = 1;
        } else if (c == 0xdc || c == 0xdd) {
            width = c == 0xdc ? 2 : 4, per = 3;
        } else { /* 0xde, 0xdf */
            width = c == 0xde ? 2 : 4, per = 2;
        }
        if (width) {
            if (len - off < width)
                return 1;
            uint64_t n = 0;
            for (size_t i = 0; i < width; i++)
                n = (n << 8) | p[off++];
            if (per == 1)
                skip += n;
            else
                items = per == 2 ? 2 * n : n;
        }
        if (skip > len - off)
            return 1;
        off += skip;
        pending += items - 1;
        /* A claim larger than what is left: the file was cut (or damaged)
         * inside this record; either way nothing more can be read. */
        if (pending > len - off)
            return 1;
    }
    *end = off;
    return 0;
}
