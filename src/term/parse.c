/* SPDX-License-Identifier: Apache-2.0 */
/*
 * parse.c - Erlang term text to terms: one scanner that appends straight
 * into a builder, iterative over nesting (an explicit stack of open
 * containers, at most EP_MAX_DEPTH) and list length, so hostile text costs
 * neither C stack nor unbounded memory. Owns no state beyond a call.
 * format.c reuses it through the hole callback; printing is print.c's job.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "text_int.h"

/* Grammar: atoms (bare or 'quoted'), integers (1, -1, 16#ff, 1_000, $a,
 * any size), floats (1.5, -0.0, 1.0e10), "strings" (lists of code points;
 * adjacent strings concatenate), binaries (<<>>, <<1,2,3>>, <<"a">>,
 * <<"é"/utf8>>, <<1,2:3>>), tuples, lists, [H|T], maps #{K => V} (the last
 * of duplicate keys wins), <0.57.0>, #Ref<0.1.2.3>, #Port<0.5>,
 * whitespace and % comments anywhere between tokens, an optional final '.'.
 * A pid, port or reference with a non-zero node number names the node atom
 * of that index (what print.c writes). Reserved words and variables are
 * not atoms, as in Erlang. */

#ifndef EP_PARSE_MAX_DIGITS
#define EP_PARSE_MAX_DIGITS 100000   /* longest integer literal; parsing is quadratic in it */
#endif
#ifndef EP_PARSE_MAX_BINARY_BITS
#define EP_PARSE_MAX_BINARY_BITS (1u << 27)   /* largest <<...>> parsed, in bits (16 MiB) */
#endif

enum { K_TUPLE, K_LIST, K_TAIL, K_MAP_KEY, K_MAP_VAL };

typedef struct parser {
  const char *s, *end;
  ep_build *b;
  ep__hole_fn hole;
  void *ctx;
  ep__fmt_rec *rec;            /* NULL, or the builder calls to record */
  int syntax;                  /* the code for a syntax error */
  int depth;
  uint8_t kind[EP_MAX_DEPTH];  /* what each open container expects next */
} parser;

static int peek(const parser *ps) { return ps->s < ps->end ? (uint8_t)*ps->s : -1; }
static int peek2(const parser *ps) { return ps->end - ps->s >= 2 ? (uint8_t)ps->s[1] : -1; }

static bool is_digit(int c) { return c >= '0' && c <= '9'; }

static void record(parser *ps, ep__op op) {
  ep__fmt_rec *r = ps->rec;
  if (!r || !r->ok) return;
  if (r->n == EP__FMT_MAX_OPS) r->ok = false;
  else r->op[r->n++] = op;
}
#define REC(ps, ...) record((ps), (ep__op){__VA_ARGS__})

/* The term being parsed makes calls a compiled format cannot replay. */
static void no_record(parser *ps) {
  if (ps->rec) ps->rec->ok = false;
}

static void skip_ws_slow(parser *ps) {
  while (ps->s < ps->end) {
    uint8_t c = (uint8_t)*ps->s;
    if (c >= 1 && c <= ' ') {
      ps->s++;
    } else if (c == '%') {
      while (ps->s < ps->end && *ps->s != '\n') ps->s++;
    } else {
      return;
    }
  }
}

static inline void skip_ws(parser *ps) {
  if (ps->s < ps->end && (uint8_t)*ps->s <= ' ') skip_ws_slow(ps);
  else if (ps->s < ps->end && *ps->s == '%') skip_ws_slow(ps);
}

static bool eat_n(parser *ps, const char *lit, size_t n) {
  if ((size_t)(ps->end - ps->s) < n || memcmp(ps->s, lit, n) != 0) return false;
  ps->s += n;
  return true;
}
#define eat(ps, lit) eat_n((ps), (lit), sizeof(lit) - 1)

