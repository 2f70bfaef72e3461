/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_print.c - terms as text: Erlang (~tp, checked against erl 25's own
 * output) and Elixir (inspect, 1.14 conventions).
 */
#include "test.h"
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eproc/term.h"

static ep_term parse_ok(const char *text) {
  ep_term t = NULL;
  int r = ep_parse(&t, text);
  ck_assert_msg(r == 0, "parse of %s failed: %s", text, ep_err_name(r));
  return t;
}

static void check_print(const char *text, const char *want, int flags) {
  ep_term t = parse_ok(text);
  char *s = ep_print_alloc(t, flags);
  ck_assert_ptr_nonnull(s);
  ck_assert_msg(strcmp(s, want) == 0, "%s printed as %s, want %s", text, s, want);
  char buf[512];
  size_t n = ep_print(buf, sizeof buf, t, flags);
  ck_assert_uint_eq(n, strlen(want));
  ck_assert_str_eq(buf, want);
  free(s);
  ep_term_free(t);
}

static ep_term finish(ep_build *b) {
  int err = 0;
  ep_term t = ep_b_finish(b, &err);
  ck_assert_msg(t != NULL, "build failed: %s", ep_err_name(err));
  ep_b_free(b);
  return t;
}

static char *print_new(ep_term t, int flags) {
  char *s = ep_print_alloc(t, flags);
  ck_assert_ptr_nonnull(s);
  return s;
}

/* Input in Erlang syntax, then what erl 25 prints for it with
 * io_lib:format("~9999999tp") (NULL: the input itself). */
