/* machine.c - reads the machine summary from uname, /proc and /etc/os-release. */
#include "hw/machine.h"

#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

/* Copies the value of "key<sep>value" lines into out (trimmed); returns 1 if found. */
static int read_keyed(const char *path, const char *key, char sep, char *out, size_t cap) {
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char line[1024];
    size_t klen = strlen(key);
    int found = 0;
    while (!found && fgets(line, sizeof line, f)) {
        if (strncmp(line, key, klen) != 0)
            continue;
        char *v = line + klen;
        while (*v == ' ' || *v == '\t')
            v++;
        if (*v != sep)
            continue;
        v++;
        while (*v == ' ' || *v == '\t' || *v == '"')
            v++;
        size_t n = strcspn(v, "\"\n");
        if (n >= cap)
            n = cap - 1;
        memcpy(out, v, n);
        out[n] = 0;
        found = 1;
    }
    fclose(f);
    return found;
}

int omni_hw_summary(omni_hw_summary_t *out) {
    memset(out, 0, sizeof *out);
    struct utsname u;
    if (uname(&u) == 0) {
        snprintf(out->hostname, sizeof out->hostname, "%.255s", u.nodename);
        snprintf(out->arch, sizeof out->arch, "%.63s", u.machine);
        snprintf(out->kernel, sizeof out->kernel, "%s", u.release);
    }
    if (!read_keyed("/proc/cpuinfo", "model name", ':', out->cpu_model, sizeof out->cpu_model))
        snprintf(out->cpu_model, sizeof out->cpu_model, "unknown");
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    out->logical_cpus = n > 0 ? (int)n : 0;
    char mem[64];
    unsigned long long kb = 0;
    if (read_keyed("/proc/meminfo", "MemTotal", ':', mem, sizeof mem) && sscanf(mem, "%llu", &kb) == 1)
        out->mem_total_bytes = (uint64_t)kb * 1024;
    if (!read_keyed("/etc/os-release", "PRETTY_NAME", '=', out->os, sizeof out->os))
        snprintf(out->os, sizeof out->os, "%s", u.sysname);
    return 0;
}
