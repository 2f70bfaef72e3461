/* SPDX-License-Identifier: Apache-2.0 */
/*
 * switch_test.c - the context switch on its own (src/arch/<cpu>/switch.S
 * and ctx.c), without the runtime, so that it also runs for a CPU this
 * machine only emulates: tools/cross_test.sh builds it for AArch64 and runs
 * it under qemu-user. Two contexts switch back and forth; around every
 * switch each loads its own values into every callee-saved register and
 * checks them afterwards, and each keeps its own floating-point rounding
 * mode. A fresh context must start at its entry with its argument and an
 * ABI-aligned stack. Prints "switch: N passed, M failed" (tools/test.sh).
 */
#include <fenv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

#define ROUNDS 1000
#define NREGS 19                     /* the most callee-saved slots of any CPU here */

/* Read by the assembly below by name: not static, and kept. */
__attribute__((used)) void *sw_main_sp, *sw_co_sp;
__attribute__((used)) uint64_t sw_got[NREGS];

static int passed, failed;
static int co_arg_ok, co_aligned;

static void check(int ok, const char *what) {
  if (ok) passed++;
  else {
    failed++;
    fprintf(stderr, "switch: FAILED: %s\n", what);
  }
}

/* Loads base+i into callee-saved register i (integer, then floating
 * point), switches from *from to *to, and stores what the registers hold
 * afterwards into sw_got. CHECKED_REGS is how many it loads. */
#if defined(__aarch64__)
#define SWITCH_WITH_VALUES(base, from, to)                                              \
  __asm__ volatile(                                                                     \
      "ldr x9, %0\n\t"                                                                  \
      "stp x29, x30, [sp, #-16]!\n\t"                                                   \
      "add x19, x9, #0\n\t add x20, x9, #1\n\t add x21, x9, #2\n\t add x22, x9, #3\n\t" \
      "add x23, x9, #4\n\t add x24, x9, #5\n\t add x25, x9, #6\n\t add x26, x9, #7\n\t" \
      "add x27, x9, #8\n\t add x28, x9, #9\n\t add x29, x9, #10\n\t"                    \
      "add x10, x9, #11\n\t fmov d8, x10\n\t add x10, x9, #12\n\t fmov d9, x10\n\t"     \
      "add x10, x9, #13\n\t fmov d10, x10\n\t add x10, x9, #14\n\t fmov d11, x10\n\t"   \
      "add x10, x9, #15\n\t fmov d12, x10\n\t add x10, x9, #16\n\t fmov d13, x10\n\t"   \
      "add x10, x9, #17\n\t fmov d14, x10\n\t add x10, x9, #18\n\t fmov d15, x10\n\t"   \
      "adrp x9, " from "\n\t add x0, x9, :lo12:" from "\n\t"                          \
      "adrp x9, " to "\n\t ldr x1, [x9, :lo12:" to "]\n\t"                            \
      "bl ep__ctx_switch\n\t"                                                           \
      "adrp x9, sw_got\n\t add x9, x9, :lo12:sw_got\n\t"                                \
      "stp x19, x20, [x9, #0]\n\t stp x21, x22, [x9, #16]\n\t"                          \
      "stp x23, x24, [x9, #32]\n\t stp x25, x26, [x9, #48]\n\t"                         \
      "stp x27, x28, [x9, #64]\n\t str x29, [x9, #80]\n\t"                              \
      "fmov x10, d8\n\t str x10, [x9, #88]\n\t fmov x10, d9\n\t str x10, [x9, #96]\n\t" \
      "fmov x10, d10\n\t str x10, [x9, #104]\n\t fmov x10, d11\n\t str x10, [x9, #112]\n\t" \
      "fmov x10, d12\n\t str x10, [x9, #120]\n\t fmov x10, d13\n\t str x10, [x9, #128]\n\t" \
      "fmov x10, d14\n\t str x10, [x9, #136]\n\t fmov x10, d15\n\t str x10, [x9, #144]\n\t" \
      "ldp x29, x30, [sp], #16\n\t"                                                     \
      :                                                                                 \
      : "m"(base)                                                                       \
      : "x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12", \
        "x13", "x14", "x15", "x16", "x17", "x18", "x19", "x20", "x21", "x22", "x23",    \
        "x24", "x25", "x26", "x27", "x28", "x30", "v0", "v1", "v2", "v3", "v4", "v5",   \
        "v6", "v7", "v8", "v9", "v10", "v11", "v12", "v13", "v14", "v15", "v16", "v17", \
        "v18", "v19", "v20", "v21", "v22", "v23", "v24", "v25", "v26", "v27", "v28",    \
        "v29", "v30", "v31", "memory", "cc")
