/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor.c - supervisors (R56-R65) as gen_server callbacks: the child
 * table (static children in start order, dynamic simple_one_for_one
 * children in a hash by pid), restart decisions and strategies, restart
 * intensity, and the shutdown protocol for children. Owns copies of every
 * child spec. The restart record is restart_ring.c's.
 */
#include <stdlib.h>
#include <string.h>

#include "otp_int.h"
#include "restart_ring.h"

struct child {
  ep_atom id;
  ep_start_fn start;
  ep_term args;               /* owned: a list */
  uint8_t restart, type;
  long shutdown;              /* resolved: ms (0 too), EP_BRUTAL_KILL or EP_INFINITY */
  ep_pid pid;                 /* EP_PID_NONE: undefined */
  bool restarting;            /* a restart failed and is queued (R64's `restarting`) */
};

struct dyn {                  /* a simple_one_for_one child */
  ep_pid pid;                 /* EP_PID_NONE: empty slot */
  ep_term args;               /* owned; kept to restart with the same args (R65) */
};

struct sup {
  ep_sup_flags f;
  struct child *kids;         /* start order */
  size_t n, cap;
  struct child tmpl;          /* simple_one_for_one template */
  struct dyn *dyn;            /* open addressing, linear probing */
  size_t ndyn, dcap;          /* dcap: power of two, or 0 */
  ep__restart_ring ring;
};

#define sofo(s) ((s)->f.strategy == EP_SIMPLE_ONE_FOR_ONE)

/* ----------------------------------------------------- dynamic children -- */

static size_t pid_hash(ep_pid p) {
  uint64_t h = ((uint64_t)p.id << 32 | p.serial) * 0x9e3779b97f4a7c15ull;
  return (size_t)(h >> 17);
}

static struct dyn *dyn_find(struct sup *s, ep_pid p) {
  if (!s->dcap)
    return NULL;
  for (size_t i = pid_hash(p) & (s->dcap - 1);; i = (i + 1) & (s->dcap - 1)) {
    if (ep_pid_eq(s->dyn[i].pid, p))
      return &s->dyn[i];
    if (ep_pid_eq(s->dyn[i].pid, EP_PID_NONE))
      return NULL;
  }
}

static void dyn_put(struct sup *s, ep_pid p, ep_term args);

static void dyn_grow(struct sup *s) {
  struct dyn *old = s->dyn;
  size_t ocap = s->dcap;
  s->dcap = ocap ? ocap * 2 : 16;
  s->dyn = calloc(s->dcap, sizeof *s->dyn);
  if (!s->dyn)
    abort();
  s->ndyn = 0;
  for (size_t i = 0; i < ocap; i++)
    if (!ep_pid_eq(old[i].pid, EP_PID_NONE))
      dyn_put(s, old[i].pid, old[i].args);
  free(old);
}

static void dyn_put(struct sup *s, ep_pid p, ep_term args) {
  if ((s->ndyn + 1) * 4 > s->dcap * 3)
    dyn_grow(s);
  size_t i = pid_hash(p) & (s->dcap - 1);
  while (!ep_pid_eq(s->dyn[i].pid, EP_PID_NONE))
    i = (i + 1) & (s->dcap - 1);
  s->dyn[i] = (struct dyn){p, args};
  s->ndyn++;
}

/* Removes slot d, shifting later entries of its probe run back (no tombstones). */
static void dyn_del(struct sup *s, struct dyn *d) {
  size_t mask = s->dcap - 1, i = (size_t)(d - s->dyn);
  if (d->args)
    ep_term_free(d->args);
  for (size_t j = (i + 1) & mask;; j = (j + 1) & mask) {
    if (ep_pid_eq(s->dyn[j].pid, EP_PID_NONE))
      break;
    size_t home = pid_hash(s->dyn[j].pid) & mask;
    /* j's entry may move to i when i lies cyclically in [home, j). */
    if (((j - home) & mask) >= ((j - i) & mask)) {
      s->dyn[i] = s->dyn[j];
      i = j;
    }
  }
  s->dyn[i] = (struct dyn){EP_PID_NONE, NULL};
  s->ndyn--;
}

/* ------------------------------------------------------------ shutdown -- */

/* Stops one child by its shutdown rule and waits for its death (R62). */
static void shutdown_child(ep_pid pid, long shutdown) {
  EP_PATTERN(p_exit, "{'EXIT', ^Pid, _}");
  EP_PATTERN(p_down, "{'DOWN', ^Mref, process, _, _}");
  ep_smallterm sp, sm;
  ep_ref m = ep_monitor(pid);
  ep_unlink(pid);
  ep_term pp = ep_pid_term(&sp, pid), pm = ep_ref_term(&sm, &m);
  const ep_clause ce = {p_exit, &pp}, cd = {p_down, &pm};
  ep_receive_clauses(&ce, 1, 0);             /* an EXIT already queued */
  if (shutdown == EP_BRUTAL_KILL) {
    ep_exit_signal_atom(pid, EP_A_kill);
  } else {
    ep_exit_signal_atom(pid, EP_A_shutdown);
    if (ep_receive_clauses(&cd, 1, shutdown) == 0)
      return;
    ep_exit_signal_atom(pid, EP_A_kill);
  }
  ep_receive_clauses(&cd, 1, EP_INFINITY);
}

