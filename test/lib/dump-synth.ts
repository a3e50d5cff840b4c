// A synthetic ufsdump / Linux dump writer for tests and the bench: builds
// the record stream of formats.md section 1 from a tree description, lazily
// (directories and files may be generators), so a dump of any size streams
// without being held in memory. It covers what a Linux machine cannot make:
// Solaris layouts in both byte orders, shadow-inode ACLs (DR_HASMETA and
// IFSHAD headers), extended-attribute directories, fast symlinks kept in
// the inode, and malformed variations.

import {
  TP_BSIZE, TS_TAPE, TS_INODE, TS_BITS, TS_ADDR, TS_END, TS_CLRI,
  NFS_MAGIC, DR_NEWHEADER, DR_NEWINODEFMT, DR_HASMETA, DR_EXTATTRIBUTES, EXT_XATTR,
  IFDIR, IFREG, IFLNK, IFCHR, IFBLK, IFIFO, IFSOCK, IFSHAD, IFATTRDIR,
  setChecksum, type Order,
} from '../../src/formats/dump-header.js';

export type SynthKind = 'dir' | 'attrdir' | 'file' | 'symlink' | 'char' | 'block' | 'fifo' | 'socket';

export interface SynthAcl {
  tag: number;
  perm: number;
  id: number;
}

export interface SynthNode {
  ino: number;
  kind: SynthKind;
  perm?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  mtimeUsec?: number;
  nlink?: number;
  /** Regular file content (dense). */
  data?: Buffer;
  /** Or: logical size plus block content (null = hole), for big or sparse files. */
  size?: number;
  block?: (i: number) => Buffer | null;
  /** Symlink target. */
  target?: string;
  /** Solaris: keep a short symlink target in the inode (c_count 0). */
  fastSymlink?: boolean;
  rdev?: [number, number];
  /** Solaris ACL entries (FSD_ACL) and default ACL entries (FSD_DFACL). */
  acl?: SynthAcl[];
  defaultAcl?: SynthAcl[];
  /** Put a small ACL in the header (DR_HASMETA) instead of a shadow header. */
  aclInHeader?: boolean;
  /** Linux: raw EA data emitted as an EXT_XATTR header after the data. */
  ea?: Buffer;
  iflags?: number;
  /** Linux: bytes for the inode's i_block (header offset 72, up to 60), e.g. ext4 inline data. */
  iblock?: Buffer;
  /** Solaris ic_oeftflag: the attribute directory's inode. */
  xattrDir?: number;
  /** Override the header size field (malformed tests). */
  sizeOverride?: number;
}

export interface SynthDir extends SynthNode {
  kind: 'dir' | 'attrdir';
  /** Inode of '..'. */
  parent: number;
  entries: [name: string | Buffer, ino: number][];
  /** Leave out '.' and '..'. */
  noDots?: boolean;
}

export interface SynthSpec {
  order: Order;
  flavour: 'linux' | 'solaris';
  date?: number;
  level?: number;
  maxino: number;
  /** Inodes marked in TS_BITS (default: all of 1..maxino). */
  inMap?: (ino: number) => boolean;
  dirs: Iterable<SynthDir>;
  files: Iterable<SynthNode>;
  /** Omit the TS_END record. */
  noEnd?: boolean;
}

const MODE: Record<SynthKind, number> = {
  dir: IFDIR,
  attrdir: IFATTRDIR,
  file: IFREG,
  symlink: IFLNK,
  char: IFCHR,
  block: IFBLK,
  fifo: IFIFO,
  socket: IFSOCK,
};

