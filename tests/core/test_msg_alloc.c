/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_msg_alloc.c - message blocks (src/core/msg_alloc.c): a burst of
 * messages of both small classes is delivered whole and in order, its slab
 * memory goes back once it has been received, and blocks made and freed
 * off the workers (a foreign thread's sends) work the same. Under
 * AddressSanitizer every block is malloc'd and no slab is mapped.
 */
#include <pthread.h>

#include "core/core.h"
#include "core/core_test.h"

#define BURST 200000   /* unscaled: it must outgrow what the depots keep */
#define SLAB_BYTES ((size_t)1 << 20)

static const char pad[60] = "a payload that puts this message in the 128-byte class...";

/* {I} for even I, {I, <<pad>>} for odd: the 64- and 128-byte classes. */
static ep_term burst_msg(ep_build *b, long i) {
  ep_b_reset(b);
  ep_b_tuple(b);
  ep_b_int(b, i);
  if (i & 1) ep_b_binary(b, pad, sizeof pad);
  ep_b_end(b);
  return ep_b_peek(b);
}

static void burst_body(void) {
  ep_build b;
  ep_b_init(&b);
  ck_assert_uint_le(EP__MSG_HDR + ep_term_size(burst_msg(&b, 0)), 64);
  size_t odd = EP__MSG_HDR + ep_term_size(burst_msg(&b, 1));
  ck_assert(odd > 64 && odd <= 128);
  size_t base = ep__msg_slab_bytes();
  for (long i = 0; i < BURST; i++) ck_assert_int_eq(ep_send(ep_self(), burst_msg(&b, i)), 0);
  ep_b_free(&b);
  size_t peak = ep__msg_slab_bytes();
#if defined(EP_ASAN)
  ck_assert_uint_eq(base, 0);
  ck_assert_uint_eq(peak, 0);
#else
  /* every queued message has its block in a slab */
  ck_assert_uint_ge(peak - base, (size_t)BURST / 2 * 64 + (size_t)BURST / 2 * 128);
#endif
  EP_PATTERN(p_even, "{I::int}");
  EP_PATTERN(p_odd, "{I::int, _::bin}");
  for (long i = 0; i < BURST; i++) {
    ck_assert_int_eq(ep_receive(0, (i & 1) ? p_odd : p_even), 0);
    int64_t v;
    ep_bind(&v);
    ck_assert_int_eq(v, i);
  }
  ck_assert_int_eq(ep_receive(0, p_even), EP_ETIMEOUT);   /* releases the last one */
  /* what stays mapped is what the depots and the magazines keep: a few
   * slabs, not the burst's */
  size_t after = ep__msg_slab_bytes();
#if defined(EP_ASAN)
  ck_assert_uint_eq(after, 0);
#else
  ck_assert_uint_le(after, 8 * SLAB_BYTES);
  ck_assert_uint_lt(after, peak);
#endif
}

/* Test that a burst of small messages of both classes arrives whole and in order, and that its slab memory is returned once it has been received. */
TEST(msg_alloc, burst_delivered_in_order_and_memory_returned) {
  run_in_process(burst_body);
}

static ep_pid sink;

static void *foreign_sender(void *arg) {
  (void)arg;
  ep_build b;
  ep_b_init(&b);
  for (long i = 0; i < BURST / 4 / EP_TEST_SCALE; i++) ck_assert_int_eq(ep_send(sink, burst_msg(&b, i)), 0);
  ep_b_free(&b);
  return NULL;
}

static void foreign_body(void) {
  sink = ep_self();
  pthread_t th;
  ck_assert_int_eq(pthread_create(&th, NULL, foreign_sender, NULL), 0);
  EP_PATTERN(p_even, "{I::int}");
  EP_PATTERN(p_odd, "{I::int, _::bin}");
  for (long i = 0; i < BURST / 4 / EP_TEST_SCALE; i++) {
    ck_assert_int_eq(ep_receive(EP_INFINITY, p_even, p_odd), (int)(i & 1));
    int64_t v;
    ep_bind(&v);
    ck_assert_int_eq(v, i);
  }
  pthread_join(th, NULL);
}

/* Test that messages sent from a thread outside the runtime (blocks taken from the slabs with no worker's magazine) arrive whole and in order. */
TEST(msg_alloc, foreign_thread_sends_both_classes) {
  run_in_process(foreign_body);
}

static void *foreign_freer(void *arg) {
  ep__msg_free(arg);   /* no worker: straight back to the slabs */
  return NULL;
}

static void free_off_worker_body(void) {
  ep_smallterm s;
  ep__msg *m[2] = {ep__msg_copy(ep_int_term(&s, 7)), ep__msg_new(100)};
  for (int i = 0; i < 2; i++) {
    ck_assert_ptr_nonnull(m[i]);
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, foreign_freer, m[i]), 0);
    pthread_join(th, NULL);
  }
  ep__msg *again = ep__msg_new(8);   /* the allocator still serves */
  ck_assert_ptr_nonnull(again);
  ep__msg_free(again);
}

/* Test that a block made on a worker and freed by a thread of no worker goes back cleanly (no magazine there) and the allocator keeps serving. */
TEST(msg_alloc, block_freed_off_the_workers) {
  run_in_process(free_off_worker_body);
}
