/* SPDX-License-Identifier: Apache-2.0 */
/*
 * heart_monitor.c - seed 000's HeartMonitor: a process keeps a list of
 * monitored processes, pings them all, and sorts them into alive and dead
 * by who answers {:pong, sender} before the next round.
 */
#include <stdio.h>
#include <string.h>

#include "eproc.h"

#define MAX 16

typedef struct {
  ep_pid monitors[MAX], alive[MAX], dead[MAX], pending[MAX];
  int nmon, nalive, ndead, npending;
} state;

static int find(const ep_pid *v, int n, ep_pid p) {
  for (int i = 0; i < n; i++)
    if (ep_pid_eq(v[i], p)) return i;
  return -1;
}
static void drop(ep_pid *v, int *n, ep_pid p) {
  int i = find(v, *n, p);
  if (i >= 0) v[i] = v[--*n];
}
static void add(ep_pid *v, int *n, ep_pid p) {
  if (find(v, *n, p) < 0 && *n < MAX) v[(*n)++] = p;
}

static void reply_list(ep_pid to, const ep_pid *v, int n) {
  ep_build b;
  ep_b_init(&b);
  ep_b_tuple(&b);
  ep_b_atom(&b, EP_A_reply);
  ep_b_list(&b);
  for (int i = 0; i < n; i++) ep_b_pid(&b, v[i]);
  ep_b_end(&b);
  ep_b_end(&b);
  ep_send(to, ep_b_peek(&b));
  ep_b_free(&b);
}

static void heart(ep_term arg) {
  (void)arg;
  state s;
  memset(&s, 0, sizeof s);
  EP_PATTERN(p_pong, "{pong, P::pid}");
  EP_PATTERN(p_monitor, "{monitor, P::pid}");
  EP_PATTERN(p_demonitor, "{demonitor, P::pid}");
  EP_PATTERN(p_round, "round");
  EP_PATTERN(p_list, "{Which::atom, Sender::pid}");
  for (;;) {
    ep_pid p;
    ep_atom which;
    switch (ep_receive(EP_INFINITY, p_pong, p_monitor, p_demonitor, p_round, p_list)) {
    case 0:   /* handle_pong */
      ep_bind(&p);
      drop(s.dead, &s.ndead, p);
      drop(s.pending, &s.npending, p);
      add(s.alive, &s.nalive, p);
      break;
    case 1:
      ep_bind(&p);
      add(s.monitors, &s.nmon, p);
      break;
    case 2:
      ep_bind(&p);
      drop(s.monitors, &s.nmon, p);
      break;
    case 3:   /* who did not answer the last round is dead; ping again */
      for (int i = 0; i < s.npending; i++) {
        drop(s.alive, &s.nalive, s.pending[i]);
        add(s.dead, &s.ndead, s.pending[i]);
      }
      s.npending = 0;
      for (int i = 0; i < s.nmon; i++) {
        ep_send_fmt(s.monitors[i], "{ping, ~p}", ep_self());
        add(s.pending, &s.npending, s.monitors[i]);
      }
      break;
    default:
      ep_bind(&which, &p);
      if (which == ep_atom_of("list_monitors")) reply_list(p, s.monitors, s.nmon);
      else if (which == ep_atom_of("list_alive")) reply_list(p, s.alive, s.nalive);
      else if (which == ep_atom_of("list_dead")) reply_list(p, s.dead, s.ndead);
    }
  }
}

static void pinged(ep_term arg) {
  (void)arg;
  EP_PATTERN(p_ping, "{ping, From::pid}");
  for (;;) {
    ep_receive(EP_INFINITY, p_ping);
    ep_pid from;
    ep_bind(&from);
    ep_send_fmt(from, "{pong, ~p}", ep_self());
  }
}

static void ask(ep_pid hm, const char *what) {
  char buf[256];
  ep_send_fmt(hm, "{~a, ~p}", what, ep_self());
  EP_PATTERN(p_reply, "{reply, L}");
  ep_receive(EP_INFINITY, p_reply);
  ep_print(buf, sizeof buf, ep_var(0), EP_PRINT_ELIXIR);
  printf("iex> send hm, {:%s, self}; flush\n{:reply, %s}\n", what, buf);
}

static void shell(ep_term arg) {
  (void)arg;
  ep_pid hm = ep_spawn_link(heart, NULL);
  ep_pid a = ep_spawn(pinged, NULL), b = ep_spawn(pinged, NULL);
  printf("a = #PID<0.%u.%u>, b = #PID<0.%u.%u>\n", a.id, a.serial, b.id, b.serial);
  ep_send_fmt(hm, "{monitor, ~p}", a);
  ep_send_fmt(hm, "{monitor, ~p}", b);
  ask(hm, "list_monitors");
  ep_send_fmt(hm, "round");
  ep_sleep(50);   /* a heartbeat interval */
  ask(hm, "list_alive");
  printf("iex> Process.exit(b, :kill)\n");
  ep_exit_signal_atom(b, EP_A_kill);
  ep_send_fmt(hm, "round");
  ep_sleep(50);
  ep_send_fmt(hm, "round");
  ep_sleep(50);
  ask(hm, "list_alive");
  ask(hm, "list_dead");
  ep_unlink(hm);
}

int main(void) { return ep_run(NULL, shell, NULL) == 0 ? 0 : 1; }