/* ------------------------------------------------------- characters -- */

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  c |= 0x20;
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* An escape sequence after the backslash (erl_scan's rules). */
static int escape(parser *ps, uint32_t *cp) {
  int c = peek(ps);
  if (c < 0) return ps->syntax;
  ps->s++;
  switch (c) {
  case 'b': *cp = 8; return 0;
  case 'd': *cp = 127; return 0;
  case 'e': *cp = 27; return 0;
  case 'f': *cp = 12; return 0;
  case 'n': *cp = 10; return 0;
  case 'r': *cp = 13; return 0;
  case 's': *cp = 32; return 0;
  case 't': *cp = 9; return 0;
  case 'v': *cp = 11; return 0;
  case '^':
    if (peek(ps) < 0) return ps->syntax;
    *cp = (uint8_t)*ps->s++ & 31u;
    return 0;
  case 'x': {
    uint32_t v = 0;
    if (peek(ps) == '{') {
      int n = 0;
      ps->s++;
      for (int h; (h = hexval(peek(ps))) >= 0; ps->s++, n++) {
        if (v > 0x10FFFF) return ps->syntax;
        v = v * 16 + (uint32_t)h;
      }
      if (n == 0 || peek(ps) != '}') return ps->syntax;
      ps->s++;
    } else {
      for (int i = 0; i < 2; i++, ps->s++) {
        int h = hexval(peek(ps));
        if (h < 0) return ps->syntax;
        v = v * 16 + (uint32_t)h;
      }
    }
    if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return ps->syntax;
    *cp = v;
    return 0;
  }
  default:
    if (c >= '0' && c <= '7') {
      uint32_t v = (uint32_t)(c - '0');
      for (int i = 0; i < 2 && peek(ps) >= '0' && peek(ps) <= '7'; i++) v = v * 8 + (uint32_t)(*ps->s++ - '0');
      *cp = v;
      return 0;
    }
    ps->s--;   /* any other character stands for itself */
    {
      int k = ep__utf8_dec((const uint8_t *)ps->s, (const uint8_t *)ps->end, cp);
      if (k == 0) return ps->syntax;
      ps->s += k;
    }
    return 0;
  }
}

/* One character of quoted text (a string, quoted atom or $c). */
static int text_char(parser *ps, uint32_t *cp) {
  if (ps->s >= ps->end) return ps->syntax;
  if (*ps->s == '\\') {
    ps->s++;
    return escape(ps, cp);
  }
  int k = ep__utf8_dec((const uint8_t *)ps->s, (const uint8_t *)ps->end, cp);
  if (k == 0 || *cp == 0) return ps->syntax;
  ps->s += k;
  return 0;
}

/* ------------------------------------------------------------- atoms -- */

bool ep__erl_reserved(const char *s, size_t n) {
#define IS(lit) (n == sizeof(lit) - 1 && memcmp(s, lit, sizeof(lit) - 1) == 0)
  if (n < 2 || n > 7) return false;
  switch (s[0]) {
  case 'a': return IS("after") || IS("and") || IS("andalso");
  case 'b': return IS("band") || IS("begin") || IS("bnot") || IS("bor") || IS("bsl") || IS("bsr") || IS("bxor");
  case 'c': return IS("case") || IS("catch") || IS("cond");
  case 'd': return IS("div");
  case 'e': return IS("end");
  case 'f': return IS("fun");
  case 'i': return IS("if");
  case 'l': return IS("let");
  case 'n': return IS("not");
  case 'o': return IS("of") || IS("or") || IS("orelse");
  case 'r': return IS("receive") || IS("rem");
  case 't': return IS("try");
  case 'w': return IS("when");
  case 'x': return IS("xor");
  default: return false;
  }
#undef IS
}

/* Latin-1 letters À..ÿ (but × and ÷) as their two UTF-8 bytes. */
static bool latin1_letter(const char *s, const char *end) {
  return end - s >= 2 && (uint8_t)s[0] == 0xC3 && (uint8_t)s[1] >= 0x80 && (uint8_t)s[1] <= 0xBF &&
         (uint8_t)s[1] != 0x97 && (uint8_t)s[1] != 0xB7;
}

static bool bare_atom_start(const parser *ps) {
  int c = peek(ps);
  if (c >= 'a' && c <= 'z') return true;
  return latin1_letter(ps->s, ps->end) && (uint8_t)ps->s[1] >= 0x9F;   /* ß..ÿ */
}

static int bare_atom(parser *ps) {
  const char *start = ps->s;
  for (;;) {
    int c = peek(ps);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_' || c == '@') ps->s++;
    else if (latin1_letter(ps->s, ps->end)) ps->s += 2;
    else break;
  }
  size_t n = (size_t)(ps->s - start);
  if (ep__erl_reserved(start, n)) return ps->syntax;
  ep_atom a;
  int r = ep_atom_from(start, n, &a);
  if (r < 0) return r;
  ep_b_atom(ps->b, a);
  REC(ps, .kind = OP_ATOM, .atom = a);
  return 0;
}

static int quoted_atom(parser *ps) {
  uint8_t name[4 * EP_ATOM_MAX_CHARS];
  size_t len = 0, chars = 0;
  ps->s++;
  while (peek(ps) != '\'') {
    uint32_t cp;
    int r = text_char(ps, &cp);
    if (r < 0) return r;
    if (++chars > EP_ATOM_MAX_CHARS) return EP_EATOMLEN;
    len += (size_t)ep__utf8_enc(cp, name + len);
  }
  ps->s++;
  ep_atom a;
  int r = ep_atom_from((const char *)name, len, &a);
  if (r < 0) return r;
  ep_b_atom(ps->b, a);
  REC(ps, .kind = OP_ATOM, .atom = a);
  return 0;
}

/* ----------------------------------------------------------- numbers -- */

/* A little-endian bignum of 32-bit limbs, inline until it grows. */
typedef struct bignum {
  uint32_t *l;
  size_t n, cap;
  uint32_t inl[16];
} bignum;

static bool big_muladd(bignum *x, uint32_t mul, uint32_t add) {
  uint64_t carry = add;
  for (size_t i = 0; i < x->n; i++) {
    uint64_t v = (uint64_t)x->l[i] * mul + carry;
    x->l[i] = (uint32_t)v;
    carry = v >> 32;
  }
  if (carry) {
    if (x->n == x->cap) {
      uint32_t *l = x->l == x->inl ? malloc(2 * x->cap * sizeof *l) : realloc(x->l, 2 * x->cap * sizeof *l);
      if (!l) return false;
      if (x->l == x->inl) memcpy(l, x->inl, sizeof x->inl);
      x->l = l;
      x->cap *= 2;
    }
    x->l[x->n++] = (uint32_t)carry;
  }
  return true;
}

static int digit_in(int c, int base) {
  int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'z' ? c - 'a' + 10 : c >= 'A' && c <= 'Z' ? c - 'A' + 10 : 99;
  return v < base ? v : -1;
}

/* Scans digits of `base` with single '_' between digits. Returns the end,
 * or NULL if there is not at least one digit or an '_' is misplaced. */
static const char *scan_digits(const char *s, const char *end, int base) {
  const char *p = s;
  for (;;) {
    if (p == end || digit_in((uint8_t)*p, base) < 0) return NULL;
    while (p < end && digit_in((uint8_t)*p, base) >= 0) p++;
    if (p + 1 < end && *p == '_' && digit_in((uint8_t)p[1], base) >= 0) {
      p++;
      continue;
    }
    return p;
  }
}

/* Appends the integer written in [s, e) (digits of `base`, '_' allowed). */
static int build_int(parser *ps, const char *s, const char *e, int base, bool neg) {
  uint64_t v = 0;
  const char *p = s;
  for (; p < e; p++) {
    int d = digit_in((uint8_t)*p, base);
    if (d < 0) continue;
    if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base) break;
    v = v * (uint64_t)base + (uint64_t)d;
  }
  if (p == e && (neg ? v <= (uint64_t)INT64_MAX + 1 : v <= INT64_MAX)) {
    int64_t i = neg ? (int64_t)(0 - v) : (int64_t)v;
    ep_b_int(ps->b, i);
    REC(ps, .kind = OP_INT, .v.i = i);
    return 0;
  }
  no_record(ps);
  if (p == e) {   /* fits 64 bits, not int64 */
    uint8_t mag[8];
    for (int i = 0; i < 8; i++) mag[i] = (uint8_t)(v >> (8 * i));
    ep_b_big(ps->b, neg, mag, 8);
    return 0;
  }
  /* Beyond 64 bits: chunks of k digits, base^k < 2^32, multiplied in. */
  if (e - s > EP_PARSE_MAX_DIGITS) return EP_ETOOBIG;
  bignum x = {.n = 0, .cap = 16};
  x.l = x.inl;
  uint32_t chunk = 0, scale = 1;
  int r = 0;
  for (p = s; p < e && r == 0; p++) {
    int d = digit_in((uint8_t)*p, base);
    if (d < 0) continue;
    chunk = chunk * (uint32_t)base + (uint32_t)d;
    scale *= (uint32_t)base;
    if (scale > UINT32_MAX / 36) {
      if (!big_muladd(&x, scale, chunk)) r = EP_ENOMEM;
      chunk = 0;
      scale = 1;
    }
  }
  if (r == 0 && scale > 1 && !big_muladd(&x, scale, chunk)) r = EP_ENOMEM;
  if (r == 0) {
    /* Limbs to little-endian bytes in place (each limb is read first). */
    for (size_t i = 0; i < x.n; i++) {
      uint32_t l = x.l[i];
      uint8_t *b = (uint8_t *)&x.l[i];
      b[0] = (uint8_t)l, b[1] = (uint8_t)(l >> 8), b[2] = (uint8_t)(l >> 16), b[3] = (uint8_t)(l >> 24);
    }
    size_t nb = 4 * x.n;
    while (nb > 0 && ((uint8_t *)x.l)[nb - 1] == 0) nb--;
    ep_b_big(ps->b, neg, (const uint8_t *)x.l, nb);
  }
  if (x.l != x.inl) free(x.l);
  return r;
}

