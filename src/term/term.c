/* SPDX-License-Identifier: Apache-2.0 */
/*
 * term.c - reading and building terms in the internal encoding.
 *
 * Accessors read the pre-order bytes described in term_int.h; the builder
 * appends them, keeping a small stack of open containers whose sizes are
 * patched when they close (list cells, tuple and map sizes; map keys are
 * sorted there). Owns nothing global. Text, ETF and patterns are in their
 * own files; term order and hashing in order.c.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "term_int.h"

/* ------------------------------------------------------------ reading -- */

ep_type ep_type_of(ep_term t) {
  if (!t) return EP_TNONE;
  switch (tp(t)[0]) {
  case T_INT: return EP_TINT;
  case T_BIG: return EP_TBIG;
  case T_FLOAT: return EP_TFLOAT;
  case T_ATOM: return EP_TATOM;
  case T_REF: return EP_TREF;
  case T_FUN: return EP_TFUN;
  case T_PORT: return EP_TPORT;
  case T_PID: return EP_TPID;
  case T_TUPLE: return EP_TTUPLE;
  case T_MAP: return EP_TMAP;
  case T_NIL: return EP_TNIL;
  case T_LIST: return EP_TLIST;
  case T_BIN: return EP_TBINARY;
  case T_BITS: return EP_TBITS;
  default: return EP_TNONE;
  }
}

const char *ep_type_name(ep_type ty) {
  static const char *const names[] = {
    "none", "integer", "integer", "float", "atom", "reference", "fun", "port",
    "pid", "tuple", "map", "nil", "list", "binary", "bitstring"};
  return (unsigned)ty < sizeof names / sizeof *names ? names[ty] : "none";
}

size_t ep_term_size(ep_term t) { return t ? ep__tsize(tp(t)) : 0; }

int ep_get_int(ep_term t, int64_t *out) {
  const uint8_t *p = tp(t);
  if (!p) return EP_EBADTERM;
  if (p[0] == T_INT) { *out = (int64_t)rd64(p + 1); return 0; }
  return p[0] == T_BIG ? EP_ERANGE : EP_EBADTERM;  /* bigs never fit (invariant) */
}

int ep_get_float(ep_term t, double *out) {
  const uint8_t *p = tp(t);
  if (!p || p[0] != T_FLOAT) return EP_EBADTERM;
  memcpy(out, p + 1, 8);
  return 0;
}

double ep__big_to_double(const uint8_t *p) {
  uint32_t n = rd32(p + 2);
  double v = 0;
  for (uint32_t i = n; i-- > 0;) v = v * 256.0 + p[6 + i];
  return p[1] ? -v : v;
}

int ep_get_number(ep_term t, double *out) {
  const uint8_t *p = tp(t);
  if (!p) return EP_EBADTERM;
  switch (p[0]) {
  case T_INT: *out = (double)(int64_t)rd64(p + 1); return 0;
  case T_FLOAT: memcpy(out, p + 1, 8); return 0;
  case T_BIG: *out = ep__big_to_double(p); return 0;
  default: return EP_EBADTERM;
  }
}

int ep_get_atom(ep_term t, ep_atom *out) {
  const uint8_t *p = tp(t);
  if (!p || p[0] != T_ATOM) return EP_EBADTERM;
  *out = rd32(p + 1);
  return 0;
}

bool ep_is_atom(ep_term t, ep_atom a) {
  const uint8_t *p = tp(t);
  return p && p[0] == T_ATOM && rd32(p + 1) == a;
}

int ep_get_pid(ep_term t, ep_pid *out) {
  const uint8_t *p = tp(t);
  if (!p || p[0] != T_PID) return EP_EBADTERM;
  out->node = rd32(p + 1);
  out->creation = rd32(p + 5);
  out->id = rd32(p + 9);
  out->serial = rd32(p + 13);
  return 0;
}

int ep_get_ref(ep_term t, ep_ref *out) {
  const uint8_t *p = tp(t);
  if (!p || p[0] != T_REF) return EP_EBADTERM;
  memset(out, 0, sizeof *out);
  out->node = rd32(p + 1);
  out->creation = rd32(p + 5);
  out->len = p[9];
  for (uint32_t i = 0; i < out->len; i++) out->w[i] = rd32(p + 10 + 4 * i);
  return 0;
}

