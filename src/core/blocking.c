/* SPDX-License-Identifier: Apache-2.0 */
/*
 * blocking.c - ep_blocking: runs a blocking C call on a pool of threads
 * outside the schedulers (the BEAM's dirty I/O schedulers), parking only
 * the calling process. Owns the job queue and the pool threads (started on
 * first use). A caller cannot die while its job runs (the job may point
 * into its stack): exit signals that arrive meanwhile take effect after.
 */
#include "core/core.h"

typedef struct job {
  struct job *next;
  long (*fn)(void *);
  void *ctx;
  long result;
  ep__proc *p;                      /* valid: the caller waits for the job */
} job;

static struct {
  pthread_mutex_t lock;
  pthread_cond_t cond;
  job *head, *tail;
  pthread_t *threads;
  int n, want;
  bool quit;
} B = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

static void *pool_main(void *arg) {
  (void)arg;
  pthread_mutex_lock(&B.lock);
  for (;;) {
    while (!B.head && !B.quit) pthread_cond_wait(&B.cond, &B.lock);
    if (!B.head) break;
    job *j = B.head;
    B.head = j->next;
    if (!B.head) B.tail = NULL;
    pthread_mutex_unlock(&B.lock);
    j->result = j->fn(j->ctx);
    ep__msg *m = ep__msg_new(0);
    if (!m) abort();
    m->kind = MK_DONE;
    ep__proc *p = j->p;
    ep__deliver(p, m);   /* after this the caller may return and j is gone */
    pthread_mutex_lock(&B.lock);
  }
  pthread_mutex_unlock(&B.lock);
  return NULL;
}

/* Starts one more pool thread if every one may be busy (lock held). */
static void grow_locked(int busy) {
  int max = RT->blocking_threads > 0 ? RT->blocking_threads : 10;
  if (B.n >= max || busy < B.n) return;
  if (!B.threads) {
    B.threads = calloc((size_t)max, sizeof(pthread_t));
    if (!B.threads) abort();
  }
  if (pthread_create(&B.threads[B.n], NULL, pool_main, NULL) == 0) B.n++;
}

static _Atomic int busy_jobs;

long ep_blocking(long (*fn)(void *ctx), void *ctx) {
  ep__proc *p = ep__self();
  if (!p) return fn(ctx);
  ep__check_exit(p);
  job j = {NULL, fn, ctx, 0, p};
  p->job_done = false;
  int busy = atomic_fetch_add_explicit(&busy_jobs, 1, memory_order_relaxed) + 1;
  pthread_mutex_lock(&B.lock);
  grow_locked(busy);
  if (B.tail) B.tail->next = &j;
  else B.head = &j;
  B.tail = &j;
  pthread_cond_signal(&B.cond);
  pthread_mutex_unlock(&B.lock);
  /* wait for MK_DONE only; messages stay queued, exits wait (see top) */
  for (;;) {
    ep__drain(p);
    if (p->job_done) break;
    ep__switch_out(p, IN_PARK);
  }
  atomic_fetch_sub_explicit(&busy_jobs, 1, memory_order_relaxed);
  ep__check_exit(p);
  return j.result;
}

void ep__blocking_stop(void) {
  pthread_mutex_lock(&B.lock);
  B.quit = true;
  pthread_cond_broadcast(&B.cond);
  pthread_mutex_unlock(&B.lock);
  for (int i = 0; i < B.n; i++) pthread_join(B.threads[i], NULL);
  free(B.threads);
  B.threads = NULL;
  B.n = 0;
  B.quit = false;
}
