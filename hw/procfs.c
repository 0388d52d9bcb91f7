/* procfs.c - small readers for /proc and /sys files. */
#include "hw/procfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

ssize_t omni_read_file(const char *path, char *buf, size_t cap) {
    if (cap == 0)
        return -EINVAL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    size_t len = 0;
    while (len + 1 < cap) {
        ssize_t n = read(fd, buf + len, cap - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            close(fd);
            return -e;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    buf[len] = 0;
    return (ssize_t)len;
}

int omni_read_u64(const char *path, uint64_t *v) {
    char buf[64], *end;
    if (omni_read_file(path, buf, sizeof buf) <= 0)
        return -1;
    errno = 0;
    unsigned long long x = strtoull(buf, &end, 0);
    if (end == buf || errno)
        return -1;
    *v = x;
    return 0;
}

/* The start of the value on the line that begins with key, or NULL. */
static const char *find_key(const char *text, const char *key, char sep) {
    size_t klen = strlen(key);
    for (const char *line = text; line && *line;) {
        if (strncmp(line, key, klen) == 0) {
            const char *v = line + klen;
            while (*v == ' ' || *v == '\t')
                v++;
            if (*v == sep || (sep == 0 && (*v == ':' || *v == '=' || v > line + klen))) {
                if (*v == ':' || *v == '=')
                    v++;
                while (*v == ' ' || *v == '\t' || *v == '"')
                    v++;
                return v;
            }
        }
        line = strchr(line, '\n');
        if (line)
            line++;
    }
    return NULL;
}

int omni_text_u64(const char *text, const char *key, uint64_t *v) {
    const char *p = find_key(text, key, 0);
    char *end;
    if (!p)
        return -1;
    unsigned long long x = strtoull(p, &end, 10);
    if (end == p)
        return -1;
    *v = x;
    return 0;
}

int omni_text_str(const char *text, const char *key, char sep, char *out, size_t cap) {
    const char *p = find_key(text, key, sep);
    if (!p || cap == 0)
        return -1;
    size_t n = strcspn(p, "\"\n");
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    if (n >= cap)
        n = cap - 1;
    memcpy(out, p, n);
    out[n] = 0;
    return 0;
}
