/* os.h - the operating system and memory: identity, load, container limits. */
#ifndef OMNI_HW_OS_H
#define OMNI_HW_OS_H

#include <stdint.h>

typedef struct omni_hw_os {
    char name[128];          /* /etc/os-release NAME, e.g. "Debian GNU/Linux" */
    char version[128];       /* VERSION_ID, e.g. "12" */
    char pretty[256];        /* PRETTY_NAME */
    char kernel[256];        /* uname release */
    char hostname[256];
    double load[3];          /* /proc/loadavg: 1, 5, 15 minutes */
    /* cgroup limits of this process (v2, else v1): -1 when there is no limit */
    int in_cgroup;           /* a cgroup could be read */
    double cpu_quota;        /* CPUs' worth of time allowed (quota / period) */
    int64_t memory_limit_bytes;
    char cgroup_path[256];
    /* memory (/proc/meminfo) */
    uint64_t mem_total_bytes, mem_available_bytes, swap_total_bytes, huge_page_bytes;
    uint64_t page_bytes;
} omni_hw_os_t;

/* Fills *os. Returns 0. */
int omni_hw_os_probe(omni_hw_os_t *os);

#endif
