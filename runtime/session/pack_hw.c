/* pack_hw.c - packs what hw/ found about the machine as msgpack: the
 * session's machine record and `omnipython --hw`'s document. */
#include "runtime/session/pack_hw.h"

#include "runtime/session/pack.h"

static void pack_key(msgpack_packer *pk, const char *k) {
    omni_pack_str(pk, k);
}

static void pack_bool(msgpack_packer *pk, const char *k, int v) {
    pack_key(pk, k);
    if (v)
        msgpack_pack_true(pk);
    else
        msgpack_pack_false(pk);
}

/* A number that may be unknown (0 or less): nil then. */
static void pack_f64_or_nil(msgpack_packer *pk, const char *k, double v) {
    pack_key(pk, k);
    if (v > 0)
        msgpack_pack_double(pk, v);
    else
        msgpack_pack_nil(pk);
}

static void pack_str_or_nil(msgpack_packer *pk, const char *k, const char *v) {
    pack_key(pk, k);
    if (v && *v)
        omni_pack_str(pk, v);
    else
        msgpack_pack_nil(pk);
}

static void pack_cpu(msgpack_packer *pk, const omni_hw_cpu_t *c) {
    msgpack_pack_map(pk, 11);
    omni_pack_kv_str(pk, "vendor", c->vendor);
    omni_pack_kv_str(pk, "model", c->model);
    omni_pack_kv_str(pk, "arch", c->arch);
    omni_pack_kv_i64(pk, "sockets", c->sockets);
    omni_pack_kv_i64(pk, "physical_cores", c->physical_cores);
    omni_pack_kv_i64(pk, "logical_cores", c->logical_cores);
    omni_pack_kv_i64(pk, "numa_nodes", c->numa_nodes);
    pack_key(pk, "caches");
    msgpack_pack_array(pk, (size_t)c->n_caches);
    for (int i = 0; i < c->n_caches; i++) {
        const omni_hw_cache_t *k = &c->caches[i];
        msgpack_pack_map(pk, 6);
        omni_pack_kv_i64(pk, "level", k->level);
        omni_pack_kv_str(pk, "type", k->type);
        omni_pack_kv_u64(pk, "size_bytes", k->size_bytes);
        omni_pack_kv_u64(pk, "line_bytes", k->line_bytes);
        omni_pack_kv_i64(pk, "ways", k->ways);
        omni_pack_kv_i64(pk, "count", k->count);
    }
    pack_key(pk, "simd");
    msgpack_pack_array(pk, (size_t)c->n_simd);
    for (int i = 0; i < c->n_simd; i++)
        omni_pack_str(pk, c->simd[i]);
    pack_key(pk, "frequency");
    msgpack_pack_map(pk, 3);
    pack_f64_or_nil(pk, "base_mhz", c->base_mhz);
    pack_f64_or_nil(pk, "max_mhz", c->max_mhz);
    pack_f64_or_nil(pk, "current_mhz", c->current_mhz);
    omni_pack_kv_str(pk, "topology_source", c->topology_source);
}

static void pack_memory(msgpack_packer *pk, const omni_hw_os_t *o) {
    msgpack_pack_map(pk, 5);
    omni_pack_kv_u64(pk, "total_bytes", o->mem_total_bytes);
    omni_pack_kv_u64(pk, "available_bytes", o->mem_available_bytes);
    omni_pack_kv_u64(pk, "swap_total_bytes", o->swap_total_bytes);
    omni_pack_kv_u64(pk, "page_bytes", o->page_bytes);
    omni_pack_kv_u64(pk, "huge_page_bytes", o->huge_page_bytes);
}

static void pack_gpu(msgpack_packer *pk, const omni_gpu_info_t *g) {
    if (!g->available) {
        omni_pack_unavailable(pk, g->reason);
        return;
    }
    msgpack_pack_map(pk, 3);
    pack_bool(pk, "available", 1);
    omni_pack_kv_str(pk, "source", g->source);
    pack_key(pk, "devices");
    msgpack_pack_array(pk, (size_t)g->n);
    for (int i = 0; i < g->n; i++) {
        const omni_gpu_dev_t *d = &g->dev[i];
        msgpack_pack_map(pk, 8);
        omni_pack_kv_i64(pk, "index", i);
        omni_pack_kv_str(pk, "vendor", d->vendor);
        omni_pack_kv_str(pk, "model", d->model);
        omni_pack_kv_u64(pk, "vram_bytes", d->vram_bytes);
        pack_str_or_nil(pk, "driver", d->driver);
        /* cuda for NVIDIA, rocm for AMD: the key names the stack */
        pack_str_or_nil(pk, strcmp(d->vendor, "NVIDIA") == 0 ? "cuda" : "rocm", d->runtime);
        pack_str_or_nil(pk, "compute_capability", d->compute);
        pack_str_or_nil(pk, "pci_bus", d->pci_bus);
    }
}

