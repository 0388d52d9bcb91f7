/* lineage.c - the OMNIPYTHON_PARENT variable: "v1:ID:PID:MODE:INTERVAL:QUIET:G:PATH"
 * (the path last: it may hold colons). */
#include "runtime/lineage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int omni_lineage_read(omni_lineage_t *l) {
    const char *v = getenv(OMNI_PARENT_ENV);
    memset(l, 0, sizeof *l);
    if (!v || strncmp(v, "v1:", 3) != 0)
        return -1;
    char id[40];
    int used = 0;
    if (sscanf(v + 3, "%32[0-9a-f]:%ld:%d:%d:%d:%lf:%n", id, &l->pid, &l->mode, &l->interval_ms,
               &l->quiet, &l->grams_co2_per_kwh, &used) != 6 || used == 0)
        return -1;
    const char *path = v + 3 + used;
    if (strlen(id) != 32 || l->pid <= 0 || l->mode < 0 || l->mode > 3 || path[0] != '/' ||
        strlen(path) >= sizeof l->session_path)
        return -1;
    memcpy(l->session_id, id, 33);
    snprintf(l->session_path, sizeof l->session_path, "%s", path);
    return 0;
}

int omni_lineage_export(const omni_lineage_t *l) {
    char v[4096 + 128];
    int n = snprintf(v, sizeof v, "v1:%s:%ld:%d:%d:%d:%.17g:%s", l->session_id, l->pid, l->mode,
                     l->interval_ms, l->quiet, l->grams_co2_per_kwh, l->session_path);
    if (n < 0 || (size_t)n >= sizeof v)
        return -1;
    return setenv(OMNI_PARENT_ENV, v, 1);
}

int omni_lineage_child_path(const char *parent_path, long pid, char *out, size_t cap) {
    size_t n = strlen(parent_path);
    const char *slash = strrchr(parent_path, '/');
    /* Drop ".omni" from the name (not from a directory) before adding -PID. */
    if (n > 5 && strcmp(parent_path + n - 5, ".omni") == 0 && (!slash || slash < parent_path + n - 5))
        n -= 5;
    int k = snprintf(out, cap, "%.*s-%ld.omni", (int)n, parent_path, pid);
    return k < 0 || (size_t)k >= cap ? -1 : 0;
}
