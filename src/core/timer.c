/* SPDX-License-Identifier: Apache-2.0 */
/*
 * timer.c - timers and the service thread. One min-heap of deadlines under
 * a mutex holds receive timeouts and send_after timers; one service thread
 * sleeps until the earliest deadline, fires what is due, and every 5 ms
 * while any worker is busy runs the scheduler's monitor tick (stuck
 * workers, sched.c). When every worker is idle and no timer is pending it
 * sleeps without a deadline: an idle runtime uses no CPU. Owns the heap
 * and the timers in it; delivering into mailboxes is mailbox.c's.
 */
#include <string.h>

#include "core/core.h"

#define TICK_NS (5 * 1000000ull)
#define FIRED ((size_t)-1)

enum { TK_RECV, TK_SEND };

typedef struct timer {
  uint64_t deadline;                /* monotonic ns */
  size_t idx;                       /* heap position, FIRED once popped */
  int kind;
  uint32_t gen;                     /* TK_RECV: receive generation */
  ep_pid pid;
  ep__msg *msg;                     /* TK_SEND: the message to deliver */
  ep_ref ref;                       /* TK_SEND: the timer reference */
} timer;

static struct {
  pthread_mutex_t lock;
  timer **heap;
  size_t n, cap;
  uint64_t sleep_until;             /* the service thread's current deadline (0: none) */
  _Atomic uint32_t seq;             /* futex word: bumped to wake the service thread */
  _Atomic int deep;                 /* sleeping without monitor ticks */
  _Atomic int quit;
  pthread_t thread;
  bool running;
} T = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* ----------------------------------------------------------------- heap -- */

static void place(size_t i, timer *t) {
  T.heap[i] = t;
  t->idx = i;
}

static void sift_up(size_t i) {
  timer *t = T.heap[i];
  while (i > 0) {
    size_t up = (i - 1) / 2;
    if (T.heap[up]->deadline <= t->deadline) break;
    place(i, T.heap[up]);
    i = up;
  }
  place(i, t);
}

static void sift_down(size_t i) {
  timer *t = T.heap[i];
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= T.n) break;
    if (c + 1 < T.n && T.heap[c + 1]->deadline < T.heap[c]->deadline) c++;
    if (t->deadline <= T.heap[c]->deadline) break;
    place(i, T.heap[c]);
    i = c;
  }
  place(i, t);
}

static bool heap_push(timer *t) {
  if (T.n == T.cap) {
    size_t cap = T.cap ? T.cap * 2 : 256;
    timer **h = realloc(T.heap, cap * sizeof *h);
    if (!h) return false;
    T.heap = h;
    T.cap = cap;
  }
  place(T.n++, t);
  sift_up(t->idx);
  return true;
}

static void heap_remove(timer *t) {
  size_t i = t->idx;
  timer *last = T.heap[--T.n];
  t->idx = FIRED;
  if (last == t) return;
  place(i, last);
  sift_up(i);
  sift_down(last->idx);
}

static void kick_locked(uint64_t deadline) {
  if (T.sleep_until == 0 || deadline < T.sleep_until) {
    atomic_fetch_add_explicit(&T.seq, 1, memory_order_release);
    ep__os_wake(&T.seq, 1);
  }
}

static bool add(timer *t) {
  pthread_mutex_lock(&T.lock);
  bool ok = heap_push(t);
  if (ok && t->idx == 0) kick_locked(t->deadline);
  pthread_mutex_unlock(&T.lock);
  return ok;
}

/* ---------------------------------------------------------- receive timers -- */

void *ep__timer_recv(ep__proc *p, uint64_t deadline_ns, uint32_t gen) {
  timer *t = calloc(1, sizeof *t);
  if (!t) abort();
  t->deadline = deadline_ns;
  t->kind = TK_RECV;
  t->gen = gen;
  t->pid = ep__pid(p);
  if (!add(t)) abort();
  return t;
}

void ep__timer_cancel_recv(void *tv) {
  timer *t = tv;
  pthread_mutex_lock(&T.lock);
  if (t->idx != FIRED) heap_remove(t);
  pthread_mutex_unlock(&T.lock);
  free(t);   /* a receive timer is its process's, fired or not */
}

/* ------------------------------------------------------------ send_after -- */

ep_ref ep_send_after(long ms, ep_pid pid, ep_term msg) {
  ep__worker *w = ep__tls_worker();
  ep_ref ref = ep__make_ref(w);
  timer *t = calloc(1, sizeof *t);
  ep__msg *m = ep__msg_copy(msg);
  if (!t || !m) abort();
  t->deadline = ep__os_now_ns() + (uint64_t)(ms < 0 ? 0 : ms) * 1000000u;
  t->kind = TK_SEND;
  t->pid = pid;
  t->msg = m;
  t->ref = ref;
  if (!add(t)) abort();
  return ref;
}

static long timer_op(const ep_ref *ref, bool cancel) {
  long left = EP_ENOTFOUND;
  timer *found = NULL;
  pthread_mutex_lock(&T.lock);
  for (size_t i = 0; i < T.n; i++) {
    timer *t = T.heap[i];
    if (t->kind == TK_SEND && ep_ref_eq(&t->ref, ref)) {
      uint64_t now = ep__os_now_ns();
      left = t->deadline > now ? (long)((t->deadline - now + 999999u) / 1000000u) : 0;
      if (cancel) {
        heap_remove(t);
        found = t;
      }
      break;
    }
  }
  pthread_mutex_unlock(&T.lock);
  if (found) {
    ep__msg_free(found->msg);
    free(found);
  }
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
  ep__msg *msg;
} due;

static void fire(due d) {
  bool f = ep__enter();
  ep__proc *p = ep__lookup(d.pid);
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

static void *service_main(void *arg) {
  (void)arg;
  uint64_t next_tick = ep__os_now_ns() + TICK_NS;
  while (!atomic_load_explicit(&T.quit, memory_order_acquire)) {
    uint32_t seq = atomic_load_explicit(&T.seq, memory_order_acquire);
    uint64_t now = ep__os_now_ns();
    for (;;) {
      pthread_mutex_lock(&T.lock);
      timer *t = T.n && T.heap[0]->deadline <= now ? T.heap[0] : NULL;
      due d = {0};
      if (t) {
        heap_remove(t);
        d = (due){t->kind, t->gen, t->pid, t->msg};
        if (t->kind == TK_SEND) free(t);
      }
      pthread_mutex_unlock(&T.lock);
      if (!t) break;
      fire(d);
    }
    if (now >= next_tick) {
      ep__monitor_tick(now);
      next_tick = now + TICK_NS;
    }
    bool idle = ep__all_idle();
    pthread_mutex_lock(&T.lock);
    uint64_t until = T.n ? T.heap[0]->deadline : 0;
    if (!idle && (!until || next_tick < until)) until = next_tick;
    T.sleep_until = until;
    pthread_mutex_unlock(&T.lock);
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
  atomic_store_explicit(&T.quit, 0, memory_order_relaxed);
  atomic_store_explicit(&T.deep, 0, memory_order_relaxed);
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
  pthread_mutex_lock(&T.lock);
  for (size_t i = 0; i < T.n; i++) {
    /* every process is gone, so receive timers are orphans too */
    if (T.heap[i]->msg) ep__msg_free(T.heap[i]->msg);
    free(T.heap[i]);
  }
  free(T.heap);
  T.heap = NULL;
  T.n = T.cap = 0;
  T.sleep_until = 0;
  pthread_mutex_unlock(&T.lock);
}
