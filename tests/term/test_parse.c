/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_parse.c - Erlang term text to terms: every literal form, the error
 * paths (malformed, too deep, too long, hostile bytes), and the property
 * that printing and parsing again gives the same term.
 */
#include "test.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eproc/term.h"

static ep_term parse_ok(const char *text) {
  ep_term t = NULL;
  int r = ep_parse(&t, text);
  ck_assert_msg(r == 0, "parse of %s failed: %s", text, ep_err_name(r));
  return t;
}

/* t printed in Erlang syntax equals want. */
static void check_text(const char *text, const char *want) {
  ep_term t = parse_ok(text);
  char buf[256];
  ep_print(buf, sizeof buf, t, EP_PRINT_ERLANG);
  ck_assert_msg(strcmp(buf, want) == 0, "%s parsed as %s, want %s", text, buf, want);
  ep_term_free(t);
}

static int64_t int_of(const char *text) {
  ep_term t = parse_ok(text);
  int64_t v = 0;
  ck_assert_int_eq(ep_get_int(t, &v), 0);
  ep_term_free(t);
  return v;
}

static double float_of(const char *text) {
  ep_term t = parse_ok(text);
  double v = 0;
  ck_assert_int_eq(ep_get_float(t, &v), 0);
  ep_term_free(t);
  return v;
}

static void check_error(const char *text, int want) {
  ep_term t = NULL;
  int r = ep_parse(&t, text);
  ck_assert_msg(r == want, "parse of \"%.60s\" gave %s, want %s", text, ep_err_name(r), ep_err_name(want));
  ck_assert_ptr_null(t);
}

/* Test that atoms parse bare, quoted and with escapes, and name the right atom. */
TEST(parse, atoms) {
  ep_term t = parse_ok("ok");
  ck_assert(ep_is_atom(t, EP_A_ok));
  ep_term_free(t);
  t = parse_ok("'EXIT'");
  ck_assert(ep_is_atom(t, EP_A_EXIT));
  ep_term_free(t);
  t = parse_ok("'nonode@nohost'");
  ck_assert(ep_is_atom(t, EP_A_nonode_nohost));
  ep_term_free(t);
  t = parse_ok("'a\\nb\\x{43F}\\'\\\\'");
  ep_atom a;
  ck_assert_int_eq(ep_get_atom(t, &a), 0);
  ck_assert_str_eq(ep_atom_name(a, NULL), "a\nb\xd0\xbf'\\");
  ep_term_free(t);
  check_text("aB@c_1", "aB@c_1");
  check_text("ébc", "ébc");
  check_text("''", "''");
  check_text("'hello world'", "'hello world'");
  check_text("'ok'", "ok");
  check_text("'\\000'", "'\\000'");   /* U+0000 is a character like any other */
  check_text("'\\^A\\s\\101\\7'", "'\\001 A\\007'");
}

/* Test that integers parse in every notation, up to and past 64 bits. */
TEST(parse, integers) {
  ck_assert_int_eq(int_of("42"), 42);
  ck_assert_int_eq(int_of("-42"), -42);
  ck_assert_int_eq(int_of("+7"), 7);
  ck_assert_int_eq(int_of("- 5"), -5);
  ck_assert_int_eq(int_of("16#ff"), 255);
  ck_assert_int_eq(int_of("-16#FF"), -255);
  ck_assert_int_eq(int_of("2#1010"), 10);
  ck_assert_int_eq(int_of("36#zz"), 1295);
  ck_assert_int_eq(int_of("1_000_000"), 1000000);
  ck_assert_int_eq(int_of("$a"), 'a');
  ck_assert_int_eq(int_of("$\\n"), '\n');
  ck_assert_int_eq(int_of("$ "), ' ');
  ck_assert_int_eq(int_of("$\\\\"), '\\');
  ck_assert_int_eq(int_of("$\\x{1F600}"), 0x1F600);
  ck_assert_int_eq(int_of("$é"), 233);
  ck_assert_int_eq(int_of("-$a"), -97);
  ck_assert_int_eq(int_of("9223372036854775807"), INT64_MAX);
  ck_assert_int_eq(int_of("-9223372036854775808"), INT64_MIN);
  ck_assert_int_eq(int_of("007"), 7);
  check_text("9223372036854775808", "9223372036854775808");
  check_text("-9223372036854775809", "-9223372036854775809");
  check_text("18446744073709551616", "18446744073709551616");
  check_text("16#FFFFFFFFFFFFFFFFFFFF", "1208925819614629174706175");
  check_text("-36#ZZZZZZZZZZZZZZZZZZZZ", "-13367494538843734067838845976575");
  check_text("1_000_000_000_000_000_000_000", "1000000000000000000000");
  ep_term t = parse_ok("18446744073709551616");
  ck_assert_int_eq(ep_type_of(t), EP_TBIG);
  ep_term_free(t);
}