/* simple_one_for_one children go down together (R65 [D]): shutdown to all,
 * then the DOWNs, then kill whoever is left after the template's time. */
static void shutdown_dynamic(struct sup *s) {
  EP_PATTERN(p_down, "{'DOWN', _, process, P::pid, _}");
  EP_PATTERN(p_exit, "{'EXIT', P::pid, _}");
  long left = 0;
  for (size_t i = 0; i < s->dcap; i++) {
    ep_pid p = s->dyn[i].pid;
    if (ep_pid_eq(p, EP_PID_NONE))
      continue;
    ep_monitor(p);
    ep_unlink(p);
    ep_exit_signal_atom(p, s->tmpl.shutdown == EP_BRUTAL_KILL ? EP_A_kill : EP_A_shutdown);
    left++;
  }
  int64_t deadline = ep__deadline(s->tmpl.shutdown == EP_BRUTAL_KILL ? EP_INFINITY
                                                                      : s->tmpl.shutdown);
  while (left > 0) {
    int k = ep_receive(ep__left_ms(deadline), p_down, p_exit);
    if (k == EP_ETIMEOUT) {
      for (size_t i = 0; i < s->dcap; i++)
        if (!ep_pid_eq(s->dyn[i].pid, EP_PID_NONE))
          ep_exit_signal_atom(s->dyn[i].pid, EP_A_kill);
      deadline = INT64_MAX;
      continue;
    }
    ep_pid p;
    ep_bind(&p);
    struct dyn *d = dyn_find(s, p);
    if (k == 0 && d) {
      dyn_del(s, d);
      left--;
    }
  }
}

/* ------------------------------------------------------------ starting -- */

static ep_term reason_of(int rc, ep_term reason, ep_smallterm *st) {
  if (reason)
    return reason;
  ep_atom a = ep_atom_of(ep_err_name(rc));
  return ep_atom_term(st, a);
}

/* Starts child c; returns 0 (pid set, or none when ignored) or the start
 * function's error with *why. */
static int start_one(struct child *c, ep_term args, ep_term *why, ep_smallterm *st) {
  ep_pid pid = EP_PID_NONE;
  ep_term reason = NULL;
  int rc = c->start(args, &pid, &reason);
  if (rc == EP_IGNORED) {
    c->pid = EP_PID_NONE;
    return EP_IGNORED;
  }
  if (rc < 0) {
    *why = reason_of(rc, reason, st);
    return rc;
  }
  c->pid = pid;
  c->restarting = false;
  return 0;
}

static void child_free(struct child *c) {
  if (c->args)
    ep_term_free(c->args);
  c->args = NULL;
}

static void kids_remove(struct sup *s, size_t i) {
  child_free(&s->kids[i]);
  memmove(&s->kids[i], &s->kids[i + 1], (s->n - i - 1) * sizeof *s->kids);
  s->n--;
}

static long resolve_shutdown(long sd, int type) {
  if (sd == EP_SHUTDOWN_DEFAULT)
    return type == EP_SUPERVISOR ? EP_INFINITY : 5000;
  return sd == EP_SHUTDOWN_ZERO ? 0 : sd;
}

static ep_term list_or_nil(ep_term args) {
  if (args)
    return ep_term_dup(args);
  ep_build b;
  ep_b_init(&b);
  ep_b_nil(&b);
  ep_term t = ep__b_done(&b);
  ep_b_free(&b);
  return t;
}

static struct child child_of(const ep_child_spec *cs) {
  return (struct child){
    .id = cs->id ? ep_atom_of(cs->id) : EP_A_undefined, .start = cs->start,
    .args = list_or_nil(cs->args), .restart = (uint8_t)cs->restart,
    .type = (uint8_t)cs->type, .shutdown = resolve_shutdown(cs->shutdown, cs->type),
    .pid = EP_PID_NONE};
}

static struct child *kids_push(struct sup *s, struct child c) {
  if (s->n == s->cap) {
    s->cap = s->cap ? s->cap * 2 : 8;
    s->kids = realloc(s->kids, s->cap * sizeof *s->kids);
    if (!s->kids)
      abort();
  }
  s->kids[s->n] = c;
  return &s->kids[s->n++];
}

static struct child *kid_by_id(struct sup *s, ep_atom id, size_t *at) {
  for (size_t i = 0; i < s->n; i++)
    if (s->kids[i].id == id) {
      if (at)
        *at = i;
      return &s->kids[i];
    }
  return NULL;
}

static bool running(const struct child *c) { return !ep_pid_eq(c->pid, EP_PID_NONE); }