static const struct { const char *in, *erl; } erl_table[] = {
    {"{result,16}", NULL},
    {"[1,2,3]", NULL},
    {"\"abc\"", NULL},
    {"[]", NULL},
    {"<<\"bin\">>", NULL},
    {"<<1,2,3>>", NULL},
    {"<<1,2:3>>", NULL},
    {"<<\"abc\",1:3>>",
     "<<97,98,99,1:3>>"},
    {"#{b => 1, a => 2, 1 => x, 1.0 => y}",
     "#{1 => x,1.0 => y,a => 2,b => 1}"},
    {"#{a => 1, a => 2}",
     "#{a => 2}"},
    {"#{1.5 => a, 2 => b, -100 => c, -1.0e300 => d, 100000000000000000000 => e}",
     "#{-100 => c,2 => b,100000000000000000000 => e,-1.0e300 => d,1.5 => a}"},
    {"'EXIT'", NULL},
    {"'hello world'", NULL},
    {"''", NULL},
    {"'Ab'", NULL},
    {"aB@c_1", NULL},
    {"'a-b'", NULL},
    {"'é'",
     "é"},
    {"ébc", NULL},
    {"'привет'", NULL},
    {"'a\\nb'", NULL},
    {"'it\\'s'", NULL},
    {"'a\\\\b'", NULL},
    {"'\\x{7f}'",
     "'\\d'"},
    {"'\\200'", NULL},
    {"'after'", NULL},
    {"{'receive', 'when', maybe, else}",
     "{'receive','when',maybe,else}"},
    {"123456789012345678901234567890", NULL},
    {"-123456789012345678901234567890", NULL},
    {"18446744073709551616", NULL},
    {"-9223372036854775808", NULL},
    {"9223372036854775807", NULL},
    {"9223372036854775808", NULL},
    {"-9223372036854775809", NULL},
    {"16#ff",
     "255"},
    {"-16#FF",
     "-255"},
    {"2#1010",
     "10"},
    {"36#zz",
     "1295"},
    {"1_000_000",
     "1000000"},
    {"$a",
     "97"},
    {"$\\n",
     "10"},
    {"-$a",
     "-97"},
    {"$\\x{1F600}",
     "128512"},
    {"[1|2]", NULL},
    {"[a,b|c]", NULL},
    {"[1,2|[3]]",
     "[1,2,3]"},
    {"\"a\\nb\\\"c\\\\\"", NULL},
    {"[233,98]",
     "\"éb\""},
    {"[1000,98]", NULL},
    {"<<233,98>>",
     "<<\"éb\">>"},
    {"<<\"héllo\"/utf8>>", NULL},
    {"<<\"a\\nb\">>", NULL},
    {"<<0,97>>", NULL},
    {"[127]", NULL},
    {"[7]", NULL},
    {"[27]",
     "\"\\e\""},
    {"[200]",
     "\"È\""},
    {"[$a|b]",
     "[97|b]"},
    {"<<>>", NULL},
    {"{}", NULL},
    {"#{}", NULL},
    {"[[]]", NULL},
    {"\"é\"", NULL},
    {"<<\"é\"/utf8,255>>",
     "<<\"Ã©ÿ\">>"},
    {"<<\"привет\"/utf8>>",
     "<<208,191,209,128,208,184,208,178,208,181,209,130>>"},
    {"\"привет\"",
     "[1087,1088,1080,1074,1077,1090]"},
    {"<<\"a\\x{0}b\"/utf8>>",
     "<<97,0,98>>"},
    {"<<\"\\e\">>", NULL},
    {"<<127>>", NULL},
    {"[160]",
     "\" \""},
    {"[159]", NULL},
    {"<<159>>", NULL},
    {"<<160>>",
     "<<\" \">>"},
    {"<<\"a\\tb\\vc\\bd\\fe\\re\">>", NULL},
    {"[8,9,10,11,12,13,27]",
     "\"\\b\\t\\n\\v\\f\\r\\e\""},
    {"\"abc\" \"def\"",
     "\"abcdef\""},
    {"<<-1>>",
     "<<\"ÿ\">>"},
    {"<<1:1>>", NULL},
    {"<<255,1:7>>", NULL},
    {"<<1:16>>",
     "<<0,1>>"},
    {"<<300:16, 7:4>>",
     "<<1,44,7:4>>"},
    {"<<16#1234:12>>",
     "<<35,4:4>>"},
    {"<<\"abc\"/utf8>>",
     "<<\"abc\">>"},
    {"<<1024/utf8>>",
     "<<208,128>>"},
    {"{[],<<>>,\"\"}",
     "{[],<<>>,[]}"},
    {"[$a,$b|<<\"c\">>]",
     "[97,98|<<\"c\">>]"},
    {"#{#{a => 1} => [1|2]}", NULL},
    {"#{\"k\" => v, [1] => {}, <<\"b\">> => 1.5}",
     "#{[1] => {},\"k\" => v,<<\"b\">> => 1.5}"},
    {"{1.5, -0.0, 1.0e308, 0.1, 5.0e-324}",
     "{1.5,-0.0,1.0e308,0.1,5.0e-324}"},
    {"[-1, -2.5]",
     "[-1,-2.5]"},
    {"{a, {b, {c, {d, []}}}}",
     "{a,{b,{c,{d,[]}}}}"},
    {"[{a,1},{b,2}]", NULL},
    {"[{'Elixir.Foo',1}]", NULL},
    {"{nil, true, false, 'Elixir.Foo', 'Elixir.Foo.Bar', 'Elixir', 'Elixir.foo', 'Foo', '::', '+', 'foo?', 'foo!', 'foo@bar', 'a b', '%{}', '..', '//', '1a', '_a', '_'}",
     "{nil,true,false,'Elixir.Foo','Elixir.Foo.Bar','Elixir','Elixir.foo','Foo','::','+','foo?','foo!',foo@bar,'a b','%{}','..','//','1a','_a','_'}"},
    {"#{a => 1, 'b c' => 2}",
     "#{a => 1,'b c' => 2}"},
    {"#{a => 1, 1 => 2}",
     "#{1 => 2,a => 1}"},
    {"\"#{x}\"", NULL},
    {"<<\"#{x}\">>", NULL},
    {"<<\"a\\\"b\">>", NULL},
    {"'a\"b'", NULL},
    {"\"a'b\"", NULL},
    {"[10]",
     "\"\\n\""},
    {"<<\"\\x{FEFF}\"/utf8>>",
     "<<239,187,191>>"},
    {"<<\"\\x{85}\"/utf8>>",
     "<<194,133>>"},
    {"<<7>>", NULL},
    {"[7,8]", NULL},
};

/* Test that Erlang output is byte for byte what erl 25 prints with ~tp for
 * atoms, numbers, strings, binaries, bitstrings, lists, tuples and maps. */
