/* counters_papi.c - hardware counters through PAPI's preset events. */
#include "hw/counters.h"

#include <papi.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* The events in the order they are tried; the first two make IPC. Where a
 * CPU lacks the last-level cache event, the L2 one stands in. */
static const struct {
    const char *name;
    int code, alt;
} events[] = {
    {"instructions", PAPI_TOT_INS, 0},
    {"cycles", PAPI_TOT_CYC, 0},
    {"l1_data_misses", PAPI_L1_DCM, 0},
    {"llc_misses", PAPI_L3_TCM, PAPI_L2_TCM},
    {"branch_mispredictions", PAPI_BR_MSP, 0},
    {"fp_operations", PAPI_FP_OPS, PAPI_DP_OPS},
};
#define N_EVENTS (sizeof events / sizeof events[0])

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int init_rc;

static void library_init(void) {
    int v = PAPI_library_init(PAPI_VER_CURRENT);
    init_rc = v == PAPI_VER_CURRENT ? 0 : v < 0 ? v : PAPI_EINVAL;
    if (init_rc == 0)
        init_rc = PAPI_thread_init(pthread_self) == PAPI_OK ? 0 : PAPI_ESYS;
}

static int init(char *reason, size_t cap) {
    pthread_once(&once, library_init);
    if (init_rc == 0)
        return 0;
    snprintf(reason, cap, "PAPI could not start: %s (PAPI error %d)", PAPI_strerror(init_rc),
             init_rc);
    return -1;
}

int omni_counters_query(const char **names, int cap, char *reason, size_t cap_reason) {
    if (init(reason, cap_reason) < 0)
        return -1;
    int n = 0;
    for (size_t i = 0; i < N_EVENTS && n < cap; i++)
        if (PAPI_query_event(events[i].code) == PAPI_OK ||
            (events[i].alt && PAPI_query_event(events[i].alt) == PAPI_OK))
            names[n++] = events[i].name;
    if (n == 0) {
        int rc = PAPI_query_event(PAPI_TOT_INS);
        snprintf(reason, cap_reason, "no hardware event can be counted (PAPI_TOT_INS: %s, PAPI "
                 "error %d)", PAPI_strerror(rc), rc);
        return -1;
    }
    return n;
}

int omni_counters_open(omni_counters_t *c, pid_t tid) {
    memset(c, 0, sizeof *c);
    c->handle = PAPI_NULL;
    if (init(c->reason, sizeof c->reason) < 0)
        return -1;
    int rc = PAPI_create_eventset(&c->handle);
    /* Counting another thread: bind the set to the CPU component, let the
     * threads it starts later inherit it, and attach it to tid. */
    if (rc == PAPI_OK)
        rc = PAPI_assign_eventset_component(c->handle, 0);
    if (rc == PAPI_OK) {
        PAPI_option_t opt;
        memset(&opt, 0, sizeof opt);
        opt.inherit.eventset = c->handle;
        opt.inherit.inherit = PAPI_INHERIT_ALL;
        rc = PAPI_set_opt(PAPI_INHERIT, &opt);
    }
    if (rc == PAPI_OK)
        rc = PAPI_attach(c->handle, (unsigned long)tid);
    if (rc != PAPI_OK) {
        snprintf(c->reason, sizeof c->reason, "PAPI cannot count thread %d: %s (PAPI error %d)",
                 (int)tid, PAPI_strerror(rc), rc);
        omni_counters_close(c);
        return -1;
    }
    int first_rc = PAPI_OK;
    for (size_t i = 0; i < N_EVENTS; i++) {
        int e = PAPI_add_event(c->handle, events[i].code);
        if (e != PAPI_OK && events[i].alt)
            e = PAPI_add_event(c->handle, events[i].alt);
        if (e == PAPI_OK)
            c->names[c->n++] = events[i].name;
        else if (i == 0)
            first_rc = e;
    }
    /* Without instructions there is no IPC: the set is of no use. */
    if (c->n == 0 || first_rc != PAPI_OK) {
        snprintf(c->reason, sizeof c->reason, "PAPI_TOT_INS: %s (PAPI error %d)",
                 PAPI_strerror(first_rc != PAPI_OK ? first_rc : PAPI_ENOEVNT),
                 first_rc != PAPI_OK ? first_rc : PAPI_ENOEVNT);
        omni_counters_close(c);
        return -1;
    }
    rc = PAPI_start(c->handle);
    if (rc != PAPI_OK) {
        snprintf(c->reason, sizeof c->reason, "PAPI could not start counting: %s (PAPI error %d)",
                 PAPI_strerror(rc), rc);
        omni_counters_close(c);
        return -1;
    }
    c->available = 1;
    return 0;
}

int omni_counters_read(omni_counters_t *c, long long *v) {
    if (!c->available)
        return -1;
    return PAPI_read(c->handle, v) == PAPI_OK ? 0 : -1;
}

void omni_counters_close(omni_counters_t *c) {
    if (c->handle != PAPI_NULL) {
        long long sink[OMNI_COUNTERS_MAX];
        if (c->available)
            PAPI_stop(c->handle, sink);
        PAPI_cleanup_eventset(c->handle);
        PAPI_destroy_eventset(&c->handle);
    }
    c->handle = PAPI_NULL;
    c->available = 0;
    c->n = 0;
}
