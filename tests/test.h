/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test.h - how eproc tests are written: Check (libcheck) underneath, with
 * tests registered where they are defined, as with Criterion.
 *
 *   TEST(links, R22_link_to_dead_pid_noproc) { ck_assert_int_eq(x, 1); }
 *   TEST_TIMEOUT(stress, million_processes, 120) { ... }
 *
 * Each test runs in its own forked child (a crash fails that test only) with
 * a timeout (default 60 s). Assertions are Check's own: ck_assert,
 * ck_assert_msg, ck_assert_int_eq/ne/lt/le/gt/ge, ck_assert_uint_*,
 * ck_assert_str_eq, ck_assert_ptr_null/nonnull/eq, ck_assert_mem_eq,
 * ck_assert_double_eq_tol. Why not Criterion: its runner cannot start under
 * ThreadSanitizer (Snaipe/Criterion#274), and the suite must run under TSan.
 * tests/main.c is the runner: `test_core [--list] [suite[:name-prefix]]...`.
 */
#ifndef EP_TEST_H
#define EP_TEST_H

#include <check.h>

void ep_test_register(const char *suite, const char *name, const TTest *test, int timeout_s);

#define TEST_TIMEOUT(suite, name, timeout_s)                                   \
  static void suite##__##name##_fn(int _i);                                    \
  static const TTest suite##__##name##_ttest = {#suite ":" #name,              \
      suite##__##name##_fn, __FILE__, __LINE__};                               \
  __attribute__((constructor)) static void suite##__##name##_reg(void) {       \
    ep_test_register(#suite, #name, &suite##__##name##_ttest, (timeout_s));   \
  }                                                                            \
  static void suite##__##name##_fn(int _i __attribute__((unused)))

#define TEST(suite, name) TEST_TIMEOUT(suite, name, 0)

#endif
