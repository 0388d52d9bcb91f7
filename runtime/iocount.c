/* iocount.c - counts the bytes the target moves through descriptors: the
 * executable's own read, write, send, recv, their vectored, positioned and
 * zero-copy relatives, and the calls that make and close descriptors (so a
 * number's kind is learnt again after it is reused). */
#define _GNU_SOURCE
#include "runtime/iocount.h"
#include "runtime/ownmem.h"

#include "runtime/callprof.h"
#include "runtime/spin.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

/* ---------------------------------------------------------------- kinds */

enum {
    K_UNKNOWN = 0, /* not classified yet */
    K_FILE,        /* regular file or block device */
    K_PIPE,
    K_TCP,
    K_UDP,
    K_UNIX,
    K_SOCKET,      /* another socket family */
    K_TTY,
    K_OTHER,       /* character devices, eventfd, epoll... */
    N_KINDS
};
static const char *const kind_names[N_KINDS] = {"unknown", "file",   "pipe", "tcp",  "udp",
                                                "unix",    "socket", "tty",  "other"};

#define MAX_FD 65536
#define HIST_BUCKETS 48 /* bucket b: sizes in [2^(b-1), 2^b), bucket 0: 0 bytes */

static unsigned char fd_kind[MAX_FD];

/* ---------------------------------------------------------------- per thread */

typedef struct io_fn {
    uint32_t code;       /* OMNI_CODE_NONE: no Python caller */
    uint8_t kind, used;
    uint64_t rb, wb, rops, wops;
} io_fn_t;

typedef struct io_thread {
    struct io_thread *next;
    struct io_thread *free_next;            /* its thread ended: for the next thread */
    uint64_t tot[N_KINDS][4];               /* read bytes, write bytes, read ops, write ops */
    uint64_t hist[N_KINDS][2][HIST_BUCKETS];
    io_fn_t *fn;                            /* open addressing on (code, kind) */
    uint32_t fn_cap, fn_n;
} io_thread_t;

static struct {
    int on;
    io_thread_t *threads;                   /* all, newest first (pushed atomically) */
} io;

static __thread io_thread_t *tls_io;
static __thread int tls_ignore;

/* A thread's counts outlive it: its record serves the next thread that
 * does I/O (the counts are by descriptor kind and function, not by thread),
 * so a server that starts a thread per request keeps as many records as it
 * ran threads at once. The key's destructor gives the record back. */
static pthread_key_t end_key;
static omni_spin_t free_lock;
static io_thread_t *free_records;

static void thread_ended(void *p) {
    io_thread_t *t = p;
    if (tls_io == t)
        tls_io = NULL;
    omni_spin_lock(&free_lock);
    t->free_next = free_records;
    free_records = t;
    omni_spin_unlock(&free_lock);
}

/* ---------------------------------------------------------------- libc's functions */

/* The fortified opens (libraries built with _FORTIFY_SOURCE call these). */
int __open_2(const char *path, int flags);
int __openat_2(int dir, const char *path, int flags);

#define REAL(name) static __typeof__(name) *real_##name
REAL(read); REAL(write); REAL(pread); REAL(pwrite); REAL(readv); REAL(writev);
REAL(preadv); REAL(pwritev); REAL(preadv2); REAL(pwritev2);
REAL(recv); REAL(recvfrom); REAL(recvmsg); REAL(send); REAL(sendto); REAL(sendmsg);
REAL(sendfile); REAL(copy_file_range); REAL(splice);
REAL(close); REAL(dup); REAL(dup2); REAL(dup3); REAL(close_range);
REAL(open); REAL(openat); REAL(__open_2); REAL(__openat_2);
REAL(socket); REAL(accept); REAL(accept4); REAL(pipe); REAL(pipe2); REAL(socketpair);
REAL(fstat); REAL(fstat64);

#define RESOLVE(name) real_##name = (__typeof__(real_##name))dlsym(RTLD_NEXT, #name)
__attribute__((constructor)) static void make_key(void) {
    pthread_key_create(&end_key, thread_ended);
}

