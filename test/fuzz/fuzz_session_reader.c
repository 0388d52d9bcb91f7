/* fuzz_session_reader.c - libFuzzer target: any bytes given to the session
 * reader (and the reports built on it) give a session or a message, never a
 * crash, a leak or undefined behaviour. */
#include "patterns/report.h"
#include "runtime/session_reader.h"

#include <stdint.h>
#include <stdio.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    omni_session_t s;
    char err[256];
    if (omni_session_parse((const char *)data, size, &s, err, sizeof err) == 0) {
        FILE *sink = fopen("/dev/null", "w");
        if (sink) {
            omni_report_text(&s, "fuzz.omni", NULL, sink, 1);
            omni_report_json(&s, "fuzz.omni", NULL, sink);
            fclose(sink);
        }
        omni_session_free(&s);
    }
    return 0;
}
