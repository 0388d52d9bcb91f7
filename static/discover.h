/* discover.h - the files a scan reads (discover.c). */
#ifndef OMNI_DISCOVER_H
#define OMNI_DISCOVER_H

#include <stddef.h>

/* Paths relative to the root, sorted folder by folder (owned strings). */
typedef struct omni_paths {
    char **v;
    size_t n, cap;
} omni_paths_t;

/* The .py files below root (a folder that cannot be read is listed itself,
 * to be reported with its error). Returns 0, or -1 when memory runs out
 * (files then empty). */
int omni_discover(const char *root, const char *const *exclude, size_t n_exclude,
                  omni_paths_t *files);
void omni_paths_free(omni_paths_t *l);

#endif
