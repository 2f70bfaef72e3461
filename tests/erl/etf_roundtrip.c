/* SPDX-License-Identifier: Apache-2.0 */
/*
 * etf_roundtrip.c - the C side of the ETF round trip against a real Erlang.
 *
 *   etf_roundtrip CORPUS OUTDIR [N SEED]
 *
 * Reads the corpus gen.erl wrote and checks, per term, that C decodes all
 * three of Erlang's encodings to one term and re-encodes it to exactly
 * Erlang's bytes in both atom modes (terms holding a map over 32 keys, which
 * Erlang writes in hash order, are left to check.erl to compare by value).
 * Writes OUTDIR/c_enc.etf (C's encodings of every corpus term) and
 * OUTDIR/c_gen.etf (N random terms built in C: Erlang expression text and
 * both encodings) for check.erl. Prints "N passed, M failed".
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eproc/term.h"

static long passed, failed;

static void fail(long idx, const char *what, ...) {
  va_list ap;
  va_start(ap, what);
  fprintf(stderr, "term %ld: ", idx);
  vfprintf(stderr, what, ap);
  fputc('\n', stderr);
  va_end(ap);
}

/* ------------------------------------------------------------- corpus -- */

typedef struct slice { const uint8_t *p; size_t n; } slice;

static bool take(const uint8_t **p, const uint8_t *end, slice *s) {
  if (end - *p < 4) return false;
  s->n = (size_t)(*p)[0] << 24 | (size_t)(*p)[1] << 16 | (size_t)(*p)[2] << 8 | (*p)[3];
  *p += 4;
  if ((size_t)(end - *p) < s->n) return false;
  s->p = *p;
  *p += s->n;
  return true;
}

static void put_lv(FILE *f, const uint8_t *b, size_t n) {
  uint8_t h[4] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
  fwrite(h, 1, 4, f);
  fwrite(b, 1, n, f);
}

static uint8_t *read_file(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *b = malloc((size_t)len + 1);
  if (b && fread(b, 1, (size_t)len, f) != (size_t)len) {
    free(b);
    b = NULL;
  }
  fclose(f);
  *n = (size_t)len;
  return b;
}

/* Encodes t in one atom mode, checking that size and encode_to agree. */
static int encode(ep_term t, int flags, uint8_t **out, size_t *len) {
  int err = ep_etf_encode(t, flags, out, len);
  if (err) return err;
  size_t sz, n;
  if (ep_etf_size(t, flags, &sz) != 0 || sz != *len) return EP_EINVAL;
  uint8_t *buf = malloc(sz);
  int e1 = ep_etf_encode_to(t, flags, buf, sz, &n);
  bool same = e1 == 0 && n == sz && memcmp(buf, *out, sz) == 0;
  int e2 = ep_etf_encode_to(t, flags, buf, sz - 1, &n);
  free(buf);
  return same && e2 == EP_ETOOBIG ? 0 : EP_EINVAL;
}

