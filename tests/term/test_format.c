/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_format.c - the format builder: each hole letter, holes wherever a
 * term may stand, appending into a builder, and every way a format or its
 * arguments can be bad (an error code, never a crash or a leak).
 */
#include "test.h"
#include <math.h>
#include <pthread.h>
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

/* Test that the seed's shape builds: a tag, an integer and a pid. */
TEST(format, tag_int_pid) {
  ep_pid self = {57, 0, EP_NODE_LOCAL, 0};
  CHECK_FMT("{compute,7,<0.57.0>}", "{compute, ~i, ~p}", 7, self);
}

/* Test that every numeric hole reads its C type: int, long, unsigned long
 * (big when past INT64_MAX), long long and double. */
TEST(format, numeric_holes) {
  CHECK_FMT("[-1,-2,3,-4,2.5]", "[~i, ~l, ~u, ~L, ~d]", -1, -2L, 3UL, -4LL, 2.5);
  CHECK_FMT("{9223372036854775807,-9223372036854775808}", "{~l, ~L}", (long)INT64_MAX, (long long)INT64_MIN);
  if (sizeof(unsigned long) == 8) CHECK_FMT("18446744073709551615", "~u", (unsigned long)UINT64_MAX);
  CHECK_FMT("-0.0", "~d", -0.0);
}

/* Test that the atom, string and binary holes build their terms. */
TEST(format, text_holes) {
  CHECK_FMT("{ok,'EXIT','hello world'}", "{~a, ~A, ~a}", "ok", (ep_atom)EP_A_EXIT, "hello world");
  CHECK_FMT("[\"abc\",[],\"é\"]", "[~s, ~s, ~s]", "abc", "", "\xc3\xa9");
  CHECK_FMT("{<<\"bin\">>,<<1,0,2>>,<<>>}", "{~b, ~B, ~B}", "bin", "\1\0\2", (size_t)3, (const void *)NULL, (size_t)0);
}

/* Test that the reference, term and function holes build their terms and
 * that ~t copies the term. */
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
 * a builder with headroom (bytes reserved in front of the term). */
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

/* Test that a format used again (replayed from the per-thread cache of
 * compiled formats) builds the same terms as its first use, for every kind
 * of literal, including those that never compile and overlong formats. */
TEST(format, repeated_formats_replay_identically) {
  static const char *const fmts[] = {
      "{tag, ~i, ~p}", "[a, 'b c', $d, -7, 2.5, \"str\", [], #{}, {} | ~a]", "#{k => ~i, ~a => [~s]}",
      "{<<1,2>>, <0.1.2>, 123456789012345678901234567890, ~i}",
      "[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30, ~i]",
      "{a_rather_long_atom_name_to_pass_the_cached_text_limit, another_long_atom_name_here, ~i, yet_more}"};
  ep_pid self = {57, 0, EP_NODE_LOCAL, 0};
  for (size_t f = 0; f < sizeof fmts / sizeof fmts[0]; f++) {
    char *first = NULL;
    for (int round = 0; round < 3; round++) {
      ep_term t = NULL;
      int r = f == 0 ? ep_format(&t, fmts[f], 7, self)
            : f == 1 ? ep_format(&t, fmts[f], "x")
            : f == 2 ? ep_format(&t, fmts[f], 1, "k2", "v")
            : ep_format(&t, fmts[f], 7);
      ck_assert_msg(r == 0, "%s: %s", fmts[f], ep_err_name(r));
      char *s = fmt_text(t);
      if (!first) first = s;
      else {
        ck_assert_str_eq(s, first);
        free(s);
      }
      ep_term_free(t);
    }
    free(first);
  }
}

/* Test that a cached format is checked against its text: the same buffer
 * holding a different format of the same length builds the new one. */
TEST(format, changed_text_at_same_address_not_replayed) {
  char fmt[32];
  strcpy(fmt, "{aaa, ~i}");
  CHECK_FMT("{aaa,1}", fmt, 1);
  CHECK_FMT("{aaa,2}", fmt, 2);
  strcpy(fmt, "{bbb, ~i}");
  CHECK_FMT("{bbb,3}", fmt, 3);
  strcpy(fmt, "[zz, ~i]");
  CHECK_FMT("[zz,4]", fmt, 4);
  strcpy(fmt, "[zz, ~s]");
  CHECK_FMT("[zz,\"x\"]", fmt, "x");
}

/* Test that bad arguments are caught on the replayed path too, and that
 * the error is sticky in the caller's builder there as well. */
TEST(format, replayed_format_bad_argument_eformat) {
  static const char *const fmt = "{put, ~a, ~i}";
  CHECK_FMT("{put,k,1}", fmt, "k", 1);
  CHECK_FMT_ERR(EP_EFORMAT, fmt, (const char *)NULL, 1);
  ep_build b;
  ep_b_init(&b);
  ck_assert_int_eq(ep_b_format(&b, fmt, (const char *)NULL, 2), EP_EFORMAT);
  ck_assert_int_eq(b.err, EP_EFORMAT);
  ep_b_free(&b);
  CHECK_FMT("{put,k,3}", fmt, "k", 3);
}

static void *format_worker(void *arg) {
  int id = (int)(intptr_t)arg;
  for (int i = 0; i < 2000; i++) {
    char name[32];
    snprintf(name, sizeof name, "w%d_atom_%d", id, i % 50);
    ep_term t = NULL;
    if (ep_format(&t, "{~a, ~i, [fresh_shared_atom | ~s]}", name, i, "x") != 0) return (void *)1;
    char *s = ep_print_alloc(t, EP_PRINT_ERLANG);
    ep_term u = NULL;
    bool same = s && ep_parse(&u, s) == 0 && ep_exact_equal(t, u);
    free(s);
    ep_term_free(t);
    ep_term_free(u);
    if (!same) return (void *)1;
  }
  return NULL;
}

/* Test that threads format, print and parse at once (sharing the atom
 * table, each with its own scratch builder, freed when the thread ends). */
TEST(format, concurrent_threads) {
  pthread_t th[4];
  for (intptr_t i = 0; i < 4; i++) ck_assert_int_eq(pthread_create(&th[i], NULL, format_worker, (void *)i), 0);
  for (int i = 0; i < 4; i++) {
    void *r;
    ck_assert_int_eq(pthread_join(th[i], &r), 0);
    ck_assert_ptr_null(r);
  }
}
