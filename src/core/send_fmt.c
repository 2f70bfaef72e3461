/* SPDX-License-Identifier: Apache-2.0 */
/*
 * send_fmt.c - formatted sends (to a pid, a name or an alias): the term
 * is formatted on the stack and sent as ep_send sends any term. Owns
 * nothing.
 */
#include "core/core.h"

/* Formats fmt on the stack and sends the term with ep_send (or
 * ep_send_alias), which copies it into a block from the worker's cache:
 * for the usual small message that is cheaper than a malloc'd builder
 * buffer used once. */
static int send_v(ep_pid to, const ep_ref *alias, const char *fmt, va_list ap) {
  uint8_t buf[256];
  ep_build b;
  ep_b_init_buf(&b, buf, sizeof buf);
  int err = ep_b_vformat(&b, fmt, ap);
  ep_term t = err == 0 ? ep_b_peek(&b) : NULL;
  if (err == 0) err = !t ? EP_EFORMAT : alias ? ep_send_alias(alias, t) : ep_send(to, t);
  ep_b_free(&b);
  return err;
}

int ep_send_fmt(ep_pid p, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int err = send_v(p, NULL, fmt, ap);
  va_end(ap);
  return err;
}

int ep_send_name_fmt(ep_atom name, const char *fmt, ...) {
  ep_pid to = ep_whereis(name);
  if (to.id == 0) return EP_EBADARG;
  va_list ap;
  va_start(ap, fmt);
  int err = send_v(to, NULL, fmt, ap);
  va_end(ap);
  return err;
}

int ep_send_alias_fmt(const ep_ref *alias, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int err = send_v(EP_PID_NONE, alias, fmt, ap);
  va_end(ap);
  return err;
}
