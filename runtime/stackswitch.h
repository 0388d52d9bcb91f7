/* stackswitch.h - call a function on another C stack.
 *
 * With a frame-evaluation hook installed, CPython no longer inlines Python
 * calls: every Python call recurses on the C stack. A recursion that python3
 * runs in its own frame stack would overflow the thread's C stack, so the
 * frame hook moves to a fresh stack segment when the current one runs low. */
#ifndef OMNI_STACKSWITCH_H
#define OMNI_STACKSWITCH_H

#include <stddef.h>

/* 1 where omni_stack_call() is implemented for this architecture. */
extern const int omni_stack_switch_supported;

/* Calls fn(arg) with the stack pointer set to the top of [base, base+size)
 * and returns its result once it returns. The memory is the caller's: it must
 * stay mapped until the call returns. */
void *omni_stack_call(void *base, size_t size, void *(*fn)(void *), void *arg);

#endif
