/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_ppool.c - the ppool application (R74-R79) with the chapter's nagger,
 * each step of the chapter's shell session, and the additions (queue
 * limit, counters, clean stop).
 */
#include "otp_test.h"

static ep_atom A(const char *s) { return ep_atom_of(s); }

static ep_pid start_nagger_pool(long limit, long queue_limit) {
  ep_pid sup, pool;
  ck_assert_int_eq(ep_ppool_start_link(&sup), 0);
  ep_ppool_opts o = {limit, queue_limit};
  ck_assert_int_eq(ep_ppool_start_pool_opts(A("nagger"), &o, ep_ppool_nagger_start_link, NULL,
                                            &pool), 0);
  return pool;
}

/* [Task, Delay, Max, self()] */
static ep_term job(const char *task, long delay, long max) {
  return T("[~s, ~l, ~l, ~p]", task, delay, max, ep_self());
}

static ep_ppool_stats stats(void) {
  ep_ppool_stats s;
  ck_assert_int_eq(ep_ppool_stats_of(A("nagger"), &s), 0);
  return s;
}

/* Test the tree: ppool registered, a ppool_sup per pool holding the server
 * and the worker supervisor the server attached after its init (R74). */
OTP_TEST(ppool, R74_tree) {
  ep_pid pool = start_nagger_pool(2, 0);
  ck_assert(!ep_pid_eq(ep_whereis(A("ppool")), EP_PID_NONE));
  ep_pid serv = ep_whereis(A("nagger"));
  ck_assert(!ep_pid_eq(serv, EP_PID_NONE));
  ep_term w = ep_supervisor_which_children(ep_srv_name(A("ppool")));
  ck_assert_term(w, "[{nagger, ~p, supervisor, []}]", pool);
  ep_term_free(w);
  stats();                          /* the server has handled its own first message */
  w = ep_supervisor_which_children(ep_srv(pool));
  ck_assert_int_eq(ep_list_length(w), 2);
  ck_assert(ot_is(ep_tuple_elem(ep_list_head(w), 0), "worker_sup"));
  ck_assert(ot_is(ep_tuple_elem(ep_list_head(ep_list_tail(w)), 1), "~p", serv));
  ep_term_free(w);
  ck_assert_int_eq(ep_ppool_stop(), 0);
}

/* Test run: workers start while there is room, then noalloc (R75). The
 * first worker nags every 10 ms but far too many times to be done before
 * the third run, however slowly the test runs (Valgrind). */
OTP_TEST(ppool, R75_run_until_noalloc) {
  start_nagger_pool(2, 0);
  ep_pid w1, w2, w3 = EP_PID_NONE;
  ck_assert_int_eq(ep_ppool_run(A("nagger"), job("finish the chapter!", 10, 1000000), &w1), 0);
  ck_assert_int_eq(ep_ppool_run(A("nagger"), job("Watch a good movie", 100000, 10), &w2), 0);
  ck_assert_int_eq(ep_ppool_run(A("nagger"), job("clean up a bit", 10, 1), &w3), EP_EBUSY);
  ck_assert(ep_pid_eq(w3, EP_PID_NONE));
  ep_term m = ot_expect("{_, \"finish the chapter!\"}");
  ck_assert(ot_is(ep_tuple_elem(m, 0), "~p", w1));
  ck_assert_int_eq(ep_ppool_stop(), 0);
}

static void sync_client(ep_term a) {
  ep_pid parent;
  ep_get_pid(ep_list_head(ep_list_tail(ep_list_tail(ep_list_tail(a)))), &parent);
  ep_pid w;
  int rc = ep_ppool_sync_queue(ep_atom_of("nagger"), a, &w);
  ep_send_fmt(parent, "{synced, ~i, ~p}", rc, w);
}

/* Test sync_queue: at once when there is room, else blocked until a worker
 * ends, then the pid of a worker started for it (R76). */
OTP_TEST(ppool, R76_sync_queue_blocks_until_slot) {
  start_nagger_pool(1, 0);
  ep_pid w1;
  ck_assert_int_eq(ep_ppool_sync_queue(A("nagger"), job("Pet a dog", 100000, 1), &w1), 0);
  ep_spawn(sync_client, job("Chase a tornado", 10, 1));
  while (stats().queued == 0)
    ep_yield();                                   /* the client's call is queued */
  ck_assert(ot_none("{synced, _, _}"));
  ep_ppool_nagger_stop(w1);
  ep_term m = ot_expect("{synced, 0, _}");
  ep_term nag = ot_expect("{_, \"Chase a tornado\"}");
  ck_assert(ep_exact_equal(ep_tuple_elem(m, 2), ep_tuple_elem(nag, 0)));
  ck_assert_int_eq(ep_ppool_stop(), 0);
}

