// ufsdump / BSD dump header records (reference/formats.md 1.1-1.4, 1.10):
// constants, byte order and flavour detection, checksum, and the decoded
// header. Every integer is read in the writer's byte order; the three dinode
// layouts (Solaris, Linux dump, FreeBSD) differ in where uid, gid, mtime and
// rdev live.

import { ArchiveError } from '../errors.js';

export const TP_BSIZE = 1024;
export const TP_BSIZE_MAX = 65536;
export const TP_NINDIR = 512;

export const OFS_MAGIC = 60011;
export const NFS_MAGIC = 60012;
export const MTB_MAGIC = 60013;
export const FS_UFS2_MAGIC = 0x19540119;
export const CHECKSUM = 84446;

export const TS_TAPE = 1;
export const TS_INODE = 2;
export const TS_BITS = 3;
export const TS_ADDR = 4;
export const TS_END = 5;
export const TS_CLRI = 6;
export const TS_EOM = 7;

export const TS_NAMES: Record<number, string> = {
  [TS_TAPE]: 'TS_TAPE',
  [TS_INODE]: 'TS_INODE',
  [TS_BITS]: 'TS_BITS',
  [TS_ADDR]: 'TS_ADDR',
  [TS_END]: 'TS_END',
  [TS_CLRI]: 'TS_CLRI',
  [TS_EOM]: 'TS_EOM',
};

export const DR_NEWHEADER = 0x1;
/** Solaris: TS_TAPE carries c_inos. BSD/Linux: the same bit is DR_NEWINODEFMT. */
export const DR_INODEINFO = 0x2;
export const DR_NEWINODEFMT = 0x2;
/** Solaris: a small ACL lives in the header at 692..887. */
export const DR_HASMETA = 0x10;
export const DR_COMPRESSED = 0x80;
export const DR_METAONLY = 0x100;
export const DR_EXTATTRIBUTES = 0x8000;
export const EXT_XATTR = 3;
/** Linux: ext4 di_flags bit of an inode whose data lives in i_block and the system.data EA. */
export const EXT4_INLINE_DATA_FL = 0x10000000;

export const IFMT = 0o170000;
export const IFIFO = 0o010000;
export const IFCHR = 0o020000;
export const IFDIR = 0o040000;
export const IFBLK = 0o060000;
export const IFREG = 0o100000;
export const IFLNK = 0o120000;
export const IFSHAD = 0o130000;
export const IFSOCK = 0o140000;
export const IFATTRDIR = 0o160000;

export type Order = 'le' | 'be';
export type Flavour = 'solaris' | 'linux' | 'freebsd';

export interface DumpFormat {
  order: Order;
  flavour: Flavour;
  magic: number;
  /** Record size: 1024, or c_tpbsize for Solaris MTB dumps. */
  bsize: number;
  /** Directory records use u8 d_type + u8 d_namlen (4.4BSD) rather than a u16 d_namlen. */
  newDirFormat: boolean;
}

/** One decoded header record. Offsets are in the dump stream. */
export interface Header {
  type: number;
  date: number;
  ddate: number;
  volume: number;
  tapea: number;
  ino: number;
  magic: number;
  /** Full 16-bit mode (type and permission bits). */
  mode: number;
  nlink: number;
  size: number;
  mtime: number;
  mtimeNsec: number;
  uid: number;
  gid: number;
  devMajor: number;
  devMinor: number;
  /** ic_flags / di_flags (Solaris IXATTR = 1). */
  iflags: number;
  blocks: number;
  /** Solaris: shadow (ACL) inode number, 0 for none. */
  shadow: number;
  /** Solaris: extended-attribute directory inode, 0 for none. */
  xattrDir: number;
  /** FreeBSD: bytes of extended-attribute data (c_extsize). */
  extsize: number;
  count: number;
  /** c_addr[0..count): nonzero = a data block follows, zero = hole. */
  addr: Buffer;
  level: number;
  flags: number;
  firstrec: number;
  extattr: number;
  /** The whole record (for DR_HASMETA, fast symlinks, c_inos). */
  raw: Buffer;
  /** Byte offset of the record in the dump stream. */
  offset: number;
}

