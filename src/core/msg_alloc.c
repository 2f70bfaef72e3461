/* SPDX-License-Identifier: Apache-2.0 */
/*
 * msg_alloc.c - message blocks: the memory a message (or a spawn argument,
 * or a control item of the mailbox) lives in from send to release.
 *
 * Most messages are small. They get blocks of two classes, 64 and 128
 * bytes with the header, cache-line aligned: one line or two, which is
 * what crosses between cores when a message does. The allocator is
 * Bonwick's (magazines, a depot, slabs):
 *   - a worker keeps a loaded magazine and a previous one per class (an
 *     array of block pointers each), so a block is taken and given back
 *     with no lock and no atomic;
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

typedef struct ep__mag ep__mag;

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
  ep__mag *full, *empty;            /* the depot's magazines */
  int nfull, nempty;
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

/* Up to n blocks from the slabs into out[] (lock held); returns how many.
 * With no slab to give any, a new one is mapped first, the lock dropped
 * meanwhile. */
static int slabs_take(int c, int n, ep__msg **out) {
  struct klass *k = &klass[c];
  if (!k->avail) {
    pthread_mutex_unlock(&k->lock);
    slab *s = slab_new(c);
    pthread_mutex_lock(&k->lock);
    if (s) slab_link(k, s);
  }
  int got = 0;
  while (got < n && k->avail) {
    slab *s = k->avail;
    while (got < n && s->free) {
      ep__msg *m = s->free;
      s->free = next_of(m);
      s->nfree--;
      out[got++] = m;
    }
    while (got < n && s->carved < s->cap)
      out[got++] = (ep__msg *)((char *)s + (size_t)class_size[c] * ++s->carved);
    if (!s->free && s->carved == s->cap) avail_remove(k, s);
  }
  return got;
}

/* Gives n blocks back to their slabs (lock held); a slab wholly given
 * back goes, unless it is the last. */
static void slabs_give(int c, ep__msg **b, int n) {
  struct klass *k = &klass[c];
  for (int i = 0; i < n; i++) {
    ep__msg *m = b[i];
    slab *s = slab_of(m);
    set_next(m, s->free);
    s->free = m;
    if (++s->nfree == s->carved && (s->anext || s->aprev)) {
      slab_unlink(k, s);
      ep__os_release(s, SLAB);
    } else if (!s->listed) {
      avail_add(k, s);
    }
  }
}

/* ----------------------------------------------------- depot, magazines -- */

/* A magazine is an array of block pointers, not a list threaded through
 * the blocks: taking a block reads only the array, which stays in its
 * worker's cache. A list would make every take read the block's link,
 * and a block freed on another core (a consumer's, for its producers)
 * would cost a cache miss that the next take waits for, one per message;
 * writing a fresh block's header instead is a store, which does not stall. */
struct ep__mag {
  struct ep__mag *next;             /* in the depot */
  int n;                            /* blocks held, in b[0 .. n) */
  ep__msg *b[MAG];
};

static void mag_free_list(ep__mag *m) {
  while (m) {
    ep__mag *next = m->next;
    free(m);
    m = next;
  }
}

/* The depot's empty magazines (lock held): one taken, or NULL; one kept,
 * or handed back to be freed when DEPOT_MAX are kept already. */
static ep__mag *empty_pop(struct klass *k) {
  ep__mag *mag = k->empty;
  if (mag) {
    k->empty = mag->next;
    k->nempty--;
  }
  return mag;
}

static ep__mag *empty_push(struct klass *k, ep__mag *mag) {
  if (k->nempty >= DEPOT_MAX) return mag;
  mag->next = k->empty;
  k->empty = mag;
  k->nempty++;
  return NULL;
}

/* A full magazine from the depot or, failing that, filled from the slabs
 * (into an empty one from the depot, or a new one); NULL if neither has
 * any block. */
static ep__mag *depot_get(int c) {
  struct klass *k = &klass[c];
  ep__mag *spare = NULL;
  pthread_mutex_lock(&k->lock);
  ep__mag *mag = k->full;
  if (mag) {
    k->full = mag->next;
    k->nfull--;
  } else {
    if (!(mag = empty_pop(k)) && !(mag = malloc(sizeof *mag))) {
      pthread_mutex_unlock(&k->lock);
      return NULL;
    }
    mag->n = slabs_take(c, MAG, mag->b);
    if (mag->n == 0) {
      spare = empty_push(k, mag);
      mag = NULL;
    }
  }
  pthread_mutex_unlock(&k->lock);
  free(spare);
  return mag;
}