TEST(print, erlang_matches_erl25) {
  for (size_t i = 0; i < sizeof erl_table / sizeof erl_table[0]; i++)
    check_print(erl_table[i].in, erl_table[i].erl ? erl_table[i].erl : erl_table[i].in, EP_PRINT_ERLANG);
}

/* Test that Erlang output parses back to the same term (=:=) and prints
 * again identically: the printed form is canonical. */
TEST(print, erlang_output_reparses_to_same_term) {
  for (size_t i = 0; i < sizeof erl_table / sizeof erl_table[0]; i++) {
    ep_term t = parse_ok(erl_table[i].in);
    char *s = print_new(t, EP_PRINT_ERLANG);
    ep_term u = parse_ok(s);
    ck_assert_msg(ep_exact_equal(t, u), "%s reparsed differently", s);
    char *s2 = print_new(u, EP_PRINT_ERLANG);
    ck_assert_str_eq(s, s2);
    free(s);
    free(s2);
    ep_term_free(t);
    ep_term_free(u);
  }
}

/* Elixir inspect/1 (1.14, no :limit): keyword lists and atom-keyed maps use
 * key: syntax, charlists print as 'abc', printable binaries as strings. */
static const struct { const char *in, *ex; } ex_table[] = {
    {"{result,16}", "{:result, 16}"},
    {"[1,2,3]", "[1, 2, 3]"},
    {"\"abc\"", "'abc'"},
    {"[]", "[]"},
    {"<<\"bin\">>", "\"bin\""},
    {"<<>>", "\"\""},
    {"<<1,2,3>>", "<<1, 2, 3>>"},
    {"<<1,2:3>>", "<<1, 2::size(3)>>"},
    {"<<1:1>>", "<<1::size(1)>>"},
    {"#{b => 1, a => 2}", "%{a: 2, b: 1}"},
    {"#{a => 1, 1 => 2}", "%{1 => 2, :a => 1}"},
    {"#{a => 1, 'b c' => 2}", "%{a: 1, \"b c\": 2}"},
    {"#{\"k\" => v, [1] => {}}", "%{[1] => {}, 'k' => :v}"},
    {"#{#{a => 1} => [1|2]}", "%{%{a: 1} => [1 | 2]}"},
    {"#{}", "%{}"},
    {"{}", "{}"},
    {"[{a,1},{b,2}]", "[a: 1, b: 2]"},
    {"[{a,1}|x]", "[{:a, 1} | :x]"},
    {"[{'Elixir.Foo',1}]", "[{Foo, 1}]"},
    {"[{'b c',1}]", "[\"b c\": 1]"},
    {"{nil, true, false, ok, 'EXIT', 'Elixir.Foo', 'Elixir.Foo.Bar', 'Elixir'}",
     "{nil, true, false, :ok, :EXIT, Foo, Foo.Bar, Elixir}"},
    {"{'Elixir.foo', 'Foo', '::', '+', '<>', 'foo?', 'foo!', 'foo@bar', '%{}', '..', '//'}",
     "{:\"Elixir.foo\", :Foo, :\"::\", :+, :<>, :foo?, :foo!, :foo@bar, :%{}, :.., :\"//\"}"},
    {"{'a b', '1a', '_a', '', 'é', 'привет', 'a\\nb', 'a\"b'}",
     "{:\"a b\", :\"1a\", :_a, :\"\", :é, :\"привет\", :\"a\\nb\", :\"a\\\"b\"}"},
    {"[a,b|c]", "[:a, :b | :c]"},
    {"\"a\\nb\\\"c\\\\\"", "'a\\nb\"c\\\\'"},
    {"\"a'b\"", "'a\\'b'"},
    {"[7,8,127,27]", "'\\a\\b\\d\\e'"},
    {"\"é\"", "[233]"},
    {"[1000,98]", "[1000, 98]"},
    {"<<\"héllo\"/utf8>>", "\"héllo\""},
    {"<<\"привет\"/utf8>>", "\"привет\""},
    {"<<233,98>>", "<<233, 98>>"},
    {"<<0,97>>", "<<0, 97>>"},
    {"<<\"\\x{FEFF}\"/utf8>>", "\"\\uFEFF\""},
    {"<<\"\\x{85}\"/utf8>>", "<<194, 133>>"},
    {"<<\"a\\tb\\e\\d\">>", "\"a\\tb\\e\\d\""},
    {"\"#{x}\"", "'\\#{x}'"},
    {"<<\"#{x}\">>", "\"\\#{x}\""},
    {"<<\"a\\\"b\">>", "\"a\\\"b\""},
    {"{1.5, -0.0, 1.0e308, 0.1, 1.0e3, 100.0}", "{1.5, -0.0, 1.0e308, 0.1, 1.0e3, 100.0}"},
    {"{123456789012345678901234567890, -16#ff}", "{123456789012345678901234567890, -255}"},
    {"{<0.57.0>, #Ref<0.1.2.3>, #Port<0.5>}", "{#PID<0.57.0>, #Reference<0.1.2.3>, #Port<0.5>}"},
};

