/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stack.c - process stacks: carved from large mappings, pooled and reused
 * (per-worker cache, then a global list), plus stack-overflow detection.
 * Owns every stack region; scheduling a stack onto a process is sched.c's.
 *
 * The trade-off. Linux allows 65,530 mappings per process; a guard page
 * under every stack splits its region into two mappings per stack, so
 * guarded stacks cannot reach a million. Hence two kinds of region:
 *   - guarded: the first EP_GUARDED_STACKS stacks (8,192 by default, about
 *     16,400 mappings) each have a PROT_NONE page below them. Overflowing
 *     one faults; the SIGSEGV handler (on an alternate stack) ends only the
 *     offending process with reason stack_overflow.
 *   - unguarded: beyond that budget stacks are packed 256 to a mapping
 *     with no gap. The stack pointer is checked each time the process
 *     switches out (a process found below its stack ends with
 *     stack_overflow). This detects an overflow that reaches a runtime call
 *     but does not prevent one: a deep enough recursion can scribble on the
 *     neighbouring stack first. (A canary word at the bottom would not do
 *     better and would cost a touched page per stack.) Programs with deep
 *     recursion in many processes should raise EP_GUARDED_STACKS or use
 *     stackless (handler) processes, which need no stack while they wait.
 * Only touched pages cost memory: a process parked in receive typically
 * touches one or two 4 KiB pages of its stack. Stacks are reused warm (first
 * touches are slow on virtual machines) and never returned to the kernel
 * before ep_stop.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <string.h>

#include "core/core.h"

#ifdef EP_ASAN
#include <sanitizer/asan_interface.h>
#endif
#ifdef EP_HAVE_VALGRIND
#include <valgrind/valgrind.h>
#endif

#define WORKER_CACHE 64

/* Lives at the top of its own stack, so it costs no separate allocation. */
struct ep__stack {
  ep__stack *next;
  char *lo;                         /* lowest usable byte */
  size_t size;                      /* usable bytes below this header */
  bool guarded;
  bool pooled;                      /* default size: goes back to the pool */
  unsigned vg_id;                   /* Valgrind's id for it, if registered */
};

static struct {
  pthread_mutex_t lock;
  ep__stack *free;                  /* global pool */
  char *carve, *carve_end;          /* current region */
  size_t slot;                      /* bytes per slot in the current region */
  bool carve_guarded;
  size_t guarded;                   /* guarded stacks made so far */
  void **regions;                   /* every mapping, for ep_stop */
  size_t *region_len;
  size_t nregions, capregions;
  unsigned *vg_ids;                 /* pooled stacks Valgrind knows, for ep_stop */
  size_t nvg, capvg;
} S = {.lock = PTHREAD_MUTEX_INITIALIZER};

static size_t page(void) {
  static size_t pg;
  if (!pg) pg = ep__os_page_size();
  return pg;
}

static size_t round_up(size_t n, size_t to) { return (n + to - 1) / to * to; }

static bool add_region(void *p, size_t len) {
  if (S.nregions == S.capregions) {
    size_t cap = S.capregions ? S.capregions * 2 : 64;
    void **r = realloc(S.regions, cap * sizeof *r);
    if (!r) return false;
    S.regions = r;
    size_t *l = realloc(S.region_len, cap * sizeof *l);
    if (!l) return false;
    S.region_len = l;
    S.capregions = cap;
  }
  S.regions[S.nregions] = p;
  S.region_len[S.nregions++] = len;
  return true;
}

/* Formats the slot [base, base + slot) as a stack: guard (if any) at the
 * bottom, header at the top. */
static ep__stack *make(char *base, size_t slot, bool guarded, bool pooled) {
  char *lo = guarded ? base + page() : base;
  ep__stack *s = (ep__stack *)(base + slot - round_up(sizeof(ep__stack), 64));
  s->next = NULL;
  s->lo = lo;
  s->size = (size_t)((char *)s - lo);
  s->guarded = guarded;
  s->pooled = pooled;
  s->vg_id = 0;
  return s;
}

