/* SPDX-License-Identifier: Apache-2.0 */
/*
 * text_int.h - shared by the text forms of terms (parse.c, format.c, print.c).
 *
 * The parser is one iterative scanner over Erlang term text; format.c reuses
 * it by passing a hole callback, called at each term position holding `~`,
 * so the format builder has exactly the parser's grammar. The UTF-8 helpers
 * here are the only decoding rules the text forms use: strict (no overlongs,
 * no surrogates, nothing above U+10FFFF).
 */
#ifndef EP_TEXT_INT_H
#define EP_TEXT_INT_H

#include "term_int.h"

/* Appends one term for the hole `~letter` from the caller's arguments.
 * Returns 0, EP_EFORMAT for an unknown letter or bad argument, or a
 * builder error. */
typedef int (*ep__hole_fn)(ep_build *b, char letter, void *ctx);

/* A format compiled to the builder calls it makes, which format.c replays
 * without parsing. Binaries, pids, references, ports and big integers do
 * not compile, nor formats of more than EP__FMT_MAX_OPS calls (ok false). */
enum { OP_TUPLE, OP_LIST, OP_MAP, OP_END, OP_END_TAIL, OP_NIL, OP_ATOM, OP_INT, OP_FLOAT, OP_HOLE };
#define EP__FMT_MAX_OPS 24
typedef struct ep__op {
  uint8_t kind;         /* OP_* */
  char hole;            /* OP_HOLE: the letter */
  ep_atom atom;         /* OP_ATOM */
  union { int64_t i; double d; } v;   /* OP_INT, OP_FLOAT */
} ep__op;
typedef struct ep__fmt_rec {
  int n;
  bool ok;
  ep__op op[EP__FMT_MAX_OPS];
} ep__fmt_rec;

/* Parses exactly one term (an optional final '.' and whitespace allowed)
 * from len bytes of text and appends it to b. hole may be NULL, in which
 * case `~` is a syntax error (and syntax errors are EP_EPARSE, else
 * EP_EFORMAT). rec, if not NULL (with ok true), records the builder calls.
 * Returns 0 or a negative error; on error b->err holds it too (the
 * builder's errors are sticky). */
int ep__parse(ep_build *b, const char *text, size_t len, ep__hole_fn hole, void *ctx, ep__fmt_rec *rec);

/* Is s[0..n) an Erlang reserved word (never a bare atom)? */
bool ep__erl_reserved(const char *s, size_t n);

/* Decodes the UTF-8 sequence at s (s < end): returns its length (1..4) and
 * the code point in *cp, or 0 if the bytes are not valid UTF-8. */
static inline int ep__utf8_dec(const uint8_t *s, const uint8_t *end, uint32_t *cp) {
  uint32_t c = s[0];
  if (c < 0x80) { *cp = c; return 1; }
  int n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
  if (n == 0 || c > 0xF4 || end - s < n) return 0;
  c &= 0x3Fu >> (n - 1);
  for (int i = 1; i < n; i++) {
    if ((s[i] & 0xC0) != 0x80) return 0;
    c = (c << 6) | (s[i] & 0x3F);
  }
  static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
  if (c < min[n] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return 0;
  *cp = c;
  return n;
}

/* Encodes cp (<= 0x10FFFF, not a surrogate) into out; returns its length. */
static inline int ep__utf8_enc(uint32_t cp, uint8_t *out) {
  if (cp < 0x80) { out[0] = (uint8_t)cp; return 1; }
  if (cp < 0x800) {
    out[0] = (uint8_t)(0xC0 | (cp >> 6));
    out[1] = (uint8_t)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = (uint8_t)(0xE0 | (cp >> 12));
    out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    out[2] = (uint8_t)(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = (uint8_t)(0xF0 | (cp >> 18));
  out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
  out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
  out[3] = (uint8_t)(0x80 | (cp & 0x3F));
  return 4;
}

/* Is a an existing atom? (ep_atom_name gives "" for a bad index, and
 * the atom '' also has that name.) */
static inline bool ep__atom_valid(ep_atom a) {
  size_t n;
  ep_atom_name(a, &n);
  return n > 0 || (a != 0 && ep_atom_find("", 0) == a);
}

/* Erlang's printable Latin-1 characters (io_lib:printable_latin1_list). */
static inline bool ep__latin1_printable(uint64_t c) {
  return (c >= 32 && c <= 126) || (c >= 160 && c <= 255) || (c >= 8 && c <= 13) || c == 27;
}

#endif