bool ep_ref_eq(const ep_ref *a, const ep_ref *b) {
  if (a->node != b->node || a->creation != b->creation || a->len != b->len) return false;
  for (uint32_t i = 0; i < a->len && i < 5; i++)
    if (a->w[i] != b->w[i]) return false;
  return true;
}

int ep_get_port(ep_term t, ep_port *out) {
  const uint8_t *p = tp(t);
  if (!p || p[0] != T_PORT) return EP_EBADTERM;
  out->node = rd32(p + 1);
  out->creation = rd32(p + 5);
  out->id = rd64(p + 9);
  return 0;
}

int ep_get_binary(ep_term t, ep_bin *out) {
  const uint8_t *p = tp(t);
  if (!p || p[0] != T_BIN) return EP_EBADTERM;
  out->size = rd32(p + 1);
  out->data = p + 5;
  return 0;
}

int ep_get_fun(ep_term t, ep_fn *fn, ep_term *arg) {
  const uint8_t *p = tp(t);
  if (!p || p[0] != T_FUN) return EP_EBADTERM;
  uint64_t bits = rd64(p + 1);
  memcpy(fn, &bits, sizeof *fn);
  if (arg) *arg = mkterm(p + HDR_FUN);
  return 0;
}

static size_t utf8_put(char *out, uint32_t cp) {
  if (cp < 0x80) { out[0] = (char)cp; return 1; }
  if (cp < 0x800) { out[0] = (char)(0xc0 | cp >> 6); out[1] = (char)(0x80 | (cp & 0x3f)); return 2; }
  if (cp < 0x10000) {
    out[0] = (char)(0xe0 | cp >> 12); out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
    out[2] = (char)(0x80 | (cp & 0x3f)); return 3;
  }
  out[0] = (char)(0xf0 | cp >> 18); out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
  out[2] = (char)(0x80 | (cp >> 6 & 0x3f)); out[3] = (char)(0x80 | (cp & 0x3f));
  return 4;
}

int ep_get_string(ep_term t, char *buf, size_t cap) {
  const uint8_t *p = tp(t);
  if (!p) return EP_EBADTERM;
  size_t n = 0;
  if (p[0] == T_BIN) {
    n = rd32(p + 1);
    if (cap) {
      size_t k = n < cap - 1 ? n : cap - 1;
      memcpy(buf, p + 5, k);
      buf[k] = 0;
    }
  } else {
    for (; p[0] == T_LIST; p = ep__tskip(p + HDR_LIST)) {   /* validate first */
      const uint8_t *h = p + HDR_LIST;
      int64_t cp;
      if (h[0] != T_INT || (cp = (int64_t)rd64(h + 1)) < 0 || cp > 0x10ffff ||
          (cp >= 0xd800 && cp <= 0xdfff))
        return EP_EBADTERM;
      char tmp[4];
      size_t k = utf8_put(tmp, (uint32_t)cp);
      if (n + k < cap) memcpy(buf + n, tmp, k);
      else if (cap && n < cap) cap = n + 1;        /* stop writing mid-character */
      n += k;
    }
    if (p[0] != T_NIL) return EP_EBADTERM;
    if (cap) buf[n < cap ? n : cap - 1] = 0;
  }
  return n > INT32_MAX ? EP_ETOOBIG : (int)n;
}

size_t ep_tuple_arity(ep_term t) {
  const uint8_t *p = tp(t);
  return p && p[0] == T_TUPLE ? rd32(p + 1) : 0;
}

ep_term ep_tuple_elem(ep_term t, size_t i) {
  const uint8_t *p = tp(t);
  if (!p || p[0] != T_TUPLE || i >= rd32(p + 1)) return NULL;
  p += HDR_TUPLE;
  while (i--) p = ep__tskip(p);
  return mkterm(p);
}

bool ep_is_list(ep_term t) { return t && (tp(t)[0] == T_LIST || tp(t)[0] == T_NIL); }
ep_term ep_list_head(ep_term t) { return t && tp(t)[0] == T_LIST ? mkterm(tp(t) + HDR_LIST) : NULL; }
ep_term ep_list_tail(ep_term t) {
  return t && tp(t)[0] == T_LIST ? mkterm(ep__tskip(tp(t) + HDR_LIST)) : NULL;
}

