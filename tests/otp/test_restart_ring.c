/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_restart_ring.c - the restart record (R61) on synthetic clocks: the
 * examples of the rule, and a bounded size however fast restarts come.
 */
#include "otp/restart_ring.h"
#include "test.h"

/* Test that intensity 2 / period 5 refuses the 3rd restart within 5 s (R61). */
TEST(restart_ring, R61_third_within_period_refused) {
  ep__restart_ring r;
  ep__restart_init(&r, 2, 5);
  ck_assert(ep__restart_add(&r, 100));
  ck_assert(ep__restart_add(&r, 102));
  ck_assert(!ep__restart_add(&r, 105));
  ep__restart_free(&r);
}

/* Test that restarts older than now - period are forgotten (R61). */
TEST(restart_ring, R61_old_restarts_forgotten) {
  ep__restart_ring r;
  ep__restart_init(&r, 2, 5);
  ck_assert(ep__restart_add(&r, 100));
  ck_assert(ep__restart_add(&r, 101));
  ck_assert(ep__restart_add(&r, 107));    /* 100 and 101 < 107 - 5 */
  ck_assert(ep__restart_add(&r, 108));
  ck_assert(!ep__restart_add(&r, 108));
  ep__restart_free(&r);
}

/* Test that intensity 0 refuses the first restart (R61). */
TEST(restart_ring, R61_intensity_zero) {
  ep__restart_ring r;
  ep__restart_init(&r, 0, 5);
  ck_assert(!ep__restart_add(&r, 1));
  ep__restart_free(&r);
}

/* Test that intensity 1 / period 1 never accumulates crashes 2 s apart (R61). */
TEST(restart_ring, R61_spaced_crashes_never_accumulate) {
  ep__restart_ring r;
  ep__restart_init(&r, 1, 1);
  for (int64_t t = 0; t < 2000; t += 2)
    ck_assert(ep__restart_add(&r, t));
  ep__restart_free(&r);
}

/* Test that a huge intensity keeps the ring at min(I, P) + 1 runs and the
 * count exact, with 10^6 restarts in a few seconds. */
TEST(restart_ring, R61_bounded_size_many_restarts) {
  ep__restart_ring r;
  ep__restart_init(&r, 2000010, 1);
  ck_assert_uint_eq(r.cap, 2);
  for (int i = 0; i < 1000000; i++)
    ck_assert(ep__restart_add(&r, 10 + i / 400000));
  ck_assert_uint_le(r.len, 2);
  ck_assert_uint_eq(r.total, 600000);      /* seconds 11 and 12 only: 10 < 12 - 1 */
  ep__restart_free(&r);
}
