/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spec_util.c - the conformance tests' harness (spec_util.h): the runtime
 * run per test, the failure log, the term arena, receive helpers and the
 * puppet process. Owns the log and the arena (both under one mutex, as
 * processes on every scheduler thread use them); the rules under test are
 * the runtime's.
 */
#include "spec_util.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char first_failure[1024];
static int failures;
static int root_done;
static ep_term *arena;
static size_t narena, carena;
static char **strs;
static size_t nstrs, cstrs;

void spec_fail(const char *file, int line, const char *fmt, ...) {
  char what[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  pthread_mutex_lock(&lock);
  if (failures++ == 0) snprintf(first_failure, sizeof first_failure, "%s:%d: %s", file, line, what);
  pthread_mutex_unlock(&lock);
  fprintf(stderr, "%s:%d: expectation failed: %s\n", file, line, what);
}

void spec_done(void) {
  pthread_mutex_lock(&lock);
  root_done = 1;
  pthread_mutex_unlock(&lock);
}

ep_term spec_keep(ep_term t) {
  if (!t) return NULL;
  ep_term d = ep_term_dup(t);
  if (!d) abort();
  pthread_mutex_lock(&lock);
  if (narena == carena) {
    carena = carena ? 2 * carena : 256;
    arena = realloc(arena, carena * sizeof *arena);
    if (!arena) abort();
  }
  arena[narena++] = d;
  pthread_mutex_unlock(&lock);
  return d;
}

ep_term spec_own(ep_term t) {
  if (!t) return NULL;
  ep_term k = spec_keep(t);
  ep_term_free(t);
  return k;
}

ep_term T(const char *fmt, ...) {
  ep_term t;
  va_list ap;
  va_start(ap, fmt);
  int rc = ep_vformat(&t, fmt, ap);
  va_end(ap);
  if (rc < 0) {
    spec_fail(__FILE__, __LINE__, "bad format %s: %s", fmt, ep_err_name(rc));
    ep_format(&t, "bad_format");
  }
  return spec_own(t);
}

ep_term P(ep_pid p) { return T("~p", p); }
ep_term R(const ep_ref *r) { return T("~r", r); }
ep_term A(const char *atom) { return T("~a", atom); }

const char *spec_str(ep_term t) {
  if (!t) return "NULL";
  char *s = ep_print_alloc(t, EP_PRINT_ERLANG);
  if (!s) abort();
  pthread_mutex_lock(&lock);
  if (nstrs == cstrs) {
    cstrs = cstrs ? 2 * cstrs : 64;
    strs = realloc(strs, cstrs * sizeof *strs);
    if (!strs) abort();
  }
  strs[nstrs++] = s;
  pthread_mutex_unlock(&lock);
  return s;
}

ep_pid pid_of(ep_term t) {
  ep_pid p = EP_PID_NONE;
  if (t) ep_get_pid(t, &p);
  return p;
}

static bool vmatch(ep_term t, const char *pattern, va_list ap) {
  ep_pattern *pat;
  size_t off;
  if (ep_pattern_compile(&pat, pattern, &off) < 0) {
    spec_fail(__FILE__, __LINE__, "bad pattern %s at %zu", pattern, off);
    return false;
  }
  ep_term pins[EP_PATTERN_MAX_PINS];
  int n = ep_pattern_npins(pat);
  for (int i = 0; i < n; i++) pins[i] = va_arg(ap, ep_term);
  bool ok = t && ep_pattern_match(pat, t, pins, NULL);
  ep_pattern_free(pat);
  return ok;
}

bool spec_match(ep_term t, const char *pattern, ...) {
  va_list ap;
  va_start(ap, pattern);
  bool ok = vmatch(t, pattern, ap);
  va_end(ap);
  return ok;
}

/* ------------------------------------------------------------ receive -- */

ep_term recv_any(long timeout_ms) {
  ep_term m;
  int rc = ep_receive_any(&m, timeout_ms);
  if (rc == EP_ETIMEOUT) return NULL;
  if (rc < 0) {
    spec_fail(__FILE__, __LINE__, "ep_receive_any: %s", ep_err_name(rc));
    return NULL;
  }
  return spec_keep(m);
}

static ep_term vrecv_match(long timeout_ms, const char *pattern, va_list ap) {
  ep_pattern *pat;
  size_t off;
  if (ep_pattern_compile(&pat, pattern, &off) < 0) {
    spec_fail(__FILE__, __LINE__, "bad pattern %s at %zu", pattern, off);
    return NULL;
  }
  ep_term pins[EP_PATTERN_MAX_PINS];
  int n = ep_pattern_npins(pat);
  for (int i = 0; i < n; i++) pins[i] = va_arg(ap, ep_term);
  ep_clause c = {pat, pins};
  int rc = ep_receive_clauses(&c, 1, timeout_ms);
  ep_pattern_free(pat);
  if (rc == EP_ETIMEOUT) return NULL;
  if (rc < 0) {
    spec_fail(__FILE__, __LINE__, "ep_receive_clauses: %s", ep_err_name(rc));
    return NULL;
  }
  return spec_keep(ep_message());
}

ep_term recv_match(long timeout_ms, const char *pattern, ...) {
  va_list ap;
  va_start(ap, pattern);
  ep_term m = vrecv_match(timeout_ms, pattern, ap);
  va_end(ap);
  return m;
}

bool nothing_arrives(long ms) {
  ep_term m = recv_any(ms);
  if (m) fprintf(stderr, "unexpected message: %s\n", spec_str(m));
  return m == NULL;
}

ep_term await_down(const ep_ref *ref) {
  ep_term m = recv_match(EP_INFINITY, "{'DOWN', ^R, process, _, _}", R(ref));
  return m ? ep_tuple_elem(m, 4) : NULL;
}

ep_term wait_death(ep_pid p) {
  ep_ref r = ep_monitor(p);
  return await_down(&r);
}

void wait_queue_len(long n) {
  while (ep_message_queue_len() < n) ep_yield();
}

/* ------------------------------------------------------------- actions -- */

_Noreturn void spec_throw(ep_term t) { ep_error(T("{nocatch, ~t}", t)); }

void spec_action(ep_term action) {
  ep_term m;
  do {
    if (ep_receive_any(&m, EP_INFINITY) < 0) return;
  } while (!ep_is_atom(m, ep_atom_of("go")));
  ep_atom a = 0;
  ep_get_atom(action, &a);
  const char *n = ep_atom_name(a, NULL);
  ep_smallterm s;
  if (!strcmp(n, "returns")) return;
  if (!strcmp(n, "exit_stuff")) ep_exit_atom(ep_atom_of("stuff"));
  if (!strcmp(n, "exit_normal")) ep_exit_atom(EP_A_normal);
  if (!strcmp(n, "error_stuff")) ep_error(ep_atom_term(&s, ep_atom_of("stuff")));
  if (!strcmp(n, "throw_stuff")) spec_throw(ep_atom_term(&s, ep_atom_of("stuff")));
  if (!strcmp(n, "exit_kill")) ep_exit_atom(EP_A_kill);
  if (!strcmp(n, "exit_self_kill")) ep_exit_signal_atom(ep_self(), EP_A_kill);
  if (!strcmp(n, "exit_self_normal")) ep_exit_signal_atom(ep_self(), EP_A_normal);
  if (!strcmp(n, "exit_self_stuff")) ep_exit_signal_atom(ep_self(), ep_atom_of("stuff"));
  if (!strcmp(n, "sleep300")) {
    ep_sleep(300);
    return;
  }
  if (!strcmp(n, "wait")) {
    while (ep_receive_any(&m, EP_INFINITY) == 0 && !ep_is_atom(m, ep_atom_of("stop"))) {}
    return;
  }
  if (!strcmp(n, "exit_self_kill") || !strcmp(n, "exit_self_normal") || !strcmp(n, "exit_self_stuff")) {
    /* exit(self(), R) must not return to a non-trapping caller (R27) */
    ep_exit_atom(ep_atom_of("exit_signal_returned"));
  }
  spec_fail(__FILE__, __LINE__, "unknown action %s", n);
}

/* ------------------------------------------------------------- puppets -- */

static ep_pid owner_of(ep_term arg) { return pid_of(arg); }

static void ack(ep_pid owner, ep_term result) {
  ep_send_fmt(owner, "{'$done', ~p, ~t}", ep_self(), result);
}

static bool is_cmd(ep_term m, const char *name) {
  return ep_tuple_arity(m) >= 2 && ep_is_atom(ep_tuple_elem(m, 1), ep_atom_of(name));
}

/* Runs one command; returns false when the puppet must end normally. */
static bool run_cmd(ep_pid owner, ep_term m) {
  ep_smallterm s;
  ep_term a1 = ep_tuple_elem(m, 2), a2 = ep_tuple_elem(m, 3);
  if (is_cmd(m, "trap")) {
    bool old = ep_trap_exit(ep_is_atom(a1, EP_A_true));
    ack(owner, ep_atom_term(&s, old ? EP_A_true : EP_A_false));
  } else if (is_cmd(m, "link")) {
    int rc = ep_link(pid_of(a1));
    ack(owner, rc == 0 ? ep_atom_term(&s, EP_A_ok) : ep_int_term(&s, rc));
  } else if (is_cmd(m, "unlink")) {
    int rc = ep_unlink(pid_of(a1));
    ack(owner, rc == 0 ? ep_atom_term(&s, EP_A_ok) : ep_int_term(&s, rc));
  } else if (is_cmd(m, "monitor")) {
    ep_ref r = ep_monitor(pid_of(a1));
    ack(owner, ep_ref_term(&s, &r));
  } else if (is_cmd(m, "demonitor")) {
    ep_ref r;
    ep_get_ref(a1, &r);
    ack(owner, ep_atom_term(&s, ep_demonitor(&r, 0) ? EP_A_true : EP_A_false));
  } else if (is_cmd(m, "exit_signal")) {
    int rc = ep_exit_signal(pid_of(a1), a2);
    ack(owner, rc == 0 ? ep_atom_term(&s, EP_A_ok) : ep_int_term(&s, rc));
  } else if (is_cmd(m, "exit")) {
    ep_exit(a1);
  } else if (is_cmd(m, "error")) {
    ep_error(a1);
  } else if (is_cmd(m, "spawn_link")) {
    ack(owner, ep_pid_term(&s, ep_spawn_link(spec_action, a1)));
  } else if (is_cmd(m, "register")) {
    ep_atom name = 0;
    ep_get_atom(a1, &name);
    int rc = ep_register(name, ep_self());
    ack(owner, ep_atom_term(&s, rc == 0 ? EP_A_ok : EP_A_badarg));
  } else if (is_cmd(m, "ping")) {
    ack(owner, ep_atom_term(&s, ep_atom_of("pong")));
  } else if (is_cmd(m, "spawn_link_puppet")) {
    ep_smallterm o;
    ack(owner, ep_pid_term(&s, ep_spawn_link(puppet_fn, ep_pid_term(&o, owner))));
  } else if (is_cmd(m, "return")) {
    return false;
  } else {
    spec_fail(__FILE__, __LINE__, "unknown puppet command %s", spec_str(m));
  }
  return true;
}

void puppet_fn(ep_term arg) {
  ep_pid owner = owner_of(arg);
  ep_atom do_ = ep_atom_of("$do");
  for (;;) {
    ep_term m;
    if (ep_receive_any(&m, EP_INFINITY) < 0) return;
    if (ep_tuple_arity(m) >= 2 && ep_is_atom(ep_tuple_elem(m, 0), do_)) {
      ep_term c = spec_keep(m);   /* m dies at the next receive */
      if (!run_cmd(owner, c)) return;
    } else {
      ep_send_fmt(owner, "{got, ~p, ~t}", ep_self(), m);
    }
  }
}

ep_pid puppet(void) {
  ep_smallterm s;
  return ep_spawn(puppet_fn, ep_pid_term(&s, ep_self()));
}

ep_pid puppet_monitored(ep_ref *mref) {
  ep_smallterm s;
  return ep_spawn_monitor(puppet_fn, ep_pid_term(&s, ep_self()), mref);
}

ep_pid puppet_linked(void) {
  ep_smallterm s;
  return ep_spawn_link(puppet_fn, ep_pid_term(&s, ep_self()));
}

static void vsend(ep_pid p, const char *fmt, va_list ap) {
  ep_term t;
  if (ep_vformat(&t, fmt, ap) < 0) {
    spec_fail(__FILE__, __LINE__, "bad command format %s", fmt);
    return;
  }
  ep_send(p, t);
  ep_term_free(t);
}

/* Waits for {Tag, P, X} from puppet p, or p's death (NULL then: a puppet
 * that dies instead of answering fails the test at once, not by timeout).
 * What p sent before dying arrives before its DOWN (R12). */
static ep_term from_puppet(ep_pid p, const char *pattern, long timeout_ms) {
  ep_ref mon = ep_monitor(p);
  ep_pattern *want, *down;
  ep_pattern_compile(&want, pattern, NULL);
  ep_pattern_compile(&down, "{'DOWN', ^R, process, _, _}", NULL);
  ep_term pp = P(p), rr = R(&mon);
  ep_clause c[2] = {{want, &pp}, {down, &rr}};
  int rc = ep_receive_clauses(c, 2, timeout_ms);
  ep_term m = rc == 0 ? spec_keep(ep_message()) : NULL;
  ep_pattern_free(want);
  ep_pattern_free(down);
  if (rc != 1) ep_demonitor(&mon, EP_DEMONITOR_FLUSH);
  return m ? ep_tuple_elem(m, 2) : NULL;
}

ep_term got(ep_pid p, long timeout_ms) { return from_puppet(p, "{got, ^P, _}", timeout_ms); }

ep_term cmd(ep_pid p, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsend(p, fmt, ap);
  va_end(ap);
  return from_puppet(p, "{'$done', ^P, _}", EP_INFINITY);
}

void cmd_nowait(ep_pid p, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsend(p, fmt, ap);
  va_end(ap);
}


/* ----------------------------------------------------------------- run -- */

static void reset(void) {
  failures = 0;
  root_done = 0;
  first_failure[0] = 0;
}

static void release(void) {
  for (size_t i = 0; i < narena; i++) ep_term_free(arena[i]);
  free(arena);
  arena = NULL;
  narena = carena = 0;
  for (size_t i = 0; i < nstrs; i++) free(strs[i]);
  free(strs);
  strs = NULL;
  nstrs = cstrs = 0;
}

void spec_run_threads(int threads, ep_proc_fn root) {
  reset();
  ep_config cfg = {.threads = threads};
  ep_set_exit_logger(NULL, NULL);
  ep_term arg;
  ep_format(&arg, "[]");
  int rc = ep_run(&cfg, root, arg);
  ep_term_free(arg);
  release();
  ck_assert_msg(failures == 0, "%d failed expectation(s); first: %s", failures, first_failure);
  ck_assert_msg(root_done, "the root process did not reach its end (ep_run returned %d)", rc);
  ck_assert_int_eq(rc, 0);
}

void spec_run(ep_proc_fn root) {
  const char *e = getenv("EP_THREADS");
  spec_run_threads(e && atoi(e) > 0 ? atoi(e) : 2, root);
}
