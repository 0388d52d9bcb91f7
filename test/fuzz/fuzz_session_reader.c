/* fuzz_session_reader.c - libFuzzer target: any bytes given to the session
 * reader (and the analysis, reports and exports built on it) give a session or a
 * message, never a crash, a leak or undefined behaviour. */
#include "patterns/kb.h"
#include "patterns/match.h"
#include "patterns/report/export.h"
#include "patterns/report/report.h"
#include "runtime/session/reader.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static omni_kb_t kb;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    char err[512];
    (void)argc, (void)argv;
    if (omni_kb_load(&kb, NULL, err, sizeof err) < 0) {
        fprintf(stderr, "the built-in patterns: %s\n", err);
        abort();
    }
    return 0;
}

/* A session and its checkpoint (the file beside it) in one input: the
 * bytes after the first CKPT_MARK are the checkpoint's. */
static const char CKPT_MARK[] = "\xff" "CKPT" "\xff";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    omni_session_t s;
    char err[256];
    const char *ckpt = NULL;
    size_t len = size, ckpt_len = 0, m = sizeof CKPT_MARK - 1;
    for (size_t i = 0; i + m <= size; i++)
        if (memcmp(data + i, CKPT_MARK, m) == 0) {
            len = i;
            ckpt = (const char *)data + i + m;
            ckpt_len = size - i - m;
            break;
        }
    if (omni_session_parse_with((const char *)data, len, ckpt, ckpt_len, &s, err, sizeof err) ==
        0) {
        FILE *sink = fopen("/dev/null", "w");
        omni_model_t m;
        omni_entities_t ents = {0};
        omni_findings_t fs;
        const omni_findings_t *found = NULL;
        int modelled = omni_model_build(&s, &m) == 0;
        if (modelled && omni_entities_build(&m, &ents) == 0) {
            if (omni_match(&kb, &ents, OMNI_DEFAULT_MIN_CONFIDENCE, &fs) == 0)
                found = &fs;
        }
        if (sink && modelled) {
            omni_report_text(&m, "fuzz.omni", found, sink, 1);
            omni_report_json(&m, "fuzz.omni", found, sink);
            omni_report_md(&m, "fuzz.omni", found, sink);
            omni_report_html(&m, "fuzz.omni", found, sink);
        }
        /* and the exports, which read the session itself */
        static const char *const exports[] = {"collapsed", "speedscope", "pstats", "chrome",
                                              "pprof"};
        for (size_t i = 0; sink && i < sizeof exports / sizeof exports[0]; i++)
            omni_export_find(exports[i])(&s, sink, err, sizeof err);
        if (sink)
            fclose(sink);
        if (found) {
            omni_findings_free(&fs);
        }
        if (found || ents.e)
            omni_entities_free(&ents);
        if (modelled)
            omni_model_free(&m);
        omni_session_free(&s);
    }
    return 0;
}
