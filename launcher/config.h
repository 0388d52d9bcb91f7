/* config.h - the configuration file (./omnipython.yaml or --config FILE). */
#ifndef OMNI_CONFIG_H
#define OMNI_CONFIG_H

#include <stddef.h>

#define OMNI_CONFIG_MAX 64

/* The file's options as command-line tokens ("--mode", "full", "--quiet"),
 * each with the line it came from. */
typedef struct omni_config {
    char path[4096];
    char *tok[OMNI_CONFIG_MAX];
    size_t line[OMNI_CONFIG_MAX];
    int n;
} omni_config_t;

/* Reads path. A missing file is no error unless required. Returns 0, or -1
 * with "path:line: reason" in err. */
int omni_config_load(const char *path, int required, omni_config_t *out, char *err, size_t cap);
void omni_config_free(omni_config_t *c);

#endif
