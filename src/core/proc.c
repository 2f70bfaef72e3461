/* SPDX-License-Identifier: Apache-2.0 */
/*
 * proc.c - the process table and process control blocks: pid = slot +
 * serial (a stale pid never reaches a newer process), the process limit,
 * spawn, identity, references, and the safe reclamation of PCBs (QSBR,
 * see core.h). Owns the table, the PCB chunks and the per-worker caches of
 * free slots and PCBs. Signals and death are signal.c's.
 */
#include <sched.h>
#include <string.h>
#include <time.h>

#include "core/core.h"

/* ---------------------------------------------------------------- locks -- */

/* The first exchange failed: spin on a plain load (no line ping-pong),
 * then yield the thread. */
void ep__lock_wait(ep__proc *p) {
  for (int spins = 0;; spins++) {
    if (!atomic_load_explicit(&p->lock, memory_order_relaxed) &&
        !atomic_exchange_explicit(&p->lock, 1, memory_order_acquire))
      return;
    if (spins > 64) sched_yield();
#if defined(__x86_64__)
    else __builtin_ia32_pause();
#endif
  }
}

void ep__lock2(ep__proc *a, ep__proc *b) {
  if (a == b) {
    ep__lock(a);
    return;
  }
  if (a > b) {
    ep__proc *t = a;
    a = b;
    b = t;
  }
  ep__lock(a);
  ep__lock(b);
}

void ep__unlock2(ep__proc *a, ep__proc *b) {
  ep__unlock(a);
  if (a != b) ep__unlock(b);
}

/* ---------------------------------------------------------------- table -- */

ep__proc *ep__lookup(ep_pid pid) {
  if (pid.node != EP_NODE_LOCAL || pid.id == 0 || pid.id >= RT->nslots || !RT->slots) return NULL;
  /* acquire: pairs with the release that published the PCB in the slot */
  ep__proc *p = atomic_load_explicit(&RT->slots[pid.id].proc, memory_order_acquire);
  if (!p || p->serial != pid.serial || p->id != pid.id) return NULL;
  return p;
}

static int slot_alloc(ep__worker *w, uint32_t *out) {
  if (w && w->nslots) {
    *out = w->slots[--w->nslots];
    return 0;
  }
  pthread_mutex_lock(&RT->slot_lock);
  int want = w ? EP_SLOT_CACHE / 2 : 1;
  int got = 0;
  uint32_t ids[EP_SLOT_CACHE];
  while (got < want) {
    uint32_t id = RT->slot_free;
    if (id) {
      RT->slot_free = RT->slots[id].free_next;
    } else {
      id = atomic_load_explicit(&RT->fresh, memory_order_relaxed);
      if (id >= RT->nslots) break;
      atomic_store_explicit(&RT->fresh, id + 1, memory_order_relaxed);
    }
    ids[got++] = id;
  }
  pthread_mutex_unlock(&RT->slot_lock);
  if (!got) return EP_ESYSLIMIT;
  *out = ids[--got];
  for (int i = 0; i < got; i++) w->slots[w->nslots++] = ids[i];
  return 0;
}

static void slot_free(ep__worker *w, uint32_t id) {
  RT->slots[id].serial++;
  if (w && w->nslots < EP_SLOT_CACHE) {
    w->slots[w->nslots++] = id;
    return;
  }
  pthread_mutex_lock(&RT->slot_lock);
  RT->slots[id].free_next = RT->slot_free;
  RT->slot_free = id;
  pthread_mutex_unlock(&RT->slot_lock);
}

/* ------------------------------------------------------------------ PCBs -- */

#define PCB_CHUNK 64
#define PCB_REGION (64u << 20)    /* bytes per PCB mapping */

/* PCBs come from large mappings carved in chunks of PCB_CHUNK (malloc
 * would map each big chunk separately: one mapping per 64 processes). */
