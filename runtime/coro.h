/* coro.h - coroutines' time, beside cProfile's resumption counts: per
 * coroutine function, how many ran to the end, their wall time from the
 * first resumption to the end and the part of it spent awaiting; per await
 * (the line a coroutine was suspended at), how often and how long it held
 * its coroutine. Fed by the frame hook (with the GIL), written at the end. */
#ifndef OMNI_CORO_H
#define OMNI_CORO_H

#include <msgpack.h>
#include <stdint.h>

/* A coroutine's frame (at address frame, code id code) is resumed at
 * `now` ticks; starting: its first resumption. */
void omni_coro_resumed(const void *frame, uint32_t code, int starting, uint64_t now);
/* It stopped running at `now`: suspended at instruction offset (it awaits
 * something), or finished. */
void omni_coro_stopped(const void *frame, uint32_t code, int suspended, int offset,
                       uint64_t now);

/* The "coroutines" record, when any coroutine ran (no allocation);
 * line_of gives an await's line from its code id and offset. */
void omni_coro_write(msgpack_packer *pk, double ns_per_tick,
                     int (*line_of)(uint32_t code, int offset));
/* In a forked child that starts its own session. */
void omni_coro_reset(void);

#endif
