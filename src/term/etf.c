/* SPDX-License-Identifier: Apache-2.0 */
/*
 * etf.c - Erlang's external term format: the bytes of term_to_binary/1.
 *
 * Encodes terms in one forward pass over their pre-order bytes; decodes
 * untrusted ETF (compressed too) without recursion into a builder's buffer.
 * Owns the local node's name and creation used for local pids, refs, ports.
 * Atoms, map key order and the builder are atom.c's, order.c's, term.c's.
 */
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <zlib.h>

#include "term_int.h"

enum etf_tag {
  E_VERSION = 131,
  E_COMPRESSED = 80,
  E_NEW_FLOAT = 70,
  E_BIT_BINARY = 77,
  E_NEW_PID = 88,
  E_NEW_PORT = 89,
  E_NEWER_REF = 90,
  E_SMALL_INT = 97,
  E_INT = 98,
  E_FLOAT = 99,
  E_ATOM = 100,
  E_REF = 101,
  E_PORT = 102,
  E_PID = 103,
  E_SMALL_TUPLE = 104,
  E_LARGE_TUPLE = 105,
  E_NIL = 106,
  E_STRING = 107,
  E_LIST = 108,
  E_BINARY = 109,
  E_SMALL_BIG = 110,
  E_LARGE_BIG = 111,
  E_NEW_REF = 114,
  E_SMALL_ATOM = 115,
  E_MAP = 116,
  E_ATOM_UTF8 = 118,
  E_SMALL_ATOM_UTF8 = 119,
  E_V4_PORT = 120
};

#define STRING_MAX 65535     /* longest byte list Erlang writes as STRING_EXT */
#define CELL_INT (HDR_LIST + 9)
#define PORT_V3_MAX 0x0fffffffu  /* larger port ids: V4_PORT_EXT, as OTP 24+ */

/* ---------------------------------------------------------- local node -- */

/* Relaxed: set once before distribution starts, read by every codec call. */
static _Atomic uint32_t local_name = EP_A_nonode_nohost;
static _Atomic uint32_t local_creation;

void ep__etf_set_local_node(ep_atom name, uint32_t creation) {
  atomic_store_explicit(&local_name, name, memory_order_relaxed);
  atomic_store_explicit(&local_creation, creation, memory_order_relaxed);
}

ep_atom ep__local_node(uint32_t *creation) {
  *creation = atomic_load_explicit(&local_creation, memory_order_relaxed);
  return atomic_load_explicit(&local_name, memory_order_relaxed);
}

static inline uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint64_t be64(const uint8_t *p) { return (uint64_t)be32(p) << 32 | be32(p + 4); }
static inline void put16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void put32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}
static inline void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)(v >> 32)); put32(p + 4, (uint32_t)v); }

/* ------------------------------------------------------------ encoding -- */

/* Output cursor. Bytes past cap are counted, not written, so one pass both
 * sizes (cap 0) and writes. */
typedef struct eout {
  uint8_t *o;
  size_t n, cap;
} eout;

/* The writers are inlined into enc_run, whose cursor is a local that never
 * escapes, so it stays in registers although the output stores are char
 * stores that could otherwise alias it. Headers are stored straight into
 * the output (building them on the stack and copying them costs a
 * store-forwarding stall per term). */
#define EP_ENC_INLINE static inline __attribute__((always_inline))
#define ROOM_MAX 16                        /* largest fixed part: a V4 port's */

static _Thread_local uint8_t overflow[ROOM_MAX];   /* writes past cap land here */

/* Where to write the next k <= ROOM_MAX bytes. */
static inline uint8_t *room(eout *w, size_t k) {
  uint8_t *q = EP_LIKELY(w->n + k <= w->cap) ? w->o + w->n : overflow;
  w->n += k;
  return q;
}

static inline void put(eout *w, const void *s, size_t k) {
  if (EP_LIKELY(w->n + k <= w->cap)) memcpy(w->o + w->n, s, k);
  w->n += k;
}

EP_ENC_INLINE void enc_atom(eout *w, ep_atom a, int flags) {
  size_t len;
  const uint8_t *s = (const uint8_t *)ep_atom_name(a, &len);
  uint8_t *q;
  if (flags & EP_ETF_LATIN1_ATOMS) {
    size_t chars = 0, i;              /* latin-1 fits when every lead byte is < 0xc4 */
    for (i = 0; i < len; i++, chars++) {
      if (s[i] < 0x80) continue;
      if (s[i] != 0xc2 && s[i] != 0xc3) break;
      i++;
    }
    if (i >= len) {
      q = room(w, 3);
      q[0] = E_ATOM;
      put16(q + 1, (uint32_t)chars);
      if (chars == len) {
        put(w, s, len);
        return;
      }
      for (i = 0; i < len; i++) {
        q = room(w, 1);
        *q = s[i] < 0x80 ? s[i] : (uint8_t)((s[i] & 3) << 6 | (s[i + 1] & 0x3f));
        i += s[i] >= 0x80;
      }
      return;
    }
  }
  if (len <= 255) {
    q = room(w, 2);
    q[0] = E_SMALL_ATOM_UTF8;
    q[1] = (uint8_t)len;
  } else {
    q = room(w, 3);
    q[0] = E_ATOM_UTF8;
    put16(q + 1, (uint32_t)len);
  }
  put(w, s, len);
}

