/* os.c - the OS identity (uname, /etc/os-release), load, memory and the
 * cgroup limits that make a container smaller than the machine. */
#include "hw/os.h"

#include "hw/procfs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

/* The path of this process in the v1 hierarchy of controller (a line
 * "N:cpu,cpuacct:/path" of /proc/self/cgroup). Returns 0 or -1. */
static int v1_path(const char *text, const char *controller, char *out, size_t cap) {
    size_t clen = strlen(controller);
    for (const char *line = text, *eol; line && *line; line = eol ? eol + 1 : NULL) {
        const char *c1 = strchr(line, ':');
        const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        eol = strchr(line, '\n');
        if (!c2 || (eol && c2 > eol))
            continue;
        for (const char *p = c1 + 1; p < c2;) {
            size_t n = strcspn(p, ",:");
            if (n == clen && strncmp(p, controller, clen) == 0) {
                size_t plen = eol ? (size_t)(eol - c2 - 1) : strlen(c2 + 1);
                snprintf(out, cap, "%.*s", (int)plen, c2 + 1);
                return 0;
            }
            p += n + (p[n] == ',');
        }
    }
    return -1;
}

/* This process's cgroup limits: cgroup v2 when /sys/fs/cgroup is the
 * unified hierarchy, else v1's cpu and memory controllers. */
static void cgroup_limits(omni_hw_os_t *os) {
    char text[4096], path[768], buf[128];
    os->cpu_quota = -1;
    os->memory_limit_bytes = -1;
    if (omni_read_file("/proc/self/cgroup", text, sizeof text) <= 0)
        return;
    const char *v2 = strstr(text, "0::");
    if (v2 && (v2 == text || v2[-1] == '\n') && access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0) {
        size_t n = strcspn(v2 + 3, "\n");
        snprintf(os->cgroup_path, sizeof os->cgroup_path, "%.*s", (int)n, v2 + 3);
        os->in_cgroup = 1;
        snprintf(path, sizeof path, "/sys/fs/cgroup%s/cpu.max", os->cgroup_path);
        long long quota, period;
        if (omni_read_file(path, buf, sizeof buf) > 0 &&
            sscanf(buf, "%lld %lld", &quota, &period) == 2 && period > 0)
            os->cpu_quota = (double)quota / (double)period;
        snprintf(path, sizeof path, "/sys/fs/cgroup%s/memory.max", os->cgroup_path);
        if (omni_read_file(path, buf, sizeof buf) > 0 && strncmp(buf, "max", 3) != 0)
            os->memory_limit_bytes = strtoll(buf, NULL, 10);
        return;
    }
    /* v1: a quota of -1 is none; a memory limit near 2^63 is none. */
    char cg[256];
    uint64_t q, p, m;
    if (v1_path(text, "cpu", cg, sizeof cg) == 0) {
        os->in_cgroup = 1;
        snprintf(path, sizeof path, "/sys/fs/cgroup/cpu%s/cpu.cfs_period_us",
                 strcmp(cg, "/") ? cg : "");
        char qs[64];
        if (omni_read_u64(path, &p) == 0 && p) {
            snprintf(path, sizeof path, "/sys/fs/cgroup/cpu%s/cpu.cfs_quota_us",
                     strcmp(cg, "/") ? cg : "");
            if (omni_read_file(path, qs, sizeof qs) > 0 && (q = (uint64_t)strtoll(qs, NULL, 10)) &&
                (int64_t)q > 0)
                os->cpu_quota = (double)q / (double)p;
        }
    }
    if (v1_path(text, "memory", cg, sizeof cg) == 0) {
        os->in_cgroup = 1;
        snprintf(os->cgroup_path, sizeof os->cgroup_path, "%s", cg);
        snprintf(path, sizeof path, "/sys/fs/cgroup/memory%s/memory.limit_in_bytes",
                 strcmp(cg, "/") ? cg : "");
        if (omni_read_u64(path, &m) == 0 && m < (1ull << 62))
            os->memory_limit_bytes = (int64_t)m;
    }
}

int omni_hw_os_probe(omni_hw_os_t *os) {
    memset(os, 0, sizeof *os);
    struct utsname u;
    if (uname(&u) == 0) {
        snprintf(os->kernel, sizeof os->kernel, "%s", u.release);
        snprintf(os->hostname, sizeof os->hostname, "%.255s", u.nodename);
        snprintf(os->name, sizeof os->name, "%s", u.sysname);
    }
    char text[8192];
    if (omni_read_file("/etc/os-release", text, sizeof text) > 0) {
        omni_text_str(text, "NAME", '=', os->name, sizeof os->name);
        omni_text_str(text, "VERSION_ID", '=', os->version, sizeof os->version);
        omni_text_str(text, "PRETTY_NAME", '=', os->pretty, sizeof os->pretty);
    }
    if (omni_read_file("/proc/loadavg", text, sizeof text) > 0)
        sscanf(text, "%lf %lf %lf", &os->load[0], &os->load[1], &os->load[2]);
    uint64_t kb;
    if (omni_read_file("/proc/meminfo", text, sizeof text) > 0) {
        if (omni_text_u64(text, "MemTotal", &kb) == 0)
            os->mem_total_bytes = kb * 1024;
        if (omni_text_u64(text, "MemAvailable", &kb) == 0)
            os->mem_available_bytes = kb * 1024;
        if (omni_text_u64(text, "SwapTotal", &kb) == 0)
            os->swap_total_bytes = kb * 1024;
        if (omni_text_u64(text, "Hugepagesize", &kb) == 0)
            os->huge_page_bytes = kb * 1024;
    }
    long page = sysconf(_SC_PAGESIZE);
    os->page_bytes = page > 0 ? (uint64_t)page : 0;
    cgroup_limits(os);
    return 0;
}
