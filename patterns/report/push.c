/* push.c - --push's sender: the session as pprof, POSTed to a Pyroscope
 * ingest endpoint (`POST URL/ingest?name=APP{labels}&from=&until=
 * &format=pprof&sampleRate=&spyName=omnipython`, the profile as the
 * multipart form's "profile" part), with a timeout and retries, then a push
 * record appended to the session. */
#include "patterns/report/push.h"
#include "patterns/report/export.h"
#include "patterns/report/http.h"

#include "runtime/session/reader.h"
#include "runtime/session/writer.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BOUNDARY "omnipython-profile-7f3a9c2e"

/* Percent-encodes s (RFC 3986's unreserved characters kept) onto out. */
static void url_encode(const char *s, char *out, size_t cap) {
    size_t n = 0;
    for (; *s && n + 4 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~')
            out[n++] = (char)c;
        else
            n += (size_t)snprintf(out + n, cap - n, "%%%02X", c);
    }
    out[n] = 0;
}

/* The application's name: --push-name, else the script's (or module's)
 * name without ".py", as Pyroscope's names go: letters, digits, ". _ -". */
static void app_name(const omni_session_t *s, const char *given, char *out, size_t cap) {
    const char *t = given;
    char buf[256];
    if (!t) {
        const char *target = s->target ? s->target : "python";
        if (strncmp(target, "-m ", 3) == 0)
            target += 3;
        const char *base = strrchr(target, '/');
        snprintf(buf, sizeof buf, "%s", base ? base + 1 : target);
        size_t len = strlen(buf);
        if (len > 3 && strcmp(buf + len - 3, ".py") == 0)
            buf[len - 3] = 0;
        t = buf[0] && strcmp(buf, "-c") != 0 && strcmp(buf, "-") != 0 ? buf : "python";
    }
    size_t n = 0;
    for (; *t && n + 1 < cap; t++)
        out[n++] = isalnum((unsigned char)*t) || strchr("._-", *t) ? *t : '_';
    out[n] = 0;
}

/* name{host=H,pid=P,k=v...}: Pyroscope's series name with its labels. */
static void series_name(const omni_session_t *s, const omni_push_target_t *t, char *out,
                        size_t cap) {
    char app[256];
    app_name(s, t->name, app, sizeof app);
    snprintf(out, cap, "%s{host=%s,pid=%lld%s%s}", app, s->hostname ? s->hostname : "unknown",
             (long long)s->pid, t->labels && *t->labels ? "," : "",
             t->labels ? t->labels : "");
}

static char *multipart(const void *profile, size_t len, size_t *out_len) {
    static const char head[] = "--" BOUNDARY "\r\n"
                               "Content-Disposition: form-data; name=\"profile\"; "
                               "filename=\"profile.pprof\"\r\n"
                               "Content-Type: application/octet-stream\r\n\r\n";
    static const char tail[] = "\r\n--" BOUNDARY "--\r\n";
    size_t n = sizeof head - 1 + len + sizeof tail - 1;
    char *b = malloc(n);
    if (!b)
        return NULL;
    memcpy(b, head, sizeof head - 1);
    memcpy(b + sizeof head - 1, profile, len);
    memcpy(b + sizeof head - 1 + len, tail, sizeof tail - 1);
    *out_len = n;
    return b;
}

/* More header lines from the environment: an Authorization value
 * (OMNIPYTHON_PUSH_AUTHORIZATION, e.g. "Bearer ..." or "Basic ...") and a
 * tenant (OMNIPYTHON_PUSH_TENANT, sent as X-Scope-OrgID). */
static void env_headers(char *out, size_t cap) {
    const char *auth = getenv("OMNIPYTHON_PUSH_AUTHORIZATION");
    const char *tenant = getenv("OMNIPYTHON_PUSH_TENANT");
    size_t n = 0;
    out[0] = 0;
    if (auth && *auth && !strpbrk(auth, "\r\n"))
        n += (size_t)snprintf(out + n, cap - n, "Authorization: %s\r\n", auth);
    if (tenant && *tenant && !strpbrk(tenant, "\r\n") && n < cap)
        snprintf(out + n, cap - n, "X-Scope-OrgID: %s\r\n", tenant);
}

