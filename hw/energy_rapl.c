/* energy_rapl.c - RAPL energy counters from /sys/class/powercap. */
#include "hw/energy.h"

#include "hw/procfs.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#define POWERCAP "/sys/class/powercap"

int omni_energy_open(omni_energy_t *e) {
    memset(e, 0, sizeof *e);
    DIR *d = opendir(POWERCAP);
    if (!d) {
        snprintf(e->reason, sizeof e->reason, "no RAPL: %s: %s", POWERCAP, strerror(errno));
        return -1;
    }
    struct dirent *de;
    int unreadable = 0, err = 0;
    while ((de = readdir(d)) && e->n < OMNI_ENERGY_MAX) {
        /* intel-rapl:0 is a package, intel-rapl:0:1 a domain inside it. */
        if (strncmp(de->d_name, "intel-rapl:", 11) != 0)
            continue;
        char dir[96], path[128], name[48];
        snprintf(dir, sizeof dir, POWERCAP "/%.60s", de->d_name);
        snprintf(path, sizeof path, "%s/name", dir);
        if (omni_read_file(path, name, sizeof name) <= 0)
            continue;
        name[strcspn(name, "\n")] = 0;
        int i = e->n;
        snprintf(e->path[i], sizeof e->path[i], "%.80s/energy_uj", dir);
        snprintf(path, sizeof path, "%s/max_energy_range_uj", dir);
        if (omni_read_u64(e->path[i], &e->last_uj[i]) < 0) {
            unreadable++, err = errno;
            continue;
        }
        if (omni_read_u64(path, &e->range_uj[i]) < 0)
            e->range_uj[i] = 0;
        snprintf(e->name[i], sizeof e->name[i], "%.20s-%.20s", name, de->d_name + 11);
        e->n++;
    }
    closedir(d);
    if (e->n == 0) {
        if (unreadable)
            snprintf(e->reason, sizeof e->reason, "RAPL counters are not readable (%s)",
                     strerror(err ? err : EACCES));
        else
            snprintf(e->reason, sizeof e->reason, "no RAPL domain under " POWERCAP);
        return -1;
    }
    e->available = 1;
    return 0;
}

int omni_energy_read(omni_energy_t *e) {
    if (!e->available)
        return -1;
    for (int i = 0; i < e->n; i++) {
        uint64_t v;
        if (omni_read_u64(e->path[i], &v) < 0)
            continue;
        /* A counter that went down wrapped at its range. */
        uint64_t delta = v >= e->last_uj[i] ? v - e->last_uj[i]
                                             : e->range_uj[i] - e->last_uj[i] + v;
        e->total_uj[i] += delta;
        e->last_uj[i] = v;
    }
    return 0;
}