EP_ENC_INLINE void enc_int(eout *w, int64_t v) {
  uint8_t *q;
  if (v >= 0 && v <= 255) {
    q = room(w, 2);
    q[0] = E_SMALL_INT;
    q[1] = (uint8_t)v;
  } else if (v >= INT32_MIN && v <= INT32_MAX) {
    q = room(w, 5);
    q[0] = E_INT;
    put32(q + 1, (uint32_t)v);
  } else {
    uint64_t m = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    uint8_t n = (uint8_t)((71 - __builtin_clzll(m)) / 8);   /* bytes of magnitude */
    q = room(w, 3 + (size_t)n);
    q[0] = E_SMALL_BIG;
    q[1] = n;
    q[2] = v < 0;
    for (uint8_t i = 0; i < n; i++, m >>= 8) q[3 + i] = (uint8_t)m;
  }
}

/* Node and creation as the wire sees them: local ones get this node's. */
EP_ENC_INLINE void enc_node(eout *w, const uint8_t *p, int flags, uint32_t *creation) {
  uint32_t node = rd32(p + 1);
  *creation = rd32(p + 5);
  if (node == EP_NODE_LOCAL) {
    node = atomic_load_explicit(&local_name, memory_order_relaxed);
    *creation = atomic_load_explicit(&local_creation, memory_order_relaxed);
  }
  enc_atom(w, node, flags);
}

/* The list starting at cell p: its number of cells, and whether Erlang
 * writes it as STRING_EXT (proper, at most 65535 small ints 0..255). */
static size_t list_shape(const uint8_t *p, bool *is_string) {
  size_t n = 0;
  bool str = true;
  for (; *p == T_LIST; n++) {
    const uint8_t *h = p + HDR_LIST;
    str = str && h[0] == T_INT && rd64(h + 1) <= 255;
    p = h + ep__tsize(h);
  }
  *is_string = str && *p == T_NIL && n <= STRING_MAX;
  return n;
}

/* Where to resume a list whose elements are being written: `resume` is the
 * end of the current head, where the next cell (or the tail) starts. */
typedef struct lframe {
  const uint8_t *resume;
  size_t left;       /* cells after the current one */
} lframe;

/* The list whose first cell is at *pp: STRING_EXT whole (returns 0, *pp
 * past it), or the LIST_EXT header with f set to walk its cells (returns
 * 1, *pp at the first head). */
EP_ENC_INLINE int enc_list(eout *w, const uint8_t **pp, lframe *f) {
  const uint8_t *p = *pp;
  bool str;
  size_t n = list_shape(p, &str);
  uint8_t *q;
  if (str) {
    q = room(w, 3);
    q[0] = E_STRING;
    put16(q + 1, (uint32_t)n);
    bool fits = w->n + n <= w->cap;
    for (size_t i = 0; i < n; i++, p += CELL_INT)   /* every cell: a header and an int */
      if (fits) w->o[w->n + i] = (uint8_t)rd64(p + HDR_LIST + 1);
    w->n += n;
    *pp = p + 1;
    return 0;
  }
  q = room(w, 5);
  q[0] = E_LIST;
  put32(q + 1, (uint32_t)n);
  p += HDR_LIST;
  f->left = n - 1;
  f->resume = p + ep__tsize(p);
  *pp = p;
  return 1;
}

EP_ENC_INLINE void enc_big(eout *w, const uint8_t *p) {
  uint32_t n = rd32(p + 2);
  uint8_t *q;
  if (n <= 255) {
    q = room(w, 3);
    q[0] = E_SMALL_BIG;
    q[1] = (uint8_t)n;
    q[2] = p[1];
  } else {
    q = room(w, 6);
    q[0] = E_LARGE_BIG;
    put32(q + 1, n);
    q[5] = p[1];
  }
  put(w, p + 6, n);
}

/* BINARY_EXT, or BIT_BINARY_EXT with the bits used in the last byte. */
EP_ENC_INLINE void enc_binary(eout *w, const uint8_t *p) {
  uint32_t n = rd32(p + 1);
  bool bits = p[0] == T_BITS;
  uint8_t *q = room(w, bits ? 6 : 5);
  q[0] = bits ? E_BIT_BINARY : E_BINARY;
  put32(q + 1, n);
  if (bits) q[5] = p[5];
  put(w, p + (bits ? 6 : 5), n);
}

EP_ENC_INLINE void enc_pid(eout *w, const uint8_t *p, int flags) {
  uint32_t cr;
  *room(w, 1) = E_NEW_PID;
  enc_node(w, p, flags, &cr);
  uint8_t *q = room(w, 12);
  put32(q, rd32(p + 9));
  put32(q + 4, rd32(p + 13));
  put32(q + 8, cr);
}

/* NEW_PORT_EXT, or V4_PORT_EXT for ids past 28 bits (as OTP 24+). */
EP_ENC_INLINE void enc_port(eout *w, const uint8_t *p, int flags) {
  uint64_t id = rd64(p + 9);
  bool v4 = id > PORT_V3_MAX;
  uint32_t cr;
  *room(w, 1) = v4 ? E_V4_PORT : E_NEW_PORT;
  enc_node(w, p, flags, &cr);
  uint8_t *q = room(w, v4 ? 12 : 8);
  if (v4) put64(q, id);
  else put32(q, (uint32_t)id);
  put32(q + (v4 ? 8 : 4), cr);
}

