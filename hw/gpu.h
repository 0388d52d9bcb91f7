/* gpu.h - GPUs through the vendors' management libraries, loaded at run time
 * with dlopen (never linked): NVIDIA NVML, AMD ROCm SMI, and AMD's sysfs when
 * ROCm SMI is absent. No GPU, no driver or a failing library is a reason,
 * never an error of the run. */
#ifndef OMNI_HW_GPU_H
#define OMNI_HW_GPU_H

#include <stdint.h>
#include <sys/types.h>

#include "hw/dl.h"

#define OMNI_GPU_MAX 16

typedef struct omni_gpu_dev {
    char vendor[16];          /* NVIDIA, AMD */
    char model[128];
    uint64_t vram_bytes;
    char driver[64];          /* driver version */
    char runtime[32];         /* CUDA driver version (NVIDIA) or ROCm SMI version (AMD) */
    char compute[16];         /* compute capability, e.g. "9.0" (NVIDIA) */
    char pci_bus[32];         /* domain:bus:device.function */
} omni_gpu_dev_t;

typedef struct omni_gpu_info {
    int available;            /* at least one device answered */
    char source[16];          /* nvml, rocm_smi, sysfs */
    char reason[512];         /* why not, tried in order, when !available */
    int n;
    omni_gpu_dev_t dev[OMNI_GPU_MAX];
} omni_gpu_info_t;

/* One reading of one device; a value the device does not report is -1. */
typedef struct omni_gpu_sample {
    double util_pct;          /* time the device was busy over the driver's window */
    double mem_util_pct;      /* memory controller busy (NVIDIA) */
    int64_t mem_used_bytes;   /* on the device, by everyone */
    int64_t proc_mem_bytes;   /* on the device, by this process */
    double power_w;
    int64_t energy_mj;        /* device energy counter since driver load (mJ) */
    double temp_c;
    int64_t sm_mhz, mem_mhz;
} omni_gpu_sample_t;

/* Finds the GPUs: NVML, then ROCm SMI, then AMD sysfs. Fills *info either
 * way. Returns 0 when a GPU is available, -1 otherwise. */
int omni_gpu_open(omni_gpu_info_t *info);
/* Reads device i (of the last omni_gpu_open); pid is this process. Returns 0 or -1. */
int omni_gpu_sample(int i, pid_t pid, omni_gpu_sample_t *s);
/* Shuts the library down; idempotent. */
void omni_gpu_close(void);

/* ---------------------------------------------------------------- backends */

typedef struct omni_gpu_backend {
    const char *name;
    /* Fills info->dev and info->n; on failure writes why into reason. */
    int (*open)(omni_gpu_info_t *info, char *reason, size_t cap);
    int (*sample)(int i, pid_t pid, omni_gpu_sample_t *s);
    void (*close)(void);
} omni_gpu_backend_t;

extern const omni_gpu_backend_t omni_gpu_nvml;
extern const omni_gpu_backend_t omni_gpu_rocm_smi;
extern const omni_gpu_backend_t omni_gpu_amd_sysfs;

#endif
