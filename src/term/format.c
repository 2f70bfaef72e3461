/* SPDX-License-Identifier: Apache-2.0 */
/*
 * format.c - the format builder: Erlang term text with holes (`~i`, `~p`,
 * ...) filled from C arguments, in the spirit of ei_x_format. The grammar is
 * parse.c's (a hole may stand wherever a term may); this file only maps hole
 * letters to builder calls. Owns nothing beyond a call: the builder of
 * ep_vformat lives on the caller's stack, so the hot path is the parse plus
 * the one allocation of the finished term.
 */
#include <stdlib.h>

#include "text_int.h"

typedef struct fmt_args {
  va_list ap;
} fmt_args;

static int fill_hole(ep_build *b, char letter, void *ctx) {
  va_list *ap = &((fmt_args *)ctx)->ap;
  switch (letter) {
  case 'i': ep_b_int(b, va_arg(*ap, int)); break;
  case 'l': ep_b_int(b, va_arg(*ap, long)); break;
  case 'u': ep_b_uint(b, va_arg(*ap, unsigned long)); break;
  case 'L': ep_b_int(b, va_arg(*ap, long long)); break;
  case 'd': ep_b_float(b, va_arg(*ap, double)); break;
  case 'a': {
    const char *name = va_arg(*ap, const char *);
    ep_atom a;
    if (!name) return EP_EFORMAT;
    int r = ep_atom_from(name, strlen(name), &a);
    if (r < 0) return r;
    ep_b_atom(b, a);
    break;
  }
  case 'A': {
    ep_atom a = va_arg(*ap, ep_atom);
    if (!ep__atom_valid(a)) return EP_EFORMAT;
    ep_b_atom(b, a);
    break;
  }
  case 's': {
    const char *s = va_arg(*ap, const char *);
    if (!s) return EP_EFORMAT;
    ep_b_string(b, s);
    break;
  }
  case 'b': {
    const char *s = va_arg(*ap, const char *);
    if (!s) return EP_EFORMAT;
    ep_b_binary(b, s, strlen(s));
    break;
  }
  case 'B': {
    const void *p = va_arg(*ap, const void *);
    size_t n = va_arg(*ap, size_t);
    if (!p && n) return EP_EFORMAT;
    ep_b_binary(b, p, n);
    break;
  }
  case 'p': ep_b_pid(b, va_arg(*ap, ep_pid)); break;
  case 'r': {
    const ep_ref *r = va_arg(*ap, const ep_ref *);
    if (!r) return EP_EFORMAT;
    ep_b_ref(b, r);
    break;
  }
  case 't': {
    ep_term t = va_arg(*ap, ep_term);
    if (!t) return EP_EFORMAT;
    ep_b_term(b, t);
    break;
  }
  case 'F': {
    ep_fn fn = va_arg(*ap, ep_fn);
    ep_term arg = va_arg(*ap, ep_term);
    if (!fn || !arg) return EP_EFORMAT;
    ep_b_fun(b, fn);
    ep_b_term(b, arg);
    break;
  }
  default:
    return EP_EFORMAT;
  }
  return b->err;
}

int ep_b_vformat(ep_build *b, const char *fmt, va_list ap) {
  if (!b) return EP_EINVAL;
  if (!fmt) {
    if (b->err == 0) b->err = EP_EFORMAT;
    return b->err;
  }
  fmt_args args;
  va_copy(args.ap, ap);
  int r = ep__parse(b, fmt, strlen(fmt), fill_hole, &args);
  va_end(args.ap);
  return r;
}

int ep_b_format(ep_build *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int r = ep_b_vformat(b, fmt, ap);
  va_end(ap);
  return r;
}

int ep_vformat(ep_term *out, const char *fmt, va_list ap) {
  if (!out) return EP_EINVAL;
  ep_build b;
  ep_b_init(&b);
  int r = ep_b_vformat(&b, fmt, ap), err = 0;
  if (r == 0) {
    *out = ep_b_finish(&b, &err);
    r = *out ? 0 : err;
  }
  ep_b_free(&b);
  return r;
}

int ep_format(ep_term *out, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int r = ep_vformat(out, fmt, ap);
  va_end(ap);
  return r;
}