/** Solaris ufs_fsd_t records for an ACL. */
export function solarisAclData(order: Order, acl?: SynthAcl[], dflt?: SynthAcl[]): Buffer {
  const parts: Buffer[] = [];
  for (const [type, list] of [[1, acl], [2, dflt]] as const) {
    if (!list?.length) continue;
    const b = Buffer.alloc(8 + list.length * 12);
    const w32 = (v: number, o: number) => (order === 'le' ? b.writeInt32LE(v, o) : b.writeInt32BE(v, o));
    w32(type, 0);
    w32(b.length, 4);
    list.forEach((e, i) => {
      const o = 8 + i * 12;
      if (order === 'le') {
        b.writeUInt16LE(e.tag, o);
        b.writeUInt16LE(e.perm, o + 4);
        b.writeUInt32LE(e.id >>> 0, o + 8);
      } else {
        b.writeUInt16BE(e.tag, o);
        b.writeUInt16BE(e.perm, o + 4);
        b.writeUInt32BE(e.id >>> 0, o + 8);
      }
    });
    parts.push(b);
  }
  return Buffer.concat(parts);
}

/** An ext2 xattr block (magic 0xEA020000) with the given entries (name index, name, value). */
export function ext2EaBlock(entries: [index: number, name: string, value: Buffer][]): Buffer {
  const b = Buffer.alloc(TP_BSIZE);
  b.writeUInt32LE(0xea020000, 0);
  b.writeUInt32LE(1, 4);
  b.writeUInt32LE(1, 8);
  let p = 32;
  let vend = TP_BSIZE;
  for (const [index, name, value] of entries) {
    vend -= (value.length + 3) & ~3;
    b[p] = name.length;
    b[p + 1] = index;
    b.writeUInt16LE(vend, p + 2);
    b.writeUInt32LE(0, p + 4);
    b.writeUInt32LE(value.length, p + 8);
    b.write(name, p + 16, 'latin1');
    value.copy(b, vend);
    p += (16 + name.length + 3) & ~3;
  }
  return b;
}

export class DumpWriter {
  private rec = 0;
  private slab = Buffer.alloc(0);
  private slabUsed = 0;
  readonly date: number;
  constructor(readonly spec: SynthSpec) {
    this.date = spec.date ?? 1_600_000_000;
  }

  private w32(b: Buffer, off: number, v: number): void {
    if (this.spec.order === 'le') b.writeInt32LE(v | 0, off);
    else b.writeInt32BE(v | 0, off);
  }
  private w16(b: Buffer, off: number, v: number): void {
    if (this.spec.order === 'le') b.writeUInt16LE(v & 0xffff, off);
    else b.writeUInt16BE(v & 0xffff, off);
  }

  /** A zeroed record in the current 64 KiB slab (consecutive records are contiguous). */
  private slot(): Buffer {
    if (this.slabUsed + TP_BSIZE > this.slab.length) {
      this.slab = Buffer.alloc(64 * TP_BSIZE);
      this.slabUsed = 0;
    }
    const b = this.slab.subarray(this.slabUsed, this.slabUsed + TP_BSIZE);
    this.slabUsed += TP_BSIZE;
    return b;
  }

