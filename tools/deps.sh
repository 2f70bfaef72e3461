#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Installs the Debian packages eproc needs to build, test, fuzz and bench.
# Idempotent; needs root (or sudo) and Debian's package archive.
set -e
PKGS="build-essential cmake clang libclang-rt-14-dev llvm pkg-config zlib1g-dev check erlang-base erlang-dev golang-go valgrind qemu-user gcc-aarch64-linux-gnu libc6-dev-arm64-cross"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
