/* stackswitch.c - runs a function on a caller-provided stack segment (x86-64
 * and aarch64; elsewhere the hook stays on the thread's own stack). */
#include "runtime/stackswitch.h"

#include <stdint.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define OMNI_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define OMNI_ASAN 1
#endif

#ifdef OMNI_ASAN
#include <sanitizer/common_interface_defs.h>
#endif

/* omni__switch_and_call(top, fn, arg): sets sp to top, calls fn(arg), puts
 * sp back and returns fn's result. The old stack pointer is kept in a
 * callee-saved register (rbp / x29 chain), so unwinders still find the caller. */
#if defined(__x86_64__)
const int omni_stack_switch_supported = 1;
__asm__(".text\n"
        ".p2align 4\n"
        ".type omni__switch_and_call,@function\n"
        "omni__switch_and_call:\n"
        ".cfi_startproc\n"
        "  pushq %rbp\n"
        ".cfi_def_cfa_offset 16\n"
        ".cfi_offset %rbp, -16\n"
        "  movq %rsp, %rbp\n"
        ".cfi_def_cfa_register %rbp\n"
        "  movq %rdi, %rsp\n"
        "  movq %rdx, %rdi\n"
        "  callq *%rsi\n"
        "  movq %rbp, %rsp\n"
        "  popq %rbp\n"
        ".cfi_def_cfa %rsp, 8\n"
        "  retq\n"
        ".cfi_endproc\n"
        ".size omni__switch_and_call, .-omni__switch_and_call\n");
#elif defined(__aarch64__)
const int omni_stack_switch_supported = 1;
__asm__(".text\n"
        ".p2align 4\n"
        ".type omni__switch_and_call,%function\n"
        "omni__switch_and_call:\n"
        ".cfi_startproc\n"
        "  stp x29, x30, [sp, #-16]!\n"
        ".cfi_def_cfa_offset 16\n"
        ".cfi_offset x29, -16\n"
        ".cfi_offset x30, -8\n"
        "  mov x29, sp\n"
        ".cfi_def_cfa_register x29\n"
        "  mov sp, x0\n"
        "  mov x0, x2\n"
        "  blr x1\n"
        "  mov sp, x29\n"
        "  ldp x29, x30, [sp], #16\n"
        ".cfi_def_cfa sp, 0\n"
        "  ret\n"
        ".cfi_endproc\n"
        ".size omni__switch_and_call, .-omni__switch_and_call\n");
#else
const int omni_stack_switch_supported = 0;
#endif

#if defined(__x86_64__) || defined(__aarch64__)
void *omni__switch_and_call(void *top, void *(*fn)(void *), void *arg);

/* What runs on the new stack: tells ASan about the switch, then calls. */
typedef struct {
    void *(*fn)(void *);
    void *arg;
#ifdef OMNI_ASAN
    void *fake_stack;       /* ASan's saved fake stack of the old stack */
    const void *old_bottom; /* the old stack, to switch back */
    size_t old_size;
#endif
} trampoline_t;

static void *trampoline(void *p) {
    trampoline_t *t = p;
#ifdef OMNI_ASAN
    __sanitizer_finish_switch_fiber(NULL, &t->old_bottom, &t->old_size);
#endif
    void *r = t->fn(t->arg);
#ifdef OMNI_ASAN
    __sanitizer_start_switch_fiber(NULL, t->old_bottom, t->old_size);
#endif
    return r;
}

void *omni_stack_call(void *base, size_t size, void *(*fn)(void *), void *arg) {
    trampoline_t t = {.fn = fn, .arg = arg};
    uintptr_t top = ((uintptr_t)base + size) & ~(uintptr_t)63;
#ifdef OMNI_ASAN
    __sanitizer_start_switch_fiber(&t.fake_stack, base, size);
#endif
    void *r = omni__switch_and_call((void *)top, trampoline, &t);
#ifdef OMNI_ASAN
    __sanitizer_finish_switch_fiber(t.fake_stack, NULL, NULL);
#endif
    return r;
}
#else
void *omni_stack_call(void *base, size_t size, void *(*fn)(void *), void *arg) {
    (void)base;
    (void)size;
    return fn(arg);
}
#endif
