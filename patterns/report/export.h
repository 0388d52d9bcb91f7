/* export.h - a session in the formats other tools read: folded stacks for
 * flamegraph.pl and Pyroscope, speedscope's JSON, Python's pstats (so
 * snakeviz and gprof2dot), Chrome's trace events (Perfetto) and Go's pprof
 * (Pyroscope, Parca, `go tool pprof`). Each
 * format is its own file; all read only the session model. */
#ifndef OMNI_EXPORT_H
#define OMNI_EXPORT_H

#include <stdio.h>

#include "runtime/session/reader.h"

/* Each returns 0, -1 on a write error, or -2 when the session lacks what
 * the format needs (the message is in err). */
int omni_export_collapsed(const omni_session_t *s, FILE *f, char *err, size_t cap);
int omni_export_speedscope(const omni_session_t *s, FILE *f, char *err, size_t cap);
int omni_export_pstats(const omni_session_t *s, FILE *f, char *err, size_t cap);
int omni_export_chrome(const omni_session_t *s, FILE *f, char *err, size_t cap);
/* pprof's profile.proto, gzip-compressed (export_pprof.c says what is in it) */
int omni_export_pprof(const omni_session_t *s, FILE *f, char *err, size_t cap);
/* The same for a span of the run (--push's intervals: the session then holds
 * the span's counts - the allocation sites' blocks and bytes made in it, and
 * their bytes in use at its end): its start and length. Returns 0 or -1 (a
 * write error, or out of memory). */
int omni_export_pprof_span(const omni_session_t *s, double from_unix_s, double duration_s,
                           FILE *f);

/* The export called name ("collapsed", ...), or NULL. */
typedef int (*omni_export_fn)(const omni_session_t *, FILE *, char *, size_t);
omni_export_fn omni_export_find(const char *name);

#endif
