/* test_pb_gzip.c - the protocol-buffers writer (varints, fields, packed and
 * nested) against known encodings, and gzip: CRC-32's check value, and the
 * container around DEFLATE (the inflating is test_pprof.py's, by Python's
 * gzip module and by go tool pprof). */
#include "patterns/report/gzip.h"
#include "patterns/report/pb.h"
#include "test/unit.h"

#include <stdlib.h>

static int same(const omni_pb_t *b, const unsigned char *want, size_t n) {
    return b->n == n && memcmp(b->p, want, n) == 0;
}

int main(void) {
    omni_pb_t b = {0};
    omni_pb_varint(&b, 300); /* the protobuf documentation's example */
    CHECK(same(&b, (const unsigned char[]){0xac, 0x02}, 2));
    omni_pb_free(&b);

    omni_pb_uint(&b, 1, 150);
    omni_pb_uint(&b, 2, 0); /* a default: left out */
    CHECK(same(&b, (const unsigned char[]){0x08, 0x96, 0x01}, 3));
    omni_pb_free(&b);

    omni_pb_int(&b, 3, -1); /* int64: ten bytes */
    CHECK_INT(b.n, 11);
    CHECK_INT(b.p[0], 0x18);
    CHECK_INT(b.p[10], 0x01);
    omni_pb_free(&b);

    omni_pb_bytes(&b, 6, "", 0); /* the string table's first string */
    omni_pb_bytes(&b, 6, "cpu", 3);
    CHECK(same(&b, (const unsigned char[]){0x32, 0x00, 0x32, 0x03, 'c', 'p', 'u'}, 7));
    omni_pb_free(&b);

    uint64_t v[] = {3, 270, 86942};
    omni_pb_packed(&b, 4, v, 3); /* the documentation's packed example */
    CHECK(same(&b, (const unsigned char[]){0x22, 0x06, 0x03, 0x8e, 0x02, 0x9e, 0xa7, 0x05}, 8));
    omni_pb_free(&b);

    omni_pb_t inner = {0};
    omni_pb_uint(&inner, 1, 150);
    omni_pb_msg(&b, 3, &inner);
    CHECK(same(&b, (const unsigned char[]){0x1a, 0x03, 0x08, 0x96, 0x01}, 5));
    omni_pb_free(&b);
    omni_pb_free(&inner);

    CHECK_INT(omni_crc32(0, "123456789", 9), 0xCBF43926u);
    CHECK_INT(omni_crc32(omni_crc32(0, "1234", 4), "56789", 5), 0xCBF43926u);

    /* the container: magic, method, and the trailer's CRC and size */
    const char *text = "abcabcabcabcabcabcabcabcabcabc, repeated: abcabcabcabc";
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    long long n = omni_gzip_write(text, strlen(text), f);
    fclose(f);
    CHECK_INT(n, (long long)len);
    CHECK(len > 18 && len < 10 + strlen(text) + 8); /* the repeats were matched */
    const unsigned char *u = (const unsigned char *)out;
    CHECK(u[0] == 0x1f && u[1] == 0x8b && u[2] == 8);
    uint32_t crc = 0, size = 0;
    for (int k = 0; k < 4; k++) {
        crc |= (uint32_t)u[len - 8 + k] << (8 * k);
        size |= (uint32_t)u[len - 4 + k] << (8 * k);
    }
    CHECK_INT(crc, omni_crc32(0, text, strlen(text)));
    CHECK_INT(size, strlen(text));
    free(out);
    /* the empty input: a final block holding only its end */
    f = open_memstream(&out, &len);
    CHECK(omni_gzip_write("", 0, f) > 0);
    fclose(f);
    CHECK_INT(len, 10 + 2 + 8);
    free(out);
    return unit_failures ? 1 : 0;
}
