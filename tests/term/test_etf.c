/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_etf.c - the external term format: encoding every type as OTP 25
 * does, decoding every tag OTP writes (and the older ones), and rejecting
 * hostile input with the right code and offset. The proof against a real
 * Erlang is tests/erl/run.sh; the byte vectors here were printed by erl 25.
 */
#include "test.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "eproc/term.h"
#include "term/term_int.h"

/* ------------------------------------------------------------ helpers -- */

static ep_term parse(const char *text) {
  ep_term t = NULL;
  int err = ep_parse(&t, text);
  ck_assert_msg(err == 0, "parse %s: %s", text, ep_err_name(err));
  return t;
}

static ep_term dec(const void *bytes, size_t n) {
  ep_term t = NULL;
  size_t off = 0;
  int err = ep_etf_decode(&t, bytes, n, &off);
  ck_assert_msg(err == 0, "decode: %s at offset %zu", ep_err_name(err), off);
  return t;
}

/* Decodes input that must fail; returns the code, *off the offset. */
static int dec_err(const void *bytes, size_t n, size_t *off) {
  ep_term t = NULL;
  size_t o = (size_t)-1;
  int err = ep_etf_decode(&t, bytes, n, &o);
  if (err == 0) ep_term_free(t);
  else ck_assert_msg(o != (size_t)-1, "no error offset for %s", ep_err_name(err));
  if (off) *off = o;
  return err;
}

static void expect_err(const void *bytes, size_t n, int want, size_t want_off) {
  size_t off;
  int err = dec_err(bytes, n, &off);
  ck_assert_msg(err == want, "got %s, want %s", ep_err_name(err), ep_err_name(want));
  ck_assert_uint_eq(off, want_off);
}

static uint8_t *enc(ep_term t, int flags, size_t *n) {
  uint8_t *b = NULL;
  int err = ep_etf_encode(t, flags, &b, n);
  ck_assert_msg(err == 0, "encode: %s", ep_err_name(err));
  return b;
}

/* A growable byte string for hand-made hostile inputs. */
typedef struct bytes { uint8_t *p; size_t n, cap; } bytes;

