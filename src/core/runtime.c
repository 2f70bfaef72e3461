/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runtime.c - the runtime's lifecycle: ep_start checks the configuration
 * and starts the process table, the workers and the service thread;
 * ep_stop kills every process, waits for them, stops the threads and
 * returns every byte; ep_run does both around a root process. Owns the
 * order of start-up and shut-down; each part frees its own state.
 */
#include <string.h>

#include "core/core.h"

static pthread_mutex_t life_lock = PTHREAD_MUTEX_INITIALIZER;

static int check_config(const ep_config *cfg, ep_config *out) {
  ep_config c = cfg ? *cfg : (ep_config){0};
  if (c.threads < 0 || c.blocking_threads < 0) return EP_EINVAL;
  if (c.threads == 0) c.threads = ep__os_ncpu();
  if (c.threads > 1024) return EP_EINVAL;
  if (c.process_limit == 0) c.process_limit = EP_PROCESS_LIMIT_DEFAULT;
  if (c.process_limit < EP_PROCESS_LIMIT_MIN || c.process_limit > EP_PROCESS_LIMIT_MAX) return EP_EINVAL;
  if (c.stack_size == 0) c.stack_size = EP_STACK_DEFAULT;
  if (c.stack_size < 16 * 1024 || c.stack_size > ((size_t)1 << 30)) return EP_EINVAL;
  *out = c;
  return 0;
}

static void release_all(void) {
  ep__table_free_all();
  ep__stacks_free_all();
  ep__registry_free_all();
}

int ep_start(const ep_config *cfg) {
  ep_config c;
  int rc = check_config(cfg, &c);
  if (rc) return rc;
  pthread_mutex_lock(&life_lock);
  if (atomic_load_explicit(&RT->state, memory_order_acquire) != 0) {
    pthread_mutex_unlock(&life_lock);
    return EP_ESTATE;
  }
  RT->nthreads = c.threads;
  RT->stack_size = c.stack_size;
  RT->blocking_threads = c.blocking_threads;
  pthread_mutex_init(&RT->slot_lock, NULL);
  pthread_mutex_init(&RT->gq_lock, NULL);
  pthread_mutex_init(&RT->idle_lock, NULL);
  pthread_mutex_init(&RT->chunk_lock, NULL);
  RT->gq_head = RT->gq_tail = NULL;
  atomic_store_explicit(&RT->gq_n, 0, memory_order_relaxed);
  atomic_store_explicit(&RT->quit, 0, memory_order_relaxed);
  atomic_store_explicit(&RT->epoch, 1, memory_order_relaxed);
  atomic_store_explicit(&RT->foreign, 0, memory_order_relaxed);
  atomic_store_explicit(&RT->ref_global, 1, memory_order_relaxed);
  ep__atom_terms_init();
  rc = ep__table_init(c.process_limit);
  if (!rc) rc = ep__sched_start(c.threads);
  if (!rc) rc = ep__service_start();
  if (rc) {
    ep__sched_stop();
    release_all();
    pthread_mutex_unlock(&life_lock);
    return rc;
  }
  atomic_store_explicit(&RT->state, 1, memory_order_release);
  pthread_mutex_unlock(&life_lock);
  return 0;
}

/* Kills every process (again and again: one may be mid-spawn) until none
 * is left. A process stuck in a C loop that never calls the runtime keeps
 * ep_stop waiting, as it would keep the BEAM's init:stop/0 waiting. */
static void kill_all(void) {
  ep_smallterm s;
  ep_term kill = ep_atom_term(&s, EP_A_kill);
  while (ep_process_count() > 0) {
    uint32_t seen = atomic_load_explicit(&RT->empty_word, memory_order_acquire);
    uint32_t top = atomic_load_explicit(&RT->fresh, memory_order_relaxed);
    bool f = ep__enter();
    for (uint32_t i = 1; i < top; i++) {
      ep__proc *p = atomic_load_explicit(&RT->slots[i].proc, memory_order_acquire);
      if (p) ep_exit_signal(ep__pid(p), kill);
    }
    ep__leave(f);
    if (ep_process_count() == 0) break;
    ep__os_wait_until(&RT->empty_word, seen, ep__os_now_ns() + 20 * 1000000ull);
  }
}

void ep_stop(void) {
  pthread_mutex_lock(&life_lock);
  if (atomic_load_explicit(&RT->state, memory_order_acquire) != 1) {
    pthread_mutex_unlock(&life_lock);
    return;
  }
  atomic_store_explicit(&RT->state, 2, memory_order_seq_cst);
  kill_all();
  ep__blocking_stop();
  ep__service_stop();
  ep__sched_stop();
  release_all();
  atomic_store_explicit(&RT->state, 0, memory_order_release);
  pthread_mutex_unlock(&life_lock);
}

int ep_run(const ep_config *cfg, ep_proc_fn root, ep_term arg) {
  int rc = ep_start(cfg);
  if (rc) return rc;
  ep_spawn_opts o = {.flags = EP__SPAWN_ROOT};
  rc = ep_spawn_opt(NULL, root, arg, &o, NULL);
  if (rc == 0) rc = ep__wait_root();
  ep_stop();
  return rc;
}
