/* trim.c - the oldest timeline records give way (trim.h). */
#define _GNU_SOURCE
#include "runtime/session/trim.h"

#include <errno.h>
#include <fcntl.h>
#include <msgpack.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "runtime/session/mp_get.h"
#include "runtime/session/pack.h"
#include "runtime/session/writer.h"

typedef struct span {
    size_t from, to;
    int timeline, trimmed;
} span_t;

/* The whole file, or NULL. */
static char *read_all(const char *path, size_t *len) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    char *buf = malloc((size_t)st.st_size + 1);
    size_t n = 0;
    while (buf && n < (size_t)st.st_size) {
        ssize_t k = read(fd, buf + n, (size_t)st.st_size - n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        n += (size_t)k;
    }
    close(fd);
    *len = n;
    return buf;
}

int omni_session_trim(const char *path, size_t keep_bytes) {
    size_t len = 0;
    char *buf = read_all(path, &len);
    if (!buf)
        return -errno ? -errno : -ENOMEM;
    size_t cap = 64, n = 0, off = 0;
    span_t *sp = malloc(cap * sizeof *sp);
    uint64_t dropped = 0, dropped_before = 0;
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    /* the records, and which are the timeline's (a run's end is not there yet) */
    while (sp && off < len) {
        size_t end;
        if (omni_mp_scan((const unsigned char *)buf, len, off, &end) != 0)
            break; /* a record being written: not ours to keep */
        size_t at = off;
        if (msgpack_unpack_next(&u, buf, end, &off) != MSGPACK_UNPACK_SUCCESS)
            break;
        const msgpack_object *kind = omni_mp_get(&u.data, "kind");
        if (n == cap) {
            span_t *g = realloc(sp, 2 * cap * sizeof *sp);
            if (!g)
                break;
            sp = g;
            cap *= 2;
        }
        sp[n] = (span_t){at, end, omni_mp_is_str(kind, "timeline"),
                         omni_mp_is_str(kind, "trimmed")};
        if (sp[n].trimmed) {
            double d = 0;
            omni_mp_num(omni_mp_get(&u.data, "dropped_records"), &d);
            dropped_before += (uint64_t)d;
        }
        n++;
    }
    msgpack_unpacked_destroy(&u);
    if (!sp || off < len) { /* could not read it all: leave it be */
        free(sp);
        free(buf);
        return -EAGAIN;
    }
    /* the newest timeline records that fit */
    size_t kept = 0, first_kept = n;
    for (size_t i = n; i-- > 0;) {
        if (!sp[i].timeline)
            continue;
        if (kept + (sp[i].to - sp[i].from) > keep_bytes)
            break;
        kept += sp[i].to - sp[i].from;
        first_kept = i;
    }
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.trim.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int rc = fd < 0 ? -errno : 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (sp[i].trimmed || (sp[i].timeline && i < first_kept)) {
            dropped += sp[i].timeline;
            continue;
        }
        rc = omni_write_all(fd, buf + sp[i].from, sp[i].to - sp[i].from);
    }
    if (rc == 0) {
        msgpack_sbuffer sb;
        msgpack_sbuffer_init(&sb);
        msgpack_packer pk;
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        msgpack_pack_map(&pk, 4);
        omni_pack_kv_str(&pk, "kind", "trimmed");
        omni_pack_kv_u64(&pk, "dropped_records", dropped + dropped_before);
        omni_pack_kv_u64(&pk, "keep_bytes", keep_bytes);
        omni_pack_kv_u64(&pk, "t_unix_ns",
                         (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
        rc = omni_write_all(fd, sb.data, sb.size);
        msgpack_sbuffer_destroy(&sb);
    }
    if (fd >= 0 && close(fd) < 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && rename(tmp, path) < 0)
        rc = -errno;
    if (rc < 0)
        unlink(tmp);
    free(sp);
    free(buf);
    if (rc < 0)
        return rc;
    int nfd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
    return nfd < 0 ? -errno : nfd;
}
