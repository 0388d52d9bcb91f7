/* sampler.h - samples the Python stacks of every thread from the monitor
 * thread, without the GIL and without stopping the target: thread states
 * and frames are copied with a fault-safe read (process_vm_readv on this
 * very process), so a frame freed while it is read is an error counted, not
 * a crash. Samples are aggregated into a tree of stacks, so a long run
 * stays small. */
#ifndef OMNI_SAMPLER_H
#define OMNI_SAMPLER_H

#include <stdint.h>

#include "runtime/session/writer.h"

/* Finds where the interpreter keeps its threads: on a Python thread with
 * the GIL, before the monitor starts. names_codes: no frame hook registers
 * code objects (--mode sample): the sampler reads and registers them
 * itself. */
void omni_sampler_prepare(int names_codes);

/* Prepares the sampler (on the thread that will call omni_sampler_take).
 * Returns 0 or -ENOMEM. */
int omni_sampler_init(uint64_t interval_ns);
/* Takes one sample of every Python thread. now_ns: the monitor's clock. */
void omni_sampler_take(uint64_t now_ns);
/* Totals so far, over all threads (for the timeline: on the monitor thread,
 * which also takes the samples). */
void omni_sampler_totals(uint64_t *samples, uint64_t *cpu, uint64_t *gil);

/* While omnipython runs Python code of its own at the end (the heap
 * census): no samples, its frames are not the target's. */
void omni_sampler_pause(int paused);

/* Writes the "samples" record: after the monitor stopped, or on the
 * monitor thread itself (a checkpoint). No allocation. */
void omni_sampler_write(msgpack_packer *pk);
/* In a forked child that starts its own session. */
void omni_sampler_reset(void);

#endif
