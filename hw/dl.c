/* dl.c - loads optional vendor libraries with dlopen. */
#include "hw/dl.h"

#include <dlfcn.h>
#include <stdio.h>

void *omni_dl_load(const char *const *libs, const omni_dl_sym_t *syms, char *reason, size_t cap) {
    void *h = NULL;
    char err[200] = "no library name";
    /* The first name is the one the vendor documents: its error is the one to show. */
    for (const char *const *l = libs; *l && !h; l++)
        if (!(h = dlopen(*l, RTLD_NOW | RTLD_LOCAL)) && l == libs)
            snprintf(err, sizeof err, "%s", dlerror());
    if (!h) {
        snprintf(reason, cap, "cannot load %s (%s)", libs[0], err);
        return NULL;
    }
    for (const omni_dl_sym_t *s = syms; s->name; s++) {
        *s->slot = dlsym(h, s->name);
        if (!*s->slot && !s->optional) {
            snprintf(reason, cap, "%s has no %s", libs[0], s->name);
            dlclose(h);
            return NULL;
        }
    }
    return h;
}