static ep__proc *carve_chunk(int n) {
  size_t want = (size_t)n * sizeof(ep__proc);
  pthread_mutex_lock(&RT->chunk_lock);
  if (RT->pcb_carve_left < want) {
    void *r = ep__os_reserve(PCB_REGION);
    if (!r || RT->nchunks == RT->capchunks) {
      size_t cap = RT->capchunks ? RT->capchunks * 2 : 64;
      void **c = r ? realloc(RT->chunks, cap * sizeof *c) : NULL;
      if (!c) {
        if (r) ep__os_release(r, PCB_REGION);
        pthread_mutex_unlock(&RT->chunk_lock);
        return NULL;
      }
      RT->chunks = c;
      RT->capchunks = cap;
    }
    RT->chunks[RT->nchunks++] = r;
    RT->pcb_carve = r;
    RT->pcb_carve_left = PCB_REGION;
  }
  ep__proc *chunk = RT->pcb_carve;
  RT->pcb_carve = (char *)RT->pcb_carve + want;
  RT->pcb_carve_left -= want;
  pthread_mutex_unlock(&RT->chunk_lock);
  return chunk;
}

/* A worker keeps at most PCB_CACHE free PCBs and gives half back beyond
 * that: processes spawned on one worker often die on another, and a
 * worker that only spawns would otherwise carve (and fault in) fresh
 * memory while the other's list grows. */
#define PCB_CACHE 512

static void pcb_put(ep__worker *w, ep__proc *p) {
  p->qnext = w->pcb_free;
  w->pcb_free = p;
  if (++w->npcb <= PCB_CACHE) return;
  pthread_mutex_lock(&RT->chunk_lock);
  while (w->npcb > PCB_CACHE / 2) {
    ep__proc *q = w->pcb_free;
    w->pcb_free = q->qnext;
    w->npcb--;
    q->qnext = RT->pcb_spare;
    __atomic_store_n(&RT->pcb_spare, q, __ATOMIC_RELAXED);   /* read unlocked as a hint */
  }
  pthread_mutex_unlock(&RT->chunk_lock);
}

static bool pcb_refill(ep__worker *w) {
  if (!__atomic_load_n(&RT->pcb_spare, __ATOMIC_RELAXED)) return false;   /* a hint */
  pthread_mutex_lock(&RT->chunk_lock);
  for (int i = 0; i < PCB_CHUNK && RT->pcb_spare; i++) {
    ep__proc *q = RT->pcb_spare;
    __atomic_store_n(&RT->pcb_spare, q->qnext, __ATOMIC_RELAXED);
    q->qnext = w->pcb_free;
    w->pcb_free = q;
    w->npcb++;
  }
  pthread_mutex_unlock(&RT->chunk_lock);
  return w->pcb_free != NULL;
}

static ep__proc *pcb_alloc(ep__worker *w) {
  if (w && (w->pcb_free || pcb_refill(w))) {
    ep__proc *p = w->pcb_free;
    w->pcb_free = p->qnext;
    w->npcb--;
    return p;
  }
  int n = w ? PCB_CHUNK : 1;   /* a foreign spawner has no cache */
  ep__proc *chunk = carve_chunk(n);
  if (!chunk) return NULL;
  for (int i = 1; i < n; i++) {
    chunk[i].qnext = w->pcb_free;
    w->pcb_free = &chunk[i];
    w->npcb++;
  }
  return &chunk[0];
}

/* p's slot has been cleared: p joins the limbo, to be stamped with its
 * retire epoch at the next quiescent state. */
void ep__retire(ep__worker *w, ep__proc *p) {
  p->qnext = NULL;
  if (w->limbo_tail) w->limbo_tail->qnext = p;
  else w->limbo_head = p;
  w->limbo_tail = p;
  if (!w->limbo_unstamped) w->limbo_unstamped = p;
  w->limbo_n++;
}

/* Quiescent state of worker w: it holds no pointer into any PCB. PCBs
 * retired at epoch E are reusable once every online worker has announced
 * an epoch > E and no foreign thread is inside. */