/* Test that floats parse exactly (correctly rounded), signs and exponents included. */
TEST(parse, floats) {
  ck_assert(float_of("1.5") == 1.5);
  ck_assert(float_of("0.1") == 0.1);
  ck_assert(float_of("1.0e10") == 1.0e10);
  ck_assert(float_of("1.0E-3") == 1.0e-3);
  ck_assert(float_of("2.5e+2") == 250.0);
  ck_assert(float_of("1_0.2_5") == 10.25);
  ck_assert(float_of("1.7976931348623157e308") == 1.7976931348623157e308);
  ck_assert(float_of("5.0e-324") == 5e-324);
  ck_assert(float_of("1.0e-400") == 0.0);
  ck_assert(float_of("0.30000000000000004") == 0.1 + 0.2);
  ck_assert(float_of("3.141592653589793238462643383279502884197") == 3.141592653589793);
  double z = float_of("-0.0");
  ck_assert(z == 0.0 && signbit(z));
  ck_assert(!signbit(float_of("0.0")));
  /* a thousand digits still round correctly */
  char text[1100] = "0.";
  memset(text + 2, '0', 1000);
  strcpy(text + 1002, "1e1000");
  ck_assert(float_of(text) == 0.1);
}

/* Test that strings are lists of code points (UTF-8 in, escapes decoded)
 * and that adjacent strings concatenate as in Erlang source. */
TEST(parse, strings) {
  ep_term t = parse_ok("\"\"");
  ck_assert_int_eq(ep_type_of(t), EP_TNIL);
  ep_term_free(t);
  t = parse_ok("\"a\\n\\t\\\"\\\\\\x{41}\\101\\^A\\s\\d\\e\"");
  static const int64_t want[] = {'a', '\n', '\t', '"', '\\', 'A', 'A', 1, ' ', 127, 27};
  ck_assert_int_eq(ep_list_length(t), 11);
  ep_term c = t;
  for (int i = 0; i < 11; i++, c = ep_list_tail(c)) {
    int64_t v;
    ck_assert_int_eq(ep_get_int(ep_list_head(c), &v), 0);
    ck_assert_int_eq(v, want[i]);
  }
  ep_term_free(t);
  check_text("\"é€\"", "[233,8364]");
  check_text("\"ab\" \"cd\"", "\"abcd\"");
  check_text("\"\" \"\"", "[]");
  check_text("\"a\nb\"", "\"a\\nb\"");
}

/* Test that binaries and bitstrings parse from every segment form. */
TEST(parse, binaries) {
  ep_term t = parse_ok("<<\"é\"/utf8, 1, $a, -1, 256, 16#102:16>>");
  ep_bin bin;
  ck_assert_int_eq(ep_get_binary(t, &bin), 0);
  ck_assert_uint_eq(bin.size, 8);
  ck_assert(memcmp(bin.data, "\xc3\xa9\x01" "a\xff\x00\x01\x02", 8) == 0);
  ep_term_free(t);
  check_text("<<>>", "<<>>");
  check_text("<< >>", "<<>>");
  check_text("<<\"bin\">>", "<<\"bin\">>");
  check_text("<<\"é\">>", "<<\"é\">>");
  check_text("<<1,2:3>>", "<<1,2:3>>");
  check_text("<<1:1>>", "<<1:1>>");
  check_text("<<1:0, 2>>", "<<2>>");
  check_text("<< 1 : 16 , 7 : 4 >>", "<<0,1,7:4>>");
  check_text("<<-1:12>>", "<<255,15:4>>");
  check_text("<<1024/utf8, $z/integer>>", "<<208,128,122>>");
  check_text("<<\"ab\"/utf8>>", "<<\"ab\">>");
  check_text("<<1:72>>", "<<0,0,0,0,0,0,0,0,1>>");
  check_text("<<1:3,-1:70>>", "<<63,255,255,255,255,255,255,255,255,1:1>>");   /* as erl 25 */
  check_text("<<5:3, 1:100>>", "<<160,0,0,0,0,0,0,0,0,0,0,0,1:7>>");
  check_text("<<-2:67>>", "<<255,255,255,255,255,255,255,255,6:3>>");
  check_text("<<-1:72>>", "<<\"ÿÿÿÿÿÿÿÿÿ\">>");
}

