/* commands.h - omnipython's own commands that read sessions. */
#ifndef OMNI_COMMANDS_H
#define OMNI_COMMANDS_H

#include "launcher/options.h"

/* --report SESSION [--format text|md|json] [--patterns DIR] [--out FILE]:
 * the report with the knowledge base's findings. Returns the exit status. */
int omni_cmd_report(const omni_options_t *o);

/* --list-patterns [--patterns DIR]: the knowledge base, checked. */
int omni_cmd_patterns(const omni_options_t *o);

/* --diff A B [--threshold PCT]: 0, or 1 when B regressed. */
int omni_cmd_diff(const omni_options_t *o);

/* --scan DIR: the static metrics of a tree. Returns OMNI_SCAN_*'s status. */
int omni_cmd_scan(const omni_options_t *o);

/* --sessions: lists ./.omni/. Returns the exit status. */
int omni_cmd_sessions(const omni_options_t *o);

/* --export FORMAT SESSION --out FILE. Returns the exit status (3 when the
 * session lacks what the format needs). */
int omni_cmd_export(const omni_options_t *o);

/* --hw [--bench] [--format text|json] [--out FILE]. Returns the exit status. */
int omni_cmd_hw(const omni_options_t *o);
/* --push-session SESSION --push URL: --push's sender. */
int omni_cmd_push(const omni_options_t *o);

#endif
