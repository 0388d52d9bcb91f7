/* list.c - the --sessions listing. */
#include "runtime/session/list.h"

#include "runtime/session/reader.h"

#include <dirent.h>
#include <errno.h>
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
