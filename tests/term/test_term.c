/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_term.c - the term core: atoms, builder, accessors, order, hash.
 */
#include "test.h"
#include <math.h>
#include <string.h>

#include "eproc/term.h"

static ep_term build_small(ep_pid pid) {
  ep_build b;
  ep_b_init(&b);
  ep_b_tuple(&b);
  ep_b_atom_name(&b, "tag");
  ep_b_int(&b, 42);
  ep_b_pid(&b, pid);
  ep_b_end(&b);
  int err;
  ep_term t = ep_b_finish(&b, &err);
  ep_b_free(&b);
  ck_assert_int_eq(err, 0);
  return t;
}

/* Test that predefined atoms sit at their enum index and that interning is idempotent. */
TEST(atom, predefined_and_interned) {
  ck_assert_str_eq(ep_atom_name(EP_A_EXIT, NULL), "EXIT");
  ck_assert_str_eq(ep_atom_name(EP_A_nonode_nohost, NULL), "nonode@nohost");
  ck_assert_int_eq(ep_atom_of("normal"), EP_A_normal);
  ep_atom a = ep_atom_of("a_fresh_atom"), b = ep_atom_of("a_fresh_atom");
  ck_assert(a != 0 && a == b);
  ck_assert_int_eq(ep_atom_find("never_made_atom_xyz", 19), 0);
}

/* Test that atom text is checked: bad UTF-8 and more than 255 characters are errors. */
TEST(atom, rejects_bad_utf8_and_long_names) {
  ep_atom a;
  ck_assert_int_eq(ep_atom_from("\xc0\x80", 2, &a), EP_EUTF8);       /* overlong */
  ck_assert_int_eq(ep_atom_from("\xed\xa0\x80", 3, &a), EP_EUTF8);   /* surrogate */
  char name[600];
  memset(name, 'x', 256);
  ck_assert_int_eq(ep_atom_from(name, 256, &a), EP_EATOMLEN);
  ck_assert_int_eq(ep_atom_from(name, 255, &a), 0);
  /* 255 characters of two bytes each is still fine */
  for (int i = 0; i < 255; i++) memcpy(name + 2 * i, "\xc3\xa9", 2);
  ck_assert_int_eq(ep_atom_from(name, 510, &a), 0);
  ck_assert_int_eq(ep_atom_of(NULL), 0);
}

/* Test that a built tuple reads back through every accessor. */
TEST(build, tuple_reads_back) {
  ep_pid pid = {57, 3, EP_NODE_LOCAL, 0};
  ep_term t = build_small(pid);
  ck_assert_int_eq(ep_type_of(t), EP_TTUPLE);
  ck_assert_int_eq(ep_tuple_arity(t), 3);
  ck_assert(ep_is_atom(ep_tuple_elem(t, 0), ep_atom_of("tag")));
  int64_t v;
  ck_assert_int_eq(ep_get_int(ep_tuple_elem(t, 1), &v), 0);
  ck_assert_int_eq(v, 42);
  ep_pid p;
  ck_assert_int_eq(ep_get_pid(ep_tuple_elem(t, 2), &p), 0);
  ck_assert(ep_pid_eq(p, pid));
  ck_assert_ptr_null(ep_tuple_elem(t, 3));
  ck_assert_int_eq(ep_get_int(t, &v), EP_EBADTERM);
  /* a copy is an equal, independent block of the same size */
  ep_term c = ep_term_dup(t);
  ck_assert(ep_exact_equal(c, t));
  ck_assert_int_eq(ep_term_size(c), ep_term_size(t));
  ep_term_free(t);
  ck_assert_int_eq(ep_tuple_arity(c), 3);
  ep_term_free(c);
}

