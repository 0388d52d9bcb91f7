/* census.h - the heap census at the program's end: the objects reachable
 * from the loaded modules (and the rest the garbage collector tracks),
 * counted and sized by type as sys.getsizeof sizes them; and for a few
 * addresses (sampled blocks still alive), the chain of references that keeps
 * the object there alive, from a module down. Walked in C (tp_traverse, as
 * gc.get_referents does), with the GIL, within a time limit. */
#ifndef OMNI_CENSUS_H
#define OMNI_CENSUS_H

#include <stddef.h>
#include <stdint.h>

#define OMNI_CENSUS_TYPES 40
#define OMNI_CENSUS_CHAINS 15

/* Addresses of a node's sampled blocks: an object there (or 16 bytes on,
 * past the collector's header) is one of its. */
typedef struct omni_census_want {
    uint32_t node;
    uintptr_t addr[3];
    int n;
} omni_census_want_t;

typedef struct omni_census {
    struct omni_census_type {
        char name[128];
        uint64_t count, bytes;
    } types[OMNI_CENSUS_TYPES];      /* the most bytes first */
    int n_types;
    struct omni_census_chain {
        uint32_t node;
        char text[400];               /* e.g. "str of 1640 <- dict of 40000 <- module app, global cache" */
    } chains[OMNI_CENSUS_CHAINS];
    int n_chains;
    int partial;                      /* cut at the time or object limit */
    uint64_t objects;                 /* counted */
    double seconds;                   /* what it took */
    char why[160];                    /* why it failed, or "" */
} omni_census_t;

/* Takes the census (with the GIL; the caller keeps the profilers off).
 * chain_code: the Python source of chain(path) -> str (runtime/census.py). */
void omni_census_take(const omni_census_want_t *want, int n_want, double limit_s,
                      const char *chain_code, omni_census_t *out);

#endif
