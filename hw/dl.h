/* dl.h - optional vendor libraries, loaded at run time with dlopen and
 * described by a table of the symbols needed (NVML, ROCm SMI, PAPI): a
 * machine without them runs, and the process does not pay for loading them
 * until a probe asks. */
#ifndef OMNI_HW_DL_H
#define OMNI_HW_DL_H

#include <stddef.h>

typedef struct omni_dl_sym {
    const char *name;
    void **slot;      /* where the address goes; NULL when missing */
    int optional;     /* a missing optional symbol is no failure */
} omni_dl_sym_t;

/* Loads the first of libs (a NULL-terminated list of names) that dlopen
 * finds and resolves syms (ended by a NULL name). Returns the handle, or
 * NULL with the reason in reason: the first name's dlopen error, or the
 * symbol that is missing. */
void *omni_dl_load(const char *const *libs, const omni_dl_sym_t *syms, char *reason, size_t cap);

#endif