/* Under Valgrind a process stack must be registered: a switch to an
 * unknown one looks like a jump of the stack pointer within one stack, and
 * Memcheck would mark the live frames in between as freed. Outside
 * Valgrind the request is a few no-op instructions. Only pooled stacks
 * need remembering (odd sizes are deregistered as they are released). */
static bool vg_register(ep__stack *s) {
#ifdef EP_HAVE_VALGRIND
  if (!RUNNING_ON_VALGRIND) return true;
  if (s->pooled && S.nvg == S.capvg) {
    size_t cap = S.capvg ? S.capvg * 2 : 256;
    unsigned *ids = realloc(S.vg_ids, cap * sizeof *ids);
    if (!ids) return false;
    S.vg_ids = ids;
    S.capvg = cap;
  }
  s->vg_id = VALGRIND_STACK_REGISTER(s->lo, (char *)s);
  if (s->pooled) S.vg_ids[S.nvg++] = s->vg_id;
#else
  (void)s;
#endif
  return true;
}

static void vg_deregister(unsigned id) {
#ifdef EP_HAVE_VALGRIND
  if (RUNNING_ON_VALGRIND) VALGRIND_STACK_DEREGISTER(id);
#else
  (void)id;
#endif
}

static ep__stack *carve_locked(void) {
  if (S.carve == S.carve_end) {
    bool guarded = S.guarded + EP_STACK_REGION_SLOTS <= EP_GUARDED_STACKS;
    size_t slot = round_up(RT->stack_size, page()) + (guarded ? page() : 0);
    size_t len = slot * EP_STACK_REGION_SLOTS;
    char *r = ep__os_reserve(len);
    if (!r) return NULL;
    if (!add_region(r, len)) {
      ep__os_release(r, len);
      return NULL;
    }
    if (guarded) {
      for (size_t i = 0; i < EP_STACK_REGION_SLOTS; i++)
        if (ep__os_protect_none(r + i * slot, page()) != 0) return NULL;
      S.guarded += EP_STACK_REGION_SLOTS;
    }
    S.carve = r;
    S.carve_end = r + len;
    S.slot = slot;
    S.carve_guarded = guarded;
  }
  ep__stack *s = make(S.carve, S.slot, S.carve_guarded, true);
  if (!vg_register(s)) return NULL;
  S.carve += S.slot;
  return s;
}

/* A stack of a size other than the default: its own guarded mapping. */
static ep__stack *odd_size(size_t size) {
  size_t len = round_up(size, page()) + page();
  char *r = ep__os_reserve(len);
  if (!r) return NULL;
  if (ep__os_protect_none(r, page()) != 0) {
    ep__os_release(r, len);
    return NULL;
  }
  ep__stack *s = make(r, len, true, false);
  vg_register(s);
  return s;
}

ep__stack *ep__stack_get(ep__worker *w, size_t size) {
  if (size && round_up(size, page()) != round_up(RT->stack_size, page())) return odd_size(size);
  ep__stack *s = w->stacks;
  if (s) {
    w->stacks = s->next;
    w->nstacks--;
    return s;
  }
  pthread_mutex_lock(&S.lock);
  /* refill half a cache at once: one lock per WORKER_CACHE/2 spawns */
  for (int i = 0; i < WORKER_CACHE / 2; i++) {
    ep__stack *t = S.free;
    if (t) S.free = t->next;
    else if (!(t = carve_locked())) break;
    t->next = w->stacks;
    w->stacks = t;
    w->nstacks++;
  }
  pthread_mutex_unlock(&S.lock);
  s = w->stacks;
  if (s) {
    w->stacks = s->next;
    w->nstacks--;
  }
  return s;
}