long ep_list_length(ep_term t) {
  const uint8_t *p = tp(t);
  long n = 0;
  if (!p) return EP_EBADTERM;
  for (; p[0] == T_LIST; n++) p = ep__tskip(p + HDR_LIST);
  return p[0] == T_NIL ? n : EP_EBADTERM;
}

size_t ep_map_size(ep_term t) {
  const uint8_t *p = tp(t);
  return p && p[0] == T_MAP ? rd32(p + 1) : 0;
}

int ep_map_pair(ep_term map, size_t i, ep_term *key, ep_term *value) {
  const uint8_t *p = tp(map);
  if (!p || p[0] != T_MAP) return EP_EBADTERM;
  if (i >= rd32(p + 1)) return EP_ERANGE;
  p += HDR_MAP;
  while (i--) p = ep__tskip(ep__tskip(p));
  if (key) *key = mkterm(p);
  if (value) *value = mkterm(ep__tskip(p));
  return 0;
}

ep_term ep_map_get(ep_term map, ep_term key) {
  const uint8_t *p = tp(map);
  if (!p || p[0] != T_MAP || !key) return NULL;
  uint32_t n = rd32(p + 1);
  p += HDR_MAP;
  for (uint32_t i = 0; i < n; i++) {
    const uint8_t *v = ep__tskip(p);
    int c = ep__compare_exact(mkterm(p), key);
    if (c == 0) return mkterm(v);
    if (c > 0) break;                          /* keys are sorted */
    p = ep__tskip(v);
  }
  return NULL;
}

/* A copy of map without key, plus key => value when value is not NULL. */
static ep_term map_with(ep_term map, ep_term key, ep_term value) {
  if (ep_type_of(map) != EP_TMAP || !key) return NULL;
  ep_build b;
  ep_b_init(&b);
  ep_b_map(&b);
  for (size_t i = 0, n = ep_map_size(map); i < n; i++) {
    ep_term k, v;
    ep_map_pair(map, i, &k, &v);
    if (ep__compare_exact(k, key) == 0) continue;
    ep_b_term(&b, k);
    ep_b_term(&b, v);
  }
  if (value) {
    ep_b_term(&b, key);
    ep_b_term(&b, value);
  }
  ep_b_end(&b);
  ep_term t = ep_b_finish(&b, NULL);
  ep_b_free(&b);
  return t;
}

ep_term ep_map_put(ep_term map, ep_term key, ep_term value) {
  return value ? map_with(map, key, value) : NULL;
}
ep_term ep_map_remove(ep_term map, ep_term key) { return map_with(map, key, NULL); }

ep_term ep_term_dup(ep_term t) {
  if (!t) return NULL;
  size_t n = ep__tsize(tp(t));
  void *b = malloc(n);
  if (b) memcpy(b, t, n);
  return b;
}

void ep_term_free(ep_term t) { free((void *)(uintptr_t)t); }

ep_term ep_atom_term(ep_smallterm *s, ep_atom a) {
  s->b[0] = T_ATOM;
  wr32(s->b + 1, a);
  return mkterm(s->b);
}

ep_term ep_nil_term(ep_smallterm *s) {
  s->b[0] = T_NIL;
  return mkterm(s->b);
}

ep_term ep_int_term(ep_smallterm *s, int64_t v) {
  s->b[0] = T_INT;
  wr64(s->b + 1, (uint64_t)v);
  return mkterm(s->b);
}

static void put_pid(uint8_t *q, ep_pid p) {
  q[0] = T_PID;
  wr32(q + 1, p.node);
  wr32(q + 5, p.creation);
  wr32(q + 9, p.id);
  wr32(q + 13, p.serial);
}

ep_term ep_pid_term(ep_smallterm *s, ep_pid p) {
  put_pid(s->b, p);
  return mkterm(s->b);
}

static size_t ref_size(const ep_ref *r) { return 10 + 4 * (size_t)r->len; }

static void put_ref(uint8_t *q, const ep_ref *r) {
  q[0] = T_REF;
  wr32(q + 1, r->node);
  wr32(q + 5, r->creation);
  q[9] = (uint8_t)r->len;
  for (uint32_t i = 0; i < r->len; i++) wr32(q + 10 + 4 * i, r->w[i]);
}

ep_term ep_ref_term(ep_smallterm *s, const ep_ref *r) {
  if (r->len < 1 || r->len > 5) return NULL;
  put_ref(s->b, r);
  return mkterm(s->b);
}