EP_ENC_INLINE void enc_ref(eout *w, const uint8_t *p, int flags) {
  uint32_t cr, len = p[9];
  uint8_t *q = room(w, 3);
  q[0] = E_NEWER_REF;
  put16(q + 1, len);
  enc_node(w, p, flags, &cr);
  put32(room(w, 4), cr);
  for (uint32_t i = 0; i < len; i++) put32(room(w, 4), rd32(p + 10 + 4 * i));
}

/* Containers' headers; their contents follow in the same pre-order. */
EP_ENC_INLINE void enc_header(eout *w, const uint8_t *p) {
  uint32_t n = rd32(p + 1);
  uint8_t *q;
  if (p[0] == T_MAP || n > 255) {
    q = room(w, 5);
    q[0] = p[0] == T_MAP ? E_MAP : E_LARGE_TUPLE;
    put32(q + 1, n);
  } else {
    q = room(w, 2);
    q[0] = E_SMALL_TUPLE;
    q[1] = (uint8_t)n;
  }
}

/* Walks the term's bytes once, front to back: ETF is pre-order too, so
 * only list cells need a stack (their headers are skipped, not written). */
static int enc_run(const uint8_t *p, int flags, eout *wp) {
  eout cur = *wp, *w = &cur;
  const uint8_t *end = p + ep__tsize(p);
  lframe inl[16], *st = inl;
  size_t sp = 0, scap = sizeof inl / sizeof *inl;
  int err = 0;
  while (p < end) {
    if (sp && st[sp - 1].resume == p) {   /* the current list element is done */
      lframe *f = &st[sp - 1];
      if (f->left == 0) {
        sp--;                             /* p is the tail: write it as a term */
      } else {
        f->left--;
        p += HDR_LIST;
        f->resume = p + ep__tsize(p);
      }
    }
    uint8_t *q;
    switch (*p) {
    case T_NIL: *room(w, 1) = E_NIL; p++; break;
    case T_INT: enc_int(w, (int64_t)rd64(p + 1)); p += 9; break;
    case T_BIG: enc_big(w, p); p += ep__tsize(p); break;
    case T_FLOAT:
      q = room(w, 9);
      q[0] = E_NEW_FLOAT;
      put64(q + 1, rd64(p + 1));
      p += 9;
      break;
    case T_ATOM: enc_atom(w, rd32(p + 1), flags); p += 5; break;
    case T_BIN: case T_BITS: enc_binary(w, p); p += ep__tsize(p); break;
    case T_TUPLE: case T_MAP: enc_header(w, p); p += HDR_TUPLE; break;
    case T_PID: enc_pid(w, p, flags); p += SZ_PID; break;
    case T_PORT: enc_port(w, p, flags); p += SZ_PORT; break;
    case T_REF: enc_ref(w, p, flags); p += ep__tsize(p); break;
    case T_LIST:
      if (sp == scap) {
        lframe *ns = malloc(2 * scap * sizeof *ns);
        if (!ns) { err = EP_ENOMEM; goto out; }
        memcpy(ns, st, sp * sizeof *st);
        if (st != inl) free(st);
        st = ns;
        scap *= 2;
      }
      sp += (size_t)enc_list(w, &p, &st[sp]);
      break;
    case T_FUN: err = EP_ELOCALFUN; goto out;
    default: err = EP_EBADTERM; goto out;
    }
  }
out:
  if (st != inl) free(st);
  *wp = cur;
  return err;
}

int ep_etf_size(ep_term t, int flags, size_t *len) {
  if (!t || !len) return EP_EINVAL;
  eout w = {NULL, 1, 0};
  int err = enc_run(tp(t), flags, &w);
  if (!err) *len = w.n;
  return err;
}

int ep_etf_encode_to(ep_term t, int flags, uint8_t *buf, size_t cap, size_t *len) {
  if (!t || !len || (!buf && cap)) return EP_EINVAL;
  eout w = {buf, 1, cap};
  if (cap) buf[0] = E_VERSION;
  int err = enc_run(tp(t), flags, &w);
  if (err) return err;
  *len = w.n;
  return w.n <= cap ? 0 : EP_ETOOBIG;
}

int ep_etf_encode(const ep_term t, int flags, uint8_t **out, size_t *len) {
  if (!t || !out || !len) return EP_EINVAL;
  size_t guess = ep__tsize(tp(t)) + 64, n;
  uint8_t *buf = malloc(guess);
  if (!buf) return EP_ENOMEM;
  int err = ep_etf_encode_to(t, flags, buf, guess, &n);
  if (err == EP_ETOOBIG) {            /* long atom names or local nodes: retry at size */
    uint8_t *nb = realloc(buf, n);
    if (!nb) { free(buf); return EP_ENOMEM; }
    buf = nb;
    err = ep_etf_encode_to(t, flags, buf, n, &n);
  }
  if (err) {
    free(buf);
    return err;
  }
  if (n < guess / 2) {                /* small integers shrink a lot: give it back */
    uint8_t *nb = realloc(buf, n);
    if (nb) buf = nb;
  }
  *out = buf;
  *len = n;
  return 0;
}

/* ------------------------------------------------------------ decoding -- */

enum { D_TUPLE, D_MAP, D_LIST };

