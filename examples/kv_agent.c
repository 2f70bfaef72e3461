/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kv_agent.c - seed 002's key-value store on an Agent: Map.put and
 * Map.get as C functions run inside the agent, then the same store
 * registered under a name (the :name option). Prints an iex session.
 */
#include <stdio.h>
#include <stdlib.h>

#include "eproc.h"

static void show(const char *prompt, ep_term t) {
  char *s = ep_print_alloc(t, EP_PRINT_ELIXIR);
  printf("%s\n%s\n", prompt, s);
  free(s);
}

static void empty_map(ep_term arg, ep_build *out) {
  (void)arg;
  ep_b_map(out);
  ep_b_end(out);
}

/* Map.put(map, K, V) with arg = {K, V}. */
static void map_put(ep_term map, ep_term kv, ep_build *out) {
  ep_term k = ep_tuple_elem(kv, 0);
  ep_b_map(out);
  for (size_t i = 0; i < ep_map_size(map); i++) {
    ep_term key, val;
    ep_map_pair(map, i, &key, &val);
    if (!ep_exact_equal(key, k)) {
      ep_b_term(out, key);
      ep_b_term(out, val);
    }
  }
  ep_b_term(out, k);
  ep_b_term(out, ep_tuple_elem(kv, 1));
  ep_b_end(out);
}

/* Map.get(map, K): nil when absent. */
static void map_get(ep_term map, ep_term k, ep_build *out) {
  ep_term v = ep_map_get(map, k);
  if (v)
    ep_b_term(out, v);
  else
    ep_b_atom(out, EP_A_nil);
}

static void root(ep_term arg) {
  (void)arg;
  ep_pid pid;
  ep_term t, hello, kv;
  ep_agent_start_link(empty_map, NULL, 0, &pid, NULL);
  ep_pid pid_first = pid;
  ep_format(&t, "{ok, ~p}", pid);
  show("iex(5)> {:ok, pid} = Agent.start_link(fn -> %{} end)", t);
  ep_term_free(t);
  ep_format(&kv, "{hello, world}");
  ep_agent_update(ep_srv(pid), map_put, kv, 5000);
  ep_format(&t, "ok");
  show("iex(6)> Agent.update(pid, fn map -> Map.put(map, :hello, :world) end)", t);
  ep_term_free(t);
  ep_format(&hello, "hello");
  show("iex(7)> Agent.get(pid, fn map -> Map.get(map, :hello) end)",
       ep_agent_get(ep_srv(pid), map_get, hello, 5000));

  ep_atom name = ep_atom_of("kv");
  ep_agent_start_link(empty_map, NULL, name, &pid, NULL);
  ep_format(&t, "{ok, ~p}", pid);
  show("iex(8)> Agent.start_link(fn -> %{} end, name: :kv)", t);
  ep_term_free(t);
  show("iex(9)> Agent.get(:kv, fn map -> Map.get(map, :hello) end)",
       ep_agent_get(ep_srv_name(name), map_get, hello, 5000));
  ep_agent_update(ep_srv_name(name), map_put, kv, 5000);
  show("iex(10)> Agent.update(:kv, ...); Agent.get(:kv, fn map -> Map.get(map, :hello) end)",
       ep_agent_get(ep_srv_name(name), map_get, hello, 5000));
  ep_term_free(kv);
  ep_term_free(hello);
  ep_agent_stop(ep_srv_name(name), NULL, EP_INFINITY);
  ep_agent_stop(ep_srv(pid_first), NULL, EP_INFINITY);
  fflush(stdout);
}

int main(void) {
  ep_smallterm s;
  return ep_run(NULL, root, ep_atom_term(&s, EP_A_ok)) == 0 ? 0 : 1;
}
