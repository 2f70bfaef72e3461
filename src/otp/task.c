/* SPDX-License-Identifier: Apache-2.0 */
/*
 * task.c - Elixir's Task (R66-R70): the task process, await / yield /
 * shutdown on the owner's side, and the ordered parallel map built from
 * them. Owns nothing beyond the calls: an ep_task is a plain value the
 * owner keeps, and the pmap window lives on the heap for its call only.
 */
#include <stdlib.h>

#include "otp_int.h"

struct run { ep_term_fn fn; ep_term arg; ep_build *b; };

static void run_fn(void *ctx) {
  struct run *r = ctx;
  r->fn(r->arg, r->b);
}

/* Runs fn(arg) and returns the builder holding its result, or exits as fn
 * did. Nothing is allocated before fn runs: a task killed while waiting
 * in fn (a sleep, a call) leaves no memory behind. */
static void run_task(ep_term fn_term, ep_build *b) {
  ep_fn fn;
  ep_term arg;
  ep_get_fun(fn_term, &fn, &arg);
  ep_b_init(b);
  struct run r = {(ep_term_fn)fn, arg, b};
  ep_term why;
  if (ep_catch(run_fn, &r, &why)) {
    ep_b_free(b);
    ep_exit(why);
  }
}

/* The task process. arg = {Fun(Arg), Owner, Tag}; replies {Tag, Result}
 * to Tag, the owner's alias: after an await timeout it is dropped (R67). */
static void task_main(ep_term a) {
  ep_ref tag;
  ep_get_ref(ep_tuple_elem(a, 2), &tag);
  ep_build b;
  run_task(ep_tuple_elem(a, 0), &b);
  ep_send_alias_fmt(&tag, "{~t, ~t}", ep_tuple_elem(a, 2), ep_b_peek(&b));
  ep_b_free(&b);
}

/* Spawns one task with b as scratch space. */
static ep_task spawn_task(ep_term_fn fn, ep_term arg, ep_build *b) {
  ep_task t = {.owner = ep_self(), .tag = ep_alias()};
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
  if (!fn)
    ep_error_atom(EP_A_badarg);   /* Task.async of no function */
  ep_build b;
  ep_b_init(&b);
  ep_task t = spawn_task(fn, arg, &b);
  ep_b_free(&b);
  return t;
}

/* Waits for the reply or the DOWN: 0 (reply in *out), EP_EEXITED (reason
 * in *out), EP_ETIMEOUT. Once there is an answer the alias has served. */
