/* SPDX-License-Identifier: Apache-2.0 */
/*
 * main.c - the test runner shared by every layer's test binary.
 *
 * Collects the tests that TEST() registered, gives each its own Check test
 * case (so each has its own timeout), runs them forked, and prints Check's
 * closing line. Arguments select tests: `suite` or `suite:name-prefix`;
 * --list prints the names. EP_TEST_TIMEOUT_SCALE multiplies every timeout
 * (sanitizer builds are slower); EP_TEST_SKIP leaves out the tests that a
 * comma list of the same selectors picks (make valgrind skips the stress
 * suite, which would take half an hour there).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

struct entry { const char *suite, *name; const TTest *test; int timeout; };
static struct entry *tests;
static size_t ntests, cap;

void ep_test_register(const char *suite, const char *name, const TTest *test, int timeout_s) {
  if (ntests == cap) {
    cap = cap ? 2 * cap : 256;
    tests = realloc(tests, cap * sizeof *tests);
    if (!tests) abort();
  }
  tests[ntests++] = (struct entry){suite, name, test, timeout_s};
}

/* Whether sel (`suite` or `suite:name-prefix`, len bytes) picks e. */
static int picks(const struct entry *e, const char *sel, size_t len) {
  const char *colon = memchr(sel, ':', len);
  size_t n = colon ? (size_t)(colon - sel) : len;
  if (strlen(e->suite) != n || strncmp(e->suite, sel, n) != 0) return 0;
  if (!colon) return 1;
  size_t plen = len - n - 1;
  return strlen(e->name) >= plen && strncmp(e->name, colon + 1, plen) == 0;
}

static int selected(const struct entry *e, int argc, char **argv) {
  const char *skip = getenv("EP_TEST_SKIP");
  while (skip && *skip) {
    size_t len = strcspn(skip, ",");
    if (len && picks(e, skip, len)) return 0;
    skip += len + (skip[len] == ',');
  }
  int any = 0;
  for (int i = 1; i < argc; i++) {
    if (argv[i][0] == '-') continue;
    any = 1;
    if (picks(e, argv[i], strlen(argv[i]))) return 1;
  }
  return !any;
}

int main(int argc, char **argv) {
  int list = argc > 1 && strcmp(argv[1], "--list") == 0;
  double scale = getenv("EP_TEST_TIMEOUT_SCALE") ? atof(getenv("EP_TEST_TIMEOUT_SCALE")) : 1;
  if (scale <= 0) scale = 1;
  Suite *s = suite_create("eproc");
  char **names = calloc(ntests, sizeof *names);
  for (size_t i = 0; i < ntests; i++) {
    if (!selected(&tests[i], argc, argv)) continue;
    if (list) { printf("%s:%s\n", tests[i].suite, tests[i].name); continue; }
    size_t n = strlen(tests[i].suite) + strlen(tests[i].name) + 2;
    names[i] = malloc(n);
    snprintf(names[i], n, "%s:%s", tests[i].suite, tests[i].name);
    TCase *tc = tcase_create(names[i]);
    tcase_set_timeout(tc, (tests[i].timeout ? tests[i].timeout : 60) * scale);
    tcase_add_test(tc, tests[i].test);
    suite_add_tcase(s, tc);
  }
  if (list) return 0;
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  for (size_t i = 0; i < ntests; i++) free(names[i]);
  free(names);
  free(tests);
  return failed ? 1 : 0;
}
