/* SPDX-License-Identifier: Apache-2.0 */
/*
 * core.h - the process runtime's shared structures: process control block
 * (PCB), scheduler worker, message block, and the one runtime instance.
 *
 * Invariants (read these before touching any field):
 *
 * Process states. A process is at any moment in exactly one of:
 *   RUNNING   on one worker (w->cur == p); only that thread touches the
 *             owner fields below;
 *   RUNNABLE  in exactly one run queue (a worker's ring, a runnext slot or
 *             the global queue);
 *   PARKED    in no queue, its mailbox head carries the PARKED tag: the one
 *             sender whose push takes the tag off puts it back in a queue;
 *   DEAD      `dead` set by its own death processing; never queued again.
 *   RUNNING -> RUNNABLE (yield), RUNNING -> PARKED (receive with nothing to
 *   take: the scheduler tags the mailbox after switching off its stack),
 *   PARKED -> RUNNABLE (a push), RUNNABLE -> RUNNING, RUNNING -> DEAD.
 *   Only a running process dies (a kill marks `exiting` and wakes it).
 *
 * Signals. Exit signals, links and monitors are applied by the sender at
 * once under the target's `lock` (so `exiting`, `trap_exit`, `links`,
 * `mons`, `mon_by` are only read or written under it). What the target
 * sees as a result ({'EXIT',..}, {'DOWN',..}, wake-ups) is pushed into its
 * one MPSC mailbox, so everything one sender causes arrives in order (R12).
 * Two processes are locked together only to make or undo a link or a
 * monitor, in address order.
 *
 * Aliases. An alias is a reference that names its owner (id, serial) and
 * an alias number. Senders push to the owner without a lock, the number
 * in the block's aux; the owner alone keeps the set of active numbers and
 * ep__drain drops a message whose alias is no longer in it. So deactivating
 * takes no lock, and it covers messages already in flight.
 *
 * Memory. A PCB is never freed while a thread may hold a pointer to it:
 * death retires it, and it is reused only after every worker has passed a
 * quiescent state (QSBR: the scheduler loop between two processes) and no
 * foreign thread is inside the runtime. Pointers to other PCBs are held
 * only within one runtime call, never across a context switch.
 */
#ifndef EP_CORE_H
#define EP_CORE_H

#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "eproc.h"
#include "platform/platform.h"

#include "compiler.h"

#ifdef NDEBUG
#define EP_ASSERT(x) ((void)0)
#else
#include <assert.h>
#define EP_ASSERT(x) assert(x)
#endif

/* Tunables (overridable with -D). */
#ifndef EP_STACK_DEFAULT
#define EP_STACK_DEFAULT (64 * 1024)      /* bytes reserved per process stack; only touched pages cost */
#endif
#ifndef EP_STACK_REGION_SLOTS
#define EP_STACK_REGION_SLOTS 256         /* stacks carved from one mapping */
#endif
#ifndef EP_GUARDED_STACKS
#define EP_GUARDED_STACKS 8192            /* stacks with a guard page (2 mappings each) */
#endif
#ifndef EP_REDUCTIONS
#define EP_REDUCTIONS 2000                /* budget of a time slice, in runtime calls */
#endif
#ifndef EP_RUNQ_SIZE
#define EP_RUNQ_SIZE 4096                 /* per-worker deque (power of two) */
#endif
#ifndef EP_MAX_STANDINS
#define EP_MAX_STANDINS 32                /* extra workers started for stuck ones */
#endif
#ifndef EP_STUCK_NS
#define EP_STUCK_NS (10 * 1000000ull)     /* a worker that has not switched for this long is stuck */
#endif
#ifndef EP_SPIN_ROUNDS
#define EP_SPIN_ROUNDS 8                  /* steal rounds before an idle worker parks */
#endif
#ifndef EP_SPIN_PAUSES
#define EP_SPIN_PAUSES 512                /* pauses between two rounds (about 6 us) */
#endif
#ifndef EP_STEAL_GAIN_NS
#define EP_STEAL_GAIN_NS 2000             /* a steal that keeps its thief busy for less did not pay */
#endif
#ifndef EP_STEAL_HOLD_MAX_NS
#define EP_STEAL_HOLD_MAX_NS 256000       /* longest hold on stealing after steals that did not pay */
#endif
#ifndef EP_STEAL_MIN
#define EP_STEAL_MIN 4                    /* a queue this short is left to its owner */
#endif
#ifndef EP_SPAWN_COST
#define EP_SPAWN_COST 50                  /* reductions a spawn costs (a spawning loop yields every 40) */
#endif
#ifndef EP_SLOT_CACHE
#define EP_SLOT_CACHE 64                  /* free table slots a worker keeps */
#endif