/* An empty magazine from the depot, or a new one; NULL without memory. */
static ep__mag *depot_get_empty(int c) {
  struct klass *k = &klass[c];
  pthread_mutex_lock(&k->lock);
  ep__mag *mag = empty_pop(k);
  pthread_mutex_unlock(&k->lock);
  if (!mag) mag = malloc(sizeof *mag);
  if (mag) mag->n = 0;
  return mag;
}

/* Takes back a magazine, full or empty. Beyond DEPOT_MAX full ones, its
 * blocks go back to the slabs; beyond DEPOT_MAX empty ones, it is freed. */
static void depot_put(int c, ep__mag *mag) {
  struct klass *k = &klass[c];
  pthread_mutex_lock(&k->lock);
  if (mag->n > 0 && k->nfull < DEPOT_MAX) {
    mag->next = k->full;
    k->full = mag;
    k->nfull++;
    mag = NULL;
  } else {
    slabs_give(c, mag->b, mag->n);
    mag->n = 0;
    mag = empty_push(k, mag);
  }
  pthread_mutex_unlock(&k->lock);
  free(mag);
}

/* The loaded magazine's count lives in the worker (nmag), next to the
 * pointer, so that a take or a give loads both at once; the magazine's own
 * n is written back when it stops being the loaded one. */
static inline void load(ep__worker *w, int c, ep__mag *mag, ep__mag *prev) {
  if (w->mag[c]) w->mag[c]->n = w->nmag[c];
  w->mag_prev[c] = prev;
  w->mag[c] = mag;
  w->nmag[c] = mag->n;
}

/* Bonwick's loaded and previous magazines: the loaded one serves, the
 * previous one is full or empty, so a run of takes or of gives that
 * crosses a magazine boundary swaps them instead of going to the depot
 * each time. Makes the loaded magazine (w's own) one with a block to take
 * (take) or with room for one more: the previous one if it is, else one
 * from the depot, the previous going back there. false if none could be
 * had. */
static bool reload(ep__worker *w, int c, bool take) {
  ep__mag *prev = w->mag_prev[c];
  if (prev && (take ? prev->n > 0 : prev->n < MAG)) {
    load(w, c, prev, w->mag[c]);
    return true;
  }
  ep__mag *next = take ? depot_get(c) : depot_get_empty(c);
  if (!next) return false;
  if (prev) depot_put(c, prev);
  load(w, c, next, w->mag[c]);
  return true;
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
      if (reload(w, c, true)) m = w->mag[c]->b[--w->nmag[c]];
    } else {                        /* a thread of no worker: straight from the slabs */
      pthread_mutex_lock(&klass[c].lock);
      if (slabs_take(c, 1, &m) == 0) m = NULL;
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
  if (EP_LIKELY(w && c < EP__MSG_CLASSES && w->nmag[c] > 0))
    return block_init(w->mag[c]->b[--w->nmag[c]], c);
  return msg_new_slow(w, need, c);
}

ep__msg *ep__msg_new(size_t term_size) { return ep__msg_new_w(ep__tls_worker(), term_size); }

static EP_NOINLINE void msg_free_slow(ep__worker *w, ep__msg *m) {
  int c = m->cls - 1;
  if (c < 0) {
    free(m);
  } else if (w && reload(w, c, false)) {
    w->mag[c]->b[w->nmag[c]++] = m;
  } else {
    pthread_mutex_lock(&klass[c].lock);
    slabs_give(c, &m, 1);
    pthread_mutex_unlock(&klass[c].lock);
  }
}

void ep__msg_free_w(ep__worker *w, ep__msg *m) {
  int c = m->cls - 1;
  ep__mag *l;
  if (EP_LIKELY(c >= 0 && w && (l = w->mag[c]) != NULL && w->nmag[c] < MAG)) {
    l->b[w->nmag[c]++] = m;
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
    if (w->mag[c]) w->mag[c]->n = w->nmag[c];
    ep__mag *mags[2] = {w->mag[c], w->mag_prev[c]};
    pthread_mutex_lock(&klass[c].lock);
    for (int i = 0; i < 2; i++)
      if (mags[i]) slabs_give(c, mags[i]->b, mags[i]->n);
    pthread_mutex_unlock(&klass[c].lock);
    free(mags[0]);
    free(mags[1]);
    w->mag[c] = w->mag_prev[c] = NULL;
    w->nmag[c] = 0;
  }
}

/* At stop, when no worker runs and every message has been released. */
void ep__msg_depot_free(void) {
  for (int c = 0; c < EP__MSG_CLASSES; c++) {
    struct klass *k = &klass[c];
    pthread_mutex_lock(&k->lock);
    for (ep__mag *mag = k->full; mag; mag = mag->next) slabs_give(c, mag->b, mag->n);
    mag_free_list(k->full);
    mag_free_list(k->empty);
    k->full = k->empty = NULL;
    k->nfull = k->nempty = 0;
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
