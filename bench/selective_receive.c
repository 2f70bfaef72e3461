/* SPDX-License-Identifier: Apache-2.0 */
/*
 * selective_receive.c - the selective_receive workload (peers' README,
 * workload 8): K gen_server-style calls (monitor, request, reply tagged
 * with the fresh monitor reference, demonitor with flush) made by a
 * process with J unrelated messages queued; the receive marker makes each
 * call skip them. empty_ms: the same calls with an empty mailbox; scan_ms:
 * replies matched by tag, not reference, so each receive scans all J.
 */
#include "bench_rt.h"

static long j_arg, k_arg;
static uint64_t empty_ns, wall_ns, scan_ns;
static long long sum;
static long junk_left;

/* {call, From, Ref, X} -> From ! {Ref, X} */
static void server(ep_term unused) {
  (void)unused;
  ep_build b;
  ep_b_init(&b);
  for (;;) {
    ep_term m;
    ep_receive_any(&m, EP_INFINITY);
    if (ep_tuple_arity(m) != 4) break;
    ep_pid from;
    ep_ref ref;
    ep_get_pid(ep_tuple_elem(m, 1), &from);
    ep_get_ref(ep_tuple_elem(m, 2), &ref);
    ep_b_reset(&b);
    ep_b_tuple(&b);
    ep_b_ref(&b, &ref);
    ep_b_term(&b, ep_tuple_elem(m, 3));
    ep_b_end(&b);
    ep_send(from, ep_b_peek(&b));
  }
  ep_b_free(&b);
}

static void raw_echo(ep_term unused) {
  (void)unused;
  ep_build b;
  ep_b_init(&b);
  for (;;) {
    ep_term m;
    ep_receive_any(&m, EP_INFINITY);
    if (ep_tuple_arity(m) != 3) break;
    ep_pid from;
    ep_get_pid(ep_tuple_elem(m, 1), &from);
    ep_b_reset(&b);
    ep_b_tuple(&b);
    ep_b_atom_name(&b, "reply");
    ep_b_term(&b, ep_tuple_elem(m, 2));
    ep_b_end(&b);
    ep_send(from, ep_b_peek(&b));
  }
  ep_b_free(&b);
}

/* gen_server:call: mark, monitor, send, receive {Ref, R} or DOWN, demonitor flush. */
static int64_t call(ep_pid server_pid, ep_build *b, int64_t x) {
  EP_PATTERN(p_reply, "{^Ref, R::int}");
  EP_PATTERN(p_down, "{'DOWN', ^Ref, process, _, Reason}");
  ep_recv_mark();
  ep_ref ref = ep_monitor(server_pid);
  ep_b_reset(b);
  ep_b_tuple(b);
  ep_b_atom(b, EP_A_call);
  ep_b_pid(b, ep_self());
  ep_b_ref(b, &ref);
  ep_b_int(b, x);
  ep_b_end(b);
  ep_send(server_pid, ep_b_peek(b));
  ep_smallterm s;
  ep_term pin = ep_ref_term(&s, &ref);
  ep_clause c[2] = {{p_reply, &pin}, {p_down, &pin}};
  if (ep_receive_clauses(c, 2, EP_INFINITY) != 0) ep_exit(ep_var(0));
  int64_t r;
  ep_bind(&r);
  ep_demonitor(&ref, EP_DEMONITOR_FLUSH);
  return r;
}

static long long calls(ep_pid srv, ep_build *b) {
  long long acc = 0;
  for (long i = 1; i <= k_arg; i++) acc += call(srv, b, i);
  return acc;
}

static void root(ep_term unused) {
  (void)unused;
  ep_pid srv = ep_spawn_link(server, NULL);
  ep_pid raw = ep_spawn_link(raw_echo, NULL);
  ep_build b;
  ep_b_init(&b);
  uint64_t t0 = bench_now_ns();
  calls(srv, &b);
  uint64_t t1 = bench_now_ns();
  for (long i = 1; i <= j_arg; i++) ep_send_fmt(ep_self(), "{junk, ~l}", i);
  uint64_t t2 = bench_now_ns();
  sum = calls(srv, &b);
  uint64_t t3 = bench_now_ns();
  EP_PATTERN(p_tagged, "{reply, X::int}");
  for (long i = 1; i <= k_arg; i++) {
    ep_b_reset(&b);
    ep_b_tuple(&b);
    ep_b_atom_name(&b, "echo");
    ep_b_pid(&b, ep_self());
    ep_b_int(&b, i);
    ep_b_end(&b);
    ep_send(raw, ep_b_peek(&b));
    ep_receive(EP_INFINITY, p_tagged);
  }
  uint64_t t4 = bench_now_ns();
  junk_left = ep_message_queue_len();
  empty_ns = t1 - t0;
  wall_ns = t3 - t2;
  scan_ns = t4 - t3;
  ep_b_free(&b);
  ep_unlink(srv);
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
  bench_float(&l, "wall_ms", bench_ms(wall_ns));
  bench_float(&l, "ns_per_call", bench_per(wall_ns, (uint64_t)k_arg));
  bench_float(&l, "empty_ms", bench_ms(empty_ns));
  bench_float(&l, "scan_ms", bench_ms(scan_ns));
  bench_int(&l, "junk_left", junk_left);
  bench_int(&l, "result", sum);
  bench_end(&l, bench_threads());
  return 0;
}
