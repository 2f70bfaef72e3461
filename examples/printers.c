/* SPDX-License-Identifier: Apache-2.0 */
/*
 * printers.c - seed 004's Process.exit/2 tour. HelloPrinter prints Hello
 * in a loop and dies of any exit signal; a trapping caller gets its
 * {:EXIT, pid, reason}. HiPrinter traps exits and answers every exit
 * signal with a message, even :normal, until Process.exit(pid, :kill).
 */
#include <stdio.h>

#include "eproc.h"

/* The shell, like someone at iex, waits to see a printer print before it
 * goes on (a fixed sleep would race a slow machine, such as a run under
 * Valgrind): a printer tells it (arg: its pid) once, after its first line. */
static void printed_first(ep_term shell, bool *told) {
  ep_pid to;
  if (*told || ep_get_pid(shell, &to) != 0) return;
  ep_send_fmt(to, "printed");
  *told = true;
}

static void see_printing(void) {
  EP_PATTERN(p_printed, "printed");
  ep_receive(EP_INFINITY, p_printed);
}

static void hello_printer(ep_term shell) {
  bool told = false;
  for (;;) {
    ep_sleep(20);
    printf("Hello\n");
    printed_first(shell, &told);
  }
}

static void hi_printer(ep_term shell) {
  bool told = false;
  ep_trap_exit(true);
  EP_PATTERN(p_exit, "{'EXIT', Pid::pid, _}");
  for (;;) {
    if (ep_receive(60, p_exit) == 0) {
      ep_pid from;
      ep_bind(&from);
      ep_send_fmt(from, "~b", "Няма да стане, батка!");
    } else {
      printf("Hi!\n");
      printed_first(shell, &told);
    }
  }
}

static void show_next(void) {
  char buf[256];
  ep_term m;
  ep_receive_any(&m, EP_INFINITY);
  ep_print(buf, sizeof buf, m, EP_PRINT_ELIXIR);
  printf("iex> receive do msg -> IO.inspect(msg) end\n%s\n", buf);
}

static void shell(ep_term arg) {
  (void)arg;
  ep_smallterm st;
  ep_term me = ep_pid_term(&st, ep_self());
  ep_trap_exit(true);
  printf("iex> Process.flag(:trap_exit, true)\n");
  ep_pid pid = ep_spawn_link(hello_printer, me);
  printf("iex> pid = spawn_link(HelloPrinter, :start_link, [])\n");
  see_printing();
  printf("iex> Process.exit(pid, :spri_se_be)\n");
  ep_exit_signal_atom(pid, ep_atom_of("spri_se_be"));
  show_next();

  pid = ep_spawn_link(hi_printer, me);
  printf("iex> pid = spawn_link(HiPrinter, :start_link, [])\n");
  see_printing();
  const char *reasons[] = {"spri", "normal"};
  for (int i = 0; i < 2; i++) {
    printf("iex> Process.exit(pid, :%s)\n", reasons[i]);
    ep_exit_signal_atom(pid, ep_atom_of(reasons[i]));
    show_next();
  }
  printf("iex> Process.exit(pid, :kill)\n");
  ep_exit_signal_atom(pid, EP_A_kill);
  show_next();
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  return ep_run(NULL, shell, NULL) == 0 ? 0 : 1;
}
