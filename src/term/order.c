/* SPDX-License-Identifier: Apache-2.0 */
/*
 * order.c - Erlang term order, equality and hashing.
 *
 * number < atom < reference < fun < port < pid < tuple < map < nil < list
 * < bitstring. Two terms are walked side by side through their pre-order
 * bytes: tuples and lists need no stack (after an equal element both
 * cursors already stand on the next one); only maps, whose keys compare
 * before their values, recurse. Hashing is one linear pass over the bytes.
 */
#include <string.h>

#include "term_int.h"

double ep__big_to_double(const uint8_t *p);

static int rank(uint8_t tag) {
  switch (tag) {
  case T_INT: case T_BIG: case T_FLOAT: return 1;
  case T_ATOM: return 2;
  case T_REF: return 3;
  case T_FUN: return 4;
  case T_PORT: return 5;
  case T_PID: return 6;
  case T_TUPLE: return 7;
  case T_MAP: return 8;
  case T_NIL: return 9;
  case T_LIST: return 10;
  default: return 11;   /* T_BIN, T_BITS */
  }
}

static int cmp_u64(uint64_t a, uint64_t b) { return (a > b) - (a < b); }
static int cmp_i64(int64_t a, int64_t b) { return (a > b) - (a < b); }

static int cmp_big(const uint8_t *a, const uint8_t *b) {
  if (a[1] != b[1]) return a[1] ? -1 : 1;
  int sign = a[1] ? -1 : 1;
  uint32_t na = rd32(a + 2), nb = rd32(b + 2);
  if (na != nb) return na < nb ? -sign : sign;
  for (uint32_t i = na; i-- > 0;)
    if (a[6 + i] != b[6 + i]) return a[6 + i] < b[6 + i] ? -sign : sign;
  return 0;
}

static double float_of(const uint8_t *p) {
  double d;
  memcpy(&d, p + 1, 8);
  return d;
}

/* Numbers by value; `exact` (map key order) puts every integer before
 * every float, as maps:to_list and term_to_binary order map keys. */
static int cmp_number(const uint8_t *a, const uint8_t *b, bool exact) {
  uint8_t ta = a[0], tb = b[0];
  if (ta == T_INT && tb == T_INT) return cmp_i64((int64_t)rd64(a + 1), (int64_t)rd64(b + 1));
  if (ta == T_FLOAT && tb == T_FLOAT) {
    double x = float_of(a), y = float_of(b);
    return (x > y) - (x < y);
  }
  if (ta == T_BIG && tb == T_BIG) return cmp_big(a, b);
  if (ta == T_BIG && tb == T_INT) return a[1] ? -1 : 1;   /* bigs lie outside int64 */
  if (ta == T_INT && tb == T_BIG) return b[1] ? 1 : -1;
  /* map key order (exact): every integer before every float, as OTP sorts
   * map keys ("integer types are considered less than float types") */
  if (exact) return ta == T_FLOAT ? 1 : -1;
  /* one float and one integer: compare exactly through long double (64-bit
   * mantissa at least), bigs through their nearest value */
  int flip = ta == T_FLOAT ? -1 : 1;
  const uint8_t *i = ta == T_FLOAT ? b : a, *f = ta == T_FLOAT ? a : b;
  long double x = i[0] == T_INT ? (long double)(int64_t)rd64(i + 1) : (long double)ep__big_to_double(i);
  long double y = float_of(f);
  int c = (x > y) - (x < y);
  return c * flip;
}

static int cmp_bytes(const uint8_t *a, size_t na, const uint8_t *b, size_t nb) {
  int c = memcmp(a, b, na < nb ? na : nb);
  if (c) return c < 0 ? -1 : 1;
  return (na > nb) - (na < nb);
}

static int cmp_atom(uint32_t a, uint32_t b) {
  if (a == b) return 0;
  size_t na, nb;
  const char *sa = ep_atom_name(a, &na), *sb = ep_atom_name(b, &nb);
  return cmp_bytes((const uint8_t *)sa, na, (const uint8_t *)sb, nb);  /* UTF-8 keeps code point order */
}

/* Node name, then creation; local ones compare as this node's. */
static int cmp_node(const uint8_t *a, const uint8_t *b) {
  uint32_t na = rd32(a + 1), nb = rd32(b + 1), ca = rd32(a + 5), cb = rd32(b + 5);
  if (na == EP_NODE_LOCAL) na = ep__local_node(&ca);
  if (nb == EP_NODE_LOCAL) nb = ep__local_node(&cb);
  int c = cmp_atom(na, nb);
  return c ? c : cmp_u64(ca, cb);
}

static int compare(const uint8_t *a, const uint8_t *b, bool exact);

static uint64_t bitlen(const uint8_t *p) {
  uint64_t n = rd32(p + 1);
  return p[0] == T_BITS ? 8 * (n - 1) + p[5] : 8 * n;
}

/* Maps: size, then keys in order (always exact), then values in key order. */
static int cmp_map(const uint8_t *a, const uint8_t *b, bool exact) {
  uint32_t n = rd32(a + 1), m = rd32(b + 1);
  if (n != m) return n < m ? -1 : 1;
  const uint8_t *ka = a + HDR_MAP, *kb = b + HDR_MAP;
  for (uint32_t i = 0; i < n; i++) {
    int c = compare(ka, kb, true);
    if (c) return c;
    ka = ep__tskip(ep__tskip(ka));
    kb = ep__tskip(ep__tskip(kb));
  }
  ka = a + HDR_MAP, kb = b + HDR_MAP;
  for (uint32_t i = 0; i < n; i++) {
    const uint8_t *va = ep__tskip(ka), *vb = ep__tskip(kb);
    int c = compare(va, vb, exact);
    if (c) return c;
    ka = ep__tskip(va);
    kb = ep__tskip(vb);
  }
  return 0;
}

