/* SPDX-License-Identifier: Apache-2.0 */
/*
 * signal.c - exit signals, links, monitors and process death (R20-R38),
 * exit/1, error/1 and catch. Every signal is applied by its sender under
 * the target's lock (core.h); what the target must see ({'EXIT',..},
 * {'DOWN',..}, a wake-up) goes through its mailbox, so a sender's messages
 * and signals stay in order (R12). Owns link nodes and monitor objects;
 * the registry, timers and the scheduler are other files'.
 */
#include <stdio.h>
#include <string.h>

#include "core/core.h"
#include "term/term_int.h"

enum { SIG_EXIT2, SIG_LINK };

/* ------------------------------------------------- messages, raw bytes -- */

static uint8_t *put_atom(uint8_t *q, ep_atom a) {
  q[0] = T_ATOM;
  wr32(q + 1, a);
  return q + 5;
}
static uint8_t *put_pid(uint8_t *q, ep_pid p) {
  q[0] = T_PID;
  wr32(q + 1, p.node);
  wr32(q + 5, p.creation);
  wr32(q + 9, p.id);
  wr32(q + 13, p.serial);
  return q + SZ_PID;
}
static size_t ref_bytes(const ep_ref *r) { return 10 + 4 * (size_t)r->len; }
static uint8_t *put_ref(uint8_t *q, const ep_ref *r) {
  q[0] = T_REF;
  wr32(q + 1, r->node);
  wr32(q + 5, r->creation);
  q[9] = (uint8_t)r->len;
  for (uint32_t i = 0; i < r->len; i++) wr32(q + 10 + 4 * i, r->w[i]);
  return q + ref_bytes(r);
}
static uint8_t *put_tuple(uint8_t *q, uint32_t arity, size_t size) {
  q[0] = T_TUPLE;
  wr32(q + 1, arity);
  wr32(q + 5, (uint32_t)size);
  return q + HDR_TUPLE;
}

static uint8_t *msg_bytes(ep__msg *m) { return (uint8_t *)m + EP__MSG_HDR; }

ep__msg *ep__msg_exit(ep_pid from, ep_term reason) {
  size_t rs = ep_term_size(reason), body = 5 + SZ_PID + rs;
  ep__msg *m = ep__msg_new(HDR_TUPLE + body);
  if (!m) abort();
  uint8_t *q = put_tuple(msg_bytes(m), 3, body);
  q = put_atom(q, EP_A_EXIT);
  q = put_pid(q, from);
  memcpy(q, reason, rs);
  return m;
}

ep__msg *ep__msg_down(const ep_ref *ref, ep_pid pid, ep_atom name, ep_term reason) {
  size_t rs = ep_term_size(reason);
  size_t obj = name ? HDR_TUPLE + 10 : SZ_PID;
  size_t body = 5 + ref_bytes(ref) + 5 + obj + rs;
  ep__msg *m = ep__msg_new(HDR_TUPLE + body);
  if (!m) abort();
  uint8_t *q = put_tuple(msg_bytes(m), 5, body);
  q = put_atom(q, EP_A_DOWN);
  q = put_ref(q, ref);
  q = put_atom(q, EP_A_process);
  if (name) {
    q = put_tuple(q, 2, 10);
    q = put_atom(q, name);
    q = put_atom(q, EP_A_nonode_nohost);
  } else {
    q = put_pid(q, pid);
  }
  memcpy(q, reason, rs);
  if (ep__is_alias(ref)) {   /* an alias monitor: the DOWN deactivates it */
    m->kind = MK_ALIAS_DOWN;
    m->aux = ref->w[2];
  }
  return m;
}

/* --------------------------------------------------------- exit state -- */

void ep__set_exit(ep__proc *p, ep_term reason_owned) {
  p->exit_reason = reason_owned;
  /* release: a reader that sees exiting sees the reason. Always under p's
   * lock, where ep_register checks it (registry.c). */
  atomic_store_explicit(&p->exiting, 1, memory_order_release);
}

void ep__exit_self(ep__proc *p, ep_term reason_owned) {
  ep__lock(p);
  if (atomic_load_explicit(&p->exiting, memory_order_relaxed)) ep__reason_free(reason_owned);
  else ep__set_exit(p, reason_owned);
  ep__unlock(p);
}

