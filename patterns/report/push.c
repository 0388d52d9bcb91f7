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
#include "runtime/session/list.h"
#include "runtime/slots.h"

#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BOUNDARY "omnipython-profile-7f3a9c2e"
/* intervals waiting to be sent (OMNIPYTHON_PUSH_QUEUE); a full queue drops its oldest */
#define QUEUE_BOUND 16

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

/* What the sender did, for the session's push record. */
typedef struct omni_push_account {
    long long attempts;     /* requests made */
    int status;             /* the last answer's HTTP status, 0 when none came */
    size_t bytes;           /* bodies sent */
    const char *error;      /* the last failure's reason, NULL when all went */
    /* --push with checkpoints: the intervals made, taken (2xx), given up on,
     * and dropped from the full queue (or left when the drain's time ran out) */
    uint64_t intervals, sent, failed, dropped;
    uint64_t queue_bound;
} omni_push_account_t;

static void record(const char *path, const omni_push_target_t *t, const char *name,
                   const omni_push_account_t *a) {
    omni_writer_t *w = malloc(sizeof *w);
    if (!w || omni_writer_open(w, path, OMNI_WRITER_APPEND) < 0) {
        free(w);
        return;
    }
    msgpack_packer *pk = &w->pk;
    msgpack_pack_map(pk, a->intervals ? 13 : 8);
    omni_pack_kv_str(pk, "kind", "push");
    omni_pack_kv_str(pk, "url", t->url);
    omni_pack_kv_str(pk, "name", name);
    omni_pack_kv_u64(pk, "attempts", (uint64_t)a->attempts);
    omni_pack_kv_i64(pk, "status", a->status);
    omni_pack_kv_u64(pk, "bytes", a->bytes);
    omni_pack_kv_str(pk, "error", a->error);
    if (a->intervals) {
        omni_pack_kv_u64(pk, "intervals", a->intervals);
        omni_pack_kv_u64(pk, "intervals_sent", a->sent);
        omni_pack_kv_u64(pk, "intervals_failed", a->failed);
        omni_pack_kv_u64(pk, "intervals_dropped", a->dropped);
        omni_pack_kv_u64(pk, "queue_bound", a->queue_bound);
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    omni_pack_kv_u64(pk, "t_unix_ns", (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
    omni_writer_close(w);
    free(w);
}

/* POSTs body to t's endpoint with query, up to t->attempts times (1 s, 2 s,
 * 4 s... apart; a refusal other than 429 is not tried again). Returns the
 * last HTTP status (0: none came, the reason in err); *attempts: how many. */
static int post_retrying(const omni_push_target_t *t, const char *query, const char *body,
                         size_t blen, int *attempts, char *err, size_t cap) {
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
            attempt++;
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
    *attempts = attempt;
    return status;
}

/* The query of one profile: the series, its span in Unix seconds. */
static void ingest_query(const omni_session_t *s, const omni_push_target_t *t, long long from,
                         long long until, char *name, size_t name_cap, char *query,
                         size_t cap) {
    char enc[3200];
    series_name(s, t, name, name_cap);
    url_encode(name, enc, sizeof enc);
    int rate = s->sample_interval_s > 0 ? (int)lround(1 / s->sample_interval_s) : 100;
    snprintf(query, cap,
             "/ingest?name=%s&from=%lld&until=%lld&format=pprof&sampleRate=%d&spyName=omnipython",
             enc, from, until, rate);
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
    char name[1024], query[4096];
    long long from = llround(floor(s.start_unix_s));
    long long until = llround(ceil(s.start_unix_s + (s.has_footer ? s.wall_s : 0)));
    if (until <= from)
        until = from + 1;
    ingest_query(&s, t, from, until, name, sizeof name, query, sizeof query);
    omni_session_free(&s);
    if (xrc < 0) {
        snprintf(err, cap, "nothing to send: %s", xrc == -2 ? xerr : "out of memory");
        omni_push_account_t acc = {0, 0, 0, err, 0, 0, 0, 0, 0};
        record(path, t, name, &acc);
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
    int attempts, status = post_retrying(t, query, body, blen, &attempts, err, cap);
    int ok = status >= 200 && status < 300;
    omni_push_account_t acc = {attempts, status, blen, ok ? NULL : err, 0, 0, 0, 0, 0};
    record(path, t, name, &acc);
    free(body);
    return ok ? 0 : -1;
}

/* ---------------------------------------------------------------- intervals (checkpoints) */

/* The counts a profile already sent held, by what they count: a stack of a
 * thread of a process, or a function of one. Keys hash names, not indices:
 * a joined tree's indices move as its processes grow. */
typedef struct sent_counts {
    uint64_t *keys;
    uint64_t (*vals)[3];
    uint32_t *slots;       /* slots.h: 2 * cap */
    uint32_t n, cap;
} sent_counts_t;

static uint64_t mix(uint64_t h, uint64_t v) {
    h = (h ^ v) * 0x100000001b3ull;
    return h ^ (h >> 29);
}

static uint64_t str_hash(uint64_t h, const char *p) {
    for (; p && *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    return mix(h, 0xff);
}

static uint64_t code_key(const omni_session_t *s, int64_t code) {
    if (code < 0 || (size_t)code >= s->n_codes)
        return 0x9e3779b97f4a7c15ull;
    const omni_scode_t *c = &s->codes[code];
    return mix(str_hash(str_hash(1469598103934665603ull, c->file), c->name), (uint64_t)c->line);
}

static uint64_t stack_key(const omni_session_t *s, const omni_sstack_t *st) {
    uint64_t h = mix(mix(17, (uint64_t)st->pid), (uint64_t)st->native_id);
    for (int64_t k = st->node; k >= 0; k = s->snodes[k].parent)
        h = mix(mix(h, code_key(s, s->snodes[k].code)), (uint64_t)s->snodes[k].line);
    return h;
}

static uint64_t func_key(const omni_session_t *s, const omni_sthread_t *t, uint32_t code) {
    return mix(mix(mix(mix(31, (uint64_t)t->pid), t->id), (uint64_t)t->native_id),
               code_key(s, code));
}

/* An allocation site: its frames, innermost first, and its heap. */
static uint64_t mem_key(const omni_session_t *s, size_t node) {
    uint64_t h = mix(43, (uint64_t)s->mem_nodes[node].native);
    for (int64_t k = (int64_t)node; k >= 0; k = s->mem_nodes[k].parent)
        h = mix(mix(h, code_key(s, s->mem_nodes[k].code)), (uint64_t)s->mem_nodes[k].line);
    return h;
}

static int counts_init(sent_counts_t *m, size_t n) {
    memset(m, 0, sizeof *m);
    m->cap = 16;
    while (m->cap < n)
        m->cap *= 2;
    m->keys = malloc(m->cap * sizeof *m->keys);
    m->vals = malloc(m->cap * sizeof *m->vals);
    m->slots = calloc(2 * (size_t)m->cap, sizeof *m->slots);
    return m->keys && m->vals && m->slots ? 0 : -1;
}

static void counts_free(sent_counts_t *m) {
    free(m->keys);
    free(m->vals);
    free(m->slots);
    memset(m, 0, sizeof *m);
}

static uint64_t *counts_find(const sent_counts_t *m, uint64_t key) {
    if (!m->slots)
        return NULL;
    uint32_t mask = 2 * m->cap - 1;
    for (uint32_t j = (uint32_t)key & mask; m->slots[j]; j = (j + 1) & mask)
        if (m->keys[m->slots[j] - 1] == key)
            return m->vals[m->slots[j] - 1];
    return NULL;
}

/* Adds v to key's counts (m was sized for every key it gets). */
static void counts_add(sent_counts_t *m, uint64_t key, uint64_t a, uint64_t b, uint64_t c) {
    uint64_t *v = counts_find(m, key);
    if (!v) {
        if (m->n == m->cap)
            return;
        m->keys[m->n] = key;
        v = m->vals[m->n];
        v[0] = v[1] = v[2] = 0;
        omni_slots_put(m->slots, 2 * m->cap - 1, (uint32_t)key, m->n++);
    }
    v[0] += a;
    v[1] += b;
    v[2] += c;
}

/* x less what is left of *budget, which pays for it: rows of one key (two
 * frames on one line are two rows of the sampler's tree) share the count. */
static uint64_t take(uint64_t x, uint64_t *budget) {
    uint64_t t = x < *budget ? x : *budget;
    *budget -= t;
    return x - t;
}

/* What a profile already sent counted: the stacks' samples, cpu and gil;
 * the functions' calls; the allocation sites' blocks and bytes (bytes in use
 * are a state, sent whole each time). */
typedef struct sent {
    sent_counts_t st, fn, mem;
} sent_t;

static void sent_free(sent_t *x) {
    counts_free(&x->st);
    counts_free(&x->fn);
    counts_free(&x->mem);
}

/* The run's counts so far, as a profile already sent. */
static int counts_of(const omni_session_t *s, sent_t *x) {
    size_t nf = 0;
    for (size_t t = 0; t < s->n_threads; t++)
        nf += s->threads[t].n_funcs;
    memset(x, 0, sizeof *x); /* sent_free()-able whatever fails */
    sent_counts_t *st = &x->st, *fn = &x->fn;
    if (counts_init(st, s->n_sstacks) < 0 || counts_init(fn, nf) < 0 ||
        counts_init(&x->mem, s->n_mem_nodes) < 0)
        return -1;
    for (size_t i = 0; i < s->n_mem_nodes; i++) {
        const omni_smemnode_t *n = &s->mem_nodes[i];
        counts_add(&x->mem, mem_key(s, i), (uint64_t)llround(n->allocs),
                   (uint64_t)llround(n->alloc_bytes), 0);
    }
    for (size_t i = 0; i < s->n_sstacks; i++) {
        const omni_sstack_t *x = &s->sstacks[i];
        counts_add(st, stack_key(s, x), x->samples, x->cpu, x->gil);
    }
    for (size_t t = 0; t < s->n_threads; t++)
        for (size_t i = 0; i < s->threads[t].n_funcs; i++) {
            const omni_sfunc_t *f = &s->threads[t].funcs[i];
            counts_add(fn, func_key(s, &s->threads[t], f->code), f->calls, f->primitive_calls, 0);
        }
    return 0;
}

/* s's counts less what was sent (x is used up): s then holds the interval's. */
static void subtract(omni_session_t *s, sent_t *x) {
    sent_counts_t *st = &x->st, *fn = &x->fn;
    for (size_t i = 0; i < s->n_mem_nodes; i++) {
        omni_smemnode_t *n = &s->mem_nodes[i];
        uint64_t *v = counts_find(&x->mem, mem_key(s, i));
        if (v) {
            n->allocs = (double)take((uint64_t)llround(n->allocs), &v[0]);
            n->alloc_bytes = (double)take((uint64_t)llround(n->alloc_bytes), &v[1]);
        }
    }
    for (size_t i = 0; i < s->n_sstacks; i++) {
        omni_sstack_t *x = &s->sstacks[i];
        uint64_t *v = counts_find(st, stack_key(s, x));
        if (v) {
            x->samples = take(x->samples, &v[0]);
            x->cpu = take(x->cpu, &v[1]);
            x->gil = take(x->gil, &v[2]);
        }
    }
    for (size_t t = 0; t < s->n_threads; t++)
        for (size_t i = 0; i < s->threads[t].n_funcs; i++) {
            omni_sfunc_t *f = &s->threads[t].funcs[i];
            uint64_t *v = counts_find(fn, func_key(s, &s->threads[t], f->code));
            if (v) {
                f->calls = take(f->calls, &v[0]);
                f->primitive_calls = take(f->primitive_calls, &v[1]);
            }
        }
}

/* The queue between the follower, which makes the intervals, and the
 * sender, which may wait on a slow endpoint. */
typedef struct item {
    char *body;
    size_t len;
    char query[4096];
} item_t;

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    item_t *q;
    int head, n, bound;
    int closing;            /* no more items come */
    double drain_until;     /* once closing: CLOCK_MONOTONIC seconds the sender may go on */
    const omni_push_target_t *t;
    omni_push_account_t acc;
    char err[512];
} fq = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER};

static double mono_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *sender_main(void *arg) {
    (void)arg;
    pthread_mutex_lock(&fq.mu);
    for (;;) {
        while (!fq.n && !fq.closing)
            pthread_cond_wait(&fq.cv, &fq.mu);
        if (!fq.n)
            break;
        item_t it = fq.q[fq.head];
        fq.head = (fq.head + 1) % fq.bound;
        fq.n--;
        if (fq.closing && mono_s() > fq.drain_until) {
            fq.acc.dropped++; /* the run is over and the endpoint had its time */
            free(it.body);
            continue;
        }
        pthread_mutex_unlock(&fq.mu);
        char err[512] = "";
        int attempts,
            status = post_retrying(fq.t, it.query, it.body, it.len, &attempts, err, sizeof err);
        free(it.body);
        pthread_mutex_lock(&fq.mu);
        fq.acc.attempts += attempts;
        fq.acc.status = status;
        if (status >= 200 && status < 300) {
            fq.acc.sent++;
            fq.acc.bytes += it.len;
        } else {
            fq.acc.failed++;
            snprintf(fq.err, sizeof fq.err, "%s", err);
            fq.acc.error = fq.err;
        }
    }
    pthread_mutex_unlock(&fq.mu);
    return NULL;
}

static void enqueue(char *body, size_t len, const char *query) {
    pthread_mutex_lock(&fq.mu);
    if (fq.n == fq.bound) { /* the oldest goes: the newest says most about now */
        free(fq.q[fq.head].body);
        fq.head = (fq.head + 1) % fq.bound;
        fq.n--;
        fq.acc.dropped++;
    }
    item_t *it = &fq.q[(fq.head + fq.n) % fq.bound];
    it->body = body;
    it->len = len;
    snprintf(it->query, sizeof it->query, "%s", query);
    fq.n++;
    fq.acc.intervals++;
    pthread_cond_signal(&fq.cv);
    pthread_mutex_unlock(&fq.mu);
}

/* The interval's profile, queued for the sender. Returns 0, or -1 when it
 * could not be made (memory). */
static int queue_interval(const omni_session_t *s, const omni_push_target_t *t, long long from,
                          long long until, char *name, size_t name_cap) {
    char *profile = NULL, query[4096];
    size_t plen = 0;
    FILE *m = open_memstream(&profile, &plen);
    int rc = m ? omni_export_pprof_span(s, (double)from, (double)(until - from), m) : -1;
    if (m && fclose(m) != 0)
        rc = -1;
    size_t blen;
    char *body = rc == 0 ? multipart(profile, plen, &blen) : NULL;
    free(profile);
    if (!body)
        return -1;
    ingest_query(s, t, from, until, name, name_cap, query, sizeof query);
    enqueue(body, blen, query);
    return 0;
}

int omni_push_follow(const char *path, const omni_push_target_t *t, char *err, size_t cap) {
    fq.t = t;
    const char *qb = getenv("OMNIPYTHON_PUSH_QUEUE");
    fq.bound = qb && atoi(qb) > 0 && atoi(qb) <= 1024 ? atoi(qb) : QUEUE_BOUND;
    fq.acc.queue_bound = (uint64_t)fq.bound;
    fq.q = calloc((size_t)fq.bound, sizeof *fq.q);
    pthread_t sender;
    if (!fq.q || pthread_create(&sender, NULL, sender_main, NULL) != 0) {
        snprintf(err, cap, "cannot start the sender thread");
        free(fq.q);
        return -1;
    }
    sent_t sent = {0};
    long long from = -1;
    uint64_t seq = UINT64_MAX;
    int truncated = 0, ended = 0;
    char name[1024] = "";
    struct timespec tick = {0, 250 * 1000 * 1000};
    while (!ended) {
        nanosleep(&tick, NULL);
        omni_session_t s;
        char lerr[256];
        if (omni_session_load_tree(path, &s, lerr, sizeof lerr) < 0) {
            if (access(path, F_OK) != 0)
                break; /* the session is gone */
            continue;   /* its header is not there yet */
        }
        if (from < 0)
            from = llround(floor(s.start_unix_s));
        truncated = s.truncated;
        int final = s.has_footer;
        int fresh = final || (s.from_checkpoint && s.checkpoint_seq != seq);
        if (!fresh) {
            /* killed, or gone from this machine: the last checkpoint was sent */
            ended = omni_session_still_running(&s) != 1;
            omni_session_free(&s);
            continue;
        }
        /* whole seconds, as the endpoint counts them: a checkpoint's interval
         * ends at the second before it, the last one at the second after the end */
        long long until = final ? llround(ceil(s.start_unix_s + s.wall_s))
                                : llround(floor(s.start_unix_s + s.checkpoint_t_s));
        if (final && until <= from)
            until = from + 1;
        if (until > from) {
            sent_t now;
            if (counts_of(&s, &now) == 0) {
                subtract(&s, &sent);
                if (queue_interval(&s, t, from, until, name, sizeof name) == 0) {
                    from = until;
                    seq = s.checkpoint_seq;
                    sent_free(&sent);
                    sent = now;
                } else {
                    sent_free(&now);
                }
            } else {
                sent_free(&now);
            }
        }
        ended = final;
        omni_session_free(&s);
    }
    pthread_mutex_lock(&fq.mu);
    fq.closing = 1;
    fq.drain_until = mono_s() + 2.0 * t->timeout_s + 5; /* the run is over: a bounded wait */
    pthread_cond_signal(&fq.cv);
    pthread_mutex_unlock(&fq.mu);
    pthread_join(sender, NULL);
    free(fq.q);
    sent_free(&sent);
    /* a session cut inside a record (the run killed while writing) is not
     * appended to: the record would be read as part of the cut one */
    if (!truncated && name[0])
        record(path, t, name, &fq.acc);
    if (fq.acc.failed || fq.acc.dropped) {
        snprintf(err, cap, "%llu of %llu intervals sent, %llu failed, %llu dropped%s%s",
                 (unsigned long long)fq.acc.sent, (unsigned long long)fq.acc.intervals,
                 (unsigned long long)fq.acc.failed, (unsigned long long)fq.acc.dropped,
                 fq.acc.error ? ": " : "", fq.acc.error ? fq.acc.error : "");
        return -1;
    }
    return 0;
}