/* ------------------------------------------------------------ messages -- */

enum ep__msg_kind {
  MK_MSG = 0,       /* a term message */
  MK_WAKE,          /* no content: makes a parked process look at its state */
  MK_TIMEOUT,       /* receive timeout; aux = receive generation */
  MK_DONE,          /* ep_blocking job finished */
  MK_INFO,          /* process_info(P, messages) request (info.c) */
  MK_ALIAS_DOWN     /* a DOWN whose monitor is an alias: aux = the alias to deactivate */
};

/* One heap block per queued item: this header, then the term (8-aligned). */
typedef struct ep__msg {
  _Atomic(struct ep__msg *) next;   /* outer queue link (senders write it) */
  struct ep__msg *inext;            /* inner queue link (owner only) */
  uint8_t kind;                     /* ep__msg_kind */
  uint8_t cls;                      /* block class + 1 (msg_alloc.c); 0: malloc'd */
  uint8_t done;                     /* released while still the outer queue's tail */
  uint8_t pad_;
  uint32_t aux;                     /* MK_TIMEOUT: generation; MK_MSG: alias sent to (0: none) */
} ep__msg;
#define EP__MSG_CLASSES 2           /* sizes of small blocks (msg_alloc.c) */

#define EP__MSG_HDR sizeof(ep__msg)
static inline ep_term ep__msg_term(const ep__msg *m) {
  return (ep_term)(const void *)((const char *)m + EP__MSG_HDR);
}

/* ----------------------------------------------------- links, monitors -- */

typedef struct ep__link {
  struct ep__proc *peer;            /* valid while listed (QSBR, see top) */
  ep_pid pid;                       /* id 0: empty slot */
} ep__link;

/* A process's links: a hash set by pid (links.c). */
typedef struct ep__links {
  ep__link *tab;
  uint32_t n, cap;                  /* cap: 0 or a power of two */
} ep__links;
bool ep__links_find(const ep__links *s, ep_pid pid);
void ep__links_add(ep__links *s, struct ep__proc *peer, ep_pid pid);
bool ep__links_remove(ep__links *s, ep_pid pid);
void ep__links_free(ep__links *s);

typedef struct ep__mon {
  struct ep__mon *w_next, *w_prev;  /* in the watcher's mons (watcher's lock) */
  struct ep__mon *t_next, *t_prev;  /* in the target's mon_by (target's lock) */
  struct ep__proc *watcher, *target;
  ep_pid wpid, tpid;
  ep_atom tname;                    /* monitored by name: DOWN object {Name, Node} */
  bool in_w, in_t;                  /* listed on each side (under that side's lock) */
  _Atomic int refs;                 /* one per side; freed at 0 */
  ep_ref ref;
} ep__mon;

/* ----------------------------------------------------------- processes -- */

typedef struct ep__stack ep__stack;
typedef struct ep__worker ep__worker;

/* internal spawn flag: the root process of ep_run */
#define EP__SPAWN_ROOT 0x100

enum ep__intent { IN_YIELD = 1, IN_PARK, IN_PARK_FREE, IN_EXIT };

