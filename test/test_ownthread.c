/* test_ownthread.c - omnipython's own threads: counted from before they
 * exist until they end, and the two files served from a copy read whole
 * (ownthread.c): /proc/self/stat without them while a fork is under way,
 * /proc/self/maps on their own threads, stable across a rewind. */
#include "runtime/interpose.h"
#include "runtime/ownthread.h"
#include "test/unit.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* num_threads, the 20th field of /proc/self/stat, as CPython 3.12 reads it. */
static long stat_threads(void) {
    FILE *f = fopen("/proc/self/stat", "r");
    if (!f)
        return -1;
    char line[1024];
    size_t n = fread(line, 1, sizeof line - 1, f);
    fclose(f);
    line[n] = 0;
    char *p = strrchr(line, ')');
    for (int field = 2; p && field < 20; field++)
        p = strchr(p + 1, ' ');
    return p ? strtol(p + 1, NULL, 10) : -1;
}

static pthread_mutex_t gate = PTHREAD_MUTEX_INITIALIZER;

/* A thread an own thread starts: ours too, but in a sanitizer's build
 * (whose runtime intercepts pthread_create) the target's. */
#define OWN_CHILD (!OMNI_SANITIZER_BUILD)

static void *child(void *arg) {
    (void)arg;
    pthread_mutex_lock(&gate);
    pthread_mutex_unlock(&gate);
    return NULL;
}

static long maps_lines_twice[2];

static void *own(void *arg) {
    (void)arg;
    pthread_t t;
    CHECK_INT(pthread_create(&t, NULL, child, NULL), 0);
    /* /proc/self/maps from a copy: a rewind reads the same lines */
    FILE *f = fopen("/proc/self/maps", "r");
    CHECK(f != NULL);
    char line[4096];
    void *more[64];
    for (int pass = 0; f && pass < 2; pass++) {
        while (fgets(line, sizeof line, f))
            maps_lines_twice[pass]++;
        if (pass == 0) {
            for (int i = 0; i < 64; i++) /* the process maps more meanwhile */
                CHECK((more[i] = malloc(1 << 20)) != NULL);
            rewind(f);
        }
    }
    for (int i = 0; f && i < 64; i++)
        free(more[i]);
    if (f)
        fclose(f);
    pthread_mutex_lock(&gate);
    pthread_mutex_unlock(&gate);
    pthread_join(t, NULL);
    return NULL;
}

int main(void) {
    CHECK_INT(omni_own_threads_alive(), 0);
    long alone = stat_threads();
    CHECK_INT(alone, 1);
    pthread_mutex_lock(&gate);
    pthread_t t;
    CHECK_INT(omni_own_thread_start(&t, NULL, own, NULL), 0);
    while (stat_threads() < 3) /* the own thread and the one it started */
        ;
    CHECK_INT(omni_own_threads_alive(), 1 + OWN_CHILD);
    CHECK_INT(stat_threads(), 3);
    omni_own_threads_hide(1); /* a fork under way: the target's threads alone */
    CHECK_INT(stat_threads(), 2 - OWN_CHILD);
    omni_own_threads_hide(0);
    CHECK_INT(stat_threads(), 3);
    pthread_mutex_unlock(&gate);
    pthread_join(t, NULL);
    CHECK_INT(omni_own_threads_alive(), 0);
    CHECK(maps_lines_twice[0] > 10);
    CHECK_INT(maps_lines_twice[1], maps_lines_twice[0]);
    UNIT_DONE();
}