/* An open container in the output. */
typedef struct dframe {
  size_t left;     /* subterms still to come (a list counts its tail) */
  size_t count;    /* list: cells; map: pairs */
  size_t at;       /* output offset of its header (list: of the first cell) */
  size_t in_at;    /* input offset of its tag, for errors */
  int kind;
} dframe;

typedef struct dec {
  const uint8_t *p;            /* input cursor */
  const uint8_t *base, *end;   /* input, whose offset 0 is base */
  uint8_t *o;                  /* output buffer (a builder's) */
  size_t n, cap;               /* output bytes used, allocated */
  size_t err_at;               /* input offset where decoding failed */
  int maxdepth;                /* open containers allowed */
  int sp, scap;
  dframe *st;
  dframe inl[8];
} dec;

#define OUT_MAX ((size_t)UINT32_MAX)   /* container sizes are u32 */

__attribute__((noinline)) static int ogrow(dec *d, size_t k) {
  if (k > OUT_MAX - d->n) return EP_ETOOBIG;
  size_t cap = d->cap ? d->cap : 64;
  while (cap < d->n + k) cap *= 2;   /* n may exceed cap: headroom not yet allocated */
  uint8_t *o = realloc(d->o, cap);
  if (!o) return EP_ENOMEM;
  d->o = o;
  d->cap = cap;
  return 0;
}

static int push(dec *d, int kind, size_t left, size_t count, size_t at, size_t in_at) {
  if (d->sp == d->scap) {
    int cap = d->scap * 2;
    dframe *ns = malloc((size_t)cap * sizeof *ns);
    if (!ns) return EP_ENOMEM;
    memcpy(ns, d->st, (size_t)d->sp * sizeof *ns);
    if (d->st != d->inl) free(d->st);
    d->st = ns;
    d->scap = cap;
  }
  d->st[d->sp++] = (dframe){left, count, at, in_at, kind};
  return 0;
}

/* Bottom-up merge sort of pair offsets by key (exact order); n >= 2. */
static void sort_pairs(const uint8_t *base, uint32_t *a, uint32_t *tmp, size_t n) {
  for (size_t w = 1; w < n; w *= 2) {
    for (size_t lo = 0; lo < n; lo += 2 * w) {
      size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
      size_t i = lo, j = mid, k = lo;
      while (i < mid && j < hi)
        tmp[k++] = ep__compare_exact(mkterm(base + a[j]), mkterm(base + a[i])) < 0 ? a[j++] : a[i++];
      while (i < mid) tmp[k++] = a[i++];
      while (j < hi) tmp[k++] = a[j++];
    }
    memcpy(a, tmp, n * sizeof *a);
  }
}

/* ETF maps come in any order (large ones in hash order): sort the pairs
 * into key order and reject keys that are =:=, as binary_to_term does. */
static int close_map(dec *d, const dframe *f) {
  uint8_t *c0 = d->o + f->at + HDR_MAP;
  size_t size = d->n - f->at - HDR_MAP, n = f->count;
  wr32(d->o + f->at + 5, (uint32_t)size);
  const uint8_t *k = c0, *prev = NULL;
  bool sorted = true;
  for (size_t i = 0; i < n && sorted; i++) {
    if (prev) {
      int c = ep__compare_exact(mkterm(prev), mkterm(k));
      if (c == 0) return EP_EDUPKEY;
      sorted = c < 0;
    }
    prev = k;
    k = ep__tskip(ep__tskip(k));
  }
  if (sorted) return 0;
  uint32_t *idx = malloc(2 * n * sizeof *idx);
  uint8_t *copy = malloc(size);
  int err = idx && copy ? 0 : EP_ENOMEM;
  if (!err) {
    k = c0;
    for (size_t i = 0; i < n; i++, k = ep__tskip(ep__tskip(k))) idx[i] = (uint32_t)(k - c0);
    sort_pairs(c0, idx, idx + n, n);
    size_t len = 0;
    for (size_t i = 0; i < n && !err; i++) {
      const uint8_t *key = c0 + idx[i];
      if (i + 1 < n && ep__compare_exact(mkterm(key), mkterm(c0 + idx[i + 1])) == 0) err = EP_EDUPKEY;
      size_t sz = (size_t)(ep__tskip(ep__tskip(key)) - key);
      memcpy(copy + len, key, sz);
      len += sz;
    }
    if (!err) memcpy(c0, copy, size);
  }
  free(idx);
  free(copy);
  return err;
}

/* Closes the container on top: patches sizes (every cell of a list runs to
 * the end of the list) and sorts maps. */
static int close_top(dec *d) {
  const dframe *f = &d->st[d->sp - 1];
  int err = 0;
  if (f->kind == D_TUPLE) {
    wr32(d->o + f->at + 5, (uint32_t)(d->n - f->at - HDR_TUPLE));
  } else if (f->kind == D_MAP) {
    err = close_map(d, f);
  } else {
    uint8_t *c = d->o + f->at, *end = d->o + d->n;
    for (size_t i = 0; i < f->count; i++) {
      wr32(c + 1, (uint32_t)(end - c - HDR_LIST));
      c = (uint8_t *)ep__tskip(c + HDR_LIST);
    }
  }
  if (err) d->err_at = f->in_at;
  d->sp--;
  return err;
}