/* ep_catch's jump. GCC's and Clang's builtin setjmp keeps only the frame
 * and stack pointers and the resume address (a few stores, no signal
 * mask: a gen_server takes one per callback); the compiler saves whatever
 * else is live around it. Under the sanitizers it is libc's, which they
 * intercept to follow the stack. */
#if defined(EP_SANITIZE_BUILD)
typedef jmp_buf ep__jmpbuf;
#define EP__SETJMP(b) setjmp(b)
#define EP__LONGJMP(b) longjmp(b, 1)
#else
typedef void *ep__jmpbuf[5];
#define EP__SETJMP(b) __builtin_setjmp(b)
#define EP__LONGJMP(b) __builtin_longjmp(b, 1)
#endif

typedef struct ep__catch {
  struct ep__catch *up;
  ep__jmpbuf jb;
} ep__catch;

typedef bool (*ep__match_fn)(ep_term msg, void *ctx, int *clause);

typedef struct ep__proc {
  /* --- producers: every sender writes these (see mailbox.c). They have a
   * cache line of their own, so that a busy sender does not take the line
   * of the owner fields below from the thread running the process. --- */
  _Alignas(64) _Atomic uintptr_t mq_head; /* outer MPSC queue (Vyukov, intrusive, with a
                                     * stub): last pushed node | PARKED tag */
  ep__msg mq_stub;
  /* --- identity, fixed while alive, and `exiting`: read by every sender
   * and at every receive, so on a line nobody writes in between --- */
  _Alignas(64) uint32_t id;         /* table slot */
  uint32_t serial;                  /* generation */
  _Atomic int exiting;              /* set once under lock; read anywhere (acquire) */
  ep_proc_fn fn;                    /* entry of a stackful process */
  bool (*hfn)(void *state, ep_term msg); /* handler of a stackless process */
  void *hstate;
  ep_term arg;                      /* copy of the spawn argument, in a message block */
  size_t stack_size;                /* 0: default */
  /* --- owner: the thread running it (or the scheduler switching it) --- */
  _Alignas(64) void *sp;            /* saved stack pointer while switched out */
  ep__stack *stack;                 /* NULL until first run / while a handler is parked */
  ep__worker *worker;               /* the worker running it (valid while RUNNING) */
  struct ep__proc *qnext;           /* global run queue / free list / limbo link */
  uint64_t retire_epoch;            /* QSBR epoch of retirement: by qnext, walked with it */
  int intent;                       /* ep__intent, set before switching out */
  bool handler;                     /* stackless kind (ep_spawn_handler) */
  bool timed_out;                   /* MK_TIMEOUT of the current generation seen */
  bool job_done;                    /* MK_DONE seen */
  bool mark_set;                    /* receive marker set (ep_recv_mark) */
  bool overflowed;                  /* hit its guard page, or switched out below its stack */
  bool crashed;                     /* ended by an uncaught ep_error: logged */
  uint32_t recv_gen;                /* receive generation (stale timeouts ignored) */
  ep__msg *mq_tail;                 /* consumer end of the outer queue: the last node
                                     * taken (or the stub); its successor is next */
  /* inner queue: messages taken from the outer queue, in order, owner only */
  ep__msg *in_head, *in_tail;
  long in_len;
  ep__msg *mark;                    /* last message before the mark (NULL: none) */
  ep__msg *cur_msg;                 /* last received, freed at the next receive */
  ep_term caught;                   /* reason from ep_catch, freed at the next receive */
  ep__catch *catch_top;             /* innermost ep_catch */
  const ep_pattern *cur_pat;        /* pattern of the clause that matched */
  void *timer;                      /* armed receive timer, or NULL */
  _Atomic uint64_t reductions;      /* owner writes (relaxed), process_info reads */
  ep_term *vars;                    /* EP_PATTERN_MAX_VARS, made on the first pattern receive */
  uint32_t alias_one;               /* an active alias number, or 0 (alias.c) */
  uint32_t *aliases;                /* the other active ones: open-addressing set */
  uint32_t alias_n, alias_cap, alias_seq;
  bool alias_wrapped;               /* alias_seq went round: a fresh number may be in use */
  /* --- shared: under `lock` unless said otherwise --- */
  _Atomic uint32_t lock;
  bool dead;                        /* lists detached by death processing */
  bool trap_exit;
  ep_term exit_reason;              /* owned; valid once exiting */
  ep__links links;
  ep__mon *mons;                    /* monitors this process holds (watcher side) */
  ep__mon *mon_by;                  /* monitors on this process (target side) */
  _Atomic ep_atom name;             /* registered name: set under the registry lock and
                                     * `lock`, cleared under the registry lock */
#ifdef EP_TSAN
  void *tsan_fiber;
#endif
#ifdef EP_ASAN
  void *asan_fake;
#endif
} ep__proc;

