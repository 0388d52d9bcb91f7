/* pb.c - the protocol-buffers writer. */
#include "patterns/report/pb.h"

#include <stdlib.h>
#include <string.h>

enum { WIRE_VARINT = 0, WIRE_LEN = 2 };

void omni_pb_free(omni_pb_t *b) {
    free(b->p);
    memset(b, 0, sizeof *b);
}

static void put(omni_pb_t *b, const void *data, size_t len) {
    if (b->oom)
        return;
    if (b->n + len > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + len)
            cap *= 2;
        unsigned char *np = realloc(b->p, cap);
        if (!np) {
            b->oom = 1;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->n, data, len);
    b->n += len;
}

void omni_pb_varint(omni_pb_t *b, uint64_t v) {
    unsigned char buf[10];
    size_t k = 0;
    do {
        buf[k] = (unsigned char)(v & 0x7f);
        v >>= 7;
        if (v)
            buf[k] |= 0x80;
        k++;
    } while (v);
    put(b, buf, k);
}

static void tag(omni_pb_t *b, int field, int wire) {
    omni_pb_varint(b, ((uint64_t)field << 3) | (uint64_t)wire);
}

void omni_pb_uint(omni_pb_t *b, int field, uint64_t v) {
    if (!v)
        return;
    tag(b, field, WIRE_VARINT);
    omni_pb_varint(b, v);
}

void omni_pb_int(omni_pb_t *b, int field, int64_t v) {
    omni_pb_uint(b, field, (uint64_t)v); /* int64: two's complement, ten bytes when negative */
}

void omni_pb_bytes(omni_pb_t *b, int field, const void *data, size_t len) {
    tag(b, field, WIRE_LEN);
    omni_pb_varint(b, len);
    put(b, data, len);
}

void omni_pb_msg(omni_pb_t *b, int field, const omni_pb_t *m) {
    if (m->oom)
        b->oom = 1;
    omni_pb_bytes(b, field, m->p, m->n);
}

void omni_pb_packed(omni_pb_t *b, int field, const uint64_t *v, size_t n) {
    if (!n)
        return;
    omni_pb_t body = {0};
    for (size_t i = 0; i < n; i++)
        omni_pb_varint(&body, v[i]);
    omni_pb_msg(b, field, &body);
    omni_pb_free(&body);
}