static bool check_record(long idx, int det, slice v2, slice v1, slice z, FILE *out) {
  ep_term t2, t1, tz;
  size_t off = 0;
  int err = ep_etf_decode(&t2, v2.p, v2.n, &off);
  if (err) {
    fail(idx, "decode: %s at offset %zu", ep_err_name(err), off);
    put_lv(out, (const uint8_t *)"", 0);   /* keep c_enc.etf aligned with the corpus */
    put_lv(out, (const uint8_t *)"", 0);
    return false;
  }
  bool ok = true;
  if ((err = ep_etf_decode(&t1, v1.p, v1.n, &off)) != 0) {
    fail(idx, "decode latin-1 form: %s at %zu", ep_err_name(err), off);
    ok = false;
  } else {
    if (!ep_exact_equal(t1, t2)) { fail(idx, "latin-1 and UTF-8 forms decode differently"); ok = false; }
    ep_term_free(t1);
  }
  if ((err = ep_etf_decode(&tz, z.p, z.n, &off)) != 0) {
    fail(idx, "decode compressed form: %s at %zu", ep_err_name(err), off);
    ok = false;
  } else {
    if (!ep_exact_equal(tz, t2)) { fail(idx, "compressed form decodes differently"); ok = false; }
    ep_term_free(tz);
  }
  static const int modes[2] = {EP_ETF_UTF8_ATOMS, EP_ETF_LATIN1_ATOMS};
  const slice *want[2] = {&v2, &v1};
  for (int m = 0; m < 2; m++) {
    uint8_t *enc;
    size_t n;
    if ((err = encode(t2, modes[m], &enc, &n)) != 0) {
      fail(idx, "encode mode %d: %s", m, ep_err_name(err));
      ok = false;
      put_lv(out, (const uint8_t *)"", 0);
      continue;
    }
    if (det && (n != want[m]->n || memcmp(enc, want[m]->p, n) != 0)) {
      size_t i = 0;
      while (i < n && i < want[m]->n && enc[i] == want[m]->p[i]) i++;
      fail(idx, "mode %d: C bytes differ from Erlang's at offset %zu (C %zu bytes, Erlang %zu)",
           m, i, n, want[m]->n);
      ok = false;
    }
    ep_term back;
    if (ep_etf_decode(&back, enc, n, NULL) != 0 || !ep_exact_equal(back, t2)) {
      fail(idx, "mode %d: C's own bytes do not decode to the same term", m);
      ok = false;
    } else {
      ep_term_free(back);
    }
    put_lv(out, enc, n);
    free(enc);
  }
  ep_term_free(t2);
  return ok;
}

static int run_corpus(const char *path, const char *outdir) {
  size_t len;
  uint8_t *data = read_file(path, &len);
  if (!data) { perror(path); return 2; }
  char name[4096];
  snprintf(name, sizeof name, "%s/c_enc.etf", outdir);
  FILE *out = fopen(name, "wb");
  if (!out) { perror(name); free(data); return 2; }
  const uint8_t *p = data, *end = data + len;
  long idx = 0;
  while (p < end) {
    int det = *p++ & 1;
    slice v2, v1, z;
    if (!take(&p, end, &v2) || !take(&p, end, &v1) || !take(&p, end, &z)) {
      fail(idx, "corpus file is truncated");
      failed++;
      break;
    }
    if (check_record(idx, det, v2, v1, z, out)) passed++;
    else failed++;
    idx++;
  }
  fclose(out);
  free(data);
  return 0;
}

/* ------------------------------------------------ C-built random terms -- */

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void) {
  rng ^= rng >> 12;
  rng ^= rng << 25;
  rng ^= rng >> 27;
  return rng * 0x2545f4914f6cdd1dull;
}
static uint64_t below(uint64_t n) { return rnd() % n; }

static const char *const atom_names[] = {
  "a", "ok", "", "hello world", "with'quote", "back\\slash", "\xc3\xa4\xc3\xb6\xc3\xbc",
  "\xcf\xa8\xe4\xb8\xad\xf0\x9f\x98\x80", "nonode@nohost", "tab\there", "EXIT", "\177del"};

static void gen_atom(ep_build *b) {
  char name[1024];
  switch (below(4)) {
  case 0:
    ep_b_atom_name(b, atom_names[below(sizeof atom_names / sizeof *atom_names)]);
    return;
  case 1: {                        /* 255 characters of one width */
    static const char *const ch[] = {"x", "\xc3\xbf", "\xe4\xb8\xad", "\xf0\x9f\x98\x80"};
    const char *c = ch[below(4)];
    size_t k = strlen(c), n = 0;
    for (int i = 0; i < 255; i++, n += k) memcpy(name + n, c, k);
    ep_atom a;
    if (ep_atom_from(name, n, &a) == 0) ep_b_atom(b, a);
    return;
  }
  default: {
    size_t n = 1 + below(12);
    for (size_t i = 0; i < n; i++) name[i] = (char)('a' + below(26));
    name[n] = 0;
    ep_b_atom_name(b, name);
  }
  }
}

static bool in_big_map;

