/* SPDX-License-Identifier: Apache-2.0 */
/*
 * selective_receive.c - the selective_receive workload (peers' README,
 * workload 8): K calls to an echo server made by a process with J
 * unrelated messages queued. A call is done as gen_server:call does it,
 * with raw processes: a fresh monitor reference (the receive marker set
 * just before it), {'$gen_call', {From, Ref}, {echo, I}}, then a receive
 * for {Ref, Reply} or the DOWN, then demonitor with flush. empty_ms: the
 * same calls with an empty mailbox; scan_ms: K replies matched by a tag,
 * not a fresh ref, so each receive has to look past the J messages.
 */
#include "bench_rt.h"

static long j_arg, k_arg;
static long long result;
static long junk_left;
static uint64_t wall, empty, scan;

/* handle_call({echo, X}, _From, S) -> {reply, X, S} */
static void echo_server(ep_term unused) {
  (void)unused;
  EP_PATTERN(p_call, "{'$gen_call', {From::pid, Ref::ref}, {echo, X::int}}");
  for (;;) {
    ep_pid from;
    ep_ref ref;
    int64_t x;
    ep_receive(EP_INFINITY, p_call);
    ep_bind(&from, &ref, &x);
    ep_send_fmt(from, "{~r, ~L}", &ref, (long long)x);
  }
}

static void raw_echo(ep_term unused) {
  (void)unused;
  EP_PATTERN(p_echo, "{echo, From::pid, X::int}");
  for (;;) {
    ep_pid from;
    int64_t x;
    ep_receive(EP_INFINITY, p_echo);
    ep_bind(&from, &x);
    ep_send_fmt(from, "{reply, ~L}", (long long)x);
  }
}

/* gen_server:call(Server, {echo, I}) */
static int64_t call(ep_pid server, long i) {
  EP_PATTERN(p_reply, "{^Ref, R::int}");
  EP_PATTERN(p_down, "{'DOWN', ^Ref, process, _, Reason}");
  ep_recv_mark();
  ep_ref ref = ep_monitor(server);
  ep_send_fmt(server, "{'$gen_call', {~p, ~r}, {echo, ~l}}", ep_self(), &ref, i);
  ep_smallterm s;
  ep_term pin = ep_ref_term(&s, &ref);
  ep_clause c[2] = {{p_reply, &pin}, {p_down, &pin}};
  if (ep_receive_clauses(c, 2, EP_INFINITY) != 0) ep_exit(ep_var(0));
  int64_t r;
  ep_bind(&r);
  ep_demonitor(&ref, EP_DEMONITOR_FLUSH);
  return r;
}

static long long calls(ep_pid server) {
  long long sum = 0;
  for (long i = 1; i <= k_arg; i++) sum += call(server, i);
  return sum;
}

static void tagged(ep_pid raw) {
  EP_PATTERN(p_reply, "{reply, X::int}");
  for (long i = 1; i <= k_arg; i++) {
    ep_send_fmt(raw, "{echo, ~p, ~l}", ep_self(), i);
    ep_receive(EP_INFINITY, p_reply);
  }
}

static void root(ep_term unused) {
  (void)unused;
  ep_pid server = ep_spawn_link(echo_server, NULL);
  ep_pid raw = ep_spawn_link(raw_echo, NULL);
  uint64_t t0 = bench_now_ns();
  calls(server);
  uint64_t t1 = bench_now_ns();
  for (long i = 1; i <= j_arg; i++) ep_send_fmt(ep_self(), "{junk, ~l}", i);
  uint64_t t2 = bench_now_ns();
  result = calls(server);
  uint64_t t3 = bench_now_ns();
  tagged(raw);
  uint64_t t4 = bench_now_ns();
  junk_left = ep_message_queue_len();
  empty = t1 - t0;
  wall = t3 - t2;
  scan = t4 - t3;
  ep_unlink(server);
  ep_unlink(raw);
}

int main(int argc, char **argv) {
  j_arg = bench_arg(argc, argv, 1, 10000);
  k_arg = bench_arg(argc, argv, 2, 10000);
  bench_run(root, 0);
  bench_line l;
  bench_begin(&l, "selective_receive");
  bench_int(&l, "j", j_arg);
  bench_int(&l, "k", k_arg);
  bench_float(&l, "wall_ms", bench_ms(wall));
  bench_float(&l, "ns_per_call", bench_per(wall, (uint64_t)k_arg));
  bench_float(&l, "empty_ms", bench_ms(empty));
  bench_float(&l, "scan_ms", bench_ms(scan));
  bench_int(&l, "junk_left", junk_left);
  bench_int(&l, "result", result);
  bench_end(&l, bench_threads());
  return 0;
}