void ep__check_exit(ep__proc *p) {
  if (EP_UNLIKELY(atomic_load_explicit(&p->exiting, memory_order_acquire))) ep__die(p);
}

/* ---------------------------------------------------------------- links -- */

static bool link_find(ep__proc *p, ep_pid pid) { return ep__links_find(&p->links, pid); }
static bool link_remove(ep__proc *p, ep_pid pid) { return ep__links_remove(&p->links, pid); }
static void link_add(ep__proc *p, ep__proc *peer) { ep__links_add(&p->links, peer, ep__pid(peer)); }

/* Applies an exit signal to p (R25). mode: SIG_EXIT2 for exit/2 (link flag
 * clear), SIG_LINK from a linked process that died (dropped if the link is
 * gone, R25.1). */
static void signal_apply(ep__proc *p, ep_pid from, ep_term reason, int mode) {
  bool wake = false;
  ep__msg *msg = NULL;
  ep__lock(p);
  /* the link goes even if p is exiting: its death must not reach `from` */
  if (mode == SIG_LINK && !link_remove(p, from)) goto out;
  if (p->dead || atomic_load_explicit(&p->exiting, memory_order_relaxed)) goto out;
  bool linked = mode != SIG_EXIT2;
  bool is_self = ep_pid_eq(from, ep__pid(p));
  if (!linked && ep_is_atom(reason, EP_A_kill)) {
    ep__set_exit(p, ep__atom_dup(EP_A_killed));           /* R25.2 */
    wake = true;
  } else if (p->trap_exit) {
    msg = ep__msg_exit(from, reason);                     /* R25.3, R25.4 */
  } else if (ep_is_atom(reason, EP_A_normal)) {
    if (is_self && !linked) {
      ep__set_exit(p, ep__atom_dup(EP_A_normal));         /* R25.3 */
      wake = true;
    }                                                     /* else R25.5: dropped */
  } else {
    ep__set_exit(p, ep__dup(reason));                     /* R25.6 */
    wake = true;
  }
out:
  ep__unlock(p);
  if (msg) ep__deliver(p, msg);
  if (wake && ep__self() != p) ep__wake(p);
}

void ep__exit_signal(ep__proc *to, ep_pid from, ep_term reason, bool linked) {
  signal_apply(to, from, reason, linked ? SIG_LINK : SIG_EXIT2);
}

static int link_impl(ep_pid pid, bool raise) {
  ep__proc *self = ep__self();
  if (!self) return EP_ENOTPROC;
  ep__check_exit(self);
  if (ep_pid_eq(pid, ep__pid(self))) return 0;            /* R20 */
  ep__proc *p = ep__lookup(pid);
  if (p) {
    ep__lock2(self, p);
    /* an exiting process that has not yet sent its signals still takes
     * the link: its death signals us in order after its other signals */
    bool ok = !p->dead;
    if (ok && !link_find(self, pid)) {
      link_add(self, p);
      link_add(p, self);
    }
    ep__unlock2(self, p);
    if (ok) return 0;
  }
  /* no such process (R22) */
  ep__lock(self);
  bool trap = self->trap_exit;
  ep__unlock(self);
  if (trap) {
    ep_smallterm s;
    ep__deliver(self, ep__msg_exit(pid, ep_atom_term(&s, EP_A_noproc)));
    return 0;
  }
  if (!raise) return EP_ENOPROC;
  ep_error_atom(EP_A_noproc);
}

int ep_link(ep_pid p) { return link_impl(p, true); }
int ep_link_check(ep_pid p) { return link_impl(p, false); }

int ep_unlink(ep_pid pid) {
  ep__proc *self = ep__self();
  if (!self) return EP_ENOTPROC;
  ep__proc *p = ep__lookup(pid);
  if (p && p != self) {
    ep__lock2(self, p);
    link_remove(self, pid);
    link_remove(p, ep__pid(self));
    ep__unlock2(self, p);
  } else {
    ep__lock(self);
    link_remove(self, pid);
    ep__unlock(self);
  }
  return 0;
}

/* ------------------------------------------------------------- monitors -- */

/* Records are recycled through a per-worker free list (owner thread
 * only): a pmap makes and drops one per task. A record goes on the list
 * only once its last reference is gone, exactly when it would be freed,
 * so reuse is as safe as malloc's. Off under the sanitizers. */