void ep__quiescent(ep__worker *w) {
  if (w->limbo_unstamped) {
    /* the fence orders every slot cleared since the last stamp before the
     * epoch read after it, so no thread that announces a later epoch can
     * still find those PCBs through the table. One fence per batch, where
     * each death would otherwise pay for a seq_cst store. */
    atomic_thread_fence(memory_order_seq_cst);
    uint64_t t = atomic_load_explicit(&RT->epoch, memory_order_seq_cst);
    for (ep__proc *p = w->limbo_unstamped; p; p = p->qnext) p->retire_epoch = t;
    w->limbo_unstamped = NULL;
  }
  uint64_t e = atomic_load_explicit(&RT->epoch, memory_order_seq_cst);
  atomic_store_explicit(&w->qs_epoch, e, memory_order_seq_cst);
  if (w->limbo_n < 64) return;   /* reclaim in batches */
  if (w->limbo_tail->retire_epoch == e) {
    /* open a new epoch so the others' next quiescent states count */
    atomic_fetch_add_explicit(&RT->epoch, 1, memory_order_seq_cst);
  }
  if (atomic_load_explicit(&RT->foreign, memory_order_seq_cst) != 0) return;
  uint64_t min = ~(uint64_t)0;
  int n = atomic_load_explicit(&RT->nworkers, memory_order_acquire);
  for (int i = 0; i < n; i++) {
    uint64_t q = atomic_load_explicit(&RT->workers[i]->qs_epoch, memory_order_seq_cst);
    if (q < min) min = q;
  }
  while (w->limbo_head && w->limbo_head->retire_epoch < min) {
    ep__proc *p = w->limbo_head;
    w->limbo_head = p->qnext;
    if (!w->limbo_head) w->limbo_tail = NULL;
    w->limbo_n--;
    ep__mq_free_all(p, true);   /* messages pushed after its death */
    pcb_put(w, p);
  }
}

/* At ep_stop, when no thread runs: free what dead mailboxes still hold,
 * then every PCB chunk. */
void ep__table_free_all(void) {
  for (size_t i = 0; i < RT->nchunks; i++) ep__os_release(RT->chunks[i], PCB_REGION);
  free(RT->chunks);
  RT->pcb_carve = NULL;
  RT->pcb_spare = NULL;
  RT->pcb_carve_left = 0;
  RT->chunks = NULL;
  RT->nchunks = RT->capchunks = 0;
  if (RT->slots) ep__os_release(RT->slots, (size_t)RT->nslots * sizeof(ep__slot));
  RT->slots = NULL;
}

void ep__limbo_free_worker(ep__worker *w) {
  for (ep__proc *p = w->limbo_head; p; p = p->qnext) ep__mq_free_all(p, true);
  w->limbo_head = w->limbo_tail = w->limbo_unstamped = NULL;
  w->limbo_n = 0;
}

/* ------------------------------------------------------------ references -- */

ep_ref ep__make_ref(ep__worker *w) {
  uint64_t n;
  if (w) {
    if (w->ref_next == w->ref_end) {
      w->ref_next = atomic_fetch_add_explicit(&RT->ref_global, 4096, memory_order_relaxed);
      w->ref_end = w->ref_next + 4096;
    }
    n = w->ref_next++;
  } else {
    n = atomic_fetch_add_explicit(&RT->ref_global, 1, memory_order_relaxed);
  }
  ep_ref r = {0};
  r.len = 3;
  r.w[0] = (uint32_t)n;
  r.w[1] = (uint32_t)(n >> 32);
  r.w[2] = 0;
  return r;
}

ep_ref ep_make_ref(void) {
  ep__worker *w = ep__tls_worker();
  return ep__make_ref(w);
}

/* ---------------------------------------------------------------- spawn -- */

ep_term ep__dup(ep_term t) {
  ep_term c = ep_term_dup(t);
  if (!c) abort();   /* out of memory while building an exit reason */
  return c;
}

/* Exit reasons that are predefined atoms point into this table instead of
 * the heap: most processes end `normal`, and their death then allocates
 * nothing. Filled by ep_start, before any thread reads it. */
static uint8_t atom_terms[EP__A_COUNT][8];

void ep__atom_terms_init(void) {
  for (ep_atom a = 1; a < EP__A_COUNT; a++) {
    ep_smallterm s;
    memcpy(atom_terms[a], ep_atom_term(&s, a), 5);
  }
}

ep_term ep__atom_dup(ep_atom a) {
  if (a < EP__A_COUNT) return (ep_term)(void *)atom_terms[a];
  ep_smallterm s;
  return ep__dup(ep_atom_term(&s, a));
}