/* Test that Elixir output follows inspect/1 of Elixir 1.14. */
TEST(print, elixir_matches_inspect_114) {
  for (size_t i = 0; i < sizeof ex_table / sizeof ex_table[0]; i++)
    check_print(ex_table[i].in, ex_table[i].ex, EP_PRINT_ELIXIR);
}

/* Test that pids, references and ports print as erl does (<0.57.0>,
 * #Ref<0.w2.w1.w0> most significant word first, #Port<0.5>). */
TEST(print, local_pid_ref_port) {
  ep_build b;
  ep_ref r = {.node = EP_NODE_LOCAL, .len = 3, .w = {120226, 2837446658u, 3817331607u}};
  ep_port port = {.node = EP_NODE_LOCAL, .id = 5};
  ep_b_init(&b);
  ep_b_tuple(&b);
  ep_b_pid(&b, (ep_pid){57, 0, EP_NODE_LOCAL, 0});
  ep_b_ref(&b, &r);
  ep_b_port(&b, &port);
  ep_b_end(&b);
  ep_term t = finish(&b);
  char *e = print_new(t, EP_PRINT_ERLANG), *x = print_new(t, EP_PRINT_ELIXIR);
  ck_assert_str_eq(e, "{<0.57.0>,#Ref<0.3817331607.2837446658.120226>,#Port<0.5>}");
  ck_assert_str_eq(x, "{#PID<0.57.0>, #Reference<0.3817331607.2837446658.120226>, #Port<0.5>}");
  free(e);
  free(x);
  ep_term_free(t);
}

/* Test that another node's pid, reference and port print that node's atom
 * index as the node number, and parse back to the same node. */
TEST(print, remote_node_number_is_node_atom) {
  ep_atom node = ep_atom_of("other@host");
  ep_build b;
  ep_ref r = {.node = node, .len = 2, .w = {7, 8}};
  ep_port port = {.node = node, .id = 9};
  ep_b_init(&b);
  ep_b_tuple(&b);
  ep_b_pid(&b, (ep_pid){57, 2, node, 0});
  ep_b_ref(&b, &r);
  ep_b_port(&b, &port);
  ep_b_end(&b);
  ep_term t = finish(&b);
  char want[128];
  snprintf(want, sizeof want, "{<%u.57.2>,#Ref<%u.8.7>,#Port<%u.9>}", node, node, node);
  char *s = print_new(t, EP_PRINT_ERLANG);
  ck_assert_str_eq(s, want);
  ep_term u = parse_ok(s);
  ck_assert(ep_exact_equal(t, u));
  free(s);
  ep_term_free(t);
  ep_term_free(u);
}

static void some_fn(void) {}

/* Test that a local function term prints as #Fun<c.0xADDRESS> (Elixir:
 * #Function<c.0xADDRESS>) and that the text does not parse back. */
TEST(print, local_fun) {
  ep_build b;
  ep_b_init(&b);
  ep_b_fun(&b, some_fn);
  ep_b_atom_name(&b, "arg");
  ep_term t = finish(&b);
  char want[64], *s = print_new(t, EP_PRINT_ERLANG), *x = print_new(t, EP_PRINT_ELIXIR);
  snprintf(want, sizeof want, "#Fun<c.0x%" PRIxPTR ">", (uintptr_t)some_fn);
  ck_assert_str_eq(s, want);
  snprintf(want, sizeof want, "#Function<c.0x%" PRIxPTR ">", (uintptr_t)some_fn);
  ck_assert_str_eq(x, want);
  ep_term u = NULL;
  ck_assert_int_eq(ep_parse(&u, s), EP_EPARSE);
  free(s);
  free(x);
  ep_term_free(t);
}

