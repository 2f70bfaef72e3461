/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pattern.c - compiled receive patterns (eproc/term.h, section patterns).
 *
 * Parses Erlang pattern text into a small tree, then flattens the tree into a
 * program of fixed-size ops that walks the term's pre-order bytes once:
 * literal subterms are pre-encoded (by the builder, so the bytes are the
 * canonical ones) and compared with memcmp, and whatever the pattern does not
 * look at is skipped in O(1). Owns each pattern's single block (ops, literal
 * bytes, source text). The encoding itself is term_int.h's.
 */
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "term_int.h"

/* ------------------------------------------------------------ the program -- */

/* Types a variable can carry; they fix its C output in ep_pattern_bind. */
enum { PT_TERM, PT_INT, PT_FLOAT, PT_NUMBER, PT_ATOM, PT_PID, PT_REF, PT_BIN };

/* Each op looks at the term byte under the cursor and, unless it fails,
 * leaves the cursor just past the subterm(s) it consumed. */
enum {
  OP_END,     /* success */
  OP_TUPLE,   /* tuple of arity a; the cursor enters it */
  OP_TAGGED,  /* tuple of arity a whose first element is atom x; the cursor
                 enters it past that atom (the usual {tag, ...} message) */
  OP_CONS,    /* a list cell; the cursor enters it (head, then tail) */
  OP_NIL,     /* [] */
  OP_ATOM,    /* atom x */
  OP_INT,     /* small integer x */
  OP_FZERO,   /* 0.0 or -0.0: =:= in OTP 25, so not one byte pattern */
  OP_LIT,     /* literal: the a bytes at lits + x */
  OP_BIND,    /* variable k, first occurrence, any term */
  OP_BINDT,   /* variable k, first occurrence, of type `type` (::number) */
  OP_BINT,    /* the same for the fixed-size types: no size computation */
  OP_BFLOAT,
  OP_BATOM,
  OP_BPID,
  OP_BREF,
  OP_BBIN,
  OP_EQ,      /* variable k again: =:= its first binding */
  OP_SKIP,    /* _ */
  OP_SKIPT,   /* _::type */
  OP_PIN,     /* =:= pins[k] */
  OP_MAP,     /* map with at least a keys; the cursor enters it */
  OP_KEY,     /* find key (a bytes at lits + x) further on; cursor at its value */
  OP_MAPEND   /* the cursor leaves the innermost map */
};

typedef struct op {
  uint8_t code;
  uint8_t type;  /* PT_* for OP_BINDT / OP_SKIPT */
  uint16_t k;    /* variable or pin index */
  uint32_t a;    /* arity, key count or byte length */
  uint64_t x;    /* atom, integer bits or offset into lits */
} op;

/* Nesting of map patterns inside map patterns; each level costs the matcher
 * one pointer of stack. */
#define MAP_DEPTH 16
/* Nesting of the pattern text; the compiler recurses on it (never the
 * matcher: tuples and lists need no stack there). */
#define PARSE_DEPTH 256
/* Longest integer literal, as ep_parse's: reading one is quadratic in it. */
#define MAX_DIGITS 100000

struct ep_pattern {
  int nvars, npins;
  uint8_t vtype[EP_PATTERN_MAX_VARS];  /* PT_* of each variable */
  const uint8_t *lits;                 /* literal bytes, in this block */
  const char *text;                    /* the source, in this block */
  op ops[];                            /* ends with OP_END */
};

/* --------------------------------------------------------------- the tree -- */

enum { K_INT, K_BIG, K_FLOAT, K_ATOM, K_NIL, K_BIN, K_PID, K_REF,
       K_TUPLE, K_CONS, K_MAP, K_VAR, K_ANY, K_PIN };

#define NONE UINT32_MAX

typedef struct node {
  uint8_t kind;
  uint8_t type;        /* K_ANY: PT_* */
  bool lit;            /* no variable, wildcard, pin or map inside */
  bool fz;             /* a float zero inside: a constant, but not one memcmp */
  bool neg;            /* K_BIG */
  uint32_t n;          /* arity, pair count, index, byte or word count */
  uint32_t first;      /* first child (tuple elements, map k/v, cons head) */
  uint32_t next;       /* next sibling */
  uint32_t off;        /* K_BIG, K_BIN, K_REF: bytes in the scratch area */
  size_t pos;          /* offset in the text, for errors */
  union { int64_t i; double d; ep_atom a; ep_pid pid; } v;
} node;

typedef struct name { const char *s; size_t len; uint8_t type; bool typed; } name;

typedef struct parser {
  const char *s;
  size_t len, pos;
  int err;
  size_t err_pos;
  node *nodes;
  uint32_t nn, capn;
  uint8_t *scr;        /* big magnitudes, binary bytes, ref words */
  size_t nscr, capscr;
  name vars[EP_PATTERN_MAX_VARS];
  name pins[EP_PATTERN_MAX_PINS];
  int nvars, npins;
} parser;

static uint32_t fail(parser *p, int err, size_t pos) {
  if (!p->err) {
    p->err = err;
    p->err_pos = pos;
  }
  return NONE;
}

/* fail() for functions that return bool (false) or an int (-1). */
static bool failb(parser *p, int err, size_t pos) {
  fail(p, err, pos);
  return false;
}
static int faili(parser *p, int err, size_t pos) {
  fail(p, err, pos);
  return -1;
}

static bool grow(void **buf, size_t *cap, size_t need, size_t elem) {
  if (need <= *cap) return true;
  size_t c = *cap ? *cap : 16;
  while (c < need) c *= 2;
  void *nb = realloc(*buf, c * elem);
  if (!nb) return false;
  *buf = nb;
  *cap = c;
  return true;
}

static uint32_t new_node(parser *p, int kind, size_t pos) {
  size_t cap = p->capn;
  if (!grow((void **)&p->nodes, &cap, (size_t)p->nn + 1, sizeof(node)))
    return fail(p, EP_ENOMEM, pos);
  p->capn = (uint32_t)cap;
  node *n = &p->nodes[p->nn];
  memset(n, 0, sizeof *n);
  n->kind = (uint8_t)kind;
  n->lit = kind <= K_REF;
  n->first = n->next = NONE;
  n->pos = pos;
  return p->nn++;
}

/* Appends n bytes to the scratch area; returns their offset or NONE. The
 * area always exists afterwards, so an empty binary has a data pointer. */
static uint32_t scratch(parser *p, const void *data, size_t n) {
  if (p->nscr + n >= UINT32_MAX || !grow((void **)&p->scr, &p->capscr, p->nscr + n + 1, 1))
    return fail(p, EP_ENOMEM, p->pos);
  memcpy(p->scr + p->nscr, data, n);
  p->nscr += n;
  return (uint32_t)(p->nscr - n);
}

/* ------------------------------------------------------------- the lexer -- */

static int peek(const parser *p) { return p->pos < p->len ? (unsigned char)p->s[p->pos] : -1; }
static int peek2(const parser *p) { return p->pos + 1 < p->len ? (unsigned char)p->s[p->pos + 1] : -1; }

static bool at(const parser *p, const char *tok) {
  size_t n = strlen(tok);
  return p->len - p->pos >= n && memcmp(p->s + p->pos, tok, n) == 0;
}

