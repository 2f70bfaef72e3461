/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pingpong.c - seed 000's PingPong: a linked process that answers
 * {:ping, sender} with {:pong, self}, forever.
 */
#include <stdio.h>

#include "eproc.h"

static void loop(ep_term arg) {
  (void)arg;
  EP_PATTERN(p_ping, "{ping, Sender::pid}");
  for (;;) {
    ep_receive(EP_INFINITY, p_ping);
    ep_pid sender;
    ep_bind(&sender);
    ep_send_fmt(sender, "{pong, ~p}", ep_self());
  }
}

static void shell(ep_term arg) {
  (void)arg;
  char buf[128];
  ep_pid pid = ep_spawn_link(loop, NULL);
  printf("iex> pid = PingPong.start_link\n#PID<0.%u.%u>\n", pid.id, pid.serial);
  for (int i = 0; i < 3; i++) {
    printf("iex> send pid, {:ping, self}\niex> flush\n");
    ep_send_fmt(pid, "{ping, ~p}", ep_self());
    ep_term m;
    ep_receive_any(&m, EP_INFINITY);
    ep_print(buf, sizeof buf, m, EP_PRINT_ELIXIR);
    printf("%s\n:ok\n", buf);
  }
  ep_unlink(pid);
}

int main(void) { return ep_run(NULL, shell, NULL) == 0 ? 0 : 1; }
