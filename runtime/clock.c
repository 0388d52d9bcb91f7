/* clock.c - chooses and calibrates the tick source used by the frame hook. */
#include "runtime/clock.h"

#include <stdio.h>
#include <string.h>

int omni_clock_use_tsc = 0;

static struct {
    uint64_t ticks0;    /* ticks at omni_clock_init() */
    uint64_t mono0;     /* CLOCK_MONOTONIC ns at the same moment */
} clk;

/* The TSC is usable as a clock only if it runs at a constant rate in every
 * power state; Linux says so with these two cpuinfo flags. */
static int tsc_is_invariant(void) {
#if defined(__x86_64__)
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return 0;
    char line[4096];
    int ok = 0;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "flags", 5) == 0) {
            ok = strstr(line, " constant_tsc") && strstr(line, " nonstop_tsc");
            break;
        }
    }
    fclose(f);
    return ok;
#else
    return 0;
#endif
}

int omni_clock_init(void) {
    omni_clock_use_tsc = tsc_is_invariant();
    clk.mono0 = omni_clock_mono_ns();
    clk.ticks0 = omni_clock_ticks();
    return 0;
}

double omni_clock_ns_per_tick(void) {
    if (!omni_clock_use_tsc)
        return 1.0;
    uint64_t mono1 = omni_clock_mono_ns();
    uint64_t ticks1 = omni_clock_ticks();
    /* A run shorter than a millisecond calibrates poorly against itself:
     * measure a short interval of our own instead. */
    if (mono1 - clk.mono0 < 1000000) {
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
        mono1 = omni_clock_mono_ns();
        ticks1 = omni_clock_ticks();
    }
    if (ticks1 <= clk.ticks0)
        return 1.0;
    return (double)(mono1 - clk.mono0) / (double)(ticks1 - clk.ticks0);
}

const char *omni_clock_source(void) {
    return omni_clock_use_tsc ? "tsc" : "monotonic";
}

uint64_t omni_clock_unix_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
