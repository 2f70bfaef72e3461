/* SPDX-License-Identifier: Apache-2.0 */
/*
 * printers.c - seed 004's Process.exit/2 tour: HelloPrinter (not trapping)
 * stops on any exit reason; HiPrinter traps exits and answers each
 * {:EXIT, pid, _} with a message, so :spri and even :normal do nothing,
 * and only :kill stops it; the shell, linked and trapping, gets
 * {:EXIT, pid, :killed}: kill is not transitive. Periods are 100 ms
 * instead of the seed's 5 and 6 s.
 */
#include "iex.h"

/* def start_link: Process.sleep(5000); IO.puts("Hello"); start_link() */
static void hello_printer(ep_term arg) {
  (void)arg;
  for (;;) {
    ep_sleep(100);
    puts("Hello");
    fflush(stdout);
  }
}

/* HiPrinter: traps exits; receive {:EXIT, pid, _} -> send(pid, "..."),
 * after 6000 -> IO.puts("Hi!"); print() */
static void hi_printer(ep_term arg) {
  (void)arg;
  EP_PATTERN(p_exit, "{'EXIT', Pid::pid, _}");
  ep_trap_exit(true);
  for (;;) {
    if (ep_receive(100, p_exit) == 0) {
      ep_pid pid;
      ep_bind(&pid);
      ep_send_fmt(pid, "~b", "Няма да стане, батка!");
    } else {
      puts("Hi!");
      fflush(stdout);
    }
  }
}

static void receive_inspect(void) {
  ep_term msg;
  ep_receive_any(&msg, EP_INFINITY);
  show(msg);
}

static void shell(ep_term arg) {
  (void)arg;
  iex("Process.flag(:trap_exit, true)");
  show_bool(ep_trap_exit(true));
  ep_smallterm s;
  iex("pid = spawn_link(HelloPrinter, :start_link, [])");
  ep_pid pid = ep_spawn_link(hello_printer, NULL);
  show_pid(pid);
  ep_sleep(250);
  iex("Process.exit(pid, :spri_se_be)");
  show_bool(ep_exit_signal(pid, ep_atom_term(&s, ep_atom_of("spri_se_be"))) == 0);
  iex("receive do msg -> IO.inspect(msg) end");
  receive_inspect();

  iex("pid = spawn_link(HiPrinter, :start_link, [])");
  pid = ep_spawn_link(hi_printer, NULL);
  show_pid(pid);
  ep_sleep(250);
  iex("Process.exit(pid, :spri)");
  show_bool(ep_exit_signal(pid, ep_atom_term(&s, ep_atom_of("spri"))) == 0);
  iex("receive do msg -> IO.inspect(msg) end");
  receive_inspect();
  iex("Process.exit(pid, :normal)");
  show_bool(ep_exit_signal_atom(pid, EP_A_normal) == 0);
  iex("receive do msg -> IO.inspect(msg) end");
  receive_inspect();
  iex("Process.exit(pid, :kill)");
  show_bool(ep_exit_signal_atom(pid, EP_A_kill) == 0);
  iex("receive do msg -> IO.inspect(msg) end");
  receive_inspect();
  iex("Process.alive?(pid)");
  show_bool(ep_is_alive(pid));
  iex("Process.alive?(self())   # kill is not transitive");
  show_bool(ep_is_alive(ep_self()));
}

int main(void) { return ep_run(NULL, shell, NULL); }
