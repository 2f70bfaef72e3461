/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ppool_serv.c - the pool server of seed 001 (R74-R78): the free-slot
 * count, a monitor per running worker, and one FIFO of waiting jobs
 * shared by sync and async requests. Owns the queue and its copies of the
 * jobs' args; the workers belong to the worker supervisor, which the
 * server attaches to its ppool_sup once init has returned.
 */
#include <stdlib.h>
#include <string.h>

#include "eproc.h"
#include "ppool_int.h"

/* Two words, so that a long queue stays small: most jobs are async. */
struct job {
  ep_term args;                 /* owned */
  ep_from *from;                /* owned: a sync_queue caller awaiting the reply, or NULL */
};

struct serv {
  long limit, running, queue_limit, rejected;
  ep_pid sup, wsup;
  ep_term start;                /* owned: Fun(worker start, base args) */
  struct job *q;                /* ring */
  size_t qhead, qlen, qcap;
  ep_ref *refs;                 /* open addressing; len 0 = empty slot */
  size_t nrefs, rcap;
};

/* -------------------------------------------------- monitor references -- */

static size_t ref_hash(const ep_ref *r) {
  uint64_t h = ((uint64_t)r->w[0] << 32 | r->w[1]) ^ r->w[2];
  return (size_t)((h * 0x9e3779b97f4a7c15ull) >> 20);
}

static void refs_put(struct serv *s, const ep_ref *r);

static void refs_grow(struct serv *s) {
  ep_ref *old = s->refs;
  size_t ocap = s->rcap;
  s->rcap = ocap ? ocap * 2 : 16;
  s->refs = calloc(s->rcap, sizeof *s->refs);
  if (!s->refs)
    abort();
  s->nrefs = 0;
  for (size_t i = 0; i < ocap; i++)
    if (old[i].len)
      refs_put(s, &old[i]);
  free(old);
}

static void refs_put(struct serv *s, const ep_ref *r) {
  if ((s->nrefs + 1) * 4 > s->rcap * 3)
    refs_grow(s);
  size_t m = s->rcap - 1, i = ref_hash(r) & m;
  while (s->refs[i].len)
    i = (i + 1) & m;
  s->refs[i] = *r;
  s->nrefs++;
}

/* Removes r if present (backward-shift deletion); returns whether it was. */
static bool refs_take(struct serv *s, const ep_ref *r) {
  if (!s->rcap)
    return false;
  size_t m = s->rcap - 1, i = ref_hash(r) & m;
  while (s->refs[i].len && !ep_ref_eq(&s->refs[i], r))
    i = (i + 1) & m;
  if (!s->refs[i].len)
    return false;
  for (size_t j = (i + 1) & m; s->refs[j].len; j = (j + 1) & m) {
    size_t home = ref_hash(&s->refs[j]) & m;
    if (((j - home) & m) >= ((j - i) & m)) {
      s->refs[i] = s->refs[j];
      i = j;
    }
  }
  s->refs[i].len = 0;
  s->nrefs--;
  return true;
}

/* ----------------------------------------------------------- the queue -- */

/* Queues a copy of args, and of from when the caller waits. */
static void q_push(struct serv *s, ep_term args, const ep_from *from) {
  struct job j = {ep_term_dup(args), from ? malloc(sizeof *from) : NULL};
  if (!j.args || (from && !j.from))
    abort();
  if (from)
    *j.from = *from;
  if (s->qlen == s->qcap) {
    /* realloc (a large ring moves by remapping, not copying), then the
     * wrapped part [0, qhead) goes after the old end */
    size_t ocap = s->qcap, ncap = ocap ? ocap * 2 : 16;
    struct job *n = realloc(s->q, ncap * sizeof *n);
    if (!n)
      abort();
    memcpy(n + ocap, n, s->qhead * sizeof *n);
    s->q = n;
    s->qcap = ncap;
  }
  s->q[(s->qhead + s->qlen++) & (s->qcap - 1)] = j;   /* qcap: a power of 2 */
}

static struct job q_pop(struct serv *s) {
  struct job j = s->q[s->qhead];
  s->qhead = (s->qhead + 1) & (s->qcap - 1);
  s->qlen--;
  return j;
}

static bool q_full(const struct serv *s) {
  return s->queue_limit > 0 && (long)s->qlen >= s->queue_limit;
}

/* ------------------------------------------------------------- workers -- */

struct start_ctx { ep_pid wsup; ep_term args; ep_pid pid; int rc; };