static ep_atom node_atom(void) {
  static const char *const nodes[] = {"foo@bar", "nonode@nohost", "\xc5\x9d@h"};
  return ep_atom_of(nodes[below(3)]);
}

static void gen_leaf(ep_build *b) {
  uint8_t buf[400];
  switch (below(14)) {
  case 0: {
    static const int64_t edges[] = {0, 255, 256, -1, INT32_MAX, INT32_MIN, (int64_t)INT32_MAX + 1,
                                    (int64_t)INT32_MIN - 1, INT64_MAX, INT64_MIN};
    ep_b_int(b, edges[below(10)]);
    break;
  }
  case 1: ep_b_int(b, (int64_t)rnd() >> below(64)); break;
  case 2: {
    size_t n = 1 + below(300);
    for (size_t i = 0; i < n; i++) buf[i] = (uint8_t)rnd();
    ep_b_big(b, below(2), buf, n);
    break;
  }
  case 3: ep_b_uint(b, rnd() | (1ull << 63)); break;
  case 4: {
    uint64_t bits = rnd();
    double d;
    memcpy(&d, &bits, 8);
    static const double edges[] = {0.0, -0.0, 1.0e308, -1.0e308, 5e-324, 0.1, 2.5};
    ep_b_float(b, d == d && d - d == 0 ? d : edges[below(7)]);
    break;
  }
  case 5: case 6: gen_atom(b); break;
  case 7: {
    size_t n = below(4) ? below(40) : below(400);
    for (size_t i = 0; i < n; i++) buf[i] = (uint8_t)rnd();
    if (below(3)) ep_b_binary(b, buf, n);
    else ep_b_bits(b, buf, n + 1, 1 + (unsigned)below(7));
    break;
  }
  case 8: {
    static const char *const strs[] = {"hello", "", "\xc3\xbcnic\303\270de", "\xe4\xb8\xad\xe6\x96\x87"};
    ep_b_string(b, strs[below(4)]);
    break;
  }
  case 9: {
    ep_b_list(b);
    for (size_t i = 0, n = below(300); i < n; i++) ep_b_int(b, (int64_t)below(256));
    ep_b_end(b);
    break;
  }
  case 10: {
    bool local = below(2);
    ep_pid p = {(uint32_t)below(32768), (uint32_t)below(8192), local ? EP_NODE_LOCAL : node_atom(),
                local ? 0 : (uint32_t)rnd()};
    if (!local && p.node == EP_A_nonode_nohost && p.creation == 0) p.creation = 1;
    ep_b_pid(b, p);
    break;
  }
  case 11: {
    ep_ref r = {EP_NODE_LOCAL, 0, 3, {(uint32_t)below(1u << 18), (uint32_t)rnd(), (uint32_t)rnd()}};
    if (below(2)) {
      r.node = node_atom();
      r.creation = (uint32_t)rnd() | 1;
      /* OTP 25 builds broken large maps keyed by 1- or 2-word external refs */
      r.len = in_big_map ? 3 + (uint32_t)below(3) : 1 + (uint32_t)below(5);
      for (int i = 0; i < 5; i++) r.w[i] = (uint32_t)rnd();
    }
    ep_b_ref(b, &r);
    break;
  }
  case 12: {
    ep_port p = {node_atom(), (uint32_t)rnd() | 1, below(2) ? rnd() >> 4 : (uint32_t)rnd()};
    if (below(3) == 0) p = (ep_port){EP_NODE_LOCAL, 0, below(1000)};
    ep_b_port(b, &p);
    break;
  }
  default: {
    int k = (int)below(3);
    if (k == 0) ep_b_nil(b);
    else if (k == 1) { ep_b_tuple(b); ep_b_end(b); }
    else { ep_b_map(b); ep_b_end(b); }
  }
  }
}