#if defined(EP_SANITIZE_BUILD)
#define MON_CACHE 0
#else
#define MON_CACHE 4096
#endif

ep__mon *ep__mon_new(ep__worker *w) {
  ep__mon *m = w ? ep__fl_pop(&w->fmons) : NULL;
  if (m) {
    memset(m, 0, sizeof *m);
    return m;
  }
  m = calloc(1, sizeof *m);
  if (!m) abort();
  return m;
}

static void mon_unref(ep__mon *m, int n) {
  if (atomic_fetch_sub_explicit(&m->refs, n, memory_order_acq_rel) != n) return;
  ep__worker *w = MON_CACHE ? ep__tls_worker() : NULL;
  if (w) ep__fl_put(&w->fmons, m, MON_CACHE);
  else free(m);
}

static void w_unlink(ep__proc *w, ep__mon *m) {
  if (m->w_prev) m->w_prev->w_next = m->w_next;
  else w->mons = m->w_next;
  if (m->w_next) m->w_next->w_prev = m->w_prev;
  m->in_w = false;
}

static void t_unlink(ep__proc *t, ep__mon *m) {
  if (m->t_prev) m->t_prev->t_next = m->t_next;
  else t->mon_by = m->t_next;
  if (m->t_next) m->t_next->t_prev = m->t_prev;
  m->in_t = false;
}

static ep_ref monitor_impl(ep_pid pid, ep_atom name, bool alias) {
  ep__proc *self = ep__self();
  if (!self) return ep__make_ref(NULL);
  ep__check_exit(self);
  ep_ref ref = alias ? ep__alias_new(self) : ep__make_ref(self->worker);
  ep__proc *p = name ? NULL : ep__lookup(pid);
  if (name) {
    pid = ep_whereis(name);
    p = ep__lookup(pid);
  }
  bool made = false;
  if (p) {
    ep__lock2(self, p);
    /* an exiting process whose lists are still attached takes the monitor:
     * its DOWN then carries its real reason, after its link signals (R7) */
    if (!p->dead) {
      ep__mon *m = ep__mon_new(ep__tls_worker());
      m->watcher = self;
      m->target = p;
      m->wpid = ep__pid(self);
      m->tpid = pid;
      m->tname = name;
      m->ref = ref;
      m->in_w = m->in_t = true;
      atomic_store_explicit(&m->refs, 2, memory_order_relaxed);
      m->w_next = self->mons;
      if (self->mons) self->mons->w_prev = m;
      self->mons = m;
      m->t_next = p->mon_by;
      if (p->mon_by) p->mon_by->t_prev = m;
      p->mon_by = m;
      made = true;
    }
    ep__unlock2(self, p);
  }
  if (!made) {
    /* R33 R34: no such process: DOWN at once, noproc */
    ep_smallterm s;
    ep__deliver(self, ep__msg_down(&ref, pid, name, ep_atom_term(&s, EP_A_noproc)));
  }
  ep__charge(self, 1);
  return ref;
}

ep_ref ep_monitor(ep_pid p) { return monitor_impl(p, 0, false); }
ep_ref ep_monitor_name(ep_atom name) { return monitor_impl(EP_PID_NONE, name, false); }
ep_ref ep_monitor_alias(ep_pid p) { return monitor_impl(p, 0, true); }

static bool is_down_for(ep_term t, void *ctx, int *clause) {
  (void)clause;
  ep_ref r;
  return ep_tuple_arity(t) == 5 && ep_get_ref(ep_tuple_elem(t, 1), &r) == 0 &&
         ep_ref_eq(&r, (const ep_ref *)ctx);
}

