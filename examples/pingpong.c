/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pingpong.c - seed 000's PingPong: a linked process that answers
 * {ping, sender} with {pong, self()} for ever; one ping from the shell as
 * in the iex session, then a rally of 100,000 round trips.
 */
#include "iex.h"

/* defp loop: receive {:ping, sender} -> send sender, {:pong, self}; loop */
static void loop(ep_term arg) {
  (void)arg;
  EP_PATTERN(p_ping, "{ping, Sender::pid}");
  for (;;) {
    ep_pid sender;
    ep_receive(EP_INFINITY, p_ping);
    ep_bind(&sender);
    ep_send_fmt(sender, "{pong, ~p}", ep_self());
  }
}

static ep_pid pingpong_start_link(void) { return ep_spawn_link(loop, NULL); }

static void shell(ep_term arg) {
  (void)arg;
  ep_pid me = ep_self();
  iex("pid = PingPong.start_link");
  ep_pid pid = pingpong_start_link();
  show_pid(pid);
  iex("send pid, {:ping, self}");
  send_show(pid, "{ping, ~p}", me);
  iex("flush");
  flush_n(1);

  enum { ROUNDS = 100000 };
  EP_PATTERN(p_pong, "{pong, ^Pid}");
  ep_smallterm s;
  ep_term pin = ep_pid_term(&s, pid);
  ep_clause c = {p_pong, &pin};
  long pongs = 0;
  for (int i = 0; i < ROUNDS; i++) {
    ep_send_fmt(pid, "{ping, ~p}", me);
    if (ep_receive_clauses(&c, 1, EP_INFINITY) == 0) pongs++;
  }
  printf("%d pings sent, %ld pongs received\n", ROUNDS, pongs);
}

int main(void) { return ep_run(NULL, shell, NULL); }
