/* embed.c - hands the command line to CPython's own parser, starts the
 * interpreter with omnipython's hooks and runs the target with Py_RunMain. */
#include <Python.h>

#include "launcher/embed.h"
#include "patterns/report/utf8.h"

#include "runtime/lineage.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A path or module name as UTF-8, arguments' undecodable bytes (surrogate
 * escapes) restored. Not Py_EncodeLocale: it allocates from pymalloc, which
 * 3.12 cannot use before the interpreter exists. */
static void utf8_of(const wchar_t *w, char *out, size_t cap) {
    char *o = out;
    for (; *w && (size_t)(o - out) + 5 < cap; w++) {
        unsigned c = (unsigned)*w;
        if (c >= 0xDC80 && c <= 0xDCFF)
            *o++ = (char)(c - 0xDC00);
        else
            omni_put_utf8(&o, c);
    }
    *o = 0;
}

/* What runs, for the session: the script path, "-m module", "-c" or "-". */
static void describe_target(const PyConfig *c, char *out, size_t cap) {
    if (c->run_command) {
        snprintf(out, cap, "-c");
    } else if (c->run_module && cap > 3) {
        memcpy(out, "-m ", 3);
        utf8_of(c->run_module, out + 3, cap - 3);
    } else if (c->run_filename) {
        utf8_of(c->run_filename, out, cap);
    } else {
        snprintf(out, cap, "-");
    }
}

/* Whether two files hold the same bytes. */
static int same_file_content(const char *a, const char *b) {
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int same = fa && fb;
    char x[4096], y[4096];
    while (same) {
        size_t n = fread(x, 1, sizeof x, fa), m = fread(y, 1, sizeof y, fb);
        same = n == m && memcmp(x, y, n) == 0;
        if (n < sizeof x)
            break;
    }
    if (fa)
        fclose(fa);
    if (fb)
        fclose(fb);
    return same;
}

/* Whether the folder above dir holds a standard library that is not the one
 * omnipython was built against nor a copy of it (its os.py differs): another
 * Python's, which would not match the interpreter compiled in. A copy (a
 * relocated or not yet installed Python, as test_venv makes one) is used as
 * python3 would use it. */
static int stray_stdlib_above(const char *dir) {
    char lib[4200], real[PATH_MAX], ours[PATH_MAX];
    const char *sub = "lib/python" Py_STRINGIFY(PY_MAJOR_VERSION) "." Py_STRINGIFY(PY_MINOR_VERSION);
    if (snprintf(lib, sizeof lib, "%s/../%s/os.py", dir, sub) >= (int)sizeof lib ||
        !realpath(lib, real))
        return 0;
    snprintf(lib, sizeof lib, "%s/%s/os.py", OMNI_PYTHON_PREFIX, sub);
    return !realpath(lib, ours) || (strcmp(real, ours) != 0 && !same_file_content(real, ours));
}

/* Whether python3's rules would take another standard library for this
 * executable's: one in the folder above the one the command named (argv0:
 * a path, or a name found on PATH), or above the file itself. */
static int stray_stdlib(const char *argv0) {
    char path[PATH_MAX];
    int stray = 0;
    if (strchr(argv0, '/')) {
        snprintf(path, sizeof path, "%s", argv0);
        stray = stray_stdlib_above(dirname(path));
    } else {
        const char *p = getenv("PATH");
        while (p && *p && !stray) {
            size_t n = strcspn(p, ":");
            snprintf(path, sizeof path, "%.*s/%s", (int)n, p, argv0);
            if (access(path, X_OK) == 0) {
                stray = stray_stdlib_above(dirname(path));
                break;
            }
            p += n + (p[n] == ':');
        }
    }
    ssize_t k = stray ? 0 : readlink("/proc/self/exe", path, sizeof path - 1);
    if (k > 0) {
        path[k] = 0;
        stray = stray_stdlib_above(dirname(path));
    }
    return stray;
}

