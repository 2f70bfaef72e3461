/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_format.c - the format builder: each hole letter, holes wherever a
 * term may stand, appending into a builder, and every way a format or its
 * arguments can be bad (an error code, never a crash or a leak).
 */
#include "test.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eproc/term.h"

/* The Erlang text of a format's result. */
static char *fmt_text(ep_term t) {
  char *s = ep_print_alloc(t, EP_PRINT_ERLANG);
  ck_assert_ptr_nonnull(s);
  return s;
}

#define CHECK_FMT(want, ...)                                                   \
  do {                                                                         \
    ep_term t_ = NULL;                                                         \
    int r_ = ep_format(&t_, __VA_ARGS__);                                      \
    ck_assert_msg(r_ == 0, "format failed: %s", ep_err_name(r_));             \
    char *s_ = fmt_text(t_);                                                   \
    ck_assert_str_eq(s_, want);                                                \
    free(s_);                                                                  \
    ep_term_free(t_);                                                          \
  } while (0)

#define CHECK_FMT_ERR(want, ...)                                               \
  do {                                                                         \
    ep_term t_ = NULL;                                                         \
    int r_ = ep_format(&t_, __VA_ARGS__);                                      \
    ck_assert_msg(r_ == (want), "format gave %s, want %s", ep_err_name(r_),   \
                  ep_err_name(want));                                          \
    ck_assert_ptr_null(t_);                                                    \
  } while (0)

/* Test the seed's shape: a tag, an integer and a pid. */
TEST(format, tag_int_pid) {
  ep_pid self = {57, 0, EP_NODE_LOCAL, 0};
  CHECK_FMT("{compute,7,<0.57.0>}", "{compute, ~i, ~p}", 7, self);
}

/* Test every numeric hole: int, long, unsigned long (big when past
 * INT64_MAX), long long and double. */
TEST(format, numeric_holes) {
  CHECK_FMT("[-1,-2,3,-4,2.5]", "[~i, ~l, ~u, ~L, ~d]", -1, -2L, 3UL, -4LL, 2.5);
  CHECK_FMT("{9223372036854775807,-9223372036854775808}", "{~l, ~L}", (long)INT64_MAX, (long long)INT64_MIN);
  if (sizeof(unsigned long) == 8) CHECK_FMT("18446744073709551615", "~u", (unsigned long)UINT64_MAX);
  CHECK_FMT("-0.0", "~d", -0.0);
}

/* Test the atom, string and binary holes. */
TEST(format, text_holes) {
  CHECK_FMT("{ok,'EXIT','hello world'}", "{~a, ~A, ~a}", "ok", (ep_atom)EP_A_EXIT, "hello world");
  CHECK_FMT("[\"abc\",[],\"é\"]", "[~s, ~s, ~s]", "abc", "", "\xc3\xa9");
  CHECK_FMT("{<<\"bin\">>,<<1,0,2>>,<<>>}", "{~b, ~B, ~B}", "bin", "\1\0\2", (size_t)3, (const void *)NULL, (size_t)0);
}

/* Test the reference, term and function holes; ~t copies the term. */
TEST(format, ref_term_fun_holes) {
  ep_ref r = {.len = 3, .w = {3, 2, 1}};
  ep_term inner = NULL;
  ck_assert_int_eq(ep_format(&inner, "[1, {two}]"), 0);
  ep_term t = NULL;
  ck_assert_int_eq(ep_format(&t, "{~r, ~t, ~F}", &r, inner, (ep_fn)abort, inner), 0);
  ep_term_free(inner);   /* the result holds copies */
  char *s = fmt_text(t);
  char want[128];
  snprintf(want, sizeof want, "{#Ref<0.1.2.3>,[1,{two}],#Fun<c.%p>}", (void *)(uintptr_t)abort);
  ck_assert_str_eq(s, want);
  ep_fn fn;
  ep_term arg;
  ck_assert_int_eq(ep_get_fun(ep_tuple_elem(t, 2), &fn, &arg), 0);
  ck_assert(fn == (ep_fn)abort);
  ck_assert_int_eq(ep_list_length(arg), 2);
  free(s);
  ep_term_free(t);
}

/* Test that a hole may stand wherever a term may: map keys and values,
 * list tails, nested containers, the whole term. */
TEST(format, holes_in_any_term_position) {
  CHECK_FMT("#{a => 1,k => [x|y]}", "#{~a => ~i, k => [x | ~a]}", "a", 1, "y");
  CHECK_FMT("42", "~i", 42);
  CHECK_FMT("[[[1]]]", " [ [ [ ~i ] ] ] .", 1);
  CHECK_FMT("{[],#{},<<\"lit\">>,\"str\",'q a',255}", "{[], #{}, <<\"lit\">>, \"str\", 'q a', 16#ff}");
}

/* Test that ep_b_format appends one term into an open container and into
 * a builder with headroom (the runtime's ep_send_fmt path). */