bool ep_demonitor(const ep_ref *ref, int flags) {
  ep__proc *self = ep__self();
  if (!self || !ref) return false;
  if (ref->len == 5) ep__alias_unref(self, ref);   /* an alias monitor (alias.c) */
  ep__lock(self);
  ep__mon *m = self->mons;
  while (m && !ep_ref_eq(&m->ref, ref)) m = m->w_next;
  if (m) w_unlink(self, m);
  ep__unlock(self);
  if (m) {
    int drop = 1;
    ep__proc *t = m->target;   /* valid: its death has not processed m yet (core.h) */
    ep__lock(t);
    if (m->in_t) {
      t_unlink(t, m);
      drop++;
    }
    ep__unlock(t);
    mon_unref(m, drop);
  }
  bool found = m != NULL;
  if ((flags & EP_DEMONITOR_FLUSH) && !found) {
    /* R37: remove one {_, Ref, _, _, _} already in the mailbox. A monitor
     * still found had fired nothing (DOWN delivery unlists it under our
     * lock), so only a monitor already gone needs the scan. */
    ep__drain(self);
    ep__msg *prev = NULL;
    for (ep__msg *q = self->in_head; q; prev = q, q = q->inext) {
      if (is_down_for(ep__msg_term(q), (void *)ref, NULL)) {
        ep__inner_unlink(self, prev, q);
        ep__msg_release(self, q);
        break;
      }
    }
  }
  return (flags & EP_DEMONITOR_INFO) ? found : true;
}

/* ---------------------------------------------------------------- death -- */

static ep_pid root_pid;
static _Atomic uint32_t root_word;          /* 1 + status once the root ended */
static ep_exit_logger logger = ep_default_exit_logger;
static void *logger_ctx;

void ep__set_root(ep_pid p) {
  root_pid = p;
  atomic_store_explicit(&root_word, 0, memory_order_relaxed);
}

int ep__wait_root(void) {
  uint32_t v;
  while ((v = atomic_load_explicit(&root_word, memory_order_acquire)) == 0) ep__os_wait(&root_word, 0);
  return (int)v - 1;
}

void ep_set_exit_logger(ep_exit_logger fn, void *ctx) {
  logger = fn;
  logger_ctx = ctx;
}

void ep__death(ep__worker *w, ep__proc *p) {
  if (p->timer) {
    ep__timer_cancel_recv(p->timer);
    p->timer = NULL;
  }
  ep__lock(p);
  if (!atomic_load_explicit(&p->exiting, memory_order_relaxed)) ep__set_exit(p, ep__atom_dup(EP_A_normal));
  ep_term reason = p->exit_reason;
  ep__links links = p->links;
  ep__mon *mons = p->mons, *mon_by = p->mon_by;
  p->links = (ep__links){0};
  p->mons = p->mon_by = NULL;
  for (ep__mon *m = mons; m; m = m->w_next) m->in_w = false;
  for (ep__mon *m = mon_by; m; m = m->t_next) m->in_t = false;
  p->dead = true;
  bool named = atomic_load_explicit(&p->name, memory_order_relaxed) != 0;
  ep__unlock(p);
  ep_pid pid = ep__pid(p);

  /* R7: the name and the process's resources go before its signals */
  if (named) ep__registry_release(p);
  ep__recv_release(p);
  ep__mq_free_all(p, false);
  if (p->arg) ep__msg_free_w(w, (ep__msg *)(void *)((char *)(uintptr_t)p->arg - EP__MSG_HDR));
  p->arg = NULL;
  free(p->vars);
  p->vars = NULL;
  ep__alias_free(p);
  if (p->stack) {
    ep__stack_put(w, p->stack);
    p->stack = NULL;
  }
  ep__fiber_destroy(p);

  /* reported before the signals go out: whoever sees the DOWN sees the report */
  if (p->crashed && logger) logger(pid, reason, logger_ctx);

  /* links first, then monitors: one observer gets EXIT before DOWN (R7) */
  for (uint32_t i = 0; i < links.cap; i++)
    if (links.tab[i].pid.id) signal_apply(links.tab[i].peer, pid, reason, SIG_LINK);
  ep__links_free(&links);
  /* DOWNs go out in the order the monitors were made (the list is newest
   * first): a watcher that sees the DOWN of a later monitor has the
   * earlier ones too */
  ep__mon *last = mon_by;
  while (last && last->t_next) last = last->t_next;
  while (last) {
    ep__mon *m = last;
    last = m->t_prev;
    ep__proc *wt = m->watcher;
    ep__msg *down = NULL;
    int drop = 1;
    ep__lock(wt);
    if (m->in_w) {
      w_unlink(wt, m);
      drop++;
      down = ep__msg_down(&m->ref, pid, m->tname, reason);
      ep__deliver(wt, down);   /* under the watcher's lock: demonitor waits (R36) */
    }
    ep__unlock(wt);
    mon_unref(m, drop);
  }
  while (mons) {
    ep__mon *m = mons;
    mons = m->w_next;
    ep__proc *t = m->target;
    int drop = 1;
    ep__lock(t);
    if (m->in_t) {
      t_unlink(t, m);
      drop++;
    }
    ep__unlock(t);
    mon_unref(m, drop);
  }
  if (ep_pid_eq(pid, root_pid)) {
    atomic_store_explicit(&root_word, ep_is_atom(reason, EP_A_normal) ? 1u : 2u, memory_order_release);
    ep__os_wake(&root_word, 1);
  }
  ep__reason_free(reason);
  p->exit_reason = NULL;
  ep__proc_release(w, p);
}