/* Stops children [from, n) in reverse start order; temporary ones lose
 * their spec (R60). */
static void stop_range(struct sup *s, size_t from, size_t skip) {
  for (size_t i = s->n; i-- > from;) {
    if (i == skip || !running(&s->kids[i]))
      continue;
    shutdown_child(s->kids[i].pid, s->kids[i].shutdown);
    s->kids[i].pid = EP_PID_NONE;
    if (s->kids[i].restart == EP_TEMPORARY)
      kids_remove(s, i);
  }
}

/* ------------------------------------------------------------ restarts -- */

static void queue_retry(struct child *c) {
  c->restarting = true;
  ep_build b;
  ep_b_init(&b);
  ep_b_tuple(&b);
  ep_b_atom(&b, ep__A.sup_restart);
  ep_b_atom(&b, c->id);
  ep_b_end(&b);
  ep_send(ep_self(), ep_b_peek(&b));
  ep_b_free(&b);
}

/* Starts every child from `from` on that is not running, in order; a
 * failure queues a retry (counted as a restart when it runs). */
static void start_range(struct sup *s, size_t from) {
  for (size_t i = from; i < s->n; i++) {
    struct child *c = &s->kids[i];
    if (running(c))
      continue;
    ep_term why;
    ep_smallterm st;
    if (start_one(c, c->args, &why, &st) < 0) {
      queue_retry(c);
      return;
    }
  }
}

/* The strategy's restart of the child at index i (R60). */
static void restart_at(struct sup *s, size_t i) {
  switch (s->f.strategy) {
  case EP_ONE_FOR_ALL:
    stop_range(s, 0, i);
    start_range(s, 0);
    break;
  case EP_REST_FOR_ONE:
    stop_range(s, i + 1, i);          /* indices up to i do not move */
    start_range(s, i);
    break;
  default: {
    struct child *c = &s->kids[i];
    ep_term why;
    ep_smallterm st;
    int rc = start_one(c, c->args, &why, &st);
    if (rc < 0)
      queue_retry(c);
  }
  }
}

static bool is_shutdown_reason(ep_term r) {
  return ep_is_atom(r, EP_A_normal) || ep_is_atom(r, EP_A_shutdown) ||
         (ep_tuple_arity(r) == 2 && ep_is_atom(ep_tuple_elem(r, 0), EP_A_shutdown));
}

/* R59: does a child of this restart type come back after `reason`? */
static bool wants_restart(int restart, ep_term reason) {
  return restart == EP_PERMANENT || (restart == EP_TRANSIENT && !is_shutdown_reason(reason));
}

/* Counts one restart (R61). false: intensity reached, the supervisor stops. */
static bool note_restart(struct sup *s) {
  return ep__restart_add(&s->ring, ep__now_s());
}

/* A dynamic child died. Returns false when the supervisor must stop. */
static bool dyn_exit(struct sup *s, struct dyn *d, ep_term reason) {
  if (!wants_restart(s->tmpl.restart, reason)) {
    dyn_del(s, d);
    return true;
  }
  if (!note_restart(s))
    return false;
  ep_term args = d->args;
  d->args = NULL;
  dyn_del(s, d);
  struct child c = s->tmpl;
  ep_term why;
  ep_smallterm st;
  if (start_one(&c, args, &why, &st) == 0)
    dyn_put(s, c.pid, args);
  else
    ep_term_free(args);         /* lost, as OTP does after a failed restart */
  return true;
}

/* Handles {'EXIT', Pid, Reason}; returns false when intensity is exceeded. */
static bool child_exit(struct sup *s, ep_pid pid, ep_term reason) {
  if (sofo(s)) {
    struct dyn *d = dyn_find(s, pid);
    return d ? dyn_exit(s, d, reason) : true;
  }
  for (size_t i = 0; i < s->n; i++) {
    struct child *c = &s->kids[i];
    if (!ep_pid_eq(c->pid, pid))
      continue;
    c->pid = EP_PID_NONE;
    if (c->restart == EP_TEMPORARY) {
      kids_remove(s, i);
      return true;
    }
    if (!wants_restart(c->restart, reason))
      return true;
    if (!note_restart(s))
      return false;
    restart_at(s, i);
    return true;
  }
  return true;
}

/* ----------------------------------------------------------- callbacks -- */

static void stop_all(struct sup *s) {
  if (sofo(s))
    shutdown_dynamic(s);
  else
    stop_range(s, 0, (size_t)-1);
}

/* s is the first member of its ep_sup_spec: freeing s frees both. */
static void sup_free(struct sup *s) {
  for (size_t i = 0; i < s->n; i++)
    child_free(&s->kids[i]);
  for (size_t i = 0; i < s->dcap; i++)
    if (s->dyn[i].args)
      ep_term_free(s->dyn[i].args);
  child_free(&s->tmpl);
  free(s->kids);
  free(s->dyn);
  ep__restart_free(&s->ring);
  free(s);
}

