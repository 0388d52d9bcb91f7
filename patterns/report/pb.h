/* pb.h - a protocol-buffers writer: varints, tagged fields, packed repeated
 * numbers and nested messages, into a growing buffer. Enough for pprof's
 * profile.proto; proto3 rules (a field at its default is left out). */
#ifndef OMNI_PB_H
#define OMNI_PB_H

#include <stddef.h>
#include <stdint.h>

typedef struct omni_pb {
    unsigned char *p;
    size_t n, cap;
    int oom;           /* a growth failed: the buffer is incomplete */
} omni_pb_t;

void omni_pb_free(omni_pb_t *b);
void omni_pb_varint(omni_pb_t *b, uint64_t v);
/* field = v (wire type varint); nothing when v is 0 */
void omni_pb_uint(omni_pb_t *b, int field, uint64_t v);
void omni_pb_int(omni_pb_t *b, int field, int64_t v);
/* field = the bytes (wire type length-delimited), written even when empty */
void omni_pb_bytes(omni_pb_t *b, int field, const void *data, size_t len);
/* field = a nested message (another buffer's bytes) */
void omni_pb_msg(omni_pb_t *b, int field, const omni_pb_t *m);
/* field = packed repeated varints; nothing when n is 0 */
void omni_pb_packed(omni_pb_t *b, int field, const uint64_t *v, size_t n);

#endif
