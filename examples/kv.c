/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kv.c - seed 000's key-value store: a process whose state is a map passed
 * around its receive loop, then registered as :kv and used by name.
 */
#include <stdio.h>

#include "eproc.h"

/* loop(map): {put, K, V, From} -> From ! ok; {get, K, From} -> From ! value */
static void kv_loop(ep_term arg) {
  (void)arg;
  EP_PATTERN(p_put, "{put, K, V, From::pid}");
  EP_PATTERN(p_get, "{get, K, From::pid}");
  EP_PATTERN(p_stop, "stop");
  ep_term map;
  ep_format(&map, "#{}");
  for (;;) {
    ep_term k, v;
    ep_pid from;
    int clause = ep_receive(EP_INFINITY, p_put, p_get, p_stop);
    if (clause == 2) break;
    if (clause == 0) {
      ep_bind(&k, &v, &from);
      ep_term next = ep_map_put(map, k, v);   /* Map.put(map, k, v) */
      ep_term_free(map);
      map = next;
      ep_send_fmt(from, "ok");
    } else {
      ep_bind(&k, &from);
      ep_term found = ep_map_get(map, k);
      if (found) ep_send(from, found);
      else ep_send_fmt(from, "nil");
    }
  }
  ep_term_free(map);
}

/* iex's flush, for the n replies we know are coming */
static void flush(int n) {
  ep_term m;
  char buf[256];
  while (n-- > 0 && ep_receive_any(&m, EP_INFINITY) == 0) {
    ep_print(buf, sizeof buf, m, EP_PRINT_ELIXIR);
    printf("%s\n", buf);
  }
}

static void shell(ep_term arg) {
  (void)arg;
  ep_pid pid = ep_spawn_link(kv_loop, NULL);
  printf("iex> pid = KV.start_link\n#PID<0.%u.%u>\n", pid.id, pid.serial);
  printf("iex> send pid, {:get, :a, self}\niex> flush\n");
  ep_send_fmt(pid, "{get, a, ~p}", ep_self());
  flush(1);
  printf("iex> send pid, {:put, :a, 42, self}\niex> send pid, {:get, :a, self}\niex> flush\n");
  ep_send_fmt(pid, "{put, a, 42, ~p}", ep_self());
  ep_send_fmt(pid, "{get, a, ~p}", ep_self());
  flush(2);
  printf("iex> Process.register(pid, :kv)\n%s\n", ep_register(ep_atom_of("kv"), pid) == 0 ? "true" : "false");
  printf("iex> send :kv, {:put, :b, \"bee\", self}\niex> send :kv, {:get, :b, self}\niex> flush\n");
  ep_send_name_fmt(ep_atom_of("kv"), "{put, b, <<\"bee\">>, ~p}", ep_self());
  ep_send_name_fmt(ep_atom_of("kv"), "{get, b, ~p}", ep_self());
  flush(2);
  ep_ref r = ep_monitor(pid);
  ep_send_fmt(pid, "stop");
  ep_receive_any(NULL, EP_INFINITY);   /* its DOWN: the loop freed its map */
  (void)r;
}

int main(void) { return ep_run(NULL, shell, NULL) == 0 ? 0 : 1; }