TEST(format, appends_into_builder_with_headroom) {
  ep_build b;
  ep_b_init_headroom(&b, 32);
  ep_b_tuple(&b);
  ck_assert_int_eq(ep_b_format(&b, "{a, ~i}", 1), 0);
  ck_assert_int_eq(ep_b_format(&b, "~s", "x"), 0);
  ep_b_end(&b);
  ep_term t = ep_b_peek(&b);
  ck_assert_ptr_nonnull(t);
  ck_assert_ptr_eq((const void *)t, (const void *)(b.buf + 32));
  char buf[64];
  ep_print(buf, sizeof buf, t, EP_PRINT_ERLANG);
  ck_assert_str_eq(buf, "{{a,1},\"x\"}");
  ep_b_free(&b);
}

/* Test that a bad format is EP_EFORMAT: unknown hole letters, unbalanced
 * or misplaced brackets, a hole inside a binary, a missing term. */
TEST(format, bad_format_eformat) {
  CHECK_FMT_ERR(EP_EFORMAT, "{~q}", 1);
  CHECK_FMT_ERR(EP_EFORMAT, "~", 1);
  CHECK_FMT_ERR(EP_EFORMAT, "{a, ~i", 1);
  CHECK_FMT_ERR(EP_EFORMAT, "{a, ~i]", 1);
  CHECK_FMT_ERR(EP_EFORMAT, "[~i}", 1);
  CHECK_FMT_ERR(EP_EFORMAT, "{a}}");
  CHECK_FMT_ERR(EP_EFORMAT, "");
  CHECK_FMT_ERR(EP_EFORMAT, "<<~i>>", 1);
  CHECK_FMT_ERR(EP_EFORMAT, "{~i ~i}", 1, 2);
  CHECK_FMT_ERR(EP_EFORMAT, "#{~i}", 1);
  CHECK_FMT_ERR(EP_EFORMAT, "~~");
  CHECK_FMT_ERR(EP_EFORMAT, NULL);
}

/* Test that bad arguments are errors, not crashes: NULL strings, refs,
 * terms and functions, an atom index that does not exist, a NaN. */
TEST(format, bad_arguments) {
  CHECK_FMT_ERR(EP_EFORMAT, "{~a}", (const char *)NULL);
  CHECK_FMT_ERR(EP_EFORMAT, "{~s}", (const char *)NULL);
  CHECK_FMT_ERR(EP_EFORMAT, "{~b}", (const char *)NULL);
  CHECK_FMT_ERR(EP_EFORMAT, "{~B}", (const void *)NULL, (size_t)4);
  CHECK_FMT_ERR(EP_EFORMAT, "{~r}", (const ep_ref *)NULL);
  CHECK_FMT_ERR(EP_EFORMAT, "{~t}", (ep_term)NULL);
  CHECK_FMT_ERR(EP_EFORMAT, "{~F}", (ep_fn)NULL, (ep_term)NULL);
  CHECK_FMT_ERR(EP_EFORMAT, "{~A}", (ep_atom)4000000000u);
  CHECK_FMT_ERR(EP_EFORMAT, "{~A}", (ep_atom)0);
  CHECK_FMT_ERR(EP_ERANGE, "{~d}", NAN);
  CHECK_FMT_ERR(EP_ERANGE, "{~d}", INFINITY);
  CHECK_FMT_ERR(EP_EUTF8, "{~s}", "\xff");
  CHECK_FMT_ERR(EP_EUTF8, "{~a}", "\xc0\x80");
  ep_ref bad = {.len = 9};
  CHECK_FMT_ERR(EP_EINVAL, "{~r}", &bad);
}

/* Test that a format error inside a caller's builder is sticky there and
 * the builder still frees cleanly. */
TEST(format, error_sticky_in_builder) {
  ep_build b;
  ep_b_init(&b);
  ep_b_list(&b);
  ck_assert_int_eq(ep_b_format(&b, "{~z}", 1), EP_EFORMAT);
  ck_assert_int_eq(ep_b_format(&b, "ok"), EP_EFORMAT);
  int err;
  ck_assert_ptr_null(ep_b_finish(&b, &err));
  ck_assert_int_eq(err, EP_EFORMAT);
  ep_b_free(&b);
  ck_assert_int_eq(ep_b_format(NULL, "ok"), EP_EINVAL);
  ck_assert_int_eq(ep_format(NULL, "ok"), EP_EINVAL);
}

static int vformat_wrapper(ep_term *out, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int r = ep_vformat(out, fmt, ap);
  va_end(ap);
  return r;
}

/* Test that the va_list entry point reads its arguments in order. */
TEST(format, vformat_reads_arguments_in_order) {
  ep_term t = NULL;
  ck_assert_int_eq(vformat_wrapper(&t, "{~i, ~a, ~d, ~s, ~L}", 1, "two", 3.0, "four", 5LL), 0);
  char *s = fmt_text(t);
  ck_assert_str_eq(s, "{1,two,3.0,\"four\",5}");
  free(s);
  ep_term_free(t);
}
