/* fmt.c - what the human reports (text, markdown) share: source lines and
 * numbers with their units. */
#include "patterns/report/report.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

const char *omni_source_line(const char *file, int64_t n, char *buf, size_t cap) {
    buf[0] = 0;
    FILE *f = !file || file[0] == '<' ? NULL : fopen(file, "r");
    if (!f)
        return buf;
    char line[4096];
    for (int64_t i = 1; fgets(line, sizeof line, f); i++) {
        if (i < n)
            continue;
        const char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        snprintf(buf, cap, "%.*s", (int)strcspn(p, "\r\n"), p);
        break;
    }
    fclose(f);
    return buf;
}

const char *omni_fmt_bytes(double b, char *buf, size_t cap) {
    static const char *unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (fabs(b) >= 1024 && u < 4) {
        b /= 1024;
        u++;
    }
    snprintf(buf, cap, u ? "%.1f %s" : "%.0f %s", b, unit[u]);
    return buf;
}

/* A count with thousands separators (whole numbers), or three significant
 * digits. */
static const char *fmt_count(double v, char *buf, size_t cap) {
    if (v != floor(v) || fabs(v) >= 1e15) {
        snprintf(buf, cap, "%.3g", v);
        return buf;
    }
    char digits[32];
    snprintf(digits, sizeof digits, "%.0f", fabs(v));
    size_t n = strlen(digits), o = 0;
    if (v < 0 && o + 1 < cap)
        buf[o++] = '-';
    for (size_t i = 0; i < n && o + 2 < cap; i++) {
        if (i && (n - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = digits[i];
    }
    buf[o] = 0;
    return buf;
}

const char *omni_fmt_value(double v, const char *unit, char *buf, size_t cap) {
    if (isnan(v)) {
        snprintf(buf, cap, "n/a");
    } else if (strcmp(unit, "bytes") == 0) {
        omni_fmt_bytes(v, buf, cap);
    } else if (strcmp(unit, "s") == 0) {
        double a = fabs(v);
        if (a != 0 && a < 1e-3)
            snprintf(buf, cap, "%.3g us", v * 1e6);
        else if (a != 0 && a < 1)
            snprintf(buf, cap, "%.3g ms", v * 1e3);
        else
            snprintf(buf, cap, "%.3g s", v);
    } else if (strcmp(unit, "fraction") == 0) {
        snprintf(buf, cap, "%.3g%%", v * 100);
    } else if (strcmp(unit, "%") == 0) {
        snprintf(buf, cap, "%.3g%%", v);
    } else {
        char n[48];
        fmt_count(v, n, sizeof n);
        snprintf(buf, cap, "%s%s%s", n, *unit ? " " : "", unit);
    }
    return buf;
}
