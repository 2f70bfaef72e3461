/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sched.c - the M:N scheduler: one worker thread per core, each with a
 * ring run queue and a runnext slot (Go's design), a global queue for
 * wake-ups from foreign threads, work stealing, idle parking on a futex,
 * and the stand-in workers the monitor starts when a worker is stuck in a
 * long C loop. Owns the workers and the switch between a process and its
 * scheduler. Process state and death are proc.c's and signal.c's.
 *
 * Fairness without preemption: a C loop that never calls the runtime
 * cannot be interrupted safely (only a signal could, and a signal handler
 * cannot switch stacks under arbitrary C code). So the monitor (timer.c's
 * service thread, every 10 ms while any worker is busy) marks a worker that
 * has not switched for EP_STUCK_NS as stuck: its runnext becomes stealable,
 * an idle worker is woken, and if none is idle a stand-in worker thread is
 * started (up to EP_MAX_STANDINS) that takes the stuck worker's queue. The
 * kernel then time-slices the spinning thread and the stand-in, so other
 * processes keep answering within tens of milliseconds.
 */
#define _GNU_SOURCE   /* pthread_getattr_np */
#include <string.h>
#include <time.h>

#include "core/core.h"

#ifdef EP_TSAN
#include <sanitizer/tsan_interface.h>
#endif
#ifdef EP_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

ep__rt ep__rt_g;

/* Named only inside asm (core.h): GCC's link-time optimiser must keep it. */
#if defined(__GNUC__) && !defined(__clang__)
#define EP__ASM_VISIBLE __attribute__((used, externally_visible))
#else
#define EP__ASM_VISIBLE __attribute__((used))
#endif
__thread ep__worker *ep__tls_w __attribute__((tls_model("initial-exec"))) EP__ASM_VISIBLE;

#if !EP__TLS_ASM
EP_NOINLINE ep__worker *ep__tls_worker_slow(void) {
  /* Not inlined: a process may resume on another thread, so the TLS
   * address must be recomputed at every call, never cached by a caller. */
  ep__worker *w = ep__tls_w;
  __asm__ volatile("" ::: "memory");
  return w;
}
#endif
void ep__set_tls_worker(ep__worker *w) { ep__tls_w = w; }

/* Every this many picks a worker takes from the global FIFO first (a
 * prime, so it does not beat in step with a program's own periods). */
#define GLOBAL_EVERY 61

/* -------------------------------------------------------- fiber hooks -- */

void ep__fiber_create(ep__proc *p) {
#ifdef EP_TSAN
  p->tsan_fiber = __tsan_create_fiber(0);
#else
  (void)p;
#endif
}

void ep__fiber_destroy(ep__proc *p) {
#ifdef EP_TSAN
  if (p->tsan_fiber) __tsan_destroy_fiber(p->tsan_fiber);
  p->tsan_fiber = NULL;
#else
  (void)p;
#endif
}

/* Every change of stack, told to the sanitizers: ASan keeps a fake stack
 * per stack (`fake`, the one we leave; `gone` if it is never resumed, so
 * its fake frames are dropped) and must know the bounds [lo, lo + size) of
 * the stack we go to; TSan switches to that stack's fiber. The arguments
 * name fields that exist only in sanitizer builds, so without them these
 * expand to the bare switch and the arguments are never compiled. */
#ifdef EP_ASAN
#define ASAN_START(fake, gone, lo, size) __sanitizer_start_switch_fiber((gone) ? NULL : (fake), lo, size)
#define ASAN_FINISH(fake) __sanitizer_finish_switch_fiber(*(fake), NULL, NULL)
#define ASAN_FINISH_FRESH() __sanitizer_finish_switch_fiber(NULL, NULL, NULL)   /* first run */
#else
#define ASAN_START(fake, gone, lo, size) ((void)0)
#define ASAN_FINISH(fake) ((void)0)
#define ASAN_FINISH_FRESH() ((void)0)
#endif
#ifdef EP_TSAN
#define TSAN_SWITCH(fiber) __tsan_switch_to_fiber(fiber, 0)
#else
#define TSAN_SWITCH(fiber) ((void)0)
#endif
#define SWITCH_STACKS(save_sp, to_sp, fake, gone, lo, size, fiber) \
  do {                                                             \
    ASAN_START(fake, gone, lo, size);                              \
    TSAN_SWITCH(fiber);                                            \
    ep__ctx_switch(save_sp, to_sp);                                \
    ASAN_FINISH(fake);                                             \
  } while (0)

static inline void switch_in(ep__worker *w, ep__proc *p) {
  SWITCH_STACKS(&w->sched_sp, p->sp, &w->asan_fake, false, ep__stack_lo(p->stack),
                ep__stack_usable(p->stack), p->tsan_fiber);
}

/* ------------------------------------------------------------ runnext -- */

/* runnext is filled only by its owner and taken by its owner, except that
 * a thief may empty the runnext of a stuck worker (one whose process has
 * not switched for EP_STUCK_NS). An atomic exchange per take would cost
 * every message hop one locked instruction, for the sake of a rare thief.
 * So the two sides shake hands Dekker-style with an asymmetric fence: the
 * owner announces itself in rn_busy and then reads rn_thief with only a
 * compiler barrier between; a thief announces itself in rn_thief, makes
 * every running thread execute a full barrier (membarrier), then reads
 * rn_busy. They cannot both miss each other: an owner that sees a thief
 * uses atomic operations, a thief that sees the owner busy gives up until
 * the next look. Without membarrier the owner always uses atomics. */
bool ep__asym_fence;

/* Owner: puts p (may be NULL) in runnext, returns what was there. */
static inline ep__proc *rn_swap(ep__worker *w, ep__proc *p) {
  if (ep__asym_enter(&w->rn_busy, &w->rn_thief)) {
    ep__proc *old = atomic_load_explicit(&w->runnext, memory_order_relaxed);
    /* release: a thief that loads p sees the PCB */
    atomic_store_explicit(&w->runnext, p, memory_order_release);
    ep__asym_leave(&w->rn_busy);
    return old;
  }
  return atomic_exchange_explicit(&w->runnext, p, memory_order_acq_rel);
}

static inline ep__proc *rn_take(ep__worker *w) {
  if (!atomic_load_explicit(&w->runnext, memory_order_relaxed)) return NULL;
  return rn_swap(w, NULL);
}

/* Thief: empties the runnext of v (a stuck worker). */
static ep__proc *rn_steal(ep__worker *v) {
  ep__proc *p = atomic_load_explicit(&v->runnext, memory_order_acquire);
  if (!p) return NULL;
  if (ep__asym_fence) {
    int zero = 0;   /* one thief at a time */
    if (!atomic_compare_exchange_strong_explicit(&v->rn_thief, &zero, 1, memory_order_seq_cst,
                                                 memory_order_relaxed))
      return NULL;
    p = NULL;
    if (ep__os_heavy_fence() && !atomic_load_explicit(&v->rn_busy, memory_order_acquire)) {
      p = atomic_load_explicit(&v->runnext, memory_order_acquire);
      if (p && !atomic_compare_exchange_strong_explicit(&v->runnext, &p, NULL, memory_order_acq_rel,
                                                        memory_order_relaxed))
        p = NULL;
    }
    atomic_store_explicit(&v->rn_thief, 0, memory_order_release);
    return p;
  }
  if (!atomic_compare_exchange_strong_explicit(&v->runnext, &p, NULL, memory_order_acq_rel,
                                               memory_order_relaxed))
    p = NULL;
  return p;
}

static bool give_stack(ep__worker *w, ep__proc *p);
static void publish_spawned(ep__worker *w);
static ep__proc *dq_take(ep__worker *w);
static void finish_handoff(ep__worker *w);

/* q runs on w from now on, in place of the running process, which is left
 * for finish_handoff to park (or bury). Counted as a switch (monitor). */
static inline void take_over(ep__worker *w, ep__proc *p, ep__proc *q) {
  w->handoff = p;
  w->cur = q;
  q->worker = w;
  atomic_store_explicit(&w->switches, atomic_load_explicit(&w->switches, memory_order_relaxed) + 1,
                        memory_order_relaxed);
}

/* A process that parks (or dies) while its worker has another ready, in
 * runnext or else in the local queue, switches straight to it (one switch
 * instead of two, no trip through the scheduler loop). The park is then
 * completed on the other side, by finish_handoff, once its stack has been
 * left. */
static bool handoff(ep__worker *w, ep__proc *p) {
  ep__proc *q = rn_take(w);
  bool fresh = false;
  if (!q && w->spawned && !w->spawned->qnext) {
    q = w->spawned;   /* spawned one child and now waits for it (spawn_latency, calls) */
    w->spawned = NULL;
  } else if (!q && !w->spawned && (w->tick + 1) % GLOBAL_EVERY != 0 &&
             (q = dq_take(w)) != NULL) {
    /* the next of the local queue, with a slice of its own, as the loop
     * would take it; the picks that are the global FIFO's turn are left
     * to the loop */
    w->tick++;
    fresh = true;
  }
  if (!q) return false;
  char here;
  if (!ep__stack_sp_ok(p->stack, &here) || (!q->stack && !give_stack(w, q))) {
    ep__runq_put(w, q, true);   /* the scheduler sorts these out */
    return false;
  }
  take_over(w, p, q);
  if (fresh) w->budget = EP_REDUCTIONS;
  /* a dying process's stack is never resumed */
  SWITCH_STACKS(&p->sp, q->sp, &p->asan_fake, p->intent == IN_EXIT, ep__stack_lo(q->stack),
                ep__stack_usable(q->stack), q->tsan_fiber);
  finish_handoff(p->worker);
  return true;
}

void ep__switch_out(ep__proc *p, int intent) {
  ep__worker *w = p->worker;
  p->intent = intent;
  if ((intent == IN_PARK || (intent == IN_EXIT && !p->overflowed)) && handoff(w, p)) return;
  /* a dying process's stack, or a parked handler's, is never resumed */
  SWITCH_STACKS(&p->sp, w->sched_sp, &p->asan_fake, intent == IN_EXIT || intent == IN_PARK_FREE,
                w->tstack_lo, w->tstack_size, w->tsan_fiber);
  /* resumed, possibly on another worker: `w` is stale from here on */
  finish_handoff(p->worker);
}

_Noreturn void ep__die(ep__proc *p) {
  ep__switch_out(p, IN_EXIT);
  abort();   /* a dead process is never switched back in */
}

/* ------------------------------------------------------ process entry -- */

static void proc_entry(void *arg) {
  ep__proc *p = arg;
  ASAN_FINISH_FRESH();
  finish_handoff(p->worker);
  ep__check_exit(p);
  p->fn(p->arg);
  /* ends with normal: ep__death sets it unless a signal got there first */
  ep__die(p);
}

/* A handler with nothing left to handle passes its borrowed stack straight
 * to the next process if that is a stackless handler in runnext (a message
 * it just sent woke it): no switch, no trip through the scheduler loop,
 * the slice shared as for a handoff. Returns that process, now running on
 * this stack, with p parked (or queued, if something arrived meanwhile). */
static ep__proc *chain_handler(ep__worker *w, ep__proc *p) {
  ep__proc *q = atomic_load_explicit(&w->runnext, memory_order_relaxed);
  if (!q || !q->handler || q->stack) return NULL;
  q = rn_take(w);
  if (!q) return NULL;   /* a thief of a stuck worker took it */
  if (!q->handler || q->stack) {
    ep__runq_put(w, q, true);
    return NULL;
  }
  q->stack = p->stack;
  p->stack = NULL;
  p->intent = IN_PARK_FREE;
  take_over(w, p, q);
  TSAN_SWITCH(q->tsan_fiber);   /* same stack, another fiber for TSan */
  /* parks p, which may then run elsewhere, on a stack of its own */
  finish_handoff(w);
  return q;
}

/* A stackless process: each run starts here on a borrowed stack, handles
 * what is queued, and gives the stack back when nothing is left. */
static void handler_entry(void *arg) {
  ep__proc *p = arg;
  ASAN_FINISH_FRESH();
  finish_handoff(p->worker);
  for (;;) {
    ep__recv_release(p);
    ep__check_exit(p);
    if (!p->in_head) ep__drain(p);   /* arrivals once the inner queue is done, as receive */
    ep__msg *m = p->in_head;
    if (!m) {
      ep__proc *q = chain_handler(p->worker, p);
      if (q) {
        p = q;
        continue;
      }
      ep__switch_out(p, IN_PARK_FREE);
      abort();   /* the scheduler restarts a handler from the top */
    }
    ep__inner_unlink(p, NULL, m);
    p->cur_msg = m;
    ep__charge(p, 1);
    if (!p->hfn(p->hstate, ep__msg_term(m))) {
      ep__exit_self(p, ep__atom_dup(EP_A_normal));
      ep__die(p);
    }
  }
}

/* ---------------------------------------------------------- run queues -- */

/* The local queue is a Chase-Lev work-stealing deque (Le et al., "Correct
 * and efficient work-stealing for weak memory models", PPoPP 2013): the
 * owner pushes and takes at the bottom (newest first: a freshly spawned
 * tree runs depth first and stays small and cache-hot), thieves take from
 * the top (oldest first: the biggest pieces of work). Fairness comes from
 * the budget: a process that used its slice goes to the global FIFO. */

static inline ep__proc *dq_load(ep__worker *w, int64_t i) {
  return atomic_load_explicit(&w->dq[i & (EP_RUNQ_SIZE - 1)], memory_order_relaxed);
}

static void wakep(bool backlog);

/* Wakes an idle worker if none is looking for work already. For a backlog
 * (a local queue worth stealing from) only a worker free to steal will do:
 * one holding off stealing (see judge_steal) sleeps until its hold ends. */
static void maybe_wakep(bool backlog) {
  int n = atomic_load_explicit(&RT->nidle, memory_order_relaxed);
  if (backlog) n -= atomic_load_explicit(&RT->nidle_held, memory_order_relaxed);
  if (n > 0 && atomic_load_explicit(&RT->nspinning, memory_order_relaxed) == 0) wakep(backlog);
}

static void global_put_list(ep__proc *first, ep__proc *last, long n) {
  last->qnext = NULL;
  pthread_mutex_lock(&RT->gq_lock);
  if (RT->gq_tail) RT->gq_tail->qnext = first;
  else RT->gq_head = first;
  RT->gq_tail = last;
  atomic_fetch_add_explicit(&RT->gq_n, n, memory_order_relaxed);
  pthread_mutex_unlock(&RT->gq_lock);
}

/* One item from the top of v's deque; NULL if empty, or if a race was lost
 * (*lost set). */
static ep__proc *dq_steal(ep__worker *v, bool *lost) {
  int64_t t = atomic_load_explicit(&v->dq_top, memory_order_acquire);
  atomic_thread_fence(memory_order_seq_cst);
  /* acquire: pairs with the owner's release store of bottom in dq_push */
  int64_t b = atomic_load_explicit(&v->dq_bottom, memory_order_acquire);
  if (t >= b) return NULL;
  ep__proc *p = dq_load(v, t);
  if (!atomic_compare_exchange_strong_explicit(&v->dq_top, &t, t + 1, memory_order_seq_cst,
                                               memory_order_relaxed)) {
    *lost = true;
    return NULL;
  }
  return p;
}

/* Full deque: the older half goes to the global queue, taken from our own
 * top the way a thief would. */
static void dq_spill(ep__worker *w) {
  ep__proc *first = NULL, *last = NULL;
  long n = 0;
  for (int i = 0; i < EP_RUNQ_SIZE / 2; i++) {
    bool lost = false;
    ep__proc *p = dq_steal(w, &lost);
    if (!p) {
      if (lost) continue;
      break;
    }
    if (last) last->qnext = p;
    else first = p;
    last = p;
    n++;
  }
  if (n) global_put_list(first, last, n);
}

static void dq_push(ep__worker *w, ep__proc *p) {
  int64_t b = atomic_load_explicit(&w->dq_bottom, memory_order_relaxed);
  int64_t t = atomic_load_explicit(&w->dq_top, memory_order_acquire);
  if (b - t >= EP_RUNQ_SIZE) {
    dq_spill(w);
    t = atomic_load_explicit(&w->dq_top, memory_order_acquire);
  }
  atomic_store_explicit(&w->dq[b & (EP_RUNQ_SIZE - 1)], p, memory_order_relaxed);
  /* release: a thief that sees the new bottom sees the entry and the PCB */
  atomic_store_explicit(&w->dq_bottom, b + 1, memory_order_release);
}

static ep__proc *dq_take(ep__worker *w) {
  int64_t b = atomic_load_explicit(&w->dq_bottom, memory_order_relaxed) - 1;
  atomic_store_explicit(&w->dq_bottom, b, memory_order_relaxed);
  /* seq_cst: orders our claim on bottom before reading top (a thief does
   * the converse), so the last item goes to exactly one of us */
  atomic_thread_fence(memory_order_seq_cst);
  int64_t t = atomic_load_explicit(&w->dq_top, memory_order_relaxed);
  if (t > b) {
    atomic_store_explicit(&w->dq_bottom, b + 1, memory_order_relaxed);
    return NULL;
  }
  ep__proc *p = dq_load(w, b);
  if (t == b) {
    if (!atomic_compare_exchange_strong_explicit(&w->dq_top, &t, t + 1, memory_order_seq_cst,
                                                 memory_order_relaxed))
      p = NULL;
    atomic_store_explicit(&w->dq_bottom, b + 1, memory_order_relaxed);
  }
  return p;
}

static bool has_more_than(ep__worker *w, int64_t n) {
  return atomic_load_explicit(&w->dq_bottom, memory_order_relaxed) -
             atomic_load_explicit(&w->dq_top, memory_order_relaxed) > n;
}

/* Whether thieves should take from v. Moving a process to another core
 * costs about ten cache lines (its PCB, the top of its stack, its
 * messages), and a short queue is emptied by its owner sooner than that
 * pays off: taking from it splits conversations (a gen_server and its
 * callers) across cores and makes them slower, not faster. A backlog is
 * shared; so is everything a stuck worker holds. */
static bool worth_stealing(ep__worker *v) {
  return has_more_than(v, atomic_load_explicit(&v->stuck, memory_order_relaxed) ? 0 : EP_STEAL_MIN);
}

/* w is always the calling thread's own worker. */
void ep__runq_put(ep__worker *w, ep__proc *p, bool next) {
  if (next) {
    /* Only w's own thread puts a process into w->runnext; other threads
     * (thieves of a stuck worker) only take one out. So an empty slot
     * stays empty until we fill it, and a plain store fills it (release:
     * a thief that loads p sees the PCB). A full slot may be emptied by a
     * thief at any moment: swap. */
    if (!atomic_load_explicit(&w->runnext, memory_order_relaxed)) {
      atomic_store_explicit(&w->runnext, p, memory_order_release);
      return;
    }
    p = rn_swap(w, p);
    if (!p) return;
  }
  dq_push(w, p);
  if (has_more_than(w, EP_STEAL_MIN)) maybe_wakep(true);
}

static ep__proc *local_get(ep__worker *w, bool *from_next) {
  if (atomic_load_explicit(&w->runnext, memory_order_relaxed)) {
    ep__proc *p = rn_take(w);
    if (p) {
      *from_next = true;
      return p;
    }
  }
  return dq_take(w);
}

/* Children are held back until their parent switches out, then pushed so
 * that the first spawned is taken first: a parent that spawns and waits
 * (skynet, a supervisor) has its subtree run depth first, and a long burst
 * of spawns (pmap) runs in spawn order, so replies come back in order. */
void ep__spawned(ep__worker *w, ep__proc *p) {
  p->qnext = w->spawned;
  w->spawned = p;
}

static void publish_spawned(ep__worker *w) {
  ep__proc *p = w->spawned;
  if (!p) return;
  w->spawned = NULL;
  while (p) {
    ep__proc *next = p->qnext;
    dq_push(w, p);
    p = next;
  }
  /* this worker is about to take one itself: only a backlog is worth
   * waking a thread for (a wake-up is a system call) */
  if (has_more_than(w, EP_STEAL_MIN)) maybe_wakep(true);
}

/* Completes the park or the death of the process that handed its worker
 * to us (see handoff): now that its stack has been left, it may be parked,
 * or run again if something arrived meanwhile; a dying one is buried. */
static void finish_handoff(ep__worker *w) {
  ep__proc *prev = w->handoff;
  if (!prev) return;
  w->handoff = NULL;
  publish_spawned(w);
  if (prev->intent == IN_EXIT) ep__death(w, prev);
  else if (!ep__mq_markparked(prev)) ep__runq_put(w, prev, false);
  /* a chain of handoffs never returns to the loop: quiescent states here */
  if ((++w->last_qs & 63) == 0) ep__quiescent(w);
}

void ep__global_put(ep__proc *p) {
  global_put_list(p, p, 1);
  /* seq_cst: pairs with the fence of a worker going idle (see park) */
  atomic_thread_fence(memory_order_seq_cst);
  if (atomic_load_explicit(&RT->nidle, memory_order_relaxed) > 0) ep__wakep();
}

/* Takes a fair share of the global queue: one to run, the rest into w's deque. */
static ep__proc *global_get(ep__worker *w) {
  if (atomic_load_explicit(&RT->gq_n, memory_order_relaxed) == 0) return NULL;
  pthread_mutex_lock(&RT->gq_lock);
  ep__proc *p = RT->gq_head;
  if (!p) {
    pthread_mutex_unlock(&RT->gq_lock);
    return NULL;
  }
  long n = atomic_load_explicit(&RT->gq_n, memory_order_relaxed);
  long share = n / atomic_load_explicit(&RT->nworkers, memory_order_relaxed) + 1;
  /* never more than half the room left in our deque: taking more would
   * spill straight back */
  long room = EP_RUNQ_SIZE - (long)(atomic_load_explicit(&w->dq_bottom, memory_order_relaxed) -
                                    atomic_load_explicit(&w->dq_top, memory_order_relaxed));
  if (share > room / 2) share = room / 2;
  if (share > 256) share = 256;
  if (share < 1) share = 1;
  ep__proc *last = p;
  long taken = 1;
  while (taken < share && last->qnext) {
    last = last->qnext;
    taken++;
  }
  RT->gq_head = last->qnext;
  if (!RT->gq_head) RT->gq_tail = NULL;
  atomic_fetch_sub_explicit(&RT->gq_n, taken, memory_order_relaxed);
  pthread_mutex_unlock(&RT->gq_lock);
  /* oldest runs now; the rest go in so that the next oldest is taken next */
  ep__proc *rest[256];
  long k = 0;
  for (ep__proc *q = p->qnext; k < taken - 1; q = q->qnext) rest[k++] = q;
  while (k > 0) dq_push(w, rest[--k]);
  return p;
}

static ep__proc *take_resume(ep__worker *w) {
  if (!atomic_load_explicit(&w->resume, memory_order_relaxed)) return NULL;
  return atomic_exchange_explicit(&w->resume, NULL, memory_order_acq_rel);
}

static ep__proc *steal_from(ep__worker *v, bool stuck_only) {
  if (stuck_only && !atomic_load_explicit(&v->stuck, memory_order_relaxed)) return NULL;
  for (int tries = 0; tries < 4 && worth_stealing(v); tries++) {
    bool lost = false;
    ep__proc *p = dq_steal(v, &lost);
    if (p) return p;
    if (!lost) break;
  }
  if (atomic_load_explicit(&v->stuck, memory_order_relaxed)) {
    ep__proc *p = rn_steal(v);
    if (p) return p;
    if ((p = take_resume(v)) != NULL) return p;
  }
  return NULL;
}

static ep__proc *steal(ep__worker *w, bool stuck_only) {
  int n = atomic_load_explicit(&RT->nworkers, memory_order_acquire);
  for (int round = 0; round < 4; round++) {
    w->rng = w->rng * 1103515245u + 12345u;
    int start = (int)((w->rng >> 8) % (uint32_t)n);
    for (int i = 0; i < n; i++) {
      ep__worker *v = RT->workers[(start + i) % n];
      if (v == w) continue;
      ep__proc *p = steal_from(v, stuck_only);
      if (p) return p;
    }
  }
  return NULL;
}

static bool has_queued(ep__worker *v) {
  return atomic_load_explicit(&v->dq_bottom, memory_order_relaxed) >
         atomic_load_explicit(&v->dq_top, memory_order_relaxed);
}

/* held: w holds off stealing, so another's backlog is not work for it. */
static bool work_visible(ep__worker *w, bool held) {
  if (atomic_load_explicit(&RT->gq_n, memory_order_relaxed) > 0) return true;
  int n = atomic_load_explicit(&RT->nworkers, memory_order_acquire);
  for (int i = 0; i < n; i++) {
    ep__worker *v = RT->workers[i];
    if (v == w) continue;
    if (!held && worth_stealing(v)) return true;
    if (atomic_load_explicit(&v->stuck, memory_order_relaxed) &&
        (atomic_load_explicit(&v->runnext, memory_order_relaxed) ||
         atomic_load_explicit(&v->resume, memory_order_relaxed)))
      return true;
  }
  return false;
}

/* ------------------------------------------------------- idle workers -- */

/* Takes w off the idle list (idle lock held; pp points at w's link). */
static void idle_unlink(ep__worker **pp, ep__worker *w) {
  *pp = w->idle_next;
  w->idle = false;
  if (w->idle_held) {
    w->idle_held = false;
    atomic_fetch_sub_explicit(&RT->nidle_held, 1, memory_order_seq_cst);
  }
  atomic_fetch_sub_explicit(&RT->nidle, 1, memory_order_seq_cst);
}

static void wakep(bool backlog) {
  if (atomic_load_explicit(&RT->nidle, memory_order_seq_cst) == 0) return;
  int zero = 0;
  /* only one thread looks for work at a time on behalf of the producers */
  if (!atomic_compare_exchange_strong_explicit(&RT->nspinning, &zero, 1, memory_order_seq_cst,
                                               memory_order_relaxed))
    return;
  pthread_mutex_lock(&RT->idle_lock);
  ep__worker **pp = &RT->idle;
  while (*pp && backlog && (*pp)->idle_held) pp = &(*pp)->idle_next;
  ep__worker *w = *pp;
  if (w) idle_unlink(pp, w);
  pthread_mutex_unlock(&RT->idle_lock);
  if (!w) {
    atomic_fetch_sub_explicit(&RT->nspinning, 1, memory_order_seq_cst);
    return;
  }
  /* the woken worker inherits the spinning count taken above */
  atomic_store_explicit(&w->park, 1, memory_order_release);
  ep__os_wake(&w->park, 1);
}

void ep__wakep(void) { wakep(false); }

static void stop_spinning(ep__worker *w) {
  w->spinning = false;
  /* the last spinner found work: let another one look (Go's resetspinning) */
  if (atomic_fetch_sub_explicit(&RT->nspinning, 1, memory_order_seq_cst) == 1) maybe_wakep(true);
}

bool ep__all_idle(void) {
  return atomic_load_explicit(&RT->nidle, memory_order_relaxed) ==
         atomic_load_explicit(&RT->nworkers, memory_order_relaxed);
}

static void go_offline(ep__worker *w) {
  atomic_store_explicit(&w->qs_epoch, ~(uint64_t)0, memory_order_seq_cst);
}

static void go_online(ep__worker *w) {
  atomic_store_explicit(&w->qs_epoch, atomic_load_explicit(&RT->epoch, memory_order_seq_cst),
                        memory_order_seq_cst);
}

static bool leave_idle_list(ep__worker *w) {
  pthread_mutex_lock(&RT->idle_lock);
  bool still = w->idle;
  if (still) {
    ep__worker **pp = &RT->idle;
    while (*pp != w) pp = &(*pp)->idle_next;
    idle_unlink(pp, w);
  }
  pthread_mutex_unlock(&RT->idle_lock);
  return still;
}

/* Parks w until a producer wakes it. Returns when there may be work. A
 * worker taken off the idle list by ep__wakep inherits the spinning count
 * the waker took for it; the park word is only a hint (it may be stale).
 * A worker holding off stealing (held_until, 0 if not) is not woken for a
 * backlog: woken for every batch a spawning loop publishes, it would only
 * look, not take, and each wake-up costs its waker a system call. It
 * wakes by itself when the hold ends. */
static void park(ep__worker *w, uint64_t held_until) {
  if (w->spinning) {
    w->spinning = false;
    atomic_fetch_sub_explicit(&RT->nspinning, 1, memory_order_seq_cst);
  }
  pthread_mutex_lock(&RT->idle_lock);
  w->idle = true;
  w->idle_held = held_until != 0;
  if (w->idle_held) atomic_fetch_add_explicit(&RT->nidle_held, 1, memory_order_seq_cst);
  w->idle_next = RT->idle;
  RT->idle = w;
  atomic_fetch_add_explicit(&RT->nidle, 1, memory_order_seq_cst);
  pthread_mutex_unlock(&RT->idle_lock);
  /* seq_cst: either a producer sees nidle > 0, or we see its work */
  atomic_thread_fence(memory_order_seq_cst);
  if (work_visible(w, held_until != 0) || atomic_load_explicit(&RT->quit, memory_order_relaxed)) {
    if (!leave_idle_list(w)) w->spinning = true;
    return;
  }
  go_offline(w);
  for (;;) {
    if (held_until) ep__os_wait_until(&w->park, 0, held_until);
    else ep__os_wait(&w->park, 0);
    atomic_exchange_explicit(&w->park, 0, memory_order_acquire);
    pthread_mutex_lock(&RT->idle_lock);
    bool still = w->idle;
    pthread_mutex_unlock(&RT->idle_lock);
    if (!still) {
      w->spinning = true;
      break;
    }
    if (atomic_load_explicit(&RT->quit, memory_order_acquire) ||
        (held_until && ep__os_now_ns() >= held_until)) {
      if (!leave_idle_list(w)) w->spinning = true;
      break;
    }
  }
  go_online(w);
  ep__service_kick();
}

/* Between two rounds of looking: rare looks keep a spinning thief from
 * pulling the cache lines of the queues it polls away from their owners. */
static inline void spin_pause(void) {
  for (int i = 0; i < EP_SPIN_PAUSES; i++) {
#if defined(__x86_64__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ volatile("yield");
#endif
  }
}

/* Stealing pays only when the stolen work keeps the thief busy for longer
 * than moving it cost (about ten cache lines, each ~60 ns across cores).
 * A pmap of tiny tasks is the case where it does not: each stolen task
 * sends to its parent and dies within a microsecond, and every one pulls
 * the parent's lines across, so two threads ran it at half the speed of
 * one. So a thief times the work each steal brought it (the busy period
 * until it next runs dry), and after a steal that did not pay it holds off
 * stealing from healthy workers, the hold doubling up to
 * EP_STEAL_HOLD_MAX_NS; one steal that pays ends it. A skynet subtree or
 * a CPU-bound task pays at once. A stuck worker is always robbed. */
static void judge_steal(ep__worker *w) {
  uint64_t now = ep__os_now_ns();
  if (now - w->stole_at < EP_STEAL_GAIN_NS) {
    uint32_t pen = w->steal_pen ? 2 * w->steal_pen : EP_STEAL_GAIN_NS;
    w->steal_pen = pen < EP_STEAL_HOLD_MAX_NS ? pen : EP_STEAL_HOLD_MAX_NS;
    w->steal_hold = now + w->steal_pen;
  } else {
    w->steal_pen = 0;
    w->steal_hold = 0;
  }
  w->stole_at = 0;
}

/* When w's hold on stealing ends, if it holds off now; else 0. */
static uint64_t hold_end(ep__worker *w) {
  return w->steal_hold && ep__os_now_ns() < w->steal_hold ? w->steal_hold : 0;
}

static ep__proc *thieve(ep__worker *w) {
  bool held = hold_end(w) != 0;
  ep__proc *p = steal(w, held);
  if (p && !held) w->stole_at = ep__os_now_ns();
  return p;
}

/* The next process to run; *fresh_slice is false when it inherits the
 * running slice (taken from runnext: a ping-pong pair shares one slice, so
 * it cannot starve the queue, as in Go). */
static ep__proc *find_work(ep__worker *w, bool *fresh_slice) {
  for (;;) {
    if (atomic_load_explicit(&RT->quit, memory_order_acquire)) return NULL;
    ep__proc *p = NULL;
    bool from_next = false;
    if (++w->tick % GLOBAL_EVERY == 0) p = global_get(w);   /* the global FIFO is not starved */
    if (!p && w->tick % 16381 == 0) p = take_resume(w);   /* nor, rarely, a spawner */
    if (!p) p = local_get(w, &from_next);
    *fresh_slice = !from_next;
    if (!p) p = take_resume(w);
    if (!p) p = global_get(w);
    if (!p && w->stole_at) judge_steal(w);
    if (!p) {
      if (!w->spinning) {
        w->spinning = true;
        atomic_fetch_add_explicit(&RT->nspinning, 1, memory_order_seq_cst);
      }
      /* spin a little before parking (about 50 us): work that comes soon
       * then costs no futex wake-up and no sleep */
      for (int i = 0; i < EP_SPIN_ROUNDS && !p; i++) {
        p = thieve(w);
        if (!p) p = global_get(w);
        if (!p && atomic_load_explicit(&w->runnext, memory_order_relaxed)) p = local_get(w, &from_next);
        if (!p && has_more_than(w, 0)) p = local_get(w, &from_next);
        if (!p) {
          /* looking for work holds no PCB: say so, or the others' dead
           * wait in limbo while we spin (a busy spawner then carves and
           * faults in fresh PCBs instead of reusing its own) */
          ep__quiescent(w);
          spin_pause();
        }
      }
    }
    if (p) {
      if (w->spinning) stop_spinning(w);
      return p;
    }
    park(w, hold_end(w));
  }
}

/* ------------------------------------------------------------- running -- */

void ep__yield_slice(ep__proc *p) {
  ep__switch_out(p, IN_YIELD);
  ep__check_exit(p);
}

static bool give_stack(ep__worker *w, ep__proc *p) {
  p->stack = ep__stack_get(w, p->stack_size);
  if (!p->stack) return false;
  p->sp = ep__ctx_init(ep__stack_top(p->stack), p->handler ? handler_entry : proc_entry, p);
  return true;
}

/* Nothing queued for this worker but, maybe, its runnext (see IN_YIELD). */
static bool quiet(ep__worker *w) {
  return !has_queued(w) && !atomic_load_explicit(&w->resume, memory_order_relaxed) &&
         atomic_load_explicit(&RT->gq_n, memory_order_relaxed) == 0 &&
         !atomic_load_explicit(&RT->quit, memory_order_relaxed);
}

static void run(ep__worker *w, ep__proc *p, bool fresh_slice) {
  if (fresh_slice || w->budget <= 0) w->budget = EP_REDUCTIONS;
  for (;;) {
    if (!p->stack && !give_stack(w, p)) {
      /* no memory for a stack: the process cannot run at all */
      ep__lock(p);
      if (!atomic_load_explicit(&p->exiting, memory_order_relaxed))
        ep__set_exit(p, ep__atom_dup(EP_A_system_limit));
      ep__unlock(p);
      ep__death(w, p);
      return;
    }
    w->cur = p;
    p->worker = w;
    atomic_store_explicit(&w->busy, 1, memory_order_relaxed);
    switch_in(w, p);
    p = w->cur;   /* handoffs may have moved on to other processes meanwhile */
    w->cur = NULL;
    atomic_store_explicit(&w->busy, 0, memory_order_relaxed);
    atomic_store_explicit(&w->switches, atomic_load_explicit(&w->switches, memory_order_relaxed) + 1,
                          memory_order_relaxed);
    if (atomic_load_explicit(&w->stuck, memory_order_relaxed))
      atomic_store_explicit(&w->stuck, 0, memory_order_relaxed);
    if (EP_UNLIKELY(p->overflowed || !ep__stack_sp_ok(p->stack, p->sp))) {
      publish_spawned(w);
      ep__lock(p);
      if (!atomic_load_explicit(&p->exiting, memory_order_relaxed))
        ep__set_exit(p, ep__atom_dup(EP_A_stack_overflow));
      ep__unlock(p);
      ep__death(w, p);
      return;
    }
    switch (p->intent) {
    case IN_YIELD:
      if (w->spawned) {
        /* its children first, then it: a spawning loop (pmap) has its
         * batches run in order, and a thief cannot take the spawner and
         * run it ahead of its children */
        publish_spawned(w);
        ep__proc *old = atomic_exchange_explicit(&w->resume, p, memory_order_acq_rel);
        if (old) global_put_list(old, old, 1);
        return;
      }
      if (p->in_head) {
        /* it has messages waiting (a consumer behind busy producers):
         * keep it near the front, or its mailbox only grows */
        dq_push(w, p);
        return;
      }
      if (quiet(w)) {
        /* Nothing queued here or globally. Queueing it globally would wake
         * an idle worker to take it and split a ping-pong pair across two
         * threads; instead it goes on with a new slice, or, if runnext
         * holds a process (the one it just woke), waits behind that one
         * in the local deque. Thieves can still take it from there, and
         * that one's own slice bounds the wait. */
        if (!atomic_load_explicit(&w->runnext, memory_order_relaxed)) {
          w->budget = EP_REDUCTIONS;
          if ((++w->last_qs & 63) == 0) ep__quiescent(w);
          continue;
        }
        dq_push(w, p);
        return;
      }
      /* the back of the global FIFO: everyone else runs first */
      global_put_list(p, p, 1);
      maybe_wakep(false);
      return;
    case IN_PARK:
      publish_spawned(w);
      /* after markparked succeeds p may already run elsewhere: hands off */
      if (ep__mq_markparked(p)) return;
      continue;   /* something arrived meanwhile: run it again */
    case IN_PARK_FREE:
      publish_spawned(w);
      ep__stack_put(w, p->stack);
      p->stack = NULL;
      if (ep__mq_markparked(p)) return;
      continue;
    default:
      publish_spawned(w);
      ep__death(w, p);
      return;
    }
  }
}

static void *worker_main(void *arg) {
  ep__worker *w = arg;
  ep__set_tls_worker(w);
  atomic_store_explicit(&w->tid, ep__os_tid(), memory_order_relaxed);
  if (pthread_getcpuclockid(pthread_self(), &w->cpuclock) == 0)
    atomic_store_explicit(&w->has_clock, 1, memory_order_release);   /* the monitor reads it */
  ep__overflow_init(w);
#ifdef EP_TSAN
  w->tsan_fiber = __tsan_get_current_fiber();
#endif
#ifdef EP_ASAN
  pthread_attr_t at;
  pthread_getattr_np(pthread_self(), &at);
  void *lo;
  pthread_attr_getstack(&at, &lo, &w->tstack_size);
  w->tstack_lo = lo;
  pthread_attr_destroy(&at);
#endif
  go_online(w);
  ep__proc *p;
  bool fresh;
  while ((p = find_work(w, &fresh)) != NULL) {
    run(w, p, fresh);
    /* a quiescent state costs a full fence and a look at every worker:
     * every 64 runs is enough (PCBs wait a little longer in limbo) */
    if ((++w->last_qs & 63) == 0) ep__quiescent(w);
  }
  go_offline(w);
  ep__overflow_fini(w);
  ep__set_tls_worker(NULL);
  return NULL;
}

static ep__worker *worker_new(int index, bool standin) {
  ep__worker *w = aligned_alloc(64, (sizeof(ep__worker) + 63) & ~(size_t)63);
  if (!w) return NULL;
  memset(w, 0, sizeof *w);
  w->index = index;
  w->standin = standin;
  w->rng = (uint32_t)index * 2654435761u + 1;
  atomic_store_explicit(&w->qs_epoch, ~(uint64_t)0, memory_order_relaxed);
  return w;
}

static int worker_launch(ep__worker *w) {
  pthread_attr_t at;
  pthread_attr_init(&at);
  pthread_attr_setstacksize(&at, 256 * 1024);
  int rc = pthread_create(&w->thread, &at, worker_main, w);
  pthread_attr_destroy(&at);
  return rc == 0 ? 0 : EP_ENOMEM;
}

int ep__sched_start(int nthreads) {
  ep__asym_fence = ep__os_heavy_fence_init();
  RT->workers = calloc((size_t)(nthreads + EP_MAX_STANDINS), sizeof(ep__worker *));
  if (!RT->workers) return EP_ENOMEM;
  for (int i = 0; i < nthreads; i++) {
    RT->workers[i] = worker_new(i, false);
    if (!RT->workers[i]) return EP_ENOMEM;
  }
  atomic_store_explicit(&RT->nworkers, nthreads, memory_order_release);
  for (int i = 0; i < nthreads; i++)
    if (worker_launch(RT->workers[i]) != 0) return EP_ENOMEM;
  return 0;
}

void ep__sched_stop(void) {
  atomic_store_explicit(&RT->quit, 1, memory_order_seq_cst);
  int n = atomic_load_explicit(&RT->nworkers, memory_order_acquire);
  for (int i = 0; i < n; i++) {
    atomic_store_explicit(&RT->workers[i]->park, 1, memory_order_release);
    ep__os_wake(&RT->workers[i]->park, 1);
  }
  for (int i = 0; i < n; i++) pthread_join(RT->workers[i]->thread, NULL);
  for (int i = 0; i < n; i++) {
    ep__worker *w = RT->workers[i];
    atomic_fetch_sub_explicit(&RT->nprocs, atomic_load_explicit(&w->quota, memory_order_relaxed),
                              memory_order_relaxed);
    ep__stack_flush_worker(w);
    ep__limbo_free_worker(w);
    ep__msg_cache_free(w);
    ep__fl_free_all(&w->ltabs);
    ep__fl_free_all(&w->fmons);
    free(w->altstack);
    free(w);
  }
  ep__msg_depot_free();
  free(RT->workers);
  RT->workers = NULL;
  atomic_store_explicit(&RT->nworkers, 0, memory_order_relaxed);
  RT->idle = NULL;
  atomic_store_explicit(&RT->nidle, 0, memory_order_relaxed);
  atomic_store_explicit(&RT->nspinning, 0, memory_order_relaxed);
}

/* ------------------------------------------------------------ monitor -- */

static uint64_t seen_switches[256];   /* service thread only */
static uint64_t seen_cpu[256];        /* worker thread CPU time at the last tick, ns */
static int nstandins;                 /* service thread only */

static uint64_t thread_cpu_ns(ep__worker *v) {
  struct timespec ts;
  if (!atomic_load_explicit(&v->has_clock, memory_order_acquire) ||
      clock_gettime(v->cpuclock, &ts) != 0)
    return 0;
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A worker is stuck when it has run one process since the last tick: its
 * runnext becomes stealable and an idle worker is woken. A stand-in is
 * started for it only if its thread really spun (its CPU clock advanced)
 * or is blocked in the kernel: on a loaded machine a worker that the
 * kernel merely descheduled is slow, not stuck, and another thread would
 * only add to the load. */
void ep__monitor_tick(uint64_t now) {
  (void)now;
  int n = atomic_load_explicit(&RT->nworkers, memory_order_acquire);
  bool waiting = atomic_load_explicit(&RT->gq_n, memory_order_relaxed) > 0;
  int stuck = 0, hopeless = 0;
  for (int i = 0; i < n && i < 256; i++) {
    ep__worker *v = RT->workers[i];
    uint64_t s = atomic_load_explicit(&v->switches, memory_order_relaxed);
    uint64_t cpu = thread_cpu_ns(v);
    if (atomic_load_explicit(&v->busy, memory_order_relaxed) && s == seen_switches[i]) {
      stuck++;
      atomic_store_explicit(&v->stuck, 1, memory_order_relaxed);
      if (atomic_load_explicit(&v->runnext, memory_order_relaxed) || has_queued(v) ||
          atomic_load_explicit(&v->resume, memory_order_relaxed))
        waiting = true;
      if (cpu - seen_cpu[i] >= EP_STUCK_NS / 4 ||
          ep__os_thread_blocked(atomic_load_explicit(&v->tid, memory_order_relaxed)))
        hopeless++;
    }
    seen_switches[i] = s;
    seen_cpu[i] = cpu;
  }
  if (!waiting || stuck == 0) return;
  if (atomic_load_explicit(&RT->nidle, memory_order_seq_cst) > 0) {
    ep__wakep();
    return;
  }
  if (hopeless == 0 || nstandins >= EP_MAX_STANDINS) return;
  ep__worker *w = worker_new(n, true);
  if (!w) return;
  RT->workers[n] = w;
  /* release: thieves that see the new count see the worker */
  atomic_store_explicit(&RT->nworkers, n + 1, memory_order_release);
  nstandins++;
  if (worker_launch(w) != 0) abort();
}

void ep__monitor_reset(void) {
  memset(seen_switches, 0, sizeof seen_switches);
  memset(seen_cpu, 0, sizeof seen_cpu);
  nstandins = 0;
}

void ep__ready(ep__proc *p) {
  ep__worker *w = ep__tls_worker();
  if (w) ep__runq_put(w, p, true);
  else ep__global_put(p);
}
