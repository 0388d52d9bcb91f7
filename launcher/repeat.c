/* repeat.c - --repeat N: the target run N times, one after another, each
 * run a child omnipython adding its session to the same file (the first
 * creates it). The reader takes the runs apart again. */
#include "launcher/repeat.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* A name for the session under ./.omni/ from the Python arguments, as a
 * single run names it: the script's stem, the module, or "c". */
static void default_path(char **py, int n, char *out, size_t cap) {
    char stem[64] = "run";
    for (int i = 0; i < n; i++) {
        if (strcmp(py[i], "-m") == 0 && i + 1 < n) {
            snprintf(stem, sizeof stem, "%s", py[i + 1]);
            break;
        }
        if (strcmp(py[i], "-c") == 0) {
            snprintf(stem, sizeof stem, "c");
            break;
        }
        if (py[i][0] != '-') {
            const char *b = strrchr(py[i], '/');
            snprintf(stem, sizeof stem, "%s", b ? b + 1 : py[i]);
            size_t k = strlen(stem);
            if (k > 3 && strcmp(stem + k - 3, ".py") == 0)
                stem[k - 3] = 0;
            break;
        }
    }
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    snprintf(out, cap, ".omni/%s-%s-%d.omni", stem, stamp, (int)getpid());
}

/* argv for one run: omnipython's options but --repeat and --out, then
 * --out path, then Python's arguments. */
static char **run_argv(int argc, char **argv, int py_index, const char *path) {
    char **v = calloc((size_t)argc + 4, sizeof *v);
    if (!v)
        return NULL;
    int n = 0;
    v[n++] = argv[0];
    for (int i = 1; i < py_index; i++) {
        if ((strcmp(argv[i], "--repeat") == 0 || strcmp(argv[i], "--out") == 0) &&
            i + 1 < py_index) {
            i++;
            continue;
        }
        v[n++] = argv[i];
    }
    v[n++] = "--out";
    v[n++] = (char *)path;
    for (int i = py_index; i < argc; i++)
        v[n++] = argv[i];
    v[n] = NULL;
    return v;
}

int omni_repeat_run(const omni_options_t *o, int argc, char **argv) {
    char path[4096];
    if (o->out) {
        snprintf(path, sizeof path, "%s", o->out);
    } else {
        if (mkdir(".omni", 0755) != 0 && errno != EEXIST) {
            fprintf(stderr, "omnipython: cannot make ./.omni: %s\n", strerror(errno));
            return 1;
        }
        default_path(argv + o->py_index, argc - o->py_index, path, sizeof path);
    }
    char **v = run_argv(argc, argv, o->py_index, path);
    if (!v) {
        fprintf(stderr, "omnipython: out of memory\n");
        return 1;
    }
    /* Like a shell: Ctrl-C is for the run in progress (which has the
     * terminal), and it ends the repeats. */
    struct sigaction ign = {.sa_handler = SIG_IGN}, old_int, old_quit;
    sigemptyset(&ign.sa_mask);
    sigaction(SIGINT, &ign, &old_int);
    sigaction(SIGQUIT, &ign, &old_quit);
    int status = 0, done = 0;
    for (int k = 0; k < o->repeat; k++) {
        pid_t pid = fork();
        if (pid < 0) {
            fprintf(stderr, "omnipython: cannot start run %d: %s\n", k + 1, strerror(errno));
            status = status ? status : 1;
            break;
        }
        if (pid == 0) {
            sigaction(SIGINT, &old_int, NULL);
            sigaction(SIGQUIT, &old_quit, NULL);
            setenv("OMNIPYTHON_REPEAT_RUN", k ? "append" : "first", 1);
            execv("/proc/self/exe", v);
            fprintf(stderr, "omnipython: cannot run %s: %s\n", argv[0], strerror(errno));
            _exit(127);
        }
        int ws;
        while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
            ;
        done++;
        int st = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
        if (st && !status)
            status = st; /* the first run that failed says how the repeats went */
        if (WIFSIGNALED(ws) || st == 124 || st == 130)
            break;   /* killed, timed out or interrupted: no more runs */
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGQUIT, &old_quit, NULL);
    free(v);
    if (!o->quiet && isatty(STDERR_FILENO))
        fprintf(stderr, "omnipython: %d run%s in %s (omnipython --report %s)\n", done,
                done == 1 ? "" : "s", path, path);
    return status;
}
