/* SPDX-License-Identifier: Apache-2.0 */
/*
 * receive.c - receive with compiled patterns (R16-R18): clauses are tried
 * in order on each message, messages in mailbox order (mailbox.c's loop),
 * and the variables of the clause that matched stay readable until the
 * next receive. Owns nothing; patterns are term/pattern.c's.
 */
#include "core/core.h"

typedef struct {
  const ep_clause *c;
  int n;
  ep__proc *p;
} clauses;

/* always_inline: ep__receive's copy for ep_receive_clauses calls it
 * directly, and a call per message tried is a tenth of a pattern receive */
static inline __attribute__((always_inline)) bool match_clauses(ep_term t, void *ctx,
                                                                int *clause) {
  clauses *cl = ctx;
  for (int i = 0; i < cl->n; i++) {
    if (ep_pattern_match(cl->c[i].pattern, t, cl->c[i].pins, cl->p->vars)) {
      *clause = i;
      cl->p->cur_pat = cl->c[i].pattern;
      return true;
    }
  }
  return false;
}

int ep_receive_clauses(const ep_clause *c, int n, long timeout_ms) {
  ep__proc *p = ep__self();
  if (!p) return EP_ENOTPROC;
  if (n < 0 || (n > 0 && !c)) return EP_EINVAL;
  /* out of memory exits the caller, as a failed spawn does: every caller
   * reads a negative result as the timeout */
  if (!p->vars && !(p->vars = calloc(EP_PATTERN_MAX_VARS, sizeof(ep_term))))
    ep_exit_atom(EP_A_noalloc);
  clauses cl = {c, n, p};
  p->cur_pat = NULL;
  return ep__receive(p, match_clauses, &cl, timeout_ms);
}

int ep_receive_patterns(const ep_pattern *const *pats, int n, long timeout_ms) {
  ep_clause c[16];
  if (n < 0 || n > 16 || (n > 0 && !pats)) return EP_EINVAL;
  for (int i = 0; i < n; i++) c[i] = (ep_clause){pats[i], NULL};
  return ep_receive_clauses(c, n, timeout_ms);
}

/* The outputs come as an array (the ep_bind macro builds it): no va_list
 * to set up and walk on every receive. */
int ep__bind(int n, void *const *out) {
  ep__proc *p = ep__self();
  if (!p || !p->cur_pat || !p->vars) return EP_ESTATE;
  return ep__pattern_bind_array(p->cur_pat, p->vars, out, n);
}
