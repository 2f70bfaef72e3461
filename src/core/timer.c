/* SPDX-License-Identifier: Apache-2.0 */
/*
 * timer.c - timers and the service thread. Deadlines live in min-heaps,
 * one per worker and one for foreign threads, each under its own mutex:
 * a process arms and cancels its receive timeout on the heap of the worker
 * it runs on, so gen_server calls on different workers never meet on a
 * lock, and timer records are recycled through the heap's free list
 * instead of malloc. One service thread sleeps until the earliest
 * deadline of all heaps, fires what is due, and every 5 ms while any
 * worker is busy runs the scheduler's monitor tick (stuck workers,
 * sched.c). When every worker is idle and no timer is pending it sleeps
 * without a deadline: an idle runtime uses no CPU. A send_after timer's
 * reference names its heap, and each heap indexes its send_after timers by
 * reference, so cancel_timer and read_timer cost the same with a million
 * timers pending as with one. A receive timeout is nearly always cancelled
 * (the message came): the process cancels it with one compare-and-swap
 * and leaves it in the heap, to be dropped when it comes to the top or by
 * a sweep when cancelled ones could outnumber the live (see arm). Owns the
 * heaps and the timers in them; delivering into mailboxes is mailbox.c's.
 */
#include <string.h>

#include "core/core.h"

#define TICK_NS (5 * 1000000ull)
#define FIRED ((size_t)-1)
#define SPARE_MAX 256                 /* free records kept per heap */

enum { TK_RECV, TK_SEND };
enum { TS_ARMED, TS_FIRED, TS_CANCELLED };   /* a receive timer's state */

typedef struct shard shard;

typedef struct timer {
  uint64_t deadline;                /* monotonic ns */
  size_t idx;                       /* heap position, FIRED once popped */
  shard *home;                      /* the heap it is (or was) in */
  int kind;
  _Atomic int state;                /* TK_RECV: armed until fired or cancelled */
  uint32_t gen;                     /* TK_RECV: receive generation */
  ep_pid pid;
  ep_atom name;                     /* TK_SEND: looked up when it fires, if not 0 */
  ep__msg *msg;                     /* TK_SEND: the message to deliver */
  ep_ref ref;                       /* TK_SEND: the timer reference */
} timer;

struct shard {
  _Alignas(64) pthread_mutex_t lock;
  timer **heap;
  size_t n, cap;
  timer **byref;                    /* TK_SEND timers in the heap, by reference */
  size_t nref, refcap;              /* refcap: 0 or a power of two */
  ep__freelist spare;               /* free records */
  size_t sweep_at;                  /* heap size at which cancelled timers are swept */
};

static struct {
  shard *shards;
  int nshards;                      /* workers' (nthreads + stand-ins), then the foreign one */
  _Atomic uint64_t sleep_until;     /* the service thread's deadline; 0: awake, or no deadline */
  _Atomic int sleeping;             /* 1 while sleep_until is meaningful */
  _Atomic uint32_t seq;             /* futex word: bumped to wake the service thread */
  _Atomic int deep;                 /* sleeping without monitor ticks */
  _Atomic int quit;
  pthread_t thread;
  bool running;
} T;

/* ----------------------------------------------------------------- heap -- */

static void place(shard *s, size_t i, timer *t) {
  s->heap[i] = t;
  t->idx = i;
}

static void sift_up(shard *s, size_t i) {
  timer *t = s->heap[i];
  while (i > 0) {
    size_t up = (i - 1) / 2;
    if (s->heap[up]->deadline <= t->deadline) break;
    place(s, i, s->heap[up]);
    i = up;
  }
  place(s, i, t);
}

static void sift_down(shard *s, size_t i) {
  timer *t = s->heap[i];
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= s->n) break;
    if (c + 1 < s->n && s->heap[c + 1]->deadline < s->heap[c]->deadline) c++;
    if (t->deadline <= s->heap[c]->deadline) break;
    place(s, i, s->heap[c]);
    i = c;
  }
  place(s, i, t);
}

static bool heap_push(shard *s, timer *t) {
  if (s->n == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 64;
    timer **h = realloc(s->heap, cap * sizeof *h);
    if (!h) return false;
    s->heap = h;
    s->cap = cap;
  }
  place(s, s->n++, t);
  sift_up(s, t->idx);
  return true;
}

