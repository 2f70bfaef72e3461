/* SPDX-License-Identifier: Apache-2.0 */
/*
 * atom.c - the global atom table.
 *
 * Owns every atom name for the life of the program (atoms are never freed,
 * as in BEAM). Lookups are lock-free: an open-addressing hash of atom
 * indices, each slot published with a release store after the name it
 * points to. Only creation takes the mutex. Also validates atom text
 * (UTF-8, at most 255 characters), which the ETF decoder and parsers reuse.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "term_int.h"

#define NSLOTS (2 * EP_ATOM_LIMIT)   /* power of two: load factor <= 1/2 */

struct name { uint32_t len; char s[]; };

static struct name *_Atomic names[EP_ATOM_LIMIT]; /* index -> name; 0 unused */
static _Atomic uint32_t slots[NSLOTS];            /* hash -> index, 0 = empty */
static _Atomic uint32_t natoms = 1;               /* next free index */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static uint64_t hash(const char *s, size_t n) {
  uint64_t h = 0xcbf29ce484222325ull;     /* FNV-1a: atoms are short */
  for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 0x100000001b3ull;
  return h ^ (h >> 29);
}

/* Number of code points in valid UTF-8, or a negative error. Rejects
 * overlong forms, surrogates and code points above U+10FFFF. */
long ep__utf8_count(const uint8_t *s, size_t n) {
  long chars = 0;
  for (size_t i = 0; i < n; chars++) {
    uint8_t c = s[i];
    if (c < 0x80) { i++; continue; }
    size_t k; uint32_t cp, min;
    if ((c & 0xe0) == 0xc0) { k = 1; cp = c & 0x1f; min = 0x80; }
    else if ((c & 0xf0) == 0xe0) { k = 2; cp = c & 0x0f; min = 0x800; }
    else if ((c & 0xf8) == 0xf0) { k = 3; cp = c & 0x07; min = 0x10000; }
    else return EP_EUTF8;
    if (n - i <= k) return EP_EUTF8;
    for (size_t j = 1; j <= k; j++) {
      if ((s[i + j] & 0xc0) != 0x80) return EP_EUTF8;
      cp = cp << 6 | (s[i + j] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return EP_EUTF8;
    i += k + 1;
  }
  return chars;
}

static ep_atom lookup(const char *s, size_t n, uint64_t h) {
  for (size_t i = h & (NSLOTS - 1);; i = (i + 1) & (NSLOTS - 1)) {
    /* acquire: pairs with the release store in create(), so the name is visible */
    uint32_t a = atomic_load_explicit(&slots[i], memory_order_acquire);
    if (a == 0) return 0;
    struct name *nm = atomic_load_explicit(&names[a], memory_order_relaxed);
    if (nm->len == n && memcmp(nm->s, s, n) == 0) return a;
  }
}

static int create(const char *s, size_t n, uint64_t h, ep_atom *out) {
  int err = 0;
  pthread_mutex_lock(&lock);
  ep_atom a = lookup(s, n, h);                 /* another thread may have won */
  if (a == 0) {
    uint32_t idx = atomic_load_explicit(&natoms, memory_order_relaxed);
    struct name *nm = idx < EP_ATOM_LIMIT ? malloc(sizeof *nm + n + 1) : NULL;
    if (!nm) {
      err = idx < EP_ATOM_LIMIT ? EP_ENOMEM : EP_ESYSLIMIT;
    } else {
      nm->len = (uint32_t)n;
      memcpy(nm->s, s, n);
      nm->s[n] = 0;
      atomic_store_explicit(&names[idx], nm, memory_order_relaxed);
      size_t i = h & (NSLOTS - 1);
      while (atomic_load_explicit(&slots[i], memory_order_relaxed)) i = (i + 1) & (NSLOTS - 1);
      atomic_store_explicit(&slots[i], idx, memory_order_release);
      atomic_store_explicit(&natoms, idx + 1, memory_order_release);
      a = idx;
    }
  }
  pthread_mutex_unlock(&lock);
  *out = a;
  return err;
}

/* Predefined atoms take the first indices, in EP_ATOMS_PREDEFINED order. */
static pthread_once_t once = PTHREAD_ONCE_INIT;
static void init_predefined(void) {
  static const char *const pre[] = {
#define X(id, name) name,
    EP_ATOMS_PREDEFINED(X)
#undef X
  };
  for (size_t i = 0; i < sizeof pre / sizeof *pre; i++) {
    ep_atom a;
    size_t n = strlen(pre[i]);
    if (create(pre[i], n, hash(pre[i], n), &a) != 0 || a != i + 1) abort();
  }
}
static inline void ensure_init(void) { pthread_once(&once, init_predefined); }

int ep_atom_from(const char *name, size_t len, ep_atom *out) {
  ensure_init();
  if (!name && len) return EP_EINVAL;
  if (len > 4 * EP_ATOM_MAX_CHARS) return EP_EATOMLEN;
  uint64_t h = hash(name, len);
  ep_atom a = lookup(name, len, h);
  if (a) { *out = a; return 0; }
  long chars = ep__utf8_count((const uint8_t *)name, len);
  if (chars < 0) return (int)chars;
  if (chars > EP_ATOM_MAX_CHARS) return EP_EATOMLEN;
  return create(name, len, h, out);
}

ep_atom ep_atom_of(const char *name) {
  ep_atom a = 0;
  if (name && ep_atom_from(name, strlen(name), &a) != 0) a = 0;
  return a;
}

ep_atom ep_atom_find(const char *name, size_t len) {
  ensure_init();
  return name ? lookup(name, len, hash(name, len)) : 0;
}

const char *ep_atom_name(ep_atom a, size_t *len) {
  ensure_init();
  struct name *nm = NULL;
  if (a > 0 && a < EP_ATOM_LIMIT && a < atomic_load_explicit(&natoms, memory_order_acquire))
    nm = atomic_load_explicit(&names[a], memory_order_acquire);
  if (!nm) {
    if (len) *len = 0;
    return "";
  }
  if (len) *len = nm->len;
  return nm->s;
}
