#!/bin/bash
# Make the small ufsdump/BSD-dump fixtures for test/dump.test.ts.
#
# Needs root, mke2fs (with -d), losetup and a free loop device, Linux dump/restore
# 0.4b4x and python3. CI machines may lack loop devices, so the results are
# committed (gzipped) next to this script:
#
#   tree.dump.gz           dump -0 of a small ext2 tree (little-endian, Linux flavour)
#   tree-be.dump.gz        the same stream with every header field byte-swapped
#                          (swap-endian.py, formats.md 1.4): a big-endian dump
#   tree-vol1.dump.gz,
#   tree-vol2.dump.gz      dump -0 -M -B ... of the same file system: two volumes,
#                          the second starting in the middle of big.bin
#   expected.json          what `restore -r` made of tree.dump (types, modes, owners,
#                          sizes, mtimes, sha256, symlink targets, link groups,
#                          allocated blocks, xattrs), for machines without restore
#
# Usage: samples/dump/make-fixtures.sh [outdir]   (default: this script's directory)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here}
mkdir -p "$out"
work=$(mktemp -d /tmp/zonep2v-dumpfix.XXXXXX)
loop=
cleanup() {
  if [ -n "$loop" ]; then losetup -d "$loop" || true; fi
  if [ -z "${KEEP:-}" ]; then rm -rf "$work"; else echo "kept $work" >&2; fi
}
trap cleanup EXIT

T=$work/tree
mkdir -p "$T"
cd "$T"

# --- the tree ---------------------------------------------------------------
mkdir -p dir/sub/deeper empty-dir sticky setuid-dir
printf 'hello, dump\n' > dir/small.txt
: > empty.txt
# ~300 KiB that gzip shrinks (numbered lines) but that has no repeating 1 KiB block
python3 - <<'PY'
import hashlib
with open('big.bin', 'wb') as f:
    for i in range(300 * 1024 // 64):
        line = ('%08d ' % i + hashlib.md5(str(i).encode()).hexdigest()[:16]).ljust(63) + '\n'
        f.write(line.encode())
PY
# sparse: 4 MiB apparent, a few written blocks, a trailing hole
truncate -s 4M sparse.img
printf 'first block' | dd of=sparse.img bs=1 seek=0 conv=notrunc status=none
printf 'middle data' | dd of=sparse.img bs=1 seek=$((1024 * 1024 + 100)) conv=notrunc status=none
dd if=big.bin of=sparse.img bs=1024 count=3 seek=2500 conv=notrunc status=none
truncate -s $((4 * 1024 * 1024 + 777)) sparse.img
# a file whose data ends in a partial block after a hole
truncate -s 600000 sparse-tail.bin
printf 'tail' | dd of=sparse-tail.bin bs=1 seek=599990 conv=notrunc status=none
# hard links: 3 names, two directories
printf 'linked\n' > dir/hl-a
ln dir/hl-a dir/sub/hl-b
ln dir/hl-a hl-c
# symlinks: fast (short) and slow (> 60 bytes)
ln -s dir/small.txt link-short
ln -s "$(printf 'x%.0s' $(seq 1 70))/../dir/sub/deeper/and/a/long/target/beyond/sixty/bytes" link-long
ln -s ../../empty.txt dir/sub/rel-link
# special files
mkfifo fifo
mknod chardev c 4 64
mknod blockdev b 8 1
python3 -c "import socket; s=socket.socket(socket.AF_UNIX); s.bind('sock')"
# a name that is not UTF-8, and a long one
printf 'latin1 name\n' > "$(printf 'caf\xe9')"
long=$(printf 'n%.0s' $(seq 1 200))
printf 'long name\n' > "dir/sub/deeper/$long"
# modes and owners
printf '#!/bin/sh\n' > setuid-dir/su-prog
chown 1234:1234 dir/small.txt sticky setuid-dir/su-prog
chown 1234:4321 big.bin
chown -h 1234:1234 link-short
chmod 4755 setuid-dir/su-prog
chmod 2750 setuid-dir
chmod 1777 sticky
chmod 0600 dir/small.txt
chmod 0444 big.bin
# extended attributes (ext2 EA block): a user xattr and an access ACL
python3 - <<'PY'
import os, struct
os.setxattr('dir/small.txt', 'user.comment', b'a comment')
# POSIX ACL xattr v2: user::rw-, user:1234:r--, group::r--, mask::r--, other::---
acl = struct.pack('<I', 2)
for tag, perm, ident in ((1, 6, 0xffffffff), (2, 4, 1234), (4, 4, 0xffffffff), (0x10, 4, 0xffffffff), (0x20, 0, 0xffffffff)):
    acl += struct.pack('<HHI', tag, perm, ident)
os.setxattr('hl-c', 'system.posix_acl_access', acl)
PY
# fixed times, deepest first so directory times stick
find . -depth -exec touch -h -d '2021-03-04 05:06:07' {} +
touch -h -d '2019-12-31 23:59:59' dir/small.txt link-long

# --- the file system and the dumps ------------------------------------------
cd "$work"
mke2fs -q -F -E root_owner=0:0 -t ext2 -b 1024 -I 128 -N 128 -L zp2v -d "$T" fs.img 8M >"$work/mke2fs.log" 2>&1 || { cat "$work/mke2fs.log"; exit 1; }
loop=$(losetup -f --show fs.img)
dump -0 -q -f "$work/tree.dump" "$loop" 2>"$work/dump.log" || { cat "$work/dump.log"; exit 1; }
recs=$(( $(stat -c %s "$work/tree.dump") / 1024 ))
half=$(( recs / 2 + 20 ))
dump -0 -q -M -B "$half" -f "$work/vol" "$loop" 2>"$work/dump-mv.log" || { cat "$work/dump-mv.log"; exit 1; }
losetup -d "$loop"
loop=
ls "$work"/vol* >&2
[ -f "$work/vol001" ] && [ -f "$work/vol002" ] && [ ! -f "$work/vol003" ] || { echo "expected exactly two volumes" >&2; exit 1; }

python3 "$here/swap-endian.py" "$work/tree.dump" "$work/tree-be.dump"

# --- what restore -r makes of it ---------------------------------------------
mkdir "$work/restored"
(cd "$work/restored" && restore -r -f "$work/tree.dump" && rm -f restoresymtable)
python3 "$here/expected.py" "$work/restored" > "$work/expected.json"

gzip -9n < "$work/tree.dump" > "$out/tree.dump.gz"
gzip -9n < "$work/tree-be.dump" > "$out/tree-be.dump.gz"
gzip -9n < "$work/vol001" > "$out/tree-vol1.dump.gz"
gzip -9n < "$work/vol002" > "$out/tree-vol2.dump.gz"
cp "$work/expected.json" "$out/expected.json"
ls -l "$out" >&2
