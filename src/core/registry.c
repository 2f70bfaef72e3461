/* SPDX-License-Identifier: Apache-2.0 */
/*
 * registry.c - registered names (R39-R44): one table from atom to pid
 * under one mutex, and each process's own name in its PCB (same lock).
 * Owns the table; a dying process releases its name here before its exit
 * signals go out (signal.c calls ep__registry_release first, R7, R44).
 */
#include <string.h>

#include "core/core.h"

typedef struct {
  ep_atom name;     /* 0: empty slot */
  bool unborn;      /* reserved by a spawn that has not published its child */
  ep_pid pid;
} entry;

static struct {
  pthread_mutex_t lock;
  entry *tab;       /* open addressing, linear probing, backward-shift delete */
  size_t cap, n;
} R = {.lock = PTHREAD_MUTEX_INITIALIZER};

static size_t home(ep_atom a) { return (size_t)(a * 2654435761u) & (R.cap - 1); }

static entry *find_locked(ep_atom a) {
  if (!R.cap) return NULL;
  for (size_t i = home(a);; i = (i + 1) & (R.cap - 1)) {
    if (R.tab[i].name == a) return &R.tab[i];
    if (!R.tab[i].name) return NULL;
  }
}

static bool grow_locked(void) {
  size_t cap = R.cap ? R.cap * 2 : 64;
  entry *old = R.tab;
  size_t oldcap = R.cap;
  R.tab = calloc(cap, sizeof(entry));
  if (!R.tab) {
    R.tab = old;
    return false;
  }
  R.cap = cap;
  for (size_t i = 0; i < oldcap; i++) {
    if (!old[i].name) continue;
    size_t j = home(old[i].name);
    while (R.tab[j].name) j = (j + 1) & (cap - 1);
    R.tab[j] = old[i];
  }
  free(old);
  return true;
}

static void remove_locked(entry *e) {
  size_t i = (size_t)(e - R.tab);
  R.tab[i].name = 0;
  R.n--;
  for (size_t j = (i + 1) & (R.cap - 1); R.tab[j].name; j = (j + 1) & (R.cap - 1)) {
    size_t h = home(R.tab[j].name);
    /* move j back into the hole if its home is not in (i, j] */
    if ((j > i && (h <= i || h > j)) || (j < i && (h <= i && h > j))) {
      R.tab[i] = R.tab[j];
      R.tab[j].name = 0;
      i = j;
    }
  }
}

/* Adds name -> p; the caller holds R.lock and has checked p may take it. */
static int add_locked(ep_atom name, ep__proc *p, ep_pid pid, bool unborn) {
  if (atomic_load_explicit(&p->name, memory_order_relaxed) || find_locked(name) ||
      !(R.n + 1 < R.cap / 2 || grow_locked()))
    return EP_EBADARG;
  size_t i = home(name);
  while (R.tab[i].name) i = (i + 1) & (R.cap - 1);
  R.tab[i] = (entry){name, unborn, pid};
  R.n++;
  atomic_store_explicit(&p->name, name, memory_order_relaxed);
  return 0;
}

int ep_register(ep_atom name, ep_pid pid) {
  if (!name || name == EP_A_undefined) return EP_EBADARG;
  bool f = ep__enter();
  int rc = EP_EBADARG;
  pthread_mutex_lock(&R.lock);
  ep__proc *p = ep__lookup(pid);
  if (p) {
    /* under p's lock, where death sets exiting and then reads the name:
     * either the name is refused or death finds it (ep__registry_release) */
    ep__lock(p);
    if (!atomic_load_explicit(&p->exiting, memory_order_relaxed)) rc = add_locked(name, p, pid, false);
    ep__unlock(p);
  }
  pthread_mutex_unlock(&R.lock);
  ep__leave(f);
  return rc;
}

/* spawn_opt with a name: the name is reserved while nobody can see the
 * child (a taken name then leaves no process, link, monitor or DOWN
 * behind), and becomes visible only once the child is published, so no
 * one can resolve it to a pid that cannot be found yet. */
int ep__register_unborn(ep_atom name, ep__proc *p, ep_pid pid) {
  pthread_mutex_lock(&R.lock);
  int rc = add_locked(name, p, pid, true);
  pthread_mutex_unlock(&R.lock);
  return rc;
}

void ep__register_born(ep_atom name, ep_pid pid) {
  pthread_mutex_lock(&R.lock);
  entry *e = find_locked(name);
  if (e && ep_pid_eq(e->pid, pid)) e->unborn = false;
  pthread_mutex_unlock(&R.lock);
}

int ep_unregister(ep_atom name) {
  bool f = ep__enter();
  int rc = EP_EBADARG;
  pthread_mutex_lock(&R.lock);
  entry *e = find_locked(name);
  if (e && !e->unborn) {
    ep__proc *p = ep__lookup(e->pid);
    if (p && atomic_load_explicit(&p->name, memory_order_relaxed) == name)
      atomic_store_explicit(&p->name, 0, memory_order_relaxed);
    remove_locked(e);
    rc = 0;
  }
  pthread_mutex_unlock(&R.lock);
  ep__leave(f);
  return rc;
}

ep_pid ep_whereis(ep_atom name) {
  pthread_mutex_lock(&R.lock);
  entry *e = find_locked(name);
  ep_pid pid = e && !e->unborn ? e->pid : EP_PID_NONE;
  pthread_mutex_unlock(&R.lock);
  return pid;
}

long ep_registered(ep_atom *out, long cap) {
  pthread_mutex_lock(&R.lock);
  long n = 0;
  for (size_t i = 0; i < R.cap; i++) {
    if (!R.tab[i].name || R.tab[i].unborn) continue;
    if (out && n < cap) out[n] = R.tab[i].name;
    n++;
  }
  pthread_mutex_unlock(&R.lock);
  return n;
}

ep_atom ep__registered_name(ep__proc *p) {
  pthread_mutex_lock(&R.lock);
  ep_atom a = atomic_load_explicit(&p->name, memory_order_relaxed);
  pthread_mutex_unlock(&R.lock);
  return a;
}

/* Called by death, once it has found a name under p's lock after setting
 * exiting there (so no ep_register can add one after it); the common
 * nameless death never comes here. */
void ep__registry_release(ep__proc *p) {
  pthread_mutex_lock(&R.lock);
  ep_atom a = atomic_load_explicit(&p->name, memory_order_relaxed);
  if (a) {
    entry *e = find_locked(a);
    if (e && ep_pid_eq(e->pid, ep__pid(p))) remove_locked(e);
    atomic_store_explicit(&p->name, 0, memory_order_relaxed);
  }
  pthread_mutex_unlock(&R.lock);
}

void ep__registry_free_all(void) {
  pthread_mutex_lock(&R.lock);
  free(R.tab);
  R.tab = NULL;
  R.cap = R.n = 0;
  pthread_mutex_unlock(&R.lock);
}
