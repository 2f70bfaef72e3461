#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Builds tests/arch/switch_test.c for AArch64 with Debian's cross compiler
# and runs it under qemu-user: the AArch64 context switch (switch.S and
# ctx.c) runs on every test run although this machine is x86-64. The rest
# of the runtime is not built for AArch64 here (its test framework and zlib
# would have to be cross-built too). Prints the test's own
# "switch: N passed, M failed" line; exits non-zero on any failure.
set -eu
cc=aarch64-linux-gnu-gcc
qemu=qemu-aarch64
if ! command -v $cc >/dev/null || ! command -v $qemu >/dev/null; then
  echo "cross_test: needs $cc and $qemu (make deps)" >&2
  exit 1
fi
out=${1:-build}/tests/switch_test_aarch64
mkdir -p "$(dirname "$out")"
$cc -O2 -Wall -Wextra -Werror -static -Iinclude -Isrc \
  tests/arch/switch_test.c src/core/ctx.c src/arch/aarch64/switch.S -o "$out" -lm
exec $qemu "$out"