static void check_float(double d, const char *want) {
  ep_build b;
  ep_b_init(&b);
  ep_b_float(&b, d);
  ep_term t = finish(&b);
  char buf[64];
  ep_print(buf, sizeof buf, t, EP_PRINT_ERLANG);
  ck_assert_msg(strcmp(buf, want) == 0, "%.17g printed as %s, want %s", d, buf, want);
  ep_term_free(t);
}

/* Test that floats print as erl 25 prints them: shortest round-trip digits,
 * positional unless scientific is shorter, scientific from 2^53 up. */
TEST(print, floats_as_erl25) {
  check_float(1.0, "1.0");
  check_float(0.1, "0.1");
  check_float(-0.0, "-0.0");
  check_float(0.0, "0.0");
  check_float(100.0, "100.0");
  check_float(1000.0, "1.0e3");
  check_float(1024.0, "1024.0");
  check_float(0.001, "0.001");
  check_float(0.0001, "0.0001");
  check_float(1.0e-5, "1.0e-5");
  check_float(1.0e15, "1.0e15");
  check_float(1.0e308, "1.0e308");
  check_float(3.14159, "3.14159");
  check_float(1234567.0, "1234567.0");
  check_float(9007199254740991.0, "9007199254740991.0");
  check_float(9007199254740992.0, "9.007199254740992e15");
  check_float(4503599627370496.0, "4503599627370496.0");
  check_float(0.1 + 0.2, "0.30000000000000004");
  check_float(1.0 / 3, "0.3333333333333333");
  check_float(5e-324, "5.0e-324");
  check_float(2.2250738585072014e-308, "2.2250738585072014e-308");
  check_float(1.7976931348623157e308, "1.7976931348623157e308");
  check_float(-5.0e-7, "-5.0e-7");
  check_float(1.2345678901234568e17, "1.2345678901234568e17");
}

/* Test that every printed float reads back as exactly the same double, for
 * many bit patterns across the whole range (subnormals included). */
TEST(print, floats_round_trip) {
  uint64_t x = 0x9E3779B97F4A7C15u;
  for (int i = 0; i < 20000; i++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    double d;
    memcpy(&d, &x, 8);
    if (!isfinite(d)) continue;
    ep_build b;
    ep_b_init(&b);
    ep_b_float(&b, d);
    ep_term t = finish(&b), u = NULL;
    char buf[64];
    ep_print(buf, sizeof buf, t, EP_PRINT_ERLANG);
    ck_assert_int_eq(ep_parse(&u, buf), 0);
    double back;
    ck_assert_int_eq(ep_get_float(u, &back), 0);
    ck_assert_msg(memcmp(&back, &d, 8) == 0, "%s read back as %.17g", buf, back);
    ep_term_free(t);
    ep_term_free(u);
  }
}

/* Test that big integers print in decimal at any size, both signs. */
TEST(print, big_integers_in_decimal) {
  uint8_t mag[26] = {0};
  mag[8] = 1;   /* 2^64 */
  ep_build b;
  ep_b_init(&b);
  ep_b_tuple(&b);
  ep_b_big(&b, false, mag, 9);
  ep_b_big(&b, true, mag, 9);
  mag[8] = 0;
  mag[25] = 1;  /* 2^200 */
  ep_b_big(&b, false, mag, 26);
  ep_b_uint(&b, UINT64_MAX);
  ep_b_end(&b);
  ep_term t = finish(&b);
  char *s = print_new(t, EP_PRINT_ERLANG);
  ck_assert_str_eq(s, "{18446744073709551616,-18446744073709551616,"
                      "1606938044258990275541962092341162602522202993782792835301376,"
                      "18446744073709551615}");
  free(s);
  ep_term_free(t);
  /* 10^3000 - 1: 3000 nines */
  char *text = malloc(3002);
  memset(text, '9', 3000);
  text[3000] = '\0';
  ep_term big = parse_ok(text);
  ck_assert_int_eq(ep_type_of(big), EP_TBIG);
  s = print_new(big, EP_PRINT_ERLANG);
  ck_assert_str_eq(s, text);
  free(s);
  free(text);
  ep_term_free(big);
}

