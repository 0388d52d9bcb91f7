/* hw_text.c - the machine's facts as a few readable lines. */
#include "patterns/report/report.h"

#include "runtime/session/mp_get.h"

#include <math.h>
#include <string.h>

static double num(const msgpack_object *m, const char *key) {
    double v = NAN;
    omni_mp_num(omni_mp_get(m, key), &v);
    return v;
}

static const char *str(const msgpack_object *m, const char *key, char *buf, size_t cap) {
    omni_mp_str(omni_mp_get(m, key), buf, cap);
    return buf[0] ? buf : "?";
}

static void bytes(FILE *f, double b) {
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (b >= 1024 && u < 4)
        b /= 1024, u++;
    fprintf(f, u ? "%.1f %s" : "%.0f %s", b, units[u]);
}

static int is_available(const msgpack_object *m) {
    const msgpack_object *a = omni_mp_get(m, "available");
    return a && a->type == MSGPACK_OBJECT_BOOLEAN && a->via.boolean;
}

static void str_list(FILE *f, const msgpack_object *a) {
    char buf[64];
    for (uint32_t i = 0; a && a->type == MSGPACK_OBJECT_ARRAY && i < a->via.array.size; i++)
        fprintf(f, "%s%s", i ? " " : "", omni_mp_str(&a->via.array.ptr[i], buf, sizeof buf));
}

static void cpu_lines(FILE *f, const msgpack_object *cpu) {
    char a[256], b[64], c[64];
    fprintf(f, "cpu        %s (%s, %s)\n", str(cpu, "model", a, sizeof a),
            str(cpu, "vendor", b, sizeof b), str(cpu, "arch", c, sizeof c));
    fprintf(f, "           %.0f socket(s), %.0f physical cores, %.0f logical, %.0f NUMA node(s)\n",
            num(cpu, "sockets"), num(cpu, "physical_cores"), num(cpu, "logical_cores"),
            num(cpu, "numa_nodes"));
    const msgpack_object *caches = omni_mp_get(cpu, "caches");
    for (uint32_t i = 0; caches && caches->type == MSGPACK_OBJECT_ARRAY &&
                         i < caches->via.array.size; i++) {
        const msgpack_object *k = &caches->via.array.ptr[i];
        fprintf(f, "           L%.0f %-11s ", num(k, "level"), str(k, "type", a, sizeof a));
        bytes(f, num(k, "size_bytes"));
        fprintf(f, " x %.0f, %.0f-byte lines\n", num(k, "count"), num(k, "line_bytes"));
    }
    const msgpack_object *fr = omni_mp_get(cpu, "frequency");
    double cur = num(fr, "current_mhz"), max = num(fr, "max_mhz");
    if (!isnan(cur) || !isnan(max)) {
        fprintf(f, "           frequency");
        if (!isnan(cur))
            fprintf(f, " %.0f MHz now", cur);
        if (!isnan(max))
            fprintf(f, ", %.0f MHz max", max);
        fprintf(f, "\n");
    }
    fprintf(f, "simd       ");
    str_list(f, omni_mp_get(cpu, "simd"));
    fprintf(f, "\n");
}

static void unavailable_line(FILE *f, const char *what, const msgpack_object *m) {
    char r[512];
    fprintf(f, "%-10s unavailable: %s\n", what, str(m, "reason", r, sizeof r));
}

static void gpu_lines(FILE *f, const msgpack_object *gpu) {
    if (!is_available(gpu)) {
        unavailable_line(f, "gpu", gpu);
        return;
    }
    const msgpack_object *devs = omni_mp_get(gpu, "devices");
    for (uint32_t i = 0; devs && devs->type == MSGPACK_OBJECT_ARRAY && i < devs->via.array.size;
         i++) {
        const msgpack_object *d = &devs->via.array.ptr[i];
        char a[128], b[64], c[64], e[32];
        fprintf(f, "%-10s %s %s, ", i ? "" : "gpu", str(d, "vendor", b, sizeof b),
                str(d, "model", a, sizeof a));
        bytes(f, num(d, "vram_bytes"));
        const char *rt = omni_mp_get(d, "cuda") ? "cuda" : "rocm";
        fprintf(f, ", driver %s, %s %s, bus %s\n", str(d, "driver", c, sizeof c), rt,
                str(d, rt, e, sizeof e), str(d, "pci_bus", b, sizeof b));
    }
}

static void os_lines(FILE *f, const msgpack_object *os, const msgpack_object *mem) {
    char a[256], b[256];
    fprintf(f, "os         %s, kernel %s, host %s\n", str(os, "pretty_name", a, sizeof a),
            str(os, "kernel", b, sizeof b), str(os, "hostname", b + 128, 128));
    const msgpack_object *load = omni_mp_get(os, "load");
    double l[3] = {NAN, NAN, NAN};
    for (uint32_t i = 0; load && load->type == MSGPACK_OBJECT_ARRAY && i < 3 &&
                         i < load->via.array.size; i++)
        omni_mp_num(&load->via.array.ptr[i], &l[i]);
    fprintf(f, "load       %.2f %.2f %.2f\n", l[0], l[1], l[2]);
    fprintf(f, "memory     ");
    bytes(f, num(mem, "total_bytes"));
    fprintf(f, " total, ");
    bytes(f, num(mem, "available_bytes"));
    fprintf(f, " available\n");
    const msgpack_object *ct = omni_mp_get(os, "container");
    double q = num(ct, "cpu_quota"), ml = num(ct, "memory_limit");
    if (!isnan(q) || !isnan(ml)) {
        fprintf(f, "container ");
        if (!isnan(q))
            fprintf(f, " cpu quota %.2f CPUs", q);
        if (!isnan(ml)) {
            fprintf(f, " memory limit ");
            bytes(f, ml);
        }
        fprintf(f, "\n");
    }
}

int omni_hw_text(const msgpack_object *facts, const msgpack_object *bench, FILE *f) {
    cpu_lines(f, omni_mp_get(facts, "cpu"));
    const msgpack_object *counters = omni_mp_get(facts, "counters");
    if (is_available(counters)) {
        fprintf(f, "counters   ");
        str_list(f, omni_mp_get(counters, "events"));
        fprintf(f, "\n");
    } else {
        unavailable_line(f, "counters", counters);
    }
    gpu_lines(f, omni_mp_get(facts, "gpu"));
    const msgpack_object *energy = omni_mp_get(facts, "energy");
    if (is_available(energy)) {
        fprintf(f, "energy     RAPL ");
        str_list(f, omni_mp_get(energy, "domains"));
        fprintf(f, "\n");
    } else {
        unavailable_line(f, "energy", energy);
    }
    os_lines(f, omni_mp_get(facts, "os"), omni_mp_get(facts, "memory"));
    if (bench) {
        char k[32];
        fprintf(f, "measured   memory bandwidth %.1f GB/s (triad, %.0f threads); "
                   "%.1f GFLOP/s scalar, %.1f GFLOP/s %s on one core, %.1f on all\n",
                num(bench, "memory_bandwidth_gbps"), num(bench, "threads"),
                num(bench, "scalar_gflops"), num(bench, "simd_gflops"),
                str(bench, "simd_kernel", k, sizeof k), num(bench, "simd_gflops_all_cores"));
    }
    return ferror(f) ? -1 : 0;
}