__attribute__((constructor)) static void resolve_all(void) {
    RESOLVE(read); RESOLVE(write); RESOLVE(pread); RESOLVE(pwrite); RESOLVE(readv);
    RESOLVE(writev); RESOLVE(preadv); RESOLVE(pwritev); RESOLVE(preadv2); RESOLVE(pwritev2);
    RESOLVE(recv); RESOLVE(recvfrom); RESOLVE(recvmsg); RESOLVE(send); RESOLVE(sendto);
    RESOLVE(sendmsg); RESOLVE(sendfile); RESOLVE(copy_file_range); RESOLVE(splice);
    RESOLVE(close); RESOLVE(dup); RESOLVE(dup2); RESOLVE(dup3); RESOLVE(close_range);
    RESOLVE(open); RESOLVE(openat); RESOLVE(__open_2); RESOLVE(__openat_2);
    RESOLVE(socket); RESOLVE(accept); RESOLVE(accept4); RESOLVE(pipe); RESOLVE(pipe2);
    RESOLVE(socketpair); RESOLVE(fstat); RESOLVE(fstat64);
}
/* A call that comes before the constructor (another library's constructor)
 * resolves everything first. */
#define ENSURE(name)                                                                  \
    do {                                                                              \
        if (__builtin_expect(!real_##name, 0))                                        \
            resolve_all();                                                            \
    } while (0)

/* ---------------------------------------------------------------- counting */

static int classify(int fd) {
    struct stat st;
    ENSURE(fstat);
    if (real_fstat(fd, &st) != 0)
        return K_OTHER;
    if (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))
        return K_FILE;
    if (S_ISFIFO(st.st_mode))
        return K_PIPE;
    if (S_ISCHR(st.st_mode))
        return isatty(fd) ? K_TTY : K_OTHER;
    if (!S_ISSOCK(st.st_mode))
        return K_OTHER;
    int domain = 0, type = 0;
    socklen_t len = sizeof domain;
    getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len);
    len = sizeof type;
    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len);
    if (domain == AF_UNIX)
        return K_UNIX;
    if (domain == AF_INET || domain == AF_INET6)
        return type == SOCK_STREAM ? K_TCP : type == SOCK_DGRAM ? K_UDP : K_SOCKET;
    return K_SOCKET;
}

static inline int kind_of(int fd) {
    if (fd < 0 || fd >= MAX_FD)
        return fd < 0 ? K_OTHER : classify(fd);
    int k = fd_kind[fd];
    if (!k)
        fd_kind[fd] = (unsigned char)(k = classify(fd));
    return k;
}

/* Descriptors that omnipython's own threads made (NVML's /dev/nvidia*,
 * hwloc's /sys files): a bit each, cleared when the number is closed. */
static uint8_t fd_own[MAX_FD / 8];
/* Of those, the ones the target must not see or close (omni_iocount_hide_own):
 * known for certain, unlike a driver's files claimed by their kind. */
static uint8_t fd_hidden[MAX_FD / 8];
/* Bytes of fd_own (and so of fd_hidden) ever set: the scans stop there (the
 * monitor's, every tick, read 8 KB for a few low numbers). */
static int fd_own_bytes;

/* A closed or replaced number: another descriptor next time. */
static inline void forget(int fd) {
    if (fd < 0 || fd >= MAX_FD)
        return;
    fd_kind[fd] = K_UNKNOWN;
    if (fd_own[fd >> 3])
        __atomic_and_fetch(&fd_own[fd >> 3], (uint8_t)~(1u << (fd & 7)), __ATOMIC_RELAXED);
    if (fd_hidden[fd >> 3])
        __atomic_and_fetch(&fd_hidden[fd >> 3], (uint8_t)~(1u << (fd & 7)), __ATOMIC_RELAXED);
}

/* A descriptor made: its kind is learnt afresh, and it is omnipython's when
 * one of its threads (or its own code) made it. */
static inline void made(int fd) {
    forget(fd);
    if (tls_ignore)
        omni_iocount_mark_own(fd);
}

static io_thread_t *thread_stats(void) {
    omni_spin_lock(&free_lock);
    io_thread_t *t = free_records;
    if (t)
        free_records = t->free_next;
    omni_spin_unlock(&free_lock);
    if (t) {
        pthread_setspecific(end_key, t);
        return t;
    }
    t = omni_own_calloc(1, sizeof *t);
    if (!t)
        return NULL;
    pthread_setspecific(end_key, t);
    t->next = __atomic_load_n(&io.threads, __ATOMIC_ACQUIRE);
    while (!__atomic_compare_exchange_n(&io.threads, &t->next, t, 0, __ATOMIC_RELEASE,
                                        __ATOMIC_ACQUIRE))
        ;
    return t;
}

