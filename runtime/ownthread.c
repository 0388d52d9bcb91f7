/* ownthread.c - omnipython's own threads (see ownthread.h). A thread is
 * counted from before it is created (omni_own_thread_start) until it ends
 * (a thread-specific key's destructor). pthread_create is defined in the
 * executable and exported, like malloc (nativeheap.c), so that a thread
 * started by one of ours — by NVML, PAPI or a ROCm library on the prober —
 * is ours from before it exists; every call passes on to the C library's.
 * Not in a sanitizer's build, whose runtime intercepts pthread_create
 * itself: such threads then count as the target's. fopen is the
 * executable's too, for two files read whole (below). */
#define _GNU_SOURCE
#include "runtime/ownthread.h"

#include "runtime/clock.h"
#include "runtime/iocount.h"
#include "runtime/interpose.h"
#include "runtime/ownmem.h"
#include "runtime/targetthreads.h"
#include "runtime/threadnames.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

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

int omni_own_threads_alive(void) {
    return __atomic_load_n(&own_alive, __ATOMIC_RELAXED);
}

void omni_own_threads_after_fork(void) {
    __atomic_store_n(&own_alive, tls_own, __ATOMIC_RELAXED);
}

static __thread int tls_hide;
static uint64_t hiding_since_ns; /* atomic: 0, or when a thread began hiding */

void omni_own_threads_hide(int on) {
    tls_hide = on;
    __atomic_store_n(&hiding_since_ns, on ? omni_clock_mono_ns() | 1 : 0, __ATOMIC_SEQ_CST);
}

int omni_own_threads_hiding(void) {
    uint64_t since = __atomic_load_n(&hiding_since_ns, __ATOMIC_SEQ_CST);
    return since && omni_clock_mono_ns() - since < OMNI_HIDING_MAX_NS;
}

/* ---------------------------------------------------------------- starting one */

#define INTERPOSE (!OMNI_SANITIZER_BUILD)

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

struct thread_start {
    void *(*fn)(void *);
    void *arg;
    int counted;   /* a thread of the target's that targetthreads.c counts */
    char name[OMNI_THREAD_NAME_MAX]; /* the threading.Thread it runs (threadnames.h) */
};

static void *start_own(void *p) {
    struct thread_start s = *(struct thread_start *)p;
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
    struct thread_start *s = omni_own_malloc(sizeof *s);
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
/* A thread of the target's: counted (targetthreads.c) from before it exists
 * until it ends. */
static void *start_target(void *p) {
    struct thread_start s = *(struct thread_start *)p;
    omni_own_free(p);
    if (s.counted)
        omni_target_thread_started();
    omni_thread_name_begins(s.name);
    return s.fn(s.arg);
}

static int create_target(create_fn c, pthread_t *t, const pthread_attr_t *attr,
                         void *(*fn)(void *), void *arg) {
    struct thread_start *s = omni_own_malloc(sizeof *s);
    if (!s)
        return EAGAIN;
    s->fn = fn;
    s->arg = arg;
    s->counted = omni_target_thread_creating();
    omni_thread_name_starting(s->name);
    int rc = c(t, attr, start_target, s);
    if (rc != 0) {
        if (s->counted)
            omni_target_thread_failed();
        omni_own_free(s);
    }
    return rc;
}

int pthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg) {
    return (tls_own ? create_own : create_target)(libc_create(), t, attr, fn, arg);
}
#endif

/* ---------------------------------------------------------------- files as read whole */

/* Two files are served from a copy read whole when opened (fopencookie):
 *  - /proc/self/maps on omnipython's threads. PAPI_library_init reads it
 *    twice (a pass counts the executable mappings, a calloc, a second pass
 *    fills them in): a library the target maps in between overran that
 *    array by 1 KiB a mapping (PAPI 7.0's _linux_update_shlib_info: a heap
 *    corruption, which ASan caught in a pool's worker). A copy cannot change.
 *  - /proc/self/stat while a fork is under way on this thread (tls_hide),
 *    with omnipython's threads taken out of num_threads: CPython 3.12 warns
 *    at fork when it counts more than one.
 * Read with system calls: neither is the target's I/O. */
struct copy {
    char *buf;
    size_t len, pos;
};

