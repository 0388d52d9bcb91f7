/* test_session_roundtrip.c - what the writer packs, the reader gives back;
 * damaged and foreign files are refused with a reason, truncated ones read
 * up to the cut. */
#include "runtime/callprof.h"
#include "runtime/session/reader.h"
#include "runtime/session/writer.h"
#include "test/unit.h"

#include <stdlib.h>
#include <unistd.h>

static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    *len = fread(b, 1, (size_t)n, f);
    fclose(f);
    return b;
}

int main(void) {
    char path[] = "/tmp/omni-roundtrip-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);

    omni_writer_t *w = calloc(1, sizeof *w);
    CHECK_INT(omni_writer_open(w, path, OMNI_WRITER_TRUNCATE), 0);
    char *argv[] = {"omnipython", "s.py", "a"};
    char *sys_argv[] = {"s.py", "a"};
    omni_header_t h = {.session_id = "0123456789abcdef0123456789abcdef", .pid = 42, .ppid = 1,
                       .start_unix_ns = 1700000000123456789ull, .argc = 3, .argv = argv,
                       .sys_argc = 2, .sys_argv = sys_argv, .target = "s.py", .cwd = "/w",
                       .executable = "/usr/bin/omnipython", .python_version = "3.11.2",
                       .mode = "default"};
    snprintf(h.machine.hostname, sizeof h.machine.hostname, "box");
    h.machine.logical_cpus = 2;
    h.machine.mem_total_bytes = 1ull << 34;
    omni_session_write_header(w, &h);
    /* No Python ran: the profile has no codes and no threads. */
    omni_callprof_write(&w->pk, 1.0, 0);
    const char *warn[] = {"a warning"};
    omni_footer_t f = {.exit_status = -15, .how = OMNI_EXIT_SIGNAL, .signal = 15,
                       .wall_ns = 1500000000, .cpu_user_ns = 1000, .cpu_sys_ns = 2000,
                       .peak_rss_bytes = 123456, .ns_per_tick = 0.5, .clock = "tsc",
                       .n_warnings = 1, .warnings = warn};
    omni_session_write_footer(w, &f);
    CHECK_INT(omni_writer_close(w), 0);
    CHECK_INT(omni_writer_close(w), 0); /* idempotent */

    omni_session_t s;
    char err[256];
    CHECK_INT(omni_session_load(path, &s, err, sizeof err), 0);
    CHECK_STR(s.session_id, "0123456789abcdef0123456789abcdef");
    CHECK_INT(s.pid, 42);
    CHECK_INT(s.argc, 3);
    CHECK_STR(s.argv[2], "a");
    CHECK_INT(s.sys_argc, 2);
    CHECK_STR(s.target, "s.py");
    CHECK_STR(s.hostname, "box");
    CHECK_INT(s.memory_total_bytes, 1ull << 34);
    CHECK_INT(s.has_footer, 1);
    CHECK_INT(s.exit_status, -15);
    CHECK_STR(s.exit_how, "signal");
    CHECK_INT(s.signal, 15);
    CHECK(s.wall_s == 1.5);
    CHECK_INT(s.peak_rss_bytes, 123456);
    CHECK_INT(s.n_warnings, 1);
    CHECK_STR(s.warnings[0], "a warning");
    CHECK_INT(s.n_codes, 0);
    CHECK_INT(s.n_threads, 0);
    CHECK_INT(s.truncated, 0);
    omni_session_free(&s);

    /* Every prefix of the file: the header alone reads, less is refused,
     * nothing crashes. */
    size_t len;
    char *buf = slurp(path, &len);
    CHECK(buf != NULL);
    int readable = 0;
    for (size_t cut = 0; cut < len; cut++) {
        int rc = omni_session_parse(buf, cut, &s, err, sizeof err);
        if (rc == 0) {
            readable++;
            CHECK(s.truncated || !s.has_footer || cut == len);
            omni_session_free(&s);
        }
    }
    CHECK(readable > 0);

    /* Foreign data. */
    CHECK_INT(omni_session_parse("hello world", 11, &s, err, sizeof err), -1);
    CHECK(strstr(err, "not") != NULL);
    /* A msgpack map that is not a session. */
    const char foreign[] = "\x81\xa4kind\xa6header";
    CHECK_INT(omni_session_parse(foreign, sizeof foreign - 1, &s, err, sizeof err), -1);
    CHECK(strstr(err, "not an omnipython session") != NULL);
    /* A newer version. */
    omni_writer_t *w2 = calloc(1, sizeof *w2);
    CHECK_INT(omni_writer_open(w2, path, OMNI_WRITER_TRUNCATE), 0);
    msgpack_pack_map(&w2->pk, 3);
    omni_pack_kv_str(&w2->pk, "kind", "header");
    omni_pack_kv_str(&w2->pk, "format", OMNI_SESSION_FORMAT);
    omni_pack_kv_u64(&w2->pk, "version", 99);
    CHECK_INT(omni_writer_close(w2), 0);
    CHECK_INT(omni_session_load(path, &s, err, sizeof err), -1);
    CHECK(strstr(err, "newer") != NULL);
    /* A missing file. */
    CHECK_INT(omni_session_load("/nonexistent/x.omni", &s, err, sizeof err), -1);
    CHECK(strstr(err, "cannot open") != NULL);

    free(buf);
    free(w);
    free(w2);
    unlink(path);
    UNIT_DONE();
}
