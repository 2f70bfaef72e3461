/* SPDX-License-Identifier: Apache-2.0 */
/*
 * etf.c - Erlang's external term format: the bytes of term_to_binary/1.
 *
 * Encodes internal terms in one forward pass over their pre-order bytes and
 * decodes untrusted ETF (compressed too) without recursion, using a heap
 * stack of open containers, straight into a builder's buffer. Owns the local
 * node's name and creation written for local pids, refs and ports. Atoms,
 * map key order and the builder belong to atom.c, order.c and term.c.
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

static inline void put(eout *w, const void *s, size_t k) {
  if (EP_LIKELY(w->n + k <= w->cap)) memcpy(w->o + w->n, s, k);
  w->n += k;
}

static void enc_atom(eout *w, ep_atom a, int flags) {
  size_t len;
  const uint8_t *s = (const uint8_t *)ep_atom_name(a, &len);
  uint8_t h[3];
  if (flags & EP_ETF_LATIN1_ATOMS) {
    size_t chars = 0, i;              /* latin-1 fits when every lead byte is < 0xc4 */
    for (i = 0; i < len; i++, chars++) {
      if (s[i] < 0x80) continue;
      if (s[i] != 0xc2 && s[i] != 0xc3) break;
      i++;
    }
    if (i >= len) {
      h[0] = E_ATOM;
      put16(h + 1, (uint32_t)chars);
      put(w, h, 3);
      if (chars == len) {
        put(w, s, len);
        return;
      }
      for (i = 0; i < len; i++) {
        uint8_t c = s[i] < 0x80 ? s[i] : (uint8_t)((s[i] & 3) << 6 | (s[i + 1] & 0x3f));
        i += s[i] >= 0x80;
        put(w, &c, 1);
      }
      return;
    }
  }
  if (len <= 255) {
    h[0] = E_SMALL_ATOM_UTF8;
    h[1] = (uint8_t)len;
    put(w, h, 2);
  } else {
    h[0] = E_ATOM_UTF8;
    put16(h + 1, (uint32_t)len);
    put(w, h, 3);
  }
  put(w, s, len);
}

static void enc_int(eout *w, int64_t v) {
  uint8_t h[11];
  if (v >= 0 && v <= 255) {
    h[0] = E_SMALL_INT;
    h[1] = (uint8_t)v;
    put(w, h, 2);
  } else if (v >= INT32_MIN && v <= INT32_MAX) {
    h[0] = E_INT;
    put32(h + 1, (uint32_t)v);
    put(w, h, 5);
  } else {
    uint64_t m = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    uint8_t n = 0;
    for (; m; m >>= 8) h[3 + n++] = (uint8_t)m;
    h[0] = E_SMALL_BIG;
    h[1] = n;
    h[2] = v < 0;
    put(w, h, 3 + (size_t)n);
  }
}

