/* gpu.c - picks the GPU backend that answers. */
#include "hw/gpu.h"

#include <stdio.h>
#include <string.h>

static const omni_gpu_backend_t *const backends[] = {&omni_gpu_nvml, &omni_gpu_rocm_smi,
                                                     &omni_gpu_amd_sysfs};
static const omni_gpu_backend_t *active;

int omni_gpu_open(omni_gpu_info_t *info) {
    memset(info, 0, sizeof *info);
    omni_gpu_close();
    size_t used = 0;
    for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++) {
        char why[256] = "";
        info->n = 0;
        if (backends[i]->open(info, why, sizeof why) == 0 && info->n > 0) {
            active = backends[i];
            info->available = 1;
            snprintf(info->source, sizeof info->source, "%s", active->name);
            info->reason[0] = 0;
            return 0;
        }
        if (!why[0])
            snprintf(why, sizeof why, "no device");
        int k = snprintf(info->reason + used, sizeof info->reason - used, "%s%s: %s",
                         used ? "; " : "", backends[i]->name, why);
        if (k > 0 && used + (size_t)k < sizeof info->reason)
            used += (size_t)k;
    }
    info->n = 0;
    return -1;
}

int omni_gpu_sample(int i, pid_t pid, omni_gpu_sample_t *s) {
    s->util_pct = s->mem_util_pct = s->power_w = s->temp_c = -1;
    s->mem_used_bytes = s->proc_mem_bytes = s->energy_mj = s->sm_mhz = s->mem_mhz = -1;
    return active ? active->sample(i, pid, s) : -1;
}

void omni_gpu_close(void) {
    if (active)
        active->close();
    active = NULL;
}
