/* pyerr.h - the pending Python exception as text, for the places that turn a
 * failure inside the interpreter into a message ("reason", "error") rather
 * than re-raise it. */
#ifndef OMNI_PYERR_H
#define OMNI_PYERR_H

#include <stddef.h>

/* Takes (and clears) the pending exception and writes into buf: prefix, the
 * exception type's name and ": " when with_type, then str(exception), or
 * fallback when there is none or it has no text. */
void omni_pyerr_take(char *buf, size_t cap, const char *prefix, int with_type,
                     const char *fallback);

#endif
