/* SPDX-License-Identifier: Apache-2.0 */
/*
 * printers.c - seed 004's Process.exit/2 tour. HelloPrinter prints Hello
 * in a loop and dies of any exit signal; a trapping caller gets its
 * {:EXIT, pid, reason}. HiPrinter traps exits and answers every exit
 * signal with a message, even :normal, until Process.exit(pid, :kill).
 */
#include <stdatomic.h>
#include <stdio.h>

#include "eproc.h"

/* Lines each printer has printed: the shell, like someone at iex, waits to
 * see a printer print before it goes on (a fixed sleep would race a slow
 * machine, such as a run under Valgrind). */
static atomic_int hellos, his;

static void see_printing(atomic_int *lines) {
  while (atomic_load(lines) == 0) ep_sleep(5);
}

static void hello_printer(ep_term arg) {
  (void)arg;
  for (;;) {
    ep_sleep(20);
    printf("Hello\n");
    atomic_fetch_add(&hellos, 1);
  }
}

static void hi_printer(ep_term arg) {
  (void)arg;
  ep_trap_exit(true);
  EP_PATTERN(p_exit, "{'EXIT', Pid::pid, _}");
  for (;;) {
    if (ep_receive(60, p_exit) == 0) {
      ep_pid from;
      ep_bind(&from);
      ep_send_fmt(from, "~b", "Няма да стане, батка!");
    } else {
      printf("Hi!\n");
      atomic_fetch_add(&his, 1);
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
  ep_trap_exit(true);
  printf("iex> Process.flag(:trap_exit, true)\n");
  ep_pid pid = ep_spawn_link(hello_printer, NULL);
  printf("iex> pid = spawn_link(HelloPrinter, :start_link, [])\n");
  see_printing(&hellos);
  printf("iex> Process.exit(pid, :spri_se_be)\n");
  ep_exit_signal_atom(pid, ep_atom_of("spri_se_be"));
  show_next();

  pid = ep_spawn_link(hi_printer, NULL);
  printf("iex> pid = spawn_link(HiPrinter, :start_link, [])\n");
  see_printing(&his);
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