/* The (code, kind) row of this thread; NULL when memory runs out. The old
 * array is not freed when it grows: the end of the run may be reading it. */
static io_fn_t *fn_row(io_thread_t *t, uint32_t code, int kind) {
    if (t->fn_n * 2 >= t->fn_cap) {
        uint32_t cap = t->fn_cap ? t->fn_cap * 2 : 64;
        io_fn_t *n = omni_own_calloc(cap, sizeof *n);
        if (!n)
            return NULL;
        for (uint32_t i = 0; i < t->fn_cap; i++) {
            if (!t->fn[i].used)
                continue;
            uint32_t j = (t->fn[i].code * 2654435761u + t->fn[i].kind) & (cap - 1);
            while (n[j].used)
                j = (j + 1) & (cap - 1);
            n[j] = t->fn[i];
        }
        __atomic_store_n(&t->fn, n, __ATOMIC_RELEASE);
        __atomic_store_n(&t->fn_cap, cap, __ATOMIC_RELEASE); /* readers: the capacity, then fn */
    }
    uint32_t mask = t->fn_cap - 1;
    for (uint32_t j = (code * 2654435761u + (uint32_t)kind) & mask;; j = (j + 1) & mask) {
        io_fn_t *r = &t->fn[j];
        if (!r->used) {
            r->code = code;
            r->kind = (uint8_t)kind;
            r->used = 1;
            t->fn_n++;
            return r;
        }
        if (r->code == code && r->kind == kind)
            return r;
    }
}

static inline int bucket(size_t n) {
    int b = n ? 64 - __builtin_clzll((unsigned long long)n) : 0;
    return b < HIST_BUCKETS ? b : HIST_BUCKETS - 1;
}

/* One completed transfer of n bytes (dir 0 read, 1 write) on fd. */
static void count(int fd, ssize_t n, int dir) {
    if (n < 0 || !__atomic_load_n(&io.on, __ATOMIC_RELAXED) || tls_ignore)
        return;
    int saved = errno;
    io_thread_t *t = tls_io;
    if (!t && !(t = tls_io = thread_stats()))
        goto exit;
    int kind = kind_of(fd);
    /* Only the id: the code registry may be growing on a thread that holds
     * the GIL, while this one (in I/O) does not. Which reads were the
     * interpreter's (importlib's frames) the reports tell from the ids. */
    uint32_t code = omni_callprof_current(NULL);
    t->tot[kind][dir] += (uint64_t)n;
    t->tot[kind][2 + dir]++;
    t->hist[kind][dir][bucket((size_t)n)]++;
    io_fn_t *r = fn_row(t, code, kind);
    if (r) {
        if (dir)
            r->wb += (uint64_t)n, r->wops++;
        else
            r->rb += (uint64_t)n, r->rops++;
    }
exit:
    errno = saved;
}

/* ---------------------------------------------------------------- the interposed calls */

ssize_t read(int fd, void *buf, size_t len) {
    ENSURE(read);
    ssize_t n = real_read(fd, buf, len);
    count(fd, n, 0);
    return n;
}

ssize_t write(int fd, const void *buf, size_t len) {
    ENSURE(write);
    ssize_t n = real_write(fd, buf, len);
    count(fd, n, 1);
    return n;
}

ssize_t pread(int fd, void *buf, size_t len, off_t off) {
    ENSURE(pread);
    ssize_t n = real_pread(fd, buf, len, off);
    count(fd, n, 0);
    return n;
}
ssize_t pread64(int fd, void *buf, size_t len, off_t off) __attribute__((alias("pread")));

ssize_t pwrite(int fd, const void *buf, size_t len, off_t off) {
    ENSURE(pwrite);
    ssize_t n = real_pwrite(fd, buf, len, off);
    count(fd, n, 1);
    return n;
}
ssize_t pwrite64(int fd, const void *buf, size_t len, off_t off) __attribute__((alias("pwrite")));

ssize_t readv(int fd, const struct iovec *iov, int cnt) {
    ENSURE(readv);
    ssize_t n = real_readv(fd, iov, cnt);
    count(fd, n, 0);
    return n;
}

