/* counters_papi.c - hardware counters through PAPI's preset events. PAPI is
 * loaded with dlopen when a probe first asks: linked, it (with libpfm) would
 * add 0.6 ms to the start of every run, counters or not. Its header gives
 * the types and constants; the version check of PAPI_library_init refuses a
 * library of another major version. */
#include "hw/counters.h"

#include "hw/dl.h"

#include <papi.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

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

/* The PAPI functions used, typed by papi.h's own declarations. */
#define PAPI_FN(name) __typeof__(name) *name
static struct {
    PAPI_FN(PAPI_library_init);
    PAPI_FN(PAPI_thread_init);
    PAPI_FN(PAPI_strerror);
    PAPI_FN(PAPI_query_event);
    PAPI_FN(PAPI_create_eventset);
    PAPI_FN(PAPI_assign_eventset_component);
    PAPI_FN(PAPI_set_opt);
    PAPI_FN(PAPI_attach);
    PAPI_FN(PAPI_add_event);
    PAPI_FN(PAPI_start);
    PAPI_FN(PAPI_read);
    PAPI_FN(PAPI_stop);
    PAPI_FN(PAPI_cleanup_eventset);
    PAPI_FN(PAPI_destroy_eventset);
} pp;
#define SYM(name) {#name, (void **)&pp.name, 0}
static const omni_dl_sym_t syms[] = {
    SYM(PAPI_library_init), SYM(PAPI_thread_init), SYM(PAPI_strerror), SYM(PAPI_query_event),
    SYM(PAPI_create_eventset), SYM(PAPI_assign_eventset_component), SYM(PAPI_set_opt),
    SYM(PAPI_attach), SYM(PAPI_add_event), SYM(PAPI_start), SYM(PAPI_read), SYM(PAPI_stop),
    SYM(PAPI_cleanup_eventset), SYM(PAPI_destroy_eventset), {NULL, NULL, 0},
};
/* Debian 12's soname first, then other versions' and the development link. */
static const char *const libs[] = {"libpapi.so.7.0", "libpapi.so.7.1", "libpapi.so.7",
                                   "libpapi.so.6.0", "libpapi.so", NULL};

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int init_rc;                 /* 0, or a PAPI error */
static char init_reason[256];

static unsigned long thread_id(void) {
    return (unsigned long)pthread_self();
}

static void library_init(void) {
    if (!omni_dl_load(libs, syms, init_reason, sizeof init_reason)) {
        init_rc = PAPI_ENOSUPP;
        return;
    }
    int v = pp.PAPI_library_init(PAPI_VER_CURRENT);
    init_rc = v == PAPI_VER_CURRENT ? 0 : v < 0 ? v : PAPI_EINVAL;
    if (init_rc == 0)
        init_rc = pp.PAPI_thread_init(thread_id) == PAPI_OK ? 0 : PAPI_ESYS;
    if (init_rc != 0)
        snprintf(init_reason, sizeof init_reason, "PAPI could not start: %s (PAPI error %d)",
                 pp.PAPI_strerror(init_rc), init_rc);
}

static int init(char *reason, size_t cap) {
    pthread_once(&once, library_init);
    if (init_rc == 0)
        return 0;
    snprintf(reason, cap, "%s", init_reason);
    return -1;
}

