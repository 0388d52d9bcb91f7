/* main.c - omnipython's entry point: its own commands, or python3 profiled. */
#include "launcher/commands.h"
#include "launcher/embed.h"
#include "launcher/options.h"
#include "launcher/repeat.h"

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    omni_options_t o;
    if (omni_options_parse(&o, argc, argv, getenv("OMNIPYTHON_OPTIONS")) < 0) {
        fprintf(stderr, "omnipython: %s (omnipython --omni-help lists the options)\n", o.err);
        omni_options_free(&o);
        return OMNI_EXIT_USAGE;
    }
    int status;
    switch (o.cmd) {
    case OMNI_CMD_REPORT:
        status = omni_cmd_report(&o);
        break;
    case OMNI_CMD_EXPORT:
        status = omni_cmd_export(&o);
        break;
    case OMNI_CMD_SCAN:
        status = omni_cmd_scan(&o);
        break;
    case OMNI_CMD_DIFF:
        status = omni_cmd_diff(&o);
        break;
    case OMNI_CMD_PATTERNS:
        status = omni_cmd_patterns(&o);
        break;
    case OMNI_CMD_HW:
        status = omni_cmd_hw(&o);
        break;
    case OMNI_CMD_PUSH:
        status = omni_cmd_push(&o);
        break;
    case OMNI_CMD_SESSIONS:
        status = omni_cmd_sessions(&o);
        break;
    case OMNI_CMD_HELP:
        omni_options_usage(stdout);
        fflush(stdout);
        status = o.py_index < argc ? omni_embed_python_help(argv[0]) : 0;
        break;
    default:
        /* a run of --repeat is started with OMNIPYTHON_REPEAT_RUN set */
        status = o.repeat > 1 && !getenv("OMNIPYTHON_REPEAT_RUN") ? omni_repeat_run(&o, argc, argv)
                                                                  : omni_embed_run(&o, argc, argv);
        break;
    }
    omni_options_free(&o);
    return status;
}