ssize_t writev(int fd, const struct iovec *iov, int cnt) {
    ENSURE(writev);
    ssize_t n = real_writev(fd, iov, cnt);
    count(fd, n, 1);
    return n;
}

ssize_t preadv(int fd, const struct iovec *iov, int cnt, off_t off) {
    ENSURE(preadv);
    ssize_t n = real_preadv(fd, iov, cnt, off);
    count(fd, n, 0);
    return n;
}
ssize_t preadv64(int fd, const struct iovec *iov, int cnt, off_t off)
    __attribute__((alias("preadv")));

ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off) {
    ENSURE(pwritev);
    ssize_t n = real_pwritev(fd, iov, cnt, off);
    count(fd, n, 1);
    return n;
}
ssize_t pwritev64(int fd, const struct iovec *iov, int cnt, off_t off)
    __attribute__((alias("pwritev")));

ssize_t preadv2(int fd, const struct iovec *iov, int cnt, off_t off, int flags) {
    ENSURE(preadv2);
    ssize_t n = real_preadv2(fd, iov, cnt, off, flags);
    count(fd, n, 0);
    return n;
}

ssize_t pwritev2(int fd, const struct iovec *iov, int cnt, off_t off, int flags) {
    ENSURE(pwritev2);
    ssize_t n = real_pwritev2(fd, iov, cnt, off, flags);
    count(fd, n, 1);
    return n;
}

ssize_t recv(int fd, void *buf, size_t len, int flags) {
    ENSURE(recv);
    ssize_t n = real_recv(fd, buf, len, flags);
    count(fd, n, 0);
    return n;
}

ssize_t recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *a, socklen_t *al) {
    ENSURE(recvfrom);
    ssize_t n = real_recvfrom(fd, buf, len, flags, a, al);
    count(fd, n, 0);
    return n;
}

ssize_t recvmsg(int fd, struct msghdr *msg, int flags) {
    ENSURE(recvmsg);
    ssize_t n = real_recvmsg(fd, msg, flags);
    count(fd, n, 0);
    return n;
}

ssize_t send(int fd, const void *buf, size_t len, int flags) {
    ENSURE(send);
    ssize_t n = real_send(fd, buf, len, flags);
    count(fd, n, 1);
    return n;
}

ssize_t sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *a,
               socklen_t al) {
    ENSURE(sendto);
    ssize_t n = real_sendto(fd, buf, len, flags, a, al);
    count(fd, n, 1);
    return n;
}

ssize_t sendmsg(int fd, const struct msghdr *msg, int flags) {
    ENSURE(sendmsg);
    ssize_t n = real_sendmsg(fd, msg, flags);
    count(fd, n, 1);
    return n;
}

/* The zero-copy calls move bytes from one descriptor to another: a read of
 * the one and a write of the other. */
ssize_t sendfile(int out, int in, off_t *off, size_t len) {
    ENSURE(sendfile);
    ssize_t n = real_sendfile(out, in, off, len);
    count(in, n, 0);
    count(out, n, 1);
    return n;
}
ssize_t sendfile64(int out, int in, off_t *off, size_t len) __attribute__((alias("sendfile")));

ssize_t copy_file_range(int in, off_t *oin, int out, off_t *oout, size_t len, unsigned flags) {
    ENSURE(copy_file_range);
    ssize_t n = real_copy_file_range(in, oin, out, oout, len, flags);
    count(in, n, 0);
    count(out, n, 1);
    return n;
}

ssize_t splice(int in, off_t *oin, int out, off_t *oout, size_t len, unsigned flags) {
    ENSURE(splice);
    ssize_t n = real_splice(in, oin, out, oout, len, flags);
    count(in, n, 0);
    count(out, n, 1);
    return n;
}

/* The descriptors whose bit is set in map, ascending, up to cap into out. */
static int bits(const uint8_t *map, int *out, int cap) {
    int n = 0, end = __atomic_load_n(&fd_own_bytes, __ATOMIC_ACQUIRE);
    for (int i = 0; i < end && n < cap; i++) {
        uint8_t b = __atomic_load_n(&map[i], __ATOMIC_RELAXED);
        for (int k = 0; b && k < 8 && n < cap; k++)
            if (b & (1u << k))
                out[n++] = i * 8 + k;
    }
    return n;
}

