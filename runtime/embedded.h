/* embedded.h - files compiled into omnipython (patterns/embed.cmake): the
 * built-in patterns, the HTML report's template, the omni module's Python
 * layer. */
#ifndef OMNI_EMBEDDED_H
#define OMNI_EMBEDDED_H

#include <stddef.h>

typedef struct omni_embedded_file {
    const char *name;   /* the file's name */
    const char *text;   /* its bytes, with a NUL after them */
    size_t len;
} omni_embedded_file_t;

#endif
