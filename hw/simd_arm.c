/* simd_arm.c - SIMD extensions on aarch64 from the auxiliary vector (the
 * kernel lists only what it lets user space run). */
#include "hw/cpu.h"

#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>

#include "hw/procfs.h"

typedef struct hwcap_bit {
    const char *name; /* as /proc/cpuinfo "Features" spells it */
    int word;         /* 1 = AT_HWCAP, 2 = AT_HWCAP2 */
    int bit;
} hwcap_bit_t;

/* Bit numbers from the kernel's arch/arm64/include/uapi/asm/hwcap.h. */
static const hwcap_bit_t bits[] = {
    {"fp", 1, 0},        {"asimd", 1, 1},     {"asimdhp", 1, 9},   {"asimdrdm", 1, 12},
    {"asimddp", 1, 20},  {"sve", 1, 22},      {"asimdfhm", 1, 23}, {"sve2", 2, 1},
    {"sveaes", 2, 2},    {"svebitperm", 2, 4}, {"svei8mm", 2, 9},  {"svef32mm", 2, 10},
    {"svef64mm", 2, 11}, {"svebf16", 2, 12},  {"i8mm", 2, 13},     {"bf16", 2, 14},
    {"sme", 2, 23},
};

/* Implementer codes of "CPU implementer" in /proc/cpuinfo. */
static const char *implementer(unsigned code) {
    switch (code) {
    case 0x41: return "ARM";
    case 0x42: return "Broadcom";
    case 0x43: return "Cavium";
    case 0x46: return "Fujitsu";
    case 0x48: return "HiSilicon";
    case 0x4e: return "NVIDIA";
    case 0x50: return "APM";
    case 0x51: return "Qualcomm";
    case 0x61: return "Apple";
    case 0xc0: return "Ampere";
    default: return NULL;
    }
}

int omni_hw_simd(const char **names, int cap, char *vendor, int vendor_cap) {
    unsigned long hw[3] = {0, getauxval(AT_HWCAP), getauxval(AT_HWCAP2)};
    int n = 0;
    for (size_t i = 0; i < sizeof bits / sizeof bits[0] && n < cap; i++)
        if (hw[bits[i].word] & (1ul << bits[i].bit))
            names[n++] = bits[i].name;
    char text[4096], hex[32];
    unsigned v = 0;
    /* "CPU implementer : 0x41" */
    if (vendor && omni_read_file("/proc/cpuinfo", text, sizeof text) > 0 &&
        omni_text_str(text, "CPU implementer", ':', hex, sizeof hex) == 0 &&
        sscanf(hex, "%x", &v) == 1 && implementer(v))
        snprintf(vendor, (size_t)vendor_cap, "%s", implementer(v));
    return n;
}