  /** A header record; `n` describes the inode when given. */
  header(type: number, ino: number, opts: { n?: SynthNode; mode?: number; size?: number; addr?: number[]; count?: number; flags?: number; extattr?: number; meta?: Buffer } = {}): Buffer {
    const b = this.slot();
    const sol = this.spec.flavour === 'solaris';
    this.w32(b, 0, type);
    this.w32(b, 4, this.date);
    this.w32(b, 8, 0);
    this.w32(b, 12, 1);
    this.w32(b, 16, this.rec);
    this.w32(b, 20, ino);
    this.w32(b, 24, NFS_MAGIC);
    const n = opts.n;
    if (n || opts.mode !== undefined) {
      const mode = opts.mode ?? (MODE[n!.kind] | (n!.perm ?? (n!.kind === 'dir' ? 0o755 : 0o644)));
      const uid = n?.uid ?? 0;
      const gid = n?.gid ?? 0;
      this.w16(b, 32, mode);
      this.w16(b, 34, n?.nlink ?? 1);
      if (sol) {
        this.w16(b, 36, uid > 0xfffe ? 0xffff : uid);
        this.w16(b, 38, gid > 0xfffe ? 0xffff : gid);
      } else {
        this.w16(b, 36, uid);
        this.w16(b, 38, gid);
      }
      const size = BigInt(opts.size ?? 0);
      if (this.spec.order === 'le') b.writeBigUInt64LE(size, 40);
      else b.writeBigUInt64BE(size, 40);
      this.w32(b, 48, n?.mtime ?? 0);
      this.w32(b, 56, n?.mtime ?? 0);
      this.w32(b, 60, n?.mtimeUsec ?? 0);
      this.w32(b, 64, n?.mtime ?? 0);
      if (n?.rdev) {
        const [ma, mi] = n.rdev;
        if (sol) this.w32(b, this.spec.order === 'be' ? 72 : 76, ma < 128 && mi < 256 ? (ma << 8) | mi : ((ma << 18) | mi) >>> 0);
        else if (ma < 256 && mi < 256) this.w32(b, 72, (ma << 8) | mi);
        else this.w32(b, 76, (mi & 0xff) | (ma << 8) | ((mi & ~0xff) << 12));
      }
      if (n?.kind === 'symlink' && n.fastSymlink) b.write(n.target ?? '', 72, 'latin1');
      n?.iblock?.copy(b, 72, 0, 60);
      this.w32(b, 132, n?.iflags ?? 0);
      if (sol) {
        this.w32(b, 148, uid);
        this.w32(b, 152, gid);
        this.w32(b, 156, n?.xattrDir ?? 0);
      } else {
        this.w32(b, 144, uid);
        this.w32(b, 148, gid);
      }
    }
    const addr = opts.addr ?? [];
    this.w32(b, 160, opts.count ?? addr.length);
    addr.forEach((a, i) => (b[164 + i] = a));
    b.write('synth', 676, 'latin1');
    let flags = (opts.flags ?? 0) | DR_NEWHEADER | (sol ? 0 : DR_NEWINODEFMT);
    if (opts.meta) {
      flags |= DR_HASMETA;
      opts.meta.copy(b, 692);
    } else {
      this.w32(b, 692, this.spec.level ?? 0);
      b.write('/synth', 696, 'latin1');
    }
    this.w32(b, 888, flags);
    this.w32(b, 896, sol ? 0 : 10);
    this.w32(b, 900, opts.extattr ?? 0);
    setChecksum(b, this.spec.order);
    this.rec++;
    return b;
  }

  private data(buf: Buffer): Buffer {
    this.rec++;
    const b = this.slot();
    buf.copy(b, 0, 0, Math.min(buf.length, TP_BSIZE));
    return b;
  }

  /** Directory data in 512-byte chunks. */
  dirData(d: SynthDir): Buffer {
    const recs: Buffer[] = [];
    const sol = this.spec.flavour === 'solaris';
    const all: [Buffer, number][] = d.noDots ? [] : [[Buffer.from('.'), d.ino], [Buffer.from('..'), d.parent]];
    for (const [name, ino] of d.entries) all.push([typeof name === 'string' ? Buffer.from(name, 'latin1') : name, ino]);
    for (const [name, ino] of all) {
      const len = (8 + name.length + 1 + 3) & ~3;
      const r = Buffer.alloc(len);
      if (this.spec.order === 'le') {
        r.writeUInt32LE(ino, 0);
        r.writeUInt16LE(len, 4);
        if (sol) r.writeUInt16LE(name.length, 6);
      } else {
        r.writeUInt32BE(ino, 0);
        r.writeUInt16BE(len, 4);
        if (sol) r.writeUInt16BE(name.length, 6);
      }
      if (!sol) {
        r[6] = 0;
        r[7] = name.length;
      }
      name.copy(r, 8);
      recs.push(r);
    }
    const chunks: Buffer[] = [];
    let cur: Buffer[] = [];
    let used = 0;
    const flush = () => {
      if (!cur.length) return;
      const c = Buffer.alloc(512);
      let p = 0;
      cur.forEach((r, i) => {
        r.copy(c, p);
        if (i === cur.length - 1) {
          const rl = 512 - p;
          if (this.spec.order === 'le') c.writeUInt16LE(rl, p + 4);
          else c.writeUInt16BE(rl, p + 4);
        }
        p += r.length;
      });
      chunks.push(c);
      cur = [];
      used = 0;
    };
    for (const r of recs) {
      if (used + r.length > 512) flush();
      cur.push(r);
      used += r.length;
    }
    flush();
    return Buffer.concat(chunks);
  }