/* Python finds its standard library relative to the executable first, so a
 * lib/python3.X beside omnipython (a copied or linked prefix) could be taken
 * for it. There, home is set to the prefix of the Python omnipython was built
 * against; elsewhere home stays unset, as in python3's configuration, which
 * _testinternalcapi.set_config (test_embed) and a ._pth file beside the
 * executable (test_site: getpath reads none once home is set) rely on. The
 * user's PYTHONHOME (unless -E/-I) wins. A venv is honoured either way: its
 * pyvenv.cfg sets sys.prefix, home only says where the base installation is.
 * read: the command line read (NULL: always set home); argv0: omnipython's. */
static PyStatus set_home(PyConfig *c, const PyConfig *read, const char *argv0) {
    if (read && read->use_environment && getenv("PYTHONHOME") && *getenv("PYTHONHOME"))
        return PyStatus_Ok();
    if (read && !stray_stdlib(argv0))
        return PyStatus_Ok();
    return PyConfig_SetBytesString(c, &c->home, OMNI_PYTHON_PREFIX);
}

static int status_exit(PyStatus st) {
    if (PyStatus_IsExit(st))
        return st.exitcode;
    Py_ExitStatusException(st); /* prints the error and exits 1, as python3 does */
    return 1;
}

PyMODINIT_FUNC PyInit_omni(void); /* runtime/omni_module.c */

/* A process may start with a standard descriptor closed (posix_spawn's
 * file actions, a daemon's double fork): python3 then sees it closed
 * (sys.stdin is None, os.fstat(0) fails). omnipython's own descriptors (the
 * session file, the monitor's loop and pipes) would take the lowest numbers
 * free, 0 to 2, and the target would find them open: each closed one is held
 * on /dev/null while omnipython opens its own, and let go before the
 * interpreter looks at them and before the target runs. Returns the
 * descriptors held, a bit each. */
static unsigned hold_std_fds(void) {
    unsigned held = 0;
    for (int fd = 0; fd < 3; fd++) {
        if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
            continue;
        int h = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (h == fd)
            held |= 1u << fd;
        else if (h >= 0)
            close(h);
    }
    return held;
}

static void release_std_fds(unsigned held) {
    for (int fd = 0; fd < 3; fd++)
        if (held & (1u << fd))
            close(fd);
}