static void do_start(void *ctx) {
  struct start_ctx *c = ctx;
  c->rc = ep_supervisor_start_child_args(ep_srv(c->wsup), c->args, &c->pid, NULL);
}

/* Starts and monitors a worker (R75). 0; an error when the worker did not
 * start; EP_ENOPROC when the worker supervisor is gone: the pool is being
 * shut down, and the caller stops the server quietly with `shutdown`. */
static int start_worker(struct serv *s, ep_term args, ep_pid *pid) {
  struct start_ctx c = {s->wsup, args, EP_PID_NONE, 0};
  if (ep_catch(do_start, &c, NULL))
    return EP_ENOPROC;
  if (c.rc != 0 || ep_pid_eq(c.pid, EP_PID_NONE))
    return c.rc ? c.rc : EP_EINVAL;
  ep_ref r = ep_monitor(c.pid);
  refs_put(s, &r);
  s->running++;
  *pid = c.pid;
  return 0;
}

static ep_term ok_pid(ep_pid p) {
  ep_term t;
  ep_format(&t, "{ok, ~p}", p);
  return t;
}

static ep_term error_atom(ep_atom a) {
  ep_term t;
  ep_format(&t, "{error, ~A}", a);
  return t;
}

/* A slot is free: the oldest queued job gets it (R78). Returns false when
 * the worker supervisor is gone. */
static bool dequeue(struct serv *s) {
  while (s->qlen && s->running < s->limit) {
    struct job j = q_pop(s);
    ep_pid pid;
    int rc = start_worker(s, j.args, &pid);
    if (j.from) {
      ep_term r = rc == 0 ? ok_pid(pid) : error_atom(ep_atom_of(ep_err_name(rc)));
      ep_gen_server_reply(j.from, r);
      ep_term_free(r);
      free(j.from);
    }
    ep_term_free(j.args);
    if (rc == EP_ENOPROC)
      return false;
  }
  return true;
}

/* ----------------------------------------------------------- callbacks -- */

static ep_gs_ret init(ep_term arg, void **state) {
  /* arg = [Name, Limit, QueueLimit, StartFun] (ppool_int.h), plus the
   * pool supervisor, which is our parent. */
  struct serv *s = calloc(1, sizeof *s);
  if (!s)
    abort();
  int64_t v;
  ep_term l = ep_list_tail(arg);
  ep_get_int(ep_list_head(l), &v);
  s->limit = (long)v;
  l = ep_list_tail(l);
  ep_get_int(ep_list_head(l), &v);
  s->queue_limit = (long)v;
  l = ep_list_tail(l);
  s->start = ep_term_dup(ep_list_head(l));
  ep_get_pid(ep_list_head(ep_list_tail(l)), &s->sup);
  *state = s;
  /* Starting the worker supervisor here would deadlock: our supervisor is
   * waiting for this init (R46). The message is the first we handle (R13).
   * Until it is attached the server does not trap exits, as in the
   * chapter: a pool stopped meanwhile finds it waiting on that very
   * supervisor, and shuts it down at once (if the server trapped, the
   * supervisor would wait for it, and it for the supervisor, until the
   * shutdown time ran out and it was killed). `release` frees the state. */
  ep_send_fmt(ep_self(), "'$init_worker_sup'");
  return ep_init_ok();
}

static void release(void *state) {
  struct serv *s = state;
  while (s->qlen) {
    struct job j = q_pop(s);
    ep_term_free(j.args);
    free(j.from);
  }
  free(s->q);
  free(s->refs);
  ep_term_free(s->start);
  free(s);
}

static void terminate(ep_term reason, void *state) {
  (void)reason;
  release(state);
}

static ep_gs_ret handle_call(ep_term req, const ep_from *from, void *state) {
  EP_PATTERN(p_run, "{run, Args}");
  EP_PATTERN(p_sync, "{sync, Args}");
  EP_PATTERN(p_stats, "stats");
  struct serv *s = state;
  ep_term args;
  ep_pid pid;
  if (ep_match(p_stats, req)) {
    ep_term t;
    ep_format(&t, "{~l, ~l, ~l, ~l, ~l}", s->limit, s->running, (long)s->qlen,
              s->queue_limit, s->rejected);
    return ep_reply_take(t);
  }
  bool run = ep_match(p_run, req, &args);
  if (!run && !ep_match(p_sync, req, &args))
    return ep_reply_atom(ep_atom_of("unknown_request"));
  if (s->running < s->limit) {
    int rc = start_worker(s, args, &pid);
    if (rc == EP_ENOPROC)
      return ep_stop_atom(EP_A_shutdown);
    return ep_reply_take(rc == 0 ? ok_pid(pid) : error_atom(ep_atom_of(ep_err_name(rc))));
  }
  if (run)
    return ep_reply_atom(EP_A_noalloc);
  if (q_full(s)) {
    s->rejected++;
    return ep_reply_take(error_atom(ep_atom_of("queue_full")));
  }
  q_push(s, args, from);
  return ep_noreply();                         /* answered by dequeue (R76) */
}