void ep__reason_free(ep_term t) {
  const uint8_t *b = (const uint8_t *)(const void *)t;
  if (b >= &atom_terms[0][0] && b < &atom_terms[0][0] + sizeof atom_terms) return;
  ep_term_free(t);
}

/* Returns p's pid, made from the values: read back from p, the two words
 * just stored would be loaded as one and miss store forwarding. */
static ep_pid pcb_init(ep__proc *p, uint32_t id) {
  uint32_t serial = RT->slots[id].serial;
  /* line by line: a constant 64-byte memset is a few vector stores, where
   * one of the whole PCB is a `rep stos` and its start-up cost */
  _Static_assert(sizeof *p % 64 == 0, "a PCB is whole cache lines");
  for (size_t i = 0; i < sizeof *p; i += 64) memset((char *)p + i, 0, 64);
  p->id = id;
  p->serial = serial;
  ep__mq_init(p);
  return (ep_pid){id, serial, EP_NODE_LOCAL, 0};
}

/* ------------------------------------------------------- process count -- */

/* The limit is exact, but counting every spawn and death on one shared
 * word would make the workers fight over its cache line. So RT->nprocs
 * counts reservations: live processes plus spare ones each worker holds
 * (w->quota), taken QUOTA_BATCH at a time while far from the limit. Near
 * it, reservations are taken one by one, and the workers' spares are
 * pulled back before a spawn is refused. */
#define QUOTA_BATCH 64

/* A worker's quota is changed at every spawn and death, by its owner;
 * only a spawner near the limit takes other workers' spares. So the owner
 * changes it with plain loads and stores inside a Dekker handshake with
 * such pullers (the asymmetric fence, as for runnext in sched.c): it
 * announces itself in quota_busy and checks `pulling`; a puller counts
 * itself in `pulling`, fences every thread, and waits for each owner to
 * leave before taking its spares. */
static _Atomic int pulling;

static bool quota_take_own(ep__worker *w) {
  long q = atomic_load_explicit(&w->quota, memory_order_relaxed);
  if (ep__asym_enter(&w->quota_busy, &pulling)) {
    q = atomic_load_explicit(&w->quota, memory_order_relaxed);
    if (q > 0) atomic_store_explicit(&w->quota, q - 1, memory_order_relaxed);
    ep__asym_leave(&w->quota_busy);
    return q > 0;
  }
  while (q > 0)
    if (atomic_compare_exchange_weak_explicit(&w->quota, &q, q - 1, memory_order_relaxed,
                                              memory_order_relaxed))
      return true;
  return false;
}

/* Adds n to w's quota; returns the new value. */
static long quota_add(ep__worker *w, long n) {
  if (ep__asym_enter(&w->quota_busy, &pulling)) {
    long q = atomic_load_explicit(&w->quota, memory_order_relaxed) + n;
    atomic_store_explicit(&w->quota, q, memory_order_relaxed);
    ep__asym_leave(&w->quota_busy);
    return q;
  }
  return atomic_fetch_add_explicit(&w->quota, n, memory_order_relaxed) + n;
}

static bool reserve(long n) {
  if (atomic_fetch_add_explicit(&RT->nprocs, n, memory_order_relaxed) + n <= (long)RT->limit)
    return true;
  atomic_fetch_sub_explicit(&RT->nprocs, n, memory_order_relaxed);
  return false;
}

static void pull_back_spares(void) {
  atomic_fetch_add_explicit(&pulling, 1, memory_order_seq_cst);
  if (ep__asym_fence) ep__os_heavy_fence();
  int n = atomic_load_explicit(&RT->nworkers, memory_order_acquire);
  for (int i = 0; i < n; i++) {
    ep__worker *v = RT->workers[i];
    /* an owner inside is a few instructions from leaving */
    while (atomic_load_explicit(&v->quota_busy, memory_order_acquire)) sched_yield();
    long q = atomic_exchange_explicit(&v->quota, 0, memory_order_relaxed);
    if (q) atomic_fetch_sub_explicit(&RT->nprocs, q, memory_order_relaxed);
  }
  atomic_fetch_sub_explicit(&pulling, 1, memory_order_release);
}

