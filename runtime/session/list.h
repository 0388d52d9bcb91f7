/* list.h - lists the sessions in a folder (omnipython --sessions). */
#ifndef OMNI_SESSIONS_LIST_H
#define OMNI_SESSIONS_LIST_H

#include <stdio.h>

/* Prints one line per *.omni file in dir, oldest first: start time, wall
 * time, exit status, what ran, the path. Unreadable files are listed with
 * the reason. Returns the number of sessions, or -1 when dir cannot be read. */
int omni_sessions_list(const char *dir, FILE *out);

#endif