/* Test that lists are cons chains: proper, improper and empty, with head/tail views. */
TEST(build, lists_proper_improper_empty) {
  ep_build b;
  ep_b_init(&b);
  ep_b_list(&b);
  for (int i = 1; i <= 3; i++) ep_b_int(&b, i);
  ep_b_end(&b);
  ep_term l = ep_b_finish(&b, NULL);
  ck_assert_int_eq(ep_list_length(l), 3);
  int64_t v;
  ep_get_int(ep_list_head(ep_list_tail(l)), &v);
  ck_assert_int_eq(v, 2);
  ck_assert_int_eq(ep_list_length(ep_list_tail(l)), 2);   /* a tail is a whole list */

  ep_b_list(&b);
  ep_b_int(&b, 1);
  ep_b_atom(&b, EP_A_ok);
  ep_b_end_tail(&b);                                  /* [1|ok] */
  ep_term imp = ep_b_finish(&b, NULL);
  ck_assert_int_eq(ep_list_length(imp), EP_EBADTERM);
  ck_assert(ep_is_atom(ep_list_tail(imp), EP_A_ok));

  ep_b_list(&b);
  ep_b_end(&b);
  ep_term nil = ep_b_finish(&b, NULL);
  ck_assert_int_eq(ep_type_of(nil), EP_TNIL);
  ck_assert_int_eq(ep_list_length(nil), 0);
  ep_b_free(&b);
  ep_term_free(l);
  ep_term_free(imp);
  ep_term_free(nil);
}

/* Test that a list of a million elements builds and is walked without recursion. */
TEST(build, long_list) {
  ep_build b;
  ep_b_init(&b);
  ep_b_list(&b);
  for (int i = 0; i < 1000000; i++) ep_b_int(&b, i);
  ep_b_end(&b);
  ep_term l = ep_b_finish(&b, NULL);
  ck_assert_int_eq(ep_list_length(l), 1000000);
  ep_term c = ep_term_dup(l);
  ck_assert_int_eq(ep_compare(l, c), 0);
  ck_assert_int_eq(ep_hash(l), ep_hash(c));
  ep_term_free(l);
  ep_term_free(c);
  ep_b_free(&b);
}

/* Test that map keys are sorted in term order and a repeated key keeps the last value. */
TEST(build, map_sorted_last_wins) {
  ep_build b;
  ep_b_init(&b);
  ep_b_map(&b);
  ep_b_atom_name(&b, "z"); ep_b_int(&b, 1);
  ep_b_int(&b, 5);         ep_b_int(&b, 2);
  ep_b_atom_name(&b, "a"); ep_b_int(&b, 3);
  ep_b_int(&b, 5);         ep_b_int(&b, 4);
  ep_b_end(&b);
  ep_term m = ep_b_finish(&b, NULL);
  ck_assert_int_eq(ep_map_size(m), 3);
  ep_term k, v;
  int64_t x;
  ep_map_pair(m, 0, &k, &v);                         /* numbers first */
  ep_get_int(k, &x); ck_assert_int_eq(x, 5);
  ep_get_int(v, &x); ck_assert_int_eq(x, 4);
  ep_map_pair(m, 1, &k, &v);
  ck_assert(ep_is_atom(k, ep_atom_of("a")));
  ep_smallterm s;
  ep_get_int(ep_map_get(m, ep_atom_term(&s, ep_atom_of("z"))), &x);
  ck_assert_int_eq(x, 1);
  ck_assert_ptr_null(ep_map_get(m, ep_atom_term(&s, ep_atom_of("q"))));
  ep_term_free(m);
  ep_b_free(&b);
}

/* Test that builder misuse is reported, sticky, and never crashes. */
TEST(build, errors_are_sticky) {
  ep_build b;
  int err;
  ep_b_init(&b);
  ep_b_float(&b, NAN);
  ep_b_int(&b, 1);
  ck_assert_ptr_null(ep_b_finish(&b, &err));
  ck_assert_int_eq(err, EP_ERANGE);

  ep_b_tuple(&b);                                    /* never closed */
  ck_assert_ptr_null(ep_b_finish(&b, &err));
  ck_assert_int_eq(err, EP_EINVAL);

  ep_b_int(&b, 1);
  ep_b_int(&b, 2);                                   /* two top-level terms */
  ck_assert_ptr_null(ep_b_finish(&b, &err));
  ck_assert_int_eq(err, EP_EINVAL);

  ep_b_map(&b);
  ep_b_int(&b, 1);                                   /* key without value */
  ep_b_end(&b);
  ck_assert_ptr_null(ep_b_finish(&b, &err));
  ck_assert_int_eq(err, EP_EINVAL);

  for (int i = 0; i <= EP_MAX_DEPTH; i++) ep_b_tuple(&b);
  ck_assert_ptr_null(ep_b_finish(&b, &err));
  ck_assert_int_eq(err, EP_EDEPTH);

  ep_b_end(&b);                                      /* nothing open */
  ck_assert_ptr_null(ep_b_finish(&b, &err));
  ck_assert_int_eq(err, EP_EINVAL);
  ep_b_free(&b);
}

