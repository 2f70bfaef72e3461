/* SPDX-License-Identifier: Apache-2.0 */
/*
 * link_chain.c - seed 004: Quitter (exit(:i_am_tired) after a while) with
 * spawn, spawn_link and unlink; then five Simple processes linked in a
 * chain pid1 <-> ... <-> pid5, their links listed, and pid5 told to die:
 * the exit propagates down the whole chain.
 */
#include <stdio.h>

#include "eproc.h"

static void quitter(ep_term arg) {
  (void)arg;
  ep_sleep(30);
  ep_exit_atom(ep_atom_of("i_am_tired"));
}

/* Simple.run: {:link, pid} links, :links prints them, :die exits :ouch. */
static void simple(ep_term arg) {
  (void)arg;
  EP_PATTERN(p_link, "{link, P::pid}");
  EP_PATTERN(p_links, "links");
  EP_PATTERN(p_die, "die");
  char buf[256];
  for (;;) {
    switch (ep_receive(EP_INFINITY, p_link, p_links, p_die)) {
    case 0: {
      ep_pid p;
      ep_bind(&p);
      ep_link(p);
      break;
    }
    case 1: {
      ep_term info = ep_process_info(ep_self(), EP_A_links);
      ep_print(buf, sizeof buf, info, EP_PRINT_ELIXIR);
      ep_term_free(info);
      printf("%s\n", buf);
      ep_send_fmt(ep_whereis(ep_atom_of("shell")), "printed");
      break;
    }
    default:
      printf("#PID<0.%u.%u> is hit!\n", ep_self().id, ep_self().serial);
      ep_exit_atom(ep_atom_of("ouch"));
    }
  }
}

/* Runs like the iex shell: a process that a link may kill. */
static void spawn_link_quitter(ep_term arg) {
  (void)arg;
  ep_spawn_link(quitter, NULL);
  ep_sleep(EP_INFINITY);
}

static void wait_printed(void) {
  EP_PATTERN(p_printed, "printed");
  ep_receive(EP_INFINITY, p_printed);
}

static void shell(ep_term arg) {
  (void)arg;
  ep_register(ep_atom_of("shell"), ep_self());
  ep_pid q = ep_spawn(quitter, NULL);
  ep_ref r = ep_monitor(q);
  ep_receive_any(NULL, EP_INFINITY);
  printf("iex> pid = spawn(Quitter, :run, [])\niex> Process.alive?(pid)\n%s\n",
         ep_is_alive(q) ? "true" : "false");

  /* spawn_link from a shell process: the quitter's exit kills the shell */
  ep_ref rs;
  ep_pid sh = ep_spawn_monitor(spawn_link_quitter, NULL, &rs);
  EP_PATTERN(p_down, "{'DOWN', _, process, _, Reason}");
  ep_receive(EP_INFINITY, p_down);
  char buf[256];
  ep_print(buf, sizeof buf, ep_var(0), EP_PRINT_ELIXIR);
  printf("iex> spawn_link(Quitter, :run, [])\n** (EXIT from #PID<0.%u.%u>) %s\n", sh.id, sh.serial, buf);

  ep_pid pid[5];
  for (int i = 0; i < 5; i++) {
    pid[i] = ep_spawn(simple, NULL);
    printf("iex> pid%d = spawn(Simple, :run, [])\n#PID<0.%u.%u>\n", i + 1, pid[i].id, pid[i].serial);
  }
  for (int i = 0; i < 4; i++) {
    ep_send_fmt(pid[i], "{link, ~p}", pid[i + 1]);
    printf("iex> send(pid%d, {:link, pid%d})\n", i + 1, i + 2);
  }
  for (int i = 0; i < 5; i++) {
    printf("iex> send(pid%d, :links)\n", i + 1);
    fflush(stdout);
    ep_send_fmt(pid[i], "links");
    wait_printed();
  }
  ep_ref last = ep_monitor(pid[0]);
  printf("iex> send(pid5, :die)\n");
  fflush(stdout);
  ep_send_fmt(pid[4], "die");
  ep_pattern *p_last;
  ep_pattern_compile(&p_last, "{'DOWN', ^Ref, process, _, _}", NULL);
  ep_smallterm s;
  ep_term pin = ep_ref_term(&s, &last);
  ep_clause c = {p_last, &pin};
  ep_receive_clauses(&c, 1, EP_INFINITY);
  ep_pattern_free(p_last);
  for (int i = 0; i < 5; i++)
    printf("iex> Process.alive?(pid%d)\n%s\n", i + 1, ep_is_alive(pid[i]) ? "true" : "false");
  (void)r;
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  return ep_run(NULL, shell, NULL) == 0 ? 0 : 1;
}
