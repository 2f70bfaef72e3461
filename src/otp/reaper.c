/* SPDX-License-Identifier: Apache-2.0 */
/*
 * reaper.c - reclaims the C state of gen_servers that died without running
 * terminate (killed, or stopped by a signal while not trapping exits): a
 * process killed runs no more code, and C has no garbage collector. One
 * registered process, started on first use, monitors every server that
 * asked for it and calls the server's release function on its DOWN, unless
 * the server said it cleans up itself first. Owns the table of watched
 * servers (a static, so state held for servers still alive at the end of
 * the runtime stays reachable rather than leaked).
 */
#include <stdlib.h>

#include "otp_int.h"

struct watched {
  ep_pid pid;                  /* EP_PID_NONE: free slot */
  void *state;
  void (*release)(void *state);
  ep_ref mref;
};

static struct watched *table;  /* open addressing by pid; only the reaper touches it */
static size_t count, cap;

static size_t slot_of(ep_pid p) {
  uint64_t h = ((uint64_t)p.id << 32 | p.serial) * 0x9e3779b97f4a7c15ull;
  return (size_t)(h >> 20) & (cap - 1);
}

static struct watched *find(ep_pid p) {
  if (!cap)
    return NULL;
  for (size_t i = slot_of(p);; i = (i + 1) & (cap - 1)) {
    if (ep_pid_eq(table[i].pid, p))
      return &table[i];
    if (ep_pid_eq(table[i].pid, EP_PID_NONE))
      return NULL;
  }
}

static void put(struct watched w);

static void grow(void) {
  struct watched *old = table;
  size_t ocap = cap;
  cap = cap ? cap * 2 : 64;
  table = calloc(cap, sizeof *table);
  if (!table)
    abort();
  count = 0;
  for (size_t i = 0; i < ocap; i++)
    if (!ep_pid_eq(old[i].pid, EP_PID_NONE))
      put(old[i]);
  free(old);
}

static void put(struct watched w) {
  if ((count + 1) * 4 > cap * 3)
    grow();
  size_t i = slot_of(w.pid);
  while (!ep_pid_eq(table[i].pid, EP_PID_NONE))
    i = (i + 1) & (cap - 1);
  table[i] = w;
  count++;
}

/* Backward-shift deletion keeps probe runs whole without tombstones. */
static void del(struct watched *w) {
  size_t mask = cap - 1, i = (size_t)(w - table);
  for (size_t j = (i + 1) & mask; !ep_pid_eq(table[j].pid, EP_PID_NONE); j = (j + 1) & mask) {
    size_t home = slot_of(table[j].pid);
    if (((j - home) & mask) >= ((j - i) & mask)) {
      table[i] = table[j];
      i = j;
    }
  }
  table[i] = (struct watched){.pid = EP_PID_NONE};
  count--;
}

static void reaper_main(ep_term arg) {
  EP_PATTERN(p_watch, "{'$reap_watch', P::pid, S::int, F::int}");
  EP_PATTERN(p_forget, "{'$reap_forget', P::pid}");
  EP_PATTERN(p_down, "{'DOWN', _, process, P::pid, _}");
  (void)arg;
  for (;;) {
    int k = ep_receive(EP_INFINITY, p_watch, p_forget, p_down);
    ep_pid p;
    int64_t s, f;
    if (k == 0) {
      ep_bind(&p, &s, &f);
      struct watched w = {p, (void *)(intptr_t)s, (void (*)(void *))(intptr_t)f, ep_monitor(p)};
      put(w);
      continue;
    }
    ep_bind(&p);
    struct watched *w = find(p);
    if (!w)
      continue;
    if (k == 1)
      ep__demonitor_flush(&w->mref);
    else
      w->release(w->state);     /* the server is dead: nothing else can touch it */
    del(w);
  }
}

static ep_pid reaper(void) {
  ep_atom name = ep_atom_of("$otp_reaper");
  ep_pid p = ep_whereis(name);
  if (!ep_pid_eq(p, EP_PID_NONE))
    return p;
  ep_spawn_opts o = {.name = "$otp_reaper"};
  ep_smallterm s;
  if (ep_spawn_opt(&p, reaper_main, ep_atom_term(&s, EP_A_ok), &o, NULL) != 0)
    p = ep_whereis(name);             /* another process started it first */
  return p;
}

void ep__reap_watch(void *state, void (*release)(void *state)) {
  ep_send_fmt(reaper(), "{'$reap_watch', ~p, ~L, ~L}", ep_self(), (long long)(intptr_t)state,
              (long long)(intptr_t)release);
}

void ep__reap_forget(void) {
  ep_send_fmt(ep_whereis(ep_atom_of("$otp_reaper")), "{'$reap_forget', ~p}", ep_self());
}
