/* SPDX-License-Identifier: Apache-2.0 */
/*
 * format.c - the format builder: Erlang term text with holes (`~i`, `~p`,
 * ...) filled from C arguments, in the spirit of ei_x_format. The grammar is
 * parse.c's (a hole may stand wherever a term may); this file only maps hole
 * letters to builder calls. Owns one scratch builder per thread for
 * ep_vformat (freed at thread exit), so the hot path is the parse plus one
 * allocation of the finished term. A thread's scratch builder is used by one
 * call at a time: ep_vformat never blocks nor calls back into user code.
 */
#include <pthread.h>
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

#ifndef EP_FORMAT_SCRATCH_KEEP
#define EP_FORMAT_SCRATCH_KEEP 65536   /* bytes of scratch buffer kept between calls */
#endif

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static bool scratch_key_ok;
static _Thread_local ep_build *scratch;

static void scratch_drop(void *p) {
  ep_b_free(p);
  free(p);
}

static void scratch_key_make(void) { scratch_key_ok = pthread_key_create(&scratch_key, scratch_drop) == 0; }

/* This thread's scratch builder, or NULL (then the caller uses its own). */
static ep_build *scratch_get(void) {
  if (EP_LIKELY(scratch != NULL)) return scratch;
  pthread_once(&scratch_once, scratch_key_make);
  ep_build *b = scratch_key_ok ? malloc(sizeof *b) : NULL;
  if (!b) return NULL;
  if (pthread_setspecific(scratch_key, b) != 0) {
    free(b);
    return NULL;
  }
  ep_b_init(b);
  return scratch = b;
}

int ep_vformat(ep_term *out, const char *fmt, va_list ap) {
  if (!out) return EP_EINVAL;
  ep_build own, *b = scratch_get();
  if (!b) {
    b = &own;
    ep_b_init(b);
  }
  int r = ep_b_vformat(b, fmt, ap);
  if (r == 0) {
    *out = ep_term_dup(ep_b_peek(b));
    if (!*out) r = EP_ENOMEM;
  }
  if (b == &own || b->cap > EP_FORMAT_SCRATCH_KEEP) ep_b_free(b);
  else ep_b_reset(b);
  return r;
}

int ep_format(ep_term *out, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int r = ep_vformat(out, fmt, ap);
  va_end(ap);
  return r;
}
