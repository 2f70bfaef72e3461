/* SPDX-License-Identifier: Apache-2.0 */
/*
 * application.c - application masters: one gen_server per running
 * application, registered as '$app:Name', that starts the top supervisor
 * linked to itself, ends when it ends, and stops it with the supervisor
 * shutdown protocol when the application is stopped. Owns only the top
 * supervisor's pid; the tree below is the supervisors' business.
 */
#include <stdio.h>
#include <stdlib.h>

#include "otp_int.h"

struct master { ep_pid top; };

static ep_atom master_name(const char *app) {
  char buf[300];
  snprintf(buf, sizeof buf, "$app:%s", app);
  return ep_atom_of(buf);
}

static ep_gs_ret am_init(ep_term arg, void **state) {
  const ep_application *app = ep__get_ptr(ep_tuple_elem(arg, 0));
  ep_trap_exit(true);
  ep_pid top = EP_PID_NONE;
  ep_term why = NULL;
  int rc = app->start(ep_tuple_elem(arg, 1), &top, &why);
  if (rc != 0) {
    ep_smallterm s;
    if (rc == EP_IGNORED)
      return ep_init_stop_atom(EP_A_ignore);
    return ep_init_stop(why ? why : ep_atom_term(&s, ep_atom_of(ep_err_name(rc))));
  }
  struct master *m = malloc(sizeof *m);
  if (!m)
    abort();
  m->top = top;
  *state = m;
  return ep_init_ok();
}

static ep_gs_ret am_call(ep_term req, const ep_from *from, void *state) {
  (void)req;
  (void)from;
  struct master *m = state;
  ep_smallterm s;
  return ep_reply_take(ep_term_dup(ep_pid_term(&s, m->top)));
}

/* The top supervisor ended: so does the application, with its reason. */
static ep_gs_ret am_info(ep_term msg, void *state) {
  EP_PATTERN(p_exit, "{'EXIT', P::pid, R}");
  struct master *m = state;
  ep_pid p;
  ep_term r;
  if (ep_match(p_exit, msg, &p, &r) && ep_pid_eq(p, m->top)) {
    m->top = EP_PID_NONE;
    return ep_stop_term(r);
  }
  return ep_noreply();
}

static void am_terminate(ep_term reason, void *state) {
  EP_PATTERN(p_down, "{'DOWN', ^M, process, _, _}");
  (void)reason;
  struct master *m = state;
  if (!ep_pid_eq(m->top, EP_PID_NONE)) {
    ep_ref r = ep_monitor(m->top);
    ep_unlink(m->top);
    ep_exit_signal_atom(m->top, EP_A_shutdown);
    ep_smallterm s;
    ep_term pin = ep_ref_term(&s, &r);
    const ep_clause c = {p_down, &pin};
    ep_receive_clauses(&c, 1, EP_INFINITY);      /* a supervisor takes its time (R62) */
  }
  free(m);
}

static const ep_gen_server_cb master_cb = {
  .init = am_init, .handle_call = am_call, .handle_info = am_info, .terminate = am_terminate,
  .release = free};

int ep_application_start(const ep_application *app, ep_term *reason) {
  ep_build b;
  ep_b_init(&b);
  ep_b_tuple(&b);
  ep__b_ptr(&b, app);
  if (app->args)
    ep_b_term(&b, app->args);
  else
    ep_b_nil(&b);
  ep_b_end(&b);
  ep_term a = ep__b_done(&b);
  ep_b_free(&b);
  ep_pid pid;
  int rc = ep_gen_server_start(&master_cb, a, master_name(app->name), &pid, reason);
  ep_term_free(a);
  return rc == EP_IGNORED ? 0 : rc;
}

static void stop_master(void *m) { ep_gen_server_stop(ep_srv(*(ep_pid *)m), NULL, EP_INFINITY); }

int ep_application_stop(const char *name) {
  ep_pid m = ep_whereis(master_name(name));
  if (ep_pid_eq(m, EP_PID_NONE))
    return EP_ENOTFOUND;
  /* It may end on its own meanwhile (its top supervisor gave up). */
  return ep_catch(stop_master, &m, NULL) ? EP_ENOTFOUND : 0;
}

int ep_application_start_all(const ep_application *const *apps, size_t n, ep_term *reason) {
  for (size_t i = 0; i < n; i++) {
    ep_term why = NULL;
    int rc = ep_application_start(apps[i], &why);
    if (rc != 0) {
      /* Stopping the others receives: keep the reason out of the mailbox. */
      if (reason)
        *reason = why ? ep_term_dup(why) : NULL;
      ep_application_stop_all(apps, i);
      return rc;
    }
  }
  return 0;
}

int ep_application_stop_all(const ep_application *const *apps, size_t n) {
  for (size_t i = n; i-- > 0;)
    ep_application_stop(apps[i]->name);
  return 0;
}

bool ep_application_running(const char *name) {
  return !ep_pid_eq(ep_whereis(master_name(name)), EP_PID_NONE);
}

ep_pid ep_application_top(const char *name) {
  ep_smallterm s;
  ep_term r = NULL;
  ep_pid top = EP_PID_NONE;
  if (ep_gen_server_try_call(ep_srv_name(master_name(name)), ep_atom_term(&s, EP_A_supervisor),
                             EP_INFINITY, &r) == 0)
    ep_get_pid(r, &top);
  return top;
}