/* Test async_queue: always ok; queued jobs start in FIFO order when workers
 * end (R77, R78). The first job nags until it is stopped, so the other two
 * are still queued when the counters are read, however slow the run. */
OTP_TEST(ppool, R77_async_queue_fifo) {
  start_nagger_pool(1, 0);
  ck_assert_int_eq(ep_ppool_async_queue(A("nagger"), job("Pay the bills", 10, 1000000)), 0);
  ck_assert_int_eq(ep_ppool_async_queue(A("nagger"), job("Take a shower", 10, 1)), 0);
  ck_assert_int_eq(ep_ppool_async_queue(A("nagger"), job("Plant a tree", 10, 1)), 0);
  ep_ppool_stats s = stats();
  ck_assert_int_eq(s.running, 1);
  ck_assert_int_eq(s.queued, 2);
  ep_term first = ot_expect("{_, \"Pay the bills\"}");
  ep_pid w;
  ck_assert_int_eq(ep_get_pid(ep_tuple_elem(first, 0), &w), 0);
  ep_ppool_nagger_stop(w);
  ot_expect("{_, \"Take a shower\"}");
  ot_expect("{_, \"Plant a tree\"}");
  ck_assert_int_eq(ep_ppool_stop(), 0);
}

static void queue_numbered(long from, long to) {
  for (long i = from; i < to; i++) {
    ck_assert_int_eq(ep_ppool_async_queue(A("nagger"), T("[~l, 0, 1, ~p]", i, ep_self())), 0);
  }
}

static void expect_numbered(long from, long to) {
  EP_PATTERN(p_nag, "{_, N::int}");
  for (long i = from; i < to; i++) {
    ck_assert_int_eq(ep_receive(5000, p_nag), 0);
    int64_t n = -1;
    ep_bind(&n);
    ck_assert_int_eq(n, i);
  }
}

/* Test that the queue keeps FIFO order while it wraps around its ring
 * and grows with the wrapped part in it (R77): 12 jobs, 6 done, 40 more. */
OTP_TEST(ppool, R77_queue_order_across_wrap_and_growth) {
  start_nagger_pool(1, 0);
  queue_numbered(0, 12);
  expect_numbered(0, 6);
  queue_numbered(12, 52);
  ck_assert_int_le(stats().queued, 46);
  expect_numbered(6, 52);
  ck_assert(ot_none("{_, _}"));
  ck_assert_int_eq(ep_ppool_stop(), 0);
}

/* Test that a worker killed or crashing frees its slot for the next queued
 * job, and the pool server survives (R78). */
OTP_TEST(ppool, R78_crashing_worker_frees_slot) {
  start_nagger_pool(1, 0);
  ep_pid serv = ep_whereis(A("nagger")), w;
  ep_ppool_run(A("nagger"), job("doomed", 100000, 1), &w);
  ep_ppool_async_queue(A("nagger"), job("next", 10, 1));
  ep_exit_signal_atom(w, EP_A_kill);
  ot_expect("{_, \"next\"}");
  ck_assert(ep_pid_eq(ep_whereis(A("nagger")), serv));
  while (stats().running != 0)
    ep_yield();
  ck_assert_int_eq(ep_ppool_stop(), 0);
}

/* Test stop_pool: ok, the server exits shutdown, the name is free (R79). */
OTP_TEST(ppool, R79_stop_pool) {
  start_nagger_pool(2, 0);
  stats();                          /* the server has attached its worker supervisor */
  ep_pid serv = ep_whereis(A("nagger"));
  ep_ref m = ep_monitor(serv);
  (void)m;
  ck_assert_int_eq(ep_ppool_stop_pool(A("nagger")), 0);
  ot_expect("{'DOWN', _, process, _, shutdown}");
  ck_assert(ep_pid_eq(ep_whereis(A("nagger")), EP_PID_NONE));
  ck_assert_int_eq(ep_ppool_stop_pool(A("nagger")), EP_ENOTFOUND);
  ck_assert_int_eq(ep_ppool_stop(), 0);
}

