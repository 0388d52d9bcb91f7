/* trim.h - keeps a running session within its bound (--max-session-mb):
 * the oldest timeline records give way to the newest. Only the monitor
 * thread writes the session while the run goes on, so it may rewrite it. */
#ifndef OMNI_SESSION_TRIM_H
#define OMNI_SESSION_TRIM_H

#include <stddef.h>

/* Rewrites the session at path: every record but the timeline's, then the
 * newest timeline records that fit in keep_bytes, then a "trimmed" record
 * saying what went (one, its counts summed over earlier trims); written
 * whole under another name and renamed over the session. Returns a new
 * descriptor of it opened O_APPEND (the caller closes the old one), or
 * -errno (the session is then as it was). */
int omni_session_trim(const char *path, size_t keep_bytes);

#endif