/* ------------------------------------------------------------ building -- */

enum { F_TUPLE = 1, F_LIST, F_MAP, F_FUN };
/* the inline fast paths in term.h write these directly */
_Static_assert((int)F_TUPLE == EP__BF_TUPLE && (int)F_LIST == EP__BF_LIST && (int)F_MAP == EP__BF_MAP &&
               (int)F_FUN == EP__BF_FUN, "frame kinds");
_Static_assert((int)T_INT == EP__T_INT && (int)T_ATOM == EP__T_ATOM && (int)T_PID == EP__T_PID &&
               (int)T_TUPLE == EP__T_TUPLE && HDR_TUPLE == 9 && SZ_PID == 17, "tags");

void ep_b_init_headroom(ep_build *b, size_t headroom) {
  memset(b, 0, offsetof(ep_build, inl));
  b->headroom = b->len = headroom;
}
void ep_b_init(ep_build *b) { ep_b_init_headroom(b, 0); }

void ep_b_init_buf(ep_build *b, void *buf, size_t cap) {
  memset(b, 0, offsetof(ep_build, inl));
  b->buf = buf;
  b->cap = buf ? cap : 0;
  b->borrowed = buf != NULL;
}

static bool fail(ep_build *b, int err);

/* Moves a borrowed buffer to the heap (before anything reallocs it). */
bool ep__b_own(ep_build *b) {
  if (!b->borrowed) return true;
  uint8_t *nb = malloc(b->cap ? b->cap : 1);
  if (!nb) return fail(b, EP_ENOMEM);
  memcpy(nb, b->buf, b->len);
  b->buf = nb;
  b->borrowed = 0;
  return true;
}

void ep_b_free(ep_build *b) {
  if (!b->borrowed) free(b->buf);
  if (b->frames) free(b->frames);
  memset(b, 0, offsetof(ep_build, inl));
}

static ep_bframe *frame(ep_build *b, int i) { return b->frames ? &b->frames[i] : &b->inl[i]; }

static bool fail(ep_build *b, int err) {
  if (!b->err) b->err = err;
  return false;
}

/* Out of line: the buffer doubles until n more bytes fit. */
static EP_NOINLINE uint8_t *grow_slow(ep_build *b, size_t n) {
  if (b->err || !ep__b_own(b)) return NULL;
  size_t cap = b->cap ? b->cap : 128;
  while (cap < b->len + n) {
    if (cap > UINT32_MAX) { fail(b, EP_ETOOBIG); return NULL; }
    cap *= 2;
  }
  uint8_t *nb = realloc(b->buf, cap);
  if (!nb) { fail(b, EP_ENOMEM); return NULL; }
  b->buf = nb;
  b->cap = cap;
  uint8_t *q = b->buf + b->len;
  b->len += n;
  return q;
}

/* Makes room for n more bytes; returns a pointer to them, or NULL. Once an
 * error is set, cap is 0 for grow's purposes: grow_slow refuses. */
static inline uint8_t *grow(ep_build *b, size_t n) {
  if (EP_UNLIKELY(b->err || b->len + n > b->cap)) return grow_slow(b, n);
  uint8_t *q = b->buf + b->len;
  b->len += n;
  return q;
}

static EP_NOINLINE bool value_start_slow(ep_build *b) {
  if (b->err) return false;
  if (b->depth == 0) return b->top == 0 || fail(b, EP_EINVAL);  /* one top-level term */
  if (b->topkind != F_LIST) return true;                          /* a fun's argument */
  uint8_t *q = grow(b, HDR_LIST);     /* in a list, each element has a cell header */
  if (!q) return false;
  q[0] = T_LIST;
  frame(b, b->depth - 1)->last = (uint32_t)(q - b->buf);
  return true;
}

/* Before every value. The fast case (inside a tuple or map, no error) is
 * one test of the cached innermost kind. */
static inline bool value_start(ep_build *b) {
  if (EP_LIKELY(b->topkind == F_TUPLE || b->topkind == F_MAP) && EP_LIKELY(!b->err)) return true;
  return value_start_slow(b);
}

static void close_frame(ep_build *b);
static void close_frame(ep_build *b);

