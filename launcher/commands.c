/* commands.c - runs --report and --sessions: load, render, say what failed. */
#include "launcher/commands.h"

#include "patterns/report.h"
#include "runtime/sessions_list.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int want_color(FILE *f) {
    const char *nc = getenv("NO_COLOR");
    return isatty(fileno(f)) && !(nc && *nc);
}

int omni_cmd_report(const omni_options_t *o) {
    omni_session_t s;
    char err[512];
    if (omni_session_load(o->session, &s, err, sizeof err) < 0) {
        fprintf(stderr, "omnipython: %s: %s\n", o->session, err);
        return OMNI_EXIT_BADFILE;
    }
    FILE *f = stdout;
    if (o->out && !(f = fopen(o->out, "w"))) {
        fprintf(stderr, "omnipython: cannot write %s: %s\n", o->out, strerror(errno));
        omni_session_free(&s);
        return OMNI_EXIT_OUTPUT;
    }
    int json = o->format && strcmp(o->format, "json") == 0;
    int rc = json ? omni_report_json(&s, o->session, f)
                  : omni_report_text(&s, o->session, f, f == stdout && want_color(f));
    if (fflush(f) != 0)
        rc = -1;
    if (f != stdout && fclose(f) != 0)
        rc = -1;
    omni_session_free(&s);
    if (rc < 0) {
        fprintf(stderr, "omnipython: cannot write the report%s%s\n", o->out ? " to " : "",
                o->out ? o->out : "");
        return OMNI_EXIT_OUTPUT;
    }
    return 0;
}

int omni_cmd_sessions(const omni_options_t *o) {
    (void)o;
    return omni_sessions_list(".omni", stdout) < 0 ? OMNI_EXIT_BADFILE : 0;
}