static void record(const char *path, const omni_push_target_t *t, const char *name,
                   long long attempts, int status, size_t bytes, const char *error) {
    omni_writer_t *w = malloc(sizeof *w);
    if (!w || omni_writer_open(w, path, OMNI_WRITER_APPEND) < 0) {
        free(w);
        return;
    }
    msgpack_packer *pk = &w->pk;
    msgpack_pack_map(pk, 8);
    omni_pack_kv_str(pk, "kind", "push");
    omni_pack_kv_str(pk, "url", t->url);
    omni_pack_kv_str(pk, "name", name);
    omni_pack_kv_u64(pk, "attempts", (uint64_t)attempts);
    omni_pack_kv_i64(pk, "status", status);
    omni_pack_kv_u64(pk, "bytes", bytes);
    omni_pack_kv_str(pk, "error", error);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    omni_pack_kv_u64(pk, "t_unix_ns", (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
    omni_writer_close(w);
    free(w);
}

int omni_push_session(const char *path, const omni_push_target_t *t, char *err, size_t cap) {
    omni_session_t s;
    if (omni_session_load_tree(path, &s, err, cap) < 0)
        return -1;
    char *profile = NULL;
    size_t plen = 0;
    FILE *m = open_memstream(&profile, &plen);
    char xerr[256] = "";
    int xrc = m ? omni_export_pprof(&s, m, xerr, sizeof xerr) : -1;
    if (m && fclose(m) != 0)
        xrc = -1;
    char name[1024], enc[3200], query[4096];
    series_name(&s, t, name, sizeof name);
    url_encode(name, enc, sizeof enc);
    long long from = llround(floor(s.start_unix_s));
    long long until = llround(ceil(s.start_unix_s + (s.has_footer ? s.wall_s : 0)));
    if (until <= from)
        until = from + 1;
    int rate = s.sample_interval_s > 0 ? (int)lround(1 / s.sample_interval_s) : 100;
    snprintf(query, sizeof query,
             "/ingest?name=%s&from=%lld&until=%lld&format=pprof&sampleRate=%d&spyName=omnipython",
             enc, from, until, rate);
    omni_session_free(&s);
    if (xrc < 0) {
        snprintf(err, cap, "nothing to send: %s", xrc == -2 ? xerr : "out of memory");
        record(path, t, name, 0, 0, 0, err);
        free(profile);
        return -1;
    }
    size_t blen;
    char *body = multipart(profile, plen, &blen);
    free(profile);
    if (!body) {
        snprintf(err, cap, "out of memory");
        return -1;
    }
    char headers[2048];
    env_headers(headers, sizeof headers);
    omni_http_post_t req = {t->url, query, "multipart/form-data; boundary=" BOUNDARY, headers,
                            body, blen, t->timeout_s};
    int status = 0, attempt = 0;
    for (; attempt < t->attempts; attempt++) {
        if (attempt)
            sleep(1u << (attempt - 1)); /* 1 s, 2 s, 4 s... */
        char *resp = NULL;
        status = omni_http_post(&req, &resp, NULL, err, cap);
        if (status >= 200 && status < 300) {
            free(resp);
            break;
        }
        if (status > 0) {
            /* the endpoint's own words, when short */
            size_t k = resp ? strcspn(resp, "\r\n") : 0;
            snprintf(err, cap, "the endpoint answered HTTP %d%s%.*s", status, k ? ": " : "",
                     (int)(k > 200 ? 200 : k), resp ? resp : "");
            /* a request it refuses is not tried again; its own trouble is */
            if (status < 500 && status != 429) {
                free(resp);
                attempt++;
                break;
            }
        }
        free(resp);
        status = status > 0 ? status : 0;
    }
    int ok = status >= 200 && status < 300;
    record(path, t, name, ok ? attempt + 1 : attempt, status, blen, ok ? NULL : err);
    free(body);
    return ok ? 0 : -1;
}