static void heap_remove(shard *s, timer *t) {
  size_t i = t->idx;
  timer *last = s->heap[--s->n];
  t->idx = FIRED;
  if (last == t) return;
  place(s, i, last);
  sift_up(s, i);
  sift_down(s, last->idx);
}

/* ------------------------------------------------------ index by ref -- */

/* A send_after reference is made by its heap's owner: words 0-1 are the
 * runtime's unique reference number, word 2 is the heap's index + 1
 * (ordinary references have 0 there). The index is open addressing on
 * that number, with backward-shift deletion (no tombstones). */
static uint64_t ref_key(const ep_ref *r) { return r->w[0] | (uint64_t)r->w[1] << 32; }

static size_t ref_home(const shard *s, uint64_t key) {
  return (size_t)((key * 0x9E3779B97F4A7C15ull) >> 32) & (s->refcap - 1);
}

static timer **ref_slot(shard *s, const ep_ref *r) {
  if (!s->refcap) return NULL;
  uint64_t key = ref_key(r);
  for (size_t i = ref_home(s, key);; i = (i + 1) & (s->refcap - 1)) {
    if (!s->byref[i]) return NULL;
    if (ep_ref_eq(&s->byref[i]->ref, r)) return &s->byref[i];
  }
}

static void ref_place(shard *s, timer *t) {
  size_t i = ref_home(s, ref_key(&t->ref));
  while (s->byref[i]) i = (i + 1) & (s->refcap - 1);
  s->byref[i] = t;
}

static bool ref_add(shard *s, timer *t) {
  if (2 * (s->nref + 1) > s->refcap) {
    size_t cap = s->refcap ? s->refcap * 2 : 64;
    timer **old = s->byref, **tab = calloc(cap, sizeof *tab);
    if (!tab) return false;
    size_t oldcap = s->refcap;
    s->byref = tab;
    s->refcap = cap;
    for (size_t i = 0; i < oldcap; i++)
      if (old[i]) ref_place(s, old[i]);
    free(old);
  }
  ref_place(s, t);
  s->nref++;
  return true;
}

static void ref_remove(shard *s, timer **e) {
  size_t i = (size_t)(e - s->byref), mask = s->refcap - 1;
  s->byref[i] = NULL;
  s->nref--;
  for (size_t j = (i + 1) & mask; s->byref[j]; j = (j + 1) & mask) {
    /* an entry moves back into the hole unless its home lies after the
     * hole, up to it (cyclically) */
    size_t h = ref_home(s, ref_key(&s->byref[j]->ref));
    if (((j - h) & mask) >= ((j - i) & mask)) {
      s->byref[i] = s->byref[j];
      s->byref[j] = NULL;
      i = j;
    }
  }
}

/* The heap of the calling thread's worker, or the foreign threads' one. */
static shard *my_shard(ep__worker *w) {
  return &T.shards[w ? w->index : T.nshards - 1];
}

/* s is locked. */
static void timer_put(shard *s, timer *t) { ep__fl_put(&s->spare, t, SPARE_MAX); }

/* Called after t went into the heap: wakes the service thread if it
 * sleeps past t. While it is awake (sleeping = 0) it will look at every
 * heap again before sleeping: bumping seq alone makes it do so (its
 * futex wait returns at once), without a system call. */
static void kick(uint64_t deadline) {
  /* seq_cst: pairs with the service thread's stores to sleeping */
  if (!atomic_load_explicit(&T.sleeping, memory_order_seq_cst)) {
    atomic_fetch_add_explicit(&T.seq, 1, memory_order_release);
    return;
  }
  uint64_t until = atomic_load_explicit(&T.sleep_until, memory_order_relaxed);
  if (until == 0 || deadline < until) {
    atomic_fetch_add_explicit(&T.seq, 1, memory_order_release);
    ep__os_wake(&T.seq, 1);
  }
}

/* acquire: pairs with the cancelling process's release; the record is then
 * the heap's to reuse or free */
