/* procfs.h - small readers for /proc and /sys files: the whole file at once,
 * numbers by key, no allocation (the monitor thread reads these every tick). */
#ifndef OMNI_HW_PROCFS_H
#define OMNI_HW_PROCFS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Reads the file at path into buf (at most cap-1 bytes) and NUL-terminates
 * it. Returns the bytes read, or -errno. */
ssize_t omni_read_file(const char *path, char *buf, size_t cap);

/* Reads a file holding one unsigned number (a /sys attribute). Returns 0 or -1. */
int omni_read_u64(const char *path, uint64_t *v);

/* Finds the line "key<blanks>:<blanks>number" (or "key=number", "key number")
 * in text and parses the number. Returns 0, or -1 when absent. */
int omni_text_u64(const char *text, const char *key, uint64_t *v);

/* Copies the value of the line "key<sep>value" in text into out, trimmed of
 * blanks and double quotes. Returns 0, or -1 when absent. */
int omni_text_str(const char *text, const char *key, char sep, char *out, size_t cap);

#endif
