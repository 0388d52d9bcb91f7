/* entry.c - scripts declared by a tree's packaging files. The files are read
 * line by line, as far as declaring scripts goes (no TOML or setup.py
 * evaluation): a name = "module:function" line in a scripts section. */
#include "static/entry.h"
#include "runtime/grow.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int omni_entries_add(omni_entries_t *x, const char *kind, const char *name, const char *target,
                     const char *source) {
    omni_entry_t *ne = omni_grow(x->e, &x->cap, x->n, sizeof *ne, 16);
    if (!ne)
        return -1;
    x->e = ne;
    omni_entry_t *e = &x->e[x->n++];
    snprintf(e->kind, sizeof e->kind, "%s", kind);
    snprintf(e->name, sizeof e->name, "%s", name);
    snprintf(e->target, sizeof e->target, "%s", target);
    snprintf(e->source, sizeof e->source, "%s", source);
    return 0;
}

void omni_entries_free(omni_entries_t *x) {
    free(x->e);
    memset(x, 0, sizeof *x);
}

static char *trim(char *s) {
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = 0;
    return s;
}

/* "name = module:function" (quotes around either side allowed): splits it. */
static int script_line(char *line, char **name, char **target) {
    char *eq = strchr(line, '=');
    if (!eq)
        return 0;
    *eq = 0;
    *name = trim(line);
    *target = trim(eq + 1);
    for (char **s = name; s; s = s == name ? target : NULL) {
        size_t n = strlen(*s);
        if (n >= 2 && ((**s == '"' && (*s)[n - 1] == '"') || (**s == '\'' && (*s)[n - 1] == '\''))) {
            (*s)[n - 1] = 0;
            (*s)++;
        }
    }
    return **name && strchr(*target, ':') && !strchr(*target, ' ');
}

/* A declared script when text is "name = module:function": its entry,
 * sourced as file:line. Returns 0 (added or not a script) or -1 (memory). */
static int script_at(omni_entries_t *x, const char *kind, char *text, const char *file, int no) {
    char *name, *target, src[4300];
    if (!script_line(text, &name, &target))
        return 0;
    snprintf(src, sizeof src, "%s:%d", file, no);
    return omni_entries_add(x, kind, name, target, src);
}

static int pyproject(FILE *f, const char *file, omni_entries_t *x) {
    char line[1024];
    const char *kind = NULL;
    int rc = 0;
    for (int no = 1; fgets(line, sizeof line, f) && rc == 0; no++) {
        char *t = trim(line);
        if (*t == '[') {
            kind = !strcmp(t, "[project.scripts]") || !strcmp(t, "[tool.poetry.scripts]")
                       ? "console_script"
                   : !strcmp(t, "[project.gui-scripts]") ? "gui_script"
                                                          : NULL;
            continue;
        }
        if (kind && *t != '#')
            rc = script_at(x, kind, t, file, no);
    }
    return rc;
}

static int setup_cfg(FILE *f, const char *file, omni_entries_t *x) {
    char line[1024];
    int in_section = 0, rc = 0;
    const char *kind = NULL;
    for (int no = 1; fgets(line, sizeof line, f) && rc == 0; no++) {
        int indented = line[0] == ' ' || line[0] == '\t';
        char *t = trim(line);
        if (*t == '[') {
            in_section = !strcmp(t, "[options.entry_points]");
            kind = NULL;
            continue;
        }
        if (!in_section || !*t || *t == '#' || *t == ';')
            continue;
        if (!indented) {
            char *eq = strchr(t, '=');
            if (eq) {
                *eq = 0;
                char *key = trim(t), *rest = trim(eq + 1);
                kind = !strcmp(key, "console_scripts") ? "console_script"
                       : !strcmp(key, "gui_scripts")   ? "gui_script"
                                                       : NULL;
                t = rest; /* "console_scripts = a = m:f" on one line */
                if (!*t)
                    continue;
            }
        }
        if (kind)
            rc = script_at(x, kind, t, file, no);
    }
    return rc;
}

/* setup.py: the string literals "name = module:function" after a
 * 'console_scripts' or 'gui_scripts' key, up to the closing bracket. */
static int setup_py(FILE *f, const char *file, omni_entries_t *x) {
    char line[1024];
    const char *kind = NULL;
    int rc = 0;
    for (int no = 1; fgets(line, sizeof line, f) && rc == 0; no++) {
        char *p = line;
        if (strstr(p, "console_scripts"))
            kind = "console_script", p = strstr(p, "console_scripts") + 15;
        else if (strstr(p, "gui_scripts"))
            kind = "gui_script", p = strstr(p, "gui_scripts") + 11;
        while (kind && *p && rc == 0) {
            char *q = strpbrk(p, "\"']");
            if (!q)
                break;
            if (*q == ']') {
                kind = NULL;
                break;
            }
            char *end = strchr(q + 1, *q);
            if (!end)
                break;
            *end = 0;
            char lit[1024];
            snprintf(lit, sizeof lit, "%s", q + 1);
            rc = script_at(x, kind, lit, file, no);
            p = end + 1;
        }
    }
    return rc;
}

/* Reads root/file with read, when there is one. */
static int read_file(const char *root, const char *file,
                     int (*read)(FILE *f, const char *file, omni_entries_t *x),
                     omni_entries_t *x) {
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", root, file);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    int rc = read(f, file, x);
    fclose(f);
    return rc;
}

int omni_entries_declared(const char *root, omni_entries_t *x) {
    if (read_file(root, "pyproject.toml", pyproject, x) < 0 ||
        read_file(root, "setup.cfg", setup_cfg, x) < 0 || read_file(root, "setup.py", setup_py, x) < 0)
        return -1;
    return 0;
}