#define CHECKED_REGS 19
#elif defined(__x86_64__)
/* rbx r12-r15 and rbp; the stack is realigned for the call (the test is
 * built without the red zone, which the call would overwrite). */
#define SWITCH_WITH_VALUES(base, from, to)                                              \
  __asm__ volatile(                                                                     \
      "mov %0, %%rax\n\t push %%rbp\n\t"                                                \
      "mov %%rsp, %%rcx\n\t and $-16, %%rsp\n\t push %%rcx\n\t push %%rcx\n\t"          \
      "lea 0(%%rax), %%rbx\n\t lea 1(%%rax), %%r12\n\t lea 2(%%rax), %%r13\n\t"         \
      "lea 3(%%rax), %%r14\n\t lea 4(%%rax), %%r15\n\t lea 5(%%rax), %%rbp\n\t"         \
      "lea " from "(%%rip), %%rdi\n\t mov " to "(%%rip), %%rsi\n\t"                   \
      "call ep__ctx_switch\n\t"                                                         \
      "lea sw_got(%%rip), %%rax\n\t"                                                    \
      "mov %%rbx, 0(%%rax)\n\t mov %%r12, 8(%%rax)\n\t mov %%r13, 16(%%rax)\n\t"        \
      "mov %%r14, 24(%%rax)\n\t mov %%r15, 32(%%rax)\n\t mov %%rbp, 40(%%rax)\n\t"      \
      "pop %%rcx\n\t pop %%rcx\n\t mov %%rcx, %%rsp\n\t pop %%rbp\n\t"                  \
      :                                                                                 \
      : "m"(base)                                                                       \
      : "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12",      \
        "r13", "r14", "r15", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6",     \
        "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15",   \
        "memory", "cc")
#define CHECKED_REGS 6
#else
#error "switch_test: no register check for this CPU"
#endif

static int regs_hold(uint64_t base) {
  for (int i = 0; i < CHECKED_REGS; i++)
    if (sw_got[i] != base + (uint64_t)i) return 0;
  return 1;
}

static void co_entry(void *arg) {
  co_arg_ok = arg == (void *)&co_arg_ok;
  /* the ABI's entry state (x86-64: rsp = 8 mod 16, as after a call, so
   * the frame pointer pushed below it is 16-aligned; AArch64: sp and the
   * frame record always 16-aligned) */
  co_aligned = ((uintptr_t)__builtin_frame_address(0) & 15) == 0;
  fesetround(FE_UPWARD);
  for (int i = 0;; i++) {
    volatile uint64_t base = 0x5000000 + (uint64_t)i * 64;
    SWITCH_WITH_VALUES(base, "sw_co_sp", "sw_main_sp");
    check(regs_hold(base), "the other context's callee-saved registers, kept");
    check(fegetround() == FE_UPWARD, "the other context's rounding mode, kept");
  }
}

int main(void) {
  size_t size = 64 * 1024;
  char *stack = malloc(size);
  if (!stack) return 2;
  sw_co_sp = ep__ctx_init(stack + size, co_entry, &co_arg_ok);
  for (int i = 0; i < ROUNDS; i++) {
    volatile uint64_t base = 0x1000000 + (uint64_t)i * 64;
    SWITCH_WITH_VALUES(base, "sw_main_sp", "sw_co_sp");
    if (i == 0) {
      check(co_arg_ok, "a fresh context starts at its entry with its argument");
      check(co_aligned, "a fresh context starts on an ABI-aligned stack");
    }
    check(regs_hold(base), "callee-saved registers kept across a switch");
    check(fegetround() == FE_TONEAREST, "rounding mode kept across a switch");
  }
  free(stack);   /* the other context is left suspended on it: never resumed */
  printf("switch: %d passed, %d failed\n", passed, failed);
  return failed != 0;
}