/* After every complete value: count it; a fun closes after its argument. */
static inline void value_done(ep_build *b) {
  if (b->depth == 0) { b->top++; return; }
  ep_bframe *f = frame(b, b->depth - 1);
  f->count++;
  if (EP_UNLIKELY(b->topkind == F_FUN)) close_frame(b);
}

static void set_topkind(ep_build *b) {
  b->topkind = b->depth ? frame(b, b->depth - 1)->kind : 0;
}

static void open_frame(ep_build *b, uint8_t kind, uint8_t tag, size_t hdr) {
  if (!value_start(b)) return;
  if (b->depth >= EP_MAX_DEPTH) { fail(b, EP_EDEPTH); return; }
  if (b->depth == (int)(sizeof b->inl / sizeof *b->inl) && !b->frames) {
    b->frames = malloc(EP_MAX_DEPTH * sizeof *b->frames);
    if (!b->frames) { fail(b, EP_ENOMEM); return; }
    memcpy(b->frames, b->inl, sizeof b->inl);
  }
  if (hdr) {                      /* a list has no header of its own: its cells do */
    uint8_t *q = grow(b, hdr);
    if (!q) return;
    q[0] = tag;
  }
  ep_bframe *f = frame(b, b->depth++);
  f->pos = (uint32_t)(b->len - hdr);
  f->count = 0;
  f->kind = kind;
  b->topkind = kind;
}

static inline __attribute__((always_inline)) void put_scalar(ep_build *b, const uint8_t *bytes, size_t n) {
  if (!value_start(b)) return;
  uint8_t *q = grow(b, n);
  if (!q) return;
  memcpy(q, bytes, n);
  value_done(b);
}

void ep__b_int(ep_build *b, int64_t v) {
  uint8_t t[9] = {T_INT};
  wr64(t + 1, (uint64_t)v);
  put_scalar(b, t, 9);
}

void ep_b_big(ep_build *b, bool negative, const uint8_t *mag, size_t n) {
  while (n && mag[n - 1] == 0) n--;
  uint64_t m = 0;
  if (n <= 8) {
    for (size_t i = n; i-- > 0;) m = m << 8 | mag[i];
    if (m <= (uint64_t)INT64_MAX) { ep_b_int(b, negative ? -(int64_t)m : (int64_t)m); return; }
    if (negative && m == (uint64_t)1 << 63) { ep_b_int(b, INT64_MIN); return; }
  }
  if (n > UINT32_MAX - 16) { fail(b, EP_ETOOBIG); return; }
  if (!value_start(b)) return;
  uint8_t *q = grow(b, 6 + n);
  if (!q) return;
  q[0] = T_BIG;
  q[1] = negative;
  wr32(q + 2, (uint32_t)n);
  memcpy(q + 6, mag, n);
  value_done(b);
}

void ep_b_uint(ep_build *b, uint64_t v) {
  if (v <= (uint64_t)INT64_MAX) { ep_b_int(b, (int64_t)v); return; }
  uint8_t mag[8];
  for (int i = 0; i < 8; i++) mag[i] = (uint8_t)(v >> (8 * i));
  ep_b_big(b, false, mag, 8);
}

void ep_b_float(ep_build *b, double v) {
  if (!isfinite(v)) { fail(b, EP_ERANGE); return; }
  uint8_t t[9] = {T_FLOAT};
  memcpy(t + 1, &v, 8);
  put_scalar(b, t, 9);
}

void ep__b_atom(ep_build *b, ep_atom a) {
  if (a == 0) { fail(b, EP_EINVAL); return; }
  uint8_t t[5] = {T_ATOM};
  wr32(t + 1, a);
  put_scalar(b, t, 5);
}

void ep_b_atom_name(ep_build *b, const char *name) {
  ep_atom a;
  int err = name ? ep_atom_from(name, strlen(name), &a) : EP_EINVAL;
  if (err) fail(b, err);
  else ep_b_atom(b, a);
}

static void put_bytes(ep_build *b, uint8_t tag, const void *data, size_t n, int lastbits) {
  if (n > UINT32_MAX - 64) { fail(b, EP_ETOOBIG); return; }
  if (n && !data) { fail(b, EP_EINVAL); return; }
  if (!value_start(b)) return;
  size_t hdr = lastbits >= 0 ? 6 : 5;
  uint8_t *q = grow(b, hdr + n);
  if (!q) return;
  q[0] = tag;
  wr32(q + 1, (uint32_t)n);
  if (lastbits >= 0) q[5] = (uint8_t)lastbits;
  if (n) memcpy(q + hdr, data, n);
  if (lastbits > 0) q[hdr + n - 1] &= (uint8_t)(0xff << (8 - lastbits));
  value_done(b);
}

