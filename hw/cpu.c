/* cpu.c - the processor's identity, topology and caches (hwloc), SIMD and
 * frequency. */
#include "hw/cpu.h"

#include "hw/procfs.h"

#include <hwloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

/* Caches of one level and kind are one row with a count of instances. */
static void add_cache(omni_hw_cpu_t *cpu, hwloc_obj_t o) {
    const struct hwloc_cache_attr_s *a = &o->attr->cache;
    const char *type = a->type == HWLOC_OBJ_CACHE_DATA          ? "data"
                       : a->type == HWLOC_OBJ_CACHE_INSTRUCTION ? "instruction"
                                                                : "unified";
    for (int i = 0; i < cpu->n_caches; i++) {
        omni_hw_cache_t *c = &cpu->caches[i];
        if (c->level == (int)a->depth && strcmp(c->type, type) == 0 &&
            c->size_bytes == a->size) {
            c->count++;
            return;
        }
    }
    if (cpu->n_caches == OMNI_HW_MAX_CACHES)
        return;
    omni_hw_cache_t *c = &cpu->caches[cpu->n_caches++];
    c->level = (int)a->depth;
    snprintf(c->type, sizeof c->type, "%s", type);
    c->size_bytes = a->size;
    c->line_bytes = a->linesize;
    c->ways = a->associativity;
    c->count = 1;
}

/* A topology made by omni_hw_cpu_prepare, loaded by the first probe. */
static hwloc_topology_t prepared;

int omni_hw_cpu_prepare(void) {
    if (prepared)
        return 0;
    /* hwloc reads HWLOC_PLUGINS_PATH when its first topology is made and
     * keeps its components while a topology exists: pointing it at nothing
     * for that moment keeps the plugins (and the libraries they pull in,
     * megabytes of the target's RSS and milliseconds) out of the process. */
    const char *was = getenv("HWLOC_PLUGINS_PATH");
    char *saved = was ? strdup(was) : NULL;
    setenv("HWLOC_PLUGINS_PATH", "/nonexistent/omnipython-loads-no-hwloc-plugins", 1);
    if (hwloc_topology_init(&prepared) < 0)
        prepared = NULL;
    if (saved)
        setenv("HWLOC_PLUGINS_PATH", saved, 1);
    else
        unsetenv("HWLOC_PLUGINS_PATH");
    free(saved);
    return 0;
}

/* Loads topo, CPU side only. Without cpuid, the x86 backend is left out: it
 * binds the calling thread to every PU in turn to run cpuid there: slow (tens
 * of ms), and it would move the monitor thread around. Linux's sysfs gives the
 * same topology, except in the VMs whose kernel has no cache folders. Returns
 * 0, or -1 (topo destroyed). */
static int load_topology(hwloc_topology_t topo, int cpuid) {
    /* PCI and I/O discovery cost time and are not needed. */
    hwloc_topology_set_io_types_filter(topo, HWLOC_TYPE_FILTER_KEEP_NONE);
    hwloc_topology_set_icache_types_filter(topo, HWLOC_TYPE_FILTER_KEEP_ALL);
    if (!cpuid)
        hwloc_topology_set_components(topo, HWLOC_TOPOLOGY_COMPONENTS_FLAG_BLACKLIST, "x86");
    if (hwloc_topology_load(topo) < 0) {
        hwloc_topology_destroy(topo);
        return -1;
    }
    return 0;
}

static void add_caches(omni_hw_cpu_t *cpu, hwloc_topology_t topo) {
    static const hwloc_obj_type_t levels[] = {HWLOC_OBJ_L1CACHE, HWLOC_OBJ_L1ICACHE,
                                              HWLOC_OBJ_L2CACHE, HWLOC_OBJ_L3CACHE,
                                              HWLOC_OBJ_L4CACHE};
    for (size_t l = 0; l < sizeof levels / sizeof levels[0]; l++) {
        int n = hwloc_get_nbobjs_by_type(topo, levels[l]);
        for (int i = 0; i < n; i++)
            add_cache(cpu, hwloc_get_obj_by_type(topo, levels[l], i));
    }
}

