/* SPDX-License-Identifier: Apache-2.0 */
/*
 * task.c - Elixir's Task (R66-R70): the task process, await / yield /
 * shutdown on the owner's side, and the ordered parallel map built from
 * them. Owns nothing beyond the calls: an ep_task is a plain value the
 * owner keeps, and the pmap window lives on the heap for its call only.
 */
#include <stdlib.h>

#include "otp_int.h"

/* The task process. arg = {Fun(Arg), Owner, Tag}. */
struct run { ep_term_fn fn; ep_term arg; ep_build *b; };

static void run_fn(void *ctx) {
  struct run *r = ctx;
  r->fn(r->arg, r->b);
}

static void task_main(ep_term a) {
  ep_fn fn;
  ep_term arg;
  ep_pid owner;
  ep_ref tag;
  ep_get_fun(ep_tuple_elem(a, 0), &fn, &arg);
  ep_get_pid(ep_tuple_elem(a, 1), &owner);
  ep_get_ref(ep_tuple_elem(a, 2), &tag);
  ep_build b;
  ep_b_init(&b);
  ep_b_tuple(&b);
  ep_b_ref(&b, &tag);
  struct run r = {(ep_term_fn)fn, arg, &b};
  ep_term why;
  if (ep_catch(run_fn, &r, &why)) {
    ep_b_free(&b);
    ep_exit(why);
  }
  ep_b_end(&b);
  ep_send(owner, ep_b_peek(&b));
  ep_b_free(&b);
}

/* Spawns one task with b as scratch space. */
static ep_task spawn_task(ep_term_fn fn, ep_term arg, ep_build *b) {
  ep_task t = {.owner = ep_self(), .tag = ep_make_ref()};
  ep_b_reset(b);
  ep_b_tuple(b);
  ep_b_fun(b, (ep_fn)fn);
  ep_b_term(b, arg);
  ep_b_pid(b, t.owner);
  ep_b_ref(b, &t.tag);
  ep_b_end(b);
  ep_spawn_opts o = {.flags = EP_SPAWN_LINK | EP_SPAWN_MONITOR};
  if (ep_spawn_opt(&t.pid, task_main, ep_b_peek(b), &o, &t.mref) < 0)
    t.pid = EP_PID_NONE;
  return t;
}

ep_task ep_task_async(ep_term_fn fn, ep_term arg) {
  ep_build b;
  ep_b_init(&b);
  ep_task t = spawn_task(fn, arg, &b);
  ep_b_free(&b);
  return t;
}

/* Waits for the reply or the DOWN: 0 (reply in *out), EP_EEXITED (reason
 * in *out), EP_ETIMEOUT. */
static int wait_task(ep_task *t, long timeout_ms, ep_term *out) {
  EP_PATTERN(p_reply, "{^Tag, R}");
  EP_PATTERN(p_down, "{'DOWN', ^Mref, process, _, R}");
  ep_smallterm s1, s2;
  ep_term pins[2] = {ep_ref_term(&s1, &t->tag), ep_ref_term(&s2, &t->mref)};
  const ep_clause cl[2] = {{p_reply, &pins[0]}, {p_down, &pins[1]}};
  int k = ep_receive_clauses(cl, 2, timeout_ms);
  if (k < 0)
    return k;
  *out = ep_var(0);
  if (k == 0) {
    ep_demonitor(&t->mref, EP_DEMONITOR_FLUSH);
    return 0;
  }
  return EP_EEXITED;
}

/* %Task{owner, pid, ref} as Elixir prints it in exit reasons. */
static void b_task(ep_build *b, const ep_task *t) {
  ep_b_map(b);
  ep_b_atom(b, ep__A.struct_);
  ep_b_atom(b, ep__A.elixir_task);
  ep_b_atom(b, ep__A.owner);
  ep_b_pid(b, t->owner);
  ep_b_atom(b, ep__A.pid);
  ep_b_pid(b, t->pid);
  ep_b_atom(b, ep__A.ref);
  ep_b_ref(b, &t->mref);
  ep_b_end(b);
}

