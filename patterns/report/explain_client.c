/* explain_client.c - sends --explain's prompt bundle to an OpenAI-compatible
 * endpoint named in the environment (OPENAI_BASE_URL, plain http://), and
 * reads the answer. Nothing is sent when no endpoint is set. */
#include "patterns/report/explain_client.h"
#include "patterns/report/http.h"
#include "patterns/report/utf8.h"

#include "patterns/report/json_out.h"
#include "patterns/report/report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TIMEOUT_S 180


/* ---------------------------------------------------------------- a little JSON reading */

typedef struct jr {
    const char *p, *end;
} jr_t;

static void ws(jr_t *r) {
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
        r->p++;
}

static int hex4(const char *p, const char *end, unsigned *v) {
    if (end - p < 4)
        return -1;
    *v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        *v <<= 4;
        if (c >= '0' && c <= '9')
            *v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            *v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            *v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    return 0;
}

/* A string at r->p: decoded into *out (malloc'd) when out is not NULL. */
static int string(jr_t *r, char **out) {
    ws(r);
    if (r->p >= r->end || *r->p != '"')
        return -1;
    const char *s = ++r->p;
    char *buf = out ? malloc((size_t)(r->end - s) + 1) : NULL, *o = buf;
    if (out && !buf)
        return -1;
    while (r->p < r->end && *r->p != '"') {
        char c = *r->p++;
        if (c != '\\') {
            if (o)
                *o++ = c;
            continue;
        }
        if (r->p >= r->end)
            break;
        char e = *r->p++;
        unsigned cp;
        switch (e) {
        case 'n': c = '\n'; break;
        case 't': c = '\t'; break;
        case 'r': c = '\r'; break;
        case 'b': c = '\b'; break;
        case 'f': c = '\f'; break;
        case 'u':
            if (hex4(r->p, r->end, &cp) < 0)
                goto bad;
            r->p += 4;
            if (cp >= 0xD800 && cp < 0xDC00 && r->end - r->p >= 6 && r->p[0] == '\\' &&
                r->p[1] == 'u') {
                unsigned lo;
                if (hex4(r->p + 2, r->end, &lo) == 0 && lo >= 0xDC00 && lo < 0xE000) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    r->p += 6;
                }
            }
            if (o)
                omni_put_utf8(&o, cp);
            continue;
        default: c = e;
        }
        if (o)
            *o++ = c;
    }
    if (r->p >= r->end)
        goto bad;
    r->p++;
    if (out) {
        *o = 0;
        *out = buf;
    }
    return 0;
bad:
    free(buf);
    return -1;
}

static int skip(jr_t *r, int depth) {
    ws(r);
    if (r->p >= r->end || depth > 64)
        return -1;
    char c = *r->p;
    if (c == '"')
        return string(r, NULL);
    if (c == '{' || c == '[') {
        char close = c == '{' ? '}' : ']';
        r->p++;
        ws(r);
        if (r->p < r->end && *r->p == close) {
            r->p++;
            return 0;
        }
        for (;;) {
            if (c == '{') {
                if (string(r, NULL) < 0)
                    return -1;
                ws(r);
                if (r->p >= r->end || *r->p++ != ':')
                    return -1;
            }
            if (skip(r, depth + 1) < 0)
                return -1;
            ws(r);
            if (r->p >= r->end)
                return -1;
            if (*r->p == ',') {
                r->p++;
                continue;
            }
            if (*r->p++ == close)
                return 0;
            return -1;
        }
    }
    while (r->p < r->end && !strchr(",}] \t\r\n", *r->p))
        r->p++; /* a number, true, false or null */
    return 0;
}

/* Moves r to the value of key in the object at r. */
static int member(jr_t *r, const char *key) {
    ws(r);
    if (r->p >= r->end || *r->p != '{')
        return -1;
    r->p++;
    for (;;) {
        char *k = NULL;
        if (string(r, &k) < 0)
            return -1;
        ws(r);
        int hit = strcmp(k, key) == 0;
        free(k);
        if (r->p >= r->end || *r->p++ != ':')
            return -1;
        if (hit)
            return 0;
        if (skip(r, 0) < 0)
            return -1;
        ws(r);
        if (r->p >= r->end || *r->p++ != ',')
            return -1;
    }
}

/* Moves r to the first element of the array at r. */
static int first(jr_t *r) {
    ws(r);
    if (r->p >= r->end || *r->p != '[')
        return -1;
    r->p++;
    return 0;
}

/* The request's body: the instructions as the system message, the bundle
 * as the user's. */
static char *request_body(const char *model, const char *bundle, size_t *len) {
    char *buf = NULL;
    FILE *m = open_memstream(&buf, len);
    if (!m)
        return NULL;
    omni_json_t j;
    omni_json_init(&j, m);
    omni_json_begin_object(&j);
    omni_json_kv_str(&j, "model", model);
    omni_json_kv_int(&j, "temperature", 0);
    omni_json_key(&j, "messages");
    omni_json_begin_array(&j);
    omni_json_begin_object(&j);
    omni_json_kv_str(&j, "role", "system");
    omni_json_kv_str(&j, "content", omni_explain_instructions);
    omni_json_end_object(&j);
    omni_json_begin_object(&j);
    omni_json_kv_str(&j, "role", "user");
    omni_json_kv_str(&j, "content", bundle);
    omni_json_end_object(&j);
    omni_json_end_array(&j);
    omni_json_end_object(&j);
    if (fclose(m) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

int omni_explain_ask(const char *bundle, char **answer, char *model, size_t model_cap,
                     char *err, size_t cap) {
    const char *base = getenv("OPENAI_BASE_URL");
    if (!base || !*base)
        return 1;
    const char *key = getenv("OPENAI_API_KEY");
    const char *m = getenv("OMNIPYTHON_EXPLAIN_MODEL");
    snprintf(model, model_cap, "%s", m && *m ? m : "gpt-4o-mini");
    if (strncmp(base, "http://", 7) != 0) {
        snprintf(err, cap, "OPENAI_BASE_URL must be an http:// address (omnipython speaks "
                           "plain HTTP: use a local server or an HTTP proxy), not '%s'", base);
        return -1;
    }
    size_t blen;
    char *body = request_body(model, bundle, &blen);
    if (!body) {
        snprintf(err, cap, "out of memory");
        return -1;
    }
    char auth[1024] = "";
    if (key && *key)
        snprintf(auth, sizeof auth, "Authorization: Bearer %s\r\n", key);
    omni_http_post_t req = {base, "/chat/completions", "application/json", auth, body, blen,
                            TIMEOUT_S};
    char *resp = NULL;
    size_t n = 0;
    int status = omni_http_post(&req, &resp, &n, err, cap);
    free(body);
    if (status < 0)
        return -1;
    jr_t r = {resp, resp + n};
    char *content = NULL;
    jr_t e = r;
    if (status == 200 && member(&r, "choices") == 0 && first(&r) == 0 &&
        member(&r, "message") == 0 && member(&r, "content") == 0 && string(&r, &content) == 0) {
        *answer = content;
        free(resp);
        return 0;
    }
    char *msg = NULL;
    if (member(&e, "error") == 0 && member(&e, "message") == 0)
        string(&e, &msg);
    snprintf(err, cap, "the endpoint answered HTTP %d%s%s", status,
             msg ? ": " : " without a message", msg ? msg : "");
    free(msg);
    free(resp);
    return -1;
}
