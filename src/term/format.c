/* SPDX-License-Identifier: Apache-2.0 */
/*
 * format.c - the format builder: Erlang term text with holes (`~i`, `~p`,
 * ...) filled from C arguments, in the spirit of ei_x_format. The grammar is
 * parse.c's (a hole may stand wherever a term may); this file maps hole
 * letters to builder calls. Owns per-thread scratch state (freed at thread
 * exit): a builder for ep_vformat and a small cache of compiled formats.
 */
#include <pthread.h>
#include <stdlib.h>

#include "text_int.h"

/* The hot path (the same format again, as in a loop sending messages)
 * skips parsing: a format's builder calls are recorded the first time and
 * replayed after, the cache keyed by the format's address and checked
 * against its full text, so a changed string is never replayed. The state
 * is per thread and each call uses it alone: formatting never blocks nor
 * calls back into user code. */
#ifndef EP_FORMAT_CACHE
#define EP_FORMAT_CACHE 8            /* compiled formats kept per thread */
#endif
#define FMT_TEXT_MAX 96              /* longest format text cached, bytes */
#ifndef EP_FORMAT_SCRATCH_KEEP
#define EP_FORMAT_SCRATCH_KEEP 65536 /* bytes of scratch buffer kept between calls */
#endif

typedef struct cached {
  const char *fmt;                   /* address it was called with; NULL: empty */
  size_t len;
  char text[FMT_TEXT_MAX];
  ep__fmt_rec rec;
} cached;

typedef struct scratch {
  ep_build b;                        /* ep_vformat's builder */
  cached c[EP_FORMAT_CACHE];
} scratch;

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

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static bool scratch_key_ok;
static _Thread_local scratch *tls_scratch;

static void scratch_drop(void *p) {
  ep_b_free(&((scratch *)p)->b);
  free(p);
}

static void scratch_key_make(void) { scratch_key_ok = pthread_key_create(&scratch_key, scratch_drop) == 0; }

/* This thread's scratch state, or NULL (then callers do without). */
static scratch *scratch_get(void) {
  if (EP_LIKELY(tls_scratch != NULL)) return tls_scratch;
  pthread_once(&scratch_once, scratch_key_make);
  scratch *sc = scratch_key_ok ? calloc(1, sizeof *sc) : NULL;
  if (!sc) return NULL;
  if (pthread_setspecific(scratch_key, sc) != 0) {
    free(sc);
    return NULL;
  }
  ep_b_init(&sc->b);
  return tls_scratch = sc;
}

static int replay(ep_build *b, const ep__fmt_rec *rec, fmt_args *args) {
  for (int i = 0; i < rec->n; i++) {
    const ep__op *op = &rec->op[i];
    switch (op->kind) {
    case OP_TUPLE: ep_b_tuple(b); break;
    case OP_LIST: ep_b_list(b); break;
    case OP_MAP: ep_b_map(b); break;
    case OP_END: ep_b_end(b); break;
    case OP_END_TAIL: ep_b_end_tail(b); break;
    case OP_NIL: ep_b_nil(b); break;
    case OP_ATOM: ep_b_atom(b, op->atom); break;
    case OP_INT: ep_b_int(b, op->v.i); break;
    case OP_FLOAT: ep_b_float(b, op->v.d); break;
    case OP_HOLE: {
      int r = fill_hole(b, op->hole, args);
      if (r < 0) {
        if (b->err == 0) b->err = r;
        return r;
      }
      break;
    }
    }
  }
  return b->err;
}

int ep_b_vformat(ep_build *b, const char *fmt, va_list ap) {
  if (!b) return EP_EINVAL;
  if (!fmt) {
    if (b->err == 0) b->err = EP_EFORMAT;
    return b->err;
  }
  if (b->err) return b->err;
  size_t len = strlen(fmt);
  scratch *sc = len <= FMT_TEXT_MAX ? scratch_get() : NULL;
  cached *c = sc ? &sc->c[(((uintptr_t)fmt >> 3) ^ len) % EP_FORMAT_CACHE] : NULL;
  fmt_args args;
  int r;
  va_copy(args.ap, ap);
  if (c && c->fmt == fmt && c->len == len && memcmp(c->text, fmt, len) == 0) {
    r = replay(b, &c->rec, &args);
  } else {
    ep__fmt_rec rec = {.n = 0, .ok = c != NULL};
    r = ep__parse(b, fmt, len, fill_hole, &args, c ? &rec : NULL);
    if (r == 0 && rec.ok) {
      c->fmt = fmt;
      c->len = len;
      memcpy(c->text, fmt, len);
      c->rec = rec;
    }
  }
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
  scratch *sc = scratch_get();
  ep_build own, *b = sc ? &sc->b : &own;
  if (!sc) ep_b_init(b);
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