static int compare(const uint8_t *a, const uint8_t *b, bool exact) {
  size_t pending = 1;   /* values still to compare at the cursors */
  while (pending--) {
    uint8_t ta = a[0], tb = b[0];
    int ra = rank(ta), rb = rank(tb);
    if (ra != rb) return ra < rb ? -1 : 1;
    int c = 0;
    switch (ra) {
    case 1: c = cmp_number(a, b, exact); break;
    case 2: c = cmp_atom(rd32(a + 1), rd32(b + 1)); break;
    case 3:
      if (!(c = cmp_node(a, b))) {
        uint32_t la = a[9], lb = b[9];
        if (la != lb) c = la < lb ? -1 : 1;
        for (uint32_t i = la; !c && i-- > 0;) c = cmp_u64(rd32(a + 10 + 4 * i), rd32(b + 10 + 4 * i));
      }
      break;
    case 4:
      if (!(c = cmp_u64(rd64(a + 1), rd64(b + 1)))) {
        a += HDR_FUN, b += HDR_FUN;        /* then the argument */
        pending++;
        continue;
      }
      break;
    case 5: if (!(c = cmp_node(a, b))) c = cmp_u64(rd64(a + 9), rd64(b + 9)); break;
    case 6:   /* pids, unlike refs and ports, put serial and id before the node */
      if (!(c = cmp_u64(rd32(a + 13), rd32(b + 13))) && !(c = cmp_u64(rd32(a + 9), rd32(b + 9))))
        c = cmp_node(a, b);
      break;
    case 7: {
      uint32_t n = rd32(a + 1), m = rd32(b + 1);
      if (n != m) return n < m ? -1 : 1;
      a += HDR_TUPLE, b += HDR_TUPLE;
      pending += n;
      continue;
    }
    case 8: c = cmp_map(a, b, exact); break;
    case 9: break;
    case 10:
      a += HDR_LIST, b += HDR_LIST;          /* head, then tail */
      pending += 2;
      continue;
    default: {
      /* bit by bit over the common length, then the shorter first */
      uint64_t ba = bitlen(a), bb = bitlen(b), m = ba < bb ? ba : bb;
      const uint8_t *da = a + (ta == T_BITS ? 6 : 5), *db = b + (tb == T_BITS ? 6 : 5);
      size_t full = (size_t)(m / 8);
      unsigned rest = (unsigned)(m % 8);
      c = memcmp(da, db, full);
      if (c) c = c < 0 ? -1 : 1;
      else if (rest && (da[full] >> (8 - rest)) != (db[full] >> (8 - rest)))
        c = (da[full] >> (8 - rest)) < (db[full] >> (8 - rest)) ? -1 : 1;
      else c = (ba > bb) - (ba < bb);
      break;
    }
    }
    if (c) return c;
    a = ep__tskip(a);
    b = ep__tskip(b);
  }
  return 0;
}

int ep_compare(ep_term a, ep_term b) { return compare(tp(a), tp(b), false); }
int ep__compare_exact(ep_term a, ep_term b) { return compare(tp(a), tp(b), true); }
bool ep_equal(ep_term a, ep_term b) { return compare(tp(a), tp(b), false) == 0; }

bool ep_exact_equal(ep_term a, ep_term b) {
  size_t n = ep__tsize(tp(a));
  if (n == ep__tsize(tp(b)) && memcmp(a, b, n) == 0) return true;  /* canonical bytes */
  return compare(tp(a), tp(b), true) == 0;                        /* 0.0 =:= -0.0 */
}

static inline uint64_t mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
  return h * 0xff51afd7ed558ccdull;
}

static uint64_t hash_bytes(uint64_t h, const uint8_t *p, size_t n) {
  for (; n >= 8; n -= 8, p += 8) h = mix(h, rd64(p));
  uint64_t t = 0;
  memcpy(&t, p, n);
  return mix(h, t ^ (uint64_t)n << 56);
}

/* Pre-order walk over the bytes: container headers (minus their derived
 * size fields) and leaves are mixed in turn. Floats are normalised so that
 * 0.0 and -0.0 (=:= in OTP 25) hash alike. */
uint64_t ep_hash(ep_term t) {
  const uint8_t *p = tp(t), *end = p + ep__tsize(p);
  uint64_t h = 0x243f6a8885a308d3ull;
  while (p < end) {
    switch (p[0]) {
    case T_TUPLE: case T_MAP:
      h = mix(h, (uint64_t)p[0] << 32 | rd32(p + 1));
      p += HDR_TUPLE;
      break;
    case T_LIST:
      h = mix(h, T_LIST);
      p += HDR_LIST;
      break;
    case T_FUN:
      h = mix(mix(h, T_FUN), rd64(p + 1));
      p += HDR_FUN;
      break;
    case T_FLOAT: {
      double d = float_of(p);
      if (d == 0) d = 0;
      uint64_t bits;
      memcpy(&bits, &d, 8);
      h = mix(mix(h, T_FLOAT), bits);
      p += 9;
      break;
    }
    default: {
      size_t n = ep__tsize(p);
      h = hash_bytes(h, p, n);
      p += n;
      break;
    }
    }
  }
  return h ^ (h >> 31);
}