static int wait_task(ep_task *t, long timeout_ms, ep_term *out) {
  EP_PATTERN(p_reply, "{^Tag, R}");
  EP_PATTERN(p_down, "{'DOWN', ^Mref, process, _, R}");
  ep_smallterm s1, s2;
  ep_term pins[2] = {ep_ref_term(&s1, &t->tag), ep_ref_term(&s2, &t->mref)};
  const ep_clause cl[2] = {{p_reply, &pins[0]}, {p_down, &pins[1]}};
  int k = ep_receive_clauses(cl, 2, timeout_ms);
  if (k < 0)
    return k;
  ep_unalias(&t->tag);
  *out = ep_var(0);
  if (k == 0) {
    ep__demonitor_flush(&t->mref);
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
  ep__b_timeout(&b, timeout_ms);
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
  if (!t || !ep_pid_eq(t->owner, ep_self()))
    ep_error_atom(EP_A_badarg);
  ep_term out;
  int rc = wait_task(t, timeout_ms, &out);
  if (rc == 0)
    return out;
  ep_smallterm st;
  if (rc == EP_ETIMEOUT) {
    ep_unalias(&t->tag);                /* the late reply is discarded (R67) */
    ep__demonitor_flush(&t->mref);
    out = ep_atom_term(&st, EP_A_timeout);
  }
  await_exit(t, out, timeout_ms);
}

int ep_task_yield(ep_task *t, long timeout_ms, ep_term *result) {
  if (!t)
    return EP_EINVAL;
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

/* A pmap task: {Fun(X), Owner, Batch, Index}; replies {Batch, Index, Result}
 * to Batch, an alias of the owner. */
static void pmap_main(ep_term a) {
  ep_ref batch;
  ep_get_ref(ep_tuple_elem(a, 2), &batch);
  ep_build b;
  run_task(ep_tuple_elem(a, 0), &b);
  ep_send_alias_fmt(&batch, "{~t, ~t, ~t}", ep_tuple_elem(a, 2), ep_tuple_elem(a, 3),
                    ep_b_peek(&b));
  ep_b_free(&b);
}

/* why may be a term of the current message: await_exit copies it first.
 * Replies still to come are dropped, should the caller catch the exit. */
_Noreturn static void pmap_exit(const ep_ref *batch, ep_term why, long timeout_ms, ep_term *got,
                                long n) {
  ep_unalias(batch);
  for (long i = 0; i < n; i++)
    if (got[i])
      ep_term_free(got[i]);
  free(got);
  ep_task t = {.owner = ep_self(), .mref = *batch};   /* a zero ref cannot be built */
  await_exit(&t, why, timeout_ms);
}

/* Tasks are linked, not monitored, and replies are taken as they come and
 * put back in order (as Task.async_stream with ordered: true): awaiting
 * in input order would rescan every later reply each time. A task that
 * dies kills a non-trapping caller through the link (R67); a trapping
 * caller sees its {'EXIT', Pid, R} and exits as await does. */
void ep_task_pmap(ep_term_fn fn, ep_term list, long max_concurrency, long timeout_ms,
                  ep_build *out) {
  EP_PATTERN(p_reply, "{^Batch, I::int, R}");
  EP_PATTERN(p_exit, "{'EXIT', _, R}");
  long n = ep_list_length(list);
  if (n < 0)
    ep_error_atom(EP_A_badarg);
  long w = max_concurrency > 0 && max_concurrency < n ? max_concurrency : n;
  ep_term *got = calloc((size_t)(n ? n : 1), sizeof *got);
  if (!got)
    abort();
  ep_ref batch = ep_alias();
  ep_smallterm sb;
  ep_term pin = ep_ref_term(&sb, &batch);
  ep_build b;
  ep_b_init(&b);
  ep_pid self = ep_self();
  ep_term next = list;
  long started = 0, done = 0;
  const ep_clause cl[2] = {{p_reply, &pin}, {p_exit, NULL}};
  while (done < n) {
    for (; started < n && started - done < w; started++, next = ep_list_tail(next)) {
      ep_b_reset(&b);
      ep_b_tuple(&b);
      ep_b_fun(&b, (ep_fn)fn);
      ep_b_term(&b, ep_list_head(next));
      ep_b_pid(&b, self);
      ep_b_ref(&b, &batch);
      ep_b_int(&b, started);
      ep_b_end(&b);
      ep_spawn_opts o = {.flags = EP_SPAWN_LINK};
      ep_pid p;
      if (ep_spawn_opt(&p, pmap_main, ep_b_peek(&b), &o, NULL) < 0) {
        ep_b_free(&b);
        ep_smallterm st;
        pmap_exit(&batch, ep_atom_term(&st, EP_A_system_limit), timeout_ms, got, n);
      }
    }
    int k = ep_receive_clauses(cl, 2, timeout_ms);
    if (k == 0) {
      int64_t i;
      ep_term r;
      ep_bind(&i, &r);
      got[i] = ep_term_dup(r);
      done++;
    } else if (k == EP_ETIMEOUT || !ep_is_atom(ep_var(0), EP_A_normal)) {
      ep_smallterm st;
      ep_b_free(&b);
      pmap_exit(&batch, k == EP_ETIMEOUT ? ep_atom_term(&st, EP_A_timeout) : ep_var(0), timeout_ms,
                got, n);
    }
  }
  ep_b_free(&b);
  ep_unalias(&batch);
  ep_b_list(out);
  for (long i = 0; i < n; i++) {
    ep_b_term(out, got[i]);
    ep_term_free(got[i]);
  }
  ep_b_end(out);
  free(got);
}
