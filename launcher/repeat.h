/* repeat.h - --repeat N: the target run N times into one session file. */
#ifndef OMNI_REPEAT_H
#define OMNI_REPEAT_H

#include "launcher/options.h"

/* Runs the target o->repeat times. Returns the first failing run's exit
 * status (128 + N for a death by signal N), or 0. */
int omni_repeat_run(const omni_options_t *o, int argc, char **argv);

#endif
