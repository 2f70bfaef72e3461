/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ppool_nagger.c - the shell session of Learn You Some Erlang's ppool
 * chapter (seed 001), step by step: a pool of two naggers, a third run
 * refused with noalloc, three async jobs of which one waits, a sync_queue
 * that blocks until a worker goes down, stop_pool, and the chapter's
 * brutal stop. Delays are those of the chapter divided by 100.
 */
#include <stdio.h>
#include <stdlib.h>

#include "eproc.h"

#define SCALE 100          /* the chapter's milliseconds / SCALE */

static long step = 1;

static void show(const char *prefix, ep_term t) {
  char *s = ep_print_alloc(t, EP_PRINT_ERLANG);
  printf("%s%s\n", prefix, s);
  free(s);
}

static void show_result(int rc, ep_pid pid) {
  ep_term t;
  if (rc == 0)
    ep_format(&t, "{ok, ~p}", pid);
  else if (rc == EP_EBUSY)
    ep_format(&t, "noalloc");
  else
    ep_format(&t, "{error, ~a}", ep_err_name(rc));
  show("", t);
  ep_term_free(t);
}

/* ["Task", Delay, Max, self()], with the delay scaled. */
static ep_term job(const char *task, long delay, long max) {
  ep_term t;
  ep_format(&t, "[~s, ~l, ~l, ~p]", task, delay / SCALE, max, ep_self());
  return t;
}

static void prompt(const char *call, const char *task, long delay, long max) {
  printf("%ld> ppool:%s(nagger, [\"%s\", %ld, %ld, self()]).\n", step++, call, task, delay, max);
}

static int run(const char *task, long delay, long max) {
  prompt("run", task, delay, max);
  ep_term j = job(task, delay, max);
  ep_pid w;
  int rc = ep_ppool_run(ep_atom_of("nagger"), j, &w);
  ep_term_free(j);
  show_result(rc, w);
  return rc;
}

static void sync_queue(const char *task, long delay, long max) {
  prompt("sync_queue", task, delay, max);
  ep_term j = job(task, delay, max);
  ep_pid w;
  int rc = ep_ppool_sync_queue(ep_atom_of("nagger"), j, &w);
  ep_term_free(j);
  show_result(rc, w);
}

static void async_queue(const char *task, long delay, long max) {
  prompt("async_queue", task, delay, max);
  ep_term j = job(task, delay, max);
  ep_ppool_async_queue(ep_atom_of("nagger"), j);
  ep_term_free(j);
  printf("ok\n");
}

/* flush() once `wait_for` messages have come (the chapter waits by hand). */
static void flush(int wait_for) {
  printf("%ld> flush().\n", step++);
  ep_term m;
  for (int i = 0; i < wait_for && ep_receive_any(&m, 10000) == 0; i++)
    show("Shell got ", m);
  while (ep_receive_any(&m, 0) == 0)
    show("Shell got ", m);
  printf("ok\n");
}

/* The shell: linked to ppool like the chapter's, so the brutal stop takes it down. */
static void shell(ep_term parent) {
  (void)parent;
  ep_pid sup, pool;
  printf("%ld> ppool:start_link().\n", step++);
  show_result(ep_ppool_start_link(&sup), sup);
  printf("%ld> ppool:start_pool(nagger, 2, {ppool_nagger, start_link, []}).\n", step++);
  show_result(ep_ppool_start_pool(ep_atom_of("nagger"), 2, ep_ppool_nagger_start_link, NULL,
                                  &pool), pool);
  run("finish the chapter!", 10000, 10);
  run("Watch a good movie", 10000, 10);
  flush(2);
  run("clean up a bit", 10000, 10);
  flush(18);                                  /* the rest of both naggers' nags */
  async_queue("Pay the bills", 30000, 1);
  async_queue("Take a shower", 30000, 1);
  async_queue("Plant a tree", 30000, 1);
  flush(2);
  flush(1);
  sync_queue("Pet a dog", 20000, 1);
  sync_queue("Make some noise", 20000, 1);
  sync_queue("Chase a tornado", 20000, 1);   /* blocks until a worker goes down */
  flush(2);
  flush(1);
  printf("%ld> ppool:stop_pool(nagger).\n", step++);
  printf("%s\n", ep_ppool_stop_pool(ep_atom_of("nagger")) == 0 ? "ok" : "error");
  printf("%ld> ppool:stop().\n", step++);
  fflush(stdout);
  ep_ppool_kill();
  ep_receive_any(&parent, EP_INFINITY);       /* the kill arrives through the link */
}

static void root(ep_term arg) {
  (void)arg;
  ep_smallterm s;
  ep_ref m;
  ep_pid sh = ep_spawn_monitor(shell, ep_pid_term(&s, ep_self()), &m);
  (void)sh;
  EP_PATTERN(p_down, "{'DOWN', _, process, _, Reason}");
  ep_receive(EP_INFINITY, p_down);
  show("** exception exit: ", ep_var(0));
  /* The clean way, which the chapter leaves to the next one. */
  ep_pid sup;
  printf("%ld> ppool:start_link(), ppool:stop().   %% clean: no error, caller alive\n", step++);
  ep_ppool_start_link(&sup);
  printf("%s\n", ep_ppool_stop() == 0 ? "ok" : "error");
  fflush(stdout);
}

int main(void) {
  ep_smallterm s;
  return ep_run(NULL, root, ep_atom_term(&s, EP_A_ok)) == 0 ? 0 : 1;
}