static bool cancelled(timer *t) {
  return t->kind == TK_RECV && atomic_load_explicit(&t->state, memory_order_acquire) == TS_CANCELLED;
}

/* s is locked. Drops the cancelled receive timers: those on top, which
 * would only wake the service thread; all of them once the heap has grown
 * to twice what it held after the last sweep, so they never outnumber the
 * live by much and the sweeps cost O(1) per timer armed. */
static void drop_cancelled(shard *s) {
  while (s->n && cancelled(s->heap[0])) {
    timer *t = s->heap[0];
    heap_remove(s, t);
    timer_put(s, t);
  }
  if (s->n < s->sweep_at) return;
  size_t live = 0;
  for (size_t i = 0; i < s->n; i++) {
    timer *t = s->heap[i];
    if (cancelled(t)) timer_put(s, t);
    else s->heap[live++] = t;
  }
  s->n = live;
  for (size_t i = 0; i < live; i++) s->heap[i]->idx = i;
  for (size_t i = live / 2; i-- > 0;) sift_down(s, i);
  s->sweep_at = 2 * live + 64;
}

/* Arms a timer made like `like` on heap s (a record from the
 * heap's free list, or malloc), and wakes the service thread if needed. */
static timer *arm(shard *s, timer like) {
  like.home = s;
  pthread_mutex_lock(&s->lock);
  drop_cancelled(s);
  timer *t = ep__fl_pop(&s->spare);
  if (!t && !(t = malloc(sizeof *t))) abort();
  *t = like;
  if (t->kind == TK_SEND && !ref_add(s, t)) abort();
  if (!heap_push(s, t)) abort();
  pthread_mutex_unlock(&s->lock);
  kick(like.deadline);
  return t;
}

/* ---------------------------------------------------------- receive timers -- */

void *ep__timer_recv(ep__proc *p, uint64_t deadline_ns, uint32_t gen) {
  return arm(my_shard(p->worker),
             (timer){.deadline = deadline_ns, .kind = TK_RECV, .gen = gen, .pid = ep__pid(p)});
}

/* Armed, it is left in the heap, which drops it (arm, fire_due); fired,
 * the record is the process's, and goes back to its heap here. */
void ep__timer_cancel_recv(void *tv) {
  timer *t = tv;
  int armed = TS_ARMED;
  if (atomic_compare_exchange_strong_explicit(&t->state, &armed, TS_CANCELLED,
                                              memory_order_release, memory_order_relaxed))
    return;
  shard *s = t->home;
  pthread_mutex_lock(&s->lock);
  timer_put(s, t);
  pthread_mutex_unlock(&s->lock);
}

/* ------------------------------------------------ send_after, start_timer -- */

/* erlang:send_after/3 and start_timer/3 to a pid or (name not 0) a name;
 * start_timer delivers {timeout, TimerRef, Msg}. */
static ep_ref send_after(long ms, ep_pid pid, ep_atom name, bool by_name, ep_term msg,
                         bool start_timer) {
  ep__worker *w = ep__tls_worker();
  ep_ref ref = ep__make_ref(w);
  if (!msg || ms < 0 || (by_name && !name)) {
    /* no message, a time in the past or no name: badarg for a process
     * (as erlang:send_after/3 raises); a foreign thread gets a
     * reference that names no timer */
    if (ep__self()) ep_error_atom(EP_A_badarg);
    return ref;
  }
  shard *s = my_shard(w);
  ref.w[2] = (uint32_t)(s - T.shards) + 1;   /* the heap it goes on: see ref_key */
  ep__msg *m;
  if (start_timer) {
    uint8_t buf[128];
    ep_build b;
    ep_b_init_buf(&b, buf, sizeof buf);
    ep_b_tuple(&b);
    ep_b_atom(&b, EP_A_timeout);
    ep_b_ref(&b, &ref);
    ep_b_term(&b, msg);
    ep_b_end(&b);
    ep_term t = ep_b_peek(&b);
    m = t ? ep__msg_copy_w(w, t) : NULL;
    ep_b_free(&b);
  } else {
    m = ep__msg_copy_w(w, msg);
  }
  if (!m) abort();
  uint64_t deadline = ep__os_now_ns() + (uint64_t)ms * 1000000u;
  arm(s, (timer){.deadline = deadline, .kind = TK_SEND, .pid = pid, .name = name, .msg = m,
                 .ref = ref});
  return ref;
}