static void put(bytes *b, const void *s, size_t n) {
  if (b->n + n > b->cap) {
    b->cap = 2 * (b->n + n) + 64;
    b->p = realloc(b->p, b->cap);
    ck_assert_ptr_nonnull(b->p);
  }
  memcpy(b->p + b->n, s, n);
  b->n += n;
}
static void put8(bytes *b, unsigned v) { uint8_t c = (uint8_t)v; put(b, &c, 1); }
static void put32(bytes *b, uint32_t v) {
  uint8_t c[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
  put(b, c, 4);
}

/* ------------------------------------------------------------ encoding -- */

static const struct vec {
  const char *text;
  uint8_t latin1[40];
  size_t nl;
  uint8_t utf8[40];
  size_t nu;
} vecs[] = {   /* term_to_binary(T) and term_to_binary(T, [{minor_version, 2}]) in erl 25 */
  {"0", {131,97,0}, 3, {131,97,0}, 3},
  {"255", {131,97,255}, 3, {131,97,255}, 3},
  {"256", {131,98,0,0,1,0}, 6, {131,98,0,0,1,0}, 6},
  {"-1", {131,98,255,255,255,255}, 6, {131,98,255,255,255,255}, 6},
  {"2147483647", {131,98,127,255,255,255}, 6, {131,98,127,255,255,255}, 6},
  {"-2147483648", {131,98,128,0,0,0}, 6, {131,98,128,0,0,0}, 6},
  {"2147483648", {131,110,4,0,0,0,0,128}, 8, {131,110,4,0,0,0,0,128}, 8},
  {"-9223372036854775808", {131,110,8,1,0,0,0,0,0,0,0,128}, 12, {131,110,8,1,0,0,0,0,0,0,0,128}, 12},
  {"18446744073709551616", {131,110,9,0,0,0,0,0,0,0,0,0,1}, 13, {131,110,9,0,0,0,0,0,0,0,0,0,1}, 13},
  {"1.5", {131,70,63,248,0,0,0,0,0,0}, 10, {131,70,63,248,0,0,0,0,0,0}, 10},
  {"a", {131,100,0,1,97}, 5, {131,119,1,97}, 4},
  {"'hello world'", {131,100,0,11,104,101,108,108,111,32,119,111,114,108,100}, 15,
   {131,119,11,104,101,108,108,111,32,119,111,114,108,100}, 14},
  {"''", {131,100,0,0}, 4, {131,119,0}, 3},
  {"'\xc3\xa4'", {131,100,0,1,228}, 5, {131,119,2,195,164}, 5},
  {"'\xc3\xa4\xe4\xb8\xad'", {131,119,5,195,164,228,184,173}, 8, {131,119,5,195,164,228,184,173}, 8},
  {"[]", {131,106}, 2, {131,106}, 2},
  {"{}", {131,104,0}, 3, {131,104,0}, 3},
  {"#{}", {131,116,0,0,0,0}, 6, {131,116,0,0,0,0}, 6},
  {"\"abc\"", {131,107,0,3,97,98,99}, 7, {131,107,0,3,97,98,99}, 7},
  {"[1,2,a|b]", {131,108,0,0,0,3,97,1,97,2,100,0,1,97,100,0,1,98}, 18,
   {131,108,0,0,0,3,97,1,97,2,119,1,97,119,1,98}, 16},
  {"[256]", {131,108,0,0,0,1,98,0,0,1,0,106}, 12, {131,108,0,0,0,1,98,0,0,1,0,106}, 12},
  {"{a,{b,[]}}", {131,104,2,100,0,1,97,104,2,100,0,1,98,106}, 14,
   {131,104,2,119,1,97,104,2,119,1,98,106}, 12},
  {"<<1,2,3>>", {131,109,0,0,0,3,1,2,3}, 9, {131,109,0,0,0,3,1,2,3}, 9},
  {"<<>>", {131,109,0,0,0,0}, 6, {131,109,0,0,0,0}, 6},
  {"#{b => 1, a => 2, 1.0 => x, 2 => y}",
   {131,116,0,0,0,4,97,2,100,0,1,121,70,63,240,0,0,0,0,0,0,100,0,1,120,100,0,1,97,97,2,100,0,1,98,97,1}, 37,
   {131,116,0,0,0,4,97,2,119,1,121,70,63,240,0,0,0,0,0,0,119,1,120,119,1,97,97,2,119,1,98,97,1}, 33},
  {"[<<>>|<<>>]", {131,108,0,0,0,1,109,0,0,0,0,109,0,0,0,0}, 16, {131,108,0,0,0,1,109,0,0,0,0,109,0,0,0,0}, 16},
  {"[\"ab\",[]]", {131,108,0,0,0,2,107,0,2,97,98,106,106}, 13, {131,108,0,0,0,2,107,0,2,97,98,106,106}, 13},
};

/* Test that every type encodes to OTP 25's bytes in both atom modes, that
 * ep_etf_size agrees, and that the bytes decode back to the same term. */
TEST(etf, encodes_like_otp_both_atom_modes) {
  for (size_t i = 0; i < sizeof vecs / sizeof *vecs; i++) {
    const struct vec *v = &vecs[i];
    ep_term t = parse(v->text);
    for (int m = 0; m < 2; m++) {
      int flags = m ? EP_ETF_LATIN1_ATOMS : EP_ETF_UTF8_ATOMS;
      const uint8_t *want = m ? v->latin1 : v->utf8;
      size_t nw = m ? v->nl : v->nu, n, sz;
      uint8_t *b = enc(t, flags, &n);
      ck_assert_msg(n == nw && memcmp(b, want, n) == 0, "%s mode %d", v->text, m);
      ck_assert_int_eq(ep_etf_size(t, flags, &sz), 0);
      ck_assert_uint_eq(sz, n);
      ep_term back = dec(want, nw);
      ck_assert_msg(ep_exact_equal(back, t), "%s mode %d decodes differently", v->text, m);
      ep_term_free(back);
      free(b);
    }
    ep_term_free(t);
  }
}

/* Test that -0.0 keeps its sign bit and a bit string its trailing bits. */
TEST(etf, negative_zero_and_bitstring_bytes) {
  ep_build b;
  ep_b_init(&b);
  ep_b_tuple(&b);
  ep_b_float(&b, -0.0);
  ep_b_bits(&b, "\x01\x02\x7f", 3, 3);   /* <<1,2,3:3>>: unused low bits dropped */
  ep_b_end(&b);
  ep_term t = ep_b_finish(&b, NULL);
  ep_b_free(&b);
  static const uint8_t want[] = {131, 104, 2, 70, 128, 0, 0, 0, 0, 0, 0, 0, 77, 0, 0, 0, 3, 3, 1, 2, 96};
  size_t n;
  uint8_t *e = enc(t, EP_ETF_UTF8_ATOMS, &n);
  ck_assert_uint_eq(n, sizeof want);
  ck_assert_mem_eq(e, want, n);
  free(e);
  ep_term_free(t);
}

/* Test that local pids, refs and ports go out as nonode@nohost, creation 0
 * (as erl 25 writes self()), and come back local; another node's stay its. */
TEST(etf, local_and_remote_pids_refs_ports) {
  static const uint8_t self_latin1[] = {131, 88, 100, 0, 13, 'n', 'o', 'n', 'o', 'd', 'e', '@', 'n', 'o', 'h', 'o',
                                        's', 't', 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0};
  ep_smallterm s;
  ep_pid pid = {9, 0, EP_NODE_LOCAL, 0};
  size_t n;
  uint8_t *e = enc(ep_pid_term(&s, pid), EP_ETF_LATIN1_ATOMS, &n);
  ck_assert_uint_eq(n, sizeof self_latin1);
  ck_assert_mem_eq(e, self_latin1, n);
  free(e);
  ep_pid got;
  ep_term t = dec(self_latin1, sizeof self_latin1);
  ck_assert_int_eq(ep_get_pid(t, &got), 0);
  ck_assert(ep_pid_eq(got, pid));
  ep_term_free(t);

  /* the same node name with another creation is another node */
  uint8_t other[sizeof self_latin1];
  memcpy(other, self_latin1, sizeof other);
  other[sizeof other - 1] = 2;
  t = dec(other, sizeof other);
  ck_assert_int_eq(ep_get_pid(t, &got), 0);
  ck_assert_uint_eq(got.node, EP_A_nonode_nohost);
  ck_assert_uint_eq(got.creation, 2);
  e = enc(t, EP_ETF_LATIN1_ATOMS, &n);
  ck_assert_mem_eq(e, other, n);
  free(e);
  ep_term_free(t);

  ep_ref r = {ep_atom_of("a@b"), 7, 5, {1, 2, 3, 4, 5}}, rgot;
  e = enc(ep_ref_term(&s, &r), EP_ETF_UTF8_ATOMS, &n);
  static const uint8_t ref_utf8[] = {131, 90, 0, 5, 119, 3, 'a', '@', 'b', 0, 0, 0, 7, 0, 0, 0, 1, 0, 0, 0, 2,
                                     0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 5};
  ck_assert_uint_eq(n, sizeof ref_utf8);
  ck_assert_mem_eq(e, ref_utf8, n);
  t = dec(e, n);
  ck_assert_int_eq(ep_get_ref(t, &rgot), 0);
  ck_assert(ep_ref_eq(&r, &rgot));
  free(e);
  ep_term_free(t);

  /* ports: NEW_PORT_EXT up to 28 bits of id, V4_PORT_EXT beyond (as OTP 24+) */
  ep_build b;
  ep_b_init(&b);
  ep_b_tuple(&b);
  ep_b_port(&b, &(ep_port){EP_NODE_LOCAL, 0, 0x0fffffff});
  ep_b_port(&b, &(ep_port){EP_NODE_LOCAL, 0, 0x10000000});
  ep_b_end(&b);
  t = ep_b_finish(&b, NULL);
  ep_b_free(&b);
  e = enc(t, EP_ETF_UTF8_ATOMS, &n);
  ck_assert_uint_eq(e[3], 89);
  ck_assert_uint_eq(e[3 + 1 + 2 + 13 + 8], 120);
  ep_term back = dec(e, n);
  ck_assert(ep_exact_equal(back, t));
  free(e);
  ep_term_free(back);
  ep_term_free(t);
}

/* Test that the local node's name and creation can be set for distribution:
 * local terms then carry them, and only they decode as local. */
TEST(etf, local_node_setting) {
  ep_atom me = ep_atom_of("me@host");
  ep__etf_set_local_node(me, 5);
  ep_smallterm s;
  size_t n;
  uint8_t *e = enc(ep_pid_term(&s, (ep_pid){1, 2, EP_NODE_LOCAL, 0}), EP_ETF_UTF8_ATOMS, &n);
  static const uint8_t want[] = {131, 88, 119, 7, 'm', 'e', '@', 'h', 'o', 's', 't', 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 5};
  ck_assert_uint_eq(n, sizeof want);
  ck_assert_mem_eq(e, want, n);
  ep_pid got;
  ep_term t = dec(e, n);
  ep_get_pid(t, &got);
  ck_assert_uint_eq(got.node, EP_NODE_LOCAL);
  ep_term_free(t);
  e[n - 1] = 6;                        /* an older incarnation of this node */
  t = dec(e, n);
  ep_get_pid(t, &got);
  ck_assert_uint_eq(got.node, me);
  ck_assert_uint_eq(got.creation, 6);
  ep_term_free(t);
  free(e);
  ep__etf_set_local_node(EP_A_nonode_nohost, 0);
}

/* Test that STRING_EXT is used exactly as OTP does: proper lists of at most
 * 65535 integers 0..255; anything else is LIST_EXT. */
TEST(etf, string_ext_boundaries) {
  for (int k = 0; k < 2; k++) {
    size_t len = k ? 65536 : 65535;
    ep_build b;
    ep_b_init(&b);
    ep_b_list(&b);
    for (size_t i = 0; i < len; i++) ep_b_int(&b, (int64_t)(i & 0xff));
    ep_b_end(&b);
    ep_term t = ep_b_finish(&b, NULL);
    ep_b_free(&b);
    size_t n;
    uint8_t *e = enc(t, EP_ETF_UTF8_ATOMS, &n);
    ck_assert_uint_eq(e[1], k ? 108 : 107);
    ck_assert_uint_eq(n, k ? 1 + 5 + 2 * len + 1 : 1 + 3 + len);
    ep_term back = dec(e, n);
    ck_assert(ep_exact_equal(back, t));
    ck_assert_int_eq(ep_list_length(back), (long)len);
    free(e);
    ep_term_free(back);
    ep_term_free(t);
  }
  ep_term t = parse("[1,2|3]");
  size_t n;
  uint8_t *e = enc(t, EP_ETF_UTF8_ATOMS, &n);
  ck_assert_uint_eq(e[1], 108);
  free(e);
  ep_term_free(t);
}

/* ------------------------------------------------------ decoding tags -- */

/* Test that the tags OTP no longer writes still decode: ATOM_EXT and
 * SMALL_ATOM_EXT (latin-1), FLOAT_EXT text, PID_EXT, PORT_EXT,
 * REFERENCE_EXT and NEW_REFERENCE_EXT. */
TEST(etf, decodes_old_tags) {
  static const uint8_t atoms[] = {131, 104, 2, 115, 2, 'h', 0xe9, 100, 0, 1, 0xff};
  ep_term t = dec(atoms, sizeof atoms);
  ck_assert(ep_is_atom(ep_tuple_elem(t, 0), ep_atom_of("h\xc3\xa9")));
  ck_assert(ep_is_atom(ep_tuple_elem(t, 1), ep_atom_of("\xc3\xbf")));
  ep_term_free(t);

  uint8_t fl[33] = {131, 99};
  memcpy(fl + 2, "1.50000000000000000000e+00", 26);
  t = dec(fl, sizeof fl);
  double d;
  ck_assert_int_eq(ep_get_float(t, &d), 0);
  ck_assert(d == 1.5);
  ep_term_free(t);

  static const uint8_t pid[] = {131, 103, 100, 0, 3, 'a', '@', 'b', 0, 0, 0, 5, 0, 0, 0, 6, 3};
  ep_pid p;
  t = dec(pid, sizeof pid);
  ck_assert_int_eq(ep_get_pid(t, &p), 0);
  ck_assert(p.node == ep_atom_of("a@b") && p.id == 5 && p.serial == 6 && p.creation == 3);
  ep_term_free(t);

  static const uint8_t port[] = {131, 102, 100, 0, 3, 'a', '@', 'b', 0, 0, 0, 9, 2};
  ep_port o;
  t = dec(port, sizeof port);
  ck_assert_int_eq(ep_get_port(t, &o), 0);
  ck_assert(o.node == ep_atom_of("a@b") && o.id == 9 && o.creation == 2);
  ep_term_free(t);

  static const uint8_t ref[] = {131, 101, 100, 0, 3, 'a', '@', 'b', 0, 0, 0, 9, 2};
  ep_ref r;
  t = dec(ref, sizeof ref);
  ck_assert_int_eq(ep_get_ref(t, &r), 0);
  ck_assert(r.len == 1 && r.w[0] == 9 && r.creation == 2);
  ep_term_free(t);

  static const uint8_t nref[] = {131, 114, 0, 2, 100, 0, 3, 'a', '@', 'b', 1, 0, 0, 0, 7, 0, 0, 0, 8};
  t = dec(nref, sizeof nref);
  ck_assert_int_eq(ep_get_ref(t, &r), 0);
  ck_assert(r.len == 2 && r.w[0] == 7 && r.w[1] == 8 && r.creation == 1);
  ep_term_free(t);
}

/* Test that big integers that fit int64 become plain integers, whatever
 * their padding, and that the rest stay big and re-encode minimal. */
TEST(etf, big_integers_normalise) {
  static const uint8_t padded[] = {131, 110, 4, 1, 5, 0, 0, 0};           /* -5, zero-padded */
  static const uint8_t min[] = {131, 110, 8, 1, 0, 0, 0, 0, 0, 0, 0, 128}; /* -2^63 */
  static const uint8_t neg0[] = {131, 111, 0, 0, 0, 0, 1};                 /* LARGE_BIG -0 */
  static const uint8_t two63[] = {131, 110, 9, 0, 0, 0, 0, 0, 0, 0, 0, 128, 0};
  int64_t v;
  ep_term t = dec(padded, sizeof padded);
  ck_assert(ep_get_int(t, &v) == 0 && v == -5);
  ep_term_free(t);
  t = dec(min, sizeof min);
  ck_assert(ep_get_int(t, &v) == 0 && v == INT64_MIN);
  ep_term_free(t);
  t = dec(neg0, sizeof neg0);
  ck_assert(ep_get_int(t, &v) == 0 && v == 0);
  ep_term_free(t);
  t = dec(two63, sizeof two63);
  ck_assert_int_eq(ep_type_of(t), EP_TBIG);
  size_t n;
  uint8_t *e = enc(t, EP_ETF_UTF8_ATOMS, &n);
  static const uint8_t minimal[] = {131, 110, 8, 0, 0, 0, 0, 0, 0, 0, 0, 128};
  ck_assert_uint_eq(n, sizeof minimal);
  ck_assert_mem_eq(e, minimal, n);
  free(e);
  ep_term_free(t);
}

/* Test the list forms OTP accepts: LIST_EXT of length 0 is its tail,
 * a LIST_EXT or STRING_EXT tail continues the list, and the result is the
 * same term as the flat list (so it re-encodes as OTP would). */
TEST(etf, list_tails_and_empty_list_ext) {
  static const uint8_t zero[] = {131, 108, 0, 0, 0, 0, 97, 5};                     /* 5 */
  static const uint8_t chain[] = {131, 108, 0, 0, 0, 1, 97, 1, 108, 0, 0, 0, 1, 97, 2, 107, 0, 1, 3};
  ep_term t = dec(zero, sizeof zero), want = parse("5");
  ck_assert(ep_exact_equal(t, want));
  ep_term_free(t);
  ep_term_free(want);
  t = dec(chain, sizeof chain);
  want = parse("[1,2,3]");
  ck_assert(ep_exact_equal(t, want));
  size_t n;
  uint8_t *e = enc(t, EP_ETF_UTF8_ATOMS, &n);
  static const uint8_t flat[] = {131, 107, 0, 3, 1, 2, 3};
  ck_assert_mem_eq(e, flat, sizeof flat);
  free(e);
  ep_term_free(t);
  ep_term_free(want);

  /* a million-long chain of one-element LIST_EXT tails: no depth, no recursion */
  bytes b = {0};
  put8(&b, 131);
  for (int i = 0; i < 1000000; i++) {
    put8(&b, 108);
    put32(&b, 1);
    put8(&b, 97);
    put8(&b, (unsigned)(i & 0xff));
  }
  put8(&b, 106);
  t = dec(b.p, b.n);
  ck_assert_int_eq(ep_list_length(t), 1000000);
  ep_term_free(t);
  free(b.p);
}

/* Test that map pairs in any order decode sorted into map key order (all
 * integers before all floats), and that a large shuffled map works. */
TEST(etf, maps_sort_keys) {
  static const uint8_t unsorted[] = {131, 116, 0, 0, 0, 3, 70, 63, 240, 0, 0, 0, 0, 0, 0, 97, 1,
                                     100, 0, 1, 'a', 97, 2, 97, 2, 97, 3};   /* #{1.0=>1, a=>2, 2=>3} */
  ep_term t = dec(unsorted, sizeof unsorted), want = parse("#{2 => 3, 1.0 => 1, a => 2}");
  ck_assert(ep_exact_equal(t, want));
  ep_term k;
  ep_map_pair(t, 0, &k, NULL);
  int64_t v;
  ck_assert(ep_get_int(k, &v) == 0 && v == 2);
  ep_term_free(t);
  ep_term_free(want);

  bytes b = {0};
  put8(&b, 131);
  put8(&b, 116);
  put32(&b, 1000);
  for (uint32_t i = 0; i < 1000; i++) {
    put8(&b, 98);
    put32(&b, (i * 7919u) % 1000u);   /* a permutation of 0..999 */
    put8(&b, 106);
  }
  t = dec(b.p, b.n);
  ck_assert_uint_eq(ep_map_size(t), 1000);
  for (uint32_t i = 0; i < 1000; i++) {
    ep_map_pair(t, i, &k, NULL);
    ck_assert(ep_get_int(k, &v) == 0 && v == (int64_t)i);
  }
  ep_term_free(t);
  free(b.p);
}

/* Test that bit strings decode as binary_to_term does: 8 bits in the last
 * byte is a binary, unused bits are cleared, and inconsistent bit counts
 * are rejected. */
TEST(etf, bit_binaries) {
  static const uint8_t full[] = {131, 77, 0, 0, 0, 2, 8, 1, 2};
  static const uint8_t empty[] = {131, 77, 0, 0, 0, 0, 0};
  static const uint8_t dirty[] = {131, 77, 0, 0, 0, 1, 3, 0xff};
  ep_term t = dec(full, sizeof full), want = parse("<<1,2>>");
  ck_assert(ep_exact_equal(t, want));
  ep_term_free(t);
  ep_term_free(want);
  t = dec(empty, sizeof empty);
  want = parse("<<>>");
  ck_assert(ep_exact_equal(t, want));
  ep_term_free(t);
  ep_term_free(want);
  t = dec(dirty, sizeof dirty);
  ck_assert_int_eq(ep_type_of(t), EP_TBITS);
  ck_assert_uint_eq(((const uint8_t *)t)[6], 0xe0);
  ep_term_free(t);
  static const uint8_t zero_bits[] = {131, 77, 0, 0, 0, 1, 0, 1};
  static const uint8_t nine_bits[] = {131, 77, 0, 0, 0, 1, 9, 1};
  static const uint8_t bits_no_bytes[] = {131, 77, 0, 0, 0, 0, 3};
  expect_err(zero_bits, sizeof zero_bits, EP_ERANGE, 1);
  expect_err(nine_bits, sizeof nine_bits, EP_ERANGE, 1);
  expect_err(bits_no_bytes, sizeof bits_no_bytes, EP_ERANGE, 1);
}

static void set_size(uint8_t *z, uint32_t v) {
  z[2] = (uint8_t)(v >> 24), z[3] = (uint8_t)(v >> 16), z[4] = (uint8_t)(v >> 8), z[5] = (uint8_t)v;
}

/* Test that compressed input (tag 80, as term_to_binary(T, [compressed]))
 * decodes to the same term as the plain bytes. */
TEST(etf, compressed_input) {
  ep_term t = parse("{hello, \"world\", [1,2,3], <<0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0>>}");
  size_t n;
  uint8_t *plain = enc(t, EP_ETF_UTF8_ATOMS, &n);
  uLongf zn = compressBound(n - 1);
  uint8_t *z = malloc(7 + zn), *bad = malloc(7 + zn);
  z[0] = 131;
  z[1] = 80;
  set_size(z, (uint32_t)(n - 1));
  ck_assert_int_eq(compress(z + 6, &zn, plain + 1, n - 1), Z_OK);
  ep_term back = dec(z, 6 + zn);
  ck_assert(ep_exact_equal(back, t));
  ep_term_free(back);

  /* a declared size that is too small, too large or huge is a lie (and
   * the huge one is not allocated up front) */
  uint32_t lies[] = {(uint32_t)(n - 2), (uint32_t)n, 0x7fffffff, 0};
  for (size_t i = 0; i < 4; i++) {
    memcpy(bad, z, 6 + zn);
    set_size(bad, lies[i]);
    expect_err(bad, 6 + zn, EP_EZLIB, 1);
  }
  /* corrupt, cut short, bytes after the stream, no room for the size */
  memcpy(bad, z, 6 + zn);
  bad[6] ^= 0xff;
  expect_err(bad, 6 + zn, EP_EZLIB, 1);
  expect_err(z, 6 + zn - 3, EP_EZLIB, 1);
  memcpy(bad, z, 6 + zn);
  bad[6 + zn] = 0;
  expect_err(bad, 7 + zn, EP_ETRAILING, 6 + zn);
  expect_err(z, 5, EP_ETRUNC, 1);
  free(bad);
  free(z);
  free(plain);
  ep_term_free(t);
}

/* Test that a compressed payload holding a bad term reports the offset the
 * same term would have uncompressed. */
TEST(etf, compressed_inner_error_offset) {
  static const uint8_t inner[] = {104, 2, 97, 1, 255};     /* {1, <tag 255>} */
  uLongf zn = compressBound(sizeof inner);
  uint8_t z[64] = {131, 80, 0, 0, 0, sizeof inner};
  ck_assert_int_eq(compress(z + 6, &zn, inner, sizeof inner), Z_OK);
  expect_err(z, 6 + zn, EP_EBADTAG, 5);
}

/* ---------------------------------------------------------- bad input -- */

/* Test that every proper prefix of valid encodings of every type is
 * rejected as truncated (never read past the end, never a crash). */
TEST(etf, every_truncation_is_etrunc) {
  static const char *const texts[] = {
    "{a, 1, -70000, 12345678901234567890123, 1.5, <<1,2,3>>, \"str\", [x|y], #{k => [v]}}",
    "[<0.57.3>, #Ref<0.1.2.3>, 'atom with \xc3\xa4', [], {}, #{}]"};
  for (size_t k = 0; k < 2; k++) {
    ep_term t = parse(texts[k]);
    ep_build b;
    ep_b_init(&b);
    ep_b_tuple(&b);
    ep_b_term(&b, t);
    ep_b_bits(&b, "\xf0", 1, 4);
    ep_b_port(&b, &(ep_port){ep_atom_of("n@h"), 1, 1ull << 40});
    ep_b_end(&b);
    ep_term all = ep_b_finish(&b, NULL);
    ep_b_free(&b);
    for (int m = 0; m < 2; m++) {
      size_t n;
      uint8_t *e = enc(all, m, &n);
      for (size_t cut = 0; cut < n; cut++) {
        uint8_t *copy = malloc(cut ? cut : 1);    /* exact size: ASan sees overreads */
        memcpy(copy, e, cut);
        size_t off;
        int err = dec_err(copy, cut, &off);
        ck_assert_msg(err == EP_ETRUNC, "cut at %zu: %s", cut, ep_err_name(err));
        ck_assert_uint_le(off, cut);
        free(copy);
      }
      free(e);
    }
    ep_term_free(all);
    ep_term_free(t);
  }
}

/* Test that lengths claiming more than the input holds fail at once with
 * EP_ETRUNC at the lying tag, before anything is allocated for them. */
TEST(etf, huge_lengths_fail_before_allocating) {
  static const uint8_t list[] = {131, 108, 255, 255, 255, 255, 106, 106, 106, 106};
  static const uint8_t tuple[] = {131, 105, 255, 255, 255, 255, 106};
  static const uint8_t map[] = {131, 116, 128, 0, 0, 0, 106, 106};
  static const uint8_t bin[] = {131, 109, 255, 255, 255, 255, 0};
  static const uint8_t str[] = {131, 107, 255, 255, 1};
  static const uint8_t big[] = {131, 111, 255, 255, 255, 255, 0, 1};
  static const uint8_t atom[] = {131, 118, 255, 255, 'a'};
  static const uint8_t ref[] = {131, 90, 255, 255, 119, 1, 'n', 0, 0, 0, 0, 0, 0, 0, 1};
  static const uint8_t nested[] = {131, 104, 2, 108, 0, 0, 255, 255, 97, 1, 106};
  expect_err(list, sizeof list, EP_ETRUNC, 1);
  expect_err(tuple, sizeof tuple, EP_ETRUNC, 1);
  expect_err(map, sizeof map, EP_ETRUNC, 1);
  expect_err(bin, sizeof bin, EP_ETRUNC, 1);
  expect_err(str, sizeof str, EP_ETRUNC, 1);
  expect_err(big, sizeof big, EP_ETRUNC, 1);
  expect_err(atom, sizeof atom, EP_ETRUNC, 1);
  expect_err(ref, sizeof ref, EP_ETRUNC, 1);
  expect_err(nested, sizeof nested, EP_ETRUNC, 3);
}

/* Test that nesting past EP_MAX_DEPTH is EP_EDEPTH, even 100k levels deep
 * (no C recursion), while exactly EP_MAX_DEPTH levels decode. */
TEST(etf, deep_nesting) {
  static const uint8_t opens[][5] = {{104, 1}, {108, 0, 0, 0, 1}, {116, 0, 0, 0, 1}};
  static const size_t olen[] = {2, 5, 5};
  for (int kind = 0; kind < 3; kind++) {
    size_t levels[] = {EP_MAX_DEPTH, EP_MAX_DEPTH + 1, 100000};
    for (int l = 0; l < 3; l++) {
      bytes b = {0};
      put8(&b, 131);
      for (size_t i = 0; i < levels[l]; i++) {
        put(&b, opens[kind], olen[kind]);
        if (kind == 2) put8(&b, 106);          /* the key; the value nests */
      }
      put(&b, "\x77\x01\x61", 3);             /* an atom: [1] would be a string */
      for (size_t i = 0; i < levels[l] && kind == 1; i++) put8(&b, 106);
      if (l == 0) {
        ep_term t = dec(b.p, b.n);
        size_t n;
        uint8_t *e = enc(t, EP_ETF_UTF8_ATOMS, &n);
        ck_assert_uint_eq(n, b.n);
        ck_assert_mem_eq(e, b.p, n);
        free(e);
        ep_term_free(t);
      } else {
        size_t off;
        ck_assert_int_eq(dec_err(b.p, b.n, &off), EP_EDEPTH);
        ck_assert_uint_eq(off, 1 + EP_MAX_DEPTH * (olen[kind] + (kind == 2)));
      }
      free(b.p);
    }
  }
}

/* Test that atom text is checked: bad UTF-8 is EP_EUTF8, more than 255
 * characters EP_EATOMLEN, in every atom tag; 255 characters decode. */
TEST(etf, atom_text_checked) {
  static const uint8_t bad_utf8[] = {131, 119, 2, 0xc0, 0x80};
  static const uint8_t surrogate[] = {131, 118, 0, 3, 0xed, 0xa0, 0x80};
  static const uint8_t cut_char[] = {131, 119, 1, 0xc3};
  expect_err(bad_utf8, sizeof bad_utf8, EP_EUTF8, 1);
  expect_err(surrogate, sizeof surrogate, EP_EUTF8, 1);
  expect_err(cut_char, sizeof cut_char, EP_EUTF8, 1);
  for (int tag = 0; tag < 2; tag++) {         /* ATOM_EXT (latin-1 é), ATOM_UTF8_EXT (UTF-8 é) */
    for (unsigned len = 255; len <= 256; len++) {
      bytes b = {0};
      unsigned nbytes = tag ? 2 * len : len;
      put8(&b, 131);
      put8(&b, tag ? 118 : 100);
      put8(&b, nbytes >> 8);
      put8(&b, nbytes & 0xff);
      for (unsigned i = 0; i < len; i++) {
        if (tag) put(&b, "\xc3\xa9", 2);
        else put8(&b, 0xe9);
      }
      if (len == 255) {
        ep_term t = dec(b.p, b.n);
        ck_assert_int_eq(ep_type_of(t), EP_TATOM);
        ep_term_free(t);
      } else {
        expect_err(b.p, b.n, EP_EATOMLEN, 1);
      }
      free(b.p);
    }
  }
  static const uint8_t node_not_atom[] = {131, 88, 97, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1};
  expect_err(node_not_atom, sizeof node_not_atom, EP_EBADTAG, 1);
}

/* Test that floats must be finite: NaN and infinities are EP_ERANGE, as is
 * FLOAT_EXT text that is not a number. */
TEST(etf, floats_must_be_finite) {
  static const uint8_t nan[] = {131, 70, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0};
  static const uint8_t inf[] = {131, 70, 0xff, 0xf0, 0, 0, 0, 0, 0, 0};
  expect_err(nan, sizeof nan, EP_ERANGE, 1);
  expect_err(inf, sizeof inf, EP_ERANGE, 1);
  static const char *const texts[] = {"nan", "inf", "1e999", "", "0x1p3", "1.0junk"};
  for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
    uint8_t fl[33] = {131, 99};
    memcpy(fl + 2, texts[i], strlen(texts[i]));
    expect_err(fl, sizeof fl, EP_ERANGE, 1);
  }
}