/* Test that integers normalise: bigs that fit int64 are integers, others keep their magnitude. */
TEST(build, big_integers_normalise) {
  ep_build b;
  ep_b_init(&b);
  uint8_t mag[9] = {1, 0, 0, 0, 0, 0, 0, 0, 0};
  ep_b_big(&b, true, mag, 9);
  ep_term t = ep_b_finish(&b, NULL);
  ck_assert_int_eq(ep_type_of(t), EP_TINT);
  ep_term_free(t);
  ep_b_uint(&b, UINT64_MAX);
  t = ep_b_finish(&b, NULL);
  ck_assert_int_eq(ep_type_of(t), EP_TBIG);
  int64_t v;
  ck_assert_int_eq(ep_get_int(t, &v), EP_ERANGE);
  double d;
  ck_assert_int_eq(ep_get_number(t, &d), 0);
  ck_assert_double_eq_tol(d, 18446744073709551615.0, 1e4);
  ep_term_free(t);
  uint8_t min[8] = {0, 0, 0, 0, 0, 0, 0, 0x80};
  ep_b_big(&b, true, min, 8);                        /* -2^63 fits */
  t = ep_b_finish(&b, NULL);
  ck_assert_int_eq(ep_get_int(t, &v), 0);
  ck_assert_int_eq(v, INT64_MIN);
  ep_term_free(t);
  ep_b_free(&b);
}

/* Test that strings become code point lists and read back as UTF-8. */
TEST(build, strings_and_binaries) {
  ep_build b;
  ep_b_init(&b);
  ep_b_string(&b, "h\xc3\xa9llo");
  ep_term s = ep_b_finish(&b, NULL);
  ck_assert_int_eq(ep_list_length(s), 5);
  char buf[16];
  ck_assert_int_eq(ep_get_string(s, buf, sizeof buf), 6);
  ck_assert_str_eq(buf, "h\xc3\xa9llo");
  ck_assert_int_eq(ep_get_string(s, buf, 3), 6);         /* truncated like snprintf */
  ck_assert_int_eq(strlen(buf), 1);                      /* never half a character */
  ep_b_binary(&b, "bin", 3);
  ep_term bin = ep_b_finish(&b, NULL);
  ep_bin v;
  ck_assert_int_eq(ep_get_binary(bin, &v), 0);
  ck_assert_int_eq(v.size, 3);
  ck_assert_int_eq(memcmp(v.data, "bin", 3), 0);
  ep_b_string(&b, "\xff");
  int err;
  ck_assert_ptr_null(ep_b_finish(&b, &err));
  ck_assert_int_eq(err, EP_EUTF8);
  ep_term_free(s);
  ep_term_free(bin);
  ep_b_free(&b);
}

static void some_fn(void) {}

/* Test that a local function term carries its C function and argument. */
TEST(build, local_fun) {
  ep_build b;
  ep_b_init(&b);
  ep_b_tuple(&b);
  ep_b_atom_name(&b, "queue");
  ep_b_fun(&b, some_fn);
  ep_b_list(&b); ep_b_int(&b, 7); ep_b_end(&b);
  ep_b_atom(&b, EP_A_ok);
  ep_b_end(&b);
  ep_term t = ep_b_finish(&b, NULL);
  ck_assert_int_eq(ep_tuple_arity(t), 3);
  ep_fn fn;
  ep_term arg;
  ck_assert_int_eq(ep_get_fun(ep_tuple_elem(t, 1), &fn, &arg), 0);
  ck_assert(fn == some_fn);
  ck_assert_int_eq(ep_list_length(arg), 1);
  ck_assert(ep_is_atom(ep_tuple_elem(t, 2), EP_A_ok));
  ep_term_free(t);
  ep_b_free(&b);
}

