/* entry.h - the entry points of a tree: declared scripts in pyproject.toml
 * ([project.scripts], [project.gui-scripts], [tool.poetry.scripts]),
 * setup.cfg ([options.entry_points] console_scripts and gui_scripts) and
 * setup.py (console_scripts and gui_scripts strings). Modules with a main
 * guard and packages with __main__.py come from the scan itself. */
#ifndef OMNI_ENTRY_H
#define OMNI_ENTRY_H

#include <stddef.h>

typedef struct omni_entry {
    char kind[16];        /* main, package, console_script, gui_script */
    char name[256];       /* the script's or module's name */
    char target[512];     /* module:function, or how to run it */
    char source[640];     /* file:line that declares it */
} omni_entry_t;

typedef struct omni_entries {
    omni_entry_t *e;
    size_t n, cap;
} omni_entries_t;

/* Adds one. Returns 0 or -1 (memory). */
int omni_entries_add(omni_entries_t *x, const char *kind, const char *name, const char *target,
                     const char *source);
/* Adds the scripts the root's packaging files declare. Returns 0 or -1. */
int omni_entries_declared(const char *root, omni_entries_t *x);
void omni_entries_free(omni_entries_t *x);

#endif
