/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_pattern.c - libFuzzer target for the pattern compiler and matcher:
 * any text either compiles or gets an error code with an offset inside the
 * text; a compiled pattern is matched (with pins) against a few fixed terms
 * and a successful match must bind. Owns nothing between runs but the terms
 * it builds once.
 */
#include <stdlib.h>
#include <string.h>

#include "eproc/term.h"

static ep_term terms[6];

static ep_term make(int which) {
  ep_build b;
  ep_b_init(&b);
  ep_b_tuple(&b);
  ep_b_atom_name(&b, which & 1 ? "tag" : "EXIT");
  switch (which) {
  case 0: ep_b_int(&b, 42); ep_b_pid(&b, (ep_pid){57, 3, 0, 0}); break;
  case 1: ep_b_float(&b, -0.0); ep_b_string(&b, "ab"); break;
  case 2: ep_b_map(&b); ep_b_atom_name(&b, "k"); ep_b_int(&b, 1); ep_b_int(&b, 2); ep_b_nil(&b); ep_b_end(&b); break;
  case 3: ep_b_list(&b); ep_b_int(&b, 1); ep_b_atom_name(&b, "x"); ep_b_end_tail(&b); break;
  case 4: ep_b_binary(&b, "bin", 3); ep_b_ref(&b, &(ep_ref){.len = 3, .w = {3, 2, 1}}); break;
  default: ep_b_uint(&b, UINT64_MAX); ep_b_tuple(&b); ep_b_end(&b); break;
  }
  ep_b_end(&b);
  ep_term t = ep_b_finish(&b, NULL);
  ep_b_free(&b);
  if (!t) abort();
  return t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!terms[0])
    for (int i = 0; i < 6; i++) terms[i] = make(i);
  char *text = malloc(size + 1);
  if (!text) return 0;
  memcpy(text, data, size);
  text[size] = 0;
  ep_pattern *p = NULL;
  size_t off = 0;
  int rc = ep_pattern_compile(&p, text, &off);
  if (rc < 0) {
    if (off > strlen(text)) abort();   /* the offset points into the text */
  } else {
    ep_term pins[EP_PATTERN_MAX_PINS], vars[EP_PATTERN_MAX_VARS];
    for (int i = 0; i < EP_PATTERN_MAX_PINS; i++) pins[i] = terms[i % 6];
    for (int i = 0; i < 6; i++) {
      if (!ep_pattern_match(p, terms[i], pins, vars)) continue;
      for (int k = 0; k < ep_pattern_nvars(p); k++)
        if ((const char *)vars[k] < (const char *)terms[i] ||
            (const char *)vars[k] >= (const char *)terms[i] + ep_term_size(terms[i]))
          abort();   /* bindings are subterms of the matched term */
    }
  }
  ep_pattern_free(p);
  free(text);
  return 0;
}