static void pack_counters(msgpack_packer *pk, const omni_hw_facts_t *f) {
    if (f->n_events < 0) {
        omni_pack_unavailable(pk, f->counters_reason);
        return;
    }
    msgpack_pack_map(pk, 3);
    pack_bool(pk, "available", 1);
    omni_pack_kv_str(pk, "source", "papi");
    pack_key(pk, "events");
    msgpack_pack_array(pk, (size_t)f->n_events);
    for (int i = 0; i < f->n_events; i++)
        omni_pack_str(pk, f->events[i]);
}

static void pack_energy(msgpack_packer *pk, const omni_energy_t *e) {
    if (!e->available) {
        omni_pack_unavailable(pk, e->reason);
        return;
    }
    msgpack_pack_map(pk, 3);
    pack_bool(pk, "available", 1);
    omni_pack_kv_str(pk, "source", "rapl");
    pack_key(pk, "domains");
    msgpack_pack_array(pk, (size_t)e->n);
    for (int i = 0; i < e->n; i++)
        omni_pack_str(pk, e->name[i]);
}

static void pack_os(msgpack_packer *pk, const omni_hw_os_t *o) {
    msgpack_pack_map(pk, 7);
    omni_pack_kv_str(pk, "name", o->name);
    omni_pack_kv_str(pk, "version", o->version);
    omni_pack_kv_str(pk, "pretty_name", o->pretty);
    omni_pack_kv_str(pk, "kernel", o->kernel);
    omni_pack_kv_str(pk, "hostname", o->hostname);
    pack_key(pk, "load");
    msgpack_pack_array(pk, 3);
    for (int i = 0; i < 3; i++)
        msgpack_pack_double(pk, o->load[i]);
    pack_key(pk, "container");
    msgpack_pack_map(pk, 3);
    pack_key(pk, "cpu_quota");
    if (o->cpu_quota > 0)
        msgpack_pack_double(pk, o->cpu_quota);
    else
        msgpack_pack_nil(pk);
    pack_key(pk, "memory_limit");
    if (o->memory_limit_bytes >= 0)
        msgpack_pack_int64(pk, o->memory_limit_bytes);
    else
        msgpack_pack_nil(pk);
    pack_str_or_nil(pk, "cgroup", o->cgroup_path);
}

void omni_pack_hw_facts(msgpack_packer *pk, const omni_hw_facts_t *f, int extra_keys) {
    msgpack_pack_map(pk, 6 + (size_t)extra_keys);
    pack_key(pk, "cpu");
    pack_cpu(pk, &f->cpu);
    pack_key(pk, "memory");
    pack_memory(pk, &f->os);
    pack_key(pk, "gpu");
    pack_gpu(pk, &f->gpu);
    pack_key(pk, "counters");
    pack_counters(pk, f);
    pack_key(pk, "energy");
    pack_energy(pk, &f->energy);
    pack_key(pk, "os");
    pack_os(pk, &f->os);
}

void omni_pack_hw_bench(msgpack_packer *pk, const omni_hw_bench_t *b) {
    msgpack_pack_map(pk, 7);
    omni_pack_kv_i64(pk, "threads", b->threads);
    omni_pack_kv_f64(pk, "memory_bandwidth_gbps", b->triad_gbps);
    omni_pack_kv_f64(pk, "triad_array_bytes", b->triad_array_bytes);
    omni_pack_kv_f64(pk, "scalar_gflops", b->scalar_gflops);
    omni_pack_kv_f64(pk, "simd_gflops", b->simd_gflops);
    omni_pack_kv_f64(pk, "simd_gflops_all_cores", b->simd_gflops_all);
    omni_pack_kv_str(pk, "simd_kernel", b->simd_kernel);
}