/* Node and creation as the wire sees them: local ones get this node's. */
static void enc_node(eout *w, const uint8_t *p, int flags, uint32_t *creation) {
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

static int enc_list(eout *w, const uint8_t **pp, lframe *f) {
  const uint8_t *p = *pp;
  bool str;
  size_t n = list_shape(p, &str);
  uint8_t h[5];
  if (str) {
    h[0] = E_STRING;
    put16(h + 1, (uint32_t)n);
    put(w, h, 3);
    for (; *p == T_LIST; p += CELL_INT) {   /* every cell is a header and an int */
      uint8_t c = (uint8_t)rd64(p + HDR_LIST + 1);
      put(w, &c, 1);
    }
    *pp = p + 1;
    return 0;
  }
  h[0] = E_LIST;
  put32(h + 1, (uint32_t)n);
  put(w, h, 5);
  p += HDR_LIST;
  f->left = n - 1;
  f->resume = p + ep__tsize(p);
  *pp = p;
  return 1;
}

static int enc_run(const uint8_t *p, int flags, eout *w) {
  const uint8_t *end = p + ep__tsize(p);
  lframe inl[16], *st = inl;
  size_t sp = 0, scap = sizeof inl / sizeof *inl;
  int err = 0;
  uint8_t h[16];
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
    switch (*p) {
    case T_NIL:
      h[0] = E_NIL;
      put(w, h, 1);
      p++;
      break;
    case T_INT:
      enc_int(w, (int64_t)rd64(p + 1));
      p += 9;
      break;
    case T_BIG: {
      uint32_t n = rd32(p + 2);
      if (n <= 255) {
        h[0] = E_SMALL_BIG;
        h[1] = (uint8_t)n;
        h[2] = p[1];
        put(w, h, 3);
      } else {
        h[0] = E_LARGE_BIG;
        put32(h + 1, n);
        h[5] = p[1];
        put(w, h, 6);
      }
      put(w, p + 6, n);
      p += 6 + (size_t)n;
      break;
    }
    case T_FLOAT:
      h[0] = E_NEW_FLOAT;
      put64(h + 1, rd64(p + 1));
      put(w, h, 9);
      p += 9;
      break;
    case T_ATOM:
      enc_atom(w, rd32(p + 1), flags);
      p += 5;
      break;
    case T_BIN: {
      uint32_t n = rd32(p + 1);
      h[0] = E_BINARY;
      put32(h + 1, n);
      put(w, h, 5);
      put(w, p + 5, n);
      p += 5 + (size_t)n;
      break;
    }
    case T_BITS: {
      uint32_t n = rd32(p + 1);
      h[0] = E_BIT_BINARY;
      put32(h + 1, n);
      h[5] = p[5];
      put(w, h, 6);
      put(w, p + 6, n);
      p += 6 + (size_t)n;
      break;
    }
    case T_TUPLE: {
      uint32_t n = rd32(p + 1);
      if (n <= 255) {
        h[0] = E_SMALL_TUPLE;
        h[1] = (uint8_t)n;
        put(w, h, 2);
      } else {
        h[0] = E_LARGE_TUPLE;
        put32(h + 1, n);
        put(w, h, 5);
      }
      p += HDR_TUPLE;
      break;
    }
    case T_MAP:
      h[0] = E_MAP;
      put32(h + 1, rd32(p + 1));
      put(w, h, 5);
      p += HDR_MAP;
      break;
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
    case T_PID: {
      uint32_t cr;
      h[0] = E_NEW_PID;
      put(w, h, 1);
      enc_node(w, p, flags, &cr);
      put32(h, rd32(p + 9));
      put32(h + 4, rd32(p + 13));
      put32(h + 8, cr);
      put(w, h, 12);
      p += SZ_PID;
      break;
    }
    case T_PORT: {
      uint32_t cr;
      uint64_t id = rd64(p + 9);
      bool v4 = id > PORT_V3_MAX;
      h[0] = v4 ? E_V4_PORT : E_NEW_PORT;
      put(w, h, 1);
      enc_node(w, p, flags, &cr);
      size_t k = 0;
      if (v4) put64(h, id), k = 8;
      else put32(h, (uint32_t)id), k = 4;
      put32(h + k, cr);
      put(w, h, k + 4);
      p += SZ_PORT;
      break;
    }
    case T_REF: {
      uint32_t cr, len = p[9];
      h[0] = E_NEWER_REF;
      put16(h + 1, len);
      put(w, h, 3);
      enc_node(w, p, flags, &cr);
      put32(h, cr);
      put(w, h, 4);
      for (uint32_t i = 0; i < len; i++) {
        put32(h, rd32(p + 10 + 4 * i));
        put(w, h, 4);
      }
      p += 10 + 4 * (size_t)len;
      break;
    }
    case T_FUN:
      err = EP_ELOCALFUN;
      goto out;
    default:
      err = EP_EBADTERM;
      goto out;
    }
  }
out:
  if (st != inl) free(st);
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
  while (cap - d->n < k) cap *= 2;
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

/* Node field of a pid/ref/port; this node's own name and creation map to
 * EP_NODE_LOCAL. */
static int dec_node(const uint8_t **pp, const uint8_t *end, size_t fixed, ep_atom *node) {
  int err = dec_atom(pp, end, node);
  if (err) return err;
  return (size_t)(end - *pp) < fixed ? EP_ETRUNC : 0;
}

static void localise(uint8_t *q) {
  if (rd32(q + 1) == atomic_load_explicit(&local_name, memory_order_relaxed) &&
      rd32(q + 5) == atomic_load_explicit(&local_creation, memory_order_relaxed)) {
    wr32(q + 1, EP_NODE_LOCAL);
    wr32(q + 5, 0);
  }
}

#define AVAIL(k) do { if ((size_t)(end - p) < (size_t)(k)) { err = EP_ETRUNC; goto fail; } } while (0)
#define NEED(k) do { if (d->cap - d->n < (size_t)(k) && (err = ogrow(d, (k)))) goto fail; } while (0)
#define DEPTH() do { if (d->sp >= d->maxdepth) { err = EP_EDEPTH; goto fail; } } while (0)
#define CHECK(e) do { if ((err = (e))) goto fail; } while (0)

/* Decodes one term from p, appending it to d's output. */
static int dec_run(dec *d, const uint8_t **pp) {
  const uint8_t *p = *pp, *end = d->end, *tag_at = p;
  int err = 0;
  for (;;) {
    tag_at = p;
    AVAIL(1);
    uint8_t *q;
    size_t n;
    switch (*p++) {
    case E_SMALL_INT:
      AVAIL(1);
      NEED(9);
      q = d->o + d->n;
      q[0] = T_INT;
      wr64(q + 1, *p++);
      d->n += 9;
      break;
    case E_INT:
      AVAIL(4);
      NEED(9);
      q = d->o + d->n;
      q[0] = T_INT;
      wr64(q + 1, (uint64_t)(int64_t)(int32_t)be32(p));
      p += 4;
      d->n += 9;
      break;
    case E_SMALL_BIG: case E_LARGE_BIG: {
      bool large = tag_at[0] == E_LARGE_BIG;
      AVAIL(large ? 5 : 2);
      n = large ? be32(p) : p[0];
      bool neg = p[large ? 4 : 1] != 0;
      p += large ? 5 : 2;
      AVAIL(n);
      const uint8_t *mag = p;
      p += n;
      while (n && mag[n - 1] == 0) n--;
      uint64_t m = 0;
      for (size_t i = n; i-- > 0 && n <= 8;) m = m << 8 | mag[i];
      if (n <= 8 && (neg ? m <= (uint64_t)INT64_MAX + 1 : m <= (uint64_t)INT64_MAX)) {
        NEED(9);
        q = d->o + d->n;
        q[0] = T_INT;
        wr64(q + 1, neg ? 0 - m : m);
        d->n += 9;
      } else {
        NEED(6 + n);
        q = d->o + d->n;
        q[0] = T_BIG;
        q[1] = neg;
        wr32(q + 2, (uint32_t)n);
        memcpy(q + 6, mag, n);
        d->n += 6 + n;
      }
      break;
    }
    case E_NEW_FLOAT: case E_FLOAT: {
      double v;
      if (tag_at[0] == E_NEW_FLOAT) {
        AVAIL(8);
        uint64_t bits = be64(p);
        memcpy(&v, &bits, 8);
        if (!isfinite(v)) { err = EP_ERANGE; goto fail; }
        p += 8;
      } else {
        AVAIL(31);
        CHECK(float_text(p, &v));
        p += 31;
      }
      NEED(9);
      q = d->o + d->n;
      q[0] = T_FLOAT;
      memcpy(q + 1, &v, 8);
      d->n += 9;
      break;
    }
    case E_ATOM: case E_SMALL_ATOM: case E_ATOM_UTF8: case E_SMALL_ATOM_UTF8: {
      ep_atom a;
      p--;
      CHECK(dec_atom(&p, end, &a));
      NEED(5);
      q = d->o + d->n;
      q[0] = T_ATOM;
      wr32(q + 1, a);
      d->n += 5;
      break;
    }
    case E_NIL:
      NEED(1);
      d->o[d->n++] = T_NIL;
      break;
    case E_STRING:
      AVAIL(2);
      n = be16(p);
      p += 2;
      AVAIL(n);
      if (n) DEPTH();
      NEED(n * CELL_INT + 1);
      q = d->o + d->n;
      for (size_t i = 0; i < n; i++, q += CELL_INT) {
        q[0] = T_LIST;
        wr32(q + 1, (uint32_t)((n - i) * CELL_INT + 1 - HDR_LIST));
        q[HDR_LIST] = T_INT;
        wr64(q + HDR_LIST + 1, p[i]);
      }
      *q = T_NIL;
      d->n += n * CELL_INT + 1;
      p += n;
      break;
    case E_BINARY:
      AVAIL(4);
      n = be32(p);
      p += 4;
      AVAIL(n);
      NEED(5 + n);
      q = d->o + d->n;
      q[0] = T_BIN;
      wr32(q + 1, (uint32_t)n);
      memcpy(q + 5, p, n);
      d->n += 5 + n;
      p += n;
      break;
    case E_BIT_BINARY: {
      AVAIL(5);
      n = be32(p);
      unsigned bits = p[4];
      p += 5;
      AVAIL(n);
      if ((bits == 0) != (n == 0) || bits > 8) { err = EP_ERANGE; goto fail; }
      bool whole = bits == 8 || n == 0;
      size_t hdr = whole ? 5 : 6;
      NEED(hdr + n);
      q = d->o + d->n;
      q[0] = whole ? T_BIN : T_BITS;
      wr32(q + 1, (uint32_t)n);
      q[5] = (uint8_t)bits;            /* overwritten by data for a binary */
      memcpy(q + hdr, p, n);
      if (!whole) q[hdr + n - 1] &= (uint8_t)(0xff << (8 - bits));
      d->n += hdr + n;
      p += n;
      break;
    }
    case E_PID: case E_NEW_PID: {
      ep_atom node;
      bool old = tag_at[0] == E_PID;
      CHECK(dec_node(&p, end, old ? 9 : 12, &node));
      NEED(SZ_PID);
      q = d->o + d->n;
      q[0] = T_PID;
      wr32(q + 1, node);
      wr32(q + 5, old ? p[8] : be32(p + 8));
      wr32(q + 9, be32(p));
      wr32(q + 13, be32(p + 4));
      localise(q);
      d->n += SZ_PID;
      p += old ? 9 : 12;
      break;
    }
    case E_PORT: case E_NEW_PORT: case E_V4_PORT: {
      ep_atom node;
      size_t idlen = tag_at[0] == E_V4_PORT ? 8 : 4, crlen = tag_at[0] == E_PORT ? 1 : 4;
      CHECK(dec_node(&p, end, idlen + crlen, &node));
      NEED(SZ_PORT);
      q = d->o + d->n;
      q[0] = T_PORT;
      wr32(q + 1, node);
      wr32(q + 5, crlen == 1 ? p[idlen] : be32(p + idlen));
      wr64(q + 9, idlen == 8 ? be64(p) : be32(p));
      localise(q);
      d->n += SZ_PORT;
      p += idlen + crlen;
      break;
    }
    case E_REF: case E_NEW_REF: case E_NEWER_REF: {
      ep_atom node;
      size_t len = 1, crlen = tag_at[0] == E_NEWER_REF ? 4 : 1;
      if (tag_at[0] != E_REF) {
        AVAIL(2);
        len = be16(p);
        p += 2;
      }
      CHECK(dec_node(&p, end, crlen + 4 * len, &node));
      if (len < 1 || len > 5) { err = EP_ERANGE; goto fail; }
      NEED(10 + 4 * len);
      q = d->o + d->n;
      q[0] = T_REF;
      wr32(q + 1, node);
      q[9] = (uint8_t)len;
      if (tag_at[0] == E_REF) {         /* ID, then creation */
        wr32(q + 10, be32(p));
        wr32(q + 5, p[4]);
      } else {                          /* creation, then IDs */
        wr32(q + 5, crlen == 1 ? p[0] : be32(p));
        for (size_t i = 0; i < len; i++) wr32(q + 10 + 4 * i, be32(p + crlen + 4 * i));
      }
      localise(q);
      d->n += 10 + 4 * len;
      p += crlen + 4 * len;
      break;
    }
    case E_SMALL_TUPLE: case E_LARGE_TUPLE:
      if (tag_at[0] == E_SMALL_TUPLE) {
        AVAIL(1);
        n = *p++;
      } else {
        AVAIL(4);
        n = be32(p);
        p += 4;
      }
      AVAIL(n);                         /* each element takes at least a byte */
      DEPTH();
      NEED(HDR_TUPLE);
      q = d->o + d->n;
      q[0] = T_TUPLE;
      wr32(q + 1, (uint32_t)n);
      wr32(q + 5, 0);
      if (n) CHECK(push(d, D_TUPLE, n, n, d->n, (size_t)(tag_at - d->base)));
      d->n += HDR_TUPLE;
      if (n) continue;
      break;
    case E_MAP:
      AVAIL(4);
      n = be32(p);
      p += 4;
      AVAIL(2 * n);
      DEPTH();
      NEED(HDR_MAP);
      q = d->o + d->n;
      q[0] = T_MAP;
      wr32(q + 1, (uint32_t)n);
      wr32(q + 5, 0);
      if (n) CHECK(push(d, D_MAP, 2 * n, n, d->n, (size_t)(tag_at - d->base)));
      d->n += HDR_MAP;
      if (n) continue;
      break;
    case E_LIST: {
      AVAIL(4);
      n = be32(p);
      p += 4;
      AVAIL(n + 1);                     /* the elements and the tail */
      if (n == 0) continue;             /* the tail alone is the value */
      dframe *f = d->sp ? &d->st[d->sp - 1] : NULL;
      if (f && f->kind == D_LIST && f->left == 1) {
        f->left += n;                   /* a list as the tail: one longer chain */
        f->count += n;
      } else {
        DEPTH();
        CHECK(push(d, D_LIST, n + 1, n, d->n, (size_t)(tag_at - d->base)));
      }
      NEED(HDR_LIST);
      d->o[d->n] = T_LIST;
      d->n += HDR_LIST;
      continue;
    }
    default:
      err = EP_EBADTAG;
      goto fail;
    }
    /* a value is complete: close every container it completes */
    for (;;) {
      if (d->sp == 0) {
        *pp = p;
        return 0;
      }
      dframe *f = &d->st[d->sp - 1];
      if (--f->left) {
        if (f->kind == D_LIST && f->left > 1) {   /* another element: its cell */
          NEED(HDR_LIST);
          d->o[d->n] = T_LIST;
          d->n += HDR_LIST;
        }
        break;
      }
      if ((err = close_top(d))) return err;
    }
  }
fail:
  d->err_at = (size_t)(tag_at - d->base);
  return err;
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
    const uint8_t *p = data + 1;
    d->base = data;
    d->end = data + len;
    int err = dec_run(d, &p);
    if (!err && p != d->end) {
      d->err_at = (size_t)(p - data);
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
  /* offsets inside are those of the same term uncompressed: 1 + position */
  const uint8_t *p = raw;
  d->base = raw - 1;
  d->end = raw + size;
  err = dec_run(d, &p);
  if (!err && p != d->end) {
    d->err_at = (size_t)(p - raw) + 1;
    err = EP_ETRAILING;
  }
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
  bool direct = b->depth == 0 && b->top == 0;
  d.maxdepth = EP_MAX_DEPTH - b->depth;
  if (direct) {
    d.o = b->buf;
    d.n = b->len;
    d.cap = b->cap;
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
