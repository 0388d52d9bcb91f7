/* fake_nvml.c - a stand-in for libnvidia-ml.so.1 with NVML's ABI and fixed
 * answers, so that the NVML path is tested on machines without a GPU.
 * FAKE_NVML_FAIL=1 makes nvmlInit_v2 fail as a machine without the driver does. */
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct { unsigned long long total, free, used; } mem_t;
typedef struct { unsigned gpu, memory; } util_t;
typedef struct {
    char bus_id_legacy[16];
    unsigned domain, bus, device, pci_device_id, pci_subsystem_id;
    char bus_id[32];
} pci_t;
typedef struct {
    unsigned pid;
    unsigned long long used;
    unsigned gi, ci;
} proc_t;

static int dev_token;
static unsigned long long energy_mj = 1000000;

/* As NVIDIA's driver does inside nvmlInit: descriptors of its own, kept
 * open, and a thread of its own that reads from one of them. */
static void *driver_thread(void *arg) {
    char buf[4096];
    if (read(*(int *)arg, buf, sizeof buf) < 0)
        return NULL;
    for (;;)
        pause();
}

static int fds[2];
static pthread_t driver;
static int started;

int nvmlInit_v2(void) {
    if (getenv("FAKE_NVML_FAIL"))
        return 9;
    fds[0] = open("/dev/zero", O_RDONLY);
    fds[1] = open("/dev/null", O_RDONLY);
    started = pthread_create(&driver, NULL, driver_thread, &fds[0]) == 0;
    return 0;
}

/* The thread ends before the library may be unloaded, as the driver's do. */
int nvmlShutdown(void) {
    if (started) {
        pthread_cancel(driver);
        pthread_join(driver, NULL);
        started = 0;
    }
    close(fds[0]);
    close(fds[1]);
    return 0;
}
const char *nvmlErrorString(int r) { return r == 9 ? "Driver Not Loaded" : "Unknown Error"; }
int nvmlDeviceGetCount_v2(unsigned *n) { *n = 1; return 0; }
int nvmlDeviceGetHandleByIndex_v2(unsigned i, void **h) { *h = &dev_token; return i == 0 ? 0 : 2; }
int nvmlDeviceGetName(void *h, char *name, unsigned len) {
    strncpy(name, "Fake GPU 80GB", len);
    return 0;
}
/* As NVIDIA's drivers do: the first version counts the driver's reserve
 * (512 MiB here) as used, the second keeps it apart. */
int nvmlDeviceGetMemoryInfo(void *h, mem_t *m) {
    m->total = 80ull << 30;
    m->used = (3ull << 30) + (512ull << 20);
    m->free = m->total - m->used;
    return 0;
}
typedef struct {
    unsigned version;
    unsigned long long total, reserved, free, used;
} mem_v2_t;
int nvmlDeviceGetMemoryInfo_v2(void *h, mem_v2_t *m) {
    if (m->version != ((unsigned)sizeof(mem_v2_t) | (2u << 24)))
        return 25; /* NVML_ERROR_ARGUMENT_VERSION_MISMATCH */
    m->total = 80ull << 30;
    m->reserved = 512ull << 20;
    m->used = 3ull << 30;
    m->free = m->total - m->used - m->reserved;
    return 0;
}
int nvmlSystemGetDriverVersion(char *v, unsigned len) { strncpy(v, "550.54.15", len); return 0; }
int nvmlSystemGetCudaDriverVersion_v2(int *v) { *v = 12040; return 0; }
int nvmlDeviceGetCudaComputeCapability(void *h, int *major, int *minor) {
    *major = 9, *minor = 0;
    return 0;
}
int nvmlDeviceGetPciInfo_v3(void *h, pci_t *p) {
    memset(p, 0, sizeof *p);
    strcpy(p->bus_id, "00000000:1B:00.0");
    return 0;
}
int nvmlDeviceGetUtilizationRates(void *h, util_t *u) { u->gpu = 42, u->memory = 17; return 0; }
int nvmlDeviceGetPowerUsage(void *h, unsigned *mw) { *mw = 123456; return 0; }
int nvmlDeviceGetTotalEnergyConsumption(void *h, unsigned long long *mj) {
    /* 100 J more at every reading */
    *mj = energy_mj;
    energy_mj += 100000;
    return 0;
}
int nvmlDeviceGetTemperature(void *h, int sensor, unsigned *t) { *t = 55; return 0; }
int nvmlDeviceGetClockInfo(void *h, int which, unsigned *mhz) {
    *mhz = which == 1 ? 1980 : 2619;
    return 0;
}
int nvmlDeviceGetComputeRunningProcesses_v3(void *h, unsigned *n, proc_t *p) {
    if (*n < 1) { *n = 1; return 7; }
    *n = 1;
    p[0].pid = (unsigned)getpid(); /* the process that asks: omnipython */
    p[0].used = 512ull << 20;
    return 0;
}
