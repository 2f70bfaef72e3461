/* SPDX-License-Identifier: Apache-2.0 */
/*
 * msg_alloc.c - message blocks: the memory a message (or a spawn argument,
 * or a control item of the mailbox) lives in from send to release.
 *
 * Most messages are small. They get blocks of two classes, 64 and 128
 * bytes with the header, cache-line aligned: one line or two, which is
 * what crosses between cores when a message does. The allocator is
 * Bonwick's (magazines, a depot, slabs):
 *   - a worker keeps a loaded magazine and one full one per class, so a
 *     block is taken and given back with no lock and no atomic;
 *   - beyond that, full magazines go to the class's depot, and a worker
 *     with none left takes one from it: a block freed on another worker
 *     than the one that made it (a consumer fed by producers elsewhere)
 *     travels back MAG at a time;
 *   - the depot is fed from slabs (SLAB bytes, aligned, their pages made
 *     present in one call instead of one fault each) and, when it is full,
 *     gives blocks back to them; a slab whose blocks are all back returns
 *     to the system. So a burst (a pmap's 200,000 replies waiting to be
 *     received) costs a few mmaps, not a malloc and a free per message, and
 *     memory held after it is bounded by the depot.
 * Bigger messages are malloc'd. Under AddressSanitizer every block is
 * malloc'd, so that it sees each one (ThreadSanitizer checks the slabs).
 */
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

#if defined(EP_ASAN)
#define MSG_SLABS 0
#else
#define MSG_SLABS 1
#endif
#define MAG 256                     /* blocks per magazine */
#define DEPOT_MAX 32                /* full magazines a class's depot keeps */
#define SLAB ((size_t)1 << 20)      /* bytes per slab; slabs are aligned to it */

static const uint32_t class_size[EP__MSG_CLASSES] = {64, 128};

/* A slab's header, in its first block. */
typedef struct slab {
  struct slab *next, *prev;         /* the class's slabs that have blocks to give */
  struct slab *anext, *aprev;       /* all the class's slabs */
  ep__msg *free;                    /* blocks given back, linked by next */
  uint32_t nfree;                   /* on free */
  uint32_t carved;                  /* blocks handed out at least once (from the front) */
  uint32_t cap;                     /* blocks in the slab */
  bool listed;                      /* on the class's list of slabs with blocks to give */
} slab;

static struct klass {
  pthread_mutex_t lock;
  ep__msg *mags;                    /* full magazines, linked by their first block's inext */
  int nmags;
  slab *avail;                      /* slabs with blocks to give */
  slab *all;
  size_t nslabs;                    /* changed under the lock, read without it too */
} klass[EP__MSG_CLASSES] = {{.lock = PTHREAD_MUTEX_INITIALIZER}, {.lock = PTHREAD_MUTEX_INITIALIZER}};

static inline slab *slab_of(ep__msg *m) { return (slab *)((uintptr_t)m & ~(uintptr_t)(SLAB - 1)); }
static inline ep__msg *next_of(ep__msg *m) { return atomic_load_explicit(&m->next, memory_order_relaxed); }
static inline void set_next(ep__msg *m, ep__msg *n) { atomic_store_explicit(&m->next, n, memory_order_relaxed); }

/* ---------------------------------------------------------------- slabs -- */

static void avail_add(struct klass *k, slab *s) {
  s->prev = NULL;
  s->next = k->avail;
  if (k->avail) k->avail->prev = s;
  k->avail = s;
  s->listed = true;
}

static void avail_remove(struct klass *k, slab *s) {
  if (s->prev) s->prev->next = s->next;
  else k->avail = s->next;
  if (s->next) s->next->prev = s->prev;
  s->listed = false;
}

/* Called without the lock: mapping and populating a slab takes a while.
 * The first slab of a class fills page by page as it is used (populating
 * 1 MiB costs ~0.5 ms, more than a small program's whole run); a class
 * that needs another is in a burst, which then costs one call per slab
 * instead of a fault per page. */
static slab *slab_new(int c) {
  slab *s = ep__os_map_aligned(SLAB, __atomic_load_n(&klass[c].nslabs, __ATOMIC_RELAXED) > 0);
  if (!s) return NULL;
  memset(s, 0, sizeof *s);
  s->cap = (uint32_t)(SLAB / class_size[c]) - 1;   /* the first block holds this header */
  return s;
}

static void slab_link(struct klass *k, slab *s) {
  __atomic_fetch_add(&k->nslabs, 1, __ATOMIC_RELAXED);   /* slab_new reads it unlocked */
  s->aprev = NULL;
  s->anext = k->all;
  if (k->all) k->all->aprev = s;
  k->all = s;
  avail_add(k, s);
}