void ep__stack_put(ep__worker *w, ep__stack *s) {
#ifdef EP_ASAN
  __asan_unpoison_memory_region(s->lo, s->size);
#endif
  if (!s->pooled) {
    vg_deregister(s->vg_id);
    size_t len = (size_t)((char *)s - s->lo) + round_up(sizeof(ep__stack), 64) + page();
    ep__os_release(s->lo - page(), len);
    return;
  }
  s->next = w->stacks;
  w->stacks = s;
  if (++w->nstacks <= WORKER_CACHE) return;
  /* give half back to the global pool */
  pthread_mutex_lock(&S.lock);
  while (w->nstacks > WORKER_CACHE / 2) {
    ep__stack *t = w->stacks;
    w->stacks = t->next;
    w->nstacks--;
    t->next = S.free;
    S.free = t;
  }
  pthread_mutex_unlock(&S.lock);
}

void ep__stack_flush_worker(ep__worker *w) {
  pthread_mutex_lock(&S.lock);
  while (w->stacks) {
    ep__stack *t = w->stacks;
    w->stacks = t->next;
    if (t->pooled) {
      t->next = S.free;
      S.free = t;
    }
  }
  w->nstacks = 0;
  pthread_mutex_unlock(&S.lock);
}

void *ep__stack_top(ep__stack *s) { return s; }
void *ep__stack_lo(ep__stack *s) { return s->lo; }
size_t ep__stack_usable(ep__stack *s) { return s->size; }

bool ep__stack_sp_ok(ep__stack *s, const void *sp) {
  return !s || s->guarded || (const char *)sp >= s->lo;
}

bool ep__stack_in_guard(ep__stack *s, const void *addr) {
  const char *a = addr;
  /* a frame that jumps past the guard lands a little lower still */
  return s && s->guarded && a < s->lo && a >= s->lo - 16 * page();
}

void ep__stacks_free_all(void) {
  pthread_mutex_lock(&S.lock);
  for (size_t i = 0; i < S.nvg; i++) vg_deregister(S.vg_ids[i]);
  free(S.vg_ids);
  S.vg_ids = NULL;
  S.nvg = S.capvg = 0;
  for (size_t i = 0; i < S.nregions; i++) ep__os_release(S.regions[i], S.region_len[i]);
  free(S.regions);
  free(S.region_len);
  S.regions = NULL;
  S.region_len = NULL;
  S.nregions = S.capregions = 0;
  S.free = NULL;
  S.carve = S.carve_end = NULL;
  S.guarded = 0;
  pthread_mutex_unlock(&S.lock);
}

/* ------------------------------------------------ overflow detection -- */

#define ALTSTACK_SIZE (64 * 1024)

static struct sigaction old_segv;
static _Atomic int handler_installed;

static void on_segv(int sig, siginfo_t *si, void *uc) {
  ep__worker *w = ep__tls_worker();
  ep__proc *p = w ? w->cur : NULL;
  if (p && ep__stack_in_guard(p->stack, si->si_addr)) {
    /* The process's own code faulted on its guard page: end it. Its stack
     * is abandoned, so leaving the handler by switching away is like a
     * longjmp out of a synchronous fault (SA_NODEFER keeps SIGSEGV
     * unblocked). The reason is set on the scheduler side, outside the
     * handler. */
    p->overflowed = true;
    ep__die(p);
  }
  /* not ours: let the previous disposition handle it */
  if (old_segv.sa_flags & SA_SIGINFO && old_segv.sa_sigaction) {
    old_segv.sa_sigaction(sig, si, uc);
    return;
  }
  if (old_segv.sa_handler != SIG_IGN && old_segv.sa_handler != SIG_DFL && old_segv.sa_handler) {
    old_segv.sa_handler(sig);
    return;
  }
  signal(sig, SIG_DFL);
}

int ep__overflow_init(ep__worker *w) {
  w->altstack = malloc(ALTSTACK_SIZE);
  if (!w->altstack) return EP_ENOMEM;
  stack_t ss = {.ss_sp = w->altstack, .ss_size = ALTSTACK_SIZE, .ss_flags = 0};
  sigaltstack(&ss, NULL);
  int expect = 0;
  if (atomic_compare_exchange_strong(&handler_installed, &expect, 1)) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &old_segv);
  }
  return 0;
}

void ep__overflow_fini(ep__worker *w) {
  stack_t ss = {.ss_flags = SS_DISABLE};
  sigaltstack(&ss, NULL);
  (void)w;
}
