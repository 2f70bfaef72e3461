/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_text.c - libFuzzer target for the text forms: any bytes through
 * ep_b_parse and the format builder's grammar must give a term or an error
 * code, never a crash; a parsed term must print (both syntaxes) and parse
 * back to the same term. Owns nothing; parse.c and print.c are under test.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eproc/term.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  ep_build b;
  ep_b_init(&b);
  int r = ep_b_parse(&b, (const char *)data, size), err = 0;
  ep_term t = ep_b_finish(&b, &err);
  ep_b_free(&b);
  if ((r == 0) != (t != NULL)) abort();
  if (!t) return 0;
  char *s = ep_print_alloc(t, EP_PRINT_ERLANG), *x = ep_print_alloc(t, EP_PRINT_ELIXIR);
  ep_term u = NULL;
  if (!s || !x || ep_parse(&u, s) != 0 || !ep_exact_equal(t, u)) abort();
  free(s);
  free(x);
  ep_term_free(t);
  ep_term_free(u);
  return 0;
}