#define FLOAT_MAX_DIGITS 800   /* more than any double needs to round right */

/* A float: digits '.' digits [e [+-] digits]. Read by strtod from digits
 * and an exponent only, so the locale's decimal point never matters. */
static int build_float(parser *ps, const char *s, const char *e, bool neg) {
  char buf[FLOAT_MAX_DIGITS + 16];
  size_t n = 0;
  long exp = 0;
  bool frac = false, sticky = false;
  const char *p = s;
  for (; p < e && *p != 'e' && *p != 'E'; p++) {
    if (*p == '.') {
      frac = true;
    } else if (*p != '_') {
      if (n == 0 && *p == '0') {
        if (frac) exp--;
        continue;
      }
      if (n < FLOAT_MAX_DIGITS) {
        buf[n++] = *p;
        if (frac) exp--;
      } else {
        sticky |= *p != '0';
        if (!frac) exp++;
      }
    }
  }
  if (sticky) buf[n++] = '1', exp--;
  if (p < e) {
    bool eneg = false;
    long ev = 0;
    p++;
    if (*p == '+' || *p == '-') eneg = *p++ == '-';
    for (; p < e; p++)
      if (*p != '_' && ev < 100000) ev = ev * 10 + (*p - '0');
    exp += eneg ? -ev : ev;
  }
  double d = 0;
  if (n > 0) {
    snprintf(buf + n, sizeof buf - n, "e%ld", exp);
    d = strtod(buf, NULL);
    if (isinf(d)) return ps->syntax;   /* erl_scan rejects it too */
  }
  ep_b_float(ps->b, neg ? -d : d);
  REC(ps, .kind = OP_FLOAT, .v.d = neg ? -d : d);
  return 0;
}

