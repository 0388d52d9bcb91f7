/* regions.h - the named regions of omni.profile: each instance (up to a
 * bound) and totals by name, written to the session as the "regions"
 * record. Called with the GIL held; written at the end. */
#ifndef OMNI_REGIONS_H
#define OMNI_REGIONS_H

#include "runtime/session/writer.h"

#define OMNI_REGIONS_MAX 10000       /* instances kept; the totals count all */
#define OMNI_REGION_NAMES_MAX 1000

typedef struct omni_region {
    char name[96];
    char error[64];          /* the exception's type that left it, "" when none */
    int64_t tid;             /* native thread id */
    uint64_t start_ns, end_ns; /* since the session's start (the timeline's clock) */
    double cpu_s, rss_start, rss_end, rss_peak, read_bytes, write_bytes, flops;
} omni_region_t;

/* Records one region. Returns 0, or -1 when memory runs out. */
int omni_regions_add(const omni_region_t *r);
/* Writes the "regions" record when there were any (no allocation). */
void omni_regions_write(msgpack_packer *pk);
/* In a forked child that starts its own session: forget the parent's. */
void omni_regions_reset(void);

#endif