static ep_gs_ret handle_cast(ep_term req, void *state) {
  EP_PATTERN(p_async, "{async, Args}");
  struct serv *s = state;
  ep_term args;
  ep_pid pid;
  if (!ep_match(p_async, req, &args))
    return ep_noreply();
  if (s->running < s->limit) {
    if (start_worker(s, args, &pid) == EP_ENOPROC)
      return ep_stop_atom(EP_A_shutdown);
  } else if (q_full(s))
    s->rejected++;
  else
    q_push(s, args, NULL);
  return ep_noreply();
}

static ep_gs_ret handle_info(ep_term msg, void *state) {
  EP_PATTERN(p_down, "{'DOWN', Ref::ref, process, _, _}");
  EP_PATTERN(p_init, "'$init_worker_sup'");
  EP_PATTERN(p_exit, "{'EXIT', P::pid, R}");
  struct serv *s = state;
  ep_ref ref;
  ep_pid from;
  ep_term why;
  if (ep_match(p_down, msg, &ref)) {           /* the usual message first */
    if (refs_take(s, &ref)) {
      s->running--;
      if (!dequeue(s))
        return ep_stop_atom(EP_A_shutdown);
    }
  } else if (ep_match(p_exit, msg, &from, &why)) {
    if (ep_pid_eq(from, s->wsup)) {          /* as the link would have: go with it */
      if (ep_is_atom(why, EP_A_noproc))      /* gone before we linked: a pool stop */
        return ep_stop_atom(EP_A_shutdown);
      return ep_stop_term(why);
    }
  } else if (ep_match(p_init, msg)) {
    ep_child_spec spec = {.id = "worker_sup", .start = ep__ppool_worker_sup_start_link,
                          .restart = EP_TEMPORARY, .shutdown = 10000, .type = EP_SUPERVISOR};
    /* on the stack: a shutdown during the call leaves nothing behind */
    uint8_t buf[256];
    ep_build b;
    ep_b_init_buf(&b, buf, sizeof buf);
    ep_b_list(&b);
    ep_b_term(&b, s->start);
    ep_b_end(&b);
    spec.args = ep_b_peek(&b);
    int rc = spec.args ? ep_supervisor_start_child(ep_srv(s->sup), &spec, &s->wsup, NULL)
                       : EP_ENOMEM;
    ep_b_free(&b);
    if (rc != 0)
      return ep_stop_atom(ep_atom_of("no_worker_sup"));
    /* From now on trapping exits (the chapter's server does not) makes a
     * pool shutdown run terminate, which frees the queue, and a shutdown
     * never kills the server in the middle of starting a worker (a call
     * whose request it would leak). The link to the worker supervisor
     * keeps its meaning in handle_info; trapping before linking, a worker
     * supervisor already stopped (the pool is stopping) is an
     * {'EXIT', W, noproc} message, not a crash. */
    ep_trap_exit(true);
    ep_link(s->wsup);
  }
  return ep_noreply();
}

static const ep_gen_server_cb serv_cb = {
  .init = init, .handle_call = handle_call, .handle_cast = handle_cast,
  .handle_info = handle_info, .terminate = terminate, .release = release};

int ep__ppool_serv_start_link(ep_term args, ep_pid *pid, ep_term *reason) {
  /* Called by the pool supervisor: ep_self() is that supervisor. */
  ep_build b;
  ep_b_init(&b);
  ep_b_list(&b);
  for (ep_term l = args; ep_list_head(l); l = ep_list_tail(l))
    ep_b_term(&b, ep_list_head(l));
  ep_b_pid(&b, ep_self());
  ep_b_end(&b);
  int err;
  ep_term full = ep_b_finish(&b, &err);
  ep_b_free(&b);
  if (!full)
    return err;
  ep_atom name;
  ep_get_atom(ep_list_head(args), &name);
  int rc = ep_gen_server_start_link(&serv_cb, full, name, pid, reason);
  ep_term_free(full);
  return rc;
}
