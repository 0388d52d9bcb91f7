/* discover.c - which files --scan reads: the .py files below a folder, in
 * a stable order, without version control, caches, virtual environments,
 * build output, what the root's .gitignore names and the --exclude globs. */
#include "static/discover.h"

#include "runtime/grow.h"

#include <dirent.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_DEPTH 64

typedef omni_paths_t list_t;

static int list_add(list_t *l, const char *s) {
    char **nv = omni_grow(l->v, &l->cap, l->n, sizeof *nv, 256);
    if (!nv)
        return -1;
    l->v = nv;
    if (!(l->v[l->n] = strdup(s)))
        return -1;
    l->n++;
    return 0;
}

void omni_paths_free(omni_paths_t *l) {
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

/* Folders never scanned: version control, caches, virtual environments,
 * build output, dependencies. */
static const char *const skip_dirs[] = {".git", ".hg", ".svn", "__pycache__", "node_modules",
                                        ".tox", ".nox", ".eggs", ".mypy_cache", ".pytest_cache",
                                        ".ruff_cache", "build", "dist", "venv", ".venv", NULL};

typedef struct walk {
    const char *root;
    list_t ignore;          /* the root's .gitignore patterns */
    const char *const *exclude;  /* --exclude globs */
    size_t n_exclude;
    list_t files;           /* relative paths */
    dev_t dev[MAX_DEPTH];
    ino_t ino[MAX_DEPTH];
    int oom;
} walk_t;

static void read_gitignore(walk_t *w) {
    char path[4096];
    snprintf(path, sizeof path, "%s/.gitignore", w->root);
    FILE *f = fopen(path, "r");
    char line[1024];
    while (f && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        size_t n = strlen(line);
        while (n && (line[n - 1] == ' ' || line[n - 1] == '\t'))
            line[--n] = 0;
        if (!n || line[0] == '#' || line[0] == '!')
            continue; /* negations are not supported (documented) */
        if (list_add(&w->ignore, line) < 0)
            w->oom = 1;
    }
    if (f)
        fclose(f);
}

/* Whether rel (a/b/c.py; dir: a folder) is excluded by a .gitignore pattern
 * or --exclude glob. */
static int excluded(const walk_t *w, const char *rel, int dir) {
    const char *base = strrchr(rel, '/');
    base = base ? base + 1 : rel;
    for (size_t i = 0; i < w->ignore.n; i++) {
        char pat[1024];
        snprintf(pat, sizeof pat, "%s", w->ignore.v[i]);
        size_t n = strlen(pat);
        int dir_only = n > 1 && pat[n - 1] == '/';
        if (dir_only)
            pat[--n] = 0;
        if (dir_only && !dir)
            continue;
        const char *p = pat[0] == '/' ? pat + 1 : pat;
        int anchored = pat[0] == '/' || strchr(p, '/') != NULL;
        if (anchored ? fnmatch(p, rel, FNM_PATHNAME) == 0 : fnmatch(p, base, 0) == 0)
            return 1;
    }
    for (size_t i = 0; i < w->n_exclude; i++) {
        const char *g = w->exclude[i];
        if (fnmatch(g, rel, 0) == 0 || fnmatch(g, base, 0) == 0)
            return 1;
    }
    return 0;
}

static int by_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void walk_dir(walk_t *w, const char *rel, int depth) {
    char path[4096];
    snprintf(path, sizeof path, "%s%s%s", w->root, *rel ? "/" : "", rel);
    struct stat st;
    if (depth >= MAX_DEPTH || stat(path, &st) != 0)
        return;
    for (int i = 0; i < depth; i++)
        if (w->dev[i] == st.st_dev && w->ino[i] == st.st_ino)
            return; /* a link back up: a loop */
    w->dev[depth] = st.st_dev;
    w->ino[depth] = st.st_ino;
    char probe[4200];
    snprintf(probe, sizeof probe, "%s/pyvenv.cfg", path);
    if (depth > 0 && access(probe, F_OK) == 0)
        return; /* a virtual environment */
    DIR *d = opendir(path);
    if (!d) {
        /* unreadable: reported as a file with an error */
        if (list_add(&w->files, *rel ? rel : ".") < 0)
            w->oom = 1;
        return;
    }
    list_t names = {0};
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && list_add(&names, e->d_name) < 0)
            w->oom = 1;
    closedir(d);
    if (names.n)
        qsort(names.v, names.n, sizeof *names.v, by_str);
    for (size_t i = 0; i < names.n && !w->oom; i++) {
        const char *name = names.v[i];
        char child[4096], full[4200];
        snprintf(child, sizeof child, "%s%s%s", rel, *rel ? "/" : "", name);
        snprintf(full, sizeof full, "%s/%s", w->root, child);
        struct stat cs;
        if (lstat(full, &cs) != 0)
            continue;
        int is_dir = S_ISDIR(cs.st_mode);
        if (S_ISLNK(cs.st_mode)) {
            struct stat ts;
            if (stat(full, &ts) != 0)
                continue; /* a dangling link */
            is_dir = S_ISDIR(ts.st_mode);
            cs = ts;
        }
        if (is_dir) {
            int skip = 0;
            for (int k = 0; skip_dirs[k] && !skip; k++)
                skip = strcmp(name, skip_dirs[k]) == 0;
            size_t nl = strlen(name);
            skip |= nl > 9 && strcmp(name + nl - 9, ".egg-info") == 0;
            if (!skip && !excluded(w, child, 1))
                walk_dir(w, child, depth + 1);
            continue;
        }
        size_t nl = strlen(name);
        if (S_ISREG(cs.st_mode) && nl > 3 && strcmp(name + nl - 3, ".py") == 0 &&
            !excluded(w, child, 0) && list_add(&w->files, child) < 0)
            w->oom = 1;
    }
    omni_paths_free(&names);
}

int omni_discover(const char *root, const char *const *exclude, size_t n_exclude,
                  omni_paths_t *files) {
    walk_t w = {.root = root, .exclude = exclude, .n_exclude = n_exclude};
    read_gitignore(&w);
    walk_dir(&w, "", 0);
    omni_paths_free(&w.ignore);
    *files = w.files;
    if (w.oom) {
        omni_paths_free(files);
        return -1;
    }
    return 0;
}
