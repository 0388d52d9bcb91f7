/* gzip.c - DEFLATE with fixed Huffman codes and LZ77 matching through hash
 * chains, in a gzip container. */
#include "patterns/report/gzip.h"

#include <stdlib.h>
#include <string.h>

uint32_t omni_crc32(uint32_t crc, const void *data, size_t len) {
    static uint32_t table[256];
    static int ready;
    if (!ready) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++)
                c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
        ready = 1;
    }
    const unsigned char *p = data;
    crc = ~crc;
    for (size_t i = 0; i < len; i++)
        crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
    return ~crc;
}

/* ---------------------------------------------------------------- bits */

typedef struct bits {
    unsigned char *out;
    size_t n, cap;
    uint64_t acc;      /* pending bits, the first in bit 0 */
    int nacc;
    int oom;
} bits_t;

static void flush_bytes(bits_t *b) {
    while (b->nacc >= 8) {
        if (b->n == b->cap) {
            size_t cap = b->cap ? b->cap * 2 : 4096;
            unsigned char *np = realloc(b->out, cap);
            if (!np) {
                b->oom = 1;
                b->nacc = 0;
                return;
            }
            b->out = np;
            b->cap = cap;
        }
        b->out[b->n++] = (unsigned char)(b->acc & 0xff);
        b->acc >>= 8;
        b->nacc -= 8;
    }
}

/* n bits of v, least significant first (header fields, extra bits) */
static void put_bits(bits_t *b, uint32_t v, int n) {
    b->acc |= (uint64_t)v << b->nacc;
    b->nacc += n;
    flush_bytes(b);
}

/* a Huffman code of n bits, most significant first */
static void put_code(bits_t *b, uint32_t code, int n) {
    uint32_t r = 0;
    for (int i = 0; i < n; i++)
        r |= ((code >> i) & 1u) << (n - 1 - i);
    put_bits(b, r, n);
}

/* The fixed literal/length code of symbol s (0..287). */
static void put_symbol(bits_t *b, int s) {
    if (s < 144)
        put_code(b, 0x30u + (uint32_t)s, 8);
    else if (s < 256)
        put_code(b, 0x190u + (uint32_t)(s - 144), 9);
    else if (s < 280)
        put_code(b, (uint32_t)(s - 256), 7);
    else
        put_code(b, 0xC0u + (uint32_t)(s - 280), 8);
}

static const uint16_t len_base[29] = {3,  4,  5,  6,  7,  8,  9,  10, 11,  13,  15,  17,  19,  23, 27,
                                      31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
static const uint8_t len_extra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                      2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
static const uint16_t dist_base[30] = {1,    2,    3,    4,    5,    7,     9,     13,    17,  25,
                                       33,   49,   65,   97,   129,  193,   257,   385,   513, 769,
                                       1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
static const uint8_t dist_extra[30] = {0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6,
                                       6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};

static void put_match(bits_t *b, int len, int dist) {
    int i = 28;
    while (len_base[i] > len)
        i--;
    put_symbol(b, 257 + i);
    put_bits(b, (uint32_t)(len - len_base[i]), len_extra[i]);
    int d = 29;
    while (dist_base[d] > dist)
        d--;
    put_code(b, (uint32_t)d, 5);
    put_bits(b, (uint32_t)(dist - dist_base[d]), dist_extra[d]);
}

/* ---------------------------------------------------------------- LZ77 */

#define WINDOW 32768
#define HASH_BITS 15
#define MAX_CHAIN 64
#define MIN_MATCH 3
#define MAX_MATCH 258

static uint32_t hash3(const unsigned char *p) {
    return ((uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2]) * 2654435761u >> (32 - HASH_BITS);
}

/* One final block of fixed codes over the whole input. */
static int deflate_fixed(const unsigned char *in, size_t len, bits_t *b) {
    int32_t *head = malloc(sizeof *head << HASH_BITS), *prev = malloc(sizeof *prev * WINDOW);
    if (!head || !prev) {
        free(head);
        free(prev);
        return -1;
    }
    for (size_t i = 0; i < (size_t)1 << HASH_BITS; i++)
        head[i] = -1;
    put_bits(b, 1, 1); /* BFINAL */
    put_bits(b, 1, 2); /* BTYPE 01: fixed codes */
    size_t i = 0;
    while (i < len && !b->oom) {
        int best = 0, best_dist = 0;
        if (i + MIN_MATCH <= len) {
            uint32_t h = hash3(in + i);
            int32_t cand = head[h];
            size_t limit = len - i < MAX_MATCH ? len - i : MAX_MATCH;
            for (int chain = 0; cand >= 0 && i - (size_t)cand <= WINDOW && chain < MAX_CHAIN;
                 chain++) {
                const unsigned char *a = in + cand, *c = in + i;
                size_t k = 0;
                while (k < limit && a[k] == c[k])
                    k++;
                if ((int)k > best) {
                    best = (int)k;
                    best_dist = (int)(i - (size_t)cand);
                    if (k == limit)
                        break;
                }
                int32_t nx = prev[cand % WINDOW];
                if (nx >= cand)
                    break; /* the slot was reused by a newer position */
                cand = nx;
            }
        }
        size_t step = best >= MIN_MATCH ? (size_t)best : 1;
        if (best >= MIN_MATCH)
            put_match(b, best, best_dist);
        else
            put_symbol(b, in[i]);
        /* every position passed is in the chains */
        for (size_t k = 0; k < step; k++, i++)
            if (i + MIN_MATCH <= len) {
                uint32_t h = hash3(in + i);
                prev[i % WINDOW] = head[h];
                head[h] = (int32_t)i;
            }
    }
    put_symbol(b, 256); /* end of block */
    put_bits(b, 0, 7);  /* to a byte boundary */
    free(head);
    free(prev);
    return b->oom ? -1 : 0;
}

long long omni_gzip_write(const void *data, size_t len, FILE *f) {
    /* positions are int32_t in the chains */
    if (len > 0x7fffffffu)
        return -1;
    static const unsigned char header[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};
    bits_t b = {0};
    if (deflate_fixed(data, len, &b) < 0) {
        free(b.out);
        return -1;
    }
    uint32_t crc = omni_crc32(0, data, len), size = (uint32_t)len;
    unsigned char trailer[8];
    for (int k = 0; k < 4; k++) {
        trailer[k] = (unsigned char)(crc >> (8 * k));
        trailer[4 + k] = (unsigned char)(size >> (8 * k));
    }
    int ok = fwrite(header, 1, sizeof header, f) == sizeof header &&
             fwrite(b.out, 1, b.n, f) == b.n && fwrite(trailer, 1, 8, f) == 8;
    long long written = (long long)(sizeof header + b.n + 8);
    free(b.out);
    return ok ? written : -1;
}