static ep_term failed_to_start(ep_atom id, ep_term why) {
  ep_build b;
  ep_b_init(&b);
  ep_b_tuple(&b);
  ep_b_atom(&b, EP_A_shutdown);
  ep_b_tuple(&b);
  ep_b_atom(&b, ep__A.failed_to_start_child);
  ep_b_atom(&b, id);
  ep_b_term(&b, why);
  ep_b_end(&b);
  ep_b_end(&b);
  ep_term t = ep__b_done(&b);
  ep_b_free(&b);
  return t;
}

/* The init callback's ep_sup_spec is the supervisor itself, still empty. */
struct ep_sup_spec {
  struct sup s;
  ep_term bad;                 /* the first invalid child's reason, or NULL */
};

void ep_sup_set_flags(ep_sup_spec *spec, ep_sup_flags flags) { spec->s.f = flags; }

/* Checks a child spec as OTP's supervisor does: NULL if it is good, else
 * the reason, new: {invalid_shutdown, S}, {invalid_restart_type, R},
 * {invalid_child_type, T} or {invalid_mfa, undefined}. */
static ep_term spec_error(const ep_child_spec *cs) {
  const char *what;
  int64_t v = 0;
  if (!cs->start) {
    what = "invalid_mfa";
  } else if (cs->restart < EP_PERMANENT || cs->restart > EP_TEMPORARY) {
    what = "invalid_restart_type";
    v = cs->restart;
  } else if (cs->shutdown < 0 && cs->shutdown != EP_INFINITY && cs->shutdown != EP_BRUTAL_KILL &&
             cs->shutdown != EP_SHUTDOWN_ZERO) {
    what = "invalid_shutdown";
    v = cs->shutdown;
  } else if (cs->type < EP_WORKER || cs->type > EP_SUPERVISOR) {
    what = "invalid_child_type";
    v = cs->type;
  } else {
    return NULL;
  }
  ep_build b;
  ep_b_init(&b);
  ep_b_tuple(&b);
  ep_b_atom_name(&b, what);
  if (cs->start)
    ep_b_int(&b, v);
  else
    ep_b_atom(&b, EP_A_undefined);
  ep_b_end(&b);
  ep_term t = ep__b_done(&b);
  ep_b_free(&b);
  return t;
}

void ep_sup_add_child(ep_sup_spec *spec, const ep_child_spec *child) {
  ep_term bad = spec_error(child);
  if (!bad)
    kids_push(&spec->s, child_of(child));
  else if (!spec->bad)
    spec->bad = bad;
  else
    ep_term_free(bad);
}

void ep_sup_add_children(ep_sup_spec *spec, const ep_child_spec *children, size_t n) {
  for (size_t i = 0; i < n; i++)
    ep_sup_add_child(spec, &children[i]);
}

static ep_gs_ret sup_init(ep_term arg, void **state) {
  ep_fn fn;
  ep_term uarg;
  ep_get_fun(arg, &fn, &uarg);
  ep_trap_exit(true);
  ep_sup_spec *spec = calloc(1, sizeof *spec);
  if (!spec)
    abort();
  struct sup *s = &spec->s;
  *state = s;
  s->f = (ep_sup_flags){EP_ONE_FOR_ONE, 1, 5};
  if (((ep_sup_init_fn)fn)(uarg, spec) == EP_IGNORED) {
    ep_term_free(spec->bad);
    sup_free(s);
    *state = NULL;
    return ep_init_ignore();
  }
  if (spec->bad) {
    /* {start_spec, {invalid_shutdown, -3}}, as OTP's init refuses it */
    ep_build b;
    ep_b_init(&b);
    ep_b_tuple(&b);
    ep_b_atom(&b, ep_atom_of("start_spec"));
    ep_b_term(&b, spec->bad);
    ep_b_end(&b);
    ep_term_free(spec->bad);
    ep_term why = ep__b_done(&b);
    ep_b_free(&b);
    sup_free(s);
    *state = NULL;
    return ep__gs_ret(EP_GS_STOP, ep_gsv_take(why));
  }
  if (s->f.period <= 0)
    s->f.period = 5;
  if (s->f.intensity < 0)
    s->f.intensity = 0;
  ep__restart_init(&s->ring, s->f.intensity, s->f.period);
  if (sofo(s)) {                          /* exactly one spec: the template (R65) */
    if (s->n == 1) {
      s->tmpl = s->kids[0];
      s->n = 0;
      return ep_init_ok();
    }
    sup_free(s);
    *state = NULL;
    return ep_init_stop_atom(ep_atom_of("bad_start_spec"));
  }
  for (size_t i = 0; i < s->n; i++) {
    struct child *c = &s->kids[i];
    ep_term why;
    ep_smallterm st;
    int rc = start_one(c, c->args, &why, &st);
    if (rc == EP_IGNORED && c->restart == EP_TEMPORARY) {
      kids_remove(s, i--);
    } else if (rc < 0) {
      ep_term r = failed_to_start(c->id, why);
      stop_range(s, 0, (size_t)-1);       /* those started, in reverse (R56) */
      sup_free(s);
      *state = NULL;
      return ep_stop_take(r);
    }
  }
  return ep_init_ok();
}