/* Whitespace and %-comments, as erl_scan. */
static void skip_ws(parser *p) {
  for (;;) {
    int c = peek(p);
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
      p->pos++;
    } else if (c == '%') {
      while (p->pos < p->len && p->s[p->pos] != '\n') p->pos++;
    } else {
      return;
    }
  }
}

/* Decodes one UTF-8 code point at p->pos; -1 if the bytes are not UTF-8. */
static int32_t utf8_next(parser *p) {
  const unsigned char *s = (const unsigned char *)p->s + p->pos;
  size_t left = p->len - p->pos;
  if (left == 0) return -1;
  uint32_t c = s[0];
  size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
  if (n == 0 || n > left) return -1;
  if (n > 1) c &= 0x3Fu >> (n - 1);
  for (size_t i = 1; i < n; i++) {
    if ((s[i] & 0xC0) != 0x80) return -1;
    c = c << 6 | (s[i] & 0x3F);
  }
  static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
  if (c < min[n] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return -1;
  p->pos += n;
  return (int32_t)c;
}

static size_t utf8_put(uint8_t *o, uint32_t c) {
  if (c < 0x80) { o[0] = (uint8_t)c; return 1; }
  if (c < 0x800) { o[0] = (uint8_t)(0xC0 | c >> 6); o[1] = (uint8_t)(0x80 | (c & 0x3F)); return 2; }
  if (c < 0x10000) {
    o[0] = (uint8_t)(0xE0 | c >> 12); o[1] = (uint8_t)(0x80 | (c >> 6 & 0x3F));
    o[2] = (uint8_t)(0x80 | (c & 0x3F));
    return 3;
  }
  o[0] = (uint8_t)(0xF0 | c >> 18); o[1] = (uint8_t)(0x80 | (c >> 12 & 0x3F));
  o[2] = (uint8_t)(0x80 | (c >> 6 & 0x3F)); o[3] = (uint8_t)(0x80 | (c & 0x3F));
  return 4;
}

/* erl_scan's character classes, over Latin-1 code points. */
static bool is_lower(int32_t c) { return (c >= 'a' && c <= 'z') || (c >= 0xDF && c <= 0xFF && c != 0xF7); }
static bool is_upper(int32_t c) { return (c >= 'A' && c <= 'Z') || (c >= 0xC0 && c <= 0xDE && c != 0xD7); }
static bool is_digit(int c) { return c >= '0' && c <= '9'; }
static bool is_namechar(int32_t c) {
  return is_lower(c) || is_upper(c) || is_digit(c) || c == '_' || c == '@';
}

/* The code point at p->pos without consuming it; -1 at the end or on bad UTF-8. */
static int32_t peek_cp(parser *p) {
  size_t save = p->pos;
  int32_t c = utf8_next(p);
  p->pos = save;
  return c;
}

/* Scans a bare name (atom or variable); the first character is checked by the caller. */
static void scan_name(parser *p) {
  for (;;) {
    size_t save = p->pos;
    int32_t c = utf8_next(p);
    if (c < 0 || !is_namechar(c)) {
      p->pos = save;
      return;
    }
  }
}

static bool reserved(const char *s, size_t n) {
  static const char *const words[] = {
    "after", "and", "andalso", "band", "begin", "bnot", "bor", "bsl", "bsr", "bxor",
    "case", "catch", "cond", "div", "end", "fun", "if", "let", "maybe", "not", "of",
    "or", "orelse", "receive", "rem", "try", "when", "xor"};
  for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
    if (strlen(words[i]) == n && memcmp(words[i], s, n) == 0) return true;
  return false;
}

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* An escape sequence after the backslash, as erl_scan: \n \t ... \NNN \xHH
 * \x{H...} \^C; any other character stands for itself. */
static int32_t escape(parser *p) {
  size_t start = p->pos - 1;
  int c = peek(p);
  if (c < 0) return faili(p, EP_EPARSE, start);
  if (c >= '0' && c <= '7') {
    int32_t v = 0;
    for (int i = 0; i < 3 && peek(p) >= '0' && peek(p) <= '7'; i++) v = v * 8 + (p->s[p->pos++] - '0');
    return v;
  }
  if (c == 'x') {
    p->pos++;
    int32_t v = 0;
    if (peek(p) == '{') {
      p->pos++;
      int digits = 0;
      while (hexval(peek(p)) >= 0) {
        v = v * 16 + hexval(p->s[p->pos++]);
        if (v > 0x10FFFF) return faili(p, EP_EPARSE, start);
        digits++;
      }
      if (!digits || peek(p) != '}') return faili(p, EP_EPARSE, start);
      p->pos++;
    } else {
      for (int i = 0; i < 2; i++) {
        if (hexval(peek(p)) < 0) return faili(p, EP_EPARSE, start);
        v = v * 16 + hexval(p->s[p->pos++]);
      }
    }
    if (v >= 0xD800 && v <= 0xDFFF) return faili(p, EP_EPARSE, start);
    return v;
  }
  if (c == '^') {
    p->pos++;
    int32_t k = utf8_next(p);
    if (k < 0) return faili(p, EP_EPARSE, start);
    return k == '?' ? 127 : (k & 31);
  }
  static const char from[] = "bdefnrstv", to[] = {8, 127, 27, 12, 10, 13, 32, 9, 11};
  const char *hit = strchr(from, c);
  if (hit && c) {
    p->pos++;
    return to[hit - from];
  }
  int32_t k = utf8_next(p);
  return k < 0 ? faili(p, EP_EPARSE, start) : k;
}

/* One quoted item ('atom' or "string"): code points into *cps. */
static bool quoted(parser *p, char q, uint32_t **cps, size_t *n, size_t *cap) {
  size_t start = p->pos++;
  for (;;) {
    int c = peek(p);
    if (c < 0) return failb(p, EP_EPARSE, start);
    if (c == q) {
      p->pos++;
      return true;
    }
    int32_t cp;
    if (c == '\\') {
      p->pos++;
      cp = escape(p);
    } else {
      cp = utf8_next(p);
      if (cp < 0) fail(p, EP_EPARSE, p->pos);
    }
    if (p->err) return false;
    if (!grow((void **)cps, cap, *n + 1, sizeof **cps)) return failb(p, EP_ENOMEM, start);
    (*cps)[(*n)++] = (uint32_t)cp;
  }
}

/* "a" "b": adjacent strings are one string, as in Erlang. */
static bool strings(parser *p, uint32_t **cps, size_t *n, size_t *cap) {
  do {
    if (!quoted(p, '"', cps, n, cap)) return false;
    skip_ws(p);
  } while (peek(p) == '"');
  return true;
}

/* ------------------------------------------------------------ the parser -- */

static uint32_t pattern(parser *p, int depth);

static uint32_t mkint(parser *p, int64_t v, size_t pos) {
  uint32_t i = new_node(p, K_INT, pos);
  if (i != NONE) p->nodes[i].v.i = v;
  return i;
}

/* mag (little-endian, *n bytes) = mag * base + d */
static void muladd(uint8_t *mag, size_t *n, unsigned base, unsigned d) {
  unsigned carry = d;
  for (size_t i = 0; i < *n; i++) {
    unsigned v = mag[i] * base + carry;
    mag[i] = (uint8_t)v;
    carry = v >> 8;
  }
  while (carry) {
    mag[(*n)++] = (uint8_t)carry;
    carry >>= 8;
  }
}

/* Digits of `base` with erl_scan's `_` separators (only between digits),
 * accumulated into mag when not NULL; returns how many. */
static size_t digit_run(parser *p, unsigned base, uint8_t *mag, size_t *n) {
  size_t count = 0;
  for (;;) {
    int c = peek(p);
    int d = is_digit(c) ? c - '0' : (c | 32) >= 'a' && (c | 32) <= 'z' ? (c | 32) - 'a' + 10 : -1;
    if (d >= 0 && (unsigned)d < base) {
      if (mag) muladd(mag, n, base, (unsigned)d);
      p->pos++;
      count++;
    } else if (c == '_' && count) {
      int c2 = peek2(p);
      int d2 = is_digit(c2) ? c2 - '0' : (c2 | 32) >= 'a' && (c2 | 32) <= 'z' ? (c2 | 32) - 'a' + 10 : -1;
      if (d2 < 0 || (unsigned)d2 >= base) return count;
      p->pos++;
    } else {
      return count;
    }
  }
}

/* digit_run, counted before it is converted (conversion is quadratic):
 * more than MAX_DIGITS digits are not converted. */
static size_t digits(parser *p, unsigned base, uint8_t *mag, size_t *n) {
  size_t start = p->pos, count = digit_run(p, base, NULL, NULL);
  if (count > MAX_DIGITS || !mag) return count;
  p->pos = start;
  return digit_run(p, base, mag, n);
}

/* An integer from its magnitude: K_INT when it fits int64, else K_BIG. */
static uint32_t mknum(parser *p, bool neg, const uint8_t *mag, size_t n, size_t pos) {
  while (n && mag[n - 1] == 0) n--;
  if (n <= 8) {
    uint64_t u = 0;
    for (size_t i = n; i-- > 0;) u = u << 8 | mag[i];
    if (!neg && u <= (uint64_t)INT64_MAX) return mkint(p, (int64_t)u, pos);
    if (neg && u <= (uint64_t)INT64_MAX + 1) return mkint(p, (int64_t)(0 - u), pos);
  }
  uint32_t off = scratch(p, mag, n);
  uint32_t i = off == NONE ? NONE : new_node(p, K_BIG, pos);
  if (i != NONE) {
    p->nodes[i].neg = neg;
    p->nodes[i].n = (uint32_t)n;
    p->nodes[i].off = off;
  }
  return i;
}

/* 42, 1_000, 16#ff, 2.5e-3, $a; `neg` from a leading minus sign. */
static uint32_t number(parser *p, bool neg, size_t pos) {
  size_t start = p->pos;
  if (peek(p) == '$') {
    p->pos++;
    int32_t c = peek(p) == '\\' ? (p->pos++, escape(p)) : utf8_next(p);
    if (c < 0) return fail(p, EP_EPARSE, start);
    return mkint(p, neg ? -(int64_t)c : c, pos);
  }
  /* Every digit adds at most one magnitude byte (base >= 2). */
  size_t room = p->len - p->pos + 8;
  uint8_t *mag = calloc(room, 1);
  if (!mag) return fail(p, EP_ENOMEM, start);
  size_t n = 0;
  uint32_t r = NONE;
  if (digits(p, 10, mag, &n) > MAX_DIGITS) {
    fail(p, EP_ETOOBIG, start);
  } else if (peek(p) == '#') {
    unsigned base = n ? mag[0] : 0;
    if (n > 1 || base < 2 || base > 36) {
      fail(p, EP_EPARSE, start);
    } else {
      p->pos++;
      memset(mag, 0, room);
      n = 0;
      size_t count = digits(p, base, mag, &n);
      if (!count || count > MAX_DIGITS) fail(p, count ? EP_ETOOBIG : EP_EPARSE, start);
      else r = mknum(p, neg, mag, n, pos);
    }
  } else if (peek(p) == '.' && is_digit(peek2(p))) {
    /* The float's text without `_`, for strtod. */
    char *buf = (char *)mag;
    size_t k = 0;
    buf[k++] = neg ? '-' : '+';
    for (size_t i = start; i < p->pos; i++) if (p->s[i] != '_') buf[k++] = p->s[i];
    size_t f = p->pos;
    p->pos++;
    size_t fd = digits(p, 10, NULL, NULL), ed = 0;
    if ((peek(p) | 32) == 'e') {
      size_t save = p->pos++;
      if (peek(p) == '+' || peek(p) == '-') p->pos++;
      if (!(ed = digits(p, 10, NULL, NULL))) p->pos = save;
    }
    if (fd > MAX_DIGITS || ed > MAX_DIGITS) {
      free(mag);
      return fail(p, EP_ETOOBIG, start);
    }
    for (size_t i = f; i < p->pos; i++) if (p->s[i] != '_') buf[k++] = p->s[i];
    buf[k] = 0;
    char *end;
    double d = strtod(buf, &end);
    if (!isfinite(d) || *end) {  /* *end: a locale whose decimal point is not '.' */
      fail(p, EP_EPARSE, start);
    } else if ((r = new_node(p, K_FLOAT, pos)) != NONE) {
      p->nodes[r].v.d = d;
      p->nodes[r].fz = d == 0;
    }
  } else {
    r = mknum(p, neg, mag, n, pos);
  }
  free(mag);
  return r;
}

/* Unsigned decimal for pid and reference fields. */
static bool u32field(parser *p, uint32_t *out) {
  uint64_t v = 0;
  if (!is_digit(peek(p))) return false;
  while (is_digit(peek(p))) {
    v = v * 10 + (uint64_t)(p->s[p->pos++] - '0');
    if (v > UINT32_MAX) return false;
  }
  *out = (uint32_t)v;
  return true;
}

/* <0.Id.Serial>: a local pid as Erlang prints it. */
static uint32_t pid(parser *p) {
  size_t start = p->pos++;
  uint32_t node, id, serial;
  if (!u32field(p, &node) || node != 0 || peek(p) != '.') return fail(p, EP_EPARSE, start);
  p->pos++;
  if (!u32field(p, &id) || peek(p) != '.') return fail(p, EP_EPARSE, start);
  p->pos++;
  if (!u32field(p, &serial) || peek(p) != '>') return fail(p, EP_EPARSE, start);
  p->pos++;
  uint32_t i = new_node(p, K_PID, start);
  if (i != NONE) p->nodes[i].v.pid = (ep_pid){.id = id, .serial = serial, .node = EP_NODE_LOCAL};
  return i;
}

/* #Ref<0.W2.W1.W0>: a local reference, most significant word first. */
static uint32_t ref(parser *p) {
  size_t start = p->pos;
  p->pos += 5;
  uint32_t node, w[5];
  int n = 0;
  if (!u32field(p, &node) || node != 0) return fail(p, EP_EPARSE, start);
  while (peek(p) == '.') {
    p->pos++;
    if (n == 5 || !u32field(p, &w[n++])) return fail(p, EP_EPARSE, start);
  }
  if (n == 0 || peek(p) != '>') return fail(p, EP_EPARSE, start);
  p->pos++;
  uint32_t rev[5];
  for (int i = 0; i < n; i++) rev[i] = w[n - 1 - i];
  uint32_t off = scratch(p, rev, sizeof(uint32_t) * (size_t)n);
  uint32_t i = off == NONE ? NONE : new_node(p, K_REF, start);
  if (i != NONE) {
    p->nodes[i].n = (uint32_t)n;
    p->nodes[i].off = off;
  }
  return i;
}

/* A list of code points as nested cons cells ending in tail. */
static uint32_t cp_list(parser *p, const uint32_t *cps, size_t n, uint32_t tail, size_t pos) {
  for (size_t i = n; i-- > 0 && tail != NONE;) {
    uint32_t h = mkint(p, cps[i], pos);
    uint32_t c = h == NONE ? NONE : new_node(p, K_CONS, pos);
    if (c == NONE) return NONE;
    p->nodes[h].next = tail;
    p->nodes[c].first = h;
    p->nodes[c].lit = p->nodes[tail].lit;
    tail = c;
  }
  return tail;
}

static uint32_t string(parser *p) {
  size_t start = p->pos;
  uint32_t *cps = NULL;
  size_t n = 0, cap = 0;
  uint32_t r = NONE;
  if (strings(p, &cps, &n, &cap)) r = cp_list(p, cps, n, new_node(p, K_NIL, start), start);
  free(cps);
  return r;
}

/* <<"text">>, <<"text"/utf8>>, <<1, 2, $a>>: literal binaries, with
 * Erlang's meaning (a plain string segment keeps each character's low 8
 * bits; /utf8 encodes it). */
static uint32_t binary(parser *p) {
  size_t start = p->pos;
  p->pos += 2;
  uint8_t *bytes = NULL;
  size_t n = 0, cap = 0;
  uint32_t *cps = NULL;
  size_t ncp = 0, capcp = 0;
  skip_ws(p);
  bool more = !at(p, ">>");
  while (more && !p->err) {
    size_t seg = p->pos;
    int c = peek(p);
    if (c == '"') {
      ncp = 0;
      if (!strings(p, &cps, &ncp, &capcp)) break;
      bool utf8 = false;
      if (peek(p) == '/') {
        p->pos++;
        skip_ws(p);
        if (at(p, "utf8")) { utf8 = true; p->pos += 4; }
        else if (at(p, "latin1")) p->pos += 6;
        else { fail(p, EP_EPARSE, p->pos); break; }
      }
      if (!grow((void **)&bytes, &cap, n + 4 * ncp, 1)) { fail(p, EP_ENOMEM, seg); break; }
      for (size_t i = 0; i < ncp; i++) {
        if (utf8) n += utf8_put(bytes + n, cps[i]);
        else bytes[n++] = (uint8_t)cps[i];
      }
    } else if (is_digit(c) || c == '$' || c == '-' || c == '+') {
      bool neg = c == '-';
      if (c == '-' || c == '+') { p->pos++; skip_ws(p); }
      if (!is_digit(peek(p)) && peek(p) != '$') { fail(p, EP_EPARSE, seg); break; }
      uint32_t k = number(p, neg, seg);
      if (k == NONE) break;
      node *nd = &p->nodes[k];
      uint8_t b;
      if (nd->kind == K_INT) b = (uint8_t)nd->v.i;
      else if (nd->kind == K_BIG) b = (uint8_t)(nd->neg ? 0u - p->scr[nd->off] : p->scr[nd->off]);
      else { fail(p, EP_EPARSE, seg); break; }
      if (!grow((void **)&bytes, &cap, n + 1, 1)) { fail(p, EP_ENOMEM, seg); break; }
      bytes[n++] = b;
      skip_ws(p);
    } else {
      fail(p, EP_EPARSE, seg);
      break;
    }
    skip_ws(p);
    if (peek(p) == ',') {
      p->pos++;
      skip_ws(p);
    } else {
      more = false;
    }
  }
  uint32_t r = NONE;
  if (!p->err && !at(p, ">>")) fail(p, EP_EPARSE, p->pos);
  if (!p->err) {
    p->pos += 2;
    uint32_t off = scratch(p, bytes ? bytes : (const uint8_t *)"", n);
    r = off == NONE ? NONE : new_node(p, K_BIN, start);
    if (r != NONE) {
      p->nodes[r].n = (uint32_t)n;
      p->nodes[r].off = off;
    }
  }
  free(bytes);
  free(cps);
  return r;
}

/* Elements up to `close`, linked as siblings; returns the first, or NONE
 * when there are none or on error (p->err tells). */
static uint32_t elements(parser *p, char close, int depth, uint32_t *count) {
  uint32_t first = NONE, prev = NONE;
  *count = 0;
  skip_ws(p);
  if (peek(p) == close) return NONE;
  for (;;) {
    uint32_t e = pattern(p, depth + 1);
    if (e == NONE) return NONE;
    if (prev == NONE) first = e;
    else p->nodes[prev].next = e;
    prev = e;
    (*count)++;
    skip_ws(p);
    if (peek(p) != ',') break;
    p->pos++;
  }
  return first;
}

static uint32_t tuple(parser *p, int depth) {
  size_t start = p->pos++;
  uint32_t count;
  uint32_t first = elements(p, '}', depth, &count);
  if (p->err) return NONE;
  if (peek(p) != '}') return fail(p, EP_EPARSE, p->pos);
  p->pos++;
  uint32_t t = new_node(p, K_TUPLE, start);
  if (t == NONE) return NONE;
  p->nodes[t].n = count;
  p->nodes[t].first = first;
  p->nodes[t].lit = true;
  for (uint32_t e = first; e != NONE; e = p->nodes[e].next) {
    p->nodes[t].lit &= p->nodes[e].lit;
    p->nodes[t].fz |= p->nodes[e].fz;
  }
  return t;
}

/* [a, B | T] is cons(a, cons(B, T)); [a, B] ends in []. */
static uint32_t list(parser *p, int depth) {
  size_t start = p->pos++;
  uint32_t count;
  uint32_t first = elements(p, ']', depth, &count);
  if (p->err) return NONE;
  uint32_t tail;
  if (count && peek(p) == '|') {
    p->pos++;
    tail = pattern(p, depth + 1);
    skip_ws(p);
  } else {
    tail = new_node(p, K_NIL, p->pos);
  }
  if (tail == NONE) return NONE;
  if (peek(p) != ']') return fail(p, EP_EPARSE, p->pos);
  p->pos++;
  /* Build the cells from the last element back. */
  uint32_t elems[64], *el = elems;
  if (count > 64 && !(el = malloc(sizeof *el * count))) return fail(p, EP_ENOMEM, start);
  uint32_t i = 0;
  for (uint32_t e = first; e != NONE; e = p->nodes[e].next) el[i++] = e;
  while (i-- > 0 && tail != NONE) {
    uint32_t c = new_node(p, K_CONS, p->nodes[el[i]].pos);
    if (c == NONE) { tail = NONE; break; }
    p->nodes[el[i]].next = tail;
    p->nodes[c].first = el[i];
    p->nodes[c].lit = p->nodes[el[i]].lit && p->nodes[tail].lit;
    p->nodes[c].fz = p->nodes[el[i]].fz || p->nodes[tail].fz;
    tail = c;
  }
  if (el != elems) free(el);
  if (tail != NONE) p->nodes[tail].pos = start;
  return tail;
}

/* #{Key := Value, ...}: keys are literals; matches maps with at least these keys. */
static uint32_t map(parser *p, int depth) {
  size_t start = p->pos;
  p->pos += 2;
  uint32_t first = NONE, prev = NONE, pairs = 0;
  skip_ws(p);
  if (peek(p) != '}') {
    for (;;) {
      skip_ws(p);
      size_t kpos = p->pos;
      uint32_t k = pattern(p, depth + 1);
      if (k == NONE) return NONE;
      if (!p->nodes[k].lit) return fail(p, EP_EPARSE, kpos);
      skip_ws(p);
      if (!at(p, ":=")) return fail(p, EP_EPARSE, p->pos);
      p->pos += 2;
      uint32_t v = pattern(p, depth + 1);
      if (v == NONE) return NONE;
      p->nodes[k].next = v;
      if (prev == NONE) first = k;
      else p->nodes[prev].next = k;
      prev = v;
      pairs++;
      skip_ws(p);
      if (peek(p) != ',') break;
      p->pos++;
    }
  }
  if (peek(p) != '}') return fail(p, EP_EPARSE, p->pos);
  p->pos++;
  uint32_t m = new_node(p, K_MAP, start);
  if (m != NONE) {
    p->nodes[m].n = pairs;
    p->nodes[m].first = first;
  }
  return m;
}

static int type_named(const char *s, size_t n) {
  static const char *const names[] = {"term", "int", "float", "number", "atom", "pid", "ref", "bin"};
  for (int i = 0; i < 8; i++)
    if (strlen(names[i]) == n && memcmp(names[i], s, n) == 0) return i;
  return -1;
}

/* Optional `::type` after a variable; PT_TERM when absent. */
static int var_type(parser *p, bool *given) {
  size_t save = p->pos;
  skip_ws(p);
  *given = at(p, "::");
  if (!*given) {
    p->pos = save;
    return PT_TERM;
  }
  p->pos += 2;
  skip_ws(p);
  size_t tpos = p->pos;
  if (!is_lower(peek_cp(p))) return faili(p, EP_EPARSE, tpos);
  scan_name(p);
  int t = type_named(p->s + tpos, p->pos - tpos);
  if (t < 0) fail(p, EP_EPARSE, tpos);
  return t;
}

/* Index of a named variable or pin in tab (adding it), or -1 on error. */
static int intern(parser *p, name *tab, int *count, int max, const char *s, size_t n, size_t pos) {
  for (int i = 0; s && i < *count; i++)
    if (tab[i].len == n && tab[i].s && memcmp(tab[i].s, s, n) == 0) return i;
  if (*count == max) return faili(p, EP_ETOOBIG, pos);
  tab[*count] = (name){s, n, PT_TERM, false};
  return (*count)++;
}

static bool named_in(const name *tab, int count, const char *s, size_t n) {
  for (int i = 0; i < count; i++)
    if (tab[i].s && tab[i].len == n && memcmp(tab[i].s, s, n) == 0) return true;
  return false;
}

/* X, X::int, _, _Name, _::atom */
static uint32_t variable(parser *p) {
  size_t start = p->pos;
  scan_name(p);
  const char *s = p->s + start;
  size_t n = p->pos - start;
  bool given;
  int t = var_type(p, &given);
  if (t < 0) return NONE;
  if (s[0] == '_') {
    uint32_t i = new_node(p, K_ANY, start);
    if (i != NONE) p->nodes[i].type = (uint8_t)t;
    return i;
  }
  if (named_in(p->pins, p->npins, s, n)) return fail(p, EP_EPARSE, start);
  int k = intern(p, p->vars, &p->nvars, EP_PATTERN_MAX_VARS, s, n, start);
  if (k < 0) return NONE;
  name *v = &p->vars[k];
  if (given) {
    if (v->typed && v->type != t) return fail(p, EP_EPARSE, start);
    v->type = (uint8_t)t;
    v->typed = true;
  }
  uint32_t i = new_node(p, K_VAR, start);
  if (i != NONE) p->nodes[i].n = (uint32_t)k;
  return i;
}

/* ~i ~d ~a ~p ~r ~b ~t: anonymous typed variables. */
static uint32_t hole(parser *p) {
  size_t start = p->pos++;
  static const char letters[] = "idaprbt";
  static const uint8_t types[] = {PT_INT, PT_FLOAT, PT_ATOM, PT_PID, PT_REF, PT_BIN, PT_TERM};
  int c = peek(p);
  const char *hit = c > 0 ? strchr(letters, c) : NULL;
  if (!hit) return fail(p, EP_EPARSE, start);
  p->pos++;
  int k = intern(p, p->vars, &p->nvars, EP_PATTERN_MAX_VARS, NULL, 0, start);
  if (k < 0) return NONE;
  p->vars[k].type = types[hit - letters];
  p->vars[k].typed = true;
  uint32_t i = new_node(p, K_VAR, start);
  if (i != NONE) p->nodes[i].n = (uint32_t)k;
  return i;
}

/* ^Name (the same name is the same pin) or ^~t (a new pin each time). */
static uint32_t pin(parser *p) {
  size_t start = p->pos++;
  int k;
  if (at(p, "~t")) {
    p->pos += 2;
    k = intern(p, p->pins, &p->npins, EP_PATTERN_MAX_PINS, NULL, 0, start);
  } else {
    size_t s = p->pos;
    if (!is_upper(peek_cp(p))) return fail(p, EP_EPARSE, start);
    scan_name(p);
    if (named_in(p->vars, p->nvars, p->s + s, p->pos - s)) return fail(p, EP_EPARSE, start);
    k = intern(p, p->pins, &p->npins, EP_PATTERN_MAX_PINS, p->s + s, p->pos - s, start);
  }
  if (k < 0) return NONE;
  uint32_t i = new_node(p, K_PIN, start);
  if (i != NONE) p->nodes[i].n = (uint32_t)k;
  return i;
}

static uint32_t atom(parser *p) {
  size_t start = p->pos;
  const char *s = p->s + start;
  size_t n;
  ep_atom a;
  int rc;
  if (peek(p) == '\'') {
    uint32_t *cps = NULL;
    size_t ncp = 0, cap = 0;
    if (!quoted(p, '\'', &cps, &ncp, &cap)) return free(cps), NONE;
    uint8_t *name = malloc(4 * ncp + 1);
    if (!name) return free(cps), fail(p, EP_ENOMEM, start);
    n = 0;
    for (size_t i = 0; i < ncp; i++) n += utf8_put(name + n, cps[i]);
    rc = ep_atom_from((const char *)name, n, &a);
    free(name);
    free(cps);
  } else {
    scan_name(p);
    n = p->pos - start;
    if (reserved(s, n)) return fail(p, EP_EPARSE, start);
    rc = ep_atom_from(s, n, &a);
  }
  if (rc < 0) return fail(p, rc, start);
  uint32_t i = new_node(p, K_ATOM, start);
  if (i != NONE) p->nodes[i].v.a = a;
  return i;
}

static uint32_t pattern(parser *p, int depth) {
  skip_ws(p);
  size_t start = p->pos;
  if (depth > PARSE_DEPTH) return fail(p, EP_EDEPTH, start);
  int c = peek(p);
  switch (c) {
  case '{': return tuple(p, depth);
  case '[': return list(p, depth);
  case '"': return string(p);
  case '\'': return atom(p);
  case '~': return hole(p);
  case '^': return pin(p);
  case '<': return peek2(p) == '<' ? binary(p) : pid(p);
  case '#':
    if (peek2(p) == '{') return map(p, depth);
    if (at(p, "#Ref<")) return ref(p);
    return fail(p, EP_EPARSE, start);
  case '-': case '+':
    p->pos++;
    skip_ws(p);
    if (!is_digit(peek(p)) && peek(p) != '$') return fail(p, EP_EPARSE, start);
    return number(p, c == '-', start);
  default: break;
  }
  if (is_digit(c) || c == '$') return number(p, false, start);
  int32_t cp = peek_cp(p);
  if (cp == '_' || is_upper(cp)) return variable(p);
  if (is_lower(cp)) return atom(p);
  return fail(p, EP_EPARSE, start);
}

/* --------------------------------------------------------- the compiler -- */

typedef struct emitter {
  parser *p;
  op *ops;
  size_t nops, capops;
  uint8_t *lits;
  size_t nlits, caplits;
  ep_build *b;
  uint32_t bound;      /* variables already bound, in match order */
  int maps;            /* map patterns open around the current op */
} emitter;

static bool push(emitter *e, op o) {
  if (!grow((void **)&e->ops, &e->capops, e->nops + 1, sizeof(op))) return failb(e->p, EP_ENOMEM, 0);
  e->ops[e->nops++] = o;
  return true;
}

static void build(ep_build *b, const parser *p, uint32_t i) {
  const node *n = &p->nodes[i];
  switch (n->kind) {
  case K_INT: ep_b_int(b, n->v.i); break;
  case K_BIG: ep_b_big(b, n->neg, p->scr + n->off, n->n); break;
  case K_FLOAT: ep_b_float(b, n->v.d); break;
  case K_ATOM: ep_b_atom(b, n->v.a); break;
  case K_NIL: ep_b_nil(b); break;
  case K_BIN: ep_b_binary(b, p->scr + n->off, n->n); break;
  case K_PID: ep_b_pid(b, n->v.pid); break;
  case K_REF: {
    ep_ref r = {.node = EP_NODE_LOCAL, .len = n->n};
    memcpy(r.w, p->scr + n->off, sizeof(uint32_t) * n->n);
    ep_b_ref(b, &r);
    break;
  }
  case K_TUPLE:
    ep_b_tuple(b);
    for (uint32_t c = n->first; c != NONE; c = p->nodes[c].next) build(b, p, c);
    ep_b_end(b);
    break;
  case K_CONS:
    ep_b_list(b);
    for (; n->kind == K_CONS; n = &p->nodes[p->nodes[n->first].next]) build(b, p, n->first);
    if (n->kind == K_NIL) {
      ep_b_end(b);
    } else {
      build(b, p, (uint32_t)(n - p->nodes));
      ep_b_end_tail(b);
    }
    break;
  default: break;  /* not literal: never asked */
  }
}

/* Encodes literal node i into the literal pool; returns its offset. */
static bool literal(emitter *e, uint32_t i, uint64_t *off, uint32_t *len) {
  ep_b_reset(e->b);
  build(e->b, e->p, i);
  ep_term t = ep_b_peek(e->b);
  if (!t) return failb(e->p, e->b->err ? e->b->err : EP_EPARSE, e->p->nodes[i].pos);
  size_t n = ep_term_size(t);
  if (n > UINT32_MAX || !grow((void **)&e->lits, &e->caplits, e->nlits + n, 1))
    return failb(e->p, EP_ENOMEM, e->p->nodes[i].pos);
  memcpy(e->lits + e->nlits, t, n);
  *off = e->nlits;
  *len = (uint32_t)n;
  e->nlits += n;
  return true;
}

static bool emit(emitter *e, uint32_t i);

/* A constant that one byte compare decides. */
static bool whole(const node *n) { return n->lit && !n->fz; }

/* Map pairs in the term's key order, so one forward scan finds them all. */
static bool emit_map(emitter *e, const node *m) {
  parser *p = e->p;
  size_t pos = m->pos;
  uint32_t npairs = m->n;
  struct pair { uint64_t off; uint32_t len, value; size_t pos; } *pairs = NULL;
  if (npairs && !(pairs = malloc(sizeof *pairs * npairs))) return failb(p, EP_ENOMEM, pos);
  uint32_t k = m->first;
  bool ok = true;
  for (uint32_t j = 0; j < npairs && ok; j++) {
    pairs[j].value = p->nodes[k].next;
    pairs[j].pos = p->nodes[k].pos;
    ok = literal(e, k, &pairs[j].off, &pairs[j].len);
    k = p->nodes[pairs[j].value].next;
  }
  for (uint32_t j = 1; j < npairs && ok; j++) {
    struct pair x = pairs[j];
    uint32_t at = j;
    for (; at > 0; at--) {
      int c = ep__compare_exact(mkterm(e->lits + pairs[at - 1].off), mkterm(e->lits + x.off));
      if (c == 0) {
        fail(p, EP_EPARSE, x.pos);  /* the same key twice */
        ok = false;
      }
      if (c <= 0) break;
      pairs[at] = pairs[at - 1];
    }
    pairs[at] = x;
  }
  if (ok && ++e->maps > MAP_DEPTH) {
    fail(p, EP_ETOOBIG, pos);
    ok = false;
  }
  ok = ok && push(e, (op){.code = OP_MAP, .a = npairs});
  for (uint32_t j = 0; j < npairs && ok; j++)
    ok = push(e, (op){.code = OP_KEY, .a = pairs[j].len, .x = pairs[j].off}) && emit(e, pairs[j].value);
  ok = ok && push(e, (op){.code = OP_MAPEND});
  e->maps--;
  free(pairs);
  return ok;
}

static bool emit(emitter *e, uint32_t i) {
  parser *p = e->p;
  const node *n = &p->nodes[i];
  if (whole(n)) {
    switch (n->kind) {
    case K_ATOM: return push(e, (op){.code = OP_ATOM, .x = n->v.a});
    case K_INT: return push(e, (op){.code = OP_INT, .x = (uint64_t)n->v.i});
    case K_NIL: return push(e, (op){.code = OP_NIL});
    default: {
      op o = {.code = OP_LIT};
      return literal(e, i, &o.x, &o.a) && push(e, o);
    }
    }
  }
  switch (n->kind) {
  case K_TUPLE: {
    uint32_t c = n->first;
    const node *head = c == NONE ? NULL : &p->nodes[c];
    if (head && head->kind == K_ATOM) {
      if (!push(e, (op){.code = OP_TAGGED, .a = n->n, .x = head->v.a})) return false;
      c = head->next;
    } else if (!push(e, (op){.code = OP_TUPLE, .a = n->n})) {
      return false;
    }
    for (; c != NONE; c = p->nodes[c].next)
      if (!emit(e, c)) return false;
    return true;
  }
  case K_CONS:
    /* Along the tails in a loop: long list patterns must not recurse. */
    for (;;) {
      if (!push(e, (op){.code = OP_CONS}) || !emit(e, n->first)) return false;
      uint32_t tail = p->nodes[n->first].next;
      n = &p->nodes[tail];
      if (n->kind != K_CONS || whole(n)) return emit(e, tail);
    }
  case K_MAP: return emit_map(e, n);
  case K_VAR: {
    uint32_t bit = 1u << n->n, type = p->vars[n->n].type;
    op o = {.code = OP_EQ, .k = (uint16_t)n->n, .type = (uint8_t)type};
    static const uint8_t bind[] = {
      [PT_TERM] = OP_BIND, [PT_INT] = OP_BINT, [PT_FLOAT] = OP_BFLOAT, [PT_NUMBER] = OP_BINDT,
      [PT_ATOM] = OP_BATOM, [PT_PID] = OP_BPID, [PT_REF] = OP_BREF, [PT_BIN] = OP_BBIN};
    if (!(e->bound & bit)) o.code = bind[type];
    e->bound |= bit;
    return push(e, o);
  }
  case K_ANY: return push(e, (op){.code = n->type == PT_TERM ? OP_SKIP : OP_SKIPT, .type = n->type});
  case K_PIN: return push(e, (op){.code = OP_PIN, .k = (uint16_t)n->n});
  case K_FLOAT: return push(e, (op){.code = OP_FZERO});
  default: return failb(p, EP_EPARSE, n->pos);
  }
}

int ep_pattern_compile(ep_pattern **out, const char *text, size_t *err_offset) {
  if (!out || !text) return EP_EINVAL;
  parser p = {.s = text, .len = strlen(text)};
  emitter e = {.p = &p};
  ep_pattern *pat = NULL;
  uint32_t root = pattern(&p, 0);
  if (!p.err) {
    skip_ws(&p);
    if (p.pos != p.len) fail(&p, EP_EPARSE, p.pos);
  }
  if (!p.err && !(e.b = malloc(sizeof *e.b))) fail(&p, EP_ENOMEM, 0);
  if (!p.err) {
    ep_b_init(e.b);
    if (emit(&e, root)) push(&e, (op){.code = OP_END});
    ep_b_free(e.b);
  }
  if (!p.err) {
    size_t sz = sizeof *pat + e.nops * sizeof(op);
    pat = malloc(sz + e.nlits + p.len + 1);
    if (!pat) {
      fail(&p, EP_ENOMEM, 0);
    } else {
      pat->nvars = p.nvars;
      pat->npins = p.npins;
      for (int i = 0; i < p.nvars; i++) pat->vtype[i] = p.vars[i].type;
      memcpy(pat->ops, e.ops, e.nops * sizeof(op));
      uint8_t *lits = (uint8_t *)pat + sz;
      if (e.nlits) memcpy(lits, e.lits, e.nlits);
      memcpy(lits + e.nlits, text, p.len + 1);
      pat->lits = lits;
      pat->text = (const char *)lits + e.nlits;
    }
  }
  free(e.b);
  free(e.ops);
  free(e.lits);
  free(p.nodes);
  free(p.scr);
  if (p.err) {
    if (err_offset) *err_offset = p.err_pos;
    return p.err;
  }
  *out = pat;
  return 0;
}

void ep_pattern_free(ep_pattern *p) { free(p); }
int ep_pattern_nvars(const ep_pattern *p) { return p->nvars; }
int ep_pattern_npins(const ep_pattern *p) { return p->npins; }
const char *ep_pattern_text(const ep_pattern *p) { return p->text; }

static __attribute__((noinline)) const ep_pattern *once_slow(ep_pattern *_Atomic *slot, const char *text) {
  ep_pattern *mine;
  size_t off = 0;
  int rc = ep_pattern_compile(&mine, text, &off);
  if (rc < 0) {
    fprintf(stderr, "eproc: bad pattern \"%s\" at offset %zu: %s\n", text, off, ep_strerror(rc));
    abort();
  }
  ep_pattern *seen = NULL;
  /* Release publishes the compiled block; pairs with the acquire loads in
   * ep_pattern_once and in the failure branch here. */
  if (atomic_compare_exchange_strong_explicit(slot, &seen, mine, memory_order_acq_rel,
                                              memory_order_acquire))
    return mine;
  ep_pattern_free(mine);  /* another thread won the race */
  return seen;
}

const ep_pattern *ep_pattern_once(ep_pattern *_Atomic *slot, const char *text) {
  /* Acquire pairs with the release in once_slow's compare-exchange. */
  ep_pattern *p = atomic_load_explicit(slot, memory_order_acquire);
  return EP_LIKELY(p != NULL) ? p : once_slow(slot, text);
}

/* ----------------------------------------------------------- the matcher -- */

/* Whether t is of type `type`. A variable of type ::int or ::number only
 * matches values its C output can hold, so binding a match never fails. */
static inline bool type_ok(int type, const uint8_t *t) {
  switch (type) {
  case PT_TERM: return true;
  case PT_INT: return t[0] == T_INT;  /* T_BIG never fits int64 */
  case PT_FLOAT: return t[0] == T_FLOAT;
  case PT_NUMBER: {
    /* A big beyond the double range is no number here: float/1 rejects it. */
    double d;
    return t[0] == T_INT || t[0] == T_FLOAT ||
           (t[0] == T_BIG && ep_get_number(mkterm(t), &d) == 0 && isfinite(d));
  }
  case PT_ATOM: return t[0] == T_ATOM;
  case PT_PID: return t[0] == T_PID;
  case PT_REF: return t[0] == T_REF;
  case PT_BIN: return t[0] == T_BIN;
  default: return false;
  }
}

/* =:= of the term at t and the n canonical bytes at q. */
static inline bool same(const uint8_t *t, const uint8_t *q, size_t n) {
  return t[0] == q[0] && ep__tsize(t) == n && memcmp(t, q, n) == 0;
}

/* =:= of two terms: the bytes decide, except that 0.0 =:= -0.0 (OTP 25),
 * so a mismatch of something that can hold a float asks ep_exact_equal. */
static inline bool equal(const uint8_t *t, const uint8_t *q, size_t n) {
  if (same(t, q, n)) return true;
  switch (t[0] == q[0] ? t[0] : 0) {
  case T_FLOAT: case T_TUPLE: case T_LIST: case T_MAP: case T_FUN:
    return ep_exact_equal(mkterm(t), mkterm(q));
  default:
    return false;
  }
}

/* The matcher dispatches with GNU C's labels as values: every op ends in
 * its own indirect jump to the next op, which the CPU predicts far better
 * than one shared switch (measured: half the time for {tag, N, P}). */
#define NEXT(n)                                                                \
  do {                                                                         \
    t += (n);                                                                  \
    goto *jump[(++o)->code];                                                   \
  } while (0)
#define FAIL_IF(c)                                                             \
  do {                                                                         \
    if (c) return false;                                                       \
  } while (0)

bool ep_pattern_match(const ep_pattern *pat, ep_term term, const ep_term *pins, ep_term *vars) {
  static const void *const jump[] = {
    [OP_END] = &&end,       [OP_TUPLE] = &&tuple,   [OP_TAGGED] = &&tagged,
    [OP_CONS] = &&cons,     [OP_NIL] = &&nil,       [OP_ATOM] = &&atom,
    [OP_INT] = &&integer,   [OP_FZERO] = &&fzero,   [OP_LIT] = &&lit,
    [OP_BIND] = &&bind,     [OP_BINDT] = &&bindt,   [OP_BINT] = &&bint,
    [OP_BFLOAT] = &&bfloat, [OP_BATOM] = &&batom,   [OP_BPID] = &&bpid,
    [OP_BREF] = &&bref,     [OP_BBIN] = &&bbin,     [OP_EQ] = &&eq,
    [OP_SKIP] = &&skip,     [OP_SKIPT] = &&skipt,   [OP_PIN] = &&pin,
    [OP_MAP] = &&map,       [OP_KEY] = &&key,       [OP_MAPEND] = &&mapend};
  ep_term scratch_vars[EP_PATTERN_MAX_VARS];
  const uint8_t *map_end[MAP_DEPTH];
  int md = 0;
  ep_term *v = vars ? vars : scratch_vars;
  const uint8_t *t = tp(term);
  const op *o = pat->ops;
  if (EP_UNLIKELY(!t || (pat->npins && !pins))) return false;
  goto *jump[o->code];

end:
  return true;
tuple:
  FAIL_IF(t[0] != T_TUPLE || rd32(t + 1) != o->a);
  NEXT(HDR_TUPLE);
tagged:
  FAIL_IF(t[0] != T_TUPLE || rd32(t + 1) != o->a || t[HDR_TUPLE] != T_ATOM ||
          rd32(t + HDR_TUPLE + 1) != (uint32_t)o->x);
  NEXT(HDR_TUPLE + 5);
cons:
  FAIL_IF(t[0] != T_LIST);
  NEXT(HDR_LIST);
nil:
  FAIL_IF(t[0] != T_NIL);
  NEXT(1);
atom:
  FAIL_IF(t[0] != T_ATOM || rd32(t + 1) != (uint32_t)o->x);
  NEXT(5);
integer:
  FAIL_IF(t[0] != T_INT || rd64(t + 1) != o->x);
  NEXT(9);
fzero:
  FAIL_IF(t[0] != T_FLOAT || rd64(t + 1) << 1 != 0);
  NEXT(9);
lit:
  FAIL_IF(!same(t, pat->lits + o->x, o->a));
  NEXT(o->a);
bindt:
  FAIL_IF(!type_ok(o->type, t));
  /* fall through */
bind:
  v[o->k] = mkterm(t);
  NEXT(ep__tsize(t));
bint:
  FAIL_IF(t[0] != T_INT);
  v[o->k] = mkterm(t);
  NEXT(9);
bfloat:
  FAIL_IF(t[0] != T_FLOAT);
  v[o->k] = mkterm(t);
  NEXT(9);
batom:
  FAIL_IF(t[0] != T_ATOM);
  v[o->k] = mkterm(t);
  NEXT(5);
bpid:
  FAIL_IF(t[0] != T_PID);
  v[o->k] = mkterm(t);
  NEXT(SZ_PID);
bref:
  FAIL_IF(t[0] != T_REF);
  v[o->k] = mkterm(t);
  NEXT(10 + 4 * (size_t)t[9]);
bbin:
  FAIL_IF(t[0] != T_BIN);
  v[o->k] = mkterm(t);
  NEXT(5 + (size_t)rd32(t + 1));
eq: {
  const uint8_t *first = tp(v[o->k]);
  FAIL_IF(!equal(t, first, ep__tsize(first)));
  NEXT(ep__tsize(t));
}
skipt:
  FAIL_IF(!type_ok(o->type, t));
  /* fall through */
skip:
  NEXT(ep__tsize(t));
pin: {
  const uint8_t *q = tp(pins[o->k]);
  FAIL_IF(!q || !equal(t, q, ep__tsize(q)));
  NEXT(ep__tsize(t));
}
map:
  FAIL_IF(t[0] != T_MAP || rd32(t + 1) < o->a);
  map_end[md++] = t + HDR_MAP + rd32(t + 5);
  NEXT(HDR_MAP);
key: {
  /* Keys are sorted in both, so the scan goes on from the last one found. */
  const uint8_t *stop = map_end[md - 1], *k = pat->lits + o->x;
  while (t < stop && !same(t, k, o->a)) t = ep__tskip(ep__tskip(t));
  FAIL_IF(t >= stop);
  NEXT(o->a);
}
mapend:
  t = map_end[--md];
  NEXT(0);
}

#undef NEXT
#undef FAIL_IF

/* ------------------------------------------------------------- binding -- */

/* One output; false if t is not of the type (vars not from a match). The
 * common types are read in place: this runs after every receive. */
static inline bool bind1(int type, const uint8_t *t, void *out, int *rc) {
  switch (type) {
  case PT_TERM: if (out) *(ep_term *)out = mkterm(t); return true;
  case PT_INT:
    if (t[0] != T_INT) return false;
    if (out) *(int64_t *)out = (int64_t)rd64(t + 1);
    return true;
  case PT_FLOAT:
    if (t[0] != T_FLOAT) return false;
    if (out) memcpy(out, t + 1, sizeof(double));
    return true;
  case PT_ATOM:
    if (t[0] != T_ATOM) return false;
    if (out) *(ep_atom *)out = rd32(t + 1);
    return true;
  case PT_PID:
    if (t[0] != T_PID) return false;
    if (out) *(ep_pid *)out = (ep_pid){.node = rd32(t + 1), .creation = rd32(t + 5),
                                       .id = rd32(t + 9), .serial = rd32(t + 13)};
    return true;
  case PT_BIN:
    if (t[0] != T_BIN) return false;
    if (out) *(ep_bin *)out = (ep_bin){.data = t + 5, .size = rd32(t + 1)};
    return true;
  case PT_REF:
    return t[0] == T_REF && (!out || ep_get_ref(mkterm(t), out) == 0);
  case PT_NUMBER:
    if (!type_ok(PT_NUMBER, t)) return false;
    if (out && ep_get_number(mkterm(t), out) < 0) *rc = EP_ERANGE;
    return true;
  default:
    return false;
  }
}

int ep_pattern_vbind(const ep_pattern *p, const ep_term *vars, va_list ap) {
  if (!p || (!vars && p->nvars)) return EP_EINVAL;
  int rc = 0;
  for (int k = 0; k < p->nvars; k++) {
    void *out = va_arg(ap, void *);  /* NULL: the caller does not want this one */
    const uint8_t *t = tp(vars[k]);
    if (!t || !bind1(p->vtype[k], t, out, &rc)) rc = EP_EBADTERM;
  }
  return rc;
}

int ep__pattern_bind_array(const ep_pattern *p, const ep_term *vars, void *const *out, int n) {
  if (!p || (!vars && p->nvars)) return EP_EINVAL;
  int rc = 0;
  for (int k = 0; k < p->nvars; k++) {
    const uint8_t *t = tp(vars[k]);
    if (!t || !bind1(p->vtype[k], t, k < n ? out[k] : NULL, &rc)) rc = EP_EBADTERM;
  }
  return rc;
}

int ep_pattern_bind(const ep_pattern *p, const ep_term *vars, ...) {
  va_list ap;
  va_start(ap, vars);
  int rc = ep_pattern_vbind(p, vars, ap);
  va_end(ap);
  return rc;
}

bool ep_match(const ep_pattern *p, ep_term t, ...) {
  ep_term pins[EP_PATTERN_MAX_PINS], vars[EP_PATTERN_MAX_VARS];
  va_list ap;
  va_start(ap, t);
  for (int i = 0; i < p->npins; i++) pins[i] = va_arg(ap, ep_term);
  bool ok = ep_pattern_match(p, t, pins, vars) && ep_pattern_vbind(p, vars, ap) == 0;
  va_end(ap);
  return ok;
}