_Noreturn static void await_exit(const ep_task *t, ep_term why, long timeout_ms) {
  ep_build b;
  ep_b_init(&b);
  ep_b_list(&b);
  b_task(&b, t);
  if (timeout_ms == EP_INFINITY)
    ep_b_atom(&b, EP_A_infinity);
  else
    ep_b_int(&b, timeout_ms);
  ep_b_end(&b);
  ep_term args = ep__b_done(&b);
  ep_b_free(&b);
  ep_b_init(&b);
  ep_b_tuple(&b);
  ep_b_term(&b, why);
  ep_b_tuple(&b);
  ep_b_atom(&b, ep__A.elixir_task);
  ep_b_atom(&b, ep__A.await);
  ep_b_term(&b, args);
  ep_b_end(&b);
  ep_b_end(&b);
  ep_term_free(args);
  ep_term r = ep__b_done(&b);
  ep_b_free(&b);
  ep__exit_owned(r);
}

ep_term ep_task_await(ep_task *t, long timeout_ms) {
  if (!ep_pid_eq(t->owner, ep_self())) {
    ep_smallterm st;
    ep_error(ep_atom_term(&st, EP_A_badarg));
  }
  ep_term out;
  int rc = wait_task(t, timeout_ms, &out);
  if (rc == 0)
    return out;
  ep_smallterm st;
  if (rc == EP_ETIMEOUT) {
    ep_demonitor(&t->mref, EP_DEMONITOR_FLUSH);
    out = ep_atom_term(&st, EP_A_timeout);
  }
  await_exit(t, out, timeout_ms);
}

int ep_task_yield(ep_task *t, long timeout_ms, ep_term *result) {
  ep_term out = NULL;
  int rc = wait_task(t, timeout_ms, &out);
  if (result && rc != EP_ETIMEOUT)
    *result = out;
  return rc;
}

int ep_task_shutdown(ep_task *t, long timeout_ms, ep_term *result) {
  ep_unlink(t->pid);
  ep_exit_signal_atom(t->pid, EP_A_shutdown);
  ep_term out = NULL;
  int rc = wait_task(t, timeout_ms, &out);
  if (rc == EP_ETIMEOUT) {
    ep_exit_signal_atom(t->pid, EP_A_kill);
    rc = wait_task(t, EP_INFINITY, &out);
  }
  if (rc == EP_EEXITED && (ep_is_atom(out, EP_A_shutdown) || ep_is_atom(out, EP_A_killed) ||
                           ep_is_atom(out, EP_A_noproc)))
    return EP_ENOPROC;
  if (result)
    *result = out;
  return rc;
}

void ep_task_pmap(ep_term_fn fn, ep_term list, long max_concurrency, long timeout_ms,
                  ep_build *out) {
  long n = ep_list_length(list);
  if (n < 0) {
    ep_smallterm st;
    ep_error(ep_atom_term(&st, EP_A_badarg));
  }
  long w = max_concurrency > 0 && max_concurrency < n ? max_concurrency : n;
  ep_task *win = malloc((size_t)(w ? w : 1) * sizeof *win);
  if (!win)
    abort();
  ep_build b;
  ep_b_init(&b);
  ep_term next = list;
  long started = 0;
  for (; started < w; started++, next = ep_list_tail(next))
    win[started] = spawn_task(fn, ep_list_head(next), &b);
  ep_b_list(out);
  for (long i = 0; i < n; i++) {
    ep_task *t = &win[i % w];
    ep_term r;
    int rc = wait_task(t, timeout_ms, &r);
    if (rc != 0) {
      /* Free what is ours before exiting as await does. */
      ep_task failed = *t;
      ep_smallterm st;
      if (rc == EP_ETIMEOUT) {
        ep_demonitor(&failed.mref, EP_DEMONITOR_FLUSH);
        r = ep_atom_term(&st, EP_A_timeout);
      }
      free(win);
      ep_b_free(&b);
      await_exit(&failed, r, timeout_ms);
    }
    ep_b_term(out, r);
    if (started < n) {
      *t = spawn_task(fn, ep_list_head(next), &b);
      next = ep_list_tail(next);
      started++;
    }
  }
  ep_b_end(out);
  ep_b_free(&b);
  free(win);
}