/* An atom in any of the four atom encodings at *pp (node names too). */
static int dec_atom(const uint8_t **pp, const uint8_t *end, ep_atom *out) {
  const uint8_t *p = *pp;
  size_t n, avail = (size_t)(end - p);
  bool latin1;
  if (avail < 1) return EP_ETRUNC;
  switch (p[0]) {
  case E_SMALL_ATOM_UTF8: case E_SMALL_ATOM:
    if (avail < 2) return EP_ETRUNC;
    latin1 = p[0] == E_SMALL_ATOM;
    n = p[1];
    p += 2;
    break;
  case E_ATOM_UTF8: case E_ATOM:
    if (avail < 3) return EP_ETRUNC;
    latin1 = p[0] == E_ATOM;
    n = be16(p + 1);
    p += 3;
    break;
  default:
    return EP_EBADTAG;
  }
  if ((size_t)(end - p) < n) return EP_ETRUNC;
  *pp = p + n;
  if (!latin1) return ep_atom_from((const char *)p, n, out);
  if (n > EP_ATOM_MAX_CHARS) return EP_EATOMLEN;
  char u[2 * EP_ATOM_MAX_CHARS];
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    if (p[i] < 0x80) {
      u[k++] = (char)p[i];
    } else {
      u[k++] = (char)(0xc0 | p[i] >> 6);
      u[k++] = (char)(0x80 | (p[i] & 0x3f));
    }
  }
  return ep_atom_from(u, k, out);
}

/* FLOAT_EXT: "%.20e" text in 31 bytes, NUL padded. */
static int float_text(const uint8_t *p, double *out) {
  char buf[32];
  memcpy(buf, p, 31);
  buf[31] = 0;
  size_t k = strlen(buf);
  if (k == 0 || strspn(buf, "0123456789+-.eE") != k) return EP_ERANGE;
  char *e;
  double v = strtod(buf, &e);
  if ((size_t)(e - buf) != k || !isfinite(v)) return EP_ERANGE;
  *out = v;
  return 0;
}

static inline bool avail(const dec *d, size_t k) { return (size_t)(d->end - d->p) >= k; }

/* Reserves k output bytes and returns them, or NULL with *err set. */
static inline uint8_t *reserve(dec *d, size_t k, int *err) {
  if (EP_UNLIKELY(d->n + k > d->cap) && (*err = ogrow(d, k)) != 0) return NULL;
  uint8_t *q = d->o + d->n;
  d->n += k;
  return q;
}

static int put_int(dec *d, int64_t v) {
  int err = 0;
  uint8_t *q = reserve(d, 9, &err);
  if (q) {
    q[0] = T_INT;
    wr64(q + 1, (uint64_t)v);
  }
  return err;
}

/* SMALL_BIG_EXT, LARGE_BIG_EXT: a plain integer when it fits int64. */
static int dec_big(dec *d, bool large) {
  if (!avail(d, large ? 5 : 2)) return EP_ETRUNC;
  size_t n = large ? be32(d->p) : d->p[0];
  bool neg = d->p[large ? 4 : 1] != 0;   /* any non-zero sign is negative, as in OTP */
  d->p += large ? 5 : 2;
  if (!avail(d, n)) return EP_ETRUNC;
  const uint8_t *mag = d->p;
  d->p += n;
  while (n && mag[n - 1] == 0) n--;
  if (n <= 8) {
    uint64_t m = 0;
    for (size_t i = n; i-- > 0;) m = m << 8 | mag[i];
    if (m <= (uint64_t)INT64_MAX + neg) return put_int(d, (int64_t)(neg ? 0 - m : m));
  }
  int err = 0;
  uint8_t *q = reserve(d, 6 + n, &err);
  if (q) {
    q[0] = T_BIG;
    q[1] = neg;
    wr32(q + 2, (uint32_t)n);
    memcpy(q + 6, mag, n);
  }
  return err;
}

/* NEW_FLOAT_EXT (IEEE bits) or FLOAT_EXT (text); finite only. */
static int dec_float(dec *d, bool text) {
  double v;
  if (!avail(d, text ? 31 : 8)) return EP_ETRUNC;
  if (text) {
    int err = float_text(d->p, &v);
    if (err) return err;
  } else {
    uint64_t bits = be64(d->p);
    memcpy(&v, &bits, 8);
    if (!isfinite(v)) return EP_ERANGE;
  }
  d->p += text ? 31 : 8;
  int err = 0;
  uint8_t *q = reserve(d, 9, &err);
  if (q) {
    q[0] = T_FLOAT;
    memcpy(q + 1, &v, 8);
  }
  return err;
}

static int dec_atom_term(dec *d) {
  ep_atom a;
  d->p--;                              /* dec_atom reads the tag itself */
  int err = dec_atom(&d->p, d->end, &a);
  uint8_t *q = err ? NULL : reserve(d, 5, &err);
  if (q) {
    q[0] = T_ATOM;
    wr32(q + 1, a);
  }
  return err;
}