static void sup_terminate(ep_term reason, void *state) {
  (void)reason;
  struct sup *s = state;
  if (!s)
    return;
  stop_all(s);
  sup_free(s);
}

static ep_gs_ret sup_info(ep_term msg, void *state) {
  EP_PATTERN(p_exit, "{'EXIT', P::pid, R}");
  EP_PATTERN(p_retry, "{'$sup_restart', Id::atom}");
  struct sup *s = state;
  ep_pid pid;
  ep_term reason;
  ep_atom id;
  if (ep_match(p_exit, msg, &pid, &reason)) {
    if (!child_exit(s, pid, reason))
      return ep_stop_atom(EP_A_shutdown);
  } else if (ep_match(p_retry, msg, &id)) {
    size_t i;
    struct child *c = kid_by_id(s, id, &i);
    if (c && c->restarting && !running(c)) {
      if (!note_restart(s))
        return ep_stop_atom(EP_A_shutdown);
      restart_at(s, i);
    }
  }
  return ep_noreply();
}

/* -------------------------------------------------------- calls (R64) -- */

static ep_term b_reply_pid(ep_build *b, ep_atom tag, ep_pid p) {
  ep_b_reset(b);
  ep_b_tuple(b);
  ep_b_atom(b, tag);
  if (ep_pid_eq(p, EP_PID_NONE))
    ep_b_atom(b, EP_A_undefined);
  else
    ep_b_pid(b, p);
  ep_b_end(b);
  return ep__b_view(b);
}

static ep_term b_error(ep_build *b, ep_term why) {
  ep_b_reset(b);
  ep_b_tuple(b);
  ep_b_atom(b, EP_A_error);
  ep_b_term(b, why);
  ep_b_end(b);
  return ep__b_view(b);
}

static ep_term b_error_atom(ep_build *b, ep_atom a) {
  ep_smallterm st;
  return b_error(b, ep_atom_term(&st, a));
}

static ep_term already_started(ep_build *b, ep_pid p) {
  ep_b_reset(b);
  ep_b_tuple(b);
  ep_b_atom(b, EP_A_error);
  ep_b_tuple(b);
  ep_b_atom(b, EP_A_already_started);
  ep_b_pid(b, p);
  ep_b_end(b);
  ep_b_end(b);
  return ep__b_view(b);
}

/* {start_child, {Id, Start, Args, Restart, Shutdown, Type}} */
static ep_term call_start_child(struct sup *s, ep_term arg, ep_build *b) {
  ep_term why;
  ep_smallterm st;
  if (sofo(s)) {
    /* Template args ++ extra, on the stack: a temporary child (a pool's
     * worker) keeps no copy, so the usual start allocates nothing here. */
    uint8_t buf[256];
    ep_build ab;
    ep_b_init_buf(&ab, buf, sizeof buf);
    ep_b_list(&ab);
    for (ep_term l = s->tmpl.args; ep_list_head(l); l = ep_list_tail(l))
      ep_b_term(&ab, ep_list_head(l));
    for (ep_term l = arg; ep_list_head(l); l = ep_list_tail(l))
      ep_b_term(&ab, ep_list_head(l));
    ep_b_end(&ab);
    ep_term args = ep__b_view(&ab);
    struct child c = s->tmpl;
    int rc = start_one(&c, args, &why, &st);
    ep_term r;
    if (rc == 0) {
      dyn_put(s, c.pid, s->tmpl.restart == EP_TEMPORARY ? NULL : ep__keep(args));
      r = b_reply_pid(b, EP_A_ok, c.pid);
    } else {
      r = rc == EP_IGNORED ? b_reply_pid(b, EP_A_ok, EP_PID_NONE) : b_error(b, why);
    }
    ep_b_free(&ab);
    return r;
  }
  ep_child_spec cs = {0};
  int64_t v;
  ep_fn fn;
  ep_term fnarg;
  ep_atom id;
  ep_get_atom(ep_tuple_elem(arg, 0), &id);
  cs.id = ep_atom_name(id, NULL);
  ep_get_fun(ep_tuple_elem(arg, 1), &fn, &fnarg);
  cs.start = (ep_start_fn)fn;
  cs.args = fnarg;
  ep_get_int(ep_tuple_elem(arg, 2), &v);
  cs.restart = (ep_restart)v;
  ep_get_int(ep_tuple_elem(arg, 3), &v);
  cs.shutdown = (long)v;
  ep_get_int(ep_tuple_elem(arg, 4), &v);
  cs.type = (ep_child_type)v;
  ep_term bad = spec_error(&cs);
  if (bad) {
    ep_term r = b_error(b, bad);              /* {error, {invalid_shutdown, -3}} */
    ep_term_free(bad);
    return r;
  }
  struct child *old = kid_by_id(s, id, NULL);
  if (old)
    return running(old) ? already_started(b, old->pid)
                        : b_error_atom(b, EP_A_already_present);
  struct child *c = kids_push(s, child_of(&cs));
  int rc = start_one(c, c->args, &why, &st);
  if (rc == 0)
    return b_reply_pid(b, EP_A_ok, c->pid);
  if (rc == EP_IGNORED) {
    if (c->restart == EP_TEMPORARY)
      kids_remove(s, s->n - 1);
    return b_reply_pid(b, EP_A_ok, EP_PID_NONE);
  }
  ep_term r = b_error(b, why);
  kids_remove(s, s->n - 1);
  return r;
}

