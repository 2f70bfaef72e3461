/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spec_links.c - conformance tests for spec section 4, links (R20-R24):
 * link/unlink in both directions, cascades, noproc links and
 * process_info(links). Processes are puppets (spec_util.h) driven by the
 * root, which watches deaths with monitors.
 */
#include "spec_util.h"

/* Test that link is bidirectional and returns 0, both sides list each
 * other, and link(self()) is a no-op returning 0 (R20). */
SPEC(links, R20_link_bidirectional_and_link_self_noop) {
  ep_pid a = puppet();
  EXPECT(ep_link(ep_self()) == 0);
  EXPECT_M(spec_own(ep_process_info(ep_self(), EP_A_links)), "{links, []}");
  EXPECT(ep_link(a) == 0);
  EXPECT_M(spec_own(ep_process_info(ep_self(), EP_A_links)), "{links, [^A]}", P(a));
  EXPECT_M(spec_own(ep_process_info(a, EP_A_links)), "{links, [^Me]}", P(ep_self()));
  EXPECT(ep_unlink(a) == 0);
  ep_exit_signal_atom(a, EP_A_kill);
}

/* Test that linking twice makes one link: a trapping process gets exactly
 * one {'EXIT', ...} when the peer dies, and links lists it once (R20, R24). */
SPEC(links, R20_R24_link_twice_one_link_one_signal) {
  ep_trap_exit(true);
  ep_pid a = puppet();
  EXPECT(ep_link(a) == 0);
  EXPECT(ep_link(a) == 0);
  EXPECT(cmd(a, "{'$do', link, ~p}", ep_self()) != NULL);
  EXPECT_M(spec_own(ep_process_info(ep_self(), EP_A_links)), "{links, [^A]}", P(a));
  EXPECT_M(spec_own(ep_process_info(a, EP_A_links)), "{links, [_]}");
  cmd_nowait(a, "{'$do', exit, boom}");
  EXPECT_M(recv_any(EP_INFINITY), "{'EXIT', ^A, boom}", P(a));
  EXPECT(nothing_arrives(100));
}

/* Test that a linked non-trapping child dies when its parent dies, with the
 * parent's reason (R21). */
SPEC(links, R21_parent_death_kills_linked_child) {
  ep_ref pr;
  ep_pid parent = puppet_monitored(&pr);
  ep_pid child = pid_of(cmd(parent, "{'$do', spawn_link_puppet}"));
  ep_ref cr = ep_monitor(child);
  cmd_nowait(parent, "{'$do', exit, parent_gone}");
  EXPECT_M(await_down(&pr), "parent_gone");
  EXPECT_M(await_down(&cr), "parent_gone");
}

/* Test that a linked non-trapping parent dies when its child dies, with the
 * child's reason (R21). */
SPEC(links, R21_child_death_kills_linked_parent) {
  ep_ref pr;
  ep_pid parent = puppet_monitored(&pr);
  ep_pid child = pid_of(cmd(parent, "{'$do', spawn_link_puppet}"));
  ep_ref cr = ep_monitor(child);
  cmd_nowait(child, "{'$do', error, child_crash}");
  EXPECT_M(await_down(&cr), "{child_crash, _}");
  EXPECT_M(await_down(&pr), "{child_crash, _}");
}

/* Test that the direction a link was made in does not matter: a link made
 * by the second process with link/1 carries the first one's death (R21). */
SPEC(links, R21_link_made_by_other_side_is_symmetric) {
  ep_pid a = puppet(), b = puppet();
  EXPECT_M(cmd(b, "{'$do', link, ~p}", a), "ok");
  ep_ref ra = ep_monitor(a), rb = ep_monitor(b);
  cmd_nowait(a, "{'$do', exit, {shutdown, why}}");
  EXPECT_M(await_down(&ra), "{shutdown, why}");
  EXPECT_M(await_down(&rb), "{shutdown, why}");
}

/* Test that linking to a dead pid when not trapping raises the error noproc
 * in the caller: uncaught it ends the caller with {noproc, Stack};
 * ep_link_check reports EP_ENOPROC (R22). */
SPEC(links, R22_link_dead_pid_noproc_not_trapping) {
  ep_pid dead = puppet();
  cmd_nowait(dead, "{'$do', return}");
  wait_death(dead);
  EXPECT(ep_link_check(dead) == EP_ENOPROC);
  ep_ref r;
  ep_pid c = puppet_monitored(&r);
  EXPECT(cmd(c, "{'$do', link, ~p}", dead) == NULL);
  EXPECT_M(await_down(&r), "{noproc, _}");
  EXPECT(!ep_is_alive(c));
}

static void link_in_catch(void *ctx) { ep_link(*(ep_pid *)ctx); }

/* Test that the noproc error of link/1 can be caught and the caller goes on
 * (R22). */
SPEC(links, R22_link_noproc_error_catchable) {
  ep_pid dead = puppet();
  cmd_nowait(dead, "{'$do', return}");
  wait_death(dead);
  ep_term reason = NULL;
  EXPECT(ep_catch(link_in_catch, &dead, &reason) == 1);
  EXPECT_M(reason, "{noproc, _}");
  EXPECT(ep_is_alive(ep_self()));
}

/* Test that linking to a dead or never-existing pid when trapping returns
 * 0 and delivers {'EXIT', P, noproc} (R22). */
SPEC(links, R22_link_dead_pid_trapping_gets_exit_noproc) {
  ep_pid dead = puppet();
  cmd_nowait(dead, "{'$do', return}");
  wait_death(dead);
  ep_trap_exit(true);
  EXPECT(ep_link(dead) == 0);
  EXPECT_M(recv_any(EP_INFINITY), "{'EXIT', ^D, noproc}", P(dead));
  ep_pid never = {.id = 999001, .serial = 77, .node = EP_NODE_LOCAL, .creation = 0};
  EXPECT(ep_link(never) == 0);
  EXPECT_M(recv_any(EP_INFINITY), "{'EXIT', ^N, noproc}", P(never));
  EXPECT(nothing_arrives(50));
}