/* STRING_EXT: a list of bytes as integers; every cell's size is known. */
static int dec_string(dec *d) {
  if (!avail(d, 2)) return EP_ETRUNC;
  size_t n = be16(d->p);
  if (!avail(d, 2 + n)) return EP_ETRUNC;
  if (n && d->sp >= d->maxdepth) return EP_EDEPTH;   /* a list, as ep_b_string's */
  const uint8_t *s = d->p + 2;
  d->p = s + n;
  int err = 0;
  uint8_t *q = reserve(d, n * CELL_INT + 1, &err);
  if (!q) return err;
  for (size_t i = 0; i < n; i++, q += CELL_INT) {
    q[0] = T_LIST;
    wr32(q + 1, (uint32_t)((n - i) * CELL_INT + 1 - HDR_LIST));
    q[HDR_LIST] = T_INT;
    wr64(q + HDR_LIST + 1, s[i]);
  }
  *q = T_NIL;
  return 0;
}

/* BINARY_EXT, BIT_BINARY_EXT: 8 bits used in the last byte (or no bytes)
 * is a binary; otherwise the unused low bits are cleared. */
static int dec_binary(dec *d, bool bitstr) {
  size_t hdr_in = bitstr ? 5 : 4;
  if (!avail(d, hdr_in)) return EP_ETRUNC;
  size_t n = be32(d->p);
  unsigned bits = bitstr ? d->p[4] : 8;
  if (!avail(d, hdr_in + n)) return EP_ETRUNC;
  if (bitstr && ((bits == 0) != (n == 0) || bits > 8)) return EP_ERANGE;
  const uint8_t *s = d->p + hdr_in;
  d->p = s + n;
  bool whole = bits == 8 || n == 0;
  size_t hdr = whole ? 5 : 6;
  int err = 0;
  uint8_t *q = reserve(d, hdr + n, &err);
  if (!q) return err;
  q[0] = whole ? T_BIN : T_BITS;
  wr32(q + 1, (uint32_t)n);
  memcpy(q + hdr, s, n);
  if (!whole) {
    q[5] = (uint8_t)bits;
    q[hdr + n - 1] &= (uint8_t)(0xff << (8 - bits));
  }
  return 0;
}

/* The node atom of a pid, port or reference, then `fixed` more bytes;
 * leaves d->p on those bytes. */
static int dec_node(dec *d, size_t fixed, ep_atom *node) {
  int err = dec_atom(&d->p, d->end, node);
  if (err) return err;
  return avail(d, fixed) ? 0 : EP_ETRUNC;
}

static inline uint32_t creation_at(const uint8_t *p, size_t crlen) { return crlen == 1 ? p[0] : be32(p); }

/* Writes node and creation; this node's own become EP_NODE_LOCAL. */
static void put_node(uint8_t *q, ep_atom node, uint32_t creation) {
  if (node == atomic_load_explicit(&local_name, memory_order_relaxed) &&
      creation == atomic_load_explicit(&local_creation, memory_order_relaxed))
    node = EP_NODE_LOCAL, creation = 0;
  wr32(q + 1, node);
  wr32(q + 5, creation);
}

/* PID_EXT (creation:u8), NEW_PID_EXT: node, id, serial, creation. */
static int dec_pid(dec *d, bool old) {
  ep_atom node;
  size_t fixed = old ? 9 : 12;
  int err = dec_node(d, fixed, &node);
  uint8_t *q = err ? NULL : reserve(d, SZ_PID, &err);
  if (!q) return err;
  const uint8_t *p = d->p;
  q[0] = T_PID;
  put_node(q, node, creation_at(p + 8, old ? 1 : 4));
  wr32(q + 9, be32(p));
  wr32(q + 13, be32(p + 4));
  d->p += fixed;
  return 0;
}

/* PORT_EXT (id:u32, creation:u8), NEW_PORT_EXT (u32, u32), V4_PORT_EXT (u64, u32). */
static int dec_port(dec *d, uint8_t tag) {
  ep_atom node;
  size_t idlen = tag == E_V4_PORT ? 8 : 4, crlen = tag == E_PORT ? 1 : 4;
  int err = dec_node(d, idlen + crlen, &node);
  uint8_t *q = err ? NULL : reserve(d, SZ_PORT, &err);
  if (!q) return err;
  const uint8_t *p = d->p;
  q[0] = T_PORT;
  put_node(q, node, creation_at(p + idlen, crlen));
  wr64(q + 9, idlen == 8 ? be64(p) : be32(p));
  d->p += idlen + crlen;
  return 0;
}

/* REFERENCE_EXT (node, id, creation:u8), NEW_REFERENCE_EXT (len, node,
 * creation:u8, ids), NEWER_REFERENCE_EXT (len, node, creation:u32, ids). */
static int dec_ref(dec *d, uint8_t tag) {
  ep_atom node;
  size_t len = 1, crlen = tag == E_NEWER_REF ? 4 : 1;
  if (tag != E_REF) {
    if (!avail(d, 2)) return EP_ETRUNC;
    len = be16(d->p);
    d->p += 2;
  }
  int err = dec_node(d, crlen + 4 * len, &node);
  if (err) return err;
  if (len < 1 || len > 5) return EP_ERANGE;
  uint8_t *q = reserve(d, 10 + 4 * len, &err);
  if (!q) return err;
  const uint8_t *p = d->p, *ids = tag == E_REF ? p : p + crlen;
  q[0] = T_REF;
  put_node(q, node, creation_at(tag == E_REF ? p + 4 : p, crlen));
  q[9] = (uint8_t)len;
  for (size_t i = 0; i < len; i++) wr32(q + 10 + 4 * i, be32(ids + 4 * i));
  d->p += crlen + 4 * len;
  return 0;
}