/* Test that printing truncates like snprintf: the full length is returned
 * whatever cap is; at most cap bytes are written, NUL-terminated; cap 0
 * writes nothing. */
TEST(print, truncates_like_snprintf) {
  ep_term t = parse_ok("{result,16}");
  char buf[8];
  memset(buf, 'x', sizeof buf);
  ck_assert_uint_eq(ep_print(buf, 5, t, EP_PRINT_ERLANG), 11);
  ck_assert_str_eq(buf, "{res");
  ck_assert_int_eq(buf[5], 'x');
  ck_assert_uint_eq(ep_print(buf, 0, t, EP_PRINT_ERLANG), 11);
  ck_assert_int_eq(buf[0], '{');
  ck_assert_uint_eq(ep_print(NULL, 0, t, EP_PRINT_ELIXIR), strlen("{:result, 16}"));
  ck_assert_uint_eq(ep_print(buf, 1, t, EP_PRINT_ERLANG), 11);
  ck_assert_str_eq(buf, "");
  ep_term_free(t);
}

/* Test that a list of a million elements prints without recursion and
 * that ep_print_alloc sizes its result exactly. */
TEST(print, million_element_list) {
  ep_build b;
  ep_b_init(&b);
  ep_b_list(&b);
  for (int i = 0; i < 1000000; i++) ep_b_int(&b, i % 10);
  ep_b_atom(&b, EP_A_ok);
  ep_b_end_tail(&b);
  ep_term t = finish(&b);
  char *s = print_new(t, EP_PRINT_ERLANG);
  size_t n = strlen(s);
  ck_assert_uint_eq(n, 1 + 2 * 1000000 - 1 + 4);
  ck_assert(memcmp(s, "[0,1,2,", 7) == 0);
  ck_assert_str_eq(s + n - 6, ",9|ok]");
  ck_assert_uint_eq(ep_print(NULL, 0, t, EP_PRINT_ERLANG), n);
  free(s);
  ep_term_free(t);
}

/* Test that the deepest nesting the builder allows prints with a small C
 * stack footprint (the container stack moves to the heap). */
TEST(print, deepest_nesting) {
  ep_build b;
  ep_b_init(&b);
  for (int i = 0; i < EP_MAX_DEPTH; i++) {
    if (i % 3 == 0) ep_b_tuple(&b);
    else if (i % 3 == 1) ep_b_list(&b);
    else ep_b_map(&b), ep_b_atom(&b, EP_A_ok);
  }
  ep_b_int(&b, 1);
  for (int i = EP_MAX_DEPTH; i-- > 0;) ep_b_end(&b);
  ep_term t = finish(&b);
  char *s = print_new(t, EP_PRINT_ERLANG), *x = print_new(t, EP_PRINT_ELIXIR);
  ck_assert(strncmp(s, "{[#{ok => {[", 12) == 0);
  ck_assert(strncmp(x, "{[%{ok: {[", 10) == 0);
  ep_term u = parse_ok(s);
  ck_assert(ep_exact_equal(t, u));
  free(s);
  free(x);
  ep_term_free(t);
  ep_term_free(u);
}

/* Test that ep_print_alloc handles texts longer than its first buffer and
 * that both forms of long binaries print whole. */
TEST(print, long_binaries) {
  uint8_t data[1000];
  for (int i = 0; i < 1000; i++) data[i] = (uint8_t)('a' + i % 26);
  ep_build b;
  ep_b_init(&b);
  ep_b_binary(&b, data, sizeof data);
  ep_term t = finish(&b);
  char *s = print_new(t, EP_PRINT_ERLANG), *x = print_new(t, EP_PRINT_ELIXIR);
  ck_assert_uint_eq(strlen(s), 1006);
  ck_assert(memcmp(s, "<<\"abcdefghijklmnopqrstuvwxyzabc", 31) == 0);
  ck_assert_uint_eq(strlen(x), 1002);
  free(s);
  free(x);
  ep_term_free(t);
}