ep_ref ep_send_after(long ms, ep_pid pid, ep_term msg) {
  return send_after(ms, pid, 0, false, msg, false);
}
ep_ref ep_send_after_name(long ms, ep_atom name, ep_term msg) {
  return send_after(ms, EP_PID_NONE, name, true, msg, false);
}
ep_ref ep_start_timer(long ms, ep_pid pid, ep_term msg) {
  return send_after(ms, pid, 0, false, msg, true);
}
ep_ref ep_start_timer_name(long ms, ep_atom name, ep_term msg) {
  return send_after(ms, EP_PID_NONE, name, true, msg, true);
}

static long timer_op(const ep_ref *ref, bool cancel) {
  if (!ref) return EP_EINVAL;
  uint32_t k = ref->len == 3 && ref->node == EP_NODE_LOCAL ? ref->w[2] : 0;
  if (k == 0 || k > (uint32_t)T.nshards) return EP_ENOTFOUND;
  shard *s = &T.shards[k - 1];
  pthread_mutex_lock(&s->lock);
  timer **e = ref_slot(s, ref);
  if (!e) {
    pthread_mutex_unlock(&s->lock);
    return EP_ENOTFOUND;
  }
  timer *t = *e;
  uint64_t now = ep__os_now_ns();
  long left = t->deadline > now ? (long)((t->deadline - now + 999999u) / 1000000u) : 0;
  ep__msg *m = NULL;
  if (cancel) {
    ref_remove(s, e);
    heap_remove(s, t);
    m = t->msg;
    timer_put(s, t);
  }
  pthread_mutex_unlock(&s->lock);
  if (m) ep__msg_free(m);
  return left;
}

long ep_cancel_timer(const ep_ref *timer_ref) { return timer_op(timer_ref, true); }
long ep_read_timer(const ep_ref *timer_ref) { return timer_op(timer_ref, false); }

/* ------------------------------------------------------- service thread -- */

/* What firing needs, copied out under the lock: a receive timer belongs to
 * its process (freed by ep__timer_cancel_recv), so the service thread must
 * not touch it once the lock is released. */
typedef struct {
  int kind;
  uint32_t gen;
  ep_pid pid;
  ep_atom name;
  ep__msg *msg;
} due;

static void fire(due d) {
  bool f = ep__enter();
  /* a name is looked up now, as Erlang does: unregistered, it is dropped */
  ep__proc *p = ep__lookup(d.name ? ep_whereis(d.name) : d.pid);
  if (p && !atomic_load_explicit(&p->exiting, memory_order_acquire)) {
    if (d.kind == TK_RECV) {
      ep__msg *m = ep__msg_new(0);
      if (!m) abort();
      m->kind = MK_TIMEOUT;
      m->aux = d.gen;
      ep__deliver(p, m);
    } else {
      ep__deliver(p, d.msg);
      d.msg = NULL;
    }
  }
  ep__leave(f);
  if (d.msg) ep__msg_free(d.msg);
}

/* Fires what is due on s; returns s's earliest pending deadline (0: none). */
static uint64_t fire_due(shard *s, uint64_t now) {
  for (;;) {
    pthread_mutex_lock(&s->lock);
    timer *t = s->n && s->heap[0]->deadline <= now ? s->heap[0] : NULL;
    due d = {0};
    bool found = t != NULL, fires = found;   /* t may be freed below */
    if (t) {
      heap_remove(s, t);
      d = (due){t->kind, t->gen, t->pid, t->name, t->msg};
      if (t->kind == TK_SEND) {
        ref_remove(s, ref_slot(s, &t->ref));
        timer_put(s, t);
      } else {
        /* fired: the record is its process's from here (its cancel frees
         * it); cancelled already: ours to drop, with nothing to fire */
        int armed = TS_ARMED;
        if (!atomic_compare_exchange_strong_explicit(&t->state, &armed, TS_FIRED,
                                                     memory_order_acquire, memory_order_acquire)) {
          timer_put(s, t);
          fires = false;
        }
      }
    }
    uint64_t next = s->n ? s->heap[0]->deadline : 0;
    pthread_mutex_unlock(&s->lock);
    if (!found) return next;
    if (fires) fire(d);
  }
}