/* Test stop_pool at once after start_pool, again and again: the server,
 * maybe still attaching its worker supervisor (a call to the supervisor
 * that is stopping it), exits shutdown, not killed after its shutdown
 * time (R79). */
OTP_TEST(ppool, R79_stop_pool_while_starting) {
  ep_pid sup, pool;
  ck_assert_int_eq(ep_ppool_start_link(&sup), 0);
  for (int i = 0; i < 10; i++) {
    ep_ppool_opts o = {2, 0};
    ck_assert_int_eq(ep_ppool_start_pool_opts(A("nagger"), &o, ep_ppool_nagger_start_link, NULL,
                                              &pool), 0);
    ep_pid serv = ep_whereis(A("nagger"));
    ep_ref m = ep_monitor(serv);
    (void)m;
    ck_assert_int_eq(ep_ppool_stop_pool(A("nagger")), 0);
    ot_expect("{'DOWN', _, process, _, shutdown}");
  }
  ck_assert_int_eq(ep_ppool_stop(), 0);
}

static void linked_starter(ep_term parent) {
  ep_pid p;
  ep_get_pid(parent, &p);
  ep_pid sup;
  ep_ppool_start_link(&sup);
  ep_send_fmt(p, "started");
  ep_receive_any(&parent, EP_INFINITY);
}

/* Test ppool's kill stop: the supersup dies killed and so does a
 * non-trapping process that start_linked it (R79). */
OTP_TEST(ppool, R79_kill_takes_starter_down) {
  ep_smallterm s;
  ep_pid starter = ep_spawn(linked_starter, ep_pid_term(&s, ep_self()));
  ot_expect("started");
  ep_pid sup = ep_whereis(A("ppool"));
  ep_ref m1 = ep_monitor(sup), m2 = ep_monitor(starter);
  ck_assert_int_eq(ep_ppool_kill(), 0);
  ep_smallterm s1, s2;
  ep_term pins[2] = {ep_ref_term(&s1, &m1), ep_ref_term(&s2, &m2)};
  EP_PATTERN(p_down, "{'DOWN', ^R, process, _, killed}");
  const ep_clause c1 = {p_down, &pins[0]}, c2 = {p_down, &pins[1]};
  ck_assert_int_eq(ep_receive_clauses(&c1, 1, 5000), 0);      /* the supersup */
  ck_assert_int_eq(ep_receive_clauses(&c2, 1, 5000), 0);      /* its starter */
}

/* Test the queue limit: sync_queue is refused with EP_EBUSY, async jobs
 * beyond it are dropped and counted. */
OTP_TEST(ppool, queue_limit_rejects_clearly) {
  start_nagger_pool(1, 1);
  ep_pid w;
  ep_ppool_run(A("nagger"), job("busy", 100000, 1), &w);
  ep_ppool_async_queue(A("nagger"), job("queued", 10, 1));
  ep_ppool_async_queue(A("nagger"), job("dropped", 10, 1));
  ck_assert_int_eq(ep_ppool_sync_queue(A("nagger"), job("refused", 10, 1), &w), EP_EBUSY);
  ep_ppool_stats s = stats();
  ck_assert_int_eq(s.limit, 1);
  ck_assert_int_eq(s.running, 1);
  ck_assert_int_eq(s.queued, 1);
  ck_assert_int_eq(s.queue_limit, 1);
  ck_assert_int_eq(s.rejected, 2);
  ck_assert_int_eq(ep_ppool_stop(), 0);
}

/* Test that a clean stop takes the whole tree down without killing the
 * linked caller, pools and workers included. */
OTP_TEST(ppool, clean_stop) {
  start_nagger_pool(2, 0);
  ep_pid w, serv = ep_whereis(A("nagger"));
  ep_ppool_run(A("nagger"), job("running", 100000, 1), &w);
  ep_ref m1 = ep_monitor(w), m2 = ep_monitor(serv);
  (void)m1;
  (void)m2;
  ck_assert_int_eq(ep_ppool_stop(), 0);
  ot_expect("{'DOWN', _, process, _, shutdown}");
  ot_expect("{'DOWN', _, process, _, shutdown}");
  ck_assert(ep_pid_eq(ep_whereis(A("ppool")), EP_PID_NONE));
  ck_assert(ep_pid_eq(ep_whereis(A("nagger")), EP_PID_NONE));
}