/* Integer literal digits at the cursor, [Base#]Digits: sets their span
 * and base and moves past them. False if malformed. */
static bool int_digits(parser *ps, const char **ds, const char **de, int *base) {
  const char *s = ps->s, *e = scan_digits(s, ps->end, 10);
  if (!e) return false;
  *base = 10;
  if (e < ps->end && *e == '#') {
    long v = 0;
    for (const char *p = s; p < e && v <= 36; p++)
      if (*p != '_') v = v * 10 + (*p - '0');
    if (v < 2 || v > 36) return false;
    *base = (int)v;
    s = e + 1;
    e = scan_digits(s, ps->end, *base);
    if (!e) return false;
  }
  *ds = s;
  *de = ps->s = e;
  return true;
}

/* A number at the cursor (after any sign): 12, 1_000, 16#ff, 1.5e3. */
static int number(parser *ps, bool neg) {
  const char *s = ps->s, *e = scan_digits(s, ps->end, 10);
  if (!e) return ps->syntax;
  if (e + 1 < ps->end && *e == '.' && is_digit((uint8_t)e[1])) {
    const char *f = scan_digits(e + 1, ps->end, 10);
    if (!f) return ps->syntax;
    if (f < ps->end && (*f == 'e' || *f == 'E')) {
      const char *x = f + 1;
      if (x < ps->end && (*x == '+' || *x == '-')) x++;
      x = scan_digits(x, ps->end, 10);
      if (!x) return ps->syntax;
      f = x;
    }
    ps->s = f;
    return build_float(ps, s, f, neg);
  }
  const char *ds, *de;
  int base;
  if (!int_digits(ps, &ds, &de, &base)) return ps->syntax;
  return build_int(ps, ds, de, base, neg);
}

