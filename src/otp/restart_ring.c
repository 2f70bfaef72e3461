/* SPDX-License-Identifier: Apache-2.0 */
/*
 * restart_ring.c - the restart record of a supervisor (R61), as runs of
 * restarts per second in a fixed ring: the cost of a restart does not
 * depend on how many came before it (OTP walks a list here). Owns the
 * ring's memory; the supervisor decides what to do when it is full.
 */
#include <stdlib.h>

#include "restart_ring.h"

void ep__restart_init(ep__restart_ring *r, int intensity, int period) {
  size_t m = (size_t)(intensity < period ? intensity : period);
  *r = (ep__restart_ring){.cap = m + 1, .intensity = intensity, .period = period};
  r->runs = calloc(r->cap, sizeof *r->runs);
  if (!r->runs)
    abort();
}

void ep__restart_free(ep__restart_ring *r) {
  free(r->runs);
  r->runs = NULL;
}

bool ep__restart_add(ep__restart_ring *r, int64_t now) {
  int64_t threshold = now - r->period;
  while (r->len && r->runs[r->head].sec < threshold) {
    r->total -= r->runs[r->head].count;
    r->head = (r->head + 1) % r->cap;
    r->len--;
  }
  size_t last = (r->head + r->len + r->cap - 1) % r->cap;
  if (r->len && r->runs[last].sec == now) {
    r->runs[last].count++;
  } else {
    /* Cannot overflow: len <= min(total, distinct seconds) <= min(I, P). */
    r->runs[(r->head + r->len) % r->cap] = (ep__restart_run){now, 1};
    r->len++;
  }
  r->total++;
  return r->total <= (uint64_t)r->intensity;
}
