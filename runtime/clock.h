/* clock.h - the profiler's clocks: a cheap tick counter for the hot path and
 * conversions to nanoseconds done once, off the hot path. */
#ifndef OMNI_CLOCK_H
#define OMNI_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Ticks come from the TSC on x86-64 when the CPU says it is invariant
 * (constant_tsc and nonstop_tsc), otherwise from CLOCK_MONOTONIC in ns. The
 * choice is made once by omni_clock_init(); omni_clock_ticks() is inline so
 * that the frame hook pays for one rdtsc and nothing else. */
extern int omni_clock_use_tsc;

static inline uint64_t omni_clock_mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline uint64_t omni_clock_ticks(void) {
#if defined(__x86_64__)
    if (__builtin_expect(omni_clock_use_tsc, 1)) {
        uint32_t lo, hi;
        __asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
        return ((uint64_t)hi << 32) | lo;
    }
#endif
    return omni_clock_mono_ns();
}

/* Reads /proc/cpuinfo to decide whether the TSC can be trusted and takes the
 * first calibration point. Returns 0. */
int omni_clock_init(void);

/* Takes the second calibration point (call it at the end of the run) and
 * returns nanoseconds per tick, measured over the whole run; 1.0 when ticks
 * are already nanoseconds. Safe to call more than once. */
double omni_clock_ns_per_tick(void);

/* "tsc" or "monotonic": what the ticks were, for the session header. */
const char *omni_clock_source(void);

/* Wall-clock time since the epoch, in ns. */
uint64_t omni_clock_unix_ns(void);

#endif
