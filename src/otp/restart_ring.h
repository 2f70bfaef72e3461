/* SPDX-License-Identifier: Apache-2.0 */
/*
 * restart_ring.h - a supervisor's restart record for R61 in constant time.
 *
 * Invariants: entries are (second, count) runs in time order, oldest at
 * `head`; every entry is within the last `period` seconds after an add;
 * `total` is the sum of the counts and never exceeds intensity + 1. As
 * each entry holds at least one restart and a distinct second, at most
 * min(intensity, period) + 1 entries are ever live: that is the capacity.
 */
#ifndef EP_OTP_RESTART_RING_H
#define EP_OTP_RESTART_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ep__restart_run {
  int64_t sec;                   /* monotonic whole seconds */
  uint32_t count;                /* restarts recorded in that second */
} ep__restart_run;

typedef struct ep__restart_ring {
  ep__restart_run *runs;         /* owned, cap entries */
  size_t cap, head, len;
  uint64_t total;                /* restarts in the window */
  int intensity, period;
} ep__restart_ring;

void ep__restart_init(ep__restart_ring *r, int intensity, int period);
void ep__restart_free(ep__restart_ring *r);
/* add_restart at `now`: forgets restarts older than now - period, records
 * this one, and returns false when more than `intensity` remain (the
 * supervisor must then shut down). O(1) amortised, no allocation. */
bool ep__restart_add(ep__restart_ring *r, int64_t now);

#endif