/* Test that tuples, lists (proper, improper, nested tails) and maps parse,
 * with duplicate map keys resolved as Erlang does: the last one wins. */
TEST(parse, containers) {
  check_text("{}", "{}");
  check_text("{a}", "{a}");
  check_text("{ a , { b , [ ] } }", "{a,{b,[]}}");
  check_text("[a|b]", "[a|b]");
  check_text("[1,2|[3]]", "[1,2,3]");
  check_text("[1|[2|[]]]", "[1,2]");
  check_text("#{}", "#{}");
  check_text("#{b => 1, a => 2}", "#{a => 2,b => 1}");
  check_text("#{a => 1, a => 2}", "#{a => 2}");
  check_text("#{1 => a, 1.0 => b}", "#{1 => a,1.0 => b}");
  check_text("#{#{} => [], {} => #{x => y}}", "#{{} => #{x => y},#{} => []}");
  ep_term t = parse_ok("#{a => 1, a => 2}");
  ck_assert_uint_eq(ep_map_size(t), 1);
  ep_term_free(t);
}

/* Test that pids, references and ports parse, reference words most
 * significant first as erl prints them. */
TEST(parse, pid_ref_port) {
  ep_term t = parse_ok("{<0.57.3>, #Ref<0.1.2.3>, #Port<0.5>, #Ref<0.9>}");
  ep_pid p;
  ck_assert_int_eq(ep_get_pid(ep_tuple_elem(t, 0), &p), 0);
  ck_assert(ep_pid_eq(p, (ep_pid){57, 3, EP_NODE_LOCAL, 0}));
  ep_ref r;
  ck_assert_int_eq(ep_get_ref(ep_tuple_elem(t, 1), &r), 0);
  ck_assert_uint_eq(r.len, 3);
  ck_assert_uint_eq(r.w[0], 3);
  ck_assert_uint_eq(r.w[2], 1);
  ck_assert_uint_eq(r.node, EP_NODE_LOCAL);
  ep_port port;
  ck_assert_int_eq(ep_get_port(ep_tuple_elem(t, 2), &port), 0);
  ck_assert_uint_eq(port.id, 5);
  ck_assert_int_eq(ep_get_ref(ep_tuple_elem(t, 3), &r), 0);
  ck_assert_uint_eq(r.len, 1);
  ep_term_free(t);
  check_text("#Ref<0.1.2.3.4.5>", "#Ref<0.1.2.3.4.5>");
  check_text("#Port<0.18446744073709551615>", "#Port<0.18446744073709551615>");
}

/* Test that whitespace and % comments may appear between any tokens and
 * that one final '.' is accepted, as erl_scan does. */
TEST(parse, whitespace_comments_and_final_dot) {
  check_text(" \t\n{ a , % a comment\n b } . \n", "{a,b}");
  check_text("ok.", "ok");
  check_text("1.", "1");
  check_text("% only a comment first\n[]", "[]");
}

/* Test that ep_b_parse appends one term into an open container and reads
 * exactly len bytes (the text need not be NUL-terminated). */
TEST(parse, appends_into_builder) {
  ep_build b;
  ep_b_init(&b);
  ep_b_tuple(&b);
  ck_assert_int_eq(ep_b_parse(&b, "abc-ignored", 3), 0);
  ck_assert_int_eq(ep_b_parse(&b, "[1, 2]xyz", 6), 0);
  ep_b_int(&b, 3);
  ep_b_end(&b);
  int err;
  ep_term t = ep_b_finish(&b, &err);
  ck_assert_ptr_nonnull(t);
  char buf[64];
  ep_print(buf, sizeof buf, t, EP_PRINT_ERLANG);
  ck_assert_str_eq(buf, "{abc,[1,2],3}");
  ep_term_free(t);
  ep_b_free(&b);
}