/* Gives QUOTA_BATCH of w's spares (q of them) back, unless a puller took them. */
static bool quota_take_batch(ep__worker *w, long q) {
  if (ep__asym_enter(&w->quota_busy, &pulling)) {
    bool same = atomic_load_explicit(&w->quota, memory_order_relaxed) == q;
    if (same) atomic_store_explicit(&w->quota, q - QUOTA_BATCH, memory_order_relaxed);
    ep__asym_leave(&w->quota_busy);
    return same;
  }
  return atomic_compare_exchange_strong_explicit(&w->quota, &q, q - QUOTA_BATCH,
                                                 memory_order_relaxed, memory_order_relaxed);
}

/* One reservation for a new process, or false at the limit. */
static bool count_in(ep__worker *w) {
  if (w && quota_take_own(w)) return true;
  if (w && reserve(QUOTA_BATCH)) {
    quota_add(w, QUOTA_BATCH - 1);
    return true;
  }
  if (reserve(1)) return true;
  pull_back_spares();
  return reserve(1);
}

static void count_out(ep__worker *w) {
  if (!w) {
    atomic_fetch_sub_explicit(&RT->nprocs, 1, memory_order_relaxed);
    return;
  }
  long q = quota_add(w, 1);
  if (q > 2 * QUOTA_BATCH && quota_take_batch(w, q))
    atomic_fetch_sub_explicit(&RT->nprocs, QUOTA_BATCH, memory_order_relaxed);
}

long ep_process_count(void) {
  long n = atomic_load_explicit(&RT->nprocs, memory_order_acquire);
  int nw = atomic_load_explicit(&RT->nworkers, memory_order_acquire);
  for (int i = 0; i < nw && RT->workers; i++)
    n -= atomic_load_explicit(&RT->workers[i]->quota, memory_order_relaxed);
  return n;
}

/* Makes a process and makes it runnable; links/monitors with the caller
 * first (atomic as in Erlang, R4 R5). */
static int spawn_impl(ep_pid *out, ep__proc *parent, ep_proc_fn fn,
                      bool (*hfn)(void *, ep_term), void *hstate, ep_term arg,
                      const ep_spawn_opts *opts, ep_ref *mref) {
  int flags = opts ? opts->flags : 0;
  if ((flags & (EP_SPAWN_LINK | EP_SPAWN_MONITOR)) && !parent) return EP_ENOTPROC;
  if (atomic_load_explicit(&RT->state, memory_order_acquire) != 1) return EP_ESYSLIMIT;
  ep_atom name = 0;
  if (opts && opts->name) {
    name = ep_atom_of(opts->name);
    if (!name || name == EP_A_undefined) return EP_EBADARG;
  }
  ep__worker *w = ep__tls_worker();
  /* the limit counts live processes exactly, whatever the slot caches hold */
  if (!count_in(w)) return EP_ESYSLIMIT;
  uint32_t id;
  int rc = slot_alloc(w, &id);
  if (rc) {
    count_out(w);
    return rc;
  }
  ep__proc *p = pcb_alloc(w);
  /* the argument lives in a message block: small ones come from the
   * worker's cache, so most spawns allocate nothing */
  ep__msg *ablk = NULL;
  if (p && arg) ablk = ep__msg_copy_w(w, arg);
  ep_term a = ablk ? ep__msg_term(ablk) : NULL;
  rc = !p || (arg && !a) ? EP_ENOMEM : 0;
  ep_pid pid = EP_PID_NONE;
  if (!rc) {
    pid = pcb_init(p, id);
    /* the name first, while nobody can see the child: a taken name then
     * leaves no process, link, monitor or DOWN behind */
    if (name) rc = ep__register_unborn(name, p, pid);
  }
  if (rc) {
    if (ablk) ep__msg_free_w(w, ablk);
    if (p && w) pcb_put(w, p);   /* a foreign thread's PCB stays in its chunk until ep_stop */
    slot_free(w, id);
    count_out(w);
    return rc;
  }
  p->fn = fn;
  p->hfn = hfn;
  p->hstate = hstate;
  p->handler = hfn != NULL;
  p->arg = a;
  p->stack_size = opts ? opts->stack_size : 0;
  ep__fiber_create(p);
  ep__mon *m = NULL;
  if (flags & EP_SPAWN_LINK) ep__links_add(&p->links, parent, ep__pid(parent));
  if (flags & EP_SPAWN_MONITOR) {
    m = ep__mon_new(w);
    m->watcher = parent;
    m->target = p;
    m->wpid = ep__pid(parent);
    m->tpid = pid;
    m->ref = ep__make_ref(w);
    m->in_w = m->in_t = true;
    atomic_store_explicit(&m->refs, 2, memory_order_relaxed);
    p->mon_by = m;
    if (mref) *mref = m->ref;
  }
  if (flags & (EP_SPAWN_LINK | EP_SPAWN_MONITOR)) {
    /* one lock for both halves: spawn_opt with link and monitor (a pmap
     * task) takes the parent's lock once */
    ep__lock(parent);
    if (flags & EP_SPAWN_LINK) ep__links_add(&parent->links, p, pid);
    if (m) {
      m->w_next = parent->mons;
      if (parent->mons) parent->mons->w_prev = m;
      parent->mons = m;
    }
    ep__unlock(parent);
  }
  if (flags & EP__SPAWN_ROOT) ep__set_root(pid);
  /* A handler with nothing to handle need not run: it starts parked, with
   * no stack and no switch. Tagged before anyone can find it. */
  if (p->handler)
    atomic_store_explicit(&p->mq_head, (uintptr_t)&p->mq_stub | EP__PARKED, memory_order_relaxed);
  /* release: a lookup that finds p sees it initialised */
  atomic_store_explicit(&RT->slots[id].proc, p, memory_order_release);
  if (name) ep__register_born(name, pid);
  if (p->handler) {
    /* parked from birth: its first message (or exit signal) schedules it */
  } else if (w && parent) {
    ep__spawned(w, p);
  } else if (w) {
    ep__runq_put(w, p, true);
  } else {
    ep__global_put(p);
  }
  if (out) *out = pid;
  if (parent) ep__charge(parent, EP_SPAWN_COST);
  return rc;
}