int omni_embed_run(const omni_options_t *o, int argc, char **argv) {
    int n = argc - o->py_index + 1;
    char **args = malloc(sizeof(char *) * (size_t)(n + 1));
    if (!args) {
        fprintf(stderr, "omnipython: out of memory\n");
        return 1;
    }
    args[0] = argv[0];
    memcpy(args + 1, argv + o->py_index, sizeof(char *) * (size_t)(n - 1));
    args[n] = NULL;
    unsigned held = hold_std_fds();

    /* A child Python started by a profiled program inherits its
     * OMNIPYTHON_OPTIONS: an --out from there names the parent's session,
     * so the child writes its own under ./.omni/ instead. */
    const char *out = o->out;
    if (out && o->out_from_env && omni_runtime_parent_is_omnipython())
        out = NULL;
    omni_run_config_t rc = {
        .out_path = out, .mode = o->mode, .quiet = o->quiet, .argc = argc, .argv = argv,
        .interval_ms = o->interval_ms, .checkpoint_s = o->checkpoint_s,
        .max_session_mb = o->max_session_mb,
        .grams_co2_per_kwh = o->grams_co2_per_kwh,
        .sample_hz = o->sample_hz, .timeout_s = o->timeout_s,
        .memory_interval = o->memory_interval, .push_url = o->push_url,
        .push_name = o->push_name, .push_labels = o->push_labels};
    /* A child of a profiled process is profiled as its parent is, unless its
     * own command line (or OMNIPYTHON_OPTIONS) says otherwise. */
    omni_lineage_t parent;
    if (omni_lineage_read(&parent) == 0) {
        if (!(o->given & OMNI_GIVEN_MODE))
            rc.mode = (omni_mode_t)parent.mode;
        if (!(o->given & OMNI_GIVEN_INTERVAL))
            rc.interval_ms = parent.interval_ms;
        if (!(o->given & OMNI_GIVEN_QUIET))
            rc.quiet = parent.quiet;
        if (!(o->given & OMNI_GIVEN_CARBON))
            rc.grams_co2_per_kwh = parent.grams_co2_per_kwh;
    }
    rc.memory = o->memory || rc.mode == OMNI_MODE_FULL;
    /* a later run of --repeat adds to the session; the target's own
     * children must not see the variable */
    const char *rr = getenv("OMNIPYTHON_REPEAT_RUN");
    rc.append = rr && strcmp(rr, "append") == 0;
    unsetenv("OMNIPYTHON_REPEAT_RUN");
    omni_runtime_prepare(&rc);

    /* import omni: built in (it wins over an installed extension module) */
    PyImport_AppendInittab("omni", PyInit_omni);
    /* Pre-initialisation first (it sets the allocators, -X utf8, -E, -I),
     * then the allocator hooks, before anything of Python allocates. */
    PyPreConfig pre;
    PyPreConfig_InitPythonConfig(&pre);
    PyStatus pst = Py_PreInitializeFromBytesArgs(&pre, n, args);
    if (PyStatus_Exception(pst)) {
        free(args);
        return status_exit(pst);
    }
    omni_runtime_install_memory();
    /* The command line read once to know the target (read, the configuration
     * is then read again by Py_InitializeFromConfig, and that second reading
     * loses what only the first parse of argv gives: -X warn_default_encoding
     * came out 0); the interpreter starts from an unread one, as python3's. */
    PyConfig read, config;
    PyConfig_InitPythonConfig(&read);
    PyConfig_InitPythonConfig(&config);
    PyStatus st = PyConfig_SetBytesArgv(&read, n, args);
    if (!PyStatus_Exception(st))
        st = PyConfig_Read(&read);
    if (!PyStatus_Exception(st))
        st = PyConfig_SetBytesArgv(&config, n, args);
    if (!PyStatus_Exception(st))
        st = set_home(&config, &read, argv[0]);
    char target[1024];
    if (!PyStatus_Exception(st)) {
        describe_target(&read, target, sizeof target);
        omni_runtime_open_session(target); /* a failure is a warning: the target runs */
        release_std_fds(held);
        st = Py_InitializeFromConfig(&config);
        held = hold_std_fds();
    }
    if (PyStatus_Exception(st)) {
        release_std_fds(held);
        PyConfig_Clear(&read);
        PyConfig_Clear(&config);
        free(args);
        return status_exit(st);
    }

    /* sys.argv as the read configuration has it (the one the interpreter
     * started from is left unread here) */
    int sys_argc = (int)read.argv.length;
    char **sys_argv = calloc((size_t)sys_argc + 1, sizeof(char *));
    for (int i = 0; sys_argv && i < sys_argc; i++)
        sys_argv[i] = Py_EncodeLocale(read.argv.items[i], NULL);
    omni_runtime_start(target, sys_argv ? sys_argc : 0, sys_argv);
    release_std_fds(held);
    for (int i = 0; sys_argv && i < sys_argc; i++)
        PyMem_Free(sys_argv[i]);
    free(sys_argv);
    PyConfig_Clear(&read);
    PyConfig_Clear(&config);

    int status = Py_RunMain();
    omni_runtime_finish(status, OMNI_EXIT_RETURN, 0);
    free(args);
    return status;
}

int omni_embed_python_help(char *argv0) {
    char *args[] = {argv0, "--help", NULL};
    return Py_BytesMain(2, args);
}

int omni_embed_init_plain(void) {
    PyConfig config;
    PyConfig_InitIsolatedConfig(&config);
    config.site_import = 0;
    PyStatus st = set_home(&config, NULL, NULL);
    if (!PyStatus_Exception(st))
        st = Py_InitializeFromConfig(&config);
    PyConfig_Clear(&config);
    return PyStatus_Exception(st) ? -1 : 0;
}
