/* SPDX-License-Identifier: Apache-2.0 */
/*
 * send_fmt.c - formatted sends (to a pid, a name or an alias): the message
 * is built straight into its mailbox block (the builder's headroom holds
 * the block header), so ep_send_fmt costs one allocation and no copy.
 * Owns nothing.
 */
#include <string.h>

#include "core/core.h"

/* Builds fmt into a fresh message block; NULL and *err on failure. The
 * term is built on the stack and copied into a block from the worker's
 * cache: for the usual small message that is cheaper than a malloc'd
 * builder buffer freed after one use. */
static ep__msg *build(const char *fmt, va_list ap, int *err) {
  uint8_t buf[256];
  ep_build b;
  ep_b_init_buf(&b, buf, sizeof buf);
  *err = ep_b_vformat(&b, fmt, ap);
  ep__msg *m = NULL;
  ep_term t = *err == 0 ? ep_b_peek(&b) : NULL;
  if (t) {
    ep__proc *self = ep__self();
    m = self ? ep__msg_copy_w(self->worker, t) : ep__msg_copy(t);
    if (!m) *err = EP_ENOMEM;
  } else if (*err == 0) {
    *err = EP_EFORMAT;
  }
  ep_b_free(&b);
  return m;
}

static int send_v(ep_pid to, const char *fmt, va_list ap) {
  int err;
  ep__msg *m = build(fmt, ap, &err);
  if (!m) return err;
  ep__send_block(ep__self(), to, m);
  return 0;
}

int ep_send_fmt(ep_pid p, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int err = send_v(p, fmt, ap);
  va_end(ap);
  return err;
}

int ep_send_name_fmt(ep_atom name, const char *fmt, ...) {
  ep_pid to = ep_whereis(name);
  if (to.id == 0) return EP_EBADARG;
  va_list ap;
  va_start(ap, fmt);
  int err = send_v(to, fmt, ap);
  va_end(ap);
  return err;
}

int ep_send_alias_fmt(const ep_ref *alias, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int err;
  ep__msg *m = build(fmt, ap, &err);
  va_end(ap);
  if (!m) return err;
  if (!ep__is_alias(alias)) {   /* reaches no process: dropped */
    ep__msg_free(m);
    return 0;
  }
  m->aux = alias->w[2];
  ep__send_block(ep__self(), (ep_pid){alias->w[3], alias->w[4], 0, 0}, m);
  return 0;
}
