/* format.h - what the writer and the readers of a session file agree on: the
 * format's name and version (SESSION.md documents the records). */
#ifndef OMNI_SESSION_FORMAT_H
#define OMNI_SESSION_FORMAT_H

/* The header record's "format" and "version": a reader rejects another
 * format, and a version newer than its own. */
#define OMNI_SESSION_FORMAT "omnipython-session"
#define OMNI_SESSION_VERSION 1

#endif