static int char_literal(parser *ps, bool neg) {
  uint32_t cp;
  ps->s++;
  int r = text_char(ps, &cp);
  if (r < 0) return r;
  ep_b_int(ps->b, neg ? -(int64_t)cp : (int64_t)cp);
  REC(ps, .kind = OP_INT, .v.i = neg ? -(int64_t)cp : (int64_t)cp);
  return 0;
}

/* ------------------------------------------------ strings, binaries -- */

/* "..." (and any adjacent "..."): a list of code points, [] if empty. */
static int string_list(parser *ps) {
  bool open = false;
  while (peek(ps) == '"') {
    ps->s++;
    while (peek(ps) != '"') {
      uint32_t cp;
      int r = text_char(ps, &cp);
      if (r < 0) return r;
      if (!open) {
        ep_b_list(ps->b);
        REC(ps, .kind = OP_LIST);
      }
      open = true;
      ep_b_int(ps->b, cp);
      REC(ps, .kind = OP_INT, .v.i = cp);
    }
    ps->s++;
    skip_ws(ps);
  }
  if (open) ep_b_end(ps->b);
  else ep_b_nil(ps->b);
  REC(ps, .kind = open ? OP_END : OP_NIL);
  return 0;
}

typedef struct bitbuf {
  uint8_t *d;
  size_t bits, cap;    /* cap in bytes */
  uint8_t inl[128];
} bitbuf;

static void bit_set(bitbuf *bb, unsigned bit) {
  if (bb->bits % 8 == 0) bb->d[bb->bits / 8] = 0;
  if (bit) bb->d[bb->bits / 8] |= (uint8_t)(0x80 >> (bb->bits % 8));
  bb->bits++;
}

/* Appends the low `size` bits of v, most significant first; sizes past 64
 * bits are sign-extended (as <<-1:72>>). */
static int bits_put(bitbuf *bb, uint64_t v, size_t size) {
  if (size > EP_PARSE_MAX_BINARY_BITS - bb->bits) return EP_ETOOBIG;
  size_t need = (bb->bits + size + 7) / 8;
  if (need > bb->cap) {
    size_t cap = bb->cap * 2 > need ? bb->cap * 2 : need;
    uint8_t *d = bb->d == bb->inl ? malloc(cap) : realloc(bb->d, cap);
    if (!d) return EP_ENOMEM;
    if (bb->d == bb->inl) memcpy(d, bb->inl, sizeof bb->inl);
    bb->d = d;
    bb->cap = cap;
  }
  if (size == 8 && bb->bits % 8 == 0) {
    bb->d[bb->bits / 8] = (uint8_t)v;
    bb->bits += 8;
    return 0;
  }
  unsigned sign = (unsigned)(v >> 63);
  for (; size > 64 && bb->bits % 8; size--) bit_set(bb, sign);
  if (size > 64) {   /* whole bytes of sign */
    size_t n = (size - 64) / 8;
    memset(bb->d + bb->bits / 8, sign ? 0xFF : 0, n);
    bb->bits += 8 * n;
    size -= 8 * n;
  }
  for (; size > 64; size--) bit_set(bb, sign);
  while (size-- > 0) bit_set(bb, (unsigned)(v >> size) & 1);
  return 0;
}

