/* slots.h - the index of a dense table of rows: open addressing with linear
 * probing over 2 * cap uint32 slots (a row's index + 1; 0 is empty), so the
 * load stays at most 1/2. Each table keeps its rows, hashes and lookups
 * (they compare its own keys, on hot paths); the placing is shared. */
#ifndef OMNI_SLOTS_H
#define OMNI_SLOTS_H

#include <stdint.h>

/* Places row i, whose key hashes to h, in the first empty slot from h on
 * (mask = 2 * cap - 1); the index must have an empty slot. */
static inline void omni_slots_put(uint32_t *slots, uint32_t mask, uint32_t h, uint32_t i) {
    uint32_t j = h & mask;
    while (slots[j])
        j = (j + 1) & mask;
    slots[j] = i + 1;
}

#endif
