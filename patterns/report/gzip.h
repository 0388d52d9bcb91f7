/* gzip.h - gzip (RFC 1952) of a buffer: DEFLATE (RFC 1951) with LZ77 over a
 * 32 KiB window and the fixed Huffman codes, enough for pprof's profiles
 * (Parca and Pyroscope want them compressed). */
#ifndef OMNI_GZIP_H
#define OMNI_GZIP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* CRC-32 (ISO 3309, as gzip uses it) of data, continuing crc (0 to start). */
uint32_t omni_crc32(uint32_t crc, const void *data, size_t len);

/* Writes data gzip-compressed to f. Returns the bytes written, or -1 (out
 * of memory or a write error). */
long long omni_gzip_write(const void *data, size_t len, FILE *f);

#endif
