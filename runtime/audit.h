/* audit.h - what the target does that CPython audits: files opened, socket
 * addresses, processes started, modules imported (and how long each import
 * took), aggregated by what and by the Python function that did it. */
#ifndef OMNI_AUDIT_H
#define OMNI_AUDIT_H

#include <Python.h>

#include "runtime/session/writer.h"

/* Starts recording (called from the runtime's audit hook once the target is
 * about to run). */
void omni_audit_start(void);

/* One audited event, from the runtime's audit hook (GIL held). Never raises. */
void omni_audit_event(const char *event, PyObject *args);

/* Stops recording: the end of the run has begun. */
void omni_audit_stop(void);

/* Writes the "events" record (without allocating: callable at the end from
 * a signal handler). */
void omni_audit_write(msgpack_packer *pk, double ns_per_tick);

/* In a forked child that starts its own session: the parent's events are
 * the parent's. */
void omni_audit_reset(void);

#endif
