/* SPDX-License-Identifier: Apache-2.0 */
/*
 * link_chain.c - seed 004: Quitter started with spawn (nobody notices its
 * end) and with spawn_link (its exit reason takes the shell down; a
 * normal end does not; unlink cuts the tie), five Simple processes linked
 * in a chain where killing pid5 kills all five, and a system process
 * (trap_exit) that receives {:EXIT, pid, reason}. Sleeps are 300 ms
 * instead of the seed's 3 s. Shells that must die are separate processes.
 */
#include "iex.h"

/* def run: Process.sleep(3000); exit(:i_am_tired) */
static void quitter_run(ep_term arg) {
  (void)arg;
  ep_sleep(300);
  ep_exit_atom(ep_atom_of("i_am_tired"));
}

/* def run_no_error: Process.sleep(3000) */
static void quitter_run_no_error(ep_term arg) {
  (void)arg;
  ep_sleep(300);
}

/* def run: receive {:link, pid} -> link; :die -> IO.puts(...); exit(:ouch) */
static void simple_run(ep_term arg) {
  (void)arg;
  EP_PATTERN(p_link, "{link, Pid::pid}");
  EP_PATTERN(p_die, "die");
  for (;;) {
    ep_pid pid;
    if (ep_receive(EP_INFINITY, p_link, p_die) == 0) {
      ep_bind(&pid);
      ep_link(pid);
      continue;
    }
    ep_smallterm s;
    char *me = ep_print_alloc(ep_pid_term(&s, ep_self()), EP_PRINT_ELIXIR);
    printf("%s is hit!\n", me);
    fflush(stdout);
    free(me);
    ep_exit_atom(ep_atom_of("ouch"));
  }
}

/* Prints the shell's death as iex does: ** (EXIT from #PID<...>) reason. */
static void print_exit_from(ep_pid from, ep_term reason) {
  ep_smallterm s;
  char *who = ep_print_alloc(ep_pid_term(&s, from), EP_PRINT_ELIXIR);
  char *why = ep_print_alloc(reason, EP_PRINT_ELIXIR);
  printf("** (EXIT from %s) %s\n", who, why);
  fflush(stdout);
  free(who);
  free(why);
}

/* A second iex shell: spawn_link(Quitter, :run, []), tell the first shell
 * the pid, then wait for a message that never comes. */
static void quitter_shell(ep_term parent) {
  ep_pid to;
  ep_get_pid(parent, &to);
  ep_send_fmt(to, "{quitter, ~p}", ep_spawn_link(quitter_run, NULL));
  ep_term m;
  ep_receive_any(&m, EP_INFINITY);
}

static void shell(ep_term arg) {
  (void)arg;
  ep_smallterm s;
  iex("pid = spawn(Quitter, :run, [])");
  ep_pid pid = ep_spawn(quitter_run, NULL);
  show_pid(pid);
  await_end(pid);
  iex("Process.alive?(pid)   # a few seconds later");
  show_bool(ep_is_alive(pid));

  iex("spawn_link(Quitter, :run, [])   # in a second shell");
  ep_ref r;
  ep_spawn_monitor(quitter_shell, ep_pid_term(&s, ep_self()), &r);
  EP_PATTERN(p_quitter, "{quitter, Pid::pid}");
  EP_PATTERN(p_down, "{'DOWN', ^Ref, process, _, Reason}");
  ep_receive(EP_INFINITY, p_quitter);
  ep_pid quitter;
  ep_bind(&quitter);
  ep_term pin = ep_ref_term(&s, &r);
  ep_clause down = {p_down, &pin};
  ep_receive_clauses(&down, 1, EP_INFINITY);
  print_exit_from(quitter, ep_var(0));

  iex("pid = spawn_link(Quitter, :run_no_error, [])");
  pid = ep_spawn_link(quitter_run_no_error, NULL);
  show_pid(pid);
  await_end(pid);
  iex("Process.alive?(pid)   # and the shell is fine");
  show_bool(ep_is_alive(pid));

  iex("pid = spawn_link(Quitter, :run, []); Process.unlink(pid)");
  pid = ep_spawn_link(quitter_run, NULL);
  ep_unlink(pid);
  await_end(pid);
  puts("# no error");

  ep_pid p[5];
  ep_ref mon[5];
  for (int i = 0; i < 5; i++) {
    printf("iex> pid%d = spawn(Simple, :run, [])\n", i + 1);
    p[i] = ep_spawn(simple_run, NULL);
    show_pid(p[i]);
  }
  for (int i = 0; i < 4; i++) {
    printf("iex> send(pid%d, {:link, pid%d})\n", i + 1, i + 2);
    send_show(p[i], "{link, ~p}", p[i + 1]);
  }
  /* the links are made by the Simple processes: wait until all four are */
  for (int i = 0; i < 5; i++) {
    long want = (i == 0 || i == 4) ? 1 : 2;
    for (;;) {
      ep_term l = ep_process_info(p[i], EP_A_links);
      long n = l ? ep_list_length(ep_tuple_elem(l, 1)) : -1;
      if (n == want) {
        printf("iex> Process.info(pid%d, :links)\n", i + 1);
        show(l);
      }
      ep_term_free(l);
      if (n == want) break;
      ep_yield();
    }
  }
  for (int i = 0; i < 5; i++) mon[i] = ep_monitor(p[i]);
  iex("send(pid5, :die)");
  send_show(p[4], "die");
  for (int i = 0; i < 5; i++) {
    EP_PATTERN(p_down_any, "{'DOWN', ^Ref, process, _, _}");
    ep_term rp = ep_ref_term(&s, &mon[i]);
    ep_clause c = {p_down_any, &rp};
    ep_receive_clauses(&c, 1, EP_INFINITY);
  }
  for (int i = 0; i < 5; i++) {
    printf("iex> Process.alive?(pid%d)\n", i + 1);
    show_bool(ep_is_alive(p[i]));
  }

  iex("Process.flag(:trap_exit, true)");
  show_bool(ep_trap_exit(true));
  iex("spawn_link(Quitter, :run, []); receive do msg -> IO.inspect(msg) end");
  ep_spawn_link(quitter_run, NULL);
  ep_term msg;
  ep_receive_any(&msg, EP_INFINITY);
  show(msg);
}

int main(void) { return ep_run(NULL, shell, NULL); }
