/* SPDX-License-Identifier: Apache-2.0 */
/*
 * info.c - process_info (R45). Most items are read under the target's
 * lock. `messages` and `message_queue_len` of another process are asked of
 * that process itself, like the BEAM's process_info signal: an MK_INFO
 * item in its mailbox, answered when it next looks at its mailbox, so the
 * answer covers exactly the messages that arrived before the request (and
 * senders pay no counting). Owns nothing.
 */
#include <string.h>

#include "core/core.h"

typedef struct {
  ep_pid reply_to;
  ep_ref ref;
  ep_atom item;                     /* messages or message_queue_len */
} info_req;

static ep_term finish(ep_build *b) {
  int err;
  ep_term t = ep_b_finish(b, &err);
  ep_b_free(b);
  if (!t) abort();
  return t;
}

/* The inner queue as a list term, in order (owner only). */
static void build_messages(ep_build *b, ep__proc *p) {
  ep_b_list(b);
  for (ep__msg *m = p->in_head; m; m = m->inext)
    ep_b_term(b, ep__msg_term(m));
  ep_b_end(b);
}

/* Called by the owner's ep__drain for an MK_INFO item. */
void ep__info_answer(ep__proc *p, ep__msg *req) {
  info_req r;
  memcpy(&r, (char *)req + EP__MSG_HDR, sizeof r);
  ep_build b;
  ep_b_init(&b);
  ep_b_tuple(&b);
  ep_b_ref(&b, &r.ref);
  ep_b_tuple(&b);
  ep_b_atom(&b, r.item);
  if (r.item == EP_A_messages) build_messages(&b, p);
  else ep_b_int(&b, p->in_len);
  ep_b_end(&b);
  ep_b_end(&b);
  ep_term t = finish(&b);
  ep__msg *m = ep__msg_copy(t);
  ep_term_free(t);
  if (!m) abort();
  ep__send_block(NULL, r.reply_to, m);
}

typedef struct {
  ep_ref ref;
} waitctx;

static bool reply_or_down(ep_term t, void *ctx, int *clause) {
  const ep_ref *ref = &((waitctx *)ctx)->ref;
  ep_ref r;
  size_t n = ep_tuple_arity(t);
  if (n == 2 && ep_get_ref(ep_tuple_elem(t, 0), &r) == 0 && ep_ref_eq(&r, ref)) {
    *clause = 0;
    return true;
  }
  if (n == 5 && ep_is_atom(ep_tuple_elem(t, 0), EP_A_DOWN) &&
      ep_get_ref(ep_tuple_elem(t, 1), &r) == 0 && ep_ref_eq(&r, ref)) {
    *clause = 1;
    return true;
  }
  return false;
}

static ep_term ask_other(ep__proc *self, ep_pid pid, ep_atom item) {
  ep_recv_mark();
  waitctx w = {ep_monitor(pid)};
  bool f = ep__enter();
  ep__proc *p = ep__lookup(pid);
  if (p) {
    ep__msg *m = ep__msg_new(sizeof(info_req));
    if (!m) abort();
    m->kind = MK_INFO;
    info_req r = {ep__pid(self), w.ref, item};
    memcpy((char *)m + EP__MSG_HDR, &r, sizeof r);
    ep__deliver(p, m);
  }
  ep__leave(f);
  int clause = ep__receive(self, reply_or_down, &w, EP_INFINITY);
  ep_term out = NULL;
  if (clause == 0) {
    out = ep__dup(ep_tuple_elem(ep__msg_term(self->cur_msg), 1));
    ep_demonitor(&w.ref, EP_DEMONITOR_FLUSH);
  }
  return out;
}

/* A foreign thread asks through a helper process. */
typedef struct {
  ep_pid pid;
  ep_atom item;
  ep_term out;
  _Atomic uint32_t done;
} helper_ctx;

static void helper(ep_term arg) {
  int64_t addr;
  ep_get_int(arg, &addr);
  helper_ctx *h = (helper_ctx *)(intptr_t)addr;
  h->out = ask_other(ep__self(), h->pid, h->item);
  atomic_store_explicit(&h->done, 1, memory_order_release);
  ep__os_wake(&h->done, 1);
}

