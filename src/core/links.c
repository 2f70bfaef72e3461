/* SPDX-License-Identifier: Apache-2.0 */
/*
 * links.c - a process's set of links: an open-addressing hash table keyed
 * by pid, so a process with many links (a pmap owner, a supervisor) adds
 * and removes each one in O(1). Owns the table memory; the locking is the
 * caller's (the owning process's lock, see core.h).
 */
#include <string.h>

#include "core/core.h"

/* The smallest tables (a child linked to its parent, a chain link) are
 * recycled through a per-worker free list, so a spawn_link allocates
 * nothing. Owned by the worker's thread alone (tls), like the message
 * cache; off under the sanitizers, which must see every malloc and free. */
#define SMALL_CAP 4
#if defined(EP_SANITIZE_BUILD)
#define TAB_CACHE 0
#else
#define TAB_CACHE 4096
#endif

static ep__link *tab_new(uint32_t cap) {
  ep__worker *w = cap == SMALL_CAP ? ep__tls_worker() : NULL;
  ep__link *t = w ? ep__fl_pop(&w->ltabs) : NULL;
  if (t) {
    memset(t, 0, SMALL_CAP * sizeof *t);
    return t;
  }
  return calloc(cap, sizeof(ep__link));
}

static void tab_free(ep__link *tab, uint32_t cap) {
  ep__worker *w = TAB_CACHE && cap == SMALL_CAP ? ep__tls_worker() : NULL;
  if (w) ep__fl_put(&w->ltabs, tab, TAB_CACHE);
  else free(tab);
}

static size_t home(const ep__links *s, ep_pid pid) {
  return (size_t)((pid.id * 2654435761u) ^ (pid.serial * 40503u)) & (s->cap - 1);
}

static ep__link *slot_of(const ep__links *s, ep_pid pid) {
  if (!s->cap) return NULL;
  for (size_t i = home(s, pid);; i = (i + 1) & (s->cap - 1)) {
    if (s->tab[i].pid.id == 0) return NULL;
    if (ep_pid_eq(s->tab[i].pid, pid)) return &s->tab[i];
  }
}

bool ep__links_find(const ep__links *s, ep_pid pid) { return slot_of(s, pid) != NULL; }

static void put(ep__links *s, ep__link l) {
  size_t i = home(s, l.pid);
  while (s->tab[i].pid.id) i = (i + 1) & (s->cap - 1);
  s->tab[i] = l;
}

void ep__links_add(ep__links *s, ep__proc *peer, ep_pid pid) {
  if (2 * (s->n + 1) > s->cap) {
    ep__links old = *s;
    s->cap = old.cap ? old.cap * 2 : SMALL_CAP;
    s->tab = tab_new(s->cap);
    if (!s->tab) abort();
    for (uint32_t i = 0; i < old.cap; i++)
      if (old.tab[i].pid.id) put(s, old.tab[i]);
    if (old.tab) tab_free(old.tab, old.cap);
  }
  put(s, (ep__link){peer, pid});
  s->n++;
}

bool ep__links_remove(ep__links *s, ep_pid pid) {
  ep__link *e = slot_of(s, pid);
  if (!e) return false;
  size_t i = (size_t)(e - s->tab);
  s->tab[i].pid.id = 0;
  s->n--;
  /* backward-shift deletion: no tombstones */
  for (size_t j = (i + 1) & (s->cap - 1); s->tab[j].pid.id; j = (j + 1) & (s->cap - 1)) {
    size_t h = home(s, s->tab[j].pid);
    if ((j > i && (h <= i || h > j)) || (j < i && h <= i && h > j)) {
      s->tab[i] = s->tab[j];
      s->tab[j].pid.id = 0;
      i = j;
    }
  }
  return true;
}

void ep__links_free(ep__links *s) {
  if (s->tab) tab_free(s->tab, s->cap);
  *s = (ep__links){0};
}
