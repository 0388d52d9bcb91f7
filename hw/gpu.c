/* gpu.c - picks the GPU backend that answers and loads vendor libraries. */
#include "hw/gpu.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

static const omni_gpu_backend_t *const backends[] = {&omni_gpu_nvml, &omni_gpu_rocm_smi,
                                                     &omni_gpu_amd_sysfs};
static const omni_gpu_backend_t *active;

void *omni_dl_load(const char *const *libs, const omni_dl_sym_t *syms, char *reason, size_t cap) {
    void *h = NULL;
    char err[200] = "no library name";
    /* The first name is the one the vendor documents: its error is the one to show. */
    for (const char *const *l = libs; *l && !h; l++)
        if (!(h = dlopen(*l, RTLD_NOW | RTLD_LOCAL)) && l == libs)
            snprintf(err, sizeof err, "%s", dlerror());
    if (!h) {
        snprintf(reason, cap, "cannot load %s (%s)", libs[0], err);
        return NULL;
    }
    for (const omni_dl_sym_t *s = syms; s->name; s++) {
        *s->slot = dlsym(h, s->name);
        if (!*s->slot && !s->optional) {
            snprintf(reason, cap, "%s has no %s", libs[0], s->name);
            dlclose(h);
            return NULL;
        }
    }
    return h;
}

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