static void slab_unlink(struct klass *k, slab *s) {
  __atomic_fetch_sub(&k->nslabs, 1, __ATOMIC_RELAXED);
  if (s->listed) avail_remove(k, s);
  if (s->aprev) s->aprev->anext = s->anext;
  else k->all = s->anext;
  if (s->anext) s->anext->aprev = s->aprev;
}

/* Up to n blocks from the slabs, linked by next into *first (lock held);
 * returns how many. With no slab to give any, a new one is mapped first,
 * the lock dropped meanwhile. */
static int slabs_take(int c, int n, ep__msg **first) {
  struct klass *k = &klass[c];
  if (!k->avail) {
    pthread_mutex_unlock(&k->lock);
    slab *s = slab_new(c);
    pthread_mutex_lock(&k->lock);
    if (s) slab_link(k, s);
  }
  ep__msg *head = NULL;
  int got = 0;
  while (got < n && k->avail) {
    slab *s = k->avail;
    while (got < n && s->free) {
      ep__msg *m = s->free;
      s->free = next_of(m);
      s->nfree--;
      set_next(m, head);
      head = m;
      got++;
    }
    while (got < n && s->carved < s->cap) {
      ep__msg *m = (ep__msg *)((char *)s + (size_t)class_size[c] * ++s->carved);
      set_next(m, head);
      head = m;
      got++;
    }
    if (!s->free && s->carved == s->cap) avail_remove(k, s);
  }
  *first = head;
  return got;
}

/* Gives a list of blocks (linked by next) back to their slabs (lock held);
 * a slab wholly given back goes, unless it is the last. */
static void slabs_give(int c, ep__msg *m) {
  struct klass *k = &klass[c];
  while (m) {
    ep__msg *n = next_of(m);
    slab *s = slab_of(m);
    set_next(m, s->free);
    s->free = m;
    if (++s->nfree == s->carved && (s->anext || s->aprev)) {
      slab_unlink(k, s);
      ep__os_release(s, SLAB);
    } else if (!s->listed) {
      avail_add(k, s);
    }
    m = n;
  }
}

/* ----------------------------------------------------- depot, magazines -- */

/* A full magazine from the depot or, failing that, the slabs; *n blocks. */
static ep__msg *depot_get(int c, int *n) {
  struct klass *k = &klass[c];
  ep__msg *mag = NULL;
  pthread_mutex_lock(&k->lock);
  if (k->mags) {
    mag = k->mags;
    k->mags = mag->inext;
    k->nmags--;
    *n = MAG;
  } else {
    *n = slabs_take(c, MAG, &mag);
  }
  pthread_mutex_unlock(&k->lock);
  return mag;
}

static void depot_put(int c, ep__msg *mag) {
  struct klass *k = &klass[c];
  pthread_mutex_lock(&k->lock);
  if (k->nmags < DEPOT_MAX) {
    mag->inext = k->mags;
    k->mags = mag;
    k->nmags++;
  } else {
    slabs_give(c, mag);
  }
  pthread_mutex_unlock(&k->lock);
}

/* The loaded magazine's top block, taken or given back (w's own). */
static inline ep__msg *mag_pop(ep__worker *w, int c) {
  ep__msg *m = w->msgs[c];
  w->msgs[c] = next_of(m);
  w->nmsgs[c]--;
  return m;
}

static inline void mag_push(ep__worker *w, int c, ep__msg *m) {
  set_next(m, w->msgs[c]);
  w->msgs[c] = m;
  w->nmsgs[c]++;
}

static ep__msg *cache_get(ep__worker *w, int c) {
  if (!w->msgs[c]) {
    if (w->msgs_full[c]) {
      w->msgs[c] = w->msgs_full[c];
      w->msgs_full[c] = NULL;
      w->nmsgs[c] = MAG;
    } else if ((w->msgs[c] = depot_get(c, &w->nmsgs[c])) == NULL) {
      return NULL;
    }
  }
  return mag_pop(w, c);
}

static void cache_put(ep__worker *w, int c, ep__msg *m) {
  if (w->nmsgs[c] == MAG) {
    if (w->msgs_full[c]) depot_put(c, w->msgs_full[c]);
    w->msgs_full[c] = w->msgs[c];
    w->msgs[c] = NULL;
    w->nmsgs[c] = 0;
  }
  mag_push(w, c, m);
}