/* The cell header before a list element; its size is patched at close. */
static int open_cell(dec *d) {
  int err = 0;
  uint8_t *q = reserve(d, HDR_LIST, &err);
  if (q) q[0] = T_LIST;
  return err;
}

/* LIST_EXT of n elements. Returns 1 (decode on) or an error. */
static int open_list(dec *d, size_t n, size_t in_at) {
  if (n == 0) return 1;                /* LIST_EXT 0: the tail alone is the value */
  dframe *f = d->sp ? &d->st[d->sp - 1] : NULL;
  if (f && f->kind == D_LIST && f->left == 1) {
    f->left += n;                      /* a list as the tail: one longer chain */
    f->count += n;
  } else {
    if (d->sp >= d->maxdepth) return EP_EDEPTH;
    int err = push(d, D_LIST, n + 1, n, d->n, in_at);
    if (err) return err;
  }
  int err = open_cell(d);
  return err ? err : 1;
}

/* Tuples, maps and lists. A count is checked against the bytes left (each
 * element takes one at least) before anything is allocated for it.
 * Returns 0 for an empty container (a complete value), 1 when one was
 * opened, or an error. */
static int dec_open(dec *d, uint8_t tag, size_t in_at) {
  size_t hdr_in = tag == E_SMALL_TUPLE ? 1 : 4;
  if (!avail(d, hdr_in)) return EP_ETRUNC;
  size_t n = hdr_in == 1 ? d->p[0] : be32(d->p);
  d->p += hdr_in;
  if (!avail(d, tag == E_MAP ? 2 * n : tag == E_LIST ? n + 1 : n)) return EP_ETRUNC;
  if (tag == E_LIST) return open_list(d, n, in_at);
  if (d->sp >= d->maxdepth) return EP_EDEPTH;
  int err = 0;
  uint8_t *q = reserve(d, HDR_TUPLE, &err);   /* HDR_MAP is the same size */
  if (!q) return err;
  q[0] = tag == E_MAP ? T_MAP : T_TUPLE;
  wr32(q + 1, (uint32_t)n);
  wr32(q + 5, 0);
  if (n == 0) return 0;
  err = tag == E_MAP ? push(d, D_MAP, 2 * n, n, d->n - HDR_MAP, in_at)
                     : push(d, D_TUPLE, n, n, d->n - HDR_TUPLE, in_at);
  return err ? err : 1;
}

/* One item at d->p: 0 when it was a whole value, 1 when a container was
 * opened (its contents follow), or an error. */
static int dec_one(dec *d) {
  size_t at = (size_t)(d->p - d->base);
  if (!avail(d, 1)) return EP_ETRUNC;
  uint8_t tag = *d->p++;
  switch (tag) {
  case E_SMALL_INT:
    if (!avail(d, 1)) return EP_ETRUNC;
    return put_int(d, *d->p++);
  case E_INT:
    if (!avail(d, 4)) return EP_ETRUNC;
    d->p += 4;
    return put_int(d, (int32_t)be32(d->p - 4));
  case E_SMALL_BIG: case E_LARGE_BIG: return dec_big(d, tag == E_LARGE_BIG);
  case E_NEW_FLOAT: case E_FLOAT: return dec_float(d, tag == E_FLOAT);
  case E_ATOM: case E_SMALL_ATOM: case E_ATOM_UTF8: case E_SMALL_ATOM_UTF8: return dec_atom_term(d);
  case E_NIL: {
    int err = 0;
    uint8_t *q = reserve(d, 1, &err);
    if (q) *q = T_NIL;
    return err;
  }
  case E_STRING: return dec_string(d);
  case E_BINARY: case E_BIT_BINARY: return dec_binary(d, tag == E_BIT_BINARY);
  case E_PID: case E_NEW_PID: return dec_pid(d, tag == E_PID);
  case E_PORT: case E_NEW_PORT: case E_V4_PORT: return dec_port(d, tag);
  case E_REF: case E_NEW_REF: case E_NEWER_REF: return dec_ref(d, tag);
  case E_SMALL_TUPLE: case E_LARGE_TUPLE: case E_MAP: case E_LIST: return dec_open(d, tag, at);
  default: return EP_EBADTAG;          /* funs, exports, atom cache refs, dist headers */
  }
}

/* A value is complete: closes every container it completes. Returns 1
 * when the whole term is, 0 when more follows, or an error (with err_at). */
static int complete(dec *d) {
  while (d->sp) {
    dframe *f = &d->st[d->sp - 1];
    if (--f->left) {
      int err = f->kind == D_LIST && f->left > 1 ? open_cell(d) : 0;
      if (err) d->err_at = (size_t)(d->p - d->base);
      return err;
    }
    int err = close_top(d);
    if (err) return err;
  }
  return 1;
}

/* Decodes one term at d->p into d's output, without recursion. */
static int dec_run(dec *d) {
  for (;;) {
    const uint8_t *at = d->p;
    int r = dec_one(d);
    if (r < 0) {
      d->err_at = (size_t)(at - d->base);
      return r;
    }
    if (r == 1) continue;
    r = complete(d);
    if (r) return r < 0 ? r : 0;
  }
}

/* COMPRESSED: 80, uncompressed size:u32, zlib data. Inflates into a buffer
 * that grows with what actually comes out, never past the declared size. */
