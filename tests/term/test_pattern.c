/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_pattern.c - compiled receive patterns (R16): every pattern the seeds'
 * receive clauses use, each construct, typed and repeated variables, pins,
 * compile errors, compile-once under a race, and that matching never
 * allocates (the library's allocations are counted through ld --wrap).
 */
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eproc/term.h"
#include "test.h"

/* ------------------------------------------- counting the allocations -- */

/* CMakeLists links test_term with -Wl,--wrap=malloc,calloc,realloc, so every
 * allocation made by the library (and this file) passes through here. */
void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
static _Thread_local long allocs;
void *__wrap_malloc(size_t n) { allocs++; return __real_malloc(n); }
void *__wrap_calloc(size_t n, size_t m) { allocs++; return __real_calloc(n, m); }
void *__wrap_realloc(void *p, size_t n) { allocs++; return __real_realloc(p, n); }

/* ------------------------------------------ terms from text, for tests -- */

/* Terms from Erlang text (ep_parse), so tests read like the messages they
 * send; this also checks that the pattern parser and the term parser read
 * every literal alike. */
static ep_term made[256];
static int nmade;

/* Each test runs in its own child process; the terms it made are freed
 * when it exits, before the leak checker looks. */
static void free_made(void) {
  while (nmade) ep_term_free(made[--nmade]);
}

static ep_term T(const char *text) {
  ep_term t = NULL;
  int rc = ep_parse(&t, text);
  ck_assert_msg(rc == 0, "test term text %s: %s", text, ep_err_name(rc));
  ck_assert(nmade < 256);
  if (nmade == 0) atexit(free_made);
  return made[nmade++] = t;
}

static ep_pattern *P(const char *text) {
  ep_pattern *p = NULL;
  size_t off = 0;
  int rc = ep_pattern_compile(&p, text, &off);
  ck_assert_msg(rc == 0, "pattern %s: %s at %zu", text, ep_err_name(rc), off);
  return p;
}

static bool matches(const char *pattern, const char *term) {
  ep_pattern *p = P(pattern);
  bool r = ep_pattern_match(p, T(term), NULL, NULL);
  ep_pattern_free(p);
  return r;
}

/* The compile error and its offset for bad pattern text. */
static int compile_error(const char *text, size_t *off) {
  ep_pattern *p = NULL;
  *off = 9999;
  int rc = ep_pattern_compile(&p, text, off);
  ck_assert(rc < 0 || p != NULL);
  if (rc == 0) ep_pattern_free(p);
  return rc;
}

static bool same_term(ep_term a, const char *text) { return ep_exact_equal(a, T(text)); }

/* ------------------------------------------------ the seeds' patterns -- */

/* Test that the seeds' compute server clauses (R16) {:compute, n, from} and
 * {:exit, reason} match their messages and bind n and from. */
TEST(pattern, seed_compute_and_exit) {
  ep_pattern *compute = P("{compute, N::int, From::pid}");
  ep_pattern *ex = P("{exit, Reason}");
  int64_t n = 0;
  ep_pid from = EP_PID_NONE;
  ep_term reason = NULL;
  ck_assert(ep_match(compute, T("{compute, 7, <0.57.3>}"), &n, &from));
  ck_assert_int_eq(n, 7);
  ck_assert(ep_pid_eq(from, (ep_pid){57, 3, EP_NODE_LOCAL, 0}));
  ck_assert(!(ep_match(compute, T("{exit, normal}"), &n, &from)));
  ck_assert(ep_match(ex, T("{exit, normal}"), &reason));
  ck_assert(ep_is_atom(reason, EP_A_normal));
  ck_assert(!(ep_match(ex, T("{compute, 7, <0.57.3>}"), &reason)));
  ep_pattern_free(compute);
  ep_pattern_free(ex);
}

/* Test that the key-value store clauses {:put, key, value, sender},
 * {:put, key, value} and {:get, key, caller} match by tag and arity only. */
TEST(pattern, seed_key_value_store) {
  ep_pattern *put4 = P("{put, Key, Value, Sender::pid}");
  ep_pattern *put3 = P("{put, Key, Value}");
  ep_pattern *get = P("{get, Key, Caller::pid}");
  ep_term k, v;
  ep_pid from;
  ck_assert(ep_match(put4, T("{put, a, 42, <0.9.0>}"), &k, &v, &from));
  ck_assert(same_term(k, "a") && same_term(v, "42") && from.id == 9);
  ck_assert(!(ep_match(put3, T("{put, a, 42, <0.9.0>}"), &k, &v)));
  ck_assert(ep_match(put3, T("{put, [1, 2], {x, y}}"), &k, &v));
  ck_assert(same_term(k, "[1, 2]") && same_term(v, "{x, y}"));
  ck_assert(ep_match(get, T("{get, a, <0.10.0>}"), &k, &from));
  ck_assert(!(ep_match(get, T("{get, a, not_a_pid}"), &k, &from)));
  ck_assert(!(ep_match(get, T("{put, a, <0.10.0>}"), &k, &from)));
  ep_pattern_free(put4);
  ep_pattern_free(put3);
  ep_pattern_free(get);
}

/* Test that the monitor server clauses ({:ping, sender}, {:pong, sender},
 * {:link, pid} when is_pid(pid), :links, :die) match their messages. */
TEST(pattern, seed_ping_pong_link) {
  ck_assert(matches("{ping, Sender::pid}", "{ping, <0.5.0>}"));
  ck_assert(!(matches("{ping, Sender::pid}", "{pong, <0.5.0>}")));
  ck_assert(matches("{pong, Sender}", "{pong, <0.5.0>}"));
  ck_assert(matches("{link, Pid::pid}", "{link, <0.6.0>}"));
  ck_assert(!(matches("{link, Pid::pid}", "{link, self}")));   /* the guard fails */
  ck_assert(matches("links", "links"));
  ck_assert(!(matches("links", "die")));
  ck_assert(matches("{hello, Msg}", "{hello, <<\"world\">>}"));
  ck_assert(!(matches("{world, Msg}", "{hello, <<\"world\">>}")));
}

/* Test that a trapped exit {'EXIT', Pid, Reason} (R25) matches and binds,
 * and that {'EXIT', Pid, _} ignores the reason. */
TEST(pattern, seed_exit_signal) {
  ep_pattern *p = P("{'EXIT', Pid::pid, Reason}");
  ep_pid pid;
  ep_term reason;
  ck_assert(ep_match(p, T("{'EXIT', <0.95.0>, i_am_tired}"), &pid, &reason));
  ck_assert(pid.id == 95);
  ck_assert(same_term(reason, "i_am_tired"));
  ck_assert(ep_match(p, T("{'EXIT', <0.95.0>, {badarith, [x]}}"), &pid, &reason));
  ck_assert(!(ep_match(p, T("{'DOWN', <0.95.0>, killed}"), &pid, &reason)));
  ck_assert(!(ep_match(p, T("{exit, <0.95.0>, killed}"), &pid, &reason)));
  ep_pattern_free(p);
  ck_assert(matches("{'EXIT', Pid, _}", "{'EXIT', <0.162.0>, spri_se_be}"));
}

/* Test that a monitor's {'DOWN', Ref, process, Pid, Reason} (R16) binds the
 * reference, the pid and the reason, and that ppool's
 * {'DOWN', Ref, process, _Pid, _} binds only the reference. */
TEST(pattern, seed_down_message) {
  ep_pattern *p = P("{'DOWN', Ref::ref, process, Pid::pid, Reason}");
  ep_ref ref;
  ep_pid pid;
  ep_term reason;
  ck_assert(ep_match(p, T("{'DOWN', #Ref<0.0.3.3915>, process, <0.348.0>, normal}"), &ref, &pid, &reason));
  ck_assert_int_eq(ref.len, 3);
  ck_assert(ref.w[0] == 3915 && ref.w[1] == 3 && ref.w[2] == 0);
  ck_assert_int_eq(pid.id, 348);
  ck_assert(ep_is_atom(reason, EP_A_normal));
  ck_assert(!(ep_match(p, T("{'DOWN', #Ref<0.0.3.3915>, port, <0.348.0>, normal}"), &ref, &pid, &reason)));
  ep_pattern_free(p);
  ep_pattern *pp = P("{'DOWN', Ref, process, _Pid, _}");
  ck_assert_int_eq(ep_pattern_nvars(pp), 1);
  ep_term r;
  ck_assert(ep_match(pp, T("{'DOWN', #Ref<0.1.2.3>, process, <0.4.0>, killed}"), &r));
  ck_assert(same_term(r, "#Ref<0.1.2.3>"));
  ep_pattern_free(pp);
}

/* Test that {result, _} matches any result and nothing else (R16). */
TEST(pattern, seed_result_wildcard) {
  ck_assert(matches("{result, _}", "{result, 16}"));
  ck_assert(matches("{result, _}", "{result, {a, [b]}}"));
  ck_assert(!(matches("{result, _}", "{result}")));
  ck_assert(!(matches("{result, _}", "{result, 1, 2}")));
  ck_assert(!(matches("{result, _}", "{reply, 16}")));
  ck_assert(!(matches("{result, _}", "result")));
}

/* Test that [H|T] matches a non-empty list (proper or not) and binds the
 * head and the tail, and that it does not match []. */
TEST(pattern, seed_head_tail) {
  ep_pattern *p = P("[H|T]");
  ep_term h, t;
  ck_assert(ep_match(p, T("[1, 2, 3]"), &h, &t));
  ck_assert(same_term(h, "1") && same_term(t, "[2, 3]"));
  ck_assert(ep_match(p, T("[x]"), &h, &t));
  ck_assert(same_term(t, "[]"));
  ck_assert(ep_match(p, T("[1 | 2]"), &h, &t));
  ck_assert(same_term(t, "2"));
  ck_assert(!(ep_match(p, T("[]"), &h, &t)));
  ck_assert(!(ep_match(p, T("{1, 2}"), &h, &t)));
  ep_pattern_free(p);
}

/* Test that a reply {Ref, Reply} is matched against the pinned reference of
 * the call that is waiting for it, and that another call's reply is not. */
TEST(pattern, seed_pinned_call_reply) {
  ep_pattern *p = P("{^Ref, Reply}");
  ck_assert_int_eq(ep_pattern_npins(p), 1);
  ck_assert_int_eq(ep_pattern_nvars(p), 1);
  ep_smallterm s;
  ep_ref mine = {.len = 3, .w = {7, 8, 9}};
  ep_term ref = ep_ref_term(&s, &mine);
  ep_term reply;
  ck_assert(ep_match(p, T("{#Ref<0.9.8.7>, ok}"), ref, &reply));
  ck_assert(ep_is_atom(reply, EP_A_ok));
  ck_assert(!(ep_match(p, T("{#Ref<0.9.8.6>, ok}"), ref, &reply)));
  ck_assert(!(ep_match(p, T("{other, ok}"), ref, &reply)));
  ep_term pins[1] = {ref}, vars[1];
  ck_assert(ep_pattern_match(p, T("{#Ref<0.9.8.7>, {value, 3}}"), pins, vars));
  ck_assert(same_term(vars[0], "{value, 3}"));
  ep_pattern_free(p);
}

/* Test that ppool's messages (LYSE chapter, seed 001) and the gen_server
 * protocol around them match: {run, Args}, {sync, Args}, {async, Args}, the
 * call envelope {'$gen_call', {From, Tag}, Request}, a pinned monitor's
 * {'DOWN', ^Ref, process, _, Reason}, and {start_worker_supervisor, Sup, MFA}. */
TEST(pattern, seed_ppool_and_gen_server) {
  ck_assert(matches("{run, Args}", "{run, [\"Chase a tornado\", 20000, 1]}"));
  ck_assert(matches("{sync, Args}", "{sync, [a]}"));
  ck_assert(!(matches("{async, Args}", "{sync, [a]}")));
  ep_pattern *call = P("{'$gen_call', {From::pid, Tag}, {run, Args}}");
  ep_pid from;
  ep_term tag, args;
  ck_assert(ep_match(call, T("{'$gen_call', {<0.80.0>, #Ref<0.1.2.3>}, {run, [x]}}"), &from, &tag, &args));
  ck_assert(from.id == 80 && same_term(tag, "#Ref<0.1.2.3>") && same_term(args, "[x]"));
  ck_assert(!(ep_match(call, T("{'$gen_cast', {run, [x]}}"), &from, &tag, &args)));
  ep_pattern_free(call);
  ep_pattern *down = P("{'DOWN', ^Ref, process, _, Reason}");
  ep_term ref = T("#Ref<0.7.7.7>"), reason;
  ck_assert(ep_match(down, T("{'DOWN', #Ref<0.7.7.7>, process, <0.9.0>, normal}"), ref, &reason));
  ck_assert(!(ep_match(down, T("{'DOWN', #Ref<0.7.7.8>, process, <0.9.0>, normal}"), ref, &reason)));
  ep_pattern_free(down);
  ep_pattern *start = P("{start_worker_supervisor, Sup::pid, {M::atom, F::atom, A}}");
  ep_pid sup;
  ep_atom m, fn;
  ep_term a;
  ck_assert(ep_match(start, T("{start_worker_supervisor, <0.70.0>, {ppool_nagger, start_link, []}}"), &sup, &m, &fn, &a));
  ck_assert(m == ep_atom_of("ppool_nagger") && fn == ep_atom_of("start_link") && same_term(a, "[]"));
  ep_pattern_free(start);
  ck_assert(matches("timeout", "timeout"));
}

/* Test that the seeds' monitor server clauses, tried in order as receive
 * does (R16), send each message to the first clause that matches it. */
TEST(pattern, seed_clauses_first_match_wins) {
  const char *clauses[] = {"{ping, Sender::pid}", "{pong, Sender::pid}", "{mointor, Pid::pid}",
                           "{demonitor, Pid::pid}", "{list_mointors, Sender::pid}", "Other"};
  const char *msgs[] = {"{pong, <0.1.0>}", "{demonitor, <0.2.0>}", "{ping, <0.3.0>}",
                        "{list_mointors, <0.4.0>}", "{ping, not_a_pid}", "{mointor, <0.5.0>}"};
  const int want[] = {1, 3, 0, 4, 5, 2};
  ep_pattern *ps[6];
  for (int i = 0; i < 6; i++) ps[i] = P(clauses[i]);
  for (int m = 0; m < 6; m++) {
    ep_term t = T(msgs[m]);
    int hit = -1;
    for (int c = 0; c < 6 && hit < 0; c++)
      if (ep_pattern_match(ps[c], t, NULL, NULL)) hit = c;
    ck_assert_msg(hit == want[m], "%s went to clause %d", msgs[m], hit);
  }
  for (int i = 0; i < 6; i++) ep_pattern_free(ps[i]);
}

/* Test that a bare variable (receive do msg -> ...) and _ match any term. */
TEST(pattern, seed_catch_all) {
  const char *terms[] = {"ping", "42", "{a, b}", "[]", "<<>>", "#{a => 1}", "<0.1.0>", "-3.5"};
  for (size_t i = 0; i < sizeof terms / sizeof *terms; i++) {
    ck_assert(matches("Msg", terms[i]));
    ck_assert(matches("_", terms[i]));
  }
}

/* -------------------------------------------------------- each construct -- */

/* Test that bare and quoted atoms (with escapes and non-ASCII text) match
 * exactly that atom. */
TEST(pattern, atoms_bare_and_quoted) {
  ck_assert(matches("ok", "ok"));
  ck_assert(matches("'ok'", "ok"));
  ck_assert(matches("nonode@nohost", "nonode@nohost"));
  ck_assert(matches("a_B9", "a_B9"));
  ck_assert(matches("'hello world'", "'hello world'"));
  ep_smallterm s;
  ep_pattern *p = P("'it\\'s'");
  ck_assert(ep_pattern_match(p, ep_atom_term(&s, ep_atom_of("it's")), NULL, NULL));
  ep_pattern_free(p);
  p = P("'tab\\there'");
  ck_assert(ep_pattern_match(p, ep_atom_term(&s, ep_atom_of("tab\there")), NULL, NULL));
  ep_pattern_free(p);
  p = P("'caf\\x{e9}'");
  ck_assert(ep_pattern_match(p, ep_atom_term(&s, ep_atom_of("caf\xc3\xa9")), NULL, NULL));
  ep_pattern_free(p);
  p = P("'café'");
  ck_assert(ep_pattern_match(p, ep_atom_term(&s, ep_atom_of("caf\xc3\xa9")), NULL, NULL));
  ep_pattern_free(p);
  ck_assert(!(matches("ok", "error")));
  ck_assert(!(matches("ok", "\"ok\"")));
}

/* Test that integer literals in every Erlang spelling (negative, 1_000,
 * 16#ff, $a, $\n) match =:= integers only (1 does not match 1.0). */
TEST(pattern, integers_all_spellings) {
  ck_assert(matches("42", "42"));
  ck_assert(matches("-42", "-42"));
  ck_assert(matches("- 7", "-7"));
  ck_assert(matches("+7", "7"));
  ck_assert(matches("1_000_000", "1000000"));
  ck_assert(matches("16#ff", "255"));
  ck_assert(matches("16#FF", "255"));
  ck_assert(matches("2#1010", "10"));
  ck_assert(matches("36#z", "35"));
  ck_assert(matches("-16#10", "-16"));
  ck_assert(matches("$a", "97"));
  ck_assert(matches("$\\n", "10"));
  ck_assert(matches("$\\s", "32"));
  ck_assert(matches("$\\x{263a}", "9786"));
  ck_assert(matches("0", "0"));
  ck_assert(!(matches("1", "1.0")));
  ck_assert(!(matches("1", "2")));
  ck_assert(!(matches("1", "one")));
}

/* Test that big integer literals match the same big integer, and that the
 * int64 limits stay small integers (so they match ep_b_int values). */
TEST(pattern, integers_big) {
  ck_assert(matches("123456789012345678901234567890", "123456789012345678901234567890"));
  ck_assert(matches("-123456789012345678901234567890", "-123456789012345678901234567890"));
  ck_assert(!(matches("123456789012345678901234567890", "-123456789012345678901234567890")));
  ck_assert(!(matches("123456789012345678901234567890", "123456789012345678901234567891")));
  ck_assert(matches("9223372036854775807", "9223372036854775807"));
  ck_assert(matches("-9223372036854775808", "-9223372036854775808"));
  ck_assert(matches("9223372036854775808", "9223372036854775808"));
  ck_assert(matches("16#10000000000000000", "18446744073709551616"));
  ep_smallterm s;
  ep_pattern *p = P("-9223372036854775808");
  ck_assert(ep_pattern_match(p, ep_int_term(&s, INT64_MIN), NULL, NULL));
  ep_pattern_free(p);
}

/* Test that float literals match =:= floats, and that 0.0 and -0.0 match
 * each other as =:= says in OTP 25 (the term core's rule), even inside a
 * literal tuple. */
TEST(pattern, floats) {
  ck_assert(matches("2.5", "2.5"));
  ck_assert(matches("-1.5e3", "-1500.0"));
  ck_assert(matches("1.0e308", "1.0e308"));
  ck_assert(matches("1_0.2_5", "10.25"));
  ck_assert(matches("2.5E-1", "0.25"));
  ck_assert(!(matches("1.0", "1")));
  ck_assert(!(matches("2.5", "2.6")));
  ck_assert(matches("0.0", "-0.0"));
  ck_assert(matches("-0.0", "0.0"));
  ck_assert(matches("{a, 0.0, [0.0]}", "{a, -0.0, [0.0]}"));
  ck_assert(!(matches("{a, 0.0}", "{a, 0}")));
}

/* Test that "strings" are lists of code points, "" is [], and adjacent
 * strings join, as in Erlang. */
TEST(pattern, strings_are_lists) {
  ck_assert(matches("\"abc\"", "[97, 98, 99]"));
  ck_assert(matches("\"abc\"", "\"abc\""));
  ck_assert(matches("\"\"", "[]"));
  ck_assert(matches("\"ab\" \"c\"", "\"abc\""));
  ck_assert(matches("\"a\\nb\"", "[97, 10, 98]"));
  ck_assert(matches("\"é\"", "[233]"));
  ck_assert(matches("[$a | T]", "\"abc\""));
  ck_assert(!(matches("\"abc\"", "<<\"abc\">>")));
  ck_assert(!(matches("\"abc\"", "\"abcd\"")));
}

/* Test that binary literals match the same bytes: strings (latin-1 or
 * /utf8), byte values, and the empty binary. */
TEST(pattern, binaries) {
  ck_assert(matches("<<\"bin\">>", "<<\"bin\">>"));
  ck_assert(matches("<<>>", "<<>>"));
  ck_assert(matches("<< >>", "<<>>"));
  ck_assert(matches("<<1, 2, 255>>", "<<1, 2, 255>>"));
  ck_assert(matches("<<\"ab\", 99, $d>>", "<<\"abcd\">>"));
  ck_assert(matches("<<\"é\">>", "<<233>>"));
  ck_assert(matches("<<\"é\"/utf8>>", "<<195, 169>>"));
  ck_assert(matches("<<-1>>", "<<255>>"));
  ck_assert(!(matches("<<\"bin\">>", "<<\"bim\">>")));
  ck_assert(!(matches("<<\"bin\">>", "\"bin\"")));
  ck_assert(!(matches("<<>>", "[]")));
}

/* Test that tuples match by arity and elements, including {} and nesting. */
TEST(pattern, tuples) {
  ck_assert(matches("{}", "{}"));
  ck_assert(!(matches("{}", "{a}")));
  ck_assert(matches("{a, {b, {c, X}}}", "{a, {b, {c, 1}}}"));
  ck_assert(!(matches("{a, {b, {c, X}}}", "{a, {b, {d, 1}}}")));
  ck_assert(!(matches("{a, {b, {c, X}}}", "{a, {b, [c, 1]}}")));
  ck_assert(matches("{a, {b, c}}", "{a, {b, c}}"));
  ck_assert(!(matches("{a, {b, c}}", "{a, {b, c, d}}")));
  ck_assert(!(matches("{A, B}", "[a, b]")));
}

/* Test that list patterns match proper lists of the same length, [a, b | T]
 * binds the rest, and literal tails compare whole. */
TEST(pattern, lists) {
  ck_assert(matches("[]", "[]"));
  ck_assert(!(matches("[]", "[a]")));
  ck_assert(matches("[a, B, c]", "[a, x, c]"));
  ck_assert(!(matches("[a, B, c]", "[a, x, c, d]")));
  ck_assert(!(matches("[a, B, c]", "[a, x]")));
  ck_assert(!(matches("[a, B]", "[a, x | y]")));
  ep_pattern *p = P("[a, B | T]");
  ep_term b, t;
  ck_assert(ep_match(p, T("[a, 1, 2, 3]"), &b, &t));
  ck_assert(same_term(b, "1") && same_term(t, "[2, 3]"));
  ck_assert(ep_match(p, T("[a, 1]"), &b, &t));
  ck_assert(same_term(t, "[]"));
  ck_assert(ep_match(p, T("[a, 1 | z]"), &b, &t));
  ck_assert(same_term(t, "z"));
  ck_assert(!(ep_match(p, T("[a]"), &b, &t)));
  ep_pattern_free(p);
  ck_assert(matches("[X, b, c]", "[a, b, c]"));
  ck_assert(matches("[1 | 2]", "[1 | 2]"));
  ck_assert(matches("[1, 2 | [3]]", "[1, 2, 3]"));
  ck_assert(!(matches("[1 | 2]", "[1, 2]")));
}

/* Test that a map pattern #{k := V} matches any map holding at least those
 * keys (whatever order the text gives them) and binds their values. */
TEST(pattern, maps_subset) {
  ep_pattern *p = P("#{name := N, age := A::int}");
  ep_term n;
  int64_t a;
  ck_assert(ep_match(p, T("#{age => 42, name => bob}"), &n, &a));
  ck_assert(same_term(n, "bob") && a == 42);
  ck_assert(ep_match(p, T("#{age => 1, email => x, name => <<\"al\">>, zip => 7}"), &n, &a));
  ck_assert(same_term(n, "<<\"al\">>") && a == 1);
  ck_assert(!(ep_match(p, T("#{name => bob}"), &n, &a)));
  ck_assert(!(ep_match(p, T("#{age => old, name => bob}"), &n, &a)));
  ck_assert(!(ep_match(p, T("{age, name}"), &n, &a)));
  ep_pattern_free(p);
  ck_assert(matches("#{}", "#{}"));
  ck_assert(matches("#{}", "#{a => 1}"));
  ck_assert(!(matches("#{}", "[]")));
  ck_assert(matches("#{1 := one, {k, 2} := V, \"s\" := _}", "#{1 => one, 1.0 => float, {k, 2} => x, \"s\" => y}"));
  ck_assert(matches("#{1.0 := float}", "#{1 => one, 1.0 => float}"));
  ck_assert(!(matches("#{1 := float}", "#{1 => one, 1.0 => float}")));
  ck_assert(!(matches("#{2 := _}", "#{1 => one, 1.0 => float}")));
}

/* Test that map patterns nest inside maps, tuples and lists, and that the
 * match continues correctly after a map. */
TEST(pattern, maps_nested) {
  ep_pattern *p = P("{#{cfg := #{port := Port::int}, id := Id}, after_map, [#{x := X}]}");
  int64_t port;
  ep_term id, x;
  ck_assert(ep_match(p, T("{#{cfg => #{host => h, port => 80}, id => 3}, after_map, [#{x => 9, y => 1}]}"), &port, &id, &x));
  ck_assert(port == 80 && same_term(id, "3") && same_term(x, "9"));
  ck_assert(!(ep_match(p, T("{#{cfg => #{host => h}, id => 3}, after_map, [#{x => 9}]}"), &port, &id, &x)));
  ck_assert(!(ep_match(p, T("{#{cfg => #{port => 80}, id => 3}, other, [#{x => 9}]}"), &port, &id, &x)));
  ep_pattern_free(p);
}

/* Test that the pattern parser reads every literal as the term parser
 * (ep_parse) does: each literal pattern matches the parsed term of the same
 * text, so Erlang's lexical rules are applied alike. */
TEST(pattern, literals_agree_with_term_parser) {
  static const char *const lits[] = {
    "ok", "'hello world'", "'it\\'s'", "'caf\\x{e9}'", "nonode@nohost", "'\\^a'", "'\\101'",
    "42", "-42", "1_000", "16#ff", "2#1010", "$a", "$\\n", "$\\x{263a}",
    "9223372036854775807", "-9223372036854775808", "9223372036854775808",
    "-123456789012345678901234567890", "2.5", "-1.5e3", "1.0e308", "1_0.2_5", "0.0",
    "\"abc\"", "\"\"", "\"a\\nb\"", "\"ab\" \"c\"", "\"é\"", "<<\"bin\">>", "<<>>",
    "<<1, 2, 255>>", "<<\"é\">>", "<<\"é\"/utf8>>", "{}", "{a, {b, [c]}}", "[]", "[1 | 2]",
    "[a, b | [c]]", "<0.57.3>", "#Ref<0.1.2.3>", "{'EXIT', <0.9.0>, normal}", "[$a, $b]", "{1.0, 1}"};
  for (size_t i = 0; i < sizeof lits / sizeof *lits; i++)
    ck_assert_msg(matches(lits[i], lits[i]), "%s", lits[i]);
  ck_assert(!matches("{1.0, 1}", "{1, 1.0}"));
}

/* Test that pid and reference literals match the same pid or reference. */
TEST(pattern, pid_and_ref_literals) {
  ck_assert(matches("<0.57.0>", "<0.57.0>"));
  ck_assert(!(matches("<0.57.0>", "<0.57.1>")));
  ck_assert(!(matches("<0.57.0>", "<0.58.0>")));
  ck_assert(matches("{#Ref<0.1.2.3>, X}", "{#Ref<0.1.2.3>, ok}"));
  ck_assert(!(matches("#Ref<0.1.2.3>", "#Ref<0.1.2.4>")));
  ck_assert(!(matches("#Ref<0.1.2.3>", "#Ref<0.0.1.2.3>")));
}

/* Test that text may carry whitespace, newlines and %-comments anywhere
 * between tokens. */
TEST(pattern, whitespace_and_comments) {
  ck_assert(matches("  {\n\ttag , % the tag\n  X }  ", "{tag, 1}"));
  ck_assert(matches("{a,b}% trailing", "{a, b}"));
}

/* ------------------------------------------------------------ variables -- */

/* Test that a variable repeated in a pattern must match =:= terms
 * (1 and 1.0 differ), deep or flat, and that _ and _Name never bind. */
TEST(pattern, repeated_variables) {
  ck_assert(matches("{X, X}", "{1, 1}"));
  ck_assert(!(matches("{X, X}", "{1, 2}")));
  ck_assert(!(matches("{X, X}", "{1, 1.0}")));
  ck_assert(matches("{X, X}", "{0.0, -0.0}"));
  ck_assert(matches("{X, [X]}", "{{a, [b, c]}, [{a, [b, c]}]}"));
  ck_assert(!(matches("{X, [X]}", "{{a, [b, c]}, [{a, [b, d]}]}")));
  ck_assert(matches("{X, {X, X}}", "{<0.1.0>, {<0.1.0>, <0.1.0>}}"));
  ck_assert(matches("{_, _}", "{1, 2}"));
  ck_assert(matches("{_A, _A}", "{1, 2}"));
  ep_pattern *p = P("{_, _Ignored, X, _}");
  ck_assert_int_eq(ep_pattern_nvars(p), 1);
  ep_pattern_free(p);
}

/* Test that a repeated variable in map values is checked in the order the
 * keys are matched, not the order of the text. */
TEST(pattern, repeated_variable_in_map) {
  ck_assert(matches("#{b := X, a := X}", "#{a => 1, b => 1}"));
  ck_assert(!(matches("#{b := X, a := X}", "#{a => 1, b => 2}")));
  ck_assert(matches("{X, #{k := X}}", "{v, #{k => v}}"));
}

/* Test that variables are numbered by first appearance and that vars[]
 * receives each one's subterm. */
TEST(pattern, variable_numbering) {
  ep_pattern *p = P("{B, A, [B | C], ~i}");
  ck_assert_int_eq(ep_pattern_nvars(p), 4);
  ep_term vars[4];
  ck_assert(ep_pattern_match(p, T("{x, y, [x, z], 5}"), NULL, vars));
  ck_assert(same_term(vars[0], "x"));
  ck_assert(same_term(vars[1], "y"));
  ck_assert(same_term(vars[2], "[z]"));
  ck_assert(same_term(vars[3], "5"));
  ep_pattern_free(p);
}

/* Test that each type annotation accepts its type and rejects others:
 * ::int only integers that fit int64, ::number any finite number, ::bin
 * binaries but not bit strings. */
TEST(pattern, typed_variables_check_types) {
  ck_assert(matches("X::int", "-5"));
  ck_assert(!(matches("X::int", "5.0")));
  ck_assert(!(matches("X::int", "123456789012345678901234567890")));
  ck_assert(!(matches("X::int", "five")));
  ck_assert(matches("X::float", "5.0"));
  ck_assert(!(matches("X::float", "5")));
  ck_assert(matches("X::number", "5"));
  ck_assert(matches("X::number", "5.5"));
  ck_assert(matches("X::number", "123456789012345678901234567890"));
  ck_assert(!(matches("X::number", "'5'")));
  ck_assert(matches("X::atom", "five"));
  ck_assert(!(matches("X::atom", "\"five\"")));
  ck_assert(matches("X::pid", "<0.1.0>"));
  ck_assert(!(matches("X::pid", "#Ref<0.1.2.3>")));
  ck_assert(matches("X::ref", "#Ref<0.1.2.3>"));
  ck_assert(!(matches("X::ref", "<0.1.0>")));
  ck_assert(matches("X::bin", "<<1, 2>>"));
  ck_assert(!(matches("X::bin", "[1, 2]")));
  ck_assert(matches("X::term", "[1, 2]"));
  ck_assert(matches("{X :: int, _::atom}", "{1, a}"));
  ck_assert(!(matches("{X :: int, _::atom}", "{1, 2}")));

  ep_build b;
  ep_b_init(&b);
  ep_b_bits(&b, "\xf0", 1, 4);
  ep_term bits = ep_b_finish(&b, NULL);
  ep_b_free(&b);
  ep_pattern *p = P("X::bin");
  ck_assert(!(ep_pattern_match(p, bits, NULL, NULL)));
  ep_pattern_free(p);
  ep_term_free(bits);
}

/* Test that a number bigger than any double does not match ::number, so a
 * successful match always binds a finite double. */
TEST(pattern, number_rejects_huge_big) {
  uint8_t mag[200];
  memset(mag, 0xff, sizeof mag);
  ep_build b;
  ep_b_init(&b);
  ep_b_big(&b, false, mag, sizeof mag);
  ep_term huge = ep_b_finish(&b, NULL);
  ep_b_free(&b);
  ep_pattern *p = P("X::number");
  ck_assert(!(ep_pattern_match(p, huge, NULL, NULL)));
  ep_pattern_free(p);
  ep_term_free(huge);
}

/* Test that a type given at any occurrence of a variable applies to it, so
 * {X, X::int} binds an int64_t and rejects a non-integer first element. */
TEST(pattern, type_at_later_occurrence) {
  ep_pattern *p = P("{X, X::int}");
  int64_t x = 0;
  ck_assert(ep_match(p, T("{3, 3}"), &x));
  ck_assert_int_eq(x, 3);
  ck_assert(!(ep_match(p, T("{a, a}"), &x)));
  ep_pattern_free(p);
}

/* Test that ep_pattern_bind writes each typed output: int64_t, double
 * (::float and ::number, big included), ep_atom, ep_pid, ep_ref, ep_bin and
 * ep_term, and that a NULL output skips its variable. */
TEST(pattern, bind_typed_outputs) {
  ep_pattern *p = P("{X::int, F::float, N::number, M::number, A::atom, P::pid, R::ref, B::bin, T}");
  ep_term vars[9];
  ep_term t = T("{-9, 2.5, 7, 18446744073709551616, hi, <0.4.2>, #Ref<0.1.2.3>, <<\"xyz\">>, [t]}");
  ck_assert(ep_pattern_match(p, t, NULL, vars));
  int64_t x;
  double f, n, m;
  ep_atom a;
  ep_pid pid;
  ep_ref ref;
  ep_bin bin;
  ep_term rest;
  ck_assert_int_eq(ep_pattern_bind(p, vars, &x, &f, &n, &m, &a, &pid, &ref, &bin, &rest), 0);
  ck_assert_int_eq(x, -9);
  ck_assert(f == 2.5);
  ck_assert(n == 7.0);
  ck_assert(m == 18446744073709551616.0);
  ck_assert(a == ep_atom_of("hi"));
  ck_assert(pid.id == 4 && pid.serial == 2);
  ck_assert(ref.len == 3 && ref.w[0] == 3 && ref.w[2] == 1);
  ck_assert(bin.size == 3 && memcmp(bin.data, "xyz", 3) == 0);
  ck_assert(same_term(rest, "[t]"));
  x = 77;
  ck_assert_int_eq(ep_pattern_bind(p, vars, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL), 0);
  ck_assert_int_eq(ep_pattern_bind(p, vars, &x, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL), 0);
  ck_assert_int_eq(x, -9);
  ep_pattern_free(p);
}

/* Test that binding subterms that do not fit the variables' types (vars not
 * from a successful match) is EP_EBADTERM, and missing vars EP_EINVAL. */
TEST(pattern_err, bind_wrong_types) {
  ep_pattern *p = P("{X::int, Y::pid}");
  ep_term vars[2] = {T("1.5"), T("<0.1.0>")};
  int64_t x = 5;
  ep_pid pid;
  ck_assert_int_eq(ep_pattern_bind(p, vars, &x, &pid), EP_EBADTERM);
  ck_assert_int_eq(x, 5);
  vars[0] = NULL;
  ck_assert_int_eq(ep_pattern_bind(p, vars, &x, &pid), EP_EBADTERM);
  ck_assert_int_eq(ep_pattern_bind(p, NULL, &x, &pid), EP_EINVAL);
  ep_pattern_free(p);
}

/* Test that ~i ~d ~a ~p ~r ~b ~t are anonymous variables of their types. */
TEST(pattern, holes) {
  ep_pattern *p = P("{~a, ~i, ~d, ~p, ~r, ~b, ~t}");
  ck_assert_int_eq(ep_pattern_nvars(p), 7);
  ep_atom a;
  int64_t i;
  double d;
  ep_pid pid;
  ep_ref ref;
  ep_bin bin;
  ep_term t;
  ck_assert(ep_match(p, T("{tag, 42, 0.5, <0.3.0>, #Ref<0.4.5.6>, <<1>>, {any}}"), &a, &i, &d, &pid, &ref, &bin, &t));
  ck_assert(a == ep_atom_of("tag") && i == 42 && d == 0.5 && pid.id == 3 && ref.w[0] == 6 && bin.size == 1);
  ck_assert(same_term(t, "{any}"));
  ck_assert(!(ep_match(p, T("{tag, 42.0, 0.5, <0.3.0>, #Ref<0.4.5.6>, <<1>>, {any}}"), &a, &i, &d, &pid, &ref, &bin, &t)));
  ck_assert(!(ep_match(p, T("{tag, 42, 0.5, <0.3.0>, #Ref<0.4.5.6>, [1], {any}}"), &a, &i, &d, &pid, &ref, &bin, &t)));
  ep_pattern_free(p);
}

/* Test that a failed ep_match leaves the outputs untouched. */
TEST(pattern, failed_match_leaves_outputs) {
  ep_pattern *p = P("{tag, N::int, P::pid}");
  int64_t n = -1;
  ep_pid pid = EP_PID_NONE;
  ck_assert(!(ep_match(p, T("{tag, 42, not_a_pid}"), &n, &pid)));
  ck_assert_int_eq(n, -1);
  ck_assert(ep_pid_eq(pid, EP_PID_NONE));
  ep_pattern_free(p);
}

/* ----------------------------------------------------------------- pins -- */

/* Test that pins compare =:= with the values supplied at match time, that
 * the same ^Name is one pin and each ^~t a new one. */
TEST(pattern, pins) {
  ep_pattern *p = P("{^A, ^~t, ^A, ^~t, X}");
  ck_assert_int_eq(ep_pattern_npins(p), 3);
  ck_assert_int_eq(ep_pattern_nvars(p), 1);
  ep_term pins[3] = {T("a"), T("[1, 2]"), T("3.0")};
  ep_term x;
  ck_assert(ep_pattern_match(p, T("{a, [1, 2], a, 3.0, z}"), pins, &x));
  ck_assert(same_term(x, "z"));
  ck_assert(!(ep_pattern_match(p, T("{a, [1, 2], b, 3.0, z}"), pins, &x)));
  ck_assert(!(ep_pattern_match(p, T("{a, [1, 2], a, 3, z}"), pins, &x)));
  ck_assert(!(ep_pattern_match(p, T("{a, [1, 2, 3], a, 3.0, z}"), pins, &x)));
  pins[2] = T("-0.0");
  ck_assert(ep_pattern_match(p, T("{a, [1, 2], a, 0.0, z}"), pins, &x));
  ck_assert(ep_match(p, T("{a, [1, 2], a, -0.0, q}"), pins[0], pins[1], pins[2], &x));
  ck_assert(same_term(x, "q"));
  ep_pattern_free(p);
}

/* Test that a pattern with pins never matches when no pins are given. */
TEST(pattern_err, pins_missing) {
  ep_pattern *p = P("{^A, B}");
  ep_term pins[1] = {NULL};
  ck_assert(!(ep_pattern_match(p, T("{a, b}"), NULL, NULL)));
  ck_assert(!(ep_pattern_match(p, T("{a, b}"), pins, NULL)));
  ep_pattern_free(p);
}

/* Test that matching a NULL term is no match rather than a crash. */
TEST(pattern_err, null_term) {
  ep_pattern *p = P("_");
  ck_assert(!(ep_pattern_match(p, NULL, NULL, NULL)));
  ep_pattern_free(p);
}

/* ------------------------------------------------------- compile errors -- */

/* Test that malformed text is EP_EPARSE with the offset of the fault. */
TEST(pattern_err, parse_errors_with_offsets) {
  static const struct { const char *text; size_t off; } cases[] = {
    {"", 0},               {"{a, b", 5},          {"{a,, b}", 3},       {"{a b}", 3},
    {"[a | ]", 5},         {"[| T]", 1},          {"[a | b, c]", 6},    {"{a} b", 4},
    {"#{k => V}", 4},      {"#{ X := 1}", 3},      {"#{k := }", 7},      {"X::integer", 3},
    {"X::", 3},            {"when", 0},           {"{ok, end}", 5},     {"'unterminated", 0},
    {"\"unterminated", 0}, {"~z", 0},             {"~", 0},             {"^x", 0},
    {"^", 0},              {"<1.2.3>", 0},        {"<0.2>", 0},         {"#Ref<1.2.3>", 0},
    {"#Ref<0>", 0},        {"#Ref<0.1.2.3.4.5.6>", 0}, {"1.0e999", 0},  {"1e10", 1},
    {"37#1", 0},           {"1#1", 0},            {"16#", 0},           {"16#g", 0},
    {"<<a>>", 2},          {"<<1:8>>", 3},        {"<<\"a\"/bits>>", 6}, {"<<1.5>>", 2},
    {"-a", 0},             {"- X", 0},            {"{X, ^X}", 4},       {"{^X, X}", 5},
    {"{X::int, X::atom}", 9}, {"#{a := 1, a := 2}", 10}, {"'\\x{110000}'", 1}, {"\"\\x{d800}\"", 1},
    {"'bad\xff'", 4},      {"P = {a}", 2},        {"\"a\" ++ T", 4},    {"#", 0},
    {"#{#{} := 1}", 2},    {"$", 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    size_t off;
    int rc = compile_error(cases[i].text, &off);
    ck_assert_msg(rc == EP_EPARSE, "\"%s\": %s", cases[i].text, ep_err_name(rc));
    ck_assert_msg(off == cases[i].off, "\"%s\": offset %zu, expected %zu", cases[i].text, off, cases[i].off);
  }
}

/* Test that more than EP_PATTERN_MAX_VARS variables (holes included) or
 * EP_PATTERN_MAX_PINS pins is EP_ETOOBIG, while exactly the limit compiles. */
TEST(pattern_err, too_many_vars_or_pins) {
  char text[512] = "{";
  for (int i = 0; i < EP_PATTERN_MAX_VARS; i++) sprintf(text + strlen(text), "V%d, ", i);
  strcat(text, "V0}");
  ep_pattern *p = P(text);
  ck_assert(ep_pattern_nvars(p) == EP_PATTERN_MAX_VARS);
  ep_pattern_free(p);
  size_t off;
  text[strlen(text) - 1] = 0;
  strcat(text, ", Extra}");
  ck_assert_int_eq(compile_error(text, &off), EP_ETOOBIG);
  ck_assert(off == strlen(text) - 6);
  strcpy(text, "{");
  for (int i = 0; i < EP_PATTERN_MAX_VARS; i++) strcat(text, "~i, ");
  strcat(text, "~t}");
  ck_assert_int_eq(compile_error(text, &off), EP_ETOOBIG);
  strcpy(text, "{");
  for (int i = 0; i < EP_PATTERN_MAX_PINS; i++) strcat(text, "^~t, ");
  strcat(text, "^A}");
  ck_assert_int_eq(compile_error(text, &off), EP_ETOOBIG);
}

/* Test that nesting deeper than the compiler's limit is EP_EDEPTH, not a
 * stack overflow, and that an atom over 255 characters is EP_EATOMLEN. */
TEST(pattern_err, depth_and_atom_length) {
  char text[4096];
  size_t n = 0;
  for (int i = 0; i < 2000; i++) text[n++] = '{';
  text[n] = 0;
  size_t off;
  ck_assert_int_eq(compile_error(text, &off), EP_EDEPTH);
  memset(text, 'a', 256);
  text[256] = 0;
  ck_assert_int_eq(compile_error(text, &off), EP_EATOMLEN);
  ck_assert(off == 0);
  text[255] = 0;
  ep_pattern *p = P(text);
  ep_pattern_free(p);
  char maps[256] = "";
  for (int i = 0; i < 17; i++) strcat(maps, "#{a := ");
  strcat(maps, "X");
  for (int i = 0; i < 17; i++) strcat(maps, "}");
  ck_assert_int_eq(compile_error(maps, &off), EP_ETOOBIG);
}

/* Test that integer literals longer than ep_parse accepts (100000 digits)
 * are EP_ETOOBIG, in every base and in floats, before any conversion. */
TEST(pattern_err, huge_literals) {
  static const char *const prefixes[] = {"", "-", "16#", "1.", "1.0e"};
  size_t n = 100001;
  char *text = malloc(n + 8);
  for (size_t i = 0; i < sizeof prefixes / sizeof *prefixes; i++) {
    size_t k = strlen(prefixes[i]);
    memcpy(text, prefixes[i], k);
    memset(text + k, '7', n);
    text[k + n] = 0;
    size_t off;
    ck_assert_msg(compile_error(text, &off) == EP_ETOOBIG, "prefix %s", prefixes[i]);
    ck_assert_msg(off == (i == 1), "prefix %s: offset %zu", prefixes[i], off);
  }
  free(text);
}

/* Test that compile rejects NULL arguments with EP_EINVAL. */
TEST(pattern_err, compile_null_arguments) {
  ep_pattern *p;
  ck_assert_int_eq(ep_pattern_compile(NULL, "x", NULL), EP_EINVAL);
  ck_assert_int_eq(ep_pattern_compile(&p, NULL, NULL), EP_EINVAL);
  ck_assert_int_eq(ep_pattern_compile(&p, "{", NULL), EP_EPARSE);
}

/* Test that a compiled pattern keeps its text. */
TEST(pattern, keeps_text) {
  ep_pattern *p = P("{get, K}");
  ck_assert_str_eq(ep_pattern_text(p), "{get, K}");
  ep_pattern_free(p);
}

/* --------------------------------------------------------- no allocation -- */

/* Test that matching, binding and ep_match never allocate, for patterns
 * using every op (tuples, lists, maps, literals, repeated vars, pins). */
TEST(pattern, match_does_not_allocate) {
  ep_pattern *p = P("{tag, N::int, P::pid, [X, <<\"b\">> | _], #{k := X}, {1.5, \"s\"}, ^R, 0.0}");
  ep_term t = T("{tag, 42, <0.7.0>, [v, <<\"b\">>, z], #{j => 1, k => v}, {1.5, \"s\"}, #Ref<0.1.2.3>, -0.0}");
  ep_term pins[1] = {T("#Ref<0.1.2.3>")};
  ep_term vars[3];
  int64_t n;
  ep_pid pid;
  ep_term x;
  /* No assertions inside the counted part: the (static) Check library's
   * allocations would be counted too. */
  int good = 0;
  long before = allocs;
  for (int i = 0; i < 100; i++) {
    good += ep_pattern_match(p, t, pins, vars);
    good += ep_pattern_bind(p, vars, &n, &pid, &x) == 0;
    good += ep_match(p, t, pins[0], &n, &pid, &x);
    good += !ep_pattern_match(p, pins[0], pins, vars);
  }
  long during = allocs - before;
  ck_assert_int_eq(good, 400);
  ck_assert_msg(during == 0, "matching allocated %ld times", during);
  ck_assert(n == 42 && pid.id == 7 && ep_is_atom(x, ep_atom_of("v")));
  /* The counter works: compiling does allocate. */
  before = allocs;
  ep_pattern_free(P("{a}"));
  ck_assert_int_gt(allocs, before);
  ep_pattern_free(p);
}

/* Test that matching a small pattern against a term with a long list and a
 * large binary in parts the pattern skips gives the right answer (the
 * skipped parts are stepped over by their recorded size). */
TEST(pattern, skips_large_subterms) {
  ep_build b;
  ep_b_init(&b);
  ep_b_tuple(&b);
  ep_b_atom_name(&b, "data");
  ep_b_list(&b);
  for (int i = 0; i < 100000; i++) ep_b_int(&b, i);
  ep_b_end(&b);
  static uint8_t blob[1 << 20];
  ep_b_binary(&b, blob, sizeof blob);
  ep_b_atom_name(&b, "last");
  ep_b_end(&b);
  ep_term t = ep_b_finish(&b, NULL);
  ep_b_free(&b);
  ep_pattern *p = P("{data, [H::int | _], B::bin, last}");
  int64_t h = -1;
  ep_bin bin;
  ep_pattern *q = P("{data, [0 | T], _, Last}");
  ep_term tail, last;
  ck_assert(ep_match(p, t, &h, &bin));
  ck_assert(h == 0 && bin.size == sizeof blob);
  ck_assert(ep_match(q, t, &tail, &last));
  ck_assert(ep_is_atom(last, ep_atom_of("last")));
  ck_assert(ep_list_length(tail) == 99999);
  ep_pattern_free(p);
  ep_pattern_free(q);
  ep_term_free(t);
}

/* Test that the matcher never reads inside a subterm the pattern does not
 * look at: the inside of the skipped list is overwritten with bytes that are
 * no valid encoding, and matches that skip or bind the list still work. */
TEST(pattern, never_reads_skipped_subterms) {
  ep_build b;
  ep_b_init(&b);
  ep_b_tuple(&b);
  ep_b_atom_name(&b, "data");
  ep_b_list(&b);
  for (int i = 0; i < 1000; i++) ep_b_int(&b, i);
  ep_b_end(&b);
  ep_b_binary(&b, "xyz", 3);
  ep_b_atom_name(&b, "last");
  ep_b_end(&b);
  ep_term t = ep_b_finish(&b, NULL);
  ep_b_free(&b);
  uint8_t *bytes = malloc(ep_term_size(t));
  memcpy(bytes, t, ep_term_size(t));
  ep_term list = ep_tuple_elem(t, 1);
  size_t at = (size_t)((const uint8_t *)list - (const uint8_t *)t);
  size_t inner = ep_term_size(list) - 5;                  /* all but the list header */
  memset(bytes + at + 5, 0xEE, inner);
  ep_term poisoned = (ep_term)(const void *)bytes;

  ep_pattern *skip = P("{data, _, B::bin, last}");
  ep_pattern *bind = P("{data, L, _, Last::atom}");
  ep_bin bin;
  ep_term l;
  ep_atom last;
  ck_assert(ep_match(skip, poisoned, &bin));
  ck_assert(bin.size == 3 && memcmp(bin.data, "xyz", 3) == 0);
  ck_assert(ep_match(bind, poisoned, &l, &last));
  ck_assert_ptr_eq((const void *)l, (const void *)(bytes + at));
  ck_assert(last == ep_atom_of("last"));
  ep_pattern_free(skip);
  ep_pattern_free(bind);
  free(bytes);
  ep_term_free(t);
}

/* --------------------------------------------------------- compile once -- */

static ep_pattern *_Atomic race_slot;
static const ep_pattern *race_seen[8];

static void *race(void *arg) {
  race_seen[(intptr_t)arg] = ep_pattern_once(&race_slot, "{race, X}");
  return NULL;
}

/* Test that ep_pattern_once compiles once when threads race: all of them
 * get the same pattern and the losers' copies are freed (ASan checks). */
TEST(pattern_once, race_gives_one_pattern) {
  pthread_t th[8];
  for (intptr_t i = 0; i < 8; i++) ck_assert_int_eq(pthread_create(&th[i], NULL, race, (void *)i), 0);
  for (int i = 0; i < 8; i++) pthread_join(th[i], NULL);
  for (int i = 0; i < 8; i++) ck_assert_ptr_eq(race_seen[i], race_seen[0]);
  ck_assert(ep_pattern_match(race_seen[0], T("{race, 1}"), NULL, NULL));
  ep_pattern_free(atomic_load(&race_slot));
}

/* Test that EP_PATTERN compiles on first use and returns the same pattern
 * on later calls. */
TEST(pattern_once, static_pattern_macro) {
  const ep_pattern *first = NULL;
  for (int i = 0; i < 3; i++) {
    EP_PATTERN(p_get, "{get, K}");
    if (!first) first = p_get;
    ck_assert_ptr_eq(p_get, first);
    ep_term k;
    ck_assert(ep_match(p_get, T("{get, key}"), &k));
  }
  ep_pattern_free((ep_pattern *)first);
}

/* Test that ep_pattern_once aborts with a message on bad text (a pattern
 * literal in a program is a programming error). */
TEST(pattern_once, bad_text_aborts) {
  pid_t child = fork();
  ck_assert_int_ge(child, 0);
  if (child == 0) {
    static ep_pattern *_Atomic slot;
    ep_pattern_once(&slot, "{bad");
    _exit(0);
  }
  int status;
  ck_assert_int_eq(waitpid(child, &status, 0), child);
  ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
}
