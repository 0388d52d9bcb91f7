/* test_procfs.c - the /proc readers: keyed numbers and strings, files,
 * per-core busy shares, and the process reading against getrusage. */
#include "hw/procfs.h"
#include "hw/procstat.h"
#include "test/unit.h"

#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

static void keyed_text(void) {
    const char *status = "Name:\tomnipython\nVmHWMX:\t1 kB\nVmHWM:\t  2048 kB\nThreads:\t3\n";
    uint64_t v = 0;
    CHECK_INT(omni_text_u64(status, "VmHWM", &v), 0);
    CHECK_INT(v, 2048);
    CHECK_INT(omni_text_u64(status, "Threads", &v), 0);
    CHECK_INT(v, 3);
    CHECK_INT(omni_text_u64(status, "VmRSS", &v), -1);
    CHECK_INT(omni_text_u64(status, "Name", &v), -1); /* not a number */
    /* /proc/self/io's "key: value" and /proc/meminfo's "key:   value kB" */
    CHECK_INT(omni_text_u64("rchar: 12\nwchar: 34\n", "wchar", &v), 0);
    CHECK_INT(v, 34);
    char s[32];
    CHECK_INT(omni_text_str("NAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\n", "VERSION_ID", '=',
                            s, sizeof s), 0);
    CHECK_STR(s, "12");
    CHECK_INT(omni_text_str("model name\t: Intel(R) Xeon(R)  \nflags: x\n", "model name", ':', s,
                            sizeof s), 0);
    CHECK_STR(s, "Intel(R) Xeon(R)");
    CHECK_INT(omni_text_str("a=1\n", "b", '=', s, sizeof s), -1);
    CHECK_INT(omni_text_str("long=abcdefghij\n", "long", '=', s, 5), 0);
    CHECK_STR(s, "abcd");
}

static void files(void) {
    char path[] = "/tmp/omni-test-procfs-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    CHECK_INT(write(fd, "0x1002\n", 7), 7);
    close(fd);
    uint64_t v = 0;
    CHECK_INT(omni_read_u64(path, &v), 0);
    CHECK_INT(v, 0x1002);
    char buf[4];
    CHECK_INT(omni_read_file(path, buf, sizeof buf), 3); /* cut to cap - 1 */
    CHECK_STR(buf, "0x1");
    unlink(path);
    CHECK(omni_read_file(path, buf, sizeof buf) < 0);
    CHECK_INT(omni_read_u64(path, &v), -1);
}

static void busy_shares(void) {
    omni_cpu_times_t a = {.n = 2, .busy = {100, 500}, .total = {1000, 1000}};
    omni_cpu_times_t b = {.n = 2, .busy = {150, 600}, .total = {1100, 1100}};
    uint16_t out[2];
    omni_cpu_busy_permille(&a, &b, out, 2);
    CHECK_INT(out[0], 500);
    CHECK_INT(out[1], 1000);
    omni_cpu_busy_permille(&a, &a, out, 2); /* no time passed */
    CHECK_INT(out[0], 0);
}

static void process_reading(void) {
    omni_proc_sample_t p;
    volatile double x = 0;
    for (int i = 0; i < 20000000; i++)
        x += i;
    CHECK_INT(omni_proc_read(&p, NULL, 0), 0);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    uint64_t user = (uint64_t)ru.ru_utime.tv_sec * 1000000000u + (uint64_t)ru.ru_utime.tv_usec * 1000u;
    CHECK(p.cpu_user_ns <= user && p.cpu_user_ns + 20000000 >= user);
    CHECK(p.rss_bytes > 0 && p.peak_rss_bytes >= p.rss_bytes);
    CHECK_INT(p.threads, 1);
    /* stdin, stdout, stderr at least; a skipped descriptor is not counted */
    omni_proc_sample_t q;
    int skip[] = {0};
    omni_proc_read(&q, skip, 1);
    CHECK_INT(q.fds + 1, p.fds);
    omni_sys_sample_t *s = malloc(sizeof *s);
    static char text[OMNI_SYS_TEXT];
    CHECK_INT(omni_sys_read(s, text, sizeof text), 0);
    CHECK_INT(s->cpu.n, sysconf(_SC_NPROCESSORS_ONLN));
    CHECK(s->mem_available_bytes > 0);
    free(s);
}

int main(void) {
    keyed_text();
    files();
    busy_shares();
    process_reading();
    UNIT_DONE();
}