int omni_counters_query(const char **names, int cap, char *reason, size_t cap_reason) {
    if (init(reason, cap_reason) < 0)
        return -1;
    int n = 0;
    for (size_t i = 0; i < N_EVENTS && n < cap; i++)
        if (pp.PAPI_query_event(events[i].code) == PAPI_OK ||
            (events[i].alt && pp.PAPI_query_event(events[i].alt) == PAPI_OK))
            names[n++] = events[i].name;
    if (n == 0) {
        int rc = pp.PAPI_query_event(PAPI_TOT_INS);
        snprintf(reason, cap_reason, "no hardware event can be counted (PAPI_TOT_INS: %s, PAPI "
                 "error %d)", pp.PAPI_strerror(rc), rc);
        return -1;
    }
    /* PAPI 7.2 answers a query from its tables of the CPU model, where
     * PAPI 7.0 asked the kernel: what can be counted is what a run gets,
     * an event set counting this thread. */
    omni_counters_t c;
    if (omni_counters_open(&c, (pid_t)syscall(SYS_gettid)) < 0) {
        snprintf(reason, cap_reason, "no hardware event can be counted (PAPI_TOT_INS: %s)",
                 c.reason);
        return -1;
    }
    for (n = 0; n < c.n && n < cap; n++)
        names[n] = c.names[n];
    omni_counters_close(&c);
    return n;
}

int omni_counters_open(omni_counters_t *c, pid_t tid) {
    memset(c, 0, sizeof *c);
    c->handle = PAPI_NULL;
    if (init(c->reason, sizeof c->reason) < 0)
        return -1;
    int rc = pp.PAPI_create_eventset(&c->handle);
    /* Counting another thread: bind the set to the CPU component, let the
     * threads it starts later inherit it, and attach it to tid. */
    if (rc == PAPI_OK)
        rc = pp.PAPI_assign_eventset_component(c->handle, 0);
    if (rc == PAPI_OK) {
        PAPI_option_t opt;
        memset(&opt, 0, sizeof opt);
        opt.inherit.eventset = c->handle;
        opt.inherit.inherit = PAPI_INHERIT_ALL;
        rc = pp.PAPI_set_opt(PAPI_INHERIT, &opt);
    }
    if (rc == PAPI_OK)
        rc = pp.PAPI_attach(c->handle, (unsigned long)tid);
    if (rc != PAPI_OK) {
        snprintf(c->reason, sizeof c->reason, "PAPI cannot count thread %d: %s (PAPI error %d)",
                 (int)tid, pp.PAPI_strerror(rc), rc);
        omni_counters_close(c);
        return -1;
    }
    int first_rc = PAPI_OK;
    for (size_t i = 0; i < N_EVENTS; i++) {
        int e = pp.PAPI_add_event(c->handle, events[i].code);
        if (e != PAPI_OK && events[i].alt)
            e = pp.PAPI_add_event(c->handle, events[i].alt);
        if (e == PAPI_OK)
            c->names[c->n++] = events[i].name;
        else if (i == 0)
            first_rc = e;
    }
    /* Without instructions there is no IPC: the set is of no use. */
    if (c->n == 0 || first_rc != PAPI_OK) {
        snprintf(c->reason, sizeof c->reason, "PAPI_TOT_INS: %s (PAPI error %d)",
                 pp.PAPI_strerror(first_rc != PAPI_OK ? first_rc : PAPI_ENOEVNT),
                 first_rc != PAPI_OK ? first_rc : PAPI_ENOEVNT);
        omni_counters_close(c);
        return -1;
    }
    rc = pp.PAPI_start(c->handle);
    if (rc != PAPI_OK) {
        snprintf(c->reason, sizeof c->reason, "PAPI could not start counting: %s (PAPI error %d)",
                 pp.PAPI_strerror(rc), rc);
        omni_counters_close(c);
        return -1;
    }
    c->available = 1;
    return 0;
}

int omni_counters_read(omni_counters_t *c, long long *v) {
    if (!c->available)
        return -1;
    return pp.PAPI_read(c->handle, v) == PAPI_OK ? 0 : -1;
}

void omni_counters_close(omni_counters_t *c) {
    if (c->handle != PAPI_NULL) {
        long long sink[OMNI_COUNTERS_MAX];
        if (c->available)
            pp.PAPI_stop(c->handle, sink);
        pp.PAPI_cleanup_eventset(c->handle);
        pp.PAPI_destroy_eventset(&c->handle);
    }
    c->handle = PAPI_NULL;
    c->available = 0;
    c->n = 0;
}
