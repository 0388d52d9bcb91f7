/* test_options.c - omnipython's own options, from argv and OMNIPYTHON_OPTIONS. */
#include "launcher/options.h"
#include "test/unit.h"

static int parse(omni_options_t *o, const char *env, int argc, char **argv) {
    int rc = omni_options_parse(o, argc, argv, env);
    return rc;
}

int main(void) {
    omni_options_t o;

    char *a1[] = {"omnipython", "--out", "x.omni", "--mode=full", "--quiet", "-X", "dev", "s.py", "--out"};
    CHECK_INT(parse(&o, NULL, 9, a1), 0);
    CHECK_INT(o.cmd, OMNI_CMD_RUN);
    CHECK_STR(o.out, "x.omni");
    CHECK_INT(o.mode, OMNI_MODE_FULL);
    CHECK_INT(o.quiet, 1);
    CHECK_INT(o.py_index, 5); /* "-X": Python's from here on, "--out" after the script is the script's */
    omni_options_free(&o);

    char *a2[] = {"omnipython", "script.py", "--quiet"};
    CHECK_INT(parse(&o, NULL, 3, a2), 0);
    CHECK_INT(o.py_index, 1);
    CHECK_INT(o.quiet, 0);
    omni_options_free(&o);

    char *a3[] = {"omnipython", "--bogus", "s.py"};
    CHECK_INT(parse(&o, NULL, 3, a3), -1);
    CHECK(strstr(o.err, "--bogus") != NULL);
    omni_options_free(&o);

    char *a4[] = {"omnipython", "--mode", "fast"};
    CHECK_INT(parse(&o, NULL, 3, a4), -1);
    CHECK(strstr(o.err, "fast") != NULL);
    omni_options_free(&o);

    char *a5[] = {"omnipython", "--out"};
    CHECK_INT(parse(&o, NULL, 2, a5), -1);
    CHECK(strstr(o.err, "needs a value") != NULL);
    omni_options_free(&o);

    /* The environment first, the command line overrides it. */
    char *a6[] = {"omnipython", "--mode", "minimal", "-c", "pass"};
    CHECK_INT(parse(&o, "--quiet  --mode off\t--out=env.omni", 5, a6), 0);
    CHECK_INT(o.quiet, 1);
    CHECK_INT(o.mode, OMNI_MODE_MINIMAL);
    CHECK_STR(o.out, "env.omni");
    CHECK_INT(o.out_from_env, 1);
    CHECK_INT(o.py_index, 3);
    omni_options_free(&o);

    char *a7[] = {"omnipython", "-c", "pass"};
    CHECK_INT(parse(&o, "--quiet script.py", 3, a7), -1);
    CHECK(strstr(o.err, "OMNIPYTHON_OPTIONS") != NULL);
    omni_options_free(&o);

    char *a8[] = {"omnipython", "--report", "s.omni", "--format", "json", "--out", "r.json"};
    CHECK_INT(parse(&o, NULL, 7, a8), 0);
    CHECK_INT(o.cmd, OMNI_CMD_REPORT);
    CHECK_STR(o.session, "s.omni");
    CHECK_STR(o.format, "json");
    CHECK_STR(o.out, "r.json");
    omni_options_free(&o);

    /* more sessions after the first: one merged report; options between */
    char *a9[] = {"omnipython", "--report", "s.omni", "t.omni", "--format", "md", "dir"};
    CHECK_INT(parse(&o, NULL, 7, a9), 0);
    CHECK_INT(o.n_more, 2);
    CHECK_STR(o.more[0], "t.omni");
    CHECK_STR(o.more[1], "dir");
    CHECK_STR(o.format, "md");
    omni_options_free(&o);
    char *a9b[] = {"omnipython", "--report", "s.omni", "t.omni", "--process", "3"};
    CHECK_INT(parse(&o, NULL, 6, a9b), -1);
    CHECK(strstr(o.err, "--process goes with one session") != NULL);
    omni_options_free(&o);

    char *a10[] = {"omnipython", "--format", "xml"};
    CHECK_INT(parse(&o, NULL, 3, a10), -1);
    omni_options_free(&o);

    /* Python's own long options end omnipython's part of the line. */
    char *a11[] = {"omnipython", "--quiet", "--version"};
    CHECK_INT(parse(&o, NULL, 3, a11), 0);
    CHECK_INT(o.py_index, 2);
    CHECK_INT(o.cmd, OMNI_CMD_RUN);
    omni_options_free(&o);

    char *a12[] = {"omnipython", "--help"};
    CHECK_INT(parse(&o, NULL, 2, a12), 0);
    CHECK_INT(o.cmd, OMNI_CMD_HELP);
    omni_options_free(&o);

    UNIT_DONE();
}
