/* SPDX-License-Identifier: Apache-2.0 */
/*
 * print.c - terms as text: Erlang syntax as io:format("~tp") writes it on
 * one line, or Elixir syntax as inspect/1 (1.14) writes it. Owns nothing
 * beyond one call: an explicit stack of open containers (inline, on the heap
 * only for deep terms) so neither nesting nor list length recurses in C.
 * Parsing is parse.c's job; the encoding itself is term_int.h's.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "text_int.h"

/* Decisions (the Erlang side follows erl 25 with its default +pc latin1):
 *   - output is UTF-8; atoms and strings print characters >= 160 as they
 *     are, like ~tp; lists print as "..." when every element is a printable
 *     Latin-1 character; binaries print as <<"...">> when every byte is,
 *     or as <<"..."/utf8>> when they are UTF-8 text of such characters;
 *   - a pid, port or reference of another node prints its node-name atom's
 *     index as the first number (<5.57.0>); the local node prints 0;
 *   - a local function term prints as #Fun<c.0xADDRESS> (Elixir:
 *     #Function<c.0xADDRESS>); its argument is not shown;
 *   - Elixir output has no :limit or :printable_limit (everything is shown),
 *     and atoms with characters beyond Latin-1 are always quoted;
 *   - if memory for a deep stack or a huge integer runs out, "..." stands in
 *     for it and ep_print_alloc returns NULL. */

typedef struct frame {
  const uint8_t *next;  /* next element, list tail or map key/value */
  const uint8_t *end;   /* end of a tuple's or map's contents */
  int kind;
} frame;

enum { F_TUPLE, F_LIST, F_KWLIST, F_TAIL, F_MAP_K, F_MAP_V, F_KWMAP };

#define INLINE_FRAMES 32

typedef struct printer {
  char *buf;
  size_t cap, len;      /* len counts every byte, written or not */
  bool ex;              /* Elixir syntax */
  bool oom;             /* a deep stack or a big integer could not be allocated */
  frame *st;
  size_t sp, stcap;
  frame inl[INLINE_FRAMES];
} printer;

/* ----------------------------------------------------------- output -- */

static void put(printer *w, const char *s, size_t n) {
  if (w->len < w->cap) {
    size_t room = w->cap - w->len;
    memcpy(w->buf + w->len, s, n < room ? n : room);
  }
  w->len += n;
}

static void putc1(printer *w, char c) {
  if (w->len < w->cap) w->buf[w->len] = c;
  w->len++;
}

#define PUTS(w, lit) put((w), (lit), sizeof(lit) - 1)

static void put_cp(printer *w, uint32_t cp) {
  uint8_t u[4];
  put(w, (const char *)u, (size_t)ep__utf8_enc(cp, u));
}

