/* gpu_amd_sysfs.c - AMD GPUs from the amdgpu driver's sysfs files, for
 * machines with the driver but without ROCm SMI. */
#include "hw/gpu.h"

#include "hw/procfs.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct {
    int n;
    char dir[OMNI_GPU_MAX][96];   /* /sys/class/drm/cardN/device */
    char hwmon[OMNI_GPU_MAX][160]; /* its hwmon directory, or "" */
} sy;

static int read_at(const char *dir, const char *name, uint64_t *v) {
    char path[320];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return omni_read_u64(path, v);
}

static void find_hwmon(int i) {
    char path[160];
    snprintf(path, sizeof path, "%s/hwmon", sy.dir[i]);
    DIR *d = opendir(path);
    struct dirent *e;
    sy.hwmon[i][0] = 0;
    while (d && (e = readdir(d)))
        if (strncmp(e->d_name, "hwmon", 5) == 0) {
            snprintf(sy.hwmon[i], sizeof sy.hwmon[i], "%.100s/%.40s", path, e->d_name);
            break;
        }
    if (d)
        closedir(d);
}

static int sysfs_open(omni_gpu_info_t *info, char *reason, size_t cap) {
    memset(&sy, 0, sizeof sy);
    DIR *d = opendir("/sys/class/drm");
    if (!d) {
        snprintf(reason, cap, "no /sys/class/drm");
        return -1;
    }
    struct dirent *e;
    while ((e = readdir(d)) && sy.n < OMNI_GPU_MAX) {
        /* cardN, not cardN-HDMI-A-1 (a connector) */
        if (strncmp(e->d_name, "card", 4) != 0 || strchr(e->d_name, '-'))
            continue;
        char dir[96], buf[64];
        uint64_t vendor;
        snprintf(dir, sizeof dir, "/sys/class/drm/%.40s/device", e->d_name);
        if (read_at(dir, "vendor", &vendor) < 0 || vendor != 0x1002)
            continue;
        int i = sy.n++;
        snprintf(sy.dir[i], sizeof sy.dir[i], "%s", dir);
        find_hwmon(i);
        omni_gpu_dev_t *g = &info->dev[i];
        snprintf(g->vendor, sizeof g->vendor, "AMD");
        uint64_t dev = 0, vram;
        read_at(dir, "device", &dev);
        snprintf(g->model, sizeof g->model, "AMD GPU 0x%04llx", (unsigned long long)dev);
        char path[160];
        snprintf(path, sizeof path, "%s/product_name", dir);
        if (omni_read_file(path, buf, sizeof buf) > 1)
            snprintf(g->model, sizeof g->model, "%.*s", (int)strcspn(buf, "\n"), buf);
        if (read_at(dir, "mem_info_vram_total", &vram) == 0)
            g->vram_bytes = vram;
        snprintf(g->driver, sizeof g->driver, "amdgpu");
        /* The device link's target ends in the PCI address. */
        char target[256];
        ssize_t n = readlink(dir, target, sizeof target - 1);
        if (n > 0) {
            target[n] = 0;
            const char *slash = strrchr(target, '/');
            snprintf(g->pci_bus, sizeof g->pci_bus, "%.31s", slash ? slash + 1 : target);
        }
    }
    closedir(d);
    info->n = sy.n;
    if (!sy.n) {
        snprintf(reason, cap, "no AMD GPU in /sys/class/drm");
        return -1;
    }
    return 0;
}

static int sysfs_sample(int i, pid_t pid, omni_gpu_sample_t *s) {
    (void)pid; /* sysfs has no per-process view */
    if (i < 0 || i >= sy.n)
        return -1;
    uint64_t v;
    if (read_at(sy.dir[i], "gpu_busy_percent", &v) == 0)
        s->util_pct = (double)v;
    if (read_at(sy.dir[i], "mem_busy_percent", &v) == 0)
        s->mem_util_pct = (double)v;
    if (read_at(sy.dir[i], "mem_info_vram_used", &v) == 0)
        s->mem_used_bytes = (int64_t)v;
    if (sy.hwmon[i][0]) {
        if (read_at(sy.hwmon[i], "power1_average", &v) == 0)
            s->power_w = (double)v / 1e6;
        if (read_at(sy.hwmon[i], "temp1_input", &v) == 0)
            s->temp_c = (double)v / 1000.0;
        if (read_at(sy.hwmon[i], "freq1_input", &v) == 0)
            s->sm_mhz = (int64_t)(v / 1000000);
    }
    return 0;
}

static void sysfs_close(void) {
    memset(&sy, 0, sizeof sy);
}

const omni_gpu_backend_t omni_gpu_amd_sysfs = {"sysfs", sysfs_open, sysfs_sample, sysfs_close};