static ep_term call_by_id(struct sup *s, ep_atom op, ep_term arg, ep_build *b) {
  ep_atom id;
  ep_pid pid;
  if (sofo(s)) {
    if (op == ep__A.terminate_child && ep_get_pid(arg, &pid) == 0) {
      struct dyn *d = dyn_find(s, pid);
      if (!d)
        return b_error_atom(b, EP_A_not_found);
      shutdown_child(pid, s->tmpl.shutdown);
      dyn_del(s, d);
      ep_b_reset(b);
      ep_b_atom(b, EP_A_ok);
      return ep__b_view(b);
    }
    return b_error_atom(b, ep__A.simple_one_for_one);
  }
  size_t i;
  struct child *c = ep_get_atom(arg, &id) == 0 ? kid_by_id(s, id, &i) : NULL;
  if (!c)
    return b_error_atom(b, EP_A_not_found);
  ep_b_reset(b);
  if (op == ep__A.terminate_child) {
    if (running(c))
      shutdown_child(c->pid, c->shutdown);
    c->pid = EP_PID_NONE;
    c->restarting = false;
    if (c->restart == EP_TEMPORARY)
      kids_remove(s, i);
    ep_b_atom(b, EP_A_ok);
    return ep__b_view(b);
  }
  if (running(c))
    return b_error_atom(b, EP_A_running);
  if (op == ep__A.delete_child) {
    kids_remove(s, i);
    ep_b_atom(b, EP_A_ok);
    return ep__b_view(b);
  }
  ep_term why;
  ep_smallterm st;
  int rc = start_one(c, c->args, &why, &st);        /* restart_child */
  if (rc < 0)
    return b_error(b, why);
  return b_reply_pid(b, EP_A_ok, c->pid);
}

static void b_child(ep_build *b, ep_atom id, ep_pid pid, bool restarting, int type) {
  ep_b_tuple(b);
  ep_b_atom(b, id);
  if (!ep_pid_eq(pid, EP_PID_NONE))
    ep_b_pid(b, pid);
  else
    ep_b_atom(b, restarting ? ep__A.restarting : EP_A_undefined);
  ep_b_atom(b, type == EP_SUPERVISOR ? EP_A_supervisor : EP_A_worker);
  ep_b_nil(b);
  ep_b_end(b);
}

static ep_term which_children(struct sup *s, ep_build *b) {
  ep_b_reset(b);
  ep_b_list(b);
  if (sofo(s)) {
    for (size_t i = 0; i < s->dcap; i++)
      if (!ep_pid_eq(s->dyn[i].pid, EP_PID_NONE))
        b_child(b, EP_A_undefined, s->dyn[i].pid, false, s->tmpl.type);
  } else {
    for (size_t i = s->n; i-- > 0;)
      b_child(b, s->kids[i].id, s->kids[i].pid, s->kids[i].restarting, s->kids[i].type);
  }
  ep_b_end(b);
  return ep__b_view(b);
}

static void b_count(ep_build *b, ep_atom k, long v) {
  ep_b_tuple(b);
  ep_b_atom(b, k);
  ep_b_int(b, v);
  ep_b_end(b);
}

static ep_term count_children(struct sup *s, ep_build *b) {
  long specs = 0, active = 0, sups = 0, workers = 0;
  if (sofo(s)) {
    specs = active = (long)s->ndyn;
    *(s->tmpl.type == EP_SUPERVISOR ? &sups : &workers) = (long)s->ndyn;
  } else {
    for (size_t i = 0; i < s->n; i++) {
      specs++;
      active += running(&s->kids[i]);
      ++*(s->kids[i].type == EP_SUPERVISOR ? &sups : &workers);
    }
  }
  ep_b_reset(b);
  ep_b_list(b);
  b_count(b, ep__A.specs, specs);
  b_count(b, ep__A.active, active);
  b_count(b, ep__A.supervisors, sups);
  b_count(b, ep__A.workers, workers);
  ep_b_end(b);
  return ep__b_view(b);
}

/* {ok, {Id, Start(Args), Restart, Shutdown, Type}}: a child's spec as held
 * (shutdown 0 as EP_SHUTDOWN_ZERO), by id; on a simple_one_for_one
 * supervisor the template, by its id or by a running child's pid (as OTP's,
 * checked in erl: a static child's pid is not_found). */