/* omnipython's long-lived descriptors (the monitor's loop, the session it
 * appends to) are not there for the target, as under python3: a target's
 * fstat of one (subprocess's fd_status, a daemon counting its descriptors)
 * finds nothing, and its close (os.closerange before a daemon's work) leaves
 * it open: both answer EBADF, as for a number that is not open. */
static inline int hidden(int fd) {
    return !tls_ignore && fd >= 0 && fd < MAX_FD &&
           (__atomic_load_n(&fd_hidden[fd >> 3], __ATOMIC_RELAXED) & (1u << (fd & 7)));
}

static int not_there(void) {
    errno = EBADF;
    return -1;
}

int fstat(int fd, struct stat *st) {
    ENSURE(fstat);
    return hidden(fd) ? not_there() : real_fstat(fd, st);
}

int fstat64(int fd, struct stat64 *st) {
    ENSURE(fstat64);
    return hidden(fd) ? not_there() : real_fstat64(fd, st);
}

int close(int fd) {
    ENSURE(close);
    if (hidden(fd))
        return not_there();
    forget(fd);
    return real_close(fd);
}

void omni_iocount_close_own(int fd) {
    ENSURE(close);
    forget(fd);
    real_close(fd);
}

/* What stops when the target takes one of omnipython's descriptors. */
static void (*on_taken)(int fd);

void omni_iocount_on_taken(void (*fn)(int fd)) {
    on_taken = fn;
}

/* The target makes fd a copy of another (dup2, dup3) where one of
 * omnipython's is: under python3 the number is free, so the target gets it,
 * and what used it stops first (the monitor: the timeline ends there). */
static void take_over(int fd) {
    if (!hidden(fd))
        return;
    if (on_taken)
        on_taken(fd);
    forget(fd);
}

int dup2(int old, int fd) {
    ENSURE(dup2);
    take_over(fd);
    int r = real_dup2(old, fd);
    made(r);
    return r;
}

int dup3(int old, int fd, int flags) {
    ENSURE(dup3);
    take_over(fd);
    int r = real_dup3(old, fd, flags);
    made(r);
    return r;
}

int close_range(unsigned first, unsigned last, int flags) {
    ENSURE(close_range);
    /* the target's part of the range: omnipython's descriptors stay */
    int own[64], n = tls_ignore || first > last ? 0 : bits(fd_hidden, own, 64), r = 0;
    if (!n)
        r = real_close_range(first, last, flags);
    unsigned from = n ? first : last + 1;
    for (int i = 0; i < n && r == 0; i++) {
        if ((unsigned)own[i] < from || (unsigned)own[i] > last)
            continue;
        if ((unsigned)own[i] > from)
            r = real_close_range(from, (unsigned)own[i] - 1, flags);
        from = (unsigned)own[i] + 1;
    }
    if (n && r == 0 && from <= last && from >= first)
        r = real_close_range(from, last, flags);
    if (r == 0)
        for (unsigned fd = first; fd <= last && fd < MAX_FD; fd++)
            if (!hidden((int)fd))
                forget((int)fd);
    return r;
}

int dup(int old) {
    ENSURE(dup);
    int r = real_dup(old);
    made(r);
    return r;
}

/* open's mode is there only when the flags create a file. */
static mode_t open_mode(int flags, va_list ap) {
    return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? (mode_t)va_arg(ap, int) : 0;
}

int open(const char *path, int flags, ...) {
    ENSURE(open);
    va_list ap;
    va_start(ap, flags);
    mode_t mode = open_mode(flags, ap);
    va_end(ap);
    int r = real_open(path, flags, mode);
    made(r);
    return r;
}
int open64(const char *path, int flags, ...) __attribute__((alias("open")));

int openat(int dir, const char *path, int flags, ...) {
    ENSURE(openat);
    va_list ap;
    va_start(ap, flags);
    mode_t mode = open_mode(flags, ap);
    va_end(ap);
    int r = real_openat(dir, path, flags, mode);
    made(r);
    return r;
}
int openat64(int dir, const char *path, int flags, ...) __attribute__((alias("openat")));

int __open_2(const char *path, int flags) {
    ENSURE(__open_2);
    int r = real___open_2(path, flags);
    made(r);
    return r;
}
int __open64_2(const char *path, int flags) __attribute__((alias("__open_2")));