// Fields by hand rather than with Buffer's readInt32LE and friends: those
// validate their offset through a wrapper that cost more than the read (a
// quarter of the dump parser's own time). Offsets are fixed within a record;
// the bounds check stays.
function inRange(b: Buffer, off: number, n: number): void {
  if (!(off >= 0 && off + n <= b.length)) throw new RangeError(`field at ${off} (+${n}) is outside the ${b.length}-byte record`);
}
function i32(b: Buffer, off: number, o: Order): number {
  inRange(b, off, 4);
  return o === 'le'
    ? b[off]! | (b[off + 1]! << 8) | (b[off + 2]! << 16) | (b[off + 3]! << 24)
    : (b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!;
}
function u32(b: Buffer, off: number, o: Order): number {
  return i32(b, off, o) >>> 0;
}
function u16(b: Buffer, off: number, o: Order): number {
  inRange(b, off, 2);
  return o === 'le' ? b[off]! | (b[off + 1]! << 8) : (b[off]! << 8) | b[off + 1]!;
}
function i16(b: Buffer, off: number, o: Order): number {
  return (u16(b, off, o) << 16) >> 16;
}
function u64(b: Buffer, off: number, o: Order): bigint {
  return o === 'le' ? b.readBigUInt64LE(off) : b.readBigUInt64BE(off);
}
function i64(b: Buffer, off: number, o: Order): bigint {
  return o === 'le' ? b.readBigInt64LE(off) : b.readBigInt64BE(off);
}

export const readU32 = u32;
export const readU16 = u16;
export const readI32 = i32;

const KNOWN_MAGICS = [NFS_MAGIC, MTB_MAGIC, FS_UFS2_MAGIC, OFS_MAGIC];

const NATIVE_LE = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** An Int32Array over the last input chunk a header came from: one per chunk, not one per header. */
let wordsOf: ArrayBufferLike | null = null;
let words: Int32Array<ArrayBufferLike> = new Int32Array(0);

/** Sum of the record's 32-bit words modulo 2^32 equals CHECKSUM. */
export function checksumOk(rec: Buffer, o: Order): boolean {
  let s = 0;
  const n = rec.length & ~3;
  if ((o === 'le') === NATIVE_LE && (rec.byteOffset & 3) === 0) {
    if (rec.buffer !== wordsOf) {
      wordsOf = rec.buffer;
      words = new Int32Array(rec.buffer, 0, rec.buffer.byteLength >> 2);
    }
    const w = words;
    const end = (rec.byteOffset + n) >> 2;
    for (let i = rec.byteOffset >> 2; i < end; i++) s = (s + w[i]!) | 0;
  } else for (let i = 0; i < n; i += 4) s = (s + i32(rec, i, o)) | 0;
  return s === CHECKSUM;
}

/** Fill in c_checksum so that the record sums to CHECKSUM (writers, tests). */
export function setChecksum(rec: Buffer, o: Order): void {
  rec.writeInt32LE(0, 28);
  let s = 0;
  const n = rec.length & ~3;
  for (let i = 0; i < n; i += 4) s = (s + i32(rec, i, o)) | 0;
  const v = (CHECKSUM - s) | 0;
  if (o === 'le') rec.writeInt32LE(v, 28);
  else rec.writeInt32BE(v, 28);
}

/**
 * Byte order, flavour and record size from the first 1024 bytes of a dump
 * (formats.md 1.2 "Telling the flavours apart", 1.4, 1.10).
 */
export function detectDumpFormat(first: Buffer, offset: number): DumpFormat {
  if (first.length < TP_BSIZE) {
    throw new ArchiveError('truncated', `dump volume header is ${first.length} bytes, not ${TP_BSIZE}`, { offset });
  }
  let order: Order | null = null;
  let magic = 0;
  for (const o of ['le', 'be'] as const) {
    const m = i32(first, 24, o);
    if (KNOWN_MAGICS.includes(m)) {
      order = o;
      magic = m;
      break;
    }
  }
  if (!order) throw new ArchiveError('dump-magic', 'not a dump: no dump magic number at offset 24 of the first record', { offset });
  if (magic === OFS_MAGIC) {
    throw new ArchiveError('unsupported', 'old 4.1BSD (OFS_MAGIC 60011) dump format is not supported', { offset }, 'make a level 0 dump with ufsdump or a current dump(8)');
  }
  let bsize = TP_BSIZE;
  if (magic === MTB_MAGIC) {
    bsize = u32(first, 896, order);
    if (bsize < TP_BSIZE || bsize > TP_BSIZE_MAX || bsize % TP_BSIZE !== 0) {
      throw new ArchiveError('dump-header', `MTB dump with an invalid record size c_tpbsize=${bsize}`, { offset });
    }
  }
  const w896 = i32(first, 896, order);
  let flavour: Flavour;
  if (magic === MTB_MAGIC) flavour = 'solaris';
  else if (magic === FS_UFS2_MAGIC) flavour = 'freebsd';
  else if (w896 === 0) flavour = 'solaris';
  else if (w896 === i32(first, 4, order)) flavour = 'freebsd';
  else flavour = 'linux';
  const flags = i32(first, 888, order);
  const newDirFormat = flavour !== 'solaris' && (flags & DR_NEWINODEFMT) !== 0;
  return { order, flavour, magic, bsize, newDirFormat };
}

/**
 * A 64-bit field as a number, from its two 32-bit halves (a BigInt per
 * header was garbage on every file); outside the safe-integer range is an
 * error, named with the exact value.
 */
function num64(b: Buffer, off: number, o: Order, signed: boolean, what: string, offset: number): number {
  const le = o === 'le';
  const lo = u32(b, le ? off : off + 4, o);
  const hiAt = le ? off + 4 : off;
  const hi = signed ? i32(b, hiAt, o) : u32(b, hiAt, o);
  const v = hi * 4294967296 + lo;
  if (!Number.isSafeInteger(v)) {
    throw new ArchiveError('dump-header', `${what} ${signed ? i64(b, off, o) : u64(b, off, o)} is out of range`, { offset });
  }
  return v;
}

/** Decode a header record (checksum and magic already checked). */
export function decodeHeader(rec: Buffer, f: DumpFormat, offset: number): Header {
  const o = f.order;
  const type = i32(rec, 0, o);
  const flags = i32(rec, 888, o);
  const mode = u16(rec, 32, o);
  let uid: number;
  let gid: number;
  let mtime: number;
  let mtimeNsec: number;
  let devMajor: number;
  let devMinor: number;
  let date = i32(rec, 4, o);
  let tapea = u32(rec, 16, o);
  if (f.flavour === 'solaris') {
    const suid = u16(rec, 36, o);
    const sgid = u16(rec, 38, o);
    uid = suid === 0xffff ? u32(rec, 148, o) : suid;
    gid = sgid === 0xffff ? u32(rec, 152, o) : sgid;
    mtime = i32(rec, 56, o);
    const usec = i32(rec, 60, o);
    mtimeNsec = usec >= 0 && usec < 1_000_000 ? usec * 1000 : 0;
    const x = u32(rec, o === 'be' ? 72 : 76, o);
    const hi = (x & 0xffff0000) >>> 0;
    if (hi === 0 || hi === 0xffff0000) {
      devMajor = (x >>> 8) & 0x7f;
      devMinor = x & 0xff;
    } else {
      devMajor = x >>> 18;
      devMinor = x & 0x3ffff;
    }
  } else if (f.flavour === 'linux') {
    uid = u32(rec, 144, o);
    gid = u32(rec, 148, o);
    mtime = i32(rec, 56, o);
    const usec = i32(rec, 60, o);
    mtimeNsec = usec >= 0 && usec < 1_000_000 ? usec * 1000 : 0;
    const b0 = u32(rec, 72, o);
    if (b0 !== 0) {
      devMajor = (b0 >>> 8) & 0xff;
      devMinor = b0 & 0xff;
    } else {
      const x = u32(rec, 76, o);
      devMajor = (x & 0xfff00) >>> 8;
      devMinor = ((x & 0xff) | ((x >>> 12) & 0xfff00)) >>> 0;
    }
  } else {
    uid = u32(rec, 144, o);
    gid = u32(rec, 148, o);
    mtime = num64(rec, 96, o, true, 'mtime', offset);
    const nsec = i32(rec, 60, o);
    mtimeNsec = nsec >= 0 && nsec < 1_000_000_000 ? nsec : 0;
    const x = u32(rec, 72, o);
    devMajor = (x >>> 8) & 0xff;
    devMinor = (x & 0xffff00ff) >>> 0;
    date = num64(rec, 896, o, true, 'c_date', offset);
    if (f.magic === FS_UFS2_MAGIC) tapea = num64(rec, 912, o, true, 'c_tapea', offset);
  }
  const count = i32(rec, 160, o);
  const addrLen = Math.max(0, Math.min(count, TP_NINDIR));
  return {
    type,
    date,
    ddate: i32(rec, 8, o),
    volume: i32(rec, 12, o),
    tapea,
    ino: u32(rec, 20, o),
    magic: i32(rec, 24, o),
    mode,
    nlink: i16(rec, 34, o),
    size: num64(rec, 40, o, false, 'file size', offset),
    mtime,
    mtimeNsec,
    uid,
    gid,
    devMajor,
    devMinor,
    iflags: u32(rec, 132, o),
    blocks: u32(rec, 136, o),
    shadow: f.flavour === 'solaris' ? u32(rec, 144, o) : 0,
    xattrDir: f.flavour === 'solaris' ? u32(rec, 156, o) : 0,
    extsize: f.flavour === 'freebsd' ? u32(rec, 104, o) : 0,
    count,
    addr: rec.subarray(164, 164 + addrLen),
    level: f.flavour === 'solaris' && flags & DR_HASMETA ? 0 : i32(rec, 692, o),
    flags,
    firstrec: i32(rec, 892, o),
    extattr: f.flavour === 'linux' ? u32(rec, 900, o) : 0,
    raw: rec,
    offset,
  };
}

/** What a header with the file's inode number carries. */
export type HeaderKind = 'data' | 'shadow' | 'ea';

export function headerKind(h: Header, f: DumpFormat): HeaderKind {
  if (f.flavour === 'solaris' && (h.mode & IFMT) === IFSHAD) return 'shadow';
  if (f.flavour === 'linux' && h.flags & DR_EXTATTRIBUTES && h.extattr !== 0) return 'ea';
  return 'data';
}
