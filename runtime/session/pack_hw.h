/* pack_hw.h - the machine's facts and measured rates as msgpack maps (hw/
 * gathers them and hands back C structs; this is where they are packed). */
#ifndef OMNI_SESSION_PACK_HW_H
#define OMNI_SESSION_PACK_HW_H

#include <msgpack.h>

#include "hw/bench.h"
#include "hw/facts.h"

/* Packs the facts as one msgpack map: {cpu, memory, gpu, counters, energy, os}
 * (the layout of --hw --format json, documented in README.md). The map has
 * room for extra_keys more pairs, which the caller packs next. */
void omni_pack_hw_facts(msgpack_packer *pk, const omni_hw_facts_t *f, int extra_keys);

/* {threads, memory_bandwidth_gbps, triad_array_bytes, scalar_gflops,
 * simd_gflops, simd_gflops_all_cores, simd_kernel} */
void omni_pack_hw_bench(msgpack_packer *pk, const omni_hw_bench_t *b);

#endif
