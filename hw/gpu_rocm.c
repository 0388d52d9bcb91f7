/* gpu_rocm.c - AMD GPUs through ROCm SMI (librocm_smi64.so, loaded with
 * dlopen). The types below are ROCm SMI's public ABI (rocm_smi.h). */
#include "hw/gpu.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

typedef int rsmi_ret_t;   /* rsmi_status_t: 0 is RSMI_STATUS_SUCCESS */
typedef struct { uint32_t major, minor, patch; const char *build; } rsmi_version_t;
typedef struct {
    uint32_t process_id, pasid;
    uint64_t vram_usage, sdma_usage;
    uint32_t cu_occupancy;
} rsmi_process_t;

#define RSMI_MEM_TYPE_VRAM 0
#define RSMI_TEMP_TYPE_EDGE 0
#define RSMI_TEMP_CURRENT 0
#define RSMI_SW_COMP_DRIVER 0

static struct {
    void *lib;
    int n;
    rsmi_ret_t (*init)(uint64_t);
    rsmi_ret_t (*shut_down)(void);
    rsmi_ret_t (*status_string)(rsmi_ret_t, const char **);
    rsmi_ret_t (*count)(uint32_t *);
    rsmi_ret_t (*name)(uint32_t, char *, size_t);
    rsmi_ret_t (*mem_total)(uint32_t, int, uint64_t *);
    rsmi_ret_t (*mem_used)(uint32_t, int, uint64_t *);
    rsmi_ret_t (*busy)(uint32_t, uint32_t *);
    rsmi_ret_t (*power)(uint32_t, uint32_t, uint64_t *);
    rsmi_ret_t (*temp)(uint32_t, uint32_t, int, int64_t *);
    rsmi_ret_t (*pci)(uint32_t, uint64_t *);
    rsmi_ret_t (*version)(rsmi_version_t *);
    rsmi_ret_t (*driver)(int, char *, uint32_t);
    rsmi_ret_t (*energy)(uint32_t, uint64_t *, float *, uint64_t *);
    rsmi_ret_t (*process)(uint32_t, rsmi_process_t *);
} rs;

static const char *const libs[] = {"librocm_smi64.so", "librocm_smi64.so.7", "librocm_smi64.so.6",
                                   "librocm_smi64.so.5", "/opt/rocm/lib/librocm_smi64.so", NULL};

static const omni_dl_sym_t syms[] = {
    {"rsmi_init", (void **)&rs.init, 0},
    {"rsmi_shut_down", (void **)&rs.shut_down, 0},
    {"rsmi_status_string", (void **)&rs.status_string, 1},
    {"rsmi_num_monitor_devices", (void **)&rs.count, 0},
    {"rsmi_dev_name_get", (void **)&rs.name, 1},
    {"rsmi_dev_memory_total_get", (void **)&rs.mem_total, 1},
    {"rsmi_dev_memory_usage_get", (void **)&rs.mem_used, 1},
    {"rsmi_dev_busy_percent_get", (void **)&rs.busy, 1},
    {"rsmi_dev_power_ave_get", (void **)&rs.power, 1},
    {"rsmi_dev_temp_metric_get", (void **)&rs.temp, 1},
    {"rsmi_dev_pci_id_get", (void **)&rs.pci, 1},
    {"rsmi_version_get", (void **)&rs.version, 1},
    {"rsmi_version_str_get", (void **)&rs.driver, 1},
    {"rsmi_dev_energy_count_get", (void **)&rs.energy, 1},
    {"rsmi_compute_process_info_by_pid_get", (void **)&rs.process, 1},
    {NULL, NULL, 0},
};

/* Shut down and left loaded, as NVML is (gpu_nvml.c): a driver's threads
 * may still be running its code. */
static void rocm_close(void) {
    if (rs.lib)
        rs.shut_down();
    memset(&rs, 0, sizeof rs);
}

static void describe(uint32_t i, omni_gpu_dev_t *d) {
    snprintf(d->vendor, sizeof d->vendor, "AMD");
    if (!rs.name || rs.name(i, d->model, sizeof d->model) != 0)
        snprintf(d->model, sizeof d->model, "unknown");
    uint64_t v;
    if (rs.mem_total && rs.mem_total(i, RSMI_MEM_TYPE_VRAM, &v) == 0)
        d->vram_bytes = v;
    if (rs.driver)
        rs.driver(RSMI_SW_COMP_DRIVER, d->driver, sizeof d->driver);
    rsmi_version_t ver;
    if (rs.version && rs.version(&ver) == 0)
        snprintf(d->runtime, sizeof d->runtime, "ROCm SMI %u.%u.%u", ver.major, ver.minor,
                 ver.patch);
    /* BDFID: domain << 32 | bus << 8 | device << 3 | function */
    if (rs.pci && rs.pci(i, &v) == 0)
        snprintf(d->pci_bus, sizeof d->pci_bus, "%04x:%02x:%02x.%x", (unsigned)(v >> 32),
                 (unsigned)(v >> 8) & 0xff, (unsigned)(v >> 3) & 0x1f, (unsigned)v & 7);
}

static int rocm_open(omni_gpu_info_t *info, char *reason, size_t cap) {
    rocm_close();
    rs.lib = omni_dl_load(libs, syms, reason, cap);
    if (!rs.lib)
        return -1;
    uint32_t count = 0;
    rsmi_ret_t r = rs.init(0);
    int started = r == 0;
    if (started)
        r = rs.count(&count);
    if (r != 0) {
        const char *msg = NULL;
        if (rs.status_string)
            rs.status_string(r, &msg);
        snprintf(reason, cap, "%s (status %d)", msg ? msg : "ROCm SMI failed", r);
        if (started) {
            rocm_close();
        } else { /* nothing of the driver's runs: unloaded */
            dlclose(rs.lib);
            memset(&rs, 0, sizeof rs);
        }
        return -1;
    }
    for (uint32_t i = 0; i < count && rs.n < OMNI_GPU_MAX; i++)
        describe(i, &info->dev[rs.n++]);
    info->n = rs.n;
    if (!rs.n) {
        snprintf(reason, cap, "ROCm SMI reports no device");
        rocm_close();
        return -1;
    }
    return 0;
}

static int rocm_sample(int i, pid_t pid, omni_gpu_sample_t *s) {
    if (i < 0 || i >= rs.n)
        return -1;
    uint32_t busy;
    uint64_t v, t;
    int64_t temp;
    float res;
    if (rs.busy && rs.busy((uint32_t)i, &busy) == 0)
        s->util_pct = busy;
    if (rs.mem_used && rs.mem_used((uint32_t)i, RSMI_MEM_TYPE_VRAM, &v) == 0)
        s->mem_used_bytes = (int64_t)v;
    if (rs.power && rs.power((uint32_t)i, 0, &v) == 0)
        s->power_w = (double)v / 1e6; /* microwatts */
    if (rs.temp && rs.temp((uint32_t)i, RSMI_TEMP_TYPE_EDGE, RSMI_TEMP_CURRENT, &temp) == 0)
        s->temp_c = (double)temp / 1000.0;
    if (rs.energy && rs.energy((uint32_t)i, &v, &res, &t) == 0)
        s->energy_mj = (int64_t)((double)v * res / 1000.0); /* counter × µJ per count */
    rsmi_process_t p;
    if (rs.process)
        s->proc_mem_bytes = rs.process((uint32_t)pid, &p) == 0 ? (int64_t)p.vram_usage : 0;
    return 0;
}

const omni_gpu_backend_t omni_gpu_rocm_smi = {"rocm_smi", rocm_open, rocm_sample, rocm_close};