/* Test that malformed text of every kind is EP_EPARSE and returns nothing. */
TEST(parse, malformed_is_eparse) {
  static const char *const bad[] = {
      "", "   ", ".", "{", "}", "{a,}", "{,a}", "{a b}", "[1,]", "[1|2,3]", "[|1]", "[1|]", "[1|2|3]",
      "#{a}", "#{a => }", "#{a => 1,}", "#{a := 1}", "#", "#{", "'abc", "\"abc", "abc def", "Var",
      "_", "_x", "after", "{receive, 1}", "1..", "1.0e", "1.0e+", "1e5", ".5", "16#", "37#1", "1#0",
      "16#fg", "1__0", "1_", "$", "<<", "<<1,>>", "<<,>>", "<<\"ā\">>", "<<1.5>>", "<<a>>",
      "<<1:abc>>", "<<1/float>>", "<<1:8/utf8>>", "<<-1/utf8>>", "<0.1>", "<0.1.2", "<0.1.2.3>",
      "< 0.1.2>", "<0.-1.2>", "<0.4294967296.0>", "<4000000000.1.2>", "#Ref<>", "#Ref<0>",
      "#Ref<0.1.2.3.4.5.6>", "#Port<0>", "#Port<0.1.2>", "#Fun<c.0x1>", "#PID<0.1.2>",
      "'\\x{110000}'", "\"\\x{D800}\"", "\"\\x{}\"", "\"\\x4\"", "\"\\", "\xff", "\"\xc3\"",
      "'\xed\xa0\x80'", "{a} b", "1.0e400", "-1.0e400", "~i", "[1 2]", "- a", "--1", "+-1", "1 2",
      "{a}.b", "ok..", "%{}", ":a", "a.b", "ok ok"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) check_error(bad[i], EP_EPARSE);
}

/* Test that bytes the text may not contain are rejected: a NUL inside the
 * given length, invalid UTF-8 in atoms and strings. */
TEST(parse, hostile_bytes_rejected) {
  ep_build b;
  ep_b_init(&b);
  ck_assert_int_eq(ep_b_parse(&b, "a\0b", 3), EP_EPARSE);
  ck_assert_int_eq(b.err, EP_EPARSE);
  int err;
  ck_assert_ptr_null(ep_b_finish(&b, &err));
  ck_assert_int_eq(err, EP_EPARSE);
  ck_assert_int_eq(ep_b_parse(&b, "\"\0\"", 3), EP_EPARSE);
  ep_b_reset(&b);
  ck_assert_int_eq(ep_b_parse(&b, "'\xc0\x80'", 4), EP_EPARSE);
  ep_b_free(&b);
  check_error("\"\xf5\x80\x80\x80\"", EP_EPARSE);
  check_error("\"\xe2\x82\"", EP_EPARSE);
}

/* Test that the parse errors are sticky in the builder, as builder errors
 * are: later calls do nothing and ep_b_finish reports the first error. */
TEST(parse, error_is_sticky_in_builder) {
  ep_build b;
  ep_b_init(&b);
  ep_b_list(&b);
  ck_assert_int_eq(ep_b_parse(&b, "{a,", 3), EP_EPARSE);
  ck_assert_int_eq(ep_b_parse(&b, "ok", 2), EP_EPARSE);
  ep_b_end(&b);
  int err;
  ck_assert_ptr_null(ep_b_finish(&b, &err));
  ck_assert_int_eq(err, EP_EPARSE);
  ep_b_free(&b);
}

/* Test that NULL arguments are EP_EINVAL, not a crash. */
TEST(parse, null_arguments_einval) {
  ep_term t = NULL;
  ck_assert_int_eq(ep_parse(NULL, "ok"), EP_EINVAL);
  ck_assert_int_eq(ep_parse(&t, NULL), EP_EINVAL);
  ck_assert_int_eq(ep_b_parse(NULL, "ok", 2), EP_EINVAL);
  ep_build b;
  ep_b_init(&b);
  ck_assert_int_eq(ep_b_parse(&b, NULL, 0), EP_EINVAL);
  ep_b_free(&b);
}

static char *nested(int depth, char open, char close) {
  char *s = malloc(2 * (size_t)depth + 1);
  memset(s, open, (size_t)depth);
  memset(s + depth, close, (size_t)depth);
  s[2 * depth] = '\0';
  return s;
}

/* Test that nesting up to EP_MAX_DEPTH parses and one more level is
 * EP_EDEPTH, and that hostile depth (a million brackets) fails fast. */
