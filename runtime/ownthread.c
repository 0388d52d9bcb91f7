/* ownthread.c - omnipython's own threads (see ownthread.h). A thread is
 * counted from before it is created (omni_own_thread_start) until it ends
 * (a thread-specific key's destructor). pthread_create is defined in the
 * executable and exported, like malloc (nativeheap.c), so that a thread
 * started by one of ours — by NVML, PAPI or a ROCm library on the prober —
 * is ours from before it exists; every call passes on to the C library's. Not in a sanitizer's build, whose runtime intercepts
 * pthread_create itself: such threads then count as the target's. */
#define _GNU_SOURCE
#include "runtime/ownthread.h"

#include "runtime/iocount.h"
#include "runtime/nativeheap.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static __thread int tls_own;
static int own_alive;
static pthread_key_t own_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static void own_thread_ends(void *unused) {
    (void)unused;
    __atomic_sub_fetch(&own_alive, 1, __ATOMIC_RELAXED);
}

static void make_key(void) {
    pthread_key_create(&own_key, own_thread_ends);
}

int omni_own_thread_is(void) {
    return tls_own;
}

int omni_own_threads_alive(void) {
    return __atomic_load_n(&own_alive, __ATOMIC_RELAXED);
}

void omni_own_threads_after_fork(void) {
    __atomic_store_n(&own_alive, tls_own, __ATOMIC_RELAXED);
}

static __thread int tls_hide;

void omni_own_threads_hide(int on) {
    tls_hide = on;
}

/* ---------------------------------------------------------------- starting one */

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define INTERPOSE 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
#define INTERPOSE 0
#endif
#endif
#ifndef INTERPOSE
#define INTERPOSE 1
#endif

typedef int (*create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);

/* The C library's pthread_create (this file's is the executable's). */
static create_fn libc_create(void) {
#if INTERPOSE
    static create_fn next;
    create_fn c = __atomic_load_n(&next, __ATOMIC_RELAXED);
    if (!c) {
        c = (create_fn)dlsym(RTLD_NEXT, "pthread_create");
        __atomic_store_n(&next, c, __ATOMIC_RELAXED);
    }
    return c;
#else
    return pthread_create;
#endif
}

struct own_start {
    void *(*fn)(void *);
    void *arg;
};

static void *start_own(void *p) {
    struct own_start s = *(struct own_start *)p;
    tls_own = 1;
    omni_heap_self = 1;
    omni_iocount_ignore_thread();
    pthread_once(&key_once, make_key);
    pthread_setspecific(own_key, (void *)1); /* counted down when it ends */
    omni_own_free(p);
    return s.fn(s.arg);
}

/* Counted from before it exists, so that no sample of the process sees
 * the new thread as the target's. */
static int create_own(create_fn c, pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *),
                      void *arg) {
    struct own_start *s = omni_own_malloc(sizeof *s);
    if (!s)
        return EAGAIN;
    s->fn = fn;
    s->arg = arg;
    __atomic_add_fetch(&own_alive, 1, __ATOMIC_RELAXED);
    int rc = c(t, attr, start_own, s);
    if (rc != 0) {
        __atomic_sub_fetch(&own_alive, 1, __ATOMIC_RELAXED);
        omni_own_free(s);
    }
    return rc;
}

int omni_own_thread_start(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *),
                          void *arg) {
    return create_own(libc_create(), t, attr, fn, arg);
}

#if INTERPOSE
int pthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg) {
    return tls_own ? create_own(libc_create(), t, attr, fn, arg) : libc_create()(t, attr, fn, arg);
}
#endif

/* ---------------------------------------------------------------- the process without them */

#if INTERPOSE
typedef FILE *(*fopen_fn)(const char *, const char *);

/* /proc/self/stat with omnipython's threads taken out of num_threads (the
 * 20th field; the 2nd, the command in parentheses, may hold spaces). */
static FILE *stat_without_own(fopen_fn real, const char *path, const char *mode) {
    static __thread char line[1024], out[1100];
    FILE *f = real(path, mode);
    if (!f)
        return NULL;
    size_t n = fread(line, 1, sizeof line - 1, f);
    line[n] = 0;
    char *p = strrchr(line, ')');
    for (int field = 2; p && field < 20; field++) /* from the command to field 20 */
        p = strchr(p + 1, ' ');
    if (!p) { /* not as expected: the file as it is */
        rewind(f);
        return f;
    }
    fclose(f);
    char *end;
    long threads = strtol(p + 1, &end, 10) - omni_own_threads_alive();
    int len = snprintf(out, sizeof out, "%.*s %ld%s", (int)(p - line), line,
                       threads > 0 ? threads : 1, end);
    return fmemopen(out, (size_t)len, "r");
}

/* CPython 3.12 warns at os.fork() when /proc/self/stat counts more than
 * one thread: while a fork is under way on this thread (tls_hide), the
 * count it reads is the target's own, as under python3. */
FILE *fopen(const char *path, const char *mode) {
    static fopen_fn next;
    fopen_fn c = __atomic_load_n(&next, __ATOMIC_RELAXED);
    if (!c) {
        c = (fopen_fn)dlsym(RTLD_NEXT, "fopen");
        __atomic_store_n(&next, c, __ATOMIC_RELAXED);
    }
    if (__builtin_expect(tls_hide, 0) && path && strcmp(path, "/proc/self/stat") == 0)
        return stat_without_own(c, path, mode);
    return c(path, mode);
}
FILE *fopen64(const char *path, const char *mode) __attribute__((alias("fopen")));
#endif