void ep_b_binary(ep_build *b, const void *data, size_t n) { put_bytes(b, T_BIN, data, n, -1); }

void ep_b_bits(ep_build *b, const void *data, size_t nbytes, unsigned lastbits) {
  if (lastbits == 8 || lastbits == 0) { ep_b_binary(b, data, nbytes); return; }
  if (lastbits > 8 || nbytes == 0) { fail(b, EP_EINVAL); return; }
  put_bytes(b, T_BITS, data, nbytes, (int)lastbits);
}

void ep_b_nil(ep_build *b) {
  uint8_t t = T_NIL;
  put_scalar(b, &t, 1);
}

void ep_b_string(ep_build *b, const char *utf8) {
  if (!utf8) { fail(b, EP_EINVAL); return; }
  size_t n = strlen(utf8);
  if (ep__utf8_count((const uint8_t *)utf8, n) < 0) { fail(b, EP_EUTF8); return; }
  ep_b_list(b);
  for (const uint8_t *s = (const uint8_t *)utf8, *e = s + n; s < e;) {
    uint32_t cp = *s++;
    int k = cp >= 0xf0 ? 3 : cp >= 0xe0 ? 2 : cp >= 0xc0 ? 1 : 0;
    if (k) cp &= 0x3fu >> k;
    while (k--) cp = cp << 6 | (*s++ & 0x3f);
    ep_b_int(b, cp);
  }
  ep_b_end(b);
}

void ep__b_pid(ep_build *b, ep_pid p) {
  uint8_t t[SZ_PID];
  put_pid(t, p);
  put_scalar(b, t, SZ_PID);
}

void ep_b_ref(ep_build *b, const ep_ref *r) {
  if (!r || r->len < 1 || r->len > 5) { fail(b, EP_EINVAL); return; }
  if (!value_start(b)) return;
  uint8_t *q = grow(b, ref_size(r));    /* written in place: no copy of a variable size */
  if (!q) return;
  put_ref(q, r);
  value_done(b);
}

void ep_b_port(ep_build *b, const ep_port *p) {
  if (!p) { fail(b, EP_EINVAL); return; }
  uint8_t t[SZ_PORT] = {T_PORT};
  wr32(t + 1, p->node);
  wr32(t + 5, p->creation);
  wr64(t + 9, p->id);
  put_scalar(b, t, SZ_PORT);
}

void ep_b_fun(ep_build *b, ep_fn fn) {
  if (!fn) { fail(b, EP_EINVAL); return; }
  open_frame(b, F_FUN, T_FUN, HDR_FUN);
  if (b->err) return;
  uint64_t bits = 0;
  memcpy(&bits, &fn, sizeof fn);
  wr64(b->buf + frame(b, b->depth - 1)->pos + 1, bits);
}

void ep_b_term(ep_build *b, ep_term t) {
  if (!t) { fail(b, EP_EINVAL); return; }
  put_scalar(b, tp(t), ep__tsize(tp(t)));
}

void ep__b_tuple(ep_build *b) { open_frame(b, F_TUPLE, T_TUPLE, HDR_TUPLE); }
void ep_b_list(ep_build *b) { open_frame(b, F_LIST, T_LIST, 0); }
void ep_b_map(ep_build *b) { open_frame(b, F_MAP, T_MAP, HDR_MAP); }

/* Sorts the k/v pairs of the map opened at pos (stable, so among keys equal
 * under =:= the last one is kept, as #{a => 1, a => 2} does). */