/* ----------------------------------------------------- exit, error, catch -- */

static _Noreturn void throw_exit(ep__proc *p, ep_term owned, bool error) {
  if (p->catch_top) {
    ep__catch *c = p->catch_top;
    p->catch_top = c->up;
    if (p->caught) ep_term_free(p->caught);
    p->caught = owned;
    EP__LONGJMP(c->jb);
  }
  p->crashed = error;
  ep__exit_self(p, owned);
  ep__die(p);
}

static _Noreturn void not_a_process(const char *what) {
  fprintf(stderr, "eproc: %s called outside a process\n", what);
  abort();
}

_Noreturn void ep_exit(ep_term reason) {
  ep__proc *p = ep__self();
  if (!p) not_a_process("ep_exit");
  if (!reason) ep_error_atom(EP_A_badarg);   /* no term: as a BIF given a bad argument */
  throw_exit(p, ep__dup(reason), false);
}

_Noreturn void ep_exit_atom(ep_atom reason) {
  ep_smallterm s;
  ep_exit(ep_atom_term(&s, reason));
}

_Noreturn void ep_error(ep_term reason) {
  ep__proc *p = ep__self();
  if (!p) not_a_process("ep_error");
  if (!reason) ep_error_atom(EP_A_badarg);
  /* {Reason, Stack}: C has no Erlang stack to show, so Stack is [] */
  size_t rs = ep_term_size(reason);
  uint8_t *b = malloc(HDR_TUPLE + rs + 1);
  if (!b) abort();
  uint8_t *q = put_tuple(b, 2, rs + 1);
  memcpy(q, reason, rs);
  q[rs] = T_NIL;
  throw_exit(p, (ep_term)(void *)b, true);
}

_Noreturn void ep_error_atom(ep_atom reason) {
  ep_smallterm s;
  ep_error(ep_atom_term(&s, reason));
}

/* Separate from ep_catch so that nothing setjmp could clobber lives here:
 * p is a parameter never written after setjmp. */
static EP_NOINLINE int catch_run(ep__proc *p, void (*fn)(void *ctx), void *ctx, ep_term *reason) {
  ep__catch c;
  c.up = p->catch_top;
  p->catch_top = &c;
  if (EP__SETJMP(c.jb) == 0) {
    fn(ctx);
    p->catch_top = c.up;
    return 0;
  }
  if (reason) *reason = p->caught;   /* the thrower popped the frame */
  return 1;
}

int ep_catch(void (*fn)(void *ctx), void *ctx, ep_term *reason) {
  if (!fn) return EP_EINVAL;
  ep__proc *p = ep__self();
  if (!p) {
    fn(ctx);
    return 0;
  }
  return catch_run(p, fn, ctx, reason);
}

int ep_exit_signal(ep_pid to, ep_term reason) {
  if (!reason) return EP_EINVAL;
  bool f = ep__enter();
  ep__proc *self = ep__self();
  ep_pid from = self ? ep__pid(self) : EP_PID_NONE;
  ep__proc *p = ep__lookup(to);
  if (p) signal_apply(p, from, reason, SIG_EXIT2);
  ep__leave(f);
  if (self) {
    if (p == self) ep__check_exit(self);   /* R27: dies before returning */
    ep__charge(self, 1);
  }
  return 0;
}

int ep_exit_signal_atom(ep_pid p, ep_atom reason) {
  ep_smallterm s;
  return ep_exit_signal(p, ep_atom_term(&s, reason));
}
