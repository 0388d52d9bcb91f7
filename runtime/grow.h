/* grow.h - room for one more element in an array that doubles when full. */
#ifndef OMNI_GROW_H
#define OMNI_GROW_H

#include <stdlib.h>

/* The array p (n elements of elem bytes used, *cap allocated) with room for
 * one more: p itself while there is room, else p reallocated to twice *cap
 * (first when empty) and *cap updated. NULL when memory runs out (p and
 * *cap are then as they were). */
static inline void *omni_grow(void *p, size_t *cap, size_t n, size_t elem, size_t first) {
    if (n < *cap)
        return p;
    size_t c = *cap ? 2 * *cap : first;
    void *q = realloc(p, c * elem);
    if (q)
        *cap = c;
    return q;
}

#endif