static void gen(ep_build *b, int depth) {
  int k = depth ? (int)below(10) : 9;
  size_t n = below(6);
  switch (k) {
  case 0: ep_b_tuple(b); for (size_t i = 0; i < n; i++) gen(b, depth - 1); ep_b_end(b); break;
  case 1: ep_b_list(b); for (size_t i = 0; i < n; i++) gen(b, depth - 1); ep_b_end(b); break;
  case 2:                                     /* improper: the last value is the tail */
    ep_b_list(b);
    for (size_t i = 0; i < n + 1; i++) gen(b, depth - 1);
    gen_leaf(b);
    ep_b_end_tail(b);
    break;
  case 3:
    ep_b_map(b);
    n = below(4) ? n : 33 + below(40);
    in_big_map = n > 32;
    for (size_t i = 0; i < n; i++) {
      gen_leaf(b);
      if (n > 32) gen_leaf(b);
      else gen(b, depth - 1);
    }
    in_big_map = false;
    ep_b_end(b);
    break;
  default: gen_leaf(b);
  }
}

static void gen_deep(ep_build *b) {
  int kind = (int)below(3), n = 1000;
  for (int i = 0; i < n; i++) {
    if (kind == 0) ep_b_tuple(b);
    else if (kind == 1) ep_b_list(b);
    else { ep_b_map(b); ep_b_atom(b, EP_A_ok); }
  }
  ep_b_int(b, 7);
  for (int i = 0; i < n; i++) ep_b_end(b);
}

/* Erlang expression text for t, read back by check.erl with erl_eval.
 * Pids, refs and ports become {'$pid', Node, ...} tuples check.erl turns
 * into real ones. */
typedef struct text { char *s; size_t n, cap; } text;

static void out(text *x, const char *fmt, ...) {
  va_list ap;
  for (;;) {
    va_start(ap, fmt);
    int k = vsnprintf(x->s + x->n, x->cap - x->n, fmt, ap);
    va_end(ap);
    if ((size_t)k < x->cap - x->n) { x->n += (size_t)k; return; }
    x->cap = 2 * x->cap + (size_t)k + 64;
    x->s = realloc(x->s, x->cap);
    if (!x->s) abort();
  }
}

static void out_atom(text *x, ep_atom a) {
  size_t n;
  const char *s = ep_atom_name(a, &n);
  out(x, "'");
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '\'' || c == '\\') out(x, "\\%c", c);
    else if (c < 32 || c == 127) out(x, "\\x{%x}", c);
    else out(x, "%c", c);
  }
  out(x, "'");
}

static void out_node(text *x, uint32_t node) { out_atom(x, node == EP_NODE_LOCAL ? EP_A_nonode_nohost : node); }

