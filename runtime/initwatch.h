/* initwatch.h - the calls CPython 3.13 makes past the frame-evaluation hook
 * (OMNI_PY_INIT_HOLE in pylayout.h: a class's simple __init__, once its
 * call is specialised), seen through sys.monitoring (PEP 669): each
 * __init__ code object the hook meets gets local PY_START and PY_RETURN
 * events for a tool id of omnipython's own, whose callbacks enter and leave
 * the call on the shadow stack (callprof.c) when the hook did not. PY_UNWIND can only be
 * set for every frame of the program (and would show in
 * sys.monitoring.get_events): an __init__ that raised is closed instead at
 * the thread's next hook event (callprof.c). Calls are then counted as
 * cProfile counts them. A no-op on other versions. */
#ifndef OMNI_INITWATCH_H
#define OMNI_INITWATCH_H

#include "runtime/pylayout.h"

/* What the events call, with the thread state whose frame starts or returns. */
typedef void (*omni_initwatch_fn)(PyThreadState *ts);

/* Takes a sys.monitoring tool id and registers the callbacks, which call
 * start and stop (the call profiler's); 0, or -1 when the tool id is taken
 * (the hole stays open; nothing else changes). With the GIL. */
int omni_initwatch_start(omni_initwatch_fn start, omni_initwatch_fn stop);

/* Watches co when it is an __init__ (called once per code object, from the
 * hook's first sight of it). Keeps any pending exception. With the GIL. */
void omni_initwatch_code(PyCodeObject *co);

#endif
