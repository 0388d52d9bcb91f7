/* fake_papi.c - a stand-in for libpapi.so with PAPI's ABI and counters that
 * grow by fixed amounts at every read, so that the counter path (IPC, the
 * bandwidth estimate) is tested on machines whose CPUs have no PMU. Every
 * read adds 1000 cycles, 2000 instructions and 10 last-level misses. */
#include <papi.h>
#include <string.h>

static long long reads;
static int n_events;

int PAPI_library_init(int version) { return version; }
int PAPI_thread_init(unsigned long (*id)(void)) { (void)id; return PAPI_OK; }
char *PAPI_strerror(int code) { (void)code; return (char *)"fake PAPI error"; }
int PAPI_query_event(int code) { (void)code; return PAPI_OK; }
int PAPI_create_eventset(int *es) { *es = 1; return PAPI_OK; }
int PAPI_assign_eventset_component(int es, int cidx) { return PAPI_OK; }
int PAPI_set_opt(int option, PAPI_option_t *ptr) { return PAPI_OK; }
int PAPI_attach(int es, unsigned long tid) { return PAPI_OK; }
int PAPI_add_event(int es, int code) { n_events++; return PAPI_OK; }
int PAPI_start(int es) { return PAPI_OK; }
int PAPI_read(int es, long long *v) {
    /* instructions, cycles, l1_data_misses, llc_misses, branch_mispredictions, fp_operations */
    static const long long step[] = {2000, 1000, 100, 10, 5, 500};
    reads++;
    for (int i = 0; i < n_events && i < 6; i++)
        v[i] = step[i] * reads;
    return PAPI_OK;
}
int PAPI_stop(int es, long long *v) { return PAPI_OK; }
int PAPI_cleanup_eventset(int es) { return PAPI_OK; }
int PAPI_destroy_eventset(int *es) { *es = PAPI_NULL; return PAPI_OK; }