static ep_term get_childspec(struct sup *s, ep_term arg, ep_build *b) {
  ep_atom id;
  ep_pid pid;
  const struct child *c = NULL;
  if (ep_get_pid(arg, &pid) == 0)
    c = sofo(s) && dyn_find(s, pid) ? &s->tmpl : NULL;
  else if (ep_get_atom(arg, &id) == 0)
    c = sofo(s) ? (s->tmpl.id == id ? &s->tmpl : NULL) : kid_by_id(s, id, NULL);
  if (!c)
    return b_error_atom(b, EP_A_not_found);
  ep_b_reset(b);
  ep_b_tuple(b);
  ep_b_atom(b, EP_A_ok);
  ep_b_tuple(b);
  ep_b_atom(b, c->id);
  ep_b_fun(b, (ep_fn)c->start);
  ep_b_term(b, c->args);
  ep_b_int(b, c->restart);
  ep_b_int(b, c->shutdown == 0 ? EP_SHUTDOWN_ZERO : c->shutdown);
  ep_b_int(b, c->type);
  ep_b_end(b);
  ep_b_end(b);
  return ep__b_view(b);
}

/* Every reply is built in b, on the stack when it fits, and sent from
 * there: the usual call allocates nothing for its reply. */
static ep_gs_ret sup_call(ep_term req, const ep_from *from, void *state) {
  struct sup *s = state;
  uint8_t buf[256];
  ep_build b;
  ep_b_init_buf(&b, buf, sizeof buf);
  ep_term r;
  ep_atom op = 0;
  if (ep_tuple_arity(req) == 2)
    ep_get_atom(ep_tuple_elem(req, 0), &op);
  else
    ep_get_atom(req, &op);
  if (op == ep__A.start_child)
    r = call_start_child(s, ep_tuple_elem(req, 1), &b);
  else if (op == ep__A.terminate_child || op == ep__A.delete_child || op == ep__A.restart_child)
    r = call_by_id(s, op, ep_tuple_elem(req, 1), &b);
  else if (op == ep__A.which_children)
    r = which_children(s, &b);
  else if (op == ep__A.count_children)
    r = count_children(s, &b);
  else if (op == ep__A.get_childspec)
    r = get_childspec(s, ep_tuple_elem(req, 1), &b);
  else
    r = b_error_atom(&b, ep__A.bad_call);
  ep_gen_server_reply(from, r);
  ep_b_free(&b);
  return ep_noreply();
}

static void sup_release(void *state) { sup_free(state); }

static const ep_gen_server_cb sup_cb = {
  .init = sup_init, .handle_call = sup_call, .handle_info = sup_info,
  .terminate = sup_terminate, .release = sup_release};

/* ---------------------------------------------------------------- API -- */

int ep_supervisor_start_link(ep_sup_init_fn init, ep_term arg, ep_atom name,
                             ep_pid *pid, ep_term *reason) {
  if (!init)
    return EP_EINVAL;
  ep_build b;
  ep_b_init(&b);
  ep_b_fun(&b, (ep_fn)init);
  ep__b_arg(&b, arg);
  ep_term a = ep__b_done(&b);
  ep_b_free(&b);
  int rc = ep_gen_server_start_link(&sup_cb, a, name, pid, reason);
  ep_term_free(a);
  return rc;
}

static const ep__call_site sup_site = {EP_A_gen_server, true};

/* {op, arg} (op if arg is NULL) to the supervisor: nothing of it is on the
 * heap, so a pool server shut down while it waits for its supervisor
 * leaves nothing behind. */
static ep_term sup_call_x(ep_server sup, ep_atom op, ep_term arg) {
  return ep__gen_call_op_x(sup, op, arg, EP_INFINITY, sup_site);
}

/* Reads {ok, Pid | undefined} / {error, E} / ok. */
static int decode(ep_term r, ep_pid *pid, ep_term *reason) {
  if (ep_is_atom(r, EP_A_ok))
    return 0;
  ep_term a = ep_tuple_elem(r, 0), v = ep_tuple_elem(r, 1);
  if (ep_is_atom(a, EP_A_ok)) {
    if (pid && ep_get_pid(v, pid) != 0)
      *pid = EP_PID_NONE;                  /* {ok, undefined}: ignored */
    return 0;
  }
  if (ep_is_atom(v, EP_A_not_found))
    return EP_ENOTFOUND;
  if (ep_is_atom(v, EP_A_running))
    return EP_EBUSY;
  if (ep_is_atom(v, ep__A.simple_one_for_one))
    return EP_EINVAL;
  if (ep_is_atom(v, EP_A_already_present)) {
    if (pid)
      *pid = EP_PID_NONE;
    return EP_EEXIST;
  }
  if (ep_tuple_arity(v) == 2 && ep_is_atom(ep_tuple_elem(v, 0), EP_A_already_started)) {
    if (pid)
      ep_get_pid(ep_tuple_elem(v, 1), pid);
    return EP_EEXIST;
  }
  if (reason)
    *reason = v;
  return EP_EEXITED;
}