#define EP__PARKED ((uintptr_t)1)

/* A free list of blocks of one size, linked through their first word, for
 * recycling where malloc would be paid per use: a worker's link tables and
 * monitor records (its thread alone), a timer heap's records (its lock).
 * At most `cap` are kept; a block that does not fit goes back to free(). */
typedef struct ep__freelist {
  void *head;
  int n;
} ep__freelist;

static inline void *ep__fl_pop(ep__freelist *f) {
  void *x = f->head;
  if (x) {
    f->head = *(void **)x;
    f->n--;
  }
  return x;
}

static inline void ep__fl_put(ep__freelist *f, void *x, int cap) {
  if (f->n >= cap) {
    free(x);
    return;
  }
  *(void **)x = f->head;
  f->head = x;
  f->n++;
}

static inline void ep__fl_free_all(ep__freelist *f) {
  void *x;
  while ((x = ep__fl_pop(f)) != NULL) free(x);
}

/* -------------------------------------------------------------- workers -- */

struct ep__worker {
  /* Fields are grouped by who writes them, a cache line per group, so
   * that a thief polling this worker does not take away the line its
   * owner writes at every switch. */
  /* --- owner only --- */
  void *sched_sp;                   /* the scheduler loop's saved stack pointer */
  ep__proc *cur;                    /* running process, or NULL */
  ep__proc *spawned;                /* spawned by the running process, newest first */
  ep__proc *handoff;                /* handed its worker to another: park or bury it (sched.c) */
  uint32_t tick, rng;
  int budget;                       /* reductions left in this slice */
  _Atomic uint64_t switches;        /* bumped at each switch (monitor reads) */
  _Atomic int busy;                 /* running a process (monitor reads) */
  bool spinning;                    /* looking for work, counted in rt.nspinning */
  bool standin;                     /* started by the monitor */
  uint64_t stole_at;                /* when the work in hand was stolen (0: not stolen) */
  uint64_t steal_hold;              /* no stealing before this time (sched.c) */
  uint32_t steal_pen;               /* length of the last hold, in ns */
  /* --- run queue: Chase-Lev deque; owner at the bottom, thieves at the
   * top. Thieves write top; the owner writes bottom. --- */
  _Alignas(64) _Atomic int64_t dq_top;
  _Alignas(64) _Atomic int64_t dq_bottom;
  _Alignas(64) _Atomic(ep__proc *) dq[EP_RUNQ_SIZE];
  /* --- shared with thieves and wakers --- */
  _Alignas(64) _Atomic(ep__proc *) runnext; /* run next on this worker (ping-pong wake-ups) */
  _Atomic int rn_busy;              /* owner: taking or swapping runnext (sched.c) */
  _Atomic int rn_thief;             /* a thief is emptying runnext (sched.c) */
  _Alignas(64) _Atomic(ep__proc *) resume; /* a spawner that yielded: runs once its children have */
  _Atomic int stuck;                /* monitor: not switched for EP_STUCK_NS; runnext stealable */
  _Atomic uint32_t park;            /* futex word: 1 = wake-up pending */
  bool idle;                        /* on the idle list (idle lock; wakers clear it) */
  bool idle_held;                   /* and holding off stealing: no backlog wakes it (idle lock) */
  /* --- owner, mostly --- */
  _Alignas(64) struct ep__worker *idle_next;
  _Atomic uint64_t qs_epoch;        /* QSBR: epoch seen at the last quiescent state; ~0 offline */
  ep__proc *limbo_head, *limbo_tail;/* retired PCBs, oldest first */
  ep__proc *limbo_unstamped;        /* the first of them without a retire epoch yet */
  long limbo_n;
  ep__proc *pcb_free;               /* reusable PCBs (proc.c) */
  long npcb;
  uint32_t slots[EP_SLOT_CACHE];    /* free table slots */
  int nslots;
  _Atomic long quota;               /* spare process-count reservations (proc.c) */
  _Atomic int quota_busy;           /* owner: changing quota (proc.c) */
  struct ep__mag *mag[EP__MSG_CLASSES];      /* free small message blocks: the loaded */
  int nmag[EP__MSG_CLASSES];                 /* magazine, its count, */
  struct ep__mag *mag_prev[EP__MSG_CLASSES]; /* and the previous one (msg_alloc.c) */
  ep__freelist ltabs;               /* free smallest link tables (links.c) */
  ep__freelist fmons;               /* free monitor records (signal.c) */
  ep__stack *stacks;                /* cached free stacks */
  int nstacks;
  uint64_t ref_next, ref_end;       /* reference numbers reserved for this worker */
  int index;
  _Atomic int tid;                  /* kernel thread id (monitor reads) */
  clockid_t cpuclock;               /* this thread's CPU clock, once has_clock */
  _Atomic int has_clock;
  pthread_t thread;
  void *altstack;                   /* SIGSEGV alternate stack */
  uint64_t last_qs;                 /* switches at the last quiescent state */
#ifdef EP_TSAN
  void *tsan_fiber;
#endif
#ifdef EP_ASAN
  void *asan_fake;
  const void *tstack_lo;
  size_t tstack_size;
#endif
};

