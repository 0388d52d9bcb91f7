/* test_clock.c - the tick clock, once calibrated, agrees with CLOCK_MONOTONIC. */
#include "runtime/clock.h"
#include "test/unit.h"

#include <math.h>

int main(void) {
    CHECK_INT(omni_clock_init(), 0);
    /* Let 100 ms pass, then compare an interval measured both ways. */
    uint64_t m0 = omni_clock_mono_ns(), t0 = omni_clock_ticks();
    struct timespec ts = {0, 100000000};
    nanosleep(&ts, NULL);
    uint64_t m1 = omni_clock_mono_ns(), t1 = omni_clock_ticks();
    double npt = omni_clock_ns_per_tick();
    CHECK(npt > 0);
    double by_ticks = (double)(t1 - t0) * npt, by_mono = (double)(m1 - m0);
    if (fabs(by_ticks - by_mono) > 0.01 * by_mono) {
        fprintf(stderr, "ticks say %.0f ns, CLOCK_MONOTONIC %.0f ns (%s, %.6f ns/tick)\n",
                by_ticks, by_mono, omni_clock_source(), npt);
        unit_failures++;
    }
    CHECK(by_mono >= 1e8);
    /* Ticks never run backwards on one thread. */
    uint64_t prev = omni_clock_ticks();
    for (int i = 0; i < 100000; i++) {
        uint64_t now = omni_clock_ticks();
        CHECK(now >= prev);
        prev = now;
    }
    if (omni_clock_use_tsc)
        CHECK_STR(omni_clock_source(), "tsc");
    else
        CHECK(npt == 1.0);
    UNIT_DONE();
}