TEST(parse, depth_limit_edepth) {
  char *s = nested(EP_MAX_DEPTH, '{', '}');
  ep_term t = parse_ok(s);
  ep_term_free(t);
  free(s);
  s = nested(EP_MAX_DEPTH + 1, '[', ']');   /* the innermost [] is not a container */
  t = parse_ok(s);
  ep_term_free(t);
  free(s);
  s = nested(EP_MAX_DEPTH + 1, '{', '}');
  check_error(s, EP_EDEPTH);
  free(s);
  s = nested(1000000, '[', ']');
  check_error(s, EP_EDEPTH);
  free(s);
  s = malloc(5 * 2000 + 1);
  for (int i = 0; i < 2000; i++) memcpy(s + 5 * i, "#{a=>", 5);
  s[10000] = '\0';
  check_error(s, EP_EDEPTH);
  free(s);
}

/* Test that a binary text may not ask for more than 16 MiB (a few bytes
 * of text must not allocate without bound) nor an integer have more than
 * 100000 digits (parsing it is quadratic): EP_ETOOBIG. */
TEST(parse, huge_binary_etoobig) {
  check_error("<<0:134217729>>", EP_ETOOBIG);
  check_error("<<0:67108864, 0:67108864, 1>>", EP_ETOOBIG);
  check_error("<<0:99999999999999999999>>", EP_ETOOBIG);
  char *digits = malloc(100002);
  memset(digits, '7', 100001);
  digits[100001] = '\0';
  check_error(digits, EP_ETOOBIG);   /* integer literals are bounded too */
  free(digits);
  ep_term t = parse_ok("<<-1:8000000>>");
  ep_bin bin;
  ck_assert_int_eq(ep_get_binary(t, &bin), 0);
  ck_assert_uint_eq(bin.size, 1000000);
  ck_assert(bin.data[0] == 0xFF && bin.data[999999] == 0xFF);
  ep_term_free(t);
}

/* Test that atoms longer than 255 characters are EP_EATOMLEN, bare or quoted. */
TEST(parse, long_atom_eatomlen) {
  char s[600];
  memset(s, 'a', 255);
  s[255] = '\0';
  ep_term t = parse_ok(s);
  ep_term_free(t);
  memset(s, 'a', 256);
  s[256] = '\0';
  check_error(s, EP_EATOMLEN);
  s[0] = '\'';
  memset(s + 1, 'b', 256);
  strcpy(s + 257, "'");
  check_error(s, EP_EATOMLEN);
  s[256] = '\'';
  s[257] = '\0';
  t = parse_ok(s);   /* 255 quoted characters */
  ep_term_free(t);
}

/* Test that a list of a million elements parses iteratively. */
TEST(parse, million_element_list) {
  size_t n = 1000000;
  char *s = malloc(2 * n + 2);
  s[0] = '[';
  for (size_t i = 0; i < n; i++) {
    s[1 + 2 * i] = (char)('0' + i % 10);
    s[2 + 2 * i] = ',';
  }
  s[2 * n] = ']';
  s[2 * n + 1] = '\0';
  ep_term t = parse_ok(s);
  ck_assert_int_eq(ep_list_length(t), (long)n);
  ep_term_free(t);
  free(s);
}

static uint64_t rng(uint64_t *x) {
  *x ^= *x << 13;
  *x ^= *x >> 7;
  *x ^= *x << 17;
  return *x;
}

static const char *const seeds[] = {
    "{result,16}", "[1,2.5,<<\"bin\">>,#{k => v}]", "{put,a,42}", "<0.57.0>", "#Ref<0.1.2.3>",
    "'quoted atom'", "\"string\\n\"", "16#ff", "$a", "[a|b]", "<<1,2:3>>", "<<\"é\"/utf8>>",
    "#{a => [1|2], {} => <<>>}", "-1.5e-10", "123456789012345678901234567890", "#Port<0.5>"};

/* Test that mutated and truncated texts never crash: each either parses
 * (and then prints to a text that parses back to the same term) or gives
 * a negative error code. */