/* --------------------------------------------------------------- runtime -- */

typedef struct ep__slot {
  _Atomic(ep__proc *) proc;         /* live process or NULL */
  uint32_t serial;                  /* serial of the next process in this slot */
  uint32_t free_next;
} ep__slot;

typedef struct ep__rt {
  /* Groups written by different parties at different rates each have a
   * cache line: an idle worker polling the global queue or the stop flag
   * must not take away the line a busy one writes (the epoch, the slot
   * allocator, the count of processes). */
  /* --- set at start, read everywhere --- */
  _Atomic int state;                /* 0 stopped, 1 running, 2 stopping */
  int nthreads;                     /* configured workers */
  size_t stack_size;
  int blocking_threads;
  ep__slot *slots;                  /* process table */
  uint32_t nslots, limit;
  ep__worker **workers;
  _Atomic int nworkers;             /* started, nthreads + stand-ins */
  /* --- process table slots --- */
  _Alignas(64) pthread_mutex_t slot_lock;
  _Atomic uint32_t fresh;           /* next never-used slot */
  uint32_t slot_free;               /* free list head (slot_lock); 0 = empty */
  _Alignas(64) _Atomic long nprocs; /* reservations: live processes + the workers' quotas */
  /* --- global run queue --- */
  _Alignas(64) pthread_mutex_t gq_lock;
  ep__proc *gq_head, *gq_tail;
  _Atomic long gq_n;
  /* --- idle workers --- */
  _Alignas(64) pthread_mutex_t idle_lock;
  ep__worker *idle;
  _Atomic int nidle, nspinning;
  _Atomic int nidle_held;           /* idle workers holding off stealing (sched.c) */
  /* --- QSBR --- */
  _Alignas(64) _Atomic uint64_t epoch;
  _Atomic long foreign;             /* foreign threads inside the runtime */
  /* --- stop --- */
  _Alignas(64) _Atomic uint32_t quit; /* workers leave their loop */
  _Atomic uint32_t empty_word;      /* bumped when nprocs reaches 0 while stopping */
  /* --- PCB memory --- */
  _Alignas(64) pthread_mutex_t chunk_lock;
  ep__proc *pcb_spare;              /* PCBs the workers gave back (chunk_lock) */
  void **chunks;                    /* PCB mappings, released at stop */
  void *pcb_carve;                  /* next free bytes of the last mapping */
  size_t pcb_carve_left;
  size_t nchunks, capchunks;
  _Alignas(64) _Atomic uint64_t ref_global;
} ep__rt;