static ep_term ask_from_foreign(ep_pid pid, ep_atom item) {
  helper_ctx h = {pid, item, NULL, 0};
  ep_smallterm s;
  if (ep_spawn_opt(NULL, helper, ep_int_term(&s, (int64_t)(intptr_t)&h), NULL, NULL) != 0) return NULL;
  while (!atomic_load_explicit(&h.done, memory_order_acquire)) ep__os_wait(&h.done, 0);
  return h.out;
}

static void pid_list_links(ep_build *b, ep__proc *p) {
  ep_b_list(b);
  for (uint32_t i = 0; i < p->links.cap; i++)
    if (p->links.tab[i].pid.id) ep_b_pid(b, p->links.tab[i].pid);
  ep_b_end(b);
}

ep_term ep_process_info(ep_pid pid, ep_atom item) {
  ep__proc *self = ep__self();
  bool me = self && ep_pid_eq(pid, ep__pid(self));
  if ((item == EP_A_messages || item == EP_A_message_queue_len) && !me) {
    if (!ep_is_alive(pid)) return NULL;
    return self ? ask_other(self, pid, item) : ask_from_foreign(pid, item);
  }
  bool f = ep__enter();
  ep__proc *p = ep__lookup(pid);
  if (!p || atomic_load_explicit(&p->exiting, memory_order_acquire)) {
    ep__leave(f);
    return NULL;
  }
  ep_build b;
  ep_b_init(&b);
  ep_b_tuple(&b);
  ep_b_atom(&b, item);
  switch (item) {
  case EP_A_messages:
    ep__drain(p);
    build_messages(&b, p);
    break;
  case EP_A_message_queue_len:
    ep__drain(p);
    ep_b_int(&b, p->in_len);
    break;
  case EP_A_links:
    ep__lock(p);
    pid_list_links(&b, p);
    ep__unlock(p);
    break;
  case EP_A_monitors:
    ep__lock(p);
    ep_b_list(&b);
    for (ep__mon *m = p->mons; m; m = m->w_next) {
      ep_b_tuple(&b);
      ep_b_atom(&b, EP_A_process);
      if (m->tname) {
        ep_b_tuple(&b);
        ep_b_atom(&b, m->tname);
        ep_b_atom(&b, EP_A_nonode_nohost);
        ep_b_end(&b);
      } else {
        ep_b_pid(&b, m->tpid);
      }
      ep_b_end(&b);
    }
    ep_b_end(&b);
    ep__unlock(p);
    break;
  case EP_A_monitored_by:
    ep__lock(p);
    ep_b_list(&b);
    for (ep__mon *m = p->mon_by; m; m = m->t_next) ep_b_pid(&b, m->wpid);
    ep_b_end(&b);
    ep__unlock(p);
    break;
  case EP_A_trap_exit:
    ep__lock(p);
    ep_b_atom(&b, p->trap_exit ? EP_A_true : EP_A_false);
    ep__unlock(p);
    break;
  case EP_A_registered_name: {
    ep_atom a = ep__registered_name(p);
    if (!a) {
      /* Erlang returns [] rather than a tuple for a process with no name */
      ep_b_free(&b);
      ep_b_init(&b);
      ep_b_nil(&b);
    } else {
      ep_b_atom(&b, a);
    }
    break;
  }
  case EP_A_status: {
    ep_atom st = me ? EP_A_running
               : (atomic_load_explicit(&p->mq_head, memory_order_relaxed) & EP__PARKED) ? EP_A_waiting
                                                                                        : EP_A_runnable;
    ep_b_atom(&b, st);
    break;
  }
  case EP_A_reductions:
    ep_b_int(&b, (int64_t)atomic_load_explicit(&p->reductions, memory_order_relaxed));
    break;
  case EP_A_memory:
    ep_b_int(&b, (int64_t)(sizeof(ep__proc) + (p->handler ? 0 : 4096)));
    break;
  default:
    ep_b_free(&b);
    ep__leave(f);
    return NULL;
  }
  if (item != EP_A_registered_name || b.depth) ep_b_end(&b);
  ep__leave(f);
  return finish(&b);
}
