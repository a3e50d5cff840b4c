#!/usr/bin/env python3
"""Turn a little-endian dump(8) stream into the big-endian one a SPARC
ufsdump-style writer would have produced (formats.md 1.4 recipe).

Header fields are swapped: 8 x int32 @0..31, 4 x u16 @32..39, the u64 size
@40..47 as one 8-byte value, 29 x int32 @48..163 (rest of the dinode and
c_count), c_level @692 and 34 x int32 @888..1023; c_addr bytes and strings
stay as they are; the checksum is recomputed in the new order. Directory data
(struct direct, 4.4BSD format) gets d_ino and d_reclen swapped; file data,
bitmaps and Linux EA blocks (always little-endian ext2 blocks) are copied.

Usage: swap-endian.py in.dump out.dump
"""
import struct, sys

TP = 1024
NFS_MAGIC = 60012
TS_TAPE, TS_INODE, TS_BITS, TS_ADDR, TS_END, TS_CLRI = 1, 2, 3, 4, 5, 6
DR_EXTATTRIBUTES = 0x8000
IFMT, IFDIR = 0o170000, 0o040000


def swap_words(b, off, n, size):
    fmt = {2: 'H', 4: 'I', 8: 'Q'}[size]
    for k in range(n):
        o = off + k * size
        (v,) = struct.unpack_from('<' + fmt, b, o)
        struct.pack_into('>' + fmt, b, o, v)


def swap_header(rec):
    b = bytearray(rec)
    swap_words(b, 0, 8, 4)
    swap_words(b, 32, 4, 2)
    swap_words(b, 40, 1, 8)
    swap_words(b, 48, 29, 4)
    swap_words(b, 692, 1, 4)
    swap_words(b, 888, 34, 4)
    struct.pack_into('>I', b, 28, 0)
    s = sum(struct.unpack('>256I', bytes(b))) & 0xffffffff
    struct.pack_into('>I', b, 28, (84446 - s) & 0xffffffff)
    return bytes(b)


def swap_dir_block(rec, nbytes):
    b = bytearray(rec)
    for chunk in range(0, min(nbytes, TP), 512):
        o = chunk
        while o + 8 <= chunk + 512:
            ino, reclen = struct.unpack_from('<IH', b, o)
            struct.pack_into('>IH', b, o, ino, reclen)
            if reclen == 0 or o + reclen > chunk + 512:
                break
            o += reclen
    return bytes(b)


def main():
    data = open(sys.argv[1], 'rb').read()
    assert len(data) % TP == 0, 'not a whole number of records'
    recs = [data[i:i + TP] for i in range(0, len(data), TP)]
    out = []
    i = 0
    dir_left = 0  # directory bytes still to come for the current inode
    while i < len(recs):
        rec = recs[i]
        i += 1
        if struct.unpack_from('<i', rec, 24)[0] != NFS_MAGIC:
            out.append(rec)  # trailing padding after TS_END
            continue
        ctype, count = struct.unpack_from('<i', rec, 0)[0], struct.unpack_from('<i', rec, 160)[0]
        mode = struct.unpack_from('<H', rec, 32)[0]
        size = struct.unpack_from('<Q', rec, 40)[0]
        flags, extattr = struct.unpack_from('<iI', rec, 888)[0], struct.unpack_from('<I', rec, 900)[0]
        out.append(swap_header(rec))
        if ctype in (TS_CLRI, TS_BITS):
            flagged = [True] * count
        elif ctype in (TS_INODE, TS_ADDR, TS_TAPE):
            flagged = [rec[164 + k] != 0 for k in range(count)]
        else:
            flagged = []
        is_ea = ctype == TS_INODE and flags & DR_EXTATTRIBUTES and extattr
        if ctype == TS_INODE:
            dir_left = size if (mode & IFMT) == IFDIR and not is_ea else 0
        elif ctype != TS_ADDR:
            dir_left = 0
        for f in flagged:
            if ctype in (TS_INODE, TS_ADDR) and dir_left > 0:
                if f:
                    out.append(swap_dir_block(recs[i], dir_left))
                    i += 1
                dir_left -= TP
            elif f:
                out.append(recs[i])
                i += 1
    open(sys.argv[2], 'wb').write(b''.join(out))


main()