int ep_spawn_opt(ep_pid *out, ep_proc_fn fn, ep_term arg, const ep_spawn_opts *opts, ep_ref *mref) {
  if (!fn) return EP_EINVAL;
  bool f = ep__enter();
  int rc = spawn_impl(out, ep__self(), fn, NULL, NULL, arg, opts, mref);
  ep__leave(f);
  return rc;
}

int ep_spawn_handler_opt(ep_pid *out, ep_handler_fn fn, void *state, const ep_spawn_opts *opts,
                         ep_ref *mref) {
  if (!fn) return EP_EINVAL;
  bool f = ep__enter();
  int rc = spawn_impl(out, ep__self(), NULL, fn, state, NULL, opts, mref);
  ep__leave(f);
  return rc;
}

/* Constant, not made on the stack: stored there field by field just before
 * spawn_impl reads them back, they would miss store forwarding. */
static const ep_spawn_opts opts_plain = {0}, opts_link = {.flags = EP_SPAWN_LINK},
                           opts_monitor = {.flags = EP_SPAWN_MONITOR};

/* spawn/1 semantics: failure to spawn exits the caller (system_limit). */
static ep_pid spawn_x(ep_proc_fn fn, ep_term arg, const ep_spawn_opts *o, ep_ref *mref) {
  ep_pid pid = EP_PID_NONE;
  int rc = ep_spawn_opt(&pid, fn, arg, o, mref);
  if (rc == 0) return pid;
  ep__proc *self = ep__self();
  if (self) ep_exit_atom(rc == EP_ENOMEM ? EP_A_noalloc : EP_A_system_limit);
  return EP_PID_NONE;
}

ep_pid ep_spawn(ep_proc_fn fn, ep_term arg) { return spawn_x(fn, arg, &opts_plain, NULL); }
ep_pid ep_spawn_link(ep_proc_fn fn, ep_term arg) { return spawn_x(fn, arg, &opts_link, NULL); }
ep_pid ep_spawn_monitor(ep_proc_fn fn, ep_term arg, ep_ref *mref) {
  return spawn_x(fn, arg, &opts_monitor, mref);
}

