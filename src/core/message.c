/* SPDX-License-Identifier: Apache-2.0 */
/*
 * message.c - the message API: send (to a pid or a name), receive of any
 * message, the receive marker, flush and queue length. Owns nothing: the
 * queues are mailbox.c's, the received message is the process's until its
 * next receive. Pattern receive is receive.c's, formatted sends format.c's.
 */
#include <string.h>

#include "core/core.h"

/* Hands a finished message block to p, or drops it if p is gone (R10). */
void ep__send_block(ep__proc *self, ep_pid to, ep__msg *m) {
  if (self) {
    /* a process: its worker is known, and it holds no foreign count */
    ep__worker *w = self->worker;
    ep__proc *p = ep__lookup(to);
    if (p && !atomic_load_explicit(&p->exiting, memory_order_relaxed)) ep__deliver_w(w, p, m);
    else ep__msg_free_w(w, m);
    ep__charge(self, 1);
    return;
  }
  bool f = ep__enter();
  ep__proc *p = ep__lookup(to);
  if (p && !atomic_load_explicit(&p->exiting, memory_order_relaxed)) ep__deliver(p, m);
  else ep__msg_free(m);
  ep__leave(f);
}

int ep_send(ep_pid to, ep_term msg) {
  if (!msg) return EP_EINVAL;
  ep__proc *self = ep__self();
  ep__msg *m = self ? ep__msg_copy_w(self->worker, msg) : ep__msg_copy(msg);
  if (!m) return EP_ENOMEM;
  ep__send_block(self, to, m);
  return 0;
}

int ep_send_name(ep_atom name, ep_term msg) {
  ep_pid to = ep_whereis(name);
  if (to.id == 0) return EP_EBADARG;   /* R11 */
  return ep_send(to, msg);
}

void ep_send_name_x(ep_atom name, ep_term msg) {
  int rc = ep_send_name(name, msg);
  if ((rc == EP_EBADARG || rc == EP_EINVAL) && ep__self()) ep_error_atom(EP_A_badarg);
}

static bool any(ep_term t, void *ctx, int *clause) {
  (void)t, (void)ctx;
  *clause = 0;
  return true;
}

int ep_receive_any(ep_term *msg, long timeout_ms) {
  ep__proc *p = ep__self();
  if (!p) return EP_ENOTPROC;
  int rc = ep__receive(p, any, NULL, timeout_ms);
  p->cur_pat = NULL;
  if (rc >= 0 && msg) *msg = ep__msg_term(p->cur_msg);
  return rc < 0 ? rc : 0;
}

ep_term ep_message(void) {
  ep__proc *p = ep__self();
  return p && p->cur_msg ? ep__msg_term(p->cur_msg) : NULL;
}

ep_term ep_var(int i) {
  ep__proc *p = ep__self();
  if (!p || !p->vars || i < 0 || i >= EP_PATTERN_MAX_VARS) return NULL;
  return p->vars[i];
}

void ep_recv_mark(void) {
  ep__proc *p = ep__self();
  if (!p) return;
  ep__drain(p);
  p->mark = p->in_tail;
  p->mark_set = true;
}

ep_ref ep_make_ref_marked(void) {
  ep_recv_mark();
  return ep_make_ref();
}

long ep_flush(void) {
  ep__proc *p = ep__self();
  if (!p) return EP_ENOTPROC;
  ep__drain(p);
  return ep__inner_free_all(p);
}

long ep_message_queue_len(void) {
  ep__proc *p = ep__self();
  if (!p) return EP_ENOTPROC;
  ep__drain(p);
  return p->in_len;
}