int __openat_2(int dir, const char *path, int flags) {
    ENSURE(__openat_2);
    int r = real___openat_2(dir, path, flags);
    made(r);
    return r;
}
int __openat64_2(int dir, const char *path, int flags) __attribute__((alias("__openat_2")));

int socket(int domain, int type, int proto) {
    ENSURE(socket);
    int r = real_socket(domain, type, proto);
    made(r);
    return r;
}

int accept(int fd, struct sockaddr *a, socklen_t *al) {
    ENSURE(accept);
    int r = real_accept(fd, a, al);
    made(r);
    return r;
}

int accept4(int fd, struct sockaddr *a, socklen_t *al, int flags) {
    ENSURE(accept4);
    int r = real_accept4(fd, a, al, flags);
    made(r);
    return r;
}

int pipe(int fds[2]) {
    ENSURE(pipe);
    int r = real_pipe(fds);
    if (r == 0)
        made(fds[0]), made(fds[1]);
    return r;
}

int pipe2(int fds[2], int flags) {
    ENSURE(pipe2);
    int r = real_pipe2(fds, flags);
    if (r == 0)
        made(fds[0]), made(fds[1]);
    return r;
}

int socketpair(int domain, int type, int proto, int fds[2]) {
    ENSURE(socketpair);
    int r = real_socketpair(domain, type, proto, fds);
    if (r == 0)
        made(fds[0]), made(fds[1]);
    return r;
}

/* ---------------------------------------------------------------- control and the record */

void omni_iocount_start(void) {
    memset(fd_kind, 0, sizeof fd_kind);
    __atomic_store_n(&io.on, 1, __ATOMIC_RELEASE);
}

void omni_iocount_stop(void) {
    __atomic_store_n(&io.on, 0, __ATOMIC_RELEASE);
}

void omni_iocount_ignore_thread(void) {
    tls_ignore = 1;
}

int omni_iocount_ignore(int on) {
    int was = tls_ignore;
    tls_ignore = on;
    return was;
}

void omni_iocount_mark_own(int fd) {
    if (fd < 0 || fd >= MAX_FD)
        return;
    __atomic_or_fetch(&fd_own[fd >> 3], (uint8_t)(1u << (fd & 7)), __ATOMIC_RELAXED);
    int end = __atomic_load_n(&fd_own_bytes, __ATOMIC_RELAXED);
    while (end < (fd >> 3) + 1 &&
           !__atomic_compare_exchange_n(&fd_own_bytes, &end, (fd >> 3) + 1, 0, __ATOMIC_RELEASE,
                                        __ATOMIC_RELAXED))
        ;
}

void omni_iocount_hide_own(int fd) {
    omni_iocount_mark_own(fd);
    if (fd >= 0 && fd < MAX_FD)
        __atomic_or_fetch(&fd_hidden[fd >> 3], (uint8_t)(1u << (fd & 7)), __ATOMIC_RELAXED);
}

int omni_iocount_own_fds(int *out, int cap) {
    return bits(fd_own, out, cap);
}

void omni_iocount_reset(void) {
    /* a forked child: whoever held the lock is not here */
    omni_spin_reset(&free_lock);
    for (io_thread_t *t = io.threads; t; t = t->next) {
        memset(t->tot, 0, sizeof t->tot);
        memset(t->hist, 0, sizeof t->hist);
        for (uint32_t i = 0; i < t->fn_cap; i++)
            t->fn[i].rb = t->fn[i].wb = t->fn[i].rops = t->fn[i].wops = 0;
    }
}