extern ep__rt ep__rt_g;
#define RT (&ep__rt_g)

/* ------------------------------------------------------- internal API -- */

/* thread identity */
/* The calling thread's worker. A process may resume on another thread
 * after any switch, so the compiler must never keep a thread-local address
 * or value across one: on x86-64 each call reads %fs afresh in one asm
 * statement (the compiler cannot reuse it), elsewhere it is a call that is
 * never inlined. */
extern __thread ep__worker *ep__tls_w __attribute__((tls_model("initial-exec")));
#if defined(__x86_64__) && !defined(EP_SANITIZE_BUILD)
#define EP__TLS_ASM 1
static inline ep__worker *ep__tls_worker(void) {
  ep__worker *w;
  __asm__ volatile("movq ep__tls_w@gottpoff(%%rip), %0\n\tmovq %%fs:(%0), %0" : "=r"(w) :: "memory");
  return w;
}
#else
#define EP__TLS_ASM 0
ep__worker *ep__tls_worker_slow(void);
static inline ep__worker *ep__tls_worker(void) { return ep__tls_worker_slow(); }
#endif
void ep__set_tls_worker(ep__worker *w);
static inline ep__proc *ep__self(void) {
  ep__worker *w = ep__tls_worker();
  return w ? w->cur : NULL;
}
/* Foreign threads (not workers) bracket every PCB access with these. */
static inline bool ep__enter(void) {
  if (ep__tls_worker()) return false;
  atomic_fetch_add_explicit(&RT->foreign, 1, memory_order_seq_cst);
  return true;
}
static inline void ep__leave(bool foreign) {
  if (foreign) atomic_fetch_sub_explicit(&RT->foreign, 1, memory_order_seq_cst);
}

/* context switch (arch/<cpu>/switch.S) */
void ep__ctx_switch(void **save_sp, void *to_sp);
void ep__ctx_start(void);
void *ep__ctx_init(void *top, void (*entry)(void *), void *arg);

/* process table (proc.c) */
ep__proc *ep__lookup(ep_pid p);
static inline ep_pid ep__pid(const ep__proc *p) { return (ep_pid){p->id, p->serial, 0, 0}; }
/* A PCB's spinlock. Inline when free, which is nearly always: a lock is
 * held for a few list operations, so waiting is rare (ep__lock_wait). */
void ep__lock_wait(ep__proc *p);
static inline void ep__lock(ep__proc *p) {
  if (EP_UNLIKELY(atomic_exchange_explicit(&p->lock, 1, memory_order_acquire))) ep__lock_wait(p);
}
static inline void ep__unlock(ep__proc *p) { atomic_store_explicit(&p->lock, 0, memory_order_release); }
void ep__lock2(ep__proc *a, ep__proc *b);
void ep__unlock2(ep__proc *a, ep__proc *b);
void ep__retire(ep__worker *w, ep__proc *p);
void ep__proc_release(ep__worker *w, ep__proc *p);
void ep__limbo_free_worker(ep__worker *w);
int ep__table_init(uint32_t limit);
void ep__quiescent(ep__worker *w);
void ep__table_free_all(void);
ep_ref ep__make_ref(ep__worker *w);

/* scheduler (sched.c) */
extern bool ep__asym_fence;                   /* ep__os_heavy_fence works (Dekker handshakes) */
/* The frequent side of a Dekker handshake with a rare other side that
 * runs ep__os_heavy_fence (runnext in sched.c, the quota in proc.c): it
 * announces itself in *busy with only a compiler barrier, and backs out
 * if *other is set. False (take the atomic path) then, or without the
 * asymmetric fence. */
