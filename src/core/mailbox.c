/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mailbox.c - a process's mailbox: the outer MPSC queue senders push onto
 * (one atomic exchange per push), the inner queue only the owner scans,
 * the receive marker, and the selective receive loop with its timeout.
 * It owns every queued message until it is received or the process dies.
 * Scheduling a woken process is sched.c's job; matching is the caller's.
 */
#include <string.h>

#include "core/core.h"

/* The outer queue is Vyukov's intrusive MPSC queue, kept the way Pony's
 * messageq keeps it: mq_tail is the node taken last (the stub at first),
 * and stays in the queue until the next one is taken, so that taking the
 * last message never needs the stub pushed back (one atomic exchange per
 * message less). A message that is released while it is still the tail
 * is only marked `done` and freed when it leaves (ep__msg_release).
 * The low bit of mq_head is the PARKED tag (after Pony's messageq): it is
 * set by the scheduler only when the queue is empty and the process has
 * switched out; the exchange in a push clears it, so exactly one sender
 * learns that the receiver was parked and must be scheduled. */

void ep__mq_init(ep__proc *p) {
  atomic_store_explicit(&p->mq_stub.next, NULL, memory_order_relaxed);
  atomic_store_explicit(&p->mq_head, (uintptr_t)&p->mq_stub, memory_order_relaxed);
  p->mq_tail = &p->mq_stub;
  p->in_head = p->in_tail = NULL;
  p->in_len = 0;
  p->mark = NULL;
  p->mark_set = false;
  p->cur_msg = NULL;
}

bool ep__mq_push(ep__proc *p, ep__msg *m) {
  atomic_store_explicit(&m->next, NULL, memory_order_relaxed);
  /* acq_rel: release publishes m's contents to the consumer; acquire pairs
   * with the scheduler's release in ep__mq_markparked (the process's saved
   * context is complete before we may schedule it). */
  uintptr_t prev = atomic_exchange_explicit(&p->mq_head, (uintptr_t)m, memory_order_acq_rel);
  ep__msg *pn = (ep__msg *)(prev & ~EP__PARKED);
  /* release: the consumer's acquire load of next sees m's contents */
  atomic_store_explicit(&pn->next, m, memory_order_release);
  return (prev & EP__PARKED) != 0;
}

/* The node the tail leaves behind is done with the queue. */
static inline void tail_left(ep__msg *old) {
  if (old->done) ep__msg_free(old);
}

/* The next message, or NULL if none has arrived (or a push is half done:
 * its sender then makes the process look again, see markparked). */
ep__msg *ep__mq_pop(ep__proc *p) {
  ep__msg *tail = p->mq_tail;
  ep__msg *next = atomic_load_explicit(&tail->next, memory_order_acquire);
  if (!next) return NULL;
  p->mq_tail = next;
  if (tail != &p->mq_stub) tail_left(tail);
  return next;
}

bool ep__mq_markparked(ep__proc *p) {
  /* Only an empty queue (head on the tail, nothing behind it) may be
   * tagged. release: pairs with the acquire of the push that clears it. */
  uintptr_t expect = (uintptr_t)p->mq_tail;
  if (atomic_load_explicit(&p->mq_tail->next, memory_order_acquire) != NULL) return false;
  return atomic_compare_exchange_strong_explicit(&p->mq_head, &expect, expect | EP__PARKED,
                                                 memory_order_acq_rel, memory_order_acquire);
}

void ep__msg_release(ep__proc *p, ep__msg *m) {
  if (EP_UNLIKELY(m == p->mq_tail)) m->done = 1;
  else ep__msg_free_w(p->worker, m);
}

/* Releases every message of the inner queue; returns how many there were. */
long ep__inner_free_all(ep__proc *p) {
  long n = p->in_len;
  for (ep__msg *m = p->in_head; m;) {
    ep__msg *next = m->inext;
    ep__msg_release(p, m);
    m = next;
  }
  p->in_head = p->in_tail = NULL;
  p->in_len = 0;
  p->mark = NULL;
  return n;
}

/* Frees every queued message. Senders may still push to a dead process
 * until its PCB is reused, so the tail stays until the final call, made
 * when no sender can hold the PCB any more; it resets the queue. */
void ep__mq_free_all(ep__proc *p, bool final) {
  ep__msg *m;
  while ((m = ep__mq_pop(p)) != NULL) ep__msg_release(p, m);
  ep__inner_free_all(p);
  p->mark_set = false;
  if (final) {
    if (p->mq_tail != &p->mq_stub) ep__msg_free(p->mq_tail);
    ep__mq_init(p);
  }
}

void ep__deliver(ep__proc *p, ep__msg *m) {
  if (ep__mq_push(p, m)) ep__ready(p);
}

/* The same from a process running on worker w (no thread-local lookup). */
void ep__deliver_w(ep__worker *w, ep__proc *p, ep__msg *m) {
  if (ep__mq_push(p, m)) ep__runq_put(w, p, true);
}

void ep__wake(ep__proc *p) {
  ep__msg *m = ep__msg_new(0);
  if (!m) abort();
  m->kind = MK_WAKE;
  ep__deliver(p, m);
}