static void probe_topology(omni_hw_cpu_t *cpu) {
    hwloc_topology_t topo = prepared;
    prepared = NULL; /* a topology is loaded once */
    if (!topo && hwloc_topology_init(&topo) < 0) {
        snprintf(cpu->topology_source, sizeof cpu->topology_source, "hwloc failed to start");
        return;
    }
    if (load_topology(topo, 0) < 0) {
        snprintf(cpu->topology_source, sizeof cpu->topology_source, "hwloc could not load");
        return;
    }
    cpu->sockets = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PACKAGE);
    cpu->physical_cores = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE);
    cpu->logical_cores = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PU);
    cpu->numa_nodes = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_NUMANODE);
    add_caches(cpu, topo);
    const char *caches_from = "";
#if defined(__x86_64__) || defined(__i386__)
    /* No cache in sysfs (a VM's kernel without /sys/devices/system/cpu/cpu0/cache):
     * the caches as cpuid describes them, as lstopo finds them. */
    hwloc_topology_t withcpuid;
    if (!cpu->n_caches && hwloc_topology_init(&withcpuid) == 0 &&
        load_topology(withcpuid, 1) == 0) {
        add_caches(cpu, withcpuid);
        hwloc_topology_destroy(withcpuid);
        caches_from = cpu->n_caches ? ", caches from cpuid" : "";
    }
#endif
    const char *model = hwloc_obj_get_info_by_name(hwloc_get_root_obj(topo), "CPUModel");
    hwloc_obj_t pkg = hwloc_get_obj_by_type(topo, HWLOC_OBJ_PACKAGE, 0);
    if (!model && pkg)
        model = hwloc_obj_get_info_by_name(pkg, "CPUModel");
    if (model && !cpu->model[0])
        snprintf(cpu->model, sizeof cpu->model, "%s", model);
    const char *vendor = pkg ? hwloc_obj_get_info_by_name(pkg, "CPUVendor") : NULL;
    if (vendor && !cpu->vendor[0])
        snprintf(cpu->vendor, sizeof cpu->vendor, "%s", vendor);
    unsigned v = hwloc_get_api_version();
    snprintf(cpu->topology_source, sizeof cpu->topology_source, "hwloc (API %u.%u.%u)%s",
             v >> 16, (v >> 8) & 0xff, v & 0xff, caches_from);
    hwloc_topology_destroy(topo);
}

/* cpufreq (kHz) where the kernel has it; in a VM often only /proc/cpuinfo's
 * "cpu MHz" is there. */
static void probe_frequency(omni_hw_cpu_t *cpu, const char *cpuinfo) {
    uint64_t khz;
    const char *dir = "/sys/devices/system/cpu/cpu0/cpufreq/";
    char path[128];
    snprintf(path, sizeof path, "%scpuinfo_max_freq", dir);
    if (omni_read_u64(path, &khz) == 0)
        cpu->max_mhz = (double)khz / 1000;
    snprintf(path, sizeof path, "%sbase_frequency", dir);
    if (omni_read_u64(path, &khz) == 0)
        cpu->base_mhz = (double)khz / 1000;
    snprintf(path, sizeof path, "%sscaling_cur_freq", dir);
    if (omni_read_u64(path, &khz) == 0)
        cpu->current_mhz = (double)khz / 1000;
    char mhz[32];
    if (!cpu->current_mhz && omni_text_str(cpuinfo, "cpu MHz", ':', mhz, sizeof mhz) == 0)
        sscanf(mhz, "%lf", &cpu->current_mhz);
}

int omni_hw_cpu_probe(omni_hw_cpu_t *cpu) {
    memset(cpu, 0, sizeof *cpu);
    struct utsname u;
    if (uname(&u) == 0)
        snprintf(cpu->arch, sizeof cpu->arch, "%.63s", u.machine);
    char cpuinfo[16384]; /* the first processors' blocks are enough */
    if (omni_read_file("/proc/cpuinfo", cpuinfo, sizeof cpuinfo) < 0)
        cpuinfo[0] = 0;
    omni_text_str(cpuinfo, "model name", ':', cpu->model, sizeof cpu->model);
    cpu->n_simd = omni_hw_simd(cpu->simd, OMNI_HW_MAX_SIMD, cpu->vendor, sizeof cpu->vendor);
    if (!cpu->vendor[0])
        omni_text_str(cpuinfo, "vendor_id", ':', cpu->vendor, sizeof cpu->vendor);
    probe_topology(cpu);
    if (!cpu->logical_cores) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        cpu->logical_cores = n > 0 ? (int)n : 0;
    }
    probe_frequency(cpu, cpuinfo);
    return 0;
}