int ep_supervisor_start_child(ep_server sup, const ep_child_spec *spec, ep_pid *pid,
                              ep_term *reason) {
  if (!spec || !spec->id || !spec->start)
    return EP_EINVAL;
  /* on the stack (unless the args are big): a caller killed while it
   * waits for the supervisor leaves nothing behind */
  uint8_t buf[512];
  ep_build b;
  ep_b_init_buf(&b, buf, sizeof buf);
  ep_b_tuple(&b);
  ep_b_atom_name(&b, spec->id);
  ep_b_fun(&b, (ep_fn)spec->start);
  if (spec->args)
    ep_b_term(&b, spec->args);
  else
    ep_b_nil(&b);
  ep_b_int(&b, spec->restart);
  ep_b_int(&b, spec->shutdown);
  ep_b_int(&b, spec->type);
  ep_b_end(&b);
  ep_term r = sup_call_x(sup, ep__A.start_child, ep__b_view(&b));
  ep_b_free(&b);
  return decode(r, pid, reason);
}

int ep_supervisor_start_child_args(ep_server sup, ep_term extra, ep_pid *pid,
                                   ep_term *reason) {
  ep_smallterm st;
  return decode(sup_call_x(sup, ep__A.start_child, extra ? extra : ep_nil_term(&st)), pid,
                reason);
}

static int by_id(ep_server sup, ep_atom op, const char *id, ep_pid *pid, ep_term *reason) {
  ep_smallterm st;
  ep_term r = sup_call_x(sup, op, ep_atom_term(&st, ep_atom_of(id)));
  return decode(r, pid, reason);
}

int ep_supervisor_terminate_child(ep_server sup, const char *id) {
  return by_id(sup, ep__A.terminate_child, id, NULL, NULL);
}

int ep_supervisor_terminate_child_pid(ep_server sup, ep_pid child) {
  ep_smallterm st;
  return decode(sup_call_x(sup, ep__A.terminate_child, ep_pid_term(&st, child)), NULL, NULL);
}

int ep_supervisor_restart_child(ep_server sup, const char *id, ep_pid *pid, ep_term *reason) {
  return by_id(sup, ep__A.restart_child, id, pid, reason);
}

int ep_supervisor_delete_child(ep_server sup, const char *id) {
  return by_id(sup, ep__A.delete_child, id, NULL, NULL);
}

ep_term ep_supervisor_which_children(ep_server sup) {
  return ep_term_dup(sup_call_x(sup, ep__A.which_children, NULL));
}

int ep_supervisor_count_children(ep_server sup, ep_sup_counts *out) {
  ep_term r = sup_call_x(sup, ep__A.count_children, NULL);
  long *f[4] = {&out->specs, &out->active, &out->supervisors, &out->workers};
  ep_term l = r;
  for (int i = 0; i < 4 && ep_list_head(l); i++, l = ep_list_tail(l)) {
    int64_t v = 0;
    ep_get_int(ep_tuple_elem(ep_list_head(l), 1), &v);
    *f[i] = (long)v;
  }
  return 0;
}

static int childspec(ep_term r, ep_child_spec *out) {
  if (!ep_is_atom(ep_tuple_elem(r, 0), EP_A_ok))
    return decode(r, NULL, NULL);
  ep_term t = ep_tuple_elem(r, 1);
  ep_atom id;
  ep_fn fn;
  ep_term args;
  int64_t v[3];
  ep_get_atom(ep_tuple_elem(t, 0), &id);
  ep_get_fun(ep_tuple_elem(t, 1), &fn, &args);
  for (int i = 0; i < 3; i++)
    ep_get_int(ep_tuple_elem(t, 2 + i), &v[i]);
  *out = (ep_child_spec){
    .id = ep_atom_name(id, NULL),
    .start = (ep_start_fn)fn, .args = ep_term_dup(args), .restart = (ep_restart)v[0],
    .shutdown = (long)v[1], .type = (ep_child_type)v[2]};
  return 0;
}

int ep_supervisor_get_childspec(ep_server sup, const char *id, ep_child_spec *out) {
  if (!id || !out)
    return EP_EINVAL;
  ep_smallterm st;
  return childspec(sup_call_x(sup, ep__A.get_childspec, ep_atom_term(&st, ep_atom_of(id))), out);
}

int ep_supervisor_get_childspec_pid(ep_server sup, ep_pid child, ep_child_spec *out) {
  if (!out)
    return EP_EINVAL;
  ep_smallterm st;
  return childspec(sup_call_x(sup, ep__A.get_childspec, ep_pid_term(&st, child)), out);
}

int ep_supervisor_stop(ep_server sup) {
  return ep_gen_server_stop(sup, NULL, EP_INFINITY);
}