/* Test the framing errors: nothing, a bad version byte, trailing bytes,
 * unsupported tags (funs, exports, atom cache refs, distribution headers)
 * and bad field values, each with its offset. */
TEST(etf, framing_and_unsupported_tags) {
  expect_err("", 0, EP_ETRUNC, 0);
  static const uint8_t v130[] = {130, 106};
  static const uint8_t trailing[] = {131, 106, 0};
  expect_err(v130, sizeof v130, EP_EBADVER, 0);
  expect_err(trailing, sizeof trailing, EP_ETRAILING, 2);
  static const uint8_t tags[] = {112, 113, 117, 82, 68, 69, 121, 0, 255, 80};
  for (size_t i = 0; i < sizeof tags; i++) {
    uint8_t in[] = {131, 104, 2, 106, tags[i], 0, 0, 0, 0, 0, 0, 0, 0};
    expect_err(in, sizeof in, EP_EBADTAG, 4);
  }
  static const uint8_t ref0[] = {131, 90, 0, 0, 119, 1, 'n', 0, 0, 0, 0};
  static const uint8_t ref6[] = {131, 90, 0, 6, 119, 1, 'n', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  expect_err(ref0, sizeof ref0, EP_ERANGE, 1);
  expect_err(ref6, sizeof ref6, EP_ERANGE, 1);
  size_t off;
  ck_assert_int_eq(ep_etf_decode(NULL, v130, 2, &off), EP_EINVAL);
}

/* Test that duplicate map keys (=:=) are rejected, adjacent or not, while
 * 1 and 1.0 are two keys. */
TEST(etf, duplicate_map_keys) {
  static const uint8_t adjacent[] = {131, 104, 1, 116, 0, 0, 0, 2, 97, 1, 106, 97, 1, 106};
  static const uint8_t apart[] = {131, 116, 0, 0, 0, 3, 97, 2, 106, 97, 1, 106, 97, 2, 106};
  static const uint8_t int_float[] = {131, 116, 0, 0, 0, 2, 97, 1, 106, 70, 63, 240, 0, 0, 0, 0, 0, 0, 106};
  expect_err(adjacent, sizeof adjacent, EP_EDUPKEY, 3);
  expect_err(apart, sizeof apart, EP_EDUPKEY, 1);
  ep_term t = dec(int_float, sizeof int_float);
  ck_assert_uint_eq(ep_map_size(t), 2);
  ep_term_free(t);
}

/* ------------------------------------------------------- API contracts -- */

/* Test that a local function term cannot be encoded (EP_ELOCALFUN), and
 * that encode_to reports the size it needs when the buffer is short. */
TEST(etf, encode_errors) {
  ep_build b;
  ep_b_init(&b);
  ep_b_tuple(&b);
  ep_b_fun(&b, (ep_fn)abort);
  ep_b_nil(&b);
  ep_b_end(&b);
  ep_term f = ep_b_finish(&b, NULL);
  ep_b_free(&b);
  uint8_t *out;
  size_t n;
  ck_assert_int_eq(ep_etf_encode(f, EP_ETF_UTF8_ATOMS, &out, &n), EP_ELOCALFUN);
  ck_assert_int_eq(ep_etf_size(f, EP_ETF_UTF8_ATOMS, &n), EP_ELOCALFUN);
  ep_term_free(f);

  ep_term t = parse("{abc, 1}");
  uint8_t buf[64];
  ck_assert_int_eq(ep_etf_encode_to(t, EP_ETF_UTF8_ATOMS, buf, 4, &n), EP_ETOOBIG);
  ck_assert_uint_eq(n, 10);
  ck_assert_int_eq(ep_etf_encode_to(t, EP_ETF_UTF8_ATOMS, buf, n, &n), 0);
  static const uint8_t want[] = {131, 104, 2, 119, 3, 'a', 'b', 'c', 97, 1};
  ck_assert_uint_eq(n, 10);
  ck_assert_mem_eq(buf, want, n);
  ck_assert_int_eq(ep_etf_encode_to(NULL, 0, buf, sizeof buf, &n), EP_EINVAL);
  ep_term_free(t);
}

/* Test that ep_b_etf_decode appends one value wherever the builder is:
 * behind headroom, inside an open list; and that its error is sticky. */
TEST(etf, builder_decode) {
  static const uint8_t pair[] = {131, 104, 2, 97, 1, 97, 2};
  ep_build b;
  ep_b_init_headroom(&b, 16);
  ck_assert_int_eq(ep_b_etf_decode(&b, pair, sizeof pair, NULL), 0);
  ep_term t = ep_b_peek(&b), want = parse("{1,2}");
  ck_assert_ptr_eq((const void *)t, b.buf + 16);
  ck_assert(ep_exact_equal(t, want));
  ep_b_free(&b);

  ep_b_init(&b);
  ep_b_list(&b);
  ep_b_atom(&b, EP_A_ok);
  ck_assert_int_eq(ep_b_etf_decode(&b, pair, sizeof pair, NULL), 0);
  ep_b_end(&b);
  int err;
  t = ep_b_finish(&b, &err);
  ep_term l = parse("[ok, {1,2}]");
  ck_assert(ep_exact_equal(t, l));
  ep_term_free(t);
  ep_term_free(l);

  static const uint8_t bad[] = {131, 104, 2, 97};
  size_t off;
  ck_assert_int_eq(ep_b_etf_decode(&b, bad, sizeof bad, &off), EP_ETRUNC);
  ck_assert_uint_eq(off, 1);
  ck_assert_int_eq(b.err, EP_ETRUNC);
  ck_assert_ptr_null((const void *)ep_b_finish(&b, &err));
  ck_assert_int_eq(err, EP_ETRUNC);
  ep_b_free(&b);
  ep_term_free(want);
}

/* A builder on the caller's buffer stays there while the term fits, moves
 * to the heap when it outgrows it, and never frees the caller's buffer;
 * an ETF decode into it works either way. */
TEST(etf, builder_on_caller_buffer) {
  uint8_t buf[64];
  ep_build b;
  ep_b_init_buf(&b, buf, sizeof buf);
  ep_b_tuple(&b);
  ep_b_atom(&b, EP_A_ok);
  ep_b_int(&b, 42);
  ep_b_end(&b);
  ck_assert_ptr_eq((const void *)ep_b_peek(&b), buf);
  ep_term small = parse("{ok, 42}");
  ck_assert(ep_exact_equal(ep_b_peek(&b), small));
  int err;
  ep_term t = ep_b_finish(&b, &err);   /* a copy of its own */
  ck_assert_ptr_ne((const void *)t, buf);
  memset(buf, 0, sizeof buf);
  ck_assert(ep_exact_equal(t, small));
  ep_term_free(t);
  ep_term_free(small);

  ep_b_init_buf(&b, buf, sizeof buf);
  ep_b_list(&b);
  for (int i = 0; i < 20; i++) ep_b_int(&b, i);
  ep_b_end(&b);
  ck_assert_int_eq(b.err, 0);
  ck_assert_ptr_ne((const void *)ep_b_peek(&b), buf);   /* outgrew it */
  ep_term big = parse("[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19]");
  ck_assert(ep_exact_equal(ep_b_peek(&b), big));
  ep_term_free(big);
  ep_b_free(&b);

  static const uint8_t pair[] = {131, 104, 2, 97, 1, 97, 2};
  ep_b_init_buf(&b, buf, sizeof buf);
  ck_assert_int_eq(ep_b_etf_decode(&b, pair, sizeof pair, NULL), 0);
  ep_term want = parse("{1,2}");
  ck_assert(ep_exact_equal(ep_b_peek(&b), want));
  ep_term_free(want);
  ep_b_free(&b);
}
