/* format.h - what the writer and the readers of a session file agree on: the
 * format's name and version (SESSION.md documents the records). */
#ifndef OMNI_SESSION_FORMAT_H
#define OMNI_SESSION_FORMAT_H

/* The header record's "format" and "version": a reader rejects another
 * format, and a version newer than its own. */
#define OMNI_SESSION_FORMAT "omnipython-session"
#define OMNI_SESSION_VERSION 1

/* The checkpoint of a running session lies beside it, named after it. */
#define OMNI_CHECKPOINT_SUFFIX ".ckpt"
/* A file of this name beside the session asks its monitor for a checkpoint
 * now (omnipython --report on a running process makes one). */
#define OMNI_CHECKPOINT_REQUEST_SUFFIX ".ckpt-request"

#endif