/* A binary segment value: an integer (any base, sign, $c) fitting int64. */
static int segment_int(parser *ps, int64_t *out) {
  bool neg = false;
  if (peek(ps) == '-' || peek(ps) == '+') {
    neg = *ps->s++ == '-';
    skip_ws(ps);
  }
  if (peek(ps) == '$') {
    uint32_t cp;
    ps->s++;
    int r = text_char(ps, &cp);
    if (r < 0) return r;
    *out = neg ? -(int64_t)cp : cp;
    return 0;
  }
  const char *s, *e;
  int base;
  if (!int_digits(ps, &s, &e, &base)) return ps->syntax;
  uint64_t v = 0;
  for (const char *p = s; p < e; p++) {
    int d = digit_in((uint8_t)*p, base);
    if (d < 0) continue;
    if (v > ((uint64_t)INT64_MAX + 1 - (uint64_t)d) / (uint64_t)base) return ps->syntax;
    v = v * (uint64_t)base + (uint64_t)d;
  }
  if (!neg && v > INT64_MAX) return ps->syntax;
  *out = neg ? (int64_t)(0 - v) : (int64_t)v;
  return 0;
}

/* The optional :Size and /utf8 of a segment. *size stays as given if absent. */
static int segment_tail(parser *ps, size_t *size, bool *utf8) {
  skip_ws(ps);
  if (peek(ps) == ':') {
    ps->s++;
    skip_ws(ps);
    const char *e = scan_digits(ps->s, ps->end, 10);
    if (!e) return ps->syntax;
    size_t v = 0;
    for (const char *p = ps->s; p < e; p++) {
      if (*p == '_') continue;
      v = v * 10 + (size_t)(*p - '0');
      if (v > EP_PARSE_MAX_BINARY_BITS) return EP_ETOOBIG;
    }
    ps->s = e;
    *size = v;
    skip_ws(ps);
  }
  if (peek(ps) == '/') {
    ps->s++;
    skip_ws(ps);
    if (eat(ps, "utf8")) *utf8 = true;
    else if (!eat(ps, "integer")) return ps->syntax;
    skip_ws(ps);
  }
  return 0;
}

