/* os.c - the OS identity (uname, /etc/os-release), load, memory and the
 * cgroup limits that make a container smaller than the machine. */
#include "hw/os.h"

#include "hw/procfs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

/* This process's cgroup: the v2 line "0::/path", else v1's cpu and memory
 * controllers' own paths. */
static void cgroup_limits(omni_hw_os_t *os) {
    char text[4096], path[512], buf[128];
    os->cpu_quota = -1;
    os->memory_limit_bytes = -1;
    if (omni_read_file("/proc/self/cgroup", text, sizeof text) <= 0)
        return;
    const char *v2 = strstr(text, "0::");
    if (v2 && (v2 == text || v2[-1] == '\n')) {
        size_t n = strcspn(v2 + 3, "\n");
        snprintf(os->cgroup_path, sizeof os->cgroup_path, "%.*s", (int)n, v2 + 3);
        snprintf(path, sizeof path, "/sys/fs/cgroup%s/cpu.max", os->cgroup_path);
        if (omni_read_file(path, buf, sizeof buf) > 0) {
            os->in_cgroup = 1;
            long long quota, period;
            if (sscanf(buf, "%lld %lld", &quota, &period) == 2 && period > 0)
                os->cpu_quota = (double)quota / (double)period;
        }
        snprintf(path, sizeof path, "/sys/fs/cgroup%s/memory.max", os->cgroup_path);
        if (omni_read_file(path, buf, sizeof buf) > 0) {
            os->in_cgroup = 1;
            if (strncmp(buf, "max", 3) != 0)
                os->memory_limit_bytes = strtoll(buf, NULL, 10);
        }
        if (os->in_cgroup)
            return;
    }
    /* v1: quota -1 means none; a memory limit near 2^63 means none. */
    uint64_t q, p, m;
    if (omni_read_u64("/sys/fs/cgroup/cpu/cpu.cfs_period_us", &p) == 0) {
        os->in_cgroup = 1;
        char qs[64];
        if (omni_read_file("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", qs, sizeof qs) > 0 &&
            (q = (uint64_t)strtoll(qs, NULL, 10)) != (uint64_t)-1 && (int64_t)q > 0 && p)
            os->cpu_quota = (double)q / (double)p;
    }
    if (omni_read_u64("/sys/fs/cgroup/memory/memory.limit_in_bytes", &m) == 0) {
        os->in_cgroup = 1;
        if (m < (1ull << 62))
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
