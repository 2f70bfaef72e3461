/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_etf.c - libFuzzer target for the ETF decoder (make fuzz).
 *
 * Any input must decode to a term or to an error code with an offset, never
 * crash or over-allocate. A decoded term must re-encode, in both atom modes,
 * to bytes that decode to an exactly equal term and re-encode to the same
 * bytes; and decoding into a builder that is part-way through a list must
 * give the same term as a fresh decode.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eproc/term.h"

#define CHECK(cond)                                                      \
  do {                                                                   \
    if (!(cond)) {                                                       \
      fprintf(stderr, "fuzz_etf: %s failed at line %d\n", #cond, __LINE__); \
      abort();                                                           \
    }                                                                    \
  } while (0)

static void reencode(ep_term t, int flags) {
  uint8_t *a, *b;
  size_t na, nb, sz;
  ep_term u;
  CHECK(ep_etf_encode(t, flags, &a, &na) == 0);
  CHECK(ep_etf_size(t, flags, &sz) == 0 && sz == na);
  CHECK(ep_etf_decode(&u, a, na, NULL) == 0);
  CHECK(ep_exact_equal(t, u));
  CHECK(ep_etf_encode(u, flags, &b, &nb) == 0);
  CHECK(na == nb && memcmp(a, b, na) == 0);
  free(a);
  free(b);
  ep_term_free(u);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  ep_term t;
  size_t off = (size_t)-1;
  int err = ep_etf_decode(&t, data, size, &off);
  if (err) {
    CHECK(err < 0 && off != (size_t)-1);
    if (size < 2 || data[1] != 80) CHECK(off <= size);   /* not compressed */
    return 0;
  }
  reencode(t, EP_ETF_UTF8_ATOMS);
  reencode(t, EP_ETF_LATIN1_ATOMS);

  ep_build b;
  ep_b_init(&b);
  ep_b_list(&b);
  ep_b_int(&b, 1);
  int e2 = ep_b_etf_decode(&b, data, size, NULL);
  CHECK(e2 == 0 || e2 == EP_EDEPTH);    /* one level deeper may pass EP_MAX_DEPTH */
  ep_b_end(&b);
  ep_term l = ep_b_finish(&b, &err);
  ep_b_free(&b);
  if (l) {
    ep_term second = ep_list_head(ep_list_tail(l));
    CHECK(second && ep_exact_equal(second, t));
    ep_term_free(l);
  } else {
    CHECK(err == EP_EDEPTH);
  }
  ep_term_free(t);
  return 0;
}
