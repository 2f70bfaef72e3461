/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_smoke.c - the runtime starts, runs processes, passes messages and
 * stops cleanly.
 */
#include "test.h"

#include "eproc.h"

static void child(ep_term arg) {
  ep_pid parent;
  ck_assert_int_eq(ep_get_pid(arg, &parent), 0);
  ep_send_fmt(parent, "{hello, ~p}", ep_self());
}

static void root_hello(ep_term arg) {
  (void)arg;
  ep_smallterm s;
  ep_pid c = ep_spawn(child, ep_pid_term(&s, ep_self()));
  ep_term m;
  ck_assert_int_eq(ep_receive_any(&m, EP_INFINITY), 0);
  ck_assert_int_eq(ep_tuple_arity(m), 2);
  ep_pid got;
  ck_assert_int_eq(ep_get_pid(ep_tuple_elem(m, 1), &got), 0);
  ck_assert(ep_pid_eq(got, c));
}

/* Test that a spawned process runs and its message reaches the parent (R1, R9). */
TEST(smoke, spawn_and_message) {
  ep_config cfg = {.threads = 2};
  ck_assert_int_eq(ep_run(&cfg, root_hello, NULL), 0);
}