static inline bool ep__asym_enter(_Atomic int *busy, _Atomic int *other) {
  if (EP_UNLIKELY(!ep__asym_fence)) return false;
  atomic_store_explicit(busy, 1, memory_order_relaxed);
  atomic_signal_fence(memory_order_seq_cst);
  /* acquire: once the other side is done, we see what it left */
  if (EP_LIKELY(!atomic_load_explicit(other, memory_order_acquire))) return true;
  atomic_store_explicit(busy, 0, memory_order_relaxed);
  return false;
}
static inline void ep__asym_leave(_Atomic int *busy) {
  /* release: the other side that sees busy clear sees our stores */
  atomic_store_explicit(busy, 0, memory_order_release);
}
void ep__ready(ep__proc *p);                  /* a parked process got a message */
void ep__runq_put(ep__worker *w, ep__proc *p, bool next);
void ep__global_put(ep__proc *p);
void ep__spawned(ep__worker *w, ep__proc *p); /* child of the running process */
void ep__switch_out(ep__proc *p, int intent); /* from a process to its scheduler */
_Noreturn void ep__die(ep__proc *p);          /* switch out for good (exiting is set) */
int ep__sched_start(int nthreads);
void ep__sched_stop(void);
void ep__wakep(void);
void ep__yield_slice(ep__proc *p);            /* slice used up: yield, die if exiting */
/* Charges n reductions to the running p; yields when its slice is used. */
static inline void ep__charge(ep__proc *p, int n) {
  atomic_store_explicit(&p->reductions,
                        atomic_load_explicit(&p->reductions, memory_order_relaxed) + (uint64_t)n,
                        memory_order_relaxed);
  if (EP_UNLIKELY((p->worker->budget -= n) <= 0)) ep__yield_slice(p);
}
void ep__monitor_tick(uint64_t now);           /* service thread: stuck workers */
void ep__monitor_reset(void);
bool ep__all_idle(void);

/* stacks (stack.c) */
ep__stack *ep__stack_get(ep__worker *w, size_t size);
void ep__stack_put(ep__worker *w, ep__stack *s);
void *ep__stack_top(ep__stack *s);
void *ep__stack_lo(ep__stack *s);
size_t ep__stack_usable(ep__stack *s);
bool ep__stack_sp_ok(ep__stack *s, const void *sp);
bool ep__stack_in_guard(ep__stack *s, const void *addr);
void ep__stacks_free_all(void);
void ep__stack_flush_worker(ep__worker *w);
int ep__overflow_init(ep__worker *w);
void ep__overflow_fini(ep__worker *w);

/* mailbox (mailbox.c) */
void ep__mq_init(ep__proc *p);
bool ep__mq_push(ep__proc *p, ep__msg *m);    /* true: the process was parked */
ep__msg *ep__mq_pop(ep__proc *p);
bool ep__mq_markparked(ep__proc *p);          /* false: something arrived, run again */
void ep__mq_free_all(ep__proc *p, bool final);
long ep__inner_free_all(ep__proc *p);          /* releases the inner queue (owner only) */
void ep__msg_release(ep__proc *p, ep__msg *m); /* a message that came through p's queue */
void ep__deliver_w(ep__worker *w, ep__proc *p, ep__msg *m);
ep__mon *ep__mon_new(ep__worker *w);

/* message blocks (msg_alloc.c); the _w forms are for a process running on
 * worker w (no thread-local lookup), w may be NULL off the workers */
