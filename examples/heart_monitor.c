/* SPDX-License-Identifier: Apache-2.0 */
/*
 * heart_monitor.c - seed 000's HeartMonitor: a process that pings the
 * processes it watches on every heartbeat (a send_after tick) and sorts
 * them into alive (they answered {pong, pid}) and dead (two unanswered
 * pings). Its state lives in the loop's frame, as the Elixir state map
 * is passed along the loop; the watched processes are PingPongs.
 */
#include "iex.h"

enum { MAX = 16, BEAT_MS = 50, MISSES = 2 };

typedef struct {
  ep_pid monitors[MAX], alive[MAX], dead[MAX];
  int pending[MAX];                 /* unanswered pings, per monitors[i] */
  int n_mon, n_alive, n_dead;
} state;

static int find(const ep_pid *set, int n, ep_pid p) {
  for (int i = 0; i < n; i++)
    if (ep_pid_eq(set[i], p)) return i;
  return -1;
}
static void add(ep_pid *set, int *n, ep_pid p) {
  if (find(set, *n, p) < 0 && *n < MAX) set[(*n)++] = p;
}
static void del(ep_pid *set, int *n, ep_pid p, int *pending) {
  int i = find(set, *n, p);
  if (i < 0) return;
  set[i] = set[--*n];
  if (pending) pending[i] = pending[*n];
}

/* send sender, {:reply, list} */
static void reply(ep_pid to, const ep_pid *set, int n) {
  ep_build b;
  ep_b_init(&b);
  ep_b_tuple(&b);
  ep_b_atom(&b, EP_A_reply);
  ep_b_list(&b);
  for (int i = 0; i < n; i++) ep_b_pid(&b, set[i]);
  ep_b_end(&b);
  ep_b_end(&b);
  ep_send(to, ep_b_peek(&b));
  ep_b_free(&b);
}

/* defp handle_pong(sender, state): no longer dead, nothing pending, alive */
static void handle_pong(state *s, ep_pid sender) {
  del(s->dead, &s->n_dead, sender, NULL);
  int i = find(s->monitors, s->n_mon, sender);
  if (i >= 0) s->pending[i] = 0;
  add(s->alive, &s->n_alive, sender);
}

/* The heartbeat: whoever missed too many pings is dead; ping everyone. */
static void handle_beat(state *s) {
  for (int i = 0; i < s->n_mon; i++) {
    if (s->pending[i] >= MISSES) {
      del(s->alive, &s->n_alive, s->monitors[i], NULL);
      add(s->dead, &s->n_dead, s->monitors[i]);
    }
    ep_send_fmt(s->monitors[i], "{ping, ~p}", ep_self());
    s->pending[i]++;
  }
  ep_smallterm t;
  ep_send_after(BEAT_MS, ep_self(), ep_atom_term(&t, ep_atom_of("beat")));
}

static void loop(ep_term arg) {
  (void)arg;
  EP_PATTERN(p_pong, "{pong, Sender::pid}");
  EP_PATTERN(p_monitor, "{monitor, Pid::pid}");
  EP_PATTERN(p_demonitor, "{demonitor, Pid::pid}");
  EP_PATTERN(p_list_monitors, "{list_monitors, Sender::pid}");
  EP_PATTERN(p_list_alive, "{list_alive, Sender::pid}");
  EP_PATTERN(p_list_dead, "{list_dead, Sender::pid}");
  EP_PATTERN(p_beat, "beat");
  state s = {0};
  handle_beat(&s);
  for (;;) {
    ep_pid pid;
    int clause = ep_receive(EP_INFINITY, p_pong, p_monitor, p_demonitor, p_list_monitors,
                            p_list_alive, p_list_dead, p_beat);
    if (clause < 6) ep_bind(&pid);
    switch (clause) {
    case 0: handle_pong(&s, pid); break;
    case 1:
      if (find(s.monitors, s.n_mon, pid) < 0 && s.n_mon < MAX) {
        s.pending[s.n_mon] = 0;
        s.monitors[s.n_mon++] = pid;
      }
      break;
    case 2: del(s.monitors, &s.n_mon, pid, s.pending); break;
    case 3: reply(pid, s.monitors, s.n_mon); break;
    case 4: reply(pid, s.alive, s.n_alive); break;
    case 5: reply(pid, s.dead, s.n_dead); break;
    case 6: handle_beat(&s); break;
    }
  }
}

/* PingPong from pingpong.c: what the heart monitor watches. */
static void pingpong(ep_term arg) {
  (void)arg;
  EP_PATTERN(p_ping, "{ping, Sender::pid}");
  for (;;) {
    ep_pid sender;
    ep_receive(EP_INFINITY, p_ping);
    ep_bind(&sender);
    ep_send_fmt(sender, "{pong, ~p}", ep_self());
  }
}

/* Asks the monitor for a list; returns its length (the reply stays
 * readable as ep_message() until the next receive). */
static long ask(ep_pid hm, const char *what) {
  EP_PATTERN(p_reply, "{reply, L}");
  ep_send_fmt(hm, "{~a, ~p}", what, ep_self());
  ep_receive(EP_INFINITY, p_reply);
  return ep_list_length(ep_var(0));
}

/* Waits for heartbeats until the list has n entries. */
static void until(ep_pid hm, const char *what, long n) {
  while (ask(hm, what) != n) ep_sleep(BEAT_MS);
}

static void shell(ep_term arg) {
  (void)arg;
  iex("hm = HeartMonitor.start_link");
  ep_pid hm = ep_spawn_link(loop, NULL);
  show_pid(hm);
  ep_pid p[3];
  iex("[p1, p2, p3] = for _ <- 1..3, do: PingPong.start_link");
  for (int i = 0; i < 3; i++) p[i] = ep_spawn_link(pingpong, NULL);
  iex("for p <- [p1, p2, p3], do: send(hm, {:monitor, p})");
  for (int i = 0; i < 3; i++) ep_send_fmt(hm, "{monitor, ~p}", p[i]);
  iex("send hm, {:list_monitors, self}; flush");
  ask(hm, "list_monitors");
  show(ep_message());
  until(hm, "list_alive", 3);
  iex("send hm, {:list_alive, self}; flush   # after a heartbeat");
  show(ep_message());
  iex("Process.unlink(p2); Process.exit(p2, :kill)");
  ep_unlink(p[1]);
  ep_exit_signal_atom(p[1], EP_A_kill);
  until(hm, "list_dead", 1);
  iex("send hm, {:list_dead, self}; flush    # two heartbeats later");
  show(ep_message());
  iex("send hm, {:list_alive, self}; flush");
  ask(hm, "list_alive");
  show(ep_message());
  iex("send hm, {:demonitor, p2}; send hm, {:list_monitors, self}; flush");
  ep_send_fmt(hm, "{demonitor, ~p}", p[1]);
  ask(hm, "list_monitors");
  show(ep_message());
}

int main(void) { return ep_run(NULL, shell, NULL); }