static ep_term one(void (*f)(ep_build *, const void *), const void *arg) {
  ep_build b;
  ep_b_init(&b);
  f(&b, arg);
  ep_term t = ep_b_finish(&b, NULL);
  ep_b_free(&b);
  return t;
}
static void b_int(ep_build *b, const void *a) { ep_b_int(b, *(const int64_t *)a); }
static void b_flt(ep_build *b, const void *a) { ep_b_float(b, *(const double *)a); }
static void b_atom(ep_build *b, const void *a) { ep_b_atom_name(b, a); }
static void b_bin(ep_build *b, const void *a) { ep_b_binary(b, a, strlen(a)); }
static void b_str(ep_build *b, const void *a) { ep_b_string(b, a); }
static void b_nil(ep_build *b, const void *a) { (void)a; ep_b_nil(b); }
static void b_pid(ep_build *b, const void *a) { ep_b_pid(b, *(const ep_pid *)a); }
static void b_tup(ep_build *b, const void *a) { ep_b_tuple(b); ep_b_int(b, *(const int64_t *)a); ep_b_end(b); }
static void b_map(ep_build *b, const void *a) { ep_b_map(b); ep_b_int(b, 1); ep_b_term(b, a); ep_b_end(b); }
static void b_ref(ep_build *b, const void *a) { ep_b_ref(b, a); }

/* Test that the type order is number < atom < reference < fun < port < pid < tuple < map < nil < list < bitstring. */
TEST(order, erlang_type_order) {
  int64_t i1 = 1, i5 = 5;
  double f = 0.5;
  ep_pid pid = {1, 0, 0, 0};
  ep_ref ref = {0, 0, 3, {1, 2, 3}};
  ep_term atom = one(b_atom, "a");
  ep_term seq[] = {
    one(b_flt, &f), one(b_int, &i1), one(b_int, &i5), atom, one(b_ref, &ref), one(b_pid, &pid),
    one(b_tup, &i1), one(b_map, atom), one(b_nil, NULL), one(b_str, "a"), one(b_bin, "a")};
  size_t n = sizeof seq / sizeof *seq;
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < n; j++) {
      int c = ep_compare(seq[i], seq[j]);
      ck_assert_msg(c == (i > j) - (i < j), "compare(%zu,%zu) = %d", i, j, c);
    }
  for (size_t i = 0; i < n; i++) ep_term_free(seq[i]);
}

/* Test that 1 == 1.0 but not 1 =:= 1.0, and that 0.0 =:= -0.0 (OTP 25) with equal hashes. */
TEST(order, number_equality) {
  int64_t one_i = 1;
  double one_f = 1.0, z = 0.0, nz = -0.0;
  ep_term a = one(b_int, &one_i), b = one(b_flt, &one_f);
  ck_assert(ep_equal(a, b));
  ck_assert(!ep_exact_equal(a, b));
  ck_assert_int_eq(ep_compare(a, b), 0);
  ep_term c = one(b_flt, &z), d = one(b_flt, &nz);
  ck_assert(ep_exact_equal(c, d));
  ck_assert_int_eq(ep_hash(c), ep_hash(d));
  ep_term_free(a); ep_term_free(b); ep_term_free(c); ep_term_free(d);
}

/* Test that tuples compare by size first, lists element-wise, binaries bytewise then by length. */
TEST(order, containers) {
  ep_term t1, t2;
  ep_build b;
  ep_b_init(&b);
  ep_b_tuple(&b); ep_b_int(&b, 9); ep_b_end(&b);
  t1 = ep_b_finish(&b, NULL);
  ep_b_tuple(&b); ep_b_int(&b, 1); ep_b_int(&b, 1); ep_b_end(&b);
  t2 = ep_b_finish(&b, NULL);
  ck_assert_int_lt(ep_compare(t1, t2), 0);
  ep_term_free(t1); ep_term_free(t2);
  ep_b_string(&b, "ab"); t1 = ep_b_finish(&b, NULL);
  ep_b_string(&b, "abc"); t2 = ep_b_finish(&b, NULL);
  ck_assert_int_lt(ep_compare(t1, t2), 0);
  ck_assert_int_gt(ep_compare(t2, t1), 0);
  ep_term_free(t1); ep_term_free(t2);
  ep_b_binary(&b, "\1\2", 2); t1 = ep_b_finish(&b, NULL);
  ep_b_binary(&b, "\1\2\3", 3); t2 = ep_b_finish(&b, NULL);
  ck_assert_int_lt(ep_compare(t1, t2), 0);
  ep_term_free(t1); ep_term_free(t2);
  uint8_t bit = 0x80;
  ep_b_bits(&b, &bit, 1, 1); t1 = ep_b_finish(&b, NULL);   /* <<1:1>> */
  ep_b_binary(&b, "\0\0", 2); t2 = ep_b_finish(&b, NULL);
  ck_assert_int_gt(ep_compare(t1, t2), 0);                     /* as in erl 25 */
  ep_term_free(t1); ep_term_free(t2);
  ep_b_free(&b);
}