  /** TS_INODE + data blocks (+ TS_ADDR continuations), then ACL / EA headers. */
  *inode(n: SynthNode, content?: { size: number; block: (i: number) => Buffer | null }): Generator<Buffer> {
    const per = this.spec.flavour === 'linux' ? 256 : 512;
    const size = content?.size ?? 0;
    const nblk = Math.ceil(size / TP_BSIZE);
    const sol = this.spec.flavour === 'solaris';
    let meta: Buffer | undefined;
    let shadow: Buffer | undefined;
    if (sol && (n.acl || n.defaultAcl)) {
      const m = solarisAclData(this.spec.order, n.acl, n.defaultAcl);
      if (n.aclInHeader && m.length <= 196) meta = m;
      else shadow = m;
    }
    let hadData = false;
    let first = true;
    for (let start = 0; first || start < nblk; start += per) {
      const cnt = Math.min(per, nblk - start);
      const blocks: (Buffer | null)[] = [];
      for (let i = 0; i < cnt; i++) blocks.push(content!.block(start + i));
      yield this.header(first ? TS_INODE : TS_ADDR, n.ino, { n, size: n.sizeOverride ?? size, addr: blocks.map((x) => (x ? 1 : 0)), meta: first ? meta : undefined });
      for (const x of blocks) if (x) {
        hadData = true;
        yield this.data(x);
      }
      first = false;
    }
    if (shadow) {
      const cnt = Math.ceil(shadow.length / TP_BSIZE);
      yield this.header(hadData ? TS_ADDR : TS_INODE, n.ino, { n, mode: IFSHAD, size: shadow.length, addr: new Array(cnt).fill(1) });
      for (let i = 0; i < cnt; i++) yield this.data(shadow.subarray(i * TP_BSIZE, (i + 1) * TP_BSIZE));
    }
    if (n.ea && !sol) {
      const cnt = Math.ceil(n.ea.length / TP_BSIZE);
      yield this.header(TS_INODE, n.ino, { n, size: n.ea.length, addr: new Array(cnt).fill(1), flags: DR_EXTATTRIBUTES, extattr: EXT_XATTR });
      for (let i = 0; i < cnt; i++) yield this.data(n.ea.subarray(i * TP_BSIZE, (i + 1) * TP_BSIZE));
    }
  }