static int binary_segments(parser *ps, bitbuf *bb) {
  skip_ws(ps);
  if (eat(ps, ">>")) return 0;
  for (;;) {
    skip_ws(ps);
    size_t size = 8;
    bool utf8 = false;
    if (peek(ps) == '"') {
      const char *save;
      /* The characters are read twice: once to learn the segment type. */
      ps->s++;
      save = ps->s;
      while (peek(ps) != '"') {
        uint32_t cp;
        int r = text_char(ps, &cp);
        if (r < 0) return r;
      }
      ps->s++;
      int r = segment_tail(ps, &size, &utf8);
      if (r < 0) return r;
      if (size != 8 && !utf8) return ps->syntax;
      const char *after = ps->s;
      for (ps->s = save; peek(ps) != '"';) {
        uint32_t cp;
        uint8_t u[4];
        (void)text_char(ps, &cp);   /* checked by the first pass */
        if (utf8) {
          int k = ep__utf8_enc(cp, u);
          for (int i = 0; i < k; i++)
            if ((r = bits_put(bb, u[i], 8)) < 0) return r;
        } else if (cp > 255) {
          return ps->syntax;
        } else if ((r = bits_put(bb, cp, 8)) < 0) {
          return r;
        }
      }
      ps->s = after;
    } else {
      int64_t v = 0;
      int r = segment_int(ps, &v);
      if (r < 0) return r;
      size_t given = SIZE_MAX;
      r = segment_tail(ps, &given, &utf8);
      if (r < 0) return r;
      if (utf8) {
        uint8_t u[4];
        if (given != SIZE_MAX || v < 0 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return ps->syntax;
        int k = ep__utf8_enc((uint32_t)v, u);
        for (int i = 0; i < k; i++)
          if ((r = bits_put(bb, u[i], 8)) < 0) return r;
      } else if ((r = bits_put(bb, (uint64_t)v, given == SIZE_MAX ? 8 : given)) < 0) {
        return r;
      }
    }
    skip_ws(ps);
    if (eat(ps, ">>")) return 0;
    if (!eat(ps, ",")) return ps->syntax;
  }
}

static int binary(parser *ps) {
  no_record(ps);
  bitbuf bb = {.bits = 0, .cap = sizeof bb.inl};
  bb.d = bb.inl;
  ps->s += 2;
  int r = binary_segments(ps, &bb);
  if (r == 0) {
    if (bb.bits % 8 == 0) ep_b_binary(ps->b, bb.d, bb.bits / 8);
    else ep_b_bits(ps->b, bb.d, (bb.bits + 7) / 8, (unsigned)(bb.bits % 8));
  }
  if (bb.d != bb.inl) free(bb.d);
  return r;
}

/* ------------------------------------------------ pids, refs, ports -- */

static bool read_u64(parser *ps, uint64_t max, uint64_t *out) {
  uint64_t v = 0;
  if (!is_digit(peek(ps))) return false;
  while (is_digit(peek(ps))) {
    unsigned d = (unsigned)(*ps->s++ - '0');
    if (v > (max - d) / 10) return false;
    v = v * 10 + d;
  }
  *out = v;
  return true;
}

/* The node number that opens <N.…>: 0 here, else a node-name atom. */
static bool read_node(parser *ps, uint32_t *node) {
  uint64_t n;
  if (!read_u64(ps, UINT32_MAX, &n)) return false;
  if (n != 0 && !ep__atom_valid((ep_atom)n)) return false;
  *node = (uint32_t)n;
  return true;
}

static int pid(parser *ps) {
  uint32_t node;
  no_record(ps);
  uint64_t id, serial;
  ps->s++;
  if (!read_node(ps, &node) || !eat(ps, ".") || !read_u64(ps, UINT32_MAX, &id) || !eat(ps, ".") ||
      !read_u64(ps, UINT32_MAX, &serial) || !eat(ps, ">"))
    return ps->syntax;
  ep_b_pid(ps->b, (ep_pid){(uint32_t)id, (uint32_t)serial, node, 0});
  return 0;
}

/* #Ref<N.a.b.c>: words most significant first, so a is w[2]. */
static int ref(parser *ps) {
  ep_ref r = {0};
  no_record(ps);
  uint64_t words[5];
  if (!read_node(ps, &r.node)) return ps->syntax;
  while (r.len < 5 && eat(ps, ".")) {
    if (!read_u64(ps, UINT32_MAX, &words[r.len])) return ps->syntax;
    r.len++;
  }
  if (r.len == 0 || !eat(ps, ">")) return ps->syntax;
  for (uint32_t i = 0; i < r.len; i++) r.w[i] = (uint32_t)words[r.len - 1 - i];
  ep_b_ref(ps->b, &r);
  return 0;
}

static int port(parser *ps) {
  ep_port p = {0};
  no_record(ps);
  if (!read_node(ps, &p.node) || !eat(ps, ".") || !read_u64(ps, UINT64_MAX, &p.id) || !eat(ps, ">"))
    return ps->syntax;
  ep_b_port(ps->b, &p);
  return 0;
}

/* ------------------------------------------------------------- terms -- */

enum { LEAF = 0, OPENED = 1 };

static int open_container(parser *ps, int kind) {
  if (ps->depth == EP_MAX_DEPTH) return EP_EDEPTH;
  ps->kind[ps->depth++] = (uint8_t)kind;
  return OPENED;
}

/* Parses the start of a term: a whole leaf (LEAF), or the opening of a
 * non-empty container (OPENED, its first element comes next). */
static int term_start(parser *ps) {
  skip_ws(ps);
  int c = peek(ps), r;
  switch (c) {
  case '{':
    ps->s++;
    skip_ws(ps);
    ep_b_tuple(ps->b);
    REC(ps, .kind = OP_TUPLE);
    if (peek(ps) == '}') {
      ps->s++;
      ep_b_end(ps->b);
      REC(ps, .kind = OP_END);
      return LEAF;
    }
    return open_container(ps, K_TUPLE);
  case '[':
    ps->s++;
    skip_ws(ps);
    if (peek(ps) == ']') {
      ps->s++;
      ep_b_nil(ps->b);
      REC(ps, .kind = OP_NIL);
      return LEAF;
    }
    ep_b_list(ps->b);
    REC(ps, .kind = OP_LIST);
    return open_container(ps, K_LIST);
  case '#':
    if (eat(ps, "#{")) {
      skip_ws(ps);
      ep_b_map(ps->b);
      REC(ps, .kind = OP_MAP);
      if (peek(ps) == '}') {
        ps->s++;
        ep_b_end(ps->b);
        REC(ps, .kind = OP_END);
        return LEAF;
      }
      return open_container(ps, K_MAP_KEY);
    }
    if (eat(ps, "#Ref<")) return ref(ps);
    if (eat(ps, "#Port<")) return port(ps);
    return ps->syntax;
  case '<':
    return peek2(ps) == '<' ? binary(ps) : pid(ps);
  case '"':
    return string_list(ps);
  case '\'':
    return quoted_atom(ps);
  case '$':
    return char_literal(ps, false);
  case '-':
  case '+':
    ps->s++;
    skip_ws(ps);
    if (peek(ps) == '$') return char_literal(ps, c == '-');
    return number(ps, c == '-');
  case '~':
    if (!ps->hole || ps->end - ps->s < 2) return ps->syntax;
    ps->s += 2;
    r = ps->hole(ps->b, ps->s[-1], ps->ctx);
    REC(ps, .kind = OP_HOLE, .hole = ps->s[-1]);
    return r < 0 ? r : LEAF;
  default:
    if (is_digit(c)) return number(ps, false);
    if (bare_atom_start(ps)) return bare_atom(ps);
    return ps->syntax;
  }
}

/* After a complete term: closes finished containers and moves on to the
 * next element. Returns 1 when another term follows, 0 when the top-level
 * term is complete, or an error. */
static int term_next(parser *ps) {
  for (;;) {
    if (ps->depth == 0) return 0;
    skip_ws(ps);
    int c = peek(ps);
    uint8_t *k = &ps->kind[ps->depth - 1];
    switch (*k) {
    case K_TUPLE:
      if (c == ',') break;
      if (c != '}') return ps->syntax;
      ep_b_end(ps->b);
      REC(ps, .kind = OP_END);
      goto closed;
    case K_LIST:
      if (c == ',') break;
      if (c == '|') {
        *k = K_TAIL;
        break;
      }
      if (c != ']') return ps->syntax;
      ep_b_end(ps->b);
      REC(ps, .kind = OP_END);
      goto closed;
    case K_TAIL:
      if (c != ']') return ps->syntax;
      ep_b_end_tail(ps->b);
      REC(ps, .kind = OP_END_TAIL);
      goto closed;
    case K_MAP_KEY:
      if (!eat(ps, "=>")) return ps->syntax;
      *k = K_MAP_VAL;
      return 1;
    case K_MAP_VAL:
      if (c == ',') {
        *k = K_MAP_KEY;
        break;
      }
      if (c != '}') return ps->syntax;
      ep_b_end(ps->b);
      REC(ps, .kind = OP_END);
      goto closed;
    }
    ps->s++;   /* the separator */
    return 1;
  closed:
    ps->s++;
    ps->depth--;
  }
}

static int parse_all(parser *ps) {
  for (;;) {
    int r = term_start(ps);
    if (r < 0) return r;
    if (ps->b->err) return ps->b->err;
    if (r == OPENED) continue;
    r = term_next(ps);
    if (r < 0) return r;
    if (ps->b->err) return ps->b->err;
    if (r == 0) break;
  }
  skip_ws(ps);
  if (peek(ps) == '.') {
    ps->s++;
    skip_ws(ps);
  }
  return ps->s == ps->end ? 0 : ps->syntax;
}

int ep__parse(ep_build *b, const char *text, size_t len, ep__hole_fn hole, void *ctx, ep__fmt_rec *rec) {
  if (b->err) return b->err;
  parser ps;
  ps.s = text;
  ps.end = text + len;
  ps.b = b;
  ps.hole = hole;
  ps.ctx = ctx;
  ps.rec = rec;
  ps.syntax = hole ? EP_EFORMAT : EP_EPARSE;
  ps.depth = 0;
  int r = parse_all(&ps);
  if (r < 0 && b->err == 0) b->err = r;
  return r;
}

int ep_b_parse(ep_build *b, const char *text, size_t len) {
  if (!b) return EP_EINVAL;
  if (!text) {
    if (b->err == 0) b->err = EP_EINVAL;
    return b->err;
  }
  return ep__parse(b, text, len, NULL, NULL, NULL);
}

int ep_parse(ep_term *out, const char *text) {
  if (!out || !text) return EP_EINVAL;
  ep_build b;
  ep_b_init(&b);
  int r = ep__parse(&b, text, strlen(text), NULL, NULL, NULL), err = 0;
  if (r == 0) {
    *out = ep_b_finish(&b, &err);
    r = *out ? 0 : err;
  }
  ep_b_free(&b);
  return r;
}
