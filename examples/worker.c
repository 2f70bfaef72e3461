/* SPDX-License-Identifier: Apache-2.0 */
/*
 * worker.c - seed 000's Worker: a process that squares a number on
 * {compute, x, pid}; the first version answers once and ends, a crash on
 * "square this" is bad arithmetic; Worker2 loops and stops on {exit, r};
 * spawn_link of a raising function takes its parent down with it.
 */
#include "iex.h"

static int64_t square(ep_term x) {
  int64_t v;
  ep_smallterm s;
  if (ep_get_int(x, &v) < 0) ep_error(ep_atom_term(&s, EP_A_badarith));
  return v * v;
}

/* def do_work: receive {:compute, x, pid} -> send pid, {:result, x * x} */
static void do_work(ep_term arg) {
  (void)arg;
  EP_PATTERN(p_compute, "{compute, X, Pid::pid}");
  ep_term x;
  ep_pid from;
  ep_receive(EP_INFINITY, p_compute);
  ep_bind(&x, &from);
  ep_send_fmt(from, "{result, ~L}", (long long)square(x));
}

/* Worker2: the same in a loop, plus {:exit, reason} -> exit(reason). */
static void do_work2(ep_term arg) {
  (void)arg;
  EP_PATTERN(p_compute, "{compute, X, Pid::pid}");
  EP_PATTERN(p_exit, "{exit, Reason}");
  for (;;) {
    ep_term x;
    ep_pid from;
    if (ep_receive(EP_INFINITY, p_compute, p_exit) == 1) ep_exit(ep_var(0));
    ep_bind(&x, &from);
    ep_send_fmt(from, "{result, ~L}", (long long)square(x));
  }
}

/* fn -> raise "failing" end; the exception comes as the argument */
static void raise_failing(ep_term exception) { ep_error(exception); }

/* A second shell for the spawn_link demo: the crash takes it down. */
static void linked_shell(ep_term arg) {
  (void)arg;
  ep_term exception;
  ep_format(&exception, "{runtime_error, <<\"failing\">>}");
  ep_spawn_link(raise_failing, exception);
  ep_term_free(exception);
  ep_term m;
  ep_receive_any(&m, EP_INFINITY);
}

static void shell(ep_term arg) {
  (void)arg;
  ep_pid me = ep_self();
  iex("pid = spawn(Worker, :do_work, [])");
  ep_pid pid = ep_spawn(do_work, NULL);
  show_pid(pid);
  iex("Process.alive?(pid)");
  show_bool(ep_is_alive(pid));
  iex("send pid, {:compute, 4, self()}");
  send_show(pid, "{compute, 4, ~p}", me);
  iex("flush()");
  flush_n(1);
  await_end(pid);
  iex("Process.alive?(pid)");
  show_bool(ep_is_alive(pid));
  iex("send(pid, {:compute, 16, self()})");
  send_show(pid, "{compute, 16, ~p}", me);
  iex("flush");
  flush_empty();

  iex("pid = spawn(Worker, :do_work, [])");
  pid = ep_spawn(do_work, NULL);
  show_pid(pid);
  iex("send(pid, {:compute, \"square this\", self()})");
  send_show(pid, "{compute, <<\"square this\">>, ~p}", me);
  await_end(pid);
  iex("Process.alive?(pid)");
  show_bool(ep_is_alive(pid));

  iex("spawn_link fn -> raise \"failing\" end   # in another shell");
  ep_ref r;
  ep_pid sh = ep_spawn_monitor(linked_shell, NULL, &r);
  EP_PATTERN(p_down, "{'DOWN', _, process, _, Reason}");
  ep_receive(EP_INFINITY, p_down);
  char *why = ep_print_alloc(ep_var(0), EP_PRINT_ELIXIR);
  ep_smallterm s;
  char *who = ep_print_alloc(ep_pid_term(&s, sh), EP_PRINT_ELIXIR);
  printf("** (EXIT from %s) %s\n", who, why);
  free(why);
  free(who);

  iex("pid = spawn_link Worker, :do_work, []   # Worker2, with a loop");
  pid = ep_spawn_link(do_work2, NULL);
  show_pid(pid);
  iex("send pid, {:compute, 4, self}");
  send_show(pid, "{compute, 4, ~p}", me);
  iex("flush");
  flush_n(1);
  iex("Process.alive? pid");
  show_bool(ep_is_alive(pid));
  iex("send pid, {:exit, :normal}");
  send_show(pid, "{exit, normal}");
  await_end(pid);
  iex("Process.alive? pid");
  show_bool(ep_is_alive(pid));
}

int main(void) { return ep_run(NULL, shell, NULL); }
