/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alias.c - process aliases (OTP 24's alias/0, unalias/1): references that
 * name their owner, so a send to one finds the process in O(1). Owns each
 * process's set of active alias numbers (owner-only, no lock); ep__drain
 * (mailbox.c) drops what was sent to an inactive one, signal.c ties an
 * alias to a monitor. Layout of an alias: len 5, w[0..1] a fresh reference
 * number, w[2] the alias number (never 0), w[3] the owner's id, w[4] its serial.
 */
#include "core/core.h"

/* The set is alias_one (the usual case: a call in progress has one alias)
 * plus a table for the others: open addressing with linear probing on
 * nonzero keys; alias numbers are consecutive, so the identity hash
 * spreads them best. */
static uint32_t home(uint32_t k, uint32_t mask) { return k & mask; }

static uint32_t *find(const ep__proc *p, uint32_t a) {
  if (!p->alias_cap) return NULL;
  uint32_t mask = p->alias_cap - 1;
  for (uint32_t i = home(a, mask);; i = (i + 1) & mask) {
    if (p->aliases[i] == a) return &p->aliases[i];
    if (!p->aliases[i]) return NULL;
  }
}

static void free_table(ep__proc *p) {
  free(p->aliases);
  p->aliases = NULL;
  p->alias_n = p->alias_cap = 0;
}

static void put(uint32_t *tab, uint32_t mask, uint32_t a) {
  uint32_t i = home(a, mask);
  while (tab[i]) i = (i + 1) & mask;
  tab[i] = a;
}

static void add(ep__proc *p, uint32_t a) {
  if ((p->alias_n + 1) * 4 > p->alias_cap * 3) {
    uint32_t cap = p->alias_cap ? p->alias_cap * 2 : 8;
    uint32_t *tab = calloc(cap, sizeof *tab);
    if (!tab) abort();   /* as a monitor's allocation */
    for (uint32_t i = 0; i < p->alias_cap; i++)
      if (p->aliases[i]) put(tab, cap - 1, p->aliases[i]);
    free(p->aliases);
    p->aliases = tab;
    p->alias_cap = cap;
  }
  put(p->aliases, p->alias_cap - 1, a);
  p->alias_n++;
}

bool ep__alias_probe(const ep__proc *p, uint32_t a) { return find(p, a) != NULL; }

/* Empties slot i by backward-shift deletion: a key whose probe run
 * crosses the hole moves into it. */
static void drop_at(ep__proc *p, uint32_t i) {
  uint32_t mask = p->alias_cap - 1;
  for (uint32_t j = i;;) {
    j = (j + 1) & mask;
    uint32_t k = p->aliases[j];
    if (!k) break;
    uint32_t h = home(k, mask);
    if (i <= j ? (h <= i || h > j) : (h <= i && h > j)) {
      p->aliases[i] = k;
      i = j;
    }
  }
  p->aliases[i] = 0;
  /* a burst of aliases (a pmap over many tasks) leaves no big table behind */
  if (--p->alias_n == 0 && p->alias_cap > 64) free_table(p);
}

/* Deactivates a; false if it was not active. */
static bool drop(ep__proc *p, uint32_t a) {
  if (a == p->alias_one) {
    p->alias_one = 0;
    return true;
  }
  uint32_t *hit = find(p, a);
  if (hit) drop_at(p, (uint32_t)(hit - p->aliases));
  return hit != NULL;
}

void ep__alias_drop(ep__proc *p, uint32_t a) { drop(p, a); }

void ep__alias_free(ep__proc *p) {
  free_table(p);
  p->alias_one = 0;
}

ep_ref ep__alias_new(ep__proc *p) {
  ep_ref r = ep__make_ref(p->worker);
  uint32_t a = ++p->alias_seq;
  if (EP_UNLIKELY(a == 0)) {
    p->alias_wrapped = true;
    a = 1;
  }
  if (EP_UNLIKELY(p->alias_wrapped)) {   /* after 2^32 aliases: skip any still active */
    while (ep__alias_active(p, a))
      if (++a == 0) a = 1;
  }
  p->alias_seq = a;
  if (!p->alias_one) p->alias_one = a;
  else add(p, a);
  r.len = 5;
  r.w[2] = a;
  r.w[3] = p->id;
  r.w[4] = p->serial;
  return r;
}

bool ep__alias_unref(ep__proc *p, const ep_ref *r) {
  return ep__is_alias(r) && r->w[3] == p->id && r->w[4] == p->serial && drop(p, r->w[2]);
}

bool ep_is_alias(const ep_ref *r) { return ep__is_alias(r); }

ep_ref ep_alias(void) {
  ep__proc *p = ep__self();
  return p ? ep__alias_new(p) : ep_make_ref();
}

bool ep_unalias(const ep_ref *alias) {
  ep__proc *p = ep__self();
  return p && ep__alias_unref(p, alias);
}

int ep_send_alias(const ep_ref *alias, ep_term msg) {
  if (!msg) return EP_EINVAL;
  if (!ep__is_alias(alias)) return 0;   /* reaches no process: dropped */
  ep__proc *self = ep__self();
  ep__msg *m = self ? ep__msg_copy_w(self->worker, msg) : ep__msg_copy(msg);
  if (!m) return EP_ENOMEM;
  m->aux = alias->w[2];
  ep__send_block(self, (ep_pid){alias->w[3], alias->w[4], 0, 0}, m);
  return 0;
}
