#!/usr/bin/env bash
# The reference tools the tests compare against (GNU cpio and tar, bsdtar,
# MirBSD pax, compress, dump/restore, lbzip2, xz, mke2fs). Installs the
# missing ones with apt-get when run as root; otherwise says what is missing.
# Packages given as arguments replace the list (the demo needs only two).
set -u
pkgs=(cpio pax libarchive-tools ncompress dump lbzip2 bzip2 xz-utils e2fsprogs gzip tar util-linux)
[ $# -gt 0 ] && pkgs=("$@")
need=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null && apt-get install -y -qq "${need[@]}" >/dev/null && exit 0
  echo "ensure-tools: apt-get install ${need[*]} failed" >&2
  exit 1
fi
echo "ensure-tools: missing Debian packages: ${need[*]} (install them, or run as root)" >&2
exit 1
