/* machine.c - reads the machine summary from uname, /proc and /etc/os-release. */
#include "hw/machine.h"

#include "hw/procfs.h"

#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

int omni_hw_summary(omni_hw_summary_t *out) {
    memset(out, 0, sizeof *out);
    struct utsname u;
    if (uname(&u) == 0) {
        snprintf(out->hostname, sizeof out->hostname, "%.255s", u.nodename);
        snprintf(out->arch, sizeof out->arch, "%.63s", u.machine);
        snprintf(out->kernel, sizeof out->kernel, "%s", u.release);
    }
    char text[8192];
    /* The first processor's block is enough for its model name. */
    if (omni_read_file("/proc/cpuinfo", text, sizeof text) < 0 ||
        omni_text_str(text, "model name", ':', out->cpu_model, sizeof out->cpu_model) < 0)
        snprintf(out->cpu_model, sizeof out->cpu_model, "unknown");
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    out->logical_cpus = n > 0 ? (int)n : 0;
    uint64_t kb = 0;
    if (omni_read_file("/proc/meminfo", text, sizeof text) > 0 &&
        omni_text_u64(text, "MemTotal", &kb) == 0)
        out->mem_total_bytes = kb * 1024;
    if (omni_read_file("/etc/os-release", text, sizeof text) < 0 ||
        omni_text_str(text, "PRETTY_NAME", '=', out->os, sizeof out->os) < 0)
        snprintf(out->os, sizeof out->os, "%s", u.sysname);
    return 0;
}