ep_pid ep_spawn_handler(ep_handler_fn fn, void *state) {
  ep_pid pid = EP_PID_NONE;
  int rc = ep_spawn_handler_opt(&pid, fn, state, NULL, NULL);
  if (rc == 0) return pid;
  if (ep__self()) ep_exit_atom(rc == EP_ENOMEM ? EP_A_noalloc : EP_A_system_limit);
  return EP_PID_NONE;
}

/* Called by death processing: the slot goes back, the PCB to limbo. */
void ep__proc_release(ep__worker *w, ep__proc *p) {
  /* ordered before p's retire epoch by the fence that stamps it */
  atomic_store_explicit(&RT->slots[p->id].proc, NULL, memory_order_release);
  slot_free(w, p->id);
  ep__retire(w, p);
  count_out(w);
  if (atomic_load_explicit(&RT->state, memory_order_acquire) == 2 && ep_process_count() == 0) {
    atomic_fetch_add_explicit(&RT->empty_word, 1, memory_order_release);
    ep__os_wake(&RT->empty_word, 1);
  }
}

/* ------------------------------------------------------------- identity -- */

ep_pid ep_self(void) {
  ep__proc *p = ep__self();
  return p ? ep__pid(p) : EP_PID_NONE;
}

bool ep_is_process(void) { return ep__self() != NULL; }

bool ep_is_alive(ep_pid pid) {
  bool f = ep__enter();
  ep__proc *p = ep__lookup(pid);
  /* exit signals are applied at send (signal.c), so a kill sent by the
   * caller is already visible here (R6) */
  bool alive = p && !atomic_load_explicit(&p->exiting, memory_order_acquire);
  ep__leave(f);
  return alive;
}

void ep_yield(void) {
  ep__proc *p = ep__self();
  if (!p) {
    sched_yield();
    return;
  }
  ep__charge(p, 1);
  ep__switch_out(p, IN_YIELD);
  ep__check_exit(p);
}

static bool never(ep_term t, void *ctx, int *clause) {
  (void)t, (void)ctx, (void)clause;
  return false;
}

void ep_sleep(long ms) {
  ep__proc *p = ep__self();
  if (!p) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    if (ms >= 0) nanosleep(&ts, NULL);
    return;
  }
  if (ms == 0) {
    ep_yield();
    return;
  }
  /* a receive that takes nothing (R18: only `after`); keep the mark */
  bool ms_set = p->mark_set;
  ep__msg *mk = p->mark;
  p->mark_set = false;
  ep__receive(p, never, NULL, ms < 0 ? EP_INFINITY : ms);
  p->mark_set = ms_set;
  p->mark = mk;
}


long ep_processes(ep_pid *out, long cap) {
  bool f = ep__enter();
  long n = 0;
  uint32_t top = atomic_load_explicit(&RT->fresh, memory_order_relaxed);
  for (uint32_t i = 1; i < top && RT->slots; i++) {
    ep__proc *p = atomic_load_explicit(&RT->slots[i].proc, memory_order_acquire);
    if (!p || atomic_load_explicit(&p->exiting, memory_order_acquire)) continue;
    if (n < cap && out) out[n] = ep__pid(p);
    n++;
  }
  ep__leave(f);
  return n;
}

bool ep_trap_exit(bool on) {
  ep__proc *p = ep__self();
  if (!p) return false;
  ep__lock(p);
  bool old = p->trap_exit;
  p->trap_exit = on;
  ep__unlock(p);
  return old;
}

/* ------------------------------------------------------------ runtime -- */

int ep__table_init(uint32_t limit) {
  RT->limit = limit;
  /* room for the slots the workers' caches may hold beyond the limit */
  RT->nslots = limit + 1 + (uint32_t)(EP_SLOT_CACHE * (RT->nthreads + EP_MAX_STANDINS));
  RT->slots = ep__os_reserve((size_t)RT->nslots * sizeof(ep__slot));
  if (!RT->slots) return EP_ENOMEM;
  atomic_store_explicit(&RT->fresh, 1, memory_order_relaxed);
  RT->slot_free = 0;
  atomic_store_explicit(&RT->nprocs, 0, memory_order_relaxed);
  return 0;
}
