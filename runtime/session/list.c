/* list.c - the --sessions listing. */
#include "runtime/session/list.h"

#include "runtime/session/format.h"
#include "runtime/session/reader.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <math.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    char *path;
    int ok;                /* the session loaded */
    omni_session_t s;
    char err[256];         /* why not, when !ok */
} entry_t;

/* Oldest first; unreadable files last, by name. */
static int by_start(const void *a, const void *b) {
    const entry_t *x = a, *y = b;
    if (x->ok != y->ok)
        return x->ok ? -1 : 1;
    if (x->ok && x->s.start_unix_s != y->s.start_unix_s)
        return x->s.start_unix_s < y->s.start_unix_s ? -1 : 1;
    return strcmp(x->path, y->path);
}

/* When process pid started (Unix seconds), from /proc; NAN when unknown. */
static double process_start(long long pid) {
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%lld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return NAN;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    /* after the command's closing parenthesis: field 3 on; starttime is 22 */
    char *p = strrchr(buf, ')');
    unsigned long long ticks = 0;
    for (int field = 2; p && *p && field < 22; p++)
        if (*p == ' ')
            field++;
    if (!p || sscanf(p, "%llu", &ticks) != 1)
        return NAN;
    f = fopen("/proc/stat", "r");
    unsigned long long btime = 0;
    char line[256];
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "btime %llu", &btime) == 1)
            break;
    if (f)
        fclose(f);
    long hz = sysconf(_SC_CLK_TCK);
    return btime && hz > 0 ? (double)btime + (double)ticks / (double)hz : NAN;
}

int omni_session_still_running(const omni_session_t *s) {
    if (s->has_footer)
        return 0;
    char host[256];
    if (gethostname(host, sizeof host) != 0 || !s->hostname || strcmp(host, s->hostname) != 0)
        return -1;
    if (access("/proc/self/stat", R_OK) != 0)
        return -1;
    double started = process_start((long long)s->pid);
    return !isnan(started) && fabs(started - s->start_unix_s) < 2.0;
}

/* The checkpoint file's identity: a new one is renamed in (a new inode). */
static int ckpt_id(const char *cpath, struct stat *st) {
    if (stat(cpath, st) < 0) {
        memset(st, 0, sizeof *st);
        return -1;
    }
    return 0;
}

int omni_session_ask_checkpoint(const char *path, double wait_s) {
    omni_session_t s;
    char err[256];
    if (omni_session_load(path, &s, err, sizeof err) < 0)
        return 0;
    int running = omni_session_still_running(&s) == 1;
    omni_session_free(&s);
    if (!running)
        return 0;
    size_t n = strlen(path);
    char *cpath = malloc(n + sizeof OMNI_CHECKPOINT_REQUEST_SUFFIX);
    if (!cpath)
        return -1;
    memcpy(cpath, path, n);
    memcpy(cpath + n, OMNI_CHECKPOINT_SUFFIX, sizeof OMNI_CHECKPOINT_SUFFIX);
    struct stat before, now;
    ckpt_id(cpath, &before);
    memcpy(cpath + n, OMNI_CHECKPOINT_REQUEST_SUFFIX, sizeof OMNI_CHECKPOINT_REQUEST_SUFFIX);
    int fd = open(cpath, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        free(cpath);
        return -1;
    }
    close(fd);
    memcpy(cpath + n, OMNI_CHECKPOINT_SUFFIX, sizeof OMNI_CHECKPOINT_SUFFIX);
    int got = 0;
    struct timespec tick = {0, 20 * 1000 * 1000};
    for (double waited = 0; waited < wait_s && !got; waited += 0.02) {
        nanosleep(&tick, NULL);
        got = ckpt_id(cpath, &now) == 0 &&
              (now.st_ino != before.st_ino || now.st_mtim.tv_sec != before.st_mtim.tv_sec ||
               now.st_mtim.tv_nsec != before.st_mtim.tv_nsec);
    }
    if (!got) { /* nobody answered: take the request back */
        memcpy(cpath + n, OMNI_CHECKPOINT_REQUEST_SUFFIX, sizeof OMNI_CHECKPOINT_REQUEST_SUFFIX);
        unlink(cpath);
    }
    free(cpath);
    return got;
}

static void print_one(FILE *out, const char *path, const omni_session_t *s) {
    char when[32] = "?";
    time_t t = (time_t)s->start_unix_s;
    struct tm tm;
    if (localtime_r(&t, &tm))
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
    char wall[32], status[32];
    if (s->has_footer) {
        snprintf(wall, sizeof wall, "%.3fs", s->wall_s);
        snprintf(status, sizeof status, "%lld", (long long)s->exit_status);
    } else {
        snprintf(wall, sizeof wall, "-");
        snprintf(status, sizeof status, "%s",
                 omni_session_still_running(s) == 1 ? "running" : "unfinished");
    }
    fprintf(out, "%-19s  %10s  %10s  %-32s  %s\n", when, wall, status,
            s->target ? s->target : "?", path);
}

int omni_sessions_list(const char *dir, FILE *out) {
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT) {
            fprintf(out, "no sessions in %s/ (run a program under omnipython first)\n", dir);
            return 0;
        }
        fprintf(stderr, "omnipython: cannot read %s: %s\n", dir, strerror(errno));
        return -1;
    }
    entry_t *v = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".omni") != 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            entry_t *nv = realloc(v, cap * sizeof *v);
            if (!nv)
                break;
            v = nv;
        }
        size_t plen = strlen(dir) + len + 2;
        if (!(v[n].path = malloc(plen)))
            break;
        snprintf(v[n].path, plen, "%s/%s", dir, e->d_name);
        v[n].ok = omni_session_load(v[n].path, &v[n].s, v[n].err, sizeof v[n].err) == 0;
        n++;
    }
    closedir(d);
    qsort(v, n, sizeof *v, by_start);
    if (n)
        fprintf(out, "%-19s  %10s  %10s  %-32s  %s\n", "started", "wall", "exit", "target",
                "session");
    else
        fprintf(out, "no sessions in %s/\n", dir);
    for (size_t i = 0; i < n; i++) {
        if (v[i].ok) {
            print_one(out, v[i].path, &v[i].s);
            omni_session_free(&v[i].s);
        } else {
            fprintf(out, "%-19s  %10s  %10s  %-32s  %s  (%s)\n", "?", "-", "unreadable", "?",
                    v[i].path, v[i].err);
        }
        free(v[i].path);
    }
    free(v);
    return (int)n;
}
