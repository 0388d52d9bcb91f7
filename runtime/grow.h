/* grow.h - room for one more element in an array that doubles when full. */
#ifndef OMNI_GROW_H
#define OMNI_GROW_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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

/* The array p, indexed by ids, with room for index: p itself while index <
 * *cap, else p reallocated (by re: realloc or omnipython's own) to the
 * first power-of-two multiple of *cap (first when empty) above index, the new
 * elements zeroed, and *cap updated. NULL when memory runs out (p and *cap
 * are then as they were). */
static inline void *omni_grow_to(void *p, uint32_t *cap, uint32_t index, size_t elem,
                                 uint32_t first, void *(*re)(void *, size_t)) {
    if (index < *cap)
        return p;
    uint32_t c = *cap ? *cap : first;
    while (c <= index)
        c *= 2;
    char *q = re(p, (size_t)c * elem);
    if (!q)
        return NULL;
    memset(q + (size_t)*cap * elem, 0, (size_t)(c - *cap) * elem);
    *cap = c;
    return q;
}

#endif
