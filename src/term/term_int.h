/* SPDX-License-Identifier: Apache-2.0 */
/*
 * term_int.h - the internal encoding of terms, shared by src/term/ only.
 *
 * A term is a pre-order byte sequence: one tag byte, then fixed fields
 * (native-endian, unaligned: read them with rd32/rd64), then its subterms.
 * Every container records the byte size of its contents, so skipping any
 * term is O(1) and every subterm is itself a complete term. Invariants
 * (the builder and the ETF decoder keep them; everything else relies on
 * them):
 *   - integers that fit int64 are always T_INT, never T_BIG;
 *   - T_BIG magnitudes have no leading zero bytes and do not fit int64;
 *   - floats are finite;
 *   - map keys are sorted in OTP's map key order (ep__compare_exact: term
 *     order, except that every integer sorts before every float) and are
 *     unique (=:=), so small maps encode to ETF exactly as OTP writes them;
 *   - a list is a chain of T_LIST cells; the last tail is T_NIL for a
 *     proper list (walk tails in a loop: lists can be millions long);
 *   - container nesting (not counting list tails) is at most EP_MAX_DEPTH.
 *
 *   tag          fields                         then
 *   T_NIL   'n'  -
 *   T_INT   'i'  int64
 *   T_BIG   'I'  sign:u8 n:u32 mag[n] (little-endian)
 *   T_FLOAT 'f'  double
 *   T_ATOM  'a'  atom:u32
 *   T_BIN   'b'  n:u32                          bytes[n]
 *   T_BITS  'B'  n:u32 lastbits:u8 (1..7)       bytes[n] (unused low bits 0)
 *   T_TUPLE 't'  arity:u32 size:u32             elements (size bytes)
 *   T_LIST  'l'  size:u32                       head, tail (size bytes)
 *   T_MAP   'm'  count:u32 size:u32             k1 v1 k2 v2 ... (size bytes)
 *   T_PID   'p'  node:u32 creation:u32 id:u32 serial:u32
 *   T_REF   'r'  node:u32 creation:u32 len:u8 (1..5) words[len]:u32
 *   T_PORT  'o'  node:u32 creation:u32 id:u64
 *   T_FUN   'F'  fn:u64 (C function pointer)     argument term
 *
 * Owned terms (ep_term_dup, ep_b_finish) are malloc'd blocks whose term
 * starts at offset 0 of the block, so ep_term_free is free().
 */
#ifndef EP_TERM_INT_H
#define EP_TERM_INT_H

#include <string.h>

#include "eproc/term.h"

enum {
  T_NIL = 'n', T_INT = 'i', T_BIG = 'I', T_FLOAT = 'f', T_ATOM = 'a',
  T_BIN = 'b', T_BITS = 'B', T_TUPLE = 't', T_LIST = 'l', T_MAP = 'm',
  T_PID = 'p', T_REF = 'r', T_PORT = 'o', T_FUN = 'F'
};

#define HDR_TUPLE 9   /* tag + arity + size */
#define HDR_LIST 5    /* tag + size */
#define HDR_MAP 9     /* tag + count + size */
#define SZ_PID 17
#define SZ_PORT 17
#define HDR_FUN 9

#include "compiler.h"

static inline const uint8_t *tp(ep_term t) { return (const uint8_t *)t; }
static inline ep_term mkterm(const uint8_t *p) { return (ep_term)(const void *)p; }

static inline uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static inline void wr32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static inline void wr64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

/* Size in bytes of the term at p: O(1) for every type but a fun, whose
 * argument is skipped in turn (funs do not nest deeply in practice). */
static inline size_t ep__tsize(const uint8_t *p) {
  switch (p[0]) {
  case T_NIL: return 1;
  case T_INT: case T_FLOAT: return 9;
  case T_ATOM: return 5;
  case T_BIG: return 6 + (size_t)rd32(p + 2);
  case T_BIN: return 5 + (size_t)rd32(p + 1);
  case T_BITS: return 6 + (size_t)rd32(p + 1);
  case T_TUPLE: case T_MAP: return HDR_TUPLE + (size_t)rd32(p + 5);
  case T_LIST: return HDR_LIST + (size_t)rd32(p + 1);
  case T_PID: return SZ_PID;
  case T_PORT: return SZ_PORT;
  case T_REF: return 10 + 4 * (size_t)p[9];
  case T_FUN: return HDR_FUN + ep__tsize(p + HDR_FUN);
  default: return 0;
  }
}
static inline const uint8_t *ep__tskip(const uint8_t *p) { return p + ep__tsize(p); }

/* Code points in valid UTF-8 (no overlongs, surrogates or > U+10FFFF), or EP_EUTF8. */
long ep__utf8_count(const uint8_t *s, size_t n);

/* The node name and creation ETF writes for local pids, refs and ports, and
 * maps back to EP_NODE_LOCAL when decoding (default nonode@nohost, 0). */
void ep__etf_set_local_node(ep_atom name, uint32_t creation);
bool ep__b_own(ep_build *b);   /* a borrowed builder buffer moves to the heap */
ep_atom ep__local_node(uint32_t *creation);

/* Exact term order used to sort map keys: OTP's map key order, where every
 * integer sorts before every float (1 < 2 < 0.5 < 1.0). */
int ep__compare_exact(ep_term a, ep_term b);

#endif
