/* SPDX-License-Identifier: Apache-2.0 */
/*
 * terms.c - a tour of eproc's terms: build from a format, print in Erlang
 * and Elixir syntax, parse text, encode to Erlang's external term format
 * and back, match patterns with typed bindings, sort in term order.
 * No processes here: the term layer works on its own.
 */
#include <stdio.h>
#include <stdlib.h>

#include "eproc.h"

static void show(const char *label, ep_term t) {
  char *erl = ep_print_alloc(t, EP_PRINT_ERLANG), *ex = ep_print_alloc(t, EP_PRINT_ELIXIR);
  printf("%-10s erlang: %-40s elixir: %s\n", label, erl, ex);
  free(erl);
  free(ex);
}

static int cmp(const void *a, const void *b) {
  return ep_compare(*(const ep_term *)a, *(const ep_term *)b);
}

int main(void) {
  ep_pid pid = {57, 0, EP_NODE_LOCAL, 0};
  ep_term msg, parsed, back;

  /* 1. Build with holes, as ei_x_format does. */
  if (ep_format(&msg, "{compute, ~i, ~p}", 16, pid) != 0) return 1;
  show("format", msg);

  /* 2. Parse Erlang text. */
  if (ep_parse(&parsed, "[1, 2.5, <<\"bin\">>, #{k => v}, \"abc\", 'EXIT', {}]") != 0) return 1;
  show("parse", parsed);

  /* 3. The bytes of term_to_binary, and back. */
  uint8_t *bytes;
  size_t n;
  if (ep_etf_encode(msg, EP_ETF_UTF8_ATOMS, &bytes, &n) != 0) return 1;
  printf("%-10s %zu bytes:", "etf", n);
  for (size_t i = 0; i < n; i++) printf(" %u", bytes[i]);
  printf("\n");
  if (ep_etf_decode(&back, bytes, n, NULL) != 0) return 1;
  printf("%-10s decode(encode(t)) =:= t: %s\n", "", ep_exact_equal(back, msg) ? "true" : "false");
  free(bytes);

  /* 4. Hostile bytes get an error code, not a crash. */
  static const uint8_t bad[] = {131, 108, 255, 255, 255, 255, 97, 1};
  ep_term none;
  size_t at = 0;
  int err = ep_etf_decode(&none, bad, sizeof bad, &at);
  printf("%-10s list claiming 4294967295 elements in 8 bytes: %s (%s) at byte %zu\n", "hostile",
         ep_err_name(err), ep_strerror(err), at);

  /* 5. Patterns: compiled once, typed bindings, no allocation when matching. */
  EP_PATTERN(p_compute, "{compute, N::int, From::pid}");
  int64_t num;
  ep_pid from;
  if (ep_match(p_compute, msg, &num, &from))
    printf("%-10s {compute, N::int, From::pid} matched: N = %lld, From = <0.%u.%u>\n", "match",
           (long long)num, from.id, from.serial);
  EP_PATTERN(p_head, "[H|_]");
  ep_term h;
  if (ep_match(p_head, parsed, &h)) show("[H|_]", h);

  /* 6. Erlang's term order: number < atom < ... < list < bitstring. */
  ep_term sorted[5];
  const char *texts[] = {"<<\"b\">>", "[x]", "{a}", "atom", "42"};
  for (int i = 0; i < 5; i++)
    if (ep_parse(&sorted[i], texts[i]) != 0) return 1;
  qsort(sorted, 5, sizeof *sorted, cmp);
  printf("%-10s", "sorted");
  for (int i = 0; i < 5; i++) {
    char buf[32];
    ep_print(buf, sizeof buf, sorted[i], EP_PRINT_ERLANG);
    printf(" %s", buf);
    ep_term_free(sorted[i]);
  }
  printf("\n");

  ep_term_free(msg);
  ep_term_free(parsed);
  ep_term_free(back);
  return 0;
}