static void *service_main(void *arg) {
  (void)arg;
  uint64_t next_tick = ep__os_now_ns() + TICK_NS;
  while (!atomic_load_explicit(&T.quit, memory_order_acquire)) {
    /* awake: adders bump seq instead of waking us (see kick) */
    atomic_store_explicit(&T.sleeping, 0, memory_order_seq_cst);
    uint32_t seq = atomic_load_explicit(&T.seq, memory_order_acquire);
    uint64_t now = ep__os_now_ns();
    uint64_t until = 0;
    for (int k = 0; k < T.nshards; k++) {
      uint64_t next = fire_due(&T.shards[k], now);
      if (next && (!until || next < until)) until = next;
    }
    if (now >= next_tick) {
      ep__monitor_tick(now);
      next_tick = now + TICK_NS;
    }
    bool idle = ep__all_idle();
    if (!idle && (!until || next_tick < until)) until = next_tick;
    atomic_store_explicit(&T.sleep_until, until, memory_order_relaxed);
    atomic_store_explicit(&T.sleeping, 1, memory_order_seq_cst);
    if (idle) atomic_store_explicit(&T.deep, 1, memory_order_seq_cst);
    /* recheck after announcing deep sleep: a worker may have just woken */
    if (idle && !ep__all_idle()) {
      atomic_store_explicit(&T.deep, 0, memory_order_relaxed);
      continue;
    }
    if (until) ep__os_wait_until(&T.seq, seq, until);
    else ep__os_wait(&T.seq, seq);
    atomic_store_explicit(&T.deep, 0, memory_order_relaxed);
    if (idle) next_tick = ep__os_now_ns() + TICK_NS;
  }
  return NULL;
}

void ep__service_kick(void) {
  if (atomic_load_explicit(&T.deep, memory_order_seq_cst) &&
      atomic_exchange_explicit(&T.deep, 0, memory_order_seq_cst)) {
    atomic_fetch_add_explicit(&T.seq, 1, memory_order_release);
    ep__os_wake(&T.seq, 1);
  }
}

int ep__service_start(void) {
  T.nshards = RT->nthreads + EP_MAX_STANDINS + 1;
  T.shards = aligned_alloc(64, sizeof(shard) * (size_t)T.nshards);
  if (!T.shards) return EP_ENOMEM;
  memset(T.shards, 0, sizeof(shard) * (size_t)T.nshards);
  for (int k = 0; k < T.nshards; k++) pthread_mutex_init(&T.shards[k].lock, NULL);
  atomic_store_explicit(&T.quit, 0, memory_order_relaxed);
  atomic_store_explicit(&T.deep, 0, memory_order_relaxed);
  atomic_store_explicit(&T.sleeping, 0, memory_order_relaxed);
  ep__monitor_reset();
  if (pthread_create(&T.thread, NULL, service_main, NULL) != 0) return EP_ENOMEM;
  T.running = true;
  return 0;
}

void ep__service_stop(void) {
  if (!T.running) return;
  atomic_store_explicit(&T.quit, 1, memory_order_release);
  atomic_fetch_add_explicit(&T.seq, 1, memory_order_release);
  ep__os_wake(&T.seq, 1);
  pthread_join(T.thread, NULL);
  T.running = false;
  for (int k = 0; k < T.nshards; k++) {
    shard *s = &T.shards[k];
    /* the workers still run (idle): their last changes are seen through the lock */
    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < s->n; i++) {
      /* every process is gone, so receive timers are orphans too;
       * acquire: a cancel made on a worker happens before the free */
      timer *t = s->heap[i];
      (void)atomic_load_explicit(&t->state, memory_order_acquire);
      if (t->msg) ep__msg_free(t->msg);
      free(t);
    }
    ep__fl_free_all(&s->spare);
    free(s->heap);
    free(s->byref);
    pthread_mutex_unlock(&s->lock);
    pthread_mutex_destroy(&s->lock);
  }
  free(T.shards);
  T.shards = NULL;
  T.nshards = 0;
}
