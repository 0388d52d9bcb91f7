/* iocount.h - exact byte accounting at the system-call boundary: the
 * executable defines read, write, send, recv and their relatives (exported,
 * so libpython, linked in, and extension modules, loaded, call them first),
 * counts bytes and operations by descriptor kind, by size and by the Python
 * function that made the call, and calls libc's. */
#ifndef OMNI_IOCOUNT_H
#define OMNI_IOCOUNT_H

#include "runtime/session/writer.h"

/* Starts counting (before the target runs). */
void omni_iocount_start(void);
/* Stops counting; idempotent. */
void omni_iocount_stop(void);
/* omnipython's own threads (the monitor, the prober) call this once: their
 * I/O is not the target's. The end of the run marks its thread too. */
void omni_iocount_ignore_thread(void);
/* Sets whether this thread's I/O is left out (omnipython's own reads of
 * /proc on the target's thread); returns the previous setting. */
int omni_iocount_ignore(int on);
/* The descriptors open now that omnipython's threads or code made (up to
 * cap into out); returns how many. */
int omni_iocount_own_fds(int *out, int cap);
/* fd is omnipython's (one a library opened for it without the executable's
 * open: a GPU driver's device files) until it is closed. */
void omni_iocount_mark_own(int fd);
/* fd is omnipython's for certain and for long (the monitor's loop, the
 * session it appends to): the target neither sees nor closes it. */
void omni_iocount_hide_own(int fd);
/* fn runs on the target's thread when the target takes one of the hidden
 * descriptors' numbers for itself (dup2 onto it), before it does. */
void omni_iocount_on_taken(void (*fn)(int fd));
/* Closes one of omnipython's descriptors (the target's close would not). */
void omni_iocount_close_own(int fd);
/* Writes the "io" record (no allocation: callable from a signal handler). */
void omni_iocount_write(msgpack_packer *pk);
/* In a forked child that starts its own session: zero the counts. */
void omni_iocount_reset(void);

/* The target's bytes so far, all threads: bytes[k] = {read, written} for
 * the kind names[k]; returns the number of kinds (omni.profile's io). */
int omni_iocount_totals(uint64_t (*bytes)[2], const char **names, int cap);

#endif