TEST(parse, mutations_never_crash) {
  uint64_t x = 88172645463325252u;
  char buf[128];
  for (int i = 0; i < 50000; i++) {
    const char *seed = seeds[rng(&x) % (sizeof seeds / sizeof seeds[0])];
    size_t n = strlen(seed);
    memcpy(buf, seed, n);
    for (int k = (int)(rng(&x) % 4); k >= 0; k--) {
      size_t at = rng(&x) % n;
      switch (rng(&x) % 4) {
      case 0: buf[at] = (char)rng(&x); break;
      case 1: buf[at] = "{}[]<>#|,.'\"$\\:/=>-~ \n"[rng(&x) % 23]; break;
      case 2: n = at + 1; break;
      default: buf[at] = (char)('0' + rng(&x) % 10); break;
      }
    }
    ep_build b;
    ep_b_init(&b);
    int r = ep_b_parse(&b, buf, n);
    int err;
    ep_term t = ep_b_finish(&b, &err);
    ep_b_free(&b);
    ck_assert(r <= 0);
    if (r < 0) {
      ck_assert_ptr_null(t);
      continue;
    }
    ck_assert_ptr_nonnull(t);
    char *s = ep_print_alloc(t, EP_PRINT_ERLANG), *e = ep_print_alloc(t, EP_PRINT_ELIXIR);
    ep_term u = NULL;
    ck_assert_msg(ep_parse(&u, s) == 0 && ep_exact_equal(t, u), "%.*s printed as %s", (int)n, buf, s);
    free(s);
    free(e);
    ep_term_free(t);
    ep_term_free(u);
  }
}

/* A random term; `source` leaves out pids and references, which have no
 * Erlang source syntax, and makes code-point lists instead. */
static void gen(ep_build *b, uint64_t *x, int depth, bool source) {
  static const struct { const char *s; size_t n; } atoms[] = {
      {"ok", 2}, {"EXIT", 4}, {"hello world", 11}, {"", 0}, {"é", 2}, {"привет", 12}, {"a'b", 3},
      {"nil", 3}, {"a\0b", 3}, {"\x01\x7f", 2}, {"\xc2\x80", 2}, {"\\", 1}, {"Elixir.Foo", 10},
      {"after", 5}, {"ß@1", 4}, {"#{", 2}};
  switch (rng(x) % (depth > 4 ? 8 : 12)) {
  case 0: ep_b_int(b, (int64_t)rng(x) >> (rng(x) % 64)); break;
  case 1: {
    uint8_t mag[24];
    for (int i = 0; i < 24; i++) mag[i] = (uint8_t)rng(x);
    ep_b_big(b, rng(x) & 1, mag, 9 + rng(x) % 15);
    break;
  }
  case 2: {
    uint64_t v = rng(x);
    double d;
    memcpy(&d, &v, 8);
    ep_b_float(b, isfinite(d) ? d : 1.5);
    break;
  }
  case 3: {
    ep_atom a;
    size_t i = rng(x) % (sizeof atoms / sizeof atoms[0]);
    ck_assert_int_eq(ep_atom_from(atoms[i].s, atoms[i].n, &a), 0);
    ep_b_atom(b, a);
    break;
  }
  case 4: {
    uint8_t d[12];
    size_t n = rng(x) % 12;
    for (size_t i = 0; i < n; i++) d[i] = rng(x) & 1 ? (uint8_t)('a' + rng(x) % 26) : (uint8_t)rng(x);
    if (rng(x) % 3 == 0 && n > 0) ep_b_bits(b, d, n, 1 + rng(x) % 7);
    else ep_b_binary(b, d, n);
    break;
  }
  case 5:
    if (!source) {
      ep_b_pid(b, (ep_pid){(uint32_t)rng(x), (uint32_t)rng(x) % 8, EP_NODE_LOCAL, 0});
      break;
    }
    /* fall through */
  case 6:
    if (source) {
      static const int64_t cps[] = {'a', 'z', ' ', '\n', '"', '\\', 27, 127, 7, 0, 160, 233, 255, 256, 1087, -1};
      ep_b_list(b);
      for (size_t i = rng(x) % 6; i > 0; i--) ep_b_int(b, cps[rng(x) % (rng(x) & 1 ? 4 : 16)]);
      ep_b_end(b);
      break;
    } else {
      ep_ref r = {.len = 1 + rng(x) % 5};
      for (int i = 0; i < 5; i++) r.w[i] = (uint32_t)rng(x);
      ep_b_ref(b, &r);
      break;
    }
  case 7: ep_b_string(b, rng(x) & 1 ? "abc\n" : "\xc3\xa9t\xc3\xa9"); break;
  case 8: {
    size_t n = rng(x) % 4;
    ep_b_tuple(b);
    for (size_t i = 0; i < n; i++) gen(b, x, depth + 1, source);
    ep_b_end(b);
    break;
  }
  case 9: {
    size_t n = rng(x) % 4;
    bool tail = n >= 1 && rng(x) % 3 == 0;
    ep_b_list(b);
    for (size_t i = 0; i < n + tail; i++) gen(b, x, depth + 1, source);
    if (tail) ep_b_end_tail(b);
    else ep_b_end(b);
    break;
  }
  case 10: {
    size_t n = rng(x) % 4;
    ep_b_map(b);
    for (size_t i = 0; i < 2 * n; i++) gen(b, x, depth + 1, source);
    ep_b_end(b);
    break;
  }
  default: ep_b_nil(b); break;
  }
}