static ssize_t copy_read(void *c, char *out, size_t n) {
    struct copy *f = c;
    size_t k = f->len - f->pos < n ? f->len - f->pos : n;
    memcpy(out, f->buf + f->pos, k);
    f->pos += k;
    return (ssize_t)k;
}

static int copy_seek(void *c, off64_t *off, int whence) {
    struct copy *f = c;
    off64_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? (off64_t)f->pos : (off64_t)f->len;
    if (base + *off < 0 || base + *off > (off64_t)f->len)
        return -1;
    *off = base + *off;
    f->pos = (size_t)*off;
    return 0;
}

static int copy_close(void *c) {
    struct copy *f = c;
    omni_own_free(f->buf);
    omni_own_free(f);
    return 0;
}

/* path read whole (NULL when it cannot be), 64 bytes of room at the end. */
static struct copy *read_whole(const char *path) {
    long fd = syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct copy *f = omni_own_calloc(1, sizeof *f);
    size_t cap = 0;
    for (long got = 1; f && got > 0; f->len += (size_t)got) {
        if (f->len + 4096 + 64 > cap) {
            char *b = omni_own_realloc(f->buf, cap = 2 * cap + 65536);
            if (!b) {
                omni_own_free(f->buf);
                omni_own_free(f);
                f = NULL;
                break;
            }
            f->buf = b;
        }
        got = syscall(SYS_read, fd, f->buf + f->len, cap - f->len - 64);
        if (got < 0)
            got = 0;
    }
    syscall(SYS_close, fd);
    return f;
}

static FILE *serve(struct copy *f) {
    cookie_io_functions_t io = {copy_read, NULL, copy_seek, copy_close};
    FILE *file = f ? fopencookie(f, "r", io) : NULL;
    if (f && !file)
        copy_close(f);
    return file;
}

/* num_threads (the 20th field; the 2nd, the command in parentheses, may hold
 * spaces) less omnipython's threads, in place. */
static void stat_without_own(struct copy *f) {
    f->buf[f->len] = 0;
    char *p = strrchr(f->buf, ')');
    for (int field = 2; p && field < 20; field++)
        p = strchr(p + 1, ' ');
    if (!p)
        return;
    char *end;
    long threads = strtol(p + 1, &end, 10) - omni_own_threads_alive();
    char num[24];
    int k = snprintf(num, sizeof num, " %ld", threads > 0 ? threads : 1);
    size_t tail = f->len - (size_t)(end - f->buf);
    memmove(p + k, end, tail); /* the number only shrinks: room enough */
    memcpy(p, num, (size_t)k);
    f->len = (size_t)(p + k - f->buf) + tail;
}

/* /proc/self/NAME, or /proc/PID/NAME with this process's PID. */
static int proc_self(const char *path, const char *name) {
    if (strncmp(path, "/proc/", 6) != 0)
        return 0;
    const char *rest = path + 6;
    if (strncmp(rest, "self/", 5) == 0)
        rest += 5;
    else {
        char *end;
        long pid = strtol(rest, &end, 10);
        if (end == rest || *end != '/' || pid != (long)getpid())
            return 0;
        rest = end + 1;
    }
    return strcmp(rest, name) == 0;
}

typedef FILE *(*fopen_fn)(const char *, const char *);

FILE *fopen(const char *path, const char *mode) {
    static fopen_fn next;
    fopen_fn c = __atomic_load_n(&next, __ATOMIC_RELAXED);
    if (!c) {
        c = (fopen_fn)dlsym(RTLD_NEXT, "fopen");
        __atomic_store_n(&next, c, __ATOMIC_RELAXED);
    }
    if (__builtin_expect(tls_own | tls_hide, 0) && path && mode && mode[0] == 'r' && !mode[1]) {
        if (tls_own && proc_self(path, "maps"))
            return serve(read_whole(path));
        if (tls_hide && proc_self(path, "stat")) {
            if (tls_hide == OMNI_HIDE_ONE_READ)
                omni_own_threads_hide(0);
            struct copy *f = read_whole(path);
            if (f)
                stat_without_own(f);
            return serve(f);
        }
    }
    return c(path, mode);
}
FILE *fopen64(const char *path, const char *mode) __attribute__((alias("fopen")));
