/* embed.h - runs the Python arguments with CPython's own main logic. */
#ifndef OMNI_EMBED_H
#define OMNI_EMBED_H

#include "launcher/options.h"

/* Runs argv[0] + argv[o->py_index..] as python3 would, profiled as o says.
 * Returns the exit status the process should end with (it may not return:
 * sys.exit in a script ends the process from inside CPython). */
int omni_embed_run(const omni_options_t *o, int argc, char **argv);

/* Prints CPython's own --help for program name argv0. Returns its status. */
int omni_embed_python_help(char *argv0);

/* Starts an interpreter that runs nothing (isolated, no site): for the
 * commands that use CPython's parser. Returns 0 or -1. */
int omni_embed_init_plain(void);

#endif