static int inflate_term(const uint8_t *z, size_t zlen, size_t size, uint8_t **out, size_t *used) {
  if (size == 0) return EP_EZLIB;
  size_t cap = size < 4 * zlen + 64 ? size : 4 * zlen + 64;
  uint8_t *buf = malloc(cap + 1);
  if (!buf) return EP_ENOMEM;
  z_stream zs;
  memset(&zs, 0, sizeof zs);
  if (inflateInit(&zs) != Z_OK) {
    free(buf);
    return EP_ENOMEM;
  }
  zs.next_in = (Bytef *)(uintptr_t)z;
  int err = 0, r;
  size_t have = 0;
  for (;;) {
    /* one spare byte past the declared size catches a stream that lies */
    size_t in_chunk = zlen - (size_t)(zs.next_in - z);
    zs.avail_in = in_chunk > UINT32_MAX ? UINT32_MAX : (uInt)in_chunk;
    zs.next_out = buf + have;
    size_t room = cap + 1 - have;
    zs.avail_out = room > UINT32_MAX ? UINT32_MAX : (uInt)room;
    r = inflate(&zs, Z_NO_FLUSH);
    have = (size_t)(zs.next_out - buf);
    if (have > size) { err = EP_EZLIB; break; }   /* more than declared */
    if (r == Z_STREAM_END) break;
    if (r != Z_OK && r != Z_BUF_ERROR) { err = EP_EZLIB; break; }
    if (have == cap + 1) {            /* full, and cap < size here */
      size_t ncap = cap * 2 < size ? cap * 2 : size;
      uint8_t *nb = realloc(buf, ncap + 1);
      if (!nb) { err = EP_ENOMEM; break; }
      buf = nb;
      cap = ncap;
    } else if (zs.avail_in == 0 || r == Z_BUF_ERROR) {
      err = EP_EZLIB;                 /* the stream stops short */
      break;
    }
  }
  *used = (size_t)(zs.next_in - z);
  inflateEnd(&zs);
  if (!err && have != size) err = EP_EZLIB;
  if (err) {
    free(buf);
    return err;
  }
  *out = buf;
  return 0;
}

static int dec_top(dec *d, const uint8_t *data, size_t len) {
  d->err_at = 0;
  if (len == 0) return EP_ETRUNC;
  if (data[0] != E_VERSION) return EP_EBADVER;
  if (len < 2 || data[1] != E_COMPRESSED) {
    d->p = data + 1;
    d->base = data;
    d->end = data + len;
    int err = dec_run(d);
    if (!err && d->p != d->end) {
      d->err_at = (size_t)(d->p - data);
      err = EP_ETRAILING;
    }
    return err;
  }
  d->err_at = 1;
  if (len < 6) return EP_ETRUNC;
  uint8_t *raw;
  size_t size = be32(data + 2), used;
  int err = inflate_term(data + 6, len - 6, size, &raw, &used);
  if (err) return err;
  if (used != len - 6) {
    free(raw);
    d->err_at = 6 + used;
    return EP_ETRAILING;
  }
  d->p = d->base = raw;
  d->end = raw + size;
  err = dec_run(d);
  if (!err && d->p != d->end) {
    d->err_at = (size_t)(d->p - raw);
    err = EP_ETRAILING;
  }
  d->err_at += 1;   /* the offset the same term has uncompressed, after 131 */
  free(raw);
  return err;
}

/* Decodes into the builder's buffer when it holds nothing yet (the common
 * case, and the runtime's: a message built behind its header); otherwise
 * decodes apart and appends a copy. */
int ep_b_etf_decode(ep_build *b, const uint8_t *data, size_t len, size_t *err_offset) {
  if (!b || (!data && len)) return EP_EINVAL;
  if (b->err) return b->err;
  dec d;
  d.sp = 0;
  d.scap = (int)(sizeof d.inl / sizeof *d.inl);
  d.st = d.inl;
  bool direct = b->depth == 0 && b->top == 0 && ep__b_own(b);
  d.maxdepth = EP_MAX_DEPTH - b->depth;
  if (direct) {
    d.o = b->buf;
    d.n = b->len;
    d.cap = b->cap;
    /* most terms take about as many bytes inside as in ETF: grow once */
    if (d.n + len + len / 2 + 64 > d.cap) (void)ogrow(&d, len + len / 2 + 64);   /* failure: grow later */
  } else {
    d.o = NULL;
    d.n = d.cap = 0;
  }
  int err = dec_top(&d, data, len);
  if (d.st != d.inl) free(d.st);
  if (direct) {
    b->buf = d.o;
    b->cap = d.cap;
    if (!err) {
      b->len = d.n;
      b->top = 1;
    }
  } else {
    if (!err) ep_b_term(b, mkterm(d.o));
    free(d.o);
  }
  if (err) {
    if (err_offset) *err_offset = d.err_at;
    b->err = err;
    return err;
  }
  return b->err;
}

int ep_etf_decode(ep_term *out, const uint8_t *data, size_t len, size_t *err_offset) {
  if (!out) return EP_EINVAL;
  ep_build b;
  ep_b_init(&b);
  int err = ep_b_etf_decode(&b, data, len, err_offset);
  ep_term t = err ? NULL : ep_b_finish(&b, &err);
  ep_b_free(&b);
  if (!err) *out = t;
  return err;
}