static inline void inner_append(ep__proc *p, ep__msg *m) {
  m->inext = NULL;
  if (p->in_tail) p->in_tail->inext = m;
  else p->in_head = m;
  p->in_tail = m;
  p->in_len++;
}

/* An item that is not a plain message: the control items only change
 * flags and are freed here, as are messages to an alias no longer active
 * (alias.c). Out of line: the drain loop stays a leaf for plain ones. */
static EP_NOINLINE void drain_other(ep__proc *p, ep__msg *m) {
  switch (m->kind) {
  case MK_ALIAS_DOWN:
    /* what is sent to the alias after the DOWN is dropped (R47) */
    ep__alias_drop(p, m->aux);
    m->kind = MK_MSG;
    m->aux = 0;
    /* fall through */
  case MK_MSG:
    /* sent to an alias since deactivated: never seen */
    if (m->aux && !ep__alias_active(p, m->aux)) break;
    inner_append(p, m);
    return;
  case MK_TIMEOUT:
    if (m->aux == p->recv_gen) p->timed_out = true;
    break;
  case MK_DONE:
    p->job_done = true;
    break;
  case MK_INFO:
    ep__info_answer(p, m);
    break;
  default:
    break;
  }
  ep__msg_release(p, m);
}

/* Moves every message that has arrived to the end of the inner queue. */
void ep__drain_queued(ep__proc *p) {
  ep__msg *m;
  while ((m = ep__mq_pop(p)) != NULL) {
    if (EP_LIKELY(m->kind == MK_MSG && !m->aux)) inner_append(p, m);
    else drain_other(p, m);
  }
}

static inline ep__msg *nxt(const ep__msg *m) { return m->inext; }

void ep__inner_unlink(ep__proc *p, ep__msg *prev, ep__msg *m) {
  ep__msg *n = nxt(m);
  if (prev) prev->inext = n;
  else p->in_head = n;
  if (p->in_tail == m) p->in_tail = prev;
  if (p->mark_set && p->mark == m) p->mark = prev;
  p->in_len--;
}

/* Frees what the previous receive handed out (R: bounded memory for a
 * process that loops receiving). */
void ep__recv_release(ep__proc *p) {
  if (p->cur_msg) {
    ep__msg_release(p, p->cur_msg);
    p->cur_msg = NULL;
  }
  if (p->caught) {
    ep_term_free(p->caught);
    p->caught = NULL;
  }
}

/* The selective receive loop (R16-R18). Scans from the oldest message (or
 * from the mark), trying match() on each; messages that do not match stay
 * in place. Waiting resumes the scan where it stopped, so every message is
 * looked at once per receive. The outer queue is drained only when the
 * scan has come to the end of the inner one, as the BEAM's receive fetches
 * new signals only at the end of the messages it already has: a consumer
 * behind its producers then takes a long run of cold messages at a time,
 * instead of chasing, at every receive, the few just written on another
 * core (fanin on 2 threads: 58 -> 36 ns per message). Returns the clause
 * index or EP_ETIMEOUT. */
int ep__receive(ep__proc *p, ep__match_fn match, void *ctx, long timeout_ms) {
  if (EP_UNLIKELY(timeout_ms < 0 && timeout_ms != EP_INFINITY))
    ep_error_atom(ep_atom_of("timeout_value"));   /* `after -7`, as Erlang's receive */
  ep__recv_release(p);
  ep__check_exit(p);
  ep__charge(p, 1);
  p->recv_gen++;
  p->timed_out = false;
  ep__msg *prev = NULL;             /* last message looked at (NULL: none yet) */
  bool from_mark = p->mark_set;
  if (from_mark) {
    prev = p->mark;
    p->mark_set = false;
    p->mark = NULL;
  }
  int result = EP_ETIMEOUT;
  for (;;) {
    /* at the end of the inner queue: take the arrivals */
    if (!(prev ? nxt(prev) : p->in_head)) ep__drain(p);
    ep__msg *m = prev ? nxt(prev) : p->in_head;
    while (m) {
      int clause = 0;
      if (match(ep__msg_term(m), ctx, &clause)) {
        ep__inner_unlink(p, prev, m);
        p->cur_msg = m;
        result = clause;
        goto done;
      }
      prev = m;
      m = nxt(m);
    }
    /* more came during the scan: look at them before giving up or waiting */
    if (atomic_load_explicit(&p->mq_tail->next, memory_order_acquire)) continue;
    if (timeout_ms == 0 || p->timed_out) goto done;
    /* The clock is read only when the process first has to wait: a
     * receive that finds its message reads none. A timeout of a second or
     * more (a gen_server call's 5 s) may fire a few ms late, never early,
     * and takes the cheap clock. */
    if (timeout_ms > 0 && !p->timer) {
      uint64_t now = timeout_ms >= 1000 ? ep__os_now_late_ns() : ep__os_now_ns();
      p->timer = ep__timer_recv(p, now + (uint64_t)timeout_ms * 1000000u, p->recv_gen);
    }
    ep__switch_out(p, IN_PARK);
    ep__check_exit(p);
  }
done:
  if (p->timer) {
    ep__timer_cancel_recv(p->timer);
    p->timer = NULL;
  }
  return result;
}
