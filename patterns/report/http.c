/* http.c - a plain HTTP/1.0 POST: connect, send the head and the body, read
 * until the server closes. */
#include "patterns/report/http.h"

#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define MAX_RESPONSE (16 << 20)

static int fail(char *err, size_t cap, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
    return -1;
}

typedef struct url {
    char host[300], port[8], path[2048];
} url_t;

static int parse_url(const char *u, const char *path, url_t *out, char *err, size_t cap) {
    if (strncmp(u, "http://", 7) != 0)
        return fail(err, cap, "'%s' is not an http:// address (omnipython speaks plain HTTP: "
                              "use a local server or an HTTP proxy)", u);
    const char *h = u + 7, *slash = strchr(h, '/');
    size_t hl = slash ? (size_t)(slash - h) : strlen(h);
    char hostport[300];
    if (!hl || hl >= sizeof hostport)
        return fail(err, cap, "'%s' has no host", u);
    memcpy(hostport, h, hl);
    hostport[hl] = 0;
    char *colon = strrchr(hostport, ':');
    snprintf(out->port, sizeof out->port, "%s", colon ? colon + 1 : "80");
    if (colon)
        *colon = 0;
    snprintf(out->host, sizeof out->host, "%s", hostport);
    /* the base's path, without a trailing slash, then the request's */
    char base[1024];
    snprintf(base, sizeof base, "%s", slash ? slash : "");
    size_t bl = strlen(base);
    while (bl && base[bl - 1] == '/')
        base[--bl] = 0;
    if (snprintf(out->path, sizeof out->path, "%s%s", base, path) >= (int)sizeof out->path)
        return fail(err, cap, "the request's path is too long");
    return 0;
}

static int connect_to(const url_t *u, int timeout_s, char *err, size_t cap) {
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
    int rc = getaddrinfo(u->host, u->port, &hints, &res);
    if (rc)
        return fail(err, cap, "%s:%s: %s", u->host, u->port, gai_strerror(rc));
    int fd = -1;
    for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0)
            continue;
        struct timeval tv = {timeout_s, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        if (connect(fd, a->ai_addr, a->ai_addrlen) < 0) {
            rc = errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0)
        return fail(err, cap, "cannot connect to %s:%s: %s", u->host, u->port, strerror(rc));
    return fd;
}

static int send_all(int fd, const char *p, size_t n) {
    while (n) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

int omni_http_post(const omni_http_post_t *r, char **resp_out, size_t *resp_len, char *err,
                   size_t cap) {
    url_t u;
    if (parse_url(r->url, r->path, &u, err, cap) < 0)
        return -1;
    char head[4096];
    int hl = snprintf(head, sizeof head,
                      "POST %s HTTP/1.0\r\nHost: %s\r\nContent-Type: %s\r\n"
                      "Content-Length: %zu\r\nUser-Agent: omnipython/" OMNI_VERSION "\r\n%s\r\n",
                      u.path, u.host, r->content_type, r->len, r->headers ? r->headers : "");
    if (hl < 0 || (size_t)hl >= sizeof head)
        return fail(err, cap, "the request's head is too long");
    int fd = connect_to(&u, r->timeout_s, err, cap);
    if (fd < 0)
        return -1;
    if (send_all(fd, head, (size_t)hl) < 0 || send_all(fd, r->body, r->len) < 0) {
        int e = errno;
        close(fd);
        return fail(err, cap, "cannot send to %s:%s: %s", u.host, u.port, strerror(e));
    }
    /* HTTP/1.0: the answer ends when the server closes */
    char *resp = NULL;
    size_t n = 0, rcap = 0;
    int rc = 0;
    for (;;) {
        if (n + 4096 + 1 > rcap) {
            rcap = rcap ? 2 * rcap : 65536;
            char *nr = rcap > MAX_RESPONSE ? NULL : realloc(resp, rcap);
            if (!nr) {
                rc = fail(err, cap, "the answer is larger than %d MiB", MAX_RESPONSE >> 20);
                break;
            }
            resp = nr;
        }
        ssize_t k = recv(fd, resp + n, rcap - n - 1, 0);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            rc = fail(err, cap, "no answer from %s:%s: %s", u.host, u.port,
                      errno == EAGAIN ? "timed out" : strerror(errno));
        if (k <= 0)
            break;
        n += (size_t)k;
    }
    close(fd);
    if (rc == 0 && !resp)
        rc = fail(err, cap, "%s:%s closed without an answer", u.host, u.port);
    if (rc < 0) {
        free(resp);
        return -1;
    }
    resp[n] = 0;
    int status = 0;
    char *body = strstr(resp, "\r\n\r\n");
    if (sscanf(resp, "HTTP/%*s %d", &status) != 1 || !body || status <= 0) {
        free(resp);
        return fail(err, cap, "%s:%s did not answer in HTTP", u.host, u.port);
    }
    if (resp_out) {
        size_t off = (size_t)(body + 4 - resp);
        memmove(resp, body + 4, n - off + 1);
        *resp_out = resp;
        if (resp_len)
            *resp_len = n - off;
    } else
        free(resp);
    return status;
}
