/* SPDX-License-Identifier: Apache-2.0 */
/*
 * worker.c - seed 000's Worker: {:compute, x, pid} answers {:result, x*x};
 * {:exit, reason} ends it; a bad argument crashes it (the logger reports
 * it), and the process is then no longer alive.
 */
#include <stdio.h>

#include "eproc.h"

static void do_work(ep_term arg) {
  (void)arg;
  EP_PATTERN(p_compute, "{compute, X, Pid::pid}");
  EP_PATTERN(p_exit, "{exit, Reason}");
  for (;;) {
    ep_term x, reason;
    ep_pid pid;
    if (ep_receive(EP_INFINITY, p_compute, p_exit) == 1) {
      ep_bind(&reason);
      ep_exit(reason);
    }
    ep_bind(&x, &pid);
    int64_t v;
    if (ep_get_int(x, &v) != 0) ep_error_atom(EP_A_badarith);
    ep_send_fmt(pid, "{result, ~L}", (long long)(v * v));
  }
}

static void flush(void) {
  ep_term m;
  char buf[128];
  while (ep_receive_any(&m, 100) == 0) {
    ep_print(buf, sizeof buf, m, EP_PRINT_ELIXIR);
    printf("%s\n", buf);
  }
  printf(":ok\n");
}

static const char *alive(ep_pid p) { return ep_is_alive(p) ? "true" : "false"; }

static void shell(ep_term arg) {
  (void)arg;
  ep_pid pid = ep_spawn(do_work, NULL);
  printf("iex> pid = spawn(Worker, :do_work, [])\n#PID<0.%u.%u>\n", pid.id, pid.serial);
  printf("iex> send pid, {:compute, 4, self()}\n");
  ep_send_fmt(pid, "{compute, 4, ~p}", ep_self());
  printf("iex> flush()\n");
  flush();
  printf("iex> Process.alive?(pid)\n%s\n", alive(pid));
  printf("iex> send(pid, {:compute, \"square this\", self()})\n");
  ep_ref r = ep_monitor(pid);
  ep_send_fmt(pid, "{compute, <<\"square this\">>, ~p}", ep_self());
  ep_receive_any(NULL, EP_INFINITY);   /* its DOWN: the crash has been reported */
  fflush(stdout);
  printf("iex> Process.alive?(pid)\n%s\n", alive(pid));
  (void)r;

  pid = ep_spawn_link(do_work, NULL);
  printf("iex> pid = spawn_link Worker, :do_work, []\n#PID<0.%u.%u>\n", pid.id, pid.serial);
  ep_send_fmt(pid, "{compute, 16, ~p}", ep_self());
  printf("iex> send pid, {:compute, 16, self}\niex> flush\n");
  flush();
  printf("iex> Process.alive? pid\n%s\n", alive(pid));
  r = ep_monitor(pid);
  printf("iex> send pid, {:exit, :normal}\n");
  ep_send_fmt(pid, "{exit, normal}");
  ep_receive_any(NULL, EP_INFINITY);   /* its DOWN */
  printf("iex> Process.alive? pid\n%s\n", alive(pid));
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  return ep_run(NULL, shell, NULL) == 0 ? 0 : 1;
}
