/* http.h - a plain HTTP/1.0 POST (http:// only: a local server, a proxy, or
 * an endpoint on the user's network), for --explain's endpoint and --push's
 * profile ingest. */
#ifndef OMNI_HTTP_H
#define OMNI_HTTP_H

#include <stddef.h>

typedef struct omni_http_post {
    const char *url;           /* http://host[:port][/base path] */
    const char *path;          /* appended to the URL's path (no trailing '/' kept) */
    const char *content_type;
    const char *headers;       /* more header lines, each ending "\r\n", or NULL */
    const void *body;
    size_t len;
    int timeout_s;             /* for connecting, sending and each read */
} omni_http_post_t;

/* Sends the request. Returns the answer's HTTP status with its body in
 * *resp (NUL-terminated; free it; NULL when resp is NULL), or -1 with the
 * reason in err (a bad URL, no connection, a timeout, no HTTP answer). */
int omni_http_post(const omni_http_post_t *r, char **resp, size_t *resp_len, char *err,
                   size_t cap);

#endif
