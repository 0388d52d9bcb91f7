/* simd_x86.c - SIMD extensions on x86-64 from cpuid, kept only where the OS
 * saves the registers they need (XCR0), so that a listed extension can run. */
#include "hw/cpu.h"

#include <cpuid.h>
#include <stdio.h>
#include <string.h>

enum { REG_EAX, REG_EBX, REG_ECX, REG_EDX };

/* XCR0 state components an extension needs the OS to save. */
#define XS_AVX 0x6u        /* SSE + AVX (YMM) */
#define XS_AVX512 0xe6u    /* + opmask, ZMM_Hi256, Hi16_ZMM */
#define XS_AMX 0x60000u    /* XTILECFG + XTILEDATA */

typedef struct simd_bit {
    const char *name;       /* as /proc/cpuinfo spells it (sse3 is "pni" there) */
    unsigned leaf, sub;
    int reg, bit;
    unsigned xstate;        /* XCR0 bits needed; 0 for SSE-era features */
} simd_bit_t;

static const simd_bit_t bits[] = {
    {"sse", 1, 0, REG_EDX, 25, 0},
    {"sse2", 1, 0, REG_EDX, 26, 0},
    {"sse3", 1, 0, REG_ECX, 0, 0},
    {"ssse3", 1, 0, REG_ECX, 9, 0},
    {"sse4_1", 1, 0, REG_ECX, 19, 0},
    {"sse4_2", 1, 0, REG_ECX, 20, 0},
    {"avx", 1, 0, REG_ECX, 28, XS_AVX},
    {"fma", 1, 0, REG_ECX, 12, XS_AVX},
    {"f16c", 1, 0, REG_ECX, 29, XS_AVX},
    {"avx2", 7, 0, REG_EBX, 5, XS_AVX},
    {"avx_vnni", 7, 1, REG_EAX, 4, XS_AVX},
    {"avx512f", 7, 0, REG_EBX, 16, XS_AVX512},
    {"avx512dq", 7, 0, REG_EBX, 17, XS_AVX512},
    {"avx512ifma", 7, 0, REG_EBX, 21, XS_AVX512},
    {"avx512pf", 7, 0, REG_EBX, 26, XS_AVX512},
    {"avx512er", 7, 0, REG_EBX, 27, XS_AVX512},
    {"avx512cd", 7, 0, REG_EBX, 28, XS_AVX512},
    {"avx512bw", 7, 0, REG_EBX, 30, XS_AVX512},
    {"avx512vl", 7, 0, REG_EBX, 31, XS_AVX512},
    {"avx512vbmi", 7, 0, REG_ECX, 1, XS_AVX512},
    {"avx512_vbmi2", 7, 0, REG_ECX, 6, XS_AVX512},
    {"avx512_vnni", 7, 0, REG_ECX, 11, XS_AVX512},
    {"avx512_bitalg", 7, 0, REG_ECX, 12, XS_AVX512},
    {"avx512_vpopcntdq", 7, 0, REG_ECX, 14, XS_AVX512},
    {"avx512_4vnniw", 7, 0, REG_EDX, 2, XS_AVX512},
    {"avx512_4fmaps", 7, 0, REG_EDX, 3, XS_AVX512},
    {"avx512_vp2intersect", 7, 0, REG_EDX, 8, XS_AVX512},
    {"avx512_fp16", 7, 0, REG_EDX, 23, XS_AVX512},
    {"avx512_bf16", 7, 1, REG_EAX, 5, XS_AVX512},
    {"amx_bf16", 7, 0, REG_EDX, 22, XS_AMX},
    {"amx_tile", 7, 0, REG_EDX, 24, XS_AMX},
    {"amx_int8", 7, 0, REG_EDX, 25, XS_AMX},
};

static int leaf(unsigned max, unsigned l, unsigned sub, unsigned r[4]) {
    memset(r, 0, 4 * sizeof r[0]);
    if (l > max)
        return -1;
    __cpuid_count(l, sub, r[0], r[1], r[2], r[3]);
    return 0;
}

int omni_hw_simd(const char **names, int cap, char *vendor, int vendor_cap) {
    unsigned r0[4], r1[4], r7[4], r71[4];
    unsigned max = (unsigned)__get_cpuid_max(0, NULL);
    if (max == 0)
        return 0;
    leaf(max, 0, 0, r0);
    if (vendor && vendor_cap > 12) {
        memcpy(vendor, &r0[REG_EBX], 4);
        memcpy(vendor + 4, &r0[REG_EDX], 4);
        memcpy(vendor + 8, &r0[REG_ECX], 4);
        vendor[12] = 0;
    }
    leaf(max, 1, 0, r1);
    leaf(max, 7, 0, r7);
    /* Subleaf 1 of leaf 7 exists when subleaf 0 says so in EAX. */
    if (r7[REG_EAX] >= 1)
        leaf(max, 7, 1, r71);
    else
        memset(r71, 0, sizeof r71);
    unsigned xcr0 = 0;
    if (r1[REG_ECX] & (1u << 27)) { /* OSXSAVE: XGETBV is usable */
        unsigned lo, hi;
        __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        xcr0 = lo;
    }
    int n = 0;
    for (size_t i = 0; i < sizeof bits / sizeof bits[0] && n < cap; i++) {
        const simd_bit_t *b = &bits[i];
        const unsigned *r = b->leaf == 1 ? r1 : b->sub == 0 ? r7 : r71;
        if (!(r[b->reg] & (1u << b->bit)))
            continue;
        if ((xcr0 & b->xstate) != b->xstate)
            continue;
        names[n++] = b->name;
    }
    return n;
}