ep__msg *ep__msg_new(size_t term_size);
ep__msg *ep__msg_new_w(ep__worker *w, size_t term_size);
ep__msg *ep__msg_copy(ep_term t);
ep__msg *ep__msg_copy_w(ep__worker *w, ep_term t);
void ep__msg_free(ep__msg *m);
void ep__msg_free_w(ep__worker *w, ep__msg *m);
void ep__msg_cache_free(ep__worker *w);       /* a stopping worker's blocks */
void ep__msg_depot_free(void);                /* at stop: everything */
size_t ep__msg_slab_bytes(void);              /* slab memory mapped now */
void ep__deliver(ep__proc *p, ep__msg *m);    /* push, and schedule if parked */
void ep__wake(ep__proc *p);                   /* push an MK_WAKE */
void ep__drain_queued(ep__proc *p);           /* outer queue -> inner queue */
/* The same, inline when nothing has arrived (most receives after a wake-up
 * look twice, once finding nothing). */
static inline void ep__drain(ep__proc *p) {
  if (atomic_load_explicit(&p->mq_tail->next, memory_order_acquire)) ep__drain_queued(p);
}
void ep__inner_unlink(ep__proc *p, ep__msg *prev, ep__msg *m);
int ep__receive(ep__proc *p, ep__match_fn match, void *ctx, long timeout_ms);
void ep__recv_release(ep__proc *p);
void ep__info_answer(ep__proc *p, ep__msg *req);
void ep__send_block(ep__proc *self, ep_pid to, ep__msg *m);

/* aliases (alias.c): owner-only, checked when ep__drain takes a message in */
static inline bool ep__is_alias(const ep_ref *r) {
  return r && r->node == EP_NODE_LOCAL && r->len == 5 && r->w[2] != 0;
}
ep_ref ep__alias_new(ep__proc *p);
bool ep__alias_probe(const ep__proc *p, uint32_t a);
static inline bool ep__alias_active(const ep__proc *p, uint32_t a) {
  return a == p->alias_one || (p->alias_cap && ep__alias_probe(p, a));
}
void ep__alias_drop(ep__proc *p, uint32_t a);
bool ep__alias_unref(ep__proc *p, const ep_ref *r); /* deactivates r if it is p's alias */
void ep__alias_free(ep__proc *p);

/* messages with Erlang shapes, built without a builder (signal.c) */
ep__msg *ep__msg_exit(ep_pid from, ep_term reason);
ep__msg *ep__msg_down(const ep_ref *ref, ep_pid pid, ep_atom name, ep_term reason);

/* signals (signal.c) */
void ep__exit_signal(ep__proc *to, ep_pid from, ep_term reason, bool linked);
void ep__set_exit(ep__proc *p, ep_term reason_owned);  /* under p's lock */
void ep__exit_self(ep__proc *p, ep_term reason_owned);  /* returns; caller dies */
void ep__death(ep__worker *w, ep__proc *p);   /* scheduler side, after the last switch */
void ep__check_exit(ep__proc *p);             /* dies if exiting */
void ep__set_root(ep_pid p);
int ep__wait_root(void);

/* registry (registry.c) */
void ep__registry_release(ep__proc *p);
int ep__register_unborn(ep_atom name, ep__proc *p, ep_pid pid);
void ep__register_born(ep_atom name, ep_pid pid);
void ep__registry_free_all(void);
ep_atom ep__registered_name(ep__proc *p);

/* timers and the service thread (timer.c) */
void *ep__timer_recv(ep__proc *p, uint64_t deadline_ns, uint32_t gen);
void ep__timer_cancel_recv(void *t);
int ep__service_start(void);
void ep__service_stop(void);
void ep__service_kick(void);                  /* a worker left idle: resume monitor ticks */

/* blocking pool (blocking.c) */
void ep__blocking_stop(void);

/* terms */
ep_term ep__dup(ep_term t);                   /* aborts on out-of-memory */
ep_term ep__atom_dup(ep_atom a);             /* an exit reason: free with ep__reason_free */
void ep__reason_free(ep_term t);
void ep__atom_terms_init(void);

/* sanitizer fiber hooks (sched.c) */
void ep__fiber_create(ep__proc *p);
void ep__fiber_destroy(ep__proc *p);

#endif