/* Test that random terms of every type round-trip: print, parse, and the
 * result is =:= the original and prints identically. */
TEST(parse, random_terms_round_trip) {
  uint64_t x = 0x2545F4914F6CDD1Du;
  for (int i = 0; i < 5000; i++) {
    ep_build b;
    ep_b_init(&b);
    gen(&b, &x, 0, false);
    int err;
    ep_term t = ep_b_finish(&b, &err);
    ep_b_free(&b);
    ck_assert_msg(t != NULL, "generator failed: %s", ep_err_name(err));
    char *s = ep_print_alloc(t, EP_PRINT_ERLANG);
    ep_term u = NULL;
    int r = ep_parse(&u, s);
    ck_assert_msg(r == 0, "%s does not parse: %s", s, ep_err_name(r));
    ck_assert_msg(ep_exact_equal(t, u), "%s parsed to a different term", s);
    char *s2 = ep_print_alloc(u, EP_PRINT_ERLANG);
    ck_assert_str_eq(s, s2);
    free(s);
    free(s2);
    ep_term_free(t);
    ep_term_free(u);
  }
}

/* Test that erl 25 itself agrees (skipped when erl is not installed): erl
 * reads the Erlang text of random terms as source and prints each with ~tp
 * exactly as ep_print does. */
TEST_TIMEOUT(parse, random_terms_agree_with_erl, 300) {
  if (system("command -v erl >/dev/null 2>&1") != 0) return;
  enum { N = 3000 };
  char in[] = "/tmp/ep_text_in_XXXXXX", out[] = "/tmp/ep_text_out_XXXXXX";
  int fdi = mkstemp(in), fdo = mkstemp(out);
  ck_assert(fdi >= 0 && fdo >= 0);
  close(fdo);
  FILE *f = fdopen(fdi, "w");
  char **want = malloc(N * sizeof *want);
  uint64_t x = 0x9E3779B97F4A7C15u;
  for (int i = 0; i < N; i++) {
    ep_build b;
    ep_b_init(&b);
    gen(&b, &x, 0, true);
    int err;
    ep_term t = ep_b_finish(&b, &err);
    ep_b_free(&b);
    ck_assert_ptr_nonnull(t);
    want[i] = ep_print_alloc(t, EP_PRINT_ERLANG);
    ck_assert(strchr(want[i], '\n') == NULL);
    fprintf(f, "%s\n", want[i]);
    ep_term_free(t);
  }
  fclose(f);
  char cmd[1024];
  snprintf(cmd, sizeof cmd,
           "erl -noshell -eval '{ok, B} = file:read_file(\"%s\"),"
           " {ok, F} = file:open(\"%s\", [write, {encoding, unicode}]),"
           " [begin {ok, T, _} = erl_scan:string(L ++ \".\"), {ok, [E]} = erl_parse:parse_exprs(T),"
           " {value, V, _} = erl_eval:expr(E, []), io:format(F, \"~ts~n\", [io_lib:format(\"~9999999tp\", [V])]) end"
           " || L <- string:split(unicode:characters_to_list(B), \"\\n\", all), L =/= []],"
           " file:close(F), halt().' >/dev/null 2>&1",
           in, out);
  ck_assert_int_eq(system(cmd), 0);
  f = fopen(out, "r");
  ck_assert_ptr_nonnull(f);
  char line[8192];
  for (int i = 0; i < N; i++) {
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    line[strcspn(line, "\n")] = '\0';
    ck_assert_msg(strcmp(line, want[i]) == 0, "erl printed %s, we print %s", line, want[i]);
    free(want[i]);
  }
  fclose(f);
  free(want);
  unlink(in);
  unlink(out);
}
