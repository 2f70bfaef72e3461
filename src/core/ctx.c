/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctx.c - lays out the first frame of a fresh process stack so that the
 * first ep__ctx_switch into it "returns" into ep__ctx_start, which calls
 * entry(arg). The frame mirrors what src/arch/<cpu>/switch.S pops; one
 * #if ladder picks the CPU. Owns no state.
 */
#include <stdint.h>
#include <string.h>

#include "core/core.h"

void *ep__ctx_init(void *top, void (*entry)(void *), void *arg) {
  uintptr_t t = (uintptr_t)top & ~(uintptr_t)15;
#if defined(__x86_64__)
  /* ret slot A = t - 24 (A = 8 mod 16), so after `ret` rsp = t - 16 is
   * 16-aligned and the `call` in ep__ctx_start gives the entry the ABI's
   * rsp = 8 mod 16. Below A: rbp rbx r12 r13 r14 r15, then MXCSR and the
   * x87 control word in one 8-byte slot. */
  uint64_t *a = (uint64_t *)(t - 24);
  a[0] = (uint64_t)(uintptr_t)ep__ctx_start;
  a[1] = 0;                                   /* fake return address above */
  a[-1] = 0;                                  /* rbp: end of the frame chain */
  a[-2] = (uint64_t)(uintptr_t)entry;         /* rbx */
  a[-3] = (uint64_t)(uintptr_t)arg;           /* r12 */
  a[-4] = a[-5] = a[-6] = 0;                  /* r13 r14 r15 */
  uint32_t csr[2] = {0x1F80u, 0x037Fu};       /* default MXCSR, x87 control word */
  memcpy(&a[-7], csr, 8);
  return &a[-7];
#elif defined(__aarch64__)
  /* 176-byte frame: x19..x28, x29, x30, d8..d15, FPCR (see switch.S);
   * FPCR 0 is the default: round to nearest, no flush-to-zero. */
  uint64_t *f = (uint64_t *)(t - 176);
  memset(f, 0, 176);
  f[0] = (uint64_t)(uintptr_t)entry;          /* x19 */
  f[1] = (uint64_t)(uintptr_t)arg;            /* x20 */
  f[11] = (uint64_t)(uintptr_t)ep__ctx_start; /* x30 */
  return f;
#else
#error "eproc: no context switch for this CPU (src/arch/<cpu>/switch.S)"
#endif
}
