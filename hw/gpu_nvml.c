/* gpu_nvml.c - NVIDIA GPUs through NVML (libnvidia-ml.so.1, loaded with
 * dlopen). The types below are NVML's public ABI (nvml.h), declared here so
 * that no NVIDIA header is needed to build. */
#include "hw/gpu.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

typedef int nvml_ret_t;         /* nvmlReturn_t: 0 is NVML_SUCCESS */
typedef void *nvml_dev_t;       /* nvmlDevice_t */
typedef struct { unsigned long long total, free, used; } nvml_memory_t;
typedef struct {                /* nvmlMemory_v2_t: used without the driver's reserve */
    unsigned version;
    unsigned long long total, reserved, free, used;
} nvml_memory_v2_t;
#define NVML_MEMORY_V2 ((unsigned)sizeof(nvml_memory_v2_t) | (2u << 24))
typedef struct { unsigned gpu, memory; } nvml_util_t;
typedef struct {                /* nvmlPciInfo_t (v3) */
    char bus_id_legacy[16];
    unsigned domain, bus, device, pci_device_id, pci_subsystem_id;
    char bus_id[32];
} nvml_pci_t;
typedef struct {                /* nvmlProcessInfo_v2_t / _v3_t */
    unsigned pid;
    unsigned long long used_gpu_memory;
    unsigned gpu_instance_id, compute_instance_id;
} nvml_proc_t;

#define NVML_TEMPERATURE_GPU 0
#define NVML_CLOCK_SM 1
#define NVML_CLOCK_MEM 2
#define NVML_ERROR_INSUFFICIENT_SIZE 7
#define NVML_VALUE_NOT_AVAILABLE (~0ull)

static struct {
    void *lib;
    nvml_dev_t dev[OMNI_GPU_MAX];
    int n;
    nvml_ret_t (*init)(void);
    nvml_ret_t (*shutdown)(void);
    const char *(*error_string)(nvml_ret_t);
    nvml_ret_t (*count)(unsigned *);
    nvml_ret_t (*handle)(unsigned, nvml_dev_t *);
    nvml_ret_t (*name)(nvml_dev_t, char *, unsigned);
    nvml_ret_t (*memory)(nvml_dev_t, nvml_memory_t *);
    nvml_ret_t (*memory_v2)(nvml_dev_t, nvml_memory_v2_t *);
    nvml_ret_t (*driver_version)(char *, unsigned);
    nvml_ret_t (*cuda_version)(int *);
    nvml_ret_t (*capability)(nvml_dev_t, int *, int *);
    nvml_ret_t (*pci)(nvml_dev_t, nvml_pci_t *);
    nvml_ret_t (*utilization)(nvml_dev_t, nvml_util_t *);
    nvml_ret_t (*power)(nvml_dev_t, unsigned *);
    nvml_ret_t (*energy)(nvml_dev_t, unsigned long long *);
    nvml_ret_t (*temperature)(nvml_dev_t, int, unsigned *);
    nvml_ret_t (*clock)(nvml_dev_t, int, unsigned *);
    nvml_ret_t (*processes)(nvml_dev_t, unsigned *, nvml_proc_t *);
} nv;

static const char *const libs[] = {"libnvidia-ml.so.1", "libnvidia-ml.so", NULL};

static const omni_dl_sym_t syms[] = {
    {"nvmlInit_v2", (void **)&nv.init, 0},
    {"nvmlShutdown", (void **)&nv.shutdown, 0},
    {"nvmlErrorString", (void **)&nv.error_string, 0},
    {"nvmlDeviceGetCount_v2", (void **)&nv.count, 0},
    {"nvmlDeviceGetHandleByIndex_v2", (void **)&nv.handle, 0},
    {"nvmlDeviceGetName", (void **)&nv.name, 0},
    {"nvmlDeviceGetMemoryInfo", (void **)&nv.memory, 0},
    {"nvmlDeviceGetMemoryInfo_v2", (void **)&nv.memory_v2, 1},
    {"nvmlSystemGetDriverVersion", (void **)&nv.driver_version, 1},
    {"nvmlSystemGetCudaDriverVersion_v2", (void **)&nv.cuda_version, 1},
    {"nvmlDeviceGetCudaComputeCapability", (void **)&nv.capability, 1},
    {"nvmlDeviceGetPciInfo_v3", (void **)&nv.pci, 1},
    {"nvmlDeviceGetUtilizationRates", (void **)&nv.utilization, 1},
    {"nvmlDeviceGetPowerUsage", (void **)&nv.power, 1},
    {"nvmlDeviceGetTotalEnergyConsumption", (void **)&nv.energy, 1},
    {"nvmlDeviceGetTemperature", (void **)&nv.temperature, 1},
    {"nvmlDeviceGetClockInfo", (void **)&nv.clock, 1},
    {"nvmlDeviceGetComputeRunningProcesses_v3", (void **)&nv.processes, 1},
    {NULL, NULL, 0},
};

static const char *nv_err(nvml_ret_t r) {
    const char *s = nv.error_string ? nv.error_string(r) : NULL;
    return s ? s : "unknown NVML error";
}