void omni_iocount_write(msgpack_packer *pk) {
    tls_ignore = 1; /* the session's own bytes */
    uint64_t tot[N_KINDS][4] = {{0}};
    static uint64_t hist[N_KINDS][2][HIST_BUCKETS];
    memset(hist, 0, sizeof hist);
    size_t n_fn = 0;
    for (io_thread_t *t = __atomic_load_n(&io.threads, __ATOMIC_ACQUIRE); t; t = t->next) {
        for (int k = 0; k < N_KINDS; k++)
            for (int c = 0; c < 4; c++)
                tot[k][c] += t->tot[k][c];
        for (int k = 0; k < N_KINDS; k++)
            for (int d = 0; d < 2; d++)
                for (int b = 0; b < HIST_BUCKETS; b++)
                    hist[k][d][b] += t->hist[k][d][b];
        uint32_t fn_cap = __atomic_load_n(&t->fn_cap, __ATOMIC_ACQUIRE);
        io_fn_t *fn = __atomic_load_n(&t->fn, __ATOMIC_ACQUIRE);
        for (uint32_t i = 0; fn && i < fn_cap; i++)
            n_fn += fn[i].used && (fn[i].rops || fn[i].wops);
    }
    size_t n_tot = 0, n_hist = 0;
    for (int k = 1; k < N_KINDS; k++) {
        n_tot += tot[k][2] + tot[k][3] != 0;
        for (int d = 0; d < 2; d++)
            for (int b = 0; b < HIST_BUCKETS; b++)
                n_hist += hist[k][d][b] != 0;
    }
    msgpack_pack_map(pk, 4);
    omni_pack_kv_str(pk, "kind", "io");
    static const char *const tcols[] = {"kind", "read_bytes", "write_bytes", "read_ops",
                                        "write_ops"};
    omni_pack_table_head(pk, "totals", tcols, 5, n_tot);
    for (int k = 1; k < N_KINDS; k++) {
        if (!(tot[k][2] + tot[k][3]))
            continue;
        msgpack_pack_array(pk, 5);
        omni_pack_str(pk, kind_names[k]);
        for (int c = 0; c < 4; c++)
            msgpack_pack_uint64(pk, tot[k][c]);
    }
    static const char *const hcols[] = {"kind", "op", "size_log2", "count"};
    omni_pack_table_head(pk, "sizes", hcols, 4, n_hist);
    for (int k = 1; k < N_KINDS; k++)
        for (int d = 0; d < 2; d++)
            for (int b = 0; b < HIST_BUCKETS; b++) {
                if (!hist[k][d][b])
                    continue;
                msgpack_pack_array(pk, 4);
                omni_pack_str(pk, kind_names[k]);
                omni_pack_str(pk, d ? "write" : "read");
                msgpack_pack_int(pk, b);
                msgpack_pack_uint64(pk, hist[k][d][b]);
            }
    static const char *const fcols[] = {"code", "kind", "read_bytes", "write_bytes", "read_ops",
                                        "write_ops"};
    omni_pack_table_head(pk, "functions", fcols, 6, n_fn);
    size_t written = 0;
    for (io_thread_t *t = __atomic_load_n(&io.threads, __ATOMIC_ACQUIRE); t; t = t->next) {
        uint32_t fn_cap = __atomic_load_n(&t->fn_cap, __ATOMIC_ACQUIRE);
        io_fn_t *fn = __atomic_load_n(&t->fn, __ATOMIC_ACQUIRE);
        for (uint32_t i = 0; fn && i < fn_cap && written < n_fn; i++) {
            const io_fn_t *r = &fn[i];
            if (!r->used || !(r->rops || r->wops))
                continue;
            msgpack_pack_array(pk, 6);
            if (r->code == OMNI_CODE_NONE)
                msgpack_pack_nil(pk);
            else
                msgpack_pack_uint32(pk, r->code);
            omni_pack_str(pk, kind_names[r->kind]);
            msgpack_pack_uint64(pk, r->rb);
            msgpack_pack_uint64(pk, r->wb);
            msgpack_pack_uint64(pk, r->rops);
            msgpack_pack_uint64(pk, r->wops);
            written++;
        }
    }
    /* Rows added since they were counted (a thread still running) are left
     * out; rows that vanished are padded so the array keeps its length. */
    for (; written < n_fn; written++) {
        msgpack_pack_array(pk, 6);
        msgpack_pack_nil(pk);
        omni_pack_str(pk, "other");
        for (int c = 0; c < 4; c++)
            msgpack_pack_uint64(pk, 0);
    }
}

int omni_iocount_totals(uint64_t (*bytes)[2], const char **names, int cap) {
    int n = 0;
    for (int k = 1; k < N_KINDS && n < cap; k++, n++) {
        names[n] = kind_names[k];
        bytes[n][0] = bytes[n][1] = 0;
        for (io_thread_t *t = __atomic_load_n(&io.threads, __ATOMIC_ACQUIRE); t; t = t->next) {
            bytes[n][0] += __atomic_load_n(&t->tot[k][0], __ATOMIC_RELAXED);
            bytes[n][1] += __atomic_load_n(&t->tot[k][1], __ATOMIC_RELAXED);
        }
    }
    return n;
}
