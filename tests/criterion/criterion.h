/* SPDX-License-Identifier: Apache-2.0 */
/* Stands in front of the system header on purpose: see tests/test.h. */
#error "eproc tests use Check via tests/test.h, not Criterion (its runner cannot start under ThreadSanitizer). Write: #include \"test.h\", TEST(suite, name) { ck_assert_int_eq(a, b); ... }  -- see tests/README.md"