  *records(): Generator<Buffer> {
    const s = this.spec;
    const mapBytes = Math.ceil(s.maxino / 8);
    const mapRecs = Math.max(1, Math.ceil(mapBytes / TP_BSIZE));
    yield this.header(TS_TAPE, 0, { count: 0 });
    yield this.header(TS_CLRI, s.maxino, { count: mapRecs });
    const map = Buffer.alloc(mapRecs * TP_BSIZE);
    for (let ino = 1; ino <= s.maxino; ino++) if (!s.inMap || s.inMap(ino)) map[(ino - 1) >> 3]! |= 1 << ((ino - 1) & 7);
    for (let i = 0; i < mapRecs; i++) yield this.data(Buffer.alloc(TP_BSIZE));
    yield this.header(TS_BITS, s.maxino, { count: mapRecs });
    for (let i = 0; i < mapRecs; i++) yield this.data(map.subarray(i * TP_BSIZE, (i + 1) * TP_BSIZE));
    for (const d of s.dirs) {
      const data = this.dirData(d);
      yield* this.inode(d, { size: data.length, block: (i) => data.subarray(i * TP_BSIZE, (i + 1) * TP_BSIZE) });
    }
    for (const f of s.files) {
      if (f.kind === 'file') {
        if (f.block) yield* this.inode(f, { size: f.size ?? 0, block: f.block });
        else {
          const d = f.data ?? Buffer.alloc(0);
          yield* this.inode(f, { size: d.length, block: (i) => d.subarray(i * TP_BSIZE, (i + 1) * TP_BSIZE) });
        }
      } else if (f.kind === 'symlink') {
        const t = Buffer.from(f.target ?? '', 'latin1');
        if (f.fastSymlink) {
          yield this.header(TS_INODE, f.ino, { n: f, size: t.length, addr: [] });
        } else if (f.iblock) {
          yield* this.inode(f, { size: t.length, block: () => null });
        } else {
          yield* this.inode(f, { size: t.length, block: () => t });
        }
      } else {
        yield* this.inode(f);
      }
    }
    if (!s.noEnd) yield this.header(TS_END, s.maxino, { count: 0 });
  }
}

/** The records of a synthetic dump, one Buffer per record. */
export function synthDump(spec: SynthSpec): Generator<Buffer> {
  return new DumpWriter(spec).records();
}

/**
 * Group records into chunks of up to `size` bytes (fewer async steps for big
 * streams); records that sit next to each other in memory (the writer's
 * slabs) are joined without copying.
 */
export async function* chunked(records: Iterable<Buffer>, size = 64 * 1024): AsyncGenerator<Buffer> {
  let cur: Buffer | null = null;
  for (const r of records) {
    if (cur && cur.buffer === r.buffer && cur.byteOffset + cur.length === r.byteOffset && cur.length + r.length <= size) {
      cur = Buffer.from(cur.buffer, cur.byteOffset, cur.length + r.length);
      continue;
    }
    if (cur) yield cur;
    cur = r;
  }
  if (cur) yield cur;
}

/**
 * A flat big tree for memory tests and the bench: `dirs` directories under
 * the root, `perDir` files in each, every `dataEvery`-th file with
 * `dataBytes` bytes of data (the rest empty). Nothing is held: directories
 * and files are generated as the stream is read.
 */
export function bigTreeSpec(opts: { dirs: number; perDir: number; dataEvery?: number; dataBytes?: number; order?: Order; flavour?: 'linux' | 'solaris' }): SynthSpec {
  const { dirs, perDir } = opts;
  const dataEvery = opts.dataEvery ?? 10;
  const dataBytes = opts.dataBytes ?? 100;
  const firstDir = 3;
  const firstFile = firstDir + dirs;
  const maxino = firstFile + dirs * perDir;
  const payload = Buffer.alloc(dataBytes, 0x61);
  return {
    order: opts.order ?? 'le',
    flavour: opts.flavour ?? 'linux',
    maxino,
    dirs: (function* () {
      const root: [string, number][] = [];
      for (let i = 0; i < dirs; i++) root.push([`d${i}`, firstDir + i]);
      yield { ino: 2, kind: 'dir', parent: 2, entries: root } as SynthDir;
      for (let i = 0; i < dirs; i++) {
        const entries: [string, number][] = [];
        for (let j = 0; j < perDir; j++) entries.push([`file-${i}-${j}.txt`, firstFile + i * perDir + j]);
        yield { ino: firstDir + i, kind: 'dir', parent: 2, entries } as SynthDir;
      }
    })(),
    files: (function* () {
      for (let k = 0; k < dirs * perDir; k++) {
        yield { ino: firstFile + k, kind: 'file', data: k % dataEvery === 0 ? payload : undefined, mtime: 1_600_000_000 + k } as SynthNode;
      }
    })(),
  };
}