static void print_term(text *x, ep_term t) {
  switch (ep_type_of(t)) {
  case EP_TINT: { int64_t v; ep_get_int(t, &v); out(x, "%" PRId64, v); break; }
  case EP_TBIG: {
    const uint8_t *p = (const uint8_t *)t;
    uint32_t n;
    memcpy(&n, p + 2, 4);
    out(x, "%s16#", p[1] ? "-" : "");
    for (uint32_t i = n; i-- > 0;) out(x, "%02X", p[6 + i]);
    break;
  }
  case EP_TFLOAT: { double d; ep_get_float(t, &d); out(x, "%.17e", d); break; }
  case EP_TATOM: { ep_atom a; ep_get_atom(t, &a); out_atom(x, a); break; }
  case EP_TBINARY: case EP_TBITS: {
    const uint8_t *p = (const uint8_t *)t;
    uint32_t n;
    memcpy(&n, p + 1, 4);
    bool bits = p[0] == 'B';
    const uint8_t *d = p + (bits ? 6 : 5);
    out(x, "<<");
    for (uint32_t i = 0; i < n; i++) {
      if (bits && i + 1 == n) out(x, "%s%u:%u", i ? "," : "", d[i] >> (8 - p[5]), p[5]);
      else out(x, "%s%u", i ? "," : "", d[i]);
    }
    out(x, ">>");
    break;
  }
  case EP_TTUPLE:
    out(x, "{");
    for (size_t i = 0; i < ep_tuple_arity(t); i++) {
      if (i) out(x, ",");
      print_term(x, ep_tuple_elem(t, i));
    }
    out(x, "}");
    break;
  case EP_TNIL: out(x, "[]"); break;
  case EP_TLIST:
    out(x, "[");
    for (bool first = true; ep_type_of(t) == EP_TLIST; t = ep_list_tail(t), first = false) {
      if (!first) out(x, ",");
      print_term(x, ep_list_head(t));
    }
    if (ep_type_of(t) != EP_TNIL) { out(x, "|"); print_term(x, t); }
    out(x, "]");
    break;
  case EP_TMAP:
    out(x, "#{");
    for (size_t i = 0; i < ep_map_size(t); i++) {
      ep_term k, v;
      ep_map_pair(t, i, &k, &v);
      if (i) out(x, ",");
      print_term(x, k);
      out(x, "=>");
      print_term(x, v);
    }
    out(x, "}");
    break;
  case EP_TPID: {
    ep_pid p;
    ep_get_pid(t, &p);
    out(x, "{'$pid',");
    out_node(x, p.node);
    out(x, ",%u,%u,%u}", p.id, p.serial, p.creation);
    break;
  }
  case EP_TREF: {
    ep_ref r;
    ep_get_ref(t, &r);
    out(x, "{'$ref',");
    out_node(x, r.node);
    out(x, ",%u,[", r.creation);
    for (uint32_t i = 0; i < r.len; i++) out(x, "%s%u", i ? "," : "", r.w[i]);
    out(x, "]}");
    break;
  }
  case EP_TPORT: {
    ep_port p;
    ep_get_port(t, &p);
    out(x, "{'$port',");
    out_node(x, p.node);
    out(x, ",%" PRIu64 ",%u}", p.id, p.creation);
    break;
  }
  default: out(x, "'$unprintable'"); break;
  }
}

static int run_generated(const char *outdir, long n, uint64_t seed) {
  char name[4096];
  snprintf(name, sizeof name, "%s/c_gen.etf", outdir);
  FILE *f = fopen(name, "wb");
  if (!f) { perror(name); return 2; }
  rng ^= seed * 0x9e3779b97f4a7c15ull;
  ep_build b;
  ep_b_init(&b);
  text x = {malloc(4096), 0, 4096};
  if (!x.s) abort();
  for (long i = 0; i < n; i++) {
    if (i % 100 == 99) gen_deep(&b);
    else gen(&b, 4);
    int err;
    ep_term t = ep_b_finish(&b, &err);
    if (!t) { fail(i, "C generator failed: %s", ep_err_name(err)); failed++; continue; }
    x.n = 0;
    print_term(&x, t);
    out(&x, ".");
    put_lv(f, (const uint8_t *)x.s, x.n);
    bool ok = true;
    for (int m = 0; m < 2; m++) {
      uint8_t *enc;
      size_t len;
      ep_term back;
      if ((err = encode(t, m ? EP_ETF_LATIN1_ATOMS : EP_ETF_UTF8_ATOMS, &enc, &len)) != 0) {
        fail(i, "C-built term: encode mode %d: %s", m, ep_err_name(err));
        ok = false;
        put_lv(f, (const uint8_t *)"", 0);
        continue;
      }
      if (ep_etf_decode(&back, enc, len, NULL) != 0 || !ep_exact_equal(back, t)) {
        fail(i, "C-built term: mode %d does not decode back", m);
        ok = false;
      } else {
        ep_term_free(back);
      }
      put_lv(f, enc, len);
      free(enc);
    }
    if (ok) passed++;
    else failed++;
    ep_term_free(t);
  }
  free(x.s);
  ep_b_free(&b);
  fclose(f);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s CORPUS OUTDIR [N SEED]\n", argv[0]);
    return 2;
  }
  long n = argc > 3 ? atol(argv[3]) : 2000;
  uint64_t seed = argc > 4 ? strtoull(argv[4], NULL, 10) : 1;
  int rc = run_corpus(argv[1], argv[2]);
  if (!rc) rc = run_generated(argv[2], n, seed);
  printf("etf_roundtrip: %ld passed, %ld failed\n", passed, failed);
  return rc ? rc : failed != 0;
}