/* Test that a higher serial orders after a lower one, whatever the slot (<0.100.0> < <0.1.1>). */
TEST(order, pid_serial_first) {
  ep_pid a = {100, 0, 0, 0}, c = {1, 1, 0, 0};
  ep_term ta = one(b_pid, &a), tc = one(b_pid, &c);
  ck_assert_int_lt(ep_compare(ta, tc), 0);
  ep_term_free(ta); ep_term_free(tc);
}

/* Test that equal terms built separately hash alike and different ones (almost surely) do not. */
TEST(hash, consistent_with_equality) {
  ep_pid pid = {57, 3, 0, 0};
  ep_term a = build_small(pid), b = build_small(pid);
  pid.id++;
  ep_term c = build_small(pid);
  ck_assert_int_eq(ep_hash(a), ep_hash(b));
  ck_assert_uint_ne(ep_hash(a), ep_hash(c));
  ep_term_free(a); ep_term_free(b); ep_term_free(c);
}

/* Test that small terms in caller storage need no allocation and compare like built ones. */
TEST(smallterm, refs_and_atoms) {
  ep_smallterm s1, s2;
  ep_ref r = {0, 0, 3, {7, 8, 9}};
  ep_term t = ep_ref_term(&s1, &r);
  ep_ref back;
  ck_assert_int_eq(ep_get_ref(t, &back), 0);
  ck_assert(ep_ref_eq(&r, &back));
  ep_term u = one(b_ref, &r);
  ck_assert(ep_exact_equal(t, u));
  ep_term_free(u);
  r.len = 0;
  ck_assert_ptr_null(ep_ref_term(&s2, &r));
  ck_assert(ep_is_atom(ep_atom_term(&s2, EP_A_ok), EP_A_ok));
  ep_term nil = ep_nil_term(&s2);
  ck_assert_int_eq(ep_type_of(nil), EP_TNIL);
  ck_assert_uint_eq(ep_term_size(nil), 1);
  ck_assert_uint_eq(ep_list_length(nil), 0);
  ck_assert_str_eq(ep_err_name(EP_EDEPTH), "EP_EDEPTH");
  ck_assert_str_eq(ep_strerror(EP_ENOMEM), "out of memory");
}

/* Test that maps:put replaces or adds a key keeping the order, and maps:remove drops one. */
TEST(map, put_and_remove) {
  ep_term m, k, v, m2, m3;
  ck_assert_int_eq(ep_parse(&m, "#{a => 1, c => 3}"), 0);
  ck_assert_int_eq(ep_parse(&k, "b"), 0);
  ck_assert_int_eq(ep_parse(&v, "2"), 0);
  m2 = ep_map_put(m, k, v);
  char buf[64];
  ep_print(buf, sizeof buf, m2, EP_PRINT_ERLANG);
  ck_assert_str_eq(buf, "#{a => 1,b => 2,c => 3}");
  m3 = ep_map_put(m2, k, m);                      /* replace */
  ep_print(buf, sizeof buf, m3, EP_PRINT_ERLANG);
  ck_assert_str_eq(buf, "#{a => 1,b => #{a => 1,c => 3},c => 3}");
  ep_term_free(m3);
  m3 = ep_map_remove(m2, k);
  ck_assert(ep_exact_equal(m3, m));
  ck_assert_ptr_null(ep_map_put(k, k, v));        /* not a map */
  ep_term_free(m); ep_term_free(k); ep_term_free(v); ep_term_free(m2); ep_term_free(m3);
}
