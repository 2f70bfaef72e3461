/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kv.c - seed 000's KV store: a process whose state is a map, passed
 * around its receive loop; {put, k, v, sender} and {get, k, sender};
 * then registered as :kv and addressed by name. The map is a small array
 * of owned key/value terms; `stop` (not in the seed) ends the loop so the
 * program returns every byte.
 */
#include <string.h>

#include "iex.h"

typedef struct { ep_term key, value; } pair;
typedef struct { pair *p; size_t n; } map;

/* Map.put(map, key, value), on owned copies. */
static void map_put(map *m, ep_term key, ep_term value) {
  for (size_t i = 0; i < m->n; i++)
    if (ep_exact_equal(m->p[i].key, key)) {
      ep_term_free(m->p[i].value);
      m->p[i].value = ep_term_dup(value);
      return;
    }
  m->p = realloc(m->p, (m->n + 1) * sizeof *m->p);
  m->p[m->n++] = (pair){ep_term_dup(key), ep_term_dup(value)};
}

/* Map.get(map, key): the value, or NULL for nil. */
static ep_term map_get(const map *m, ep_term key) {
  for (size_t i = 0; i < m->n; i++)
    if (ep_exact_equal(m->p[i].key, key)) return m->p[i].value;
  return NULL;
}

static void map_free(map *m) {
  for (size_t i = 0; i < m->n; i++) {
    ep_term_free(m->p[i].key);
    ep_term_free(m->p[i].value);
  }
  free(m->p);
}

/* defp loop(map): receive {:put, ...} -> ...; {:get, ...} -> ... end */
static void loop(ep_term arg) {
  (void)arg;
  EP_PATTERN(p_put, "{put, Key, Value, Sender::pid}");
  EP_PATTERN(p_get, "{get, Key, Sender::pid}");
  EP_PATTERN(p_stop, "stop");
  map map = {0};
  ep_smallterm s;
  for (;;) {
    ep_term key, value;
    ep_pid sender;
    switch (ep_receive(EP_INFINITY, p_put, p_get, p_stop)) {
    case 0:
      ep_bind(&key, &value, &sender);
      map_put(&map, key, value);
      ep_send(sender, ep_atom_term(&s, EP_A_ok));
      break;
    case 1:
      ep_bind(&key, &sender);
      value = map_get(&map, key);
      ep_send(sender, value ? value : ep_atom_term(&s, EP_A_nil));
      break;
    default:
      map_free(&map);
      return;
    }
  }
}

/* def start_link, do: spawn_link(fn -> loop(%{}) end) */
static ep_pid kv_start_link(void) { return ep_spawn_link(loop, NULL); }

static void shell(ep_term arg) {
  (void)arg;
  ep_pid me = ep_self();
  iex("pid = KV.start_link");
  ep_pid pid = kv_start_link();
  show_pid(pid);
  iex("send pid, {:get, :a, self}");
  send_show(pid, "{get, a, ~p}", me);
  iex("flush");
  flush_n(1);
  iex("send pid, {:put, :a, 42, self}");
  send_show(pid, "{put, a, 42, ~p}", me);
  iex("send pid, {:get, :a, self}");
  send_show(pid, "{get, a, ~p}", me);
  iex("flush");
  flush_n(2);

  iex("Process.register(pid, :kv)");
  show_bool(ep_register(ep_atom_of("kv"), pid) == 0);
  ep_atom kv = ep_atom_of("kv");
  iex("send :kv, {:put, :a, 42, self}");
  ep_send_name_fmt(kv, "{put, a, 42, ~p}", me);
  iex("flush");
  flush_n(1);
  iex("send :kv, {:get, :a, self}");
  ep_send_name_fmt(kv, "{get, a, ~p}", me);
  iex("flush");
  flush_n(1);
  iex("send :kv, {:put, :hello, \"world\", self}");
  ep_send_name_fmt(kv, "{put, hello, <<\"world\">>, ~p}", me);
  ep_send_name_fmt(kv, "{get, hello, ~p}", me);
  iex("flush");
  flush_n(2);

  ep_smallterm s;
  ep_send_name(kv, ep_atom_term(&s, ep_atom_of("stop")));
  await_end(pid);
  iex("send :kv, {:get, :a, self}   # after the store has stopped");
  if (ep_send_name_fmt(kv, "{get, a, ~p}", me) == EP_EBADARG)
    puts("** (ArgumentError) argument error: no process registered as :kv");
}

int main(void) { return ep_run(NULL, shell, NULL); }