/* Test that unlink removes the link in both directions and returns 0, and
 * that afterwards the peer's death no longer affects a non-trapping
 * caller (R23). */
SPEC(links, R23_unlink_both_directions_then_death_harmless) {
  ep_pid a = puppet_linked();
  EXPECT(ep_unlink(a) == 0);
  EXPECT_M(spec_own(ep_process_info(ep_self(), EP_A_links)), "{links, []}");
  EXPECT_M(spec_own(ep_process_info(a, EP_A_links)), "{links, []}");
  ep_ref r = ep_monitor(a);
  cmd_nowait(a, "{'$do', exit, boom}");
  EXPECT_M(await_down(&r), "boom");
  EXPECT(ep_is_alive(ep_self()));
}

/* Test that unlink is idempotent and that unlinking a pid that is not
 * linked, or is dead, returns 0 without error (R23). */
SPEC(links, R23_unlink_idempotent_and_tolerant) {
  ep_pid a = puppet_linked();
  EXPECT(ep_unlink(a) == 0);
  EXPECT(ep_unlink(a) == 0);
  ep_pid b = puppet();
  EXPECT(ep_unlink(b) == 0);
  cmd_nowait(b, "{'$do', return}");
  wait_death(b);
  EXPECT(ep_unlink(b) == 0);
  ep_exit_signal_atom(a, EP_A_kill);
}

/* Test that either side may unlink: when the child removes the link, the
 * parent is no longer affected by its death (R23). */
SPEC(links, R23_other_side_unlinks) {
  ep_pid a = puppet_linked();
  EXPECT_M(cmd(a, "{'$do', unlink, ~p}", ep_self()), "ok");
  EXPECT_M(spec_own(ep_process_info(ep_self(), EP_A_links)), "{links, []}");
  ep_ref r = ep_monitor(a);
  cmd_nowait(a, "{'$do', exit, boom}");
  EXPECT_M(await_down(&r), "boom");
  EXPECT(nothing_arrives(50));
}

/* Test that an {'EXIT', P, R} message already in a trapping caller's
 * mailbox stays there after unlink(P) (R23). */
SPEC(links, R23_exit_message_already_queued_stays) {
  ep_trap_exit(true);
  ep_ref r;
  ep_pid a;
  ep_spawn_opts o = {.flags = EP_SPAWN_LINK | EP_SPAWN_MONITOR};
  ep_smallterm s;
  EXPECT(ep_spawn_opt(&a, puppet_fn, ep_pid_term(&s, ep_self()), &o, &r) == 0);
  cmd_nowait(a, "{'$do', exit, boom}");
  await_down(&r);   /* the EXIT came before the DOWN (R7) */
  EXPECT(ep_unlink(a) == 0);
  EXPECT_M(recv_any(0), "{'EXIT', ^A, boom}", P(a));
}

/* Test that once unlink has returned, the link has no further effect on a
 * trapping caller even when the peer is dying concurrently: at most the
 * {'EXIT', ...} that had already arrived is there, none comes later (R23,
 * R25.1). */
SPEC(links, R23_R25_no_exit_after_unlink_returns_under_race) {
  ep_trap_exit(true);
  for (int i = 0; i < 300; i++) {
    ep_ref r;
    ep_pid a;
    ep_spawn_opts o = {.flags = EP_SPAWN_LINK | EP_SPAWN_MONITOR};
    EXPECT(ep_spawn_opt(&a, spec_action, A("exit_stuff"), &o, &r) == 0);
    ep_send(a, A("go"));
    EXPECT(ep_unlink(a) == 0);
    /* take what arrived before unlink returned, then wait for the death */
    ep_term early = recv_match(0, "{'EXIT', ^A, _}", P(a));
    (void)early;
    EXPECT_M(await_down(&r), "stuff");
    EXPECT(recv_match(0, "{'EXIT', ^A, _}", P(a)) == NULL);
  }
}

/* Test that process_info(P, links) lists each linked pid once, whichever
 * side made the link and however often (R24, seed 004's Simple chain). */
SPEC(links, R24_links_info_lists_each_pid_once) {
  ep_pid p[5];
  for (int i = 0; i < 5; i++) p[i] = puppet();
  for (int i = 0; i < 4; i++) {
    EXPECT_M(cmd(p[i], "{'$do', link, ~p}", p[i + 1]), "ok");
    EXPECT_M(cmd(p[i + 1], "{'$do', link, ~p}", p[i]), "ok");
  }
  EXPECT_M(spec_own(ep_process_info(p[0], EP_A_links)), "{links, [^P2]}", P(p[1]));
  EXPECT_M(spec_own(ep_process_info(p[4], EP_A_links)), "{links, [^P4]}", P(p[3]));
  for (int i = 1; i < 4; i++) {
    ep_term l = spec_own(ep_process_info(p[i], EP_A_links));
    if (!spec_match(l, "{links, [^A, ^B]}", P(p[i - 1]), P(p[i + 1])) &&
        !spec_match(l, "{links, [^B, ^A]}", P(p[i + 1]), P(p[i - 1])))
      spec_fail(__FILE__, __LINE__, "links of %s: %s, expected %s and %s", spec_str(P(p[i])),
                spec_str(l), spec_str(P(p[i - 1])), spec_str(P(p[i + 1])));
  }
  for (int i = 0; i < 5; i++) ep_exit_signal_atom(p[i], EP_A_kill);
}