static void put_u64(printer *w, uint64_t v) {
  char tmp[20];
  size_t i = sizeof tmp;
  do {
    tmp[--i] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  put(w, tmp + i, sizeof tmp - i);
}

static void put_i64(printer *w, int64_t v) {
  if (v < 0) {
    putc1(w, '-');
    put_u64(w, (uint64_t)0 - (uint64_t)v);
  } else {
    put_u64(w, (uint64_t)v);
  }
}

/* ---------------------------------------------------------- numbers -- */

/* Decimal digits of a big magnitude (little-endian bytes): divide by 10^9
 * repeatedly, keeping the 9-digit chunks, then print them in reverse. */
static void put_big(printer *w, bool neg, const uint8_t *mag, size_t n) {
  size_t nl = (n + 3) / 4, nc = n * 27 / 100 + 2;
  uint32_t small[16 + 24], *limb = small, *chunk;
  if (nl + nc > sizeof small / sizeof small[0]) {
    limb = malloc((nl + nc) * sizeof *limb);
    if (!limb) {
      w->oom = true;
      PUTS(w, "...");
      return;
    }
  }
  chunk = limb + nl;
  memset(limb, 0, nl * sizeof *limb);
  for (size_t i = 0; i < n; i++) limb[i / 4] |= (uint32_t)mag[i] << (8 * (i % 4));
  size_t top = nl, k = 0;
  while (top > 0 && limb[top - 1] == 0) top--;
  while (top > 0) {
    uint64_t rem = 0;
    for (size_t i = top; i-- > 0;) {
      uint64_t cur = (rem << 32) | limb[i];
      limb[i] = (uint32_t)(cur / 1000000000u);
      rem = cur % 1000000000u;
    }
    chunk[k++] = (uint32_t)rem;
    while (top > 0 && limb[top - 1] == 0) top--;
  }
  if (k == 0) chunk[k++] = 0;   /* a zero magnitude is not a valid big; print it safely */
  if (neg) putc1(w, '-');
  put_u64(w, chunk[k - 1]);
  for (size_t i = k - 1; i-- > 0;) {
    char d[9];
    uint32_t c = chunk[i];
    for (int j = 8; j >= 0; j--, c /= 10) d[j] = (char)('0' + c % 10);
    put(w, d, 9);
  }
  if (limb != small) free(limb);
}

/* Does digits[0..n) x 10^place read back as exactly x? The text has no
 * decimal point, so strtod's reading does not depend on the locale. */
static bool reads_back(const char *dig, int n, int place, double x) {
  char t[48];
  memcpy(t, dig, (size_t)n);
  snprintf(t + n, sizeof t - (size_t)n, "e%d", place);
  return strtod(t, NULL) == x;
}

/* The shortest digits that read back as x (> 0, finite), the closest to x
 * among those of that length, as Erlang's Ryu-based float_to_list(X,
 * [short]) picks them. Returns the digit count; x = digits x 10^place. */
static int shortest_digits(double x, char *dig, int *place) {
  for (int p = 1; p <= 17; p++) {
    char t[40];
    int n = 0, e;
    snprintf(t, sizeof t, "%.*e", p - 1, x);   /* correctly rounded */
    const char *c = t;
    for (; *c != 'e'; c++)
      if (*c >= '0' && *c <= '9') dig[n++] = *c;
    e = atoi(c + 1) - (p - 1);
    if (reads_back(dig, n, e, x)) {
      *place = e;
      goto trim;
    }
    /* Just above a power of two the interval below x is half as wide, so
     * the next candidate up may read back when the closest one does not. */
    int i = n - 1;
    while (i >= 0 && dig[i] == '9') dig[i--] = '0';
    if (i < 0) continue;
    dig[i]++;
    if (reads_back(dig, n, e, x)) {
      *place = e;
      goto trim;
    }
    continue;
  trim:
    while (n > 1 && dig[n - 1] == '0') {
      n--;
      (*place)++;
    }
    return n;
  }
  /* 17 significant digits always read back; not reached for finite x. */
  return 0;
}

/* io_lib_format:fwrite_g/1 (erl 25): the shorter of positional and
 * scientific notation, positional on a tie; scientific for |x| >= 2^53. */
static void put_float(printer *w, double x) {
  if (x == 0) {
    if (signbit(x)) putc1(w, '-');
    PUTS(w, "0.0");
    return;
  }
  if (x < 0) {
    putc1(w, '-');
    x = -x;
  }
  char dig[24], expstr[8];
  int place = 0;
  int n = shortest_digits(x, dig, &place);
  int exp = place + n - 1;
  int explen = snprintf(expstr, sizeof expstr, "%d", exp);
  int sci_len = n + 2 + (n == 1) + explen;   /* d.ddde-x / d.0ex */
  int pos_len;
  if (place >= 0) pos_len = x < 9007199254740992.0 ? n + place + 2 : sci_len + 1;
  else if (exp >= 0) pos_len = n + 1;
  else pos_len = 2 - place;                  /* 0.000ddd */
  if (pos_len <= sci_len) {
    if (place >= 0) {
      put(w, dig, (size_t)n);
      for (int i = 0; i < place; i++) putc1(w, '0');
      PUTS(w, ".0");
    } else if (exp >= 0) {
      put(w, dig, (size_t)(n + place));
      putc1(w, '.');
      put(w, dig + n + place, (size_t)-place);
    } else {
      PUTS(w, "0.");
      for (int i = 0; i < -place - n; i++) putc1(w, '0');
      put(w, dig, (size_t)n);
    }
  } else {
    putc1(w, dig[0]);
    putc1(w, '.');
    if (n == 1) putc1(w, '0');
    else put(w, dig + 1, (size_t)n - 1);
    putc1(w, 'e');
    put(w, expstr, (size_t)explen);
  }
}

/* ------------------------------------------------------ Erlang text -- */

static void put_octal(printer *w, uint32_t c) {
  char t[4] = {'\\', (char)('0' + (c >> 6)), (char)('0' + ((c >> 3) & 7)), (char)('0' + (c & 7))};
  put(w, t, 4);
}

/* io_lib's string_char/4 in unicode mode, for quote character q. */
static void put_erl_char(printer *w, uint32_t c, char q) {
  static const char esc[14] = {0, 0, 0, 0, 0, 0, 0, 0, 'b', 't', 'n', 'v', 'f', 'r'};
  if (c == '\\' || c == (uint32_t)q) {
    char t[2] = {'\\', (char)c};
    put(w, t, 2);
  } else if (c >= 32 && c <= 126) {
    putc1(w, (char)c);
  } else if (c >= 160) {
    put_cp(w, c);
  } else if (c >= 8 && c <= 13) {
    char t[2] = {'\\', esc[c]};
    put(w, t, 2);
  } else if (c == 27) {
    PUTS(w, "\\e");
  } else if (c == 127) {
    PUTS(w, "\\d");
  } else {
    put_octal(w, c);
  }
}

/* io_lib:quote_atom/2: unquoted only for a lower-case Latin-1 letter
 * followed by Latin-1 letters, digits, _ and @, and not a reserved word. */
static bool erl_atom_needs_quotes(const uint8_t *s, size_t n) {
  const uint8_t *e = s + n;
  bool first = true;
  if (n == 0) return true;
  while (s < e) {
    uint32_t c;
    int k = ep__utf8_dec(s, e, &c);
    if (k == 0) return true;
    s += k;
    bool lower = (c >= 'a' && c <= 'z') || (c >= 0xDF && c <= 0xFF && c != 0xF7);
    if (first) {
      if (!lower) return true;
      first = false;
      continue;
    }
    bool name = lower || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                c == '@' || (c >= 0xC0 && c <= 0xDE && c != 0xD7);
    if (!name) return true;
  }
  return ep__erl_reserved((const char *)e - n, n);
}

/* Prints the characters of UTF-8 text (atom names, /utf8 binaries), with
 * quote q escaped; escape(c) writes each code point in the output syntax. */
static void put_utf8_text(printer *w, const uint8_t *s, size_t n, char q,
                          void (*escape)(printer *, uint32_t, char)) {
  const uint8_t *e = s + n;
  while (s < e) {
    uint32_t c;
    int k = ep__utf8_dec(s, e, &c);
    if (k == 0) {   /* atom names are valid UTF-8; bytes print as Latin-1 otherwise */
      c = *s;
      k = 1;
    }
    escape(w, c, q);
    s += k;
  }
}

static const uint8_t *atom_text(ep_atom a, size_t *n) {
  return (const uint8_t *)ep_atom_name(a, n);
}

static void put_erl_atom(printer *w, ep_atom a) {
  size_t n;
  const uint8_t *s = atom_text(a, &n);
  if (!erl_atom_needs_quotes(s, n)) {
    put(w, (const char *)s, n);
    return;
  }
  putc1(w, '\'');
  put_utf8_text(w, s, n, '\'', put_erl_char);
  putc1(w, '\'');
}

/* Binary as io_lib_pretty prints it with ~tp. */
static void put_erl_binary(printer *w, const uint8_t *d, size_t n) {
  bool utf8 = true, printable = n > 0, wide = false;
  for (const uint8_t *s = d, *e = d + n; s < e && utf8;) {
    uint32_t c;
    int k = ep__utf8_dec(s, e, &c);
    utf8 = k > 0;
    printable &= utf8 && ep__latin1_printable(c);
    wide |= k > 1;
    s += k;
  }
  if (!utf8) {   /* not UTF-8: Latin-1 bytes, then */
    printable = true;
    for (size_t i = 0; i < n && printable; i++) printable = ep__latin1_printable(d[i]);
  }
  PUTS(w, "<<");
  if (printable && utf8 && wide) {
    putc1(w, '"');
    put_utf8_text(w, d, n, '"', put_erl_char);
    PUTS(w, "\"/utf8");
  } else if (printable) {
    putc1(w, '"');
    for (size_t i = 0; i < n; i++) put_erl_char(w, d[i], '"');
    putc1(w, '"');
  } else {
    for (size_t i = 0; i < n; i++) {
      if (i) putc1(w, ',');
      put_u64(w, d[i]);
    }
  }
  PUTS(w, ">>");
}

/* --------------------------------------------------------- Elixir text -- */

/* Code.Identifier.escape/2: printable characters as they are. */
static void put_ex_char(printer *w, uint32_t c, char q) {
  static const char esc[14] = {0, 0, 0, 0, 0, 0, 0, 'a', 'b', 't', 'n', 'v', 'f', 'r'};
  static const char hex[] = "0123456789ABCDEF";
  if (c == (uint32_t)q || c == '\\') {
    char t[2] = {'\\', (char)c};
    put(w, t, 2);
  } else if (c >= 7 && c <= 13) {
    char t[2] = {'\\', esc[c]};
    put(w, t, 2);
  } else if (c == 27) {
    PUTS(w, "\\e");
  } else if (c == 127) {
    PUTS(w, "\\d");
  } else if (c == 0) {
    PUTS(w, "\\0");
  } else if (c == 0xFEFF) {
    PUTS(w, "\\uFEFF");
  } else if ((c >= 0x20 && c <= 0x7E) || (c >= 0xA0 && c <= 0xD7FF) ||
             (c >= 0xE000 && c <= 0xFFFD) || c >= 0x10000) {
    put_cp(w, c);
  } else if (c < 0x100) {
    char t[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
    put(w, t, 4);
  } else {
    char t[8] = {'\\', 'x', '{', hex[c >> 12], hex[(c >> 8) & 15], hex[(c >> 4) & 15], hex[c & 15], '}'};
    put(w, t, 8);
  }
}

/* The escaped text of an Elixir string: `#{` also needs a backslash. */
static void put_ex_text(printer *w, const uint8_t *s, size_t n, char q) {
  const uint8_t *e = s + n;
  while (s < e) {
    uint32_t c;
    int k = ep__utf8_dec(s, e, &c);
    if (k == 0) {
      c = *s;
      k = 1;
    }
    if (c == '#' && s + 1 < e && s[1] == '{') putc1(w, '\\');
    put_ex_char(w, c, q);
    s += k;
  }
}

/* String.printable?/1 (1.14). */
static bool ex_printable(uint32_t c) {
  return (c >= 0x20 && c <= 0x7E) || (c >= 7 && c <= 13) || c == 27 || c == 127 ||
         (c >= 0xA0 && c <= 0xD7FF) || (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF);
}

static bool ex_ascii_printable(int64_t c) {
  return (c >= 32 && c <= 126) || (c >= 7 && c <= 13) || c == 27 || c == 127;
}

static bool ex_alnum(uint8_t c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* Bytes of the identifier character at s[i] (ASCII letters, digits and _,
 * Latin-1 letters), or 0; digits only if `digits`. */
static size_t ex_ident_char(const uint8_t *s, size_t i, size_t n, bool digits) {
  if (i >= n) return 0;
  if (ex_alnum(s[i])) return digits || s[i] > '9' ? 1 : 0;
  if (i + 1 < n && s[i] == 0xC3 && s[i + 1] >= 0x80 && s[i + 1] <= 0xBF && s[i + 1] != 0x97 && s[i + 1] != 0xB7)
    return 2;
  return 0;
}

static bool name_is(const uint8_t *s, size_t n, const char *lit) {
  return strlen(lit) == n && memcmp(s, lit, n) == 0;
}

enum { EXA_IDENT, EXA_ALIAS, EXA_QUOTED, EXA_QUOTED_OP };

/* Atom.classify as inspect uses it (1.14); identifiers are taken to be
 * made of ASCII and Latin-1 letters (Elixir accepts all Unicode ones). */
static int ex_atom_class(const uint8_t *s, size_t n) {
  static const char *const ops[] = {
      "%", "%{}", "{}", "<<>>", "...", "..", ".", "..//", "->", "&", "!", "^", "not", "+", "-",
      "~~~", "@", "<-", "\\\\", "when", "|", "=", "||", "|||", "or", "&&", "&&&", "and", "==",
      "!=", "=~", "===", "!==", "<", "<=", ">=", ">", "|>", "<<<", ">>>", "<~", "~>", "<<~",
      "~>>", "<~>", "<|>", "in", "^^^", "++", "--", "<>", "+++", "---", "*", "/", "**"};
  if (name_is(s, n, "::")) return EXA_QUOTED_OP;
  for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
    if (name_is(s, n, ops[i])) return EXA_IDENT;
  if (n >= 6 && memcmp(s, "Elixir", 6) == 0) {
    size_t i = 6;
    while (i < n && s[i] == '.' && i + 1 < n && s[i + 1] >= 'A' && s[i + 1] <= 'Z') {
      i += 2;
      while (i < n && ex_alnum(s[i])) i++;
    }
    if (i == n) return EXA_ALIAS;
  }
  size_t i = ex_ident_char(s, 0, n, false);
  if (i == 0) return EXA_QUOTED;
  for (;;) {
    for (size_t k; (k = ex_ident_char(s, i, n, true)) > 0;) i += k;
    if (i < n && s[i] == '@') {
      i++;
      continue;
    }
    break;
  }
  if (i < n && (s[i] == '?' || s[i] == '!')) i++;
  return i == n ? EXA_IDENT : EXA_QUOTED;
}

static void put_ex_quoted(printer *w, const uint8_t *s, size_t n) {
  putc1(w, '"');
  put_ex_text(w, s, n, '"');
  putc1(w, '"');
}

static void put_ex_atom(printer *w, ep_atom a) {
  size_t n;
  const uint8_t *s = atom_text(a, &n);
  if (a == EP_A_nil || a == EP_A_true || a == EP_A_false) {
    put(w, (const char *)s, n);
    return;
  }
  switch (ex_atom_class(s, n)) {
  case EXA_ALIAS:
    if (n == 6 || (n >= 13 && memcmp(s, "Elixir.Elixir", 13) == 0)) put(w, (const char *)s, n);
    else put(w, (const char *)s + 7, n - 7);
    return;
  case EXA_IDENT:
    putc1(w, ':');
    put(w, (const char *)s, n);
    return;
  default:
    putc1(w, ':');
    put_ex_quoted(w, s, n);
  }
}

/* A keyword key: `key: ` (Macro.inspect_atom(:key, ...)). */
static void put_ex_key(printer *w, const uint8_t *atom_term) {
  size_t n;
  const uint8_t *s = atom_text(rd32(atom_term + 1), &n);
  int cls = ex_atom_class(s, n);
  if (cls == EXA_IDENT) put(w, (const char *)s, n);
  else put_ex_quoted(w, s, n);
  PUTS(w, ": ");
}

static void put_ex_binary(printer *w, const uint8_t *d, size_t n) {
  bool text = true;
  for (const uint8_t *s = d, *e = d + n; s < e && text;) {
    uint32_t c;
    int k = ep__utf8_dec(s, e, &c);
    text = k > 0 && ex_printable(c);
    s += k ? k : 1;
  }
  if (text) {
    put_ex_quoted(w, d, n);
    return;
  }
  PUTS(w, "<<");
  for (size_t i = 0; i < n; i++) {
    if (i) PUTS(w, ", ");
    put_u64(w, d[i]);
  }
  PUTS(w, ">>");
}

/* ------------------------------------------------------------- terms -- */

static void put_bits(printer *w, const uint8_t *p) {
  size_t n = rd32(p + 1);
  unsigned last = p[5];
  const uint8_t *d = p + 6;
  PUTS(w, "<<");
  for (size_t i = 0; i + 1 < n; i++) {
    put_u64(w, d[i]);
    if (w->ex) PUTS(w, ", ");
    else putc1(w, ',');
  }
  put_u64(w, (unsigned)d[n - 1] >> (8 - last));
  if (w->ex) PUTS(w, "::size(");
  else putc1(w, ':');
  put_u64(w, last);
  if (w->ex) putc1(w, ')');
  PUTS(w, ">>");
}

/* Node number of a pid, port or reference: 0 here, else the node atom. */
static void put_node(printer *w, uint32_t node) {
  put_u64(w, node == EP_NODE_LOCAL ? 0 : node);
}

static void put_pid(printer *w, const uint8_t *p) {
  if (w->ex) PUTS(w, "#PID");
  putc1(w, '<');
  put_node(w, rd32(p + 1));
  putc1(w, '.');
  put_u64(w, rd32(p + 9));
  putc1(w, '.');
  put_u64(w, rd32(p + 13));
  putc1(w, '>');
}

/* Erlang prints reference words most significant first: #Ref<0.w2.w1.w0>. */
static void put_ref(printer *w, const uint8_t *p) {
  if (w->ex) PUTS(w, "#Reference<");
  else PUTS(w, "#Ref<");
  put_node(w, rd32(p + 1));
  for (unsigned i = p[9]; i-- > 0;) {
    putc1(w, '.');
    put_u64(w, rd32(p + 10 + 4 * i));
  }
  putc1(w, '>');
}

static void put_port(printer *w, const uint8_t *p) {
  PUTS(w, "#Port<");
  put_node(w, rd32(p + 1));
  putc1(w, '.');
  put_u64(w, rd64(p + 9));
  putc1(w, '>');
}

static void put_fun(printer *w, const uint8_t *p) {
  char t[32];
  if (w->ex) PUTS(w, "#Function<c.");
  else PUTS(w, "#Fun<c.");
  int n = snprintf(t, sizeof t, "0x%" PRIx64 ">", rd64(p + 1));
  put(w, t, (size_t)n);
}

static const uint8_t *cell_head(const uint8_t *cell) { return cell + HDR_LIST; }
static const uint8_t *cell_tail(const uint8_t *cell) { return ep__tskip(cell + HDR_LIST); }

/* A list shown as a string: "abc" in Erlang, 'abc' in Elixir. */
static bool list_is_text(const printer *w, const uint8_t *p) {
  for (; p[0] == T_LIST; p = cell_tail(p)) {
    const uint8_t *h = cell_head(p);
    if (h[0] != T_INT) return false;
    int64_t c = (int64_t)rd64(h + 1);
    if (w->ex ? !ex_ascii_printable(c) : !ep__latin1_printable((uint64_t)c)) return false;
  }
  return p[0] == T_NIL;
}

static void put_list_text(printer *w, const uint8_t *p) {
  char q = w->ex ? '\'' : '"';
  putc1(w, q);
  for (; p[0] == T_LIST; p = cell_tail(p)) {
    const uint8_t *h = cell_head(p);
    uint32_t c = (uint32_t)rd64(h + 1);
    if (w->ex) {
      const uint8_t *t = cell_tail(p);
      if (c == '#' && t[0] == T_LIST && rd64(cell_head(t) + 1) == '{') putc1(w, '\\');
      put_ex_char(w, c, q);
    } else {
      put_erl_char(w, c, q);
    }
  }
  putc1(w, q);
}

static bool ex_kw_key(const uint8_t *k) {
  if (k[0] != T_ATOM) return false;
  size_t n;
  const uint8_t *s = atom_text(rd32(k + 1), &n);
  return !(n >= 7 && memcmp(s, "Elixir.", 7) == 0);
}

/* Inspect.List.keyword?/1: a proper list of {atom, value} pairs. */
static bool list_is_keyword(const uint8_t *p) {
  for (; p[0] == T_LIST; p = cell_tail(p)) {
    const uint8_t *h = cell_head(p);
    if (h[0] != T_TUPLE || rd32(h + 1) != 2 || !ex_kw_key(h + HDR_TUPLE)) return false;
  }
  return p[0] == T_NIL;
}

static bool map_is_keyword(const uint8_t *p) {
  const uint8_t *k = p + HDR_MAP, *end = k + rd32(p + 5);
  for (; k < end; k = ep__tskip(ep__tskip(k)))
    if (!ex_kw_key(k)) return false;
  return true;
}

static bool push(printer *w, int kind, const uint8_t *next, const uint8_t *end) {
  if (w->sp == w->stcap) {
    size_t cap = w->stcap * 2;
    frame *st = w->st == w->inl ? malloc(cap * sizeof *st) : realloc(w->st, cap * sizeof *st);
    if (!st) {
      w->oom = true;
      PUTS(w, "...");
      return false;
    }
    if (w->st == w->inl) memcpy(st, w->inl, sizeof w->inl);
    w->st = st;
    w->stcap = cap;
  }
  w->st[w->sp++] = (frame){next, end, kind};
  return true;
}

static void sep(printer *w) {
  if (w->ex) PUTS(w, ", ");
  else putc1(w, ',');
}

/* Prints the term at p if it is a leaf and returns NULL; for a non-empty
 * container, prints its opening, pushes a frame and returns its first
 * element to print. */
static const uint8_t *open_term(printer *w, const uint8_t *p) {
  switch (p[0]) {
  case T_INT: put_i64(w, (int64_t)rd64(p + 1)); return NULL;
  case T_BIG: put_big(w, p[1] != 0, p + 6, rd32(p + 2)); return NULL;
  case T_FLOAT: {
    double d;
    memcpy(&d, p + 1, 8);
    put_float(w, d);
    return NULL;
  }
  case T_ATOM:
    if (w->ex) put_ex_atom(w, rd32(p + 1));
    else put_erl_atom(w, rd32(p + 1));
    return NULL;
  case T_NIL: PUTS(w, "[]"); return NULL;
  case T_BIN:
    if (w->ex) put_ex_binary(w, p + 5, rd32(p + 1));
    else put_erl_binary(w, p + 5, rd32(p + 1));
    return NULL;
  case T_BITS: put_bits(w, p); return NULL;
  case T_PID: put_pid(w, p); return NULL;
  case T_REF: put_ref(w, p); return NULL;
  case T_PORT: put_port(w, p); return NULL;
  case T_FUN: put_fun(w, p); return NULL;
  case T_TUPLE: {
    const uint8_t *first = p + HDR_TUPLE, *end = first + rd32(p + 5);
    if (first == end) {
      PUTS(w, "{}");
      return NULL;
    }
    if (!push(w, F_TUPLE, ep__tskip(first), end)) return NULL;
    putc1(w, '{');
    return first;
  }
  case T_MAP: {
    const uint8_t *first = p + HDR_MAP, *end = first + rd32(p + 5);
    bool kw = w->ex && map_is_keyword(p);
    putc1(w, w->ex ? '%' : '#');
    if (first == end) {
      PUTS(w, "{}");
      return NULL;
    }
    if (!push(w, kw ? F_KWMAP : F_MAP_K, ep__tskip(first), end)) return NULL;
    putc1(w, '{');
    if (!kw) return first;
    put_ex_key(w, first);
    w->st[w->sp - 1].next = ep__tskip(ep__tskip(first));
    return ep__tskip(first);
  }
  case T_LIST: {
    if (list_is_text(w, p)) {
      put_list_text(w, p);
      return NULL;
    }
    bool kw = w->ex && list_is_keyword(p);
    if (!push(w, kw ? F_KWLIST : F_LIST, cell_tail(p), NULL)) return NULL;
    putc1(w, '[');
    if (!kw) return cell_head(p);
    put_ex_key(w, cell_head(p) + HDR_TUPLE);
    return ep__tskip(cell_head(p) + HDR_TUPLE);
  }
  default:
    PUTS(w, "#BadTerm<>");   /* not reached for terms the builder made */
    return NULL;
  }
}

/* Continues the innermost open container after one of its elements has
 * been printed: returns the next element to print, or NULL once the
 * container is closed (and popped). */
static const uint8_t *resume(printer *w) {
  frame *f = &w->st[w->sp - 1];
  const uint8_t *p = f->next;
  switch (f->kind) {
  case F_TUPLE:
    if (p < f->end) {
      sep(w);
      f->next = ep__tskip(p);
      return p;
    }
    putc1(w, '}');
    break;
  case F_LIST:
  case F_KWLIST:
    if (p[0] == T_LIST) {
      sep(w);
      f->next = cell_tail(p);
      if (f->kind == F_LIST) return cell_head(p);
      put_ex_key(w, cell_head(p) + HDR_TUPLE);
      return ep__tskip(cell_head(p) + HDR_TUPLE);
    }
    if (p[0] != T_NIL) {
      if (w->ex) PUTS(w, " | ");
      else putc1(w, '|');
      f->kind = F_TAIL;
      return p;
    }
    putc1(w, ']');
    break;
  case F_TAIL:
    putc1(w, ']');
    break;
  case F_MAP_K:   /* a key was printed; its value follows */
    PUTS(w, " => ");
    f->next = ep__tskip(p);
    f->kind = F_MAP_V;
    return p;
  case F_MAP_V:
    if (p < f->end) {
      sep(w);
      f->next = ep__tskip(p);
      f->kind = F_MAP_K;
      return p;
    }
    putc1(w, '}');
    break;
  case F_KWMAP:
    if (p < f->end) {
      sep(w);
      put_ex_key(w, p);
      f->next = ep__tskip(ep__tskip(p));
      return ep__tskip(p);
    }
    putc1(w, '}');
    break;
  }
  w->sp--;
  return NULL;
}

static void print_term(printer *w, const uint8_t *p) {
  for (;;) {
    p = open_term(w, p);
    while (!p) {
      if (w->sp == 0) return;
      p = resume(w);
    }
  }
}

static void print_run(printer *w, char *buf, size_t cap, ep_term t, int flags) {
  w->buf = buf;
  w->cap = cap;
  w->len = 0;
  w->ex = (flags & EP_PRINT_ELIXIR) != 0;
  w->oom = false;
  w->st = w->inl;
  w->sp = 0;
  w->stcap = INLINE_FRAMES;
  print_term(w, tp(t));
  if (w->st != w->inl) free(w->st);
  if (cap > 0) buf[w->len < cap ? w->len : cap - 1] = '\0';
}

size_t ep_print(char *buf, size_t cap, ep_term t, int flags) {
  printer w;
  print_run(&w, buf, cap, t, flags);
  return w.len;
}

char *ep_print_alloc(ep_term t, int flags) {
  printer w;
  char first[256];
  print_run(&w, first, sizeof first, t, flags);
  if (w.oom) return NULL;
  char *s = malloc(w.len + 1);
  if (!s) return NULL;
  if (w.len < sizeof first) {
    memcpy(s, first, w.len + 1);
    return s;
  }
  print_run(&w, s, w.len + 1, t, flags);
  if (w.oom) {
    free(s);
    return NULL;
  }
  return s;
}