/* Shut down and left loaded: a driver's threads (libcuda starts one inside
 * nvmlInit) may still be running its code, and unloading the library under
 * them would crash the target's exit. */
static void nvml_close(void) {
    if (nv.lib)
        nv.shutdown();
    memset(&nv, 0, sizeof nv);
}

static void describe(int i, omni_gpu_dev_t *d) {
    nvml_dev_t h = nv.dev[i];
    snprintf(d->vendor, sizeof d->vendor, "NVIDIA");
    if (nv.name(h, d->model, sizeof d->model) != 0)
        snprintf(d->model, sizeof d->model, "unknown");
    nvml_memory_t m;
    if (nv.memory(h, &m) == 0)
        d->vram_bytes = m.total;
    if (nv.driver_version)
        nv.driver_version(d->driver, sizeof d->driver);
    int v, major, minor;
    if (nv.cuda_version && nv.cuda_version(&v) == 0)
        snprintf(d->runtime, sizeof d->runtime, "CUDA %d.%d", v / 1000, (v % 1000) / 10);
    if (nv.capability && nv.capability(h, &major, &minor) == 0)
        snprintf(d->compute, sizeof d->compute, "%d.%d", major, minor);
    nvml_pci_t p;
    if (nv.pci && nv.pci(h, &p) == 0) {
        p.bus_id[sizeof p.bus_id - 1] = 0;
        snprintf(d->pci_bus, sizeof d->pci_bus, "%s", p.bus_id);
    }
}

static int nvml_open(omni_gpu_info_t *info, char *reason, size_t cap) {
    nvml_close();
    nv.lib = omni_dl_load(libs, syms, reason, cap);
    if (!nv.lib)
        return -1;
    nvml_ret_t r = nv.init();
    if (r != 0) { /* nothing of the driver's runs: unloaded */
        snprintf(reason, cap, "%s", nv_err(r));
        dlclose(nv.lib);
        memset(&nv, 0, sizeof nv);
        return -1;
    }
    unsigned count = 0;
    if ((r = nv.count(&count)) != 0) {
        snprintf(reason, cap, "%s", nv_err(r));
        nvml_close();
        return -1;
    }
    for (unsigned i = 0; i < count && nv.n < OMNI_GPU_MAX; i++)
        if (nv.handle(i, &nv.dev[nv.n]) == 0)
            describe(nv.n, &info->dev[nv.n]), nv.n++;
    info->n = nv.n;
    if (!nv.n) {
        snprintf(reason, cap, "the driver reports no device");
        nvml_close();
        return -1;
    }
    return 0;
}

/* The device's memory in use, as nvidia-smi counts it: the first version
 * of the call counts the driver's own reserve too (480 MiB more on an idle
 * H100 with driver 580: 1875 MiB where nvidia-smi said 1395). -1 unknown. */
static int64_t used_memory(nvml_dev_t h) {
    nvml_memory_v2_t m2 = {.version = NVML_MEMORY_V2};
    if (nv.memory_v2 && nv.memory_v2(h, &m2) == 0)
        return (int64_t)m2.used;
    nvml_memory_t m;
    return nv.memory(h, &m) == 0 ? (int64_t)m.used : -1;
}

/* This process's memory on the device: its row in the running compute
 * processes (a process that has not touched the device has none: 0). */
static int64_t proc_memory(nvml_dev_t h, pid_t pid) {
    nvml_proc_t procs[64];
    unsigned n = 64;
    if (!nv.processes || nv.processes(h, &n, procs) != 0)
        return -1;
    for (unsigned i = 0; i < n && i < 64; i++)
        if ((pid_t)procs[i].pid == pid)
            return procs[i].used_gpu_memory == NVML_VALUE_NOT_AVAILABLE
                       ? -1
                       : (int64_t)procs[i].used_gpu_memory;
    return 0;
}

static int nvml_sample(int i, pid_t pid, omni_gpu_sample_t *s) {
    if (i < 0 || i >= nv.n)
        return -1;
    nvml_dev_t h = nv.dev[i];
    nvml_util_t u;
    if (nv.utilization && nv.utilization(h, &u) == 0)
        s->util_pct = u.gpu, s->mem_util_pct = u.memory;
    int64_t used = used_memory(h);
    if (used >= 0)
        s->mem_used_bytes = used;
    s->proc_mem_bytes = proc_memory(h, pid);
    unsigned v;
    if (nv.power && nv.power(h, &v) == 0)
        s->power_w = v / 1000.0;
    unsigned long long mj;
    if (nv.energy && nv.energy(h, &mj) == 0)
        s->energy_mj = (int64_t)mj;
    if (nv.temperature && nv.temperature(h, NVML_TEMPERATURE_GPU, &v) == 0)
        s->temp_c = v;
    if (nv.clock && nv.clock(h, NVML_CLOCK_SM, &v) == 0)
        s->sm_mhz = v;
    if (nv.clock && nv.clock(h, NVML_CLOCK_MEM, &v) == 0)
        s->mem_mhz = v;
    return 0;
}

const omni_gpu_backend_t omni_gpu_nvml = {"nvml", nvml_open, nvml_sample, nvml_close};
