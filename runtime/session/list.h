/* list.h - lists the sessions in a folder (omnipython --sessions). */
#ifndef OMNI_SESSIONS_LIST_H
#define OMNI_SESSIONS_LIST_H

#include <stdio.h>

/* Prints one line per *.omni file in dir, oldest first: start time, wall
 * time, exit status, what ran, the path. Unreadable files are listed with
 * the reason. Returns the number of sessions, or -1 when dir cannot be read. */
int omni_sessions_list(const char *dir, FILE *out);

struct omni_session;
/* Whether the process of a session without a footer is still running: 1
 * when this machine (by host name) has a process of its pid that started
 * when the session did (within 2 s), 0 when it has none, -1 when that
 * cannot be told (another host's session, or no /proc). 0 for a finished
 * session. */
int omni_session_still_running(const struct omni_session *s);

/* When the session at path belongs to a process still running here, asks
 * its monitor for a checkpoint now (a request file beside the session) and
 * waits for it, at most wait_s seconds. Returns 1 when a new checkpoint
 * came, 0 when the process is not running here (or has no monitor to
 * answer in time), -1 when the request could not be made. */
int omni_session_ask_checkpoint(const char *path, double wait_s);

#endif