/* --------------------------------------------------------------- blocks -- */

static inline ep__msg *block_init(ep__msg *m, int c) {
  m->kind = MK_MSG;
  m->cls = (uint8_t)(c < EP__MSG_CLASSES ? c + 1 : 0);
  m->done = 0;
  m->aux = 0;
  return m;
}

_Static_assert(EP__MSG_CLASSES == 2, "class_of picks between two classes");

/* The class of a block of `need` bytes, header included; EP__MSG_CLASSES
 * for one that is malloc'd. */
static inline int class_of(size_t need) {
  if (!MSG_SLABS || need > class_size[1]) return EP__MSG_CLASSES;
  return need > class_size[0];
}

/* Everything but a block from a stocked magazine: out of line, so that
 * the common case is a leaf with no registers to save. */
static EP_NOINLINE ep__msg *msg_new_slow(ep__worker *w, size_t need, int c) {
  ep__msg *m = NULL;
  if (c < EP__MSG_CLASSES) {
    if (w) {
      m = cache_get(w, c);
    } else {                        /* a thread of no worker: straight from the slabs */
      pthread_mutex_lock(&klass[c].lock);
      slabs_take(c, 1, &m);
      pthread_mutex_unlock(&klass[c].lock);
    }
  } else {
    m = malloc(need);
  }
  return m ? block_init(m, c) : NULL;
}

ep__msg *ep__msg_new_w(ep__worker *w, size_t term_size) {
  size_t need = EP__MSG_HDR + term_size;
  int c = class_of(need);
  if (EP_LIKELY(w && c < EP__MSG_CLASSES && w->msgs[c])) return block_init(mag_pop(w, c), c);
  return msg_new_slow(w, need, c);
}

ep__msg *ep__msg_new(size_t term_size) { return ep__msg_new_w(ep__tls_worker(), term_size); }

static EP_NOINLINE void msg_free_slow(ep__worker *w, ep__msg *m) {
  int c = m->cls - 1;
  if (c < 0) {
    free(m);
  } else if (w) {
    cache_put(w, c, m);
  } else {
    set_next(m, NULL);
    pthread_mutex_lock(&klass[c].lock);
    slabs_give(c, m);
    pthread_mutex_unlock(&klass[c].lock);
  }
}

void ep__msg_free_w(ep__worker *w, ep__msg *m) {
  int c = m->cls - 1;
  if (EP_LIKELY(c >= 0 && w && w->nmsgs[c] < MAG)) {
    mag_push(w, c, m);
    return;
  }
  msg_free_slow(w, m);
}

void ep__msg_free(ep__msg *m) { ep__msg_free_w(m->cls ? ep__tls_worker() : NULL, m); }

ep__msg *ep__msg_copy_w(ep__worker *w, ep_term t) {
  size_t n = ep_term_size(t);
  ep__msg *m = ep__msg_new_w(w, n);
  if (m) memcpy((char *)m + EP__MSG_HDR, t, n);
  return m;
}

ep__msg *ep__msg_copy(ep_term t) { return ep__msg_copy_w(ep__tls_worker(), t); }

/* A stopping worker's magazines go back to the slabs. */
void ep__msg_cache_free(ep__worker *w) {
  for (int c = 0; c < EP__MSG_CLASSES; c++) {
    pthread_mutex_lock(&klass[c].lock);
    slabs_give(c, w->msgs[c]);
    slabs_give(c, w->msgs_full[c]);
    pthread_mutex_unlock(&klass[c].lock);
    w->msgs[c] = w->msgs_full[c] = NULL;
    w->nmsgs[c] = 0;
  }
}

/* At stop, when no worker runs and every message has been released. */
void ep__msg_depot_free(void) {
  for (int c = 0; c < EP__MSG_CLASSES; c++) {
    struct klass *k = &klass[c];
    pthread_mutex_lock(&k->lock);
    while (k->mags) {
      ep__msg *mag = k->mags;
      k->mags = mag->inext;
      slabs_give(c, mag);
    }
    k->nmags = 0;
    while (k->all) {
      slab *s = k->all;
      slab_unlink(k, s);
      ep__os_release(s, SLAB);
    }
    pthread_mutex_unlock(&k->lock);
  }
}

size_t ep__msg_slab_bytes(void) {
  size_t n = 0;
  for (int c = 0; c < EP__MSG_CLASSES; c++) {
    pthread_mutex_lock(&klass[c].lock);
    n += klass[c].nslabs * SLAB;
    pthread_mutex_unlock(&klass[c].lock);
  }
  return n;
}
