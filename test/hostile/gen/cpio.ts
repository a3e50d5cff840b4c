// Byte-level cpio writers for the hostile corpus: newc/crc (security.md 1.0
// `newc`, with raw field overrides), odc, and binary in both byte orders.
// A name is given as latin1 or bytes; `namesize`/`filesize` may lie.

import { B } from './tar.js';

export type CpioVariant = 'newc' | 'crc' | 'odc' | 'bin-le' | 'bin-be';

export const S_IFREG = 0o100000;
export const S_IFDIR = 0o040000;
export const S_IFLNK = 0o120000;
export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;
export const S_IFIFO = 0o010000;
export const S_IFSOCK = 0o140000;

export interface CpioMember {
  name: string | Buffer;
  /** Full mode: type bits and permissions. */
  mode: number;
  data?: string | Buffer;
  ino?: number;
  nlink?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  rdev?: [number, number];
  dev?: [number, number];
  /** Lie about the name size (bytes including the NUL). */
  namesize?: number;
  /** Lie about the data size. */
  filesize?: number;
  /** Leave the NUL off the name. */
  noNul?: boolean;
  /** newc/crc: header field index -> raw 8 chars (ino 0, mode 1, uid 2, gid 3, nlink 4, mtime 5, filesize 6, devmaj 7, devmin 8, rdevmaj 9, rdevmin 10, namesize 11, check 12). */
  raw?: Record<number, string>;
  /** crc: the check field (default: the right byte sum). */
  check?: number;
}

const buf = (v: string | Buffer | undefined): Buffer => (v === undefined ? Buffer.alloc(0) : typeof v === 'string' ? B(v) : v);
const zpad = (n: number, a: number) => Buffer.alloc((a - (n % a)) % a);

function nameBytes(m: CpioMember): Buffer {
  const n = buf(m.name);
  return m.noNul ? n : Buffer.concat([n, Buffer.from([0])]);
}

function byteSum(b: Buffer): number {
  let s = 0;
  for (const x of b) s += x;
  return s % 4294967296;
}

export function newc(m: CpioMember, crc = false): Buffer {
  const name = nameBytes(m);
  const data = buf(m.data);
  const f = [
    m.ino ?? 0,
    m.mode,
    m.uid ?? 0,
    m.gid ?? 0,
    m.nlink ?? 1,
    m.mtime ?? 1_600_000_000,
    m.filesize ?? data.length,
    m.dev?.[0] ?? 0,
    m.dev?.[1] ?? 0,
    m.rdev?.[0] ?? 0,
    m.rdev?.[1] ?? 0,
    m.namesize ?? name.length,
    crc ? (m.check ?? byteSum(data)) : 0,
  ];
  const h = Buffer.from(`${crc ? '070702' : '070701'}${f.map((v) => (v >>> 0).toString(16).toUpperCase().padStart(8, '0')).join('')}`, 'latin1');
  for (const [i, v] of Object.entries(m.raw ?? {})) B(v.padEnd(8, '0').slice(0, 8)).copy(h, 6 + 8 * Number(i));
  const head = Buffer.concat([h, name]);
  return Buffer.concat([head, zpad(head.length, 4), data, zpad(data.length, 4)]);
}

const oct = (v: number, len: number) => {
  const s = v.toString(8).padStart(len, '0');
  return s.length > len ? '7'.repeat(len) : s;
};

export function odc(m: CpioMember): Buffer {
  const name = nameBytes(m);
  const data = buf(m.data);
  const rdev = m.rdev ? m.rdev[0] * 256 + m.rdev[1] : 0;
  const h =
    '070707' +
    oct(m.dev?.[0] ?? 0, 6) +
    oct(m.ino ?? 0, 6) +
    oct(m.mode, 6) +
    oct(m.uid ?? 0, 6) +
    oct(m.gid ?? 0, 6) +
    oct(m.nlink ?? 1, 6) +
    oct(rdev, 6) +
    oct(m.mtime ?? 1_600_000_000, 11) +
    oct(m.namesize ?? name.length, 6) +
    oct(m.filesize ?? data.length, 11);
  return Buffer.concat([B(h), name, data]);
}

export function bin(m: CpioMember, le = true): Buffer {
  const name = nameBytes(m);
  const data = buf(m.data);
  const h = Buffer.alloc(26);
  const w = (off: number, v: number) => (le ? h.writeUInt16LE(v & 0xffff, off) : h.writeUInt16BE(v & 0xffff, off));
  w(0, 0o070707);
  w(2, m.dev?.[0] ?? 0);
  w(4, m.ino ?? 0);
  w(6, m.mode);
  w(8, m.uid ?? 0);
  w(10, m.gid ?? 0);
  w(12, m.nlink ?? 1);
  w(14, m.rdev ? (m.rdev[0] << 8) | m.rdev[1] : 0);
  const mt = m.mtime ?? 1_600_000_000;
  w(16, Math.floor(mt / 65536));
  w(18, mt % 65536);
  w(20, m.namesize ?? name.length);
  const fs = m.filesize ?? data.length;
  w(22, Math.floor(fs / 65536));
  w(24, fs % 65536);
  const head = Buffer.concat([h, name]);
  return Buffer.concat([head, zpad(head.length, 2), data, zpad(data.length, 2)]);
}

/** One member in `variant`. */
export function member(variant: CpioVariant, m: CpioMember): Buffer {
  switch (variant) {
    case 'newc':
      return newc(m);
    case 'crc':
      return newc(m, true);
    case 'odc':
      return odc(m);
    case 'bin-le':
      return bin(m, true);
    case 'bin-be':
      return bin(m, false);
  }
}

export function trailer(variant: CpioVariant): Buffer {
  return member(variant, { name: 'TRAILER!!!', mode: 0, nlink: 1 });
}

/** Members plus the trailer. */
export function cpioArchive(variant: CpioVariant, members: CpioMember[], withTrailer = true): Buffer {
  return Buffer.concat([...members.map((m) => member(variant, m)), ...(withTrailer ? [trailer(variant)] : [])]);
}
