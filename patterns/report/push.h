/* push.h - --push's sender: a finished run's profile (its tree joined), in
 * pprof, to a Pyroscope-compatible ingest endpoint; what happened is added
 * to the session as a push record. */
#ifndef OMNI_PUSH_H
#define OMNI_PUSH_H

#include <stddef.h>

typedef struct omni_push_target {
    const char *url;        /* http://host:port[/path]: POST URL/ingest?... */
    const char *name;       /* the application's name; NULL: the script's */
    const char *labels;     /* "k=v,k=v" beside host and pid, or NULL */
    int timeout_s;          /* each attempt's */
    int attempts;           /* at most this many, 1 s, 2 s, 4 s... apart */
} omni_push_target_t;

/* Sends the session at path. Returns 0 when the endpoint took it (2xx), or
 * -1 with the reason in err; either way the session gets a push record
 * (unless it cannot be read or written at all). */
int omni_push_session(const char *path, const omni_push_target_t *t, char *err, size_t cap);

/* Follows the session at path while its run lasts (started with the run,
 * detached): each new checkpoint's interval - the counts since the last
 * one sent, over whole seconds from where the last one ended - is queued
 * (at most 16 waiting, or OMNIPYTHON_PUSH_QUEUE; a full queue drops its
 * oldest) and sent by a thread
 * of its own with t's timeout and retries; the footer's tables make the
 * last interval. When the run is over (or killed), the queue gets a bounded
 * time to drain and the session a push record counting the intervals made,
 * sent, failed and dropped. Returns 0 when every interval was sent, or -1
 * with the account in err. */
int omni_push_follow(const char *path, const omni_push_target_t *t, char *err, size_t cap);

#endif
