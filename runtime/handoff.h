/* handoff.h - work that must not hold the target up, handed at its end to a
 * process of its own: --push's sending of the run's profile (omnipython
 * --push-session, detached: its own session, stdio on /dev/null, no
 * descriptor of the target's), so that the target exits at once whatever
 * the endpoint does. */
#ifndef OMNI_HANDOFF_H
#define OMNI_HANDOFF_H

/* Starts `omnipython --push-session SESSION --push URL [--push-name NAME]
 * [--push-labels LABELS]` from this process's own executable. Returns 0, or
 * -errno when it could not start. Nothing is waited for. */
int omni_handoff_push(const char *session, const char *url, const char *name,
                      const char *labels);

/* Before the target runs (one thread): starts `omnipython --push-session
 * SESSION --push URL ... --push-follow`, which sends the run's intervals at
 * each checkpoint and the last one at its end, as a grandchild that is not
 * the target's child. Returns 0, or -errno. */
int omni_handoff_push_follow(const char *session, const char *url, const char *name,
                             const char *labels);

#endif
