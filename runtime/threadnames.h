/* threadnames.h - the names the target's threads start with, for --mode
 * sample, which has no frame hook to ask a thread its name: the thread that
 * starts one (threading.Thread.start, holding the GIL) copies the Thread's
 * name as it calls pthread_create; the new thread files it under its own id
 * as it begins, before any Python; the sampler looks it up when it first
 * sees the thread. */
#ifndef OMNI_THREADNAMES_H
#define OMNI_THREADNAMES_H

#include <stddef.h>
#include <string.h>

#define OMNI_THREAD_NAME_MAX 64

/* Names are taken from now on (--mode sample). */
void omni_thread_names_enable(void);
/* On the thread calling pthread_create: the name of the threading.Thread it
 * starts, or "" when it is not one (or the GIL is not held). */
void omni_thread_name_starting(char name[OMNI_THREAD_NAME_MAX]);
/* First thing on the new thread: files name ("" too: a thread id reused
 * does not keep the name of the thread before it). */
void omni_thread_name_begins(const char name[OMNI_THREAD_NAME_MAX]);
/* The name thread tid started with: 1 and out filled, or 0 when none is
 * known. Any thread, no lock: a slot being written is not read. */
int omni_thread_name_of(long tid, char out[OMNI_THREAD_NAME_MAX]);

/* A Python thread's name, from a frame of the threading.Thread method named
 * method (its first local the Thread), the GIL held: 1 and out filled, or 0. */
struct _PyInterpreterFrame;
int omni_thread_name_in_frame(struct _PyInterpreterFrame *f, const char *method,
                              char out[OMNI_THREAD_NAME_MAX]);

/* Whether file (a code object's co_filename) is the threading module's. */
static inline int omni_is_threading_file(const char *file) {
    size_t n = file ? strlen(file) : 0;
    return n >= 12 && strcmp(file + n - 12, "threading.py") == 0;
}

/* A thread's kind: its name with each run of digits made "N" ("Thread-12
 * (handle)" is of kind "Thread-N (handle)"): the threads a program starts one
 * after another for the same work. */
static inline void omni_thread_kind_of(const char *name, char kind[OMNI_THREAD_NAME_MAX]) {
    size_t n = 0;
    for (const char *p = name; *p && n + 1 < OMNI_THREAD_NAME_MAX; p++) {
        if (*p >= '0' && *p <= '9') {
            if (p == name || !(p[-1] >= '0' && p[-1] <= '9'))
                kind[n++] = 'N';
        } else {
            kind[n++] = *p;
        }
    }
    kind[n] = 0;
}

#endif