static void sort_map(ep_build *b, ep_bframe *f) {
  uint32_t n = f->count / 2;
  size_t start = f->pos + HDR_MAP, end = b->len;
  const uint8_t **pairs = n ? malloc(n * sizeof *pairs) : NULL;
  uint8_t *out = n ? malloc(end - start) : NULL;
  if (n && (!pairs || !out)) {
    free(pairs);
    free(out);
    fail(b, EP_ENOMEM);
    return;
  }
  const uint8_t *p = b->buf + start;
  for (uint32_t i = 0; i < n; i++, p = ep__tskip(ep__tskip(p))) pairs[i] = p;
  for (uint32_t i = 1; i < n; i++) {          /* insertion sort: maps are small */
    const uint8_t *x = pairs[i];
    uint32_t j = i;
    while (j > 0 && ep__compare_exact(mkterm(pairs[j - 1]), mkterm(x)) > 0) {
      pairs[j] = pairs[j - 1];
      j--;
    }
    pairs[j] = x;
  }
  size_t len = 0;
  uint32_t kept = 0;
  for (uint32_t i = 0; i < n; i++) {
    if (i + 1 < n && ep__compare_exact(mkterm(pairs[i]), mkterm(pairs[i + 1])) == 0) continue;
    size_t sz = ep__tsize(ep__tskip(pairs[i])) + (size_t)(ep__tskip(pairs[i]) - pairs[i]);
    memcpy(out + len, pairs[i], sz);
    len += sz;
    kept++;
  }
  if (n) memcpy(b->buf + start, out, len);
  b->len = start + len;
  f->count = kept * 2;
  free(pairs);
  free(out);
}

static void close_frame(ep_build *b) {
  ep_bframe *f = frame(b, --b->depth);
  set_topkind(b);
  uint8_t *q = b->buf + f->pos;
  switch (f->kind) {
  case F_TUPLE:
    wr32(q + 1, f->count);
    wr32(q + 5, (uint32_t)(b->len - f->pos - HDR_TUPLE));
    break;
  case F_MAP:
    if (f->count % 2) { fail(b, EP_EINVAL); return; }
    sort_map(b, f);
    if (b->err) return;
    wr32(q + 1, f->count / 2);
    wr32(q + 5, (uint32_t)(b->len - f->pos - HDR_MAP));
    break;
  case F_LIST: {
    /* each cell's size runs to the end of the list; walk the cells in order */
    uint8_t *c = q, *end = b->buf + b->len;
    for (uint32_t i = 0; i < f->count; i++) {
      wr32(c + 1, (uint32_t)(end - c - HDR_LIST));
      c = (uint8_t *)ep__tskip(c + HDR_LIST);
    }
    break;
  }
  case F_FUN:
    break;
  }
  value_done(b);
}

void ep__b_end(ep_build *b) {
  if (b->err) return;
  if (b->depth == 0) { fail(b, EP_EINVAL); return; }
  ep_bframe *f = frame(b, b->depth - 1);
  if (f->kind == F_FUN) { fail(b, EP_EINVAL); return; }
  if (f->kind == F_LIST) {
    uint8_t *q = grow(b, 1);      /* the [] tail */
    if (!q) return;
    *q = T_NIL;
    if (f->count == 0) {          /* [] itself: no cells were written */
      b->depth--;
      set_topkind(b);
      value_done(b);
      return;
    }
  }
  close_frame(b);
}

void ep_b_end_tail(ep_build *b) {
  if (b->err) return;
  if (b->depth == 0) { fail(b, EP_EINVAL); return; }
  ep_bframe *f = frame(b, b->depth - 1);
  if (f->kind != F_LIST || f->count < 2) { fail(b, EP_EINVAL); return; }
  /* the last value is the tail, not an element: drop its cell header */
  uint8_t *cell = b->buf + f->last;
  memmove(cell, cell + HDR_LIST, b->len - f->last - HDR_LIST);
  b->len -= HDR_LIST;
  f->count--;
  close_frame(b);
}

ep_term ep_b_finish(ep_build *b, int *err) {
  int e = b->err ? b->err : (b->depth != 0 || b->top != 1) ? EP_EINVAL : 0;
  ep_term t = NULL;
  if (!e && b->headroom == 0 && !b->borrowed) {   /* hand the buffer over: no copy */
    uint8_t *blk = realloc(b->buf, b->len);
    t = mkterm(blk ? blk : b->buf);
    b->buf = NULL;
    b->cap = 0;
  } else if (!e) {
    size_t n = b->len - b->headroom;
    uint8_t *blk = malloc(n);
    if (blk) {
      memcpy(blk, b->buf + b->headroom, n);
      t = mkterm(blk);
    } else {
      e = EP_ENOMEM;
    }
  }
  ep_b_reset(b);
  if (err) *err = e;
  return t;
}
