/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_ctx.c - the context switch: callee-saved state, including the
 * floating-point control words, belongs to each process.
 */
#include <fenv.h>

#include "core/core_test.h"

static void rounds_up(ep_term arg) {
  ep_pid top = arg_pid(arg);
  fesetround(FE_UPWARD);
  for (int i = 0; i < 100; i++) {
    ep_yield();
    ck_assert_int_eq(fegetround(), FE_UPWARD);   /* kept across switches */
  }
  ep_send(top, T("done"));
}

static void fp_body(void) {
  ep_smallterm s;
  ep_spawn(rounds_up, pid_arg(&s));
  ep_spawn(rounds_up, pid_arg(&s));
  for (int i = 0; i < 200; i++) {
    ep_yield();
    ck_assert_int_eq(fegetround(), FE_TONEAREST);   /* never leaks into others */
  }
  recv_any(EP_INFINITY);
  recv_any(EP_INFINITY);
  ck_assert_int_eq(fegetround(), FE_TONEAREST);
}

/* Test that a process's floating-point rounding mode is its own: kept across switches, never seen by others. */
TEST(ctx, fp_control_words_per_process) {
  ep_config cfg = {.threads = 1};
  ck_assert_int_eq(run_cfg(&cfg, fp_body), 0);
}

static long deep_sum(int n) {
  volatile long pad[16];
  for (int i = 0; i < 16; i++) pad[i] = n + i;
  if (n == 0) return pad[3];
  ep_yield();   /* switch out from deep in the stack */
  long r = deep_sum(n - 1);
  return r + pad[15] - pad[14];   /* locals survive the switches */
}

static void deep_body(void) {
  ck_assert_int_eq(deep_sum(50), 3 + 50);   /* ASan frames are large: stay well inside 64 KiB */
}

/* Test that locals and callee-saved registers survive switches from deep recursion. */
TEST(ctx, locals_survive_switches) {
  run_in_process(deep_body);
}
