// cpio header layouts (reference/formats.md section 2.1): which variant a
// header is, from its magic, and its fields as numbers. Strict: every digit of
// an ASCII field must be a digit of its base (parseInt would accept junk).

import { ArchiveError, type Where } from '../errors.js';

export type CpioVariant = 'bin-le' | 'bin-be' | 'odc' | 'newc' | 'crc';

export interface CpioHeader {
  variant: CpioVariant;
  /** Fixed header length: 26 (bin), 76 (odc), 110 (newc, crc). */
  size: number;
  /** Alignment of header+name and of the data: 2 (bin), 1 (odc), 4 (newc, crc). */
  align: number;
  /** Device of the inode: bin/odc's dev field, newc/crc's devmajor. */
  devMajor: number;
  /** newc/crc's devminor; 0 for bin/odc (one dev field). */
  devMinor: number;
  ino: number;
  /** Full mode field: type bits, permission bits, Solaris extras (0200000 sparse). */
  mode: number;
  uid: number;
  gid: number;
  nlink: number;
  rdevMajor: number;
  rdevMinor: number;
  mtime: number;
  /** Name length including the trailing NUL. */
  namesize: number;
  filesize: number;
  /** crc: sum of the data bytes mod 2^32; 0 elsewhere. */
  check: number;
}

export const HEADER_SIZE: Record<CpioVariant, number> = { 'bin-le': 26, 'bin-be': 26, odc: 76, newc: 110, crc: 110 };

/** The variant whose magic starts at `b[at]` (at least 6 bytes for the ASCII ones), or null. */
export function sniffVariant(b: Buffer, at = 0): CpioVariant | null {
  const n = b.length - at;
  if (n >= 2) {
    if (b[at] === 0xc7 && b[at + 1] === 0x71) return 'bin-le';
    if (b[at] === 0x71 && b[at + 1] === 0xc7) return 'bin-be';
  }
  if (n >= 6 && b[at] === 0x30 && b[at + 1] === 0x37 && b[at + 2] === 0x30 && b[at + 3] === 0x37 && b[at + 4] === 0x30) {
    if (b[at + 5] === 0x37) return 'odc';
    if (b[at + 5] === 0x31) return 'newc';
    if (b[at + 5] === 0x32) return 'crc';
  }
  return null;
}

/** True when `b` (shorter than a magic) could still be the start of one. */
export function couldBeMagicPrefix(b: Buffer): boolean {
  if (b.length === 0) return true;
  if (b.length === 1 && (b[0] === 0xc7 || b[0] === 0x71)) return true;
  const ascii = '07070';
  for (let i = 0; i < b.length && i < 5; i++) if (b[i] !== ascii.charCodeAt(i)) return false;
  return b.length < 6;
}

const HEX = new Int8Array(256).fill(-1);
const OCT = new Int8Array(256).fill(-1);
for (let i = 0; i < 10; i++) HEX[0x30 + i] = i;
for (let i = 0; i < 6; i++) {
  HEX[0x41 + i] = 10 + i;
  HEX[0x61 + i] = 10 + i;
}
for (let i = 0; i < 8; i++) OCT[0x30 + i] = i;

function badField(variant: CpioVariant, field: string, b: Buffer, off: number, len: number, where: Where): ArchiveError {
  const raw = b.toString('latin1', off, off + len).replace(/[^\x20-\x7e]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return new ArchiveError('bad-header', `invalid ${field} field "${raw}" in a cpio ${variant} header`, where, 'the archive is corrupt or not a cpio archive');
}

function field(table: Int8Array, base: number, variant: CpioVariant, name: string, b: Buffer, off: number, len: number, where: Where): number {
  let v = 0;
  for (let i = off; i < off + len; i++) {
    const d = table[b[i]!]!;
    if (d < 0) throw badField(variant, name, b, off, len, where);
    v = v * base + d;
  }
  return v;
}

// Module-level field readers, not closures per header: a closure per call
// was garbage for every member of the archive.
const octal = (name: string, b: Buffer, off: number, len: number, where: Where) => field(OCT, 8, 'odc', name, b, off, len, where);
const hex8 = (variant: CpioVariant, name: string, b: Buffer, off: number, where: Where) => field(HEX, 16, variant, name, b, off, 8, where);

/** Decode the fixed header at `b[at]` (HEADER_SIZE[variant] bytes). */
export function decodeHeader(variant: CpioVariant, b: Buffer, where: Where, at = 0): CpioHeader {
  switch (variant) {
    case 'bin-le':
    case 'bin-be': {
      const le = variant === 'bin-le';
      const u16 = (o: number) => (le ? b.readUInt16LE(at + o) : b.readUInt16BE(at + o));
      const dev = u16(2);
      const ino = u16(4);
      const rdev = u16(14);
      return {
        variant,
        size: 26,
        align: 2,
        devMajor: dev,
        devMinor: 0,
        ino,
        mode: u16(6),
        uid: u16(8),
        gid: u16(10),
        nlink: u16(12),
        rdevMajor: rdev >>> 8,
        rdevMinor: rdev & 0xff,
        // 32-bit values are two 16-bit halves, the most significant first.
        mtime: u16(16) * 65536 + u16(18),
        namesize: u16(20),
        filesize: u16(22) * 65536 + u16(24),
        check: 0,
      };
    }
    case 'odc': {
      const dev = octal('dev', b, at + 6, 6, where);
      const ino = octal('ino', b, at + 12, 6, where);
      const rdev = octal('rdev', b, at + 42, 6, where);
      return {
        variant,
        size: 76,
        align: 1,
        devMajor: dev,
        devMinor: 0,
        ino,
        mode: octal('mode', b, at + 18, 6, where),
        uid: octal('uid', b, at + 24, 6, where),
        gid: octal('gid', b, at + 30, 6, where),
        nlink: octal('nlink', b, at + 36, 6, where),
        // Written as an old 16-bit dev_t: major << 8 | minor.
        rdevMajor: Math.floor(rdev / 256),
        rdevMinor: rdev & 0xff,
        mtime: octal('mtime', b, at + 48, 11, where),
        namesize: octal('namesize', b, at + 59, 6, where),
        filesize: octal('filesize', b, at + 65, 11, where),
        check: 0,
      };
    }
    case 'newc':
    case 'crc': {
      const ino = hex8(variant, 'ino', b, at + 6, where);
      const devMajor = hex8(variant, 'devmajor', b, at + 62, where);
      const devMinor = hex8(variant, 'devminor', b, at + 70, where);
      return {
        variant,
        size: 110,
        align: 4,
        devMajor,
        devMinor,
        ino,
        mode: hex8(variant, 'mode', b, at + 14, where),
        uid: hex8(variant, 'uid', b, at + 22, where),
        gid: hex8(variant, 'gid', b, at + 30, where),
        nlink: hex8(variant, 'nlink', b, at + 38, where),
        mtime: hex8(variant, 'mtime', b, at + 46, where),
        filesize: hex8(variant, 'filesize', b, at + 54, where),
        rdevMajor: hex8(variant, 'rdevmajor', b, at + 78, where),
        rdevMinor: hex8(variant, 'rdevminor', b, at + 86, where),
        namesize: hex8(variant, 'namesize', b, at + 94, where),
        check: hex8(variant, 'check', b, at + 102, where),
      };
    }
  }
}

/**
 * Hard-link group key: variant family + device + inode. Built only for
 * members with links (a string per header was a tenth of the parser's
 * allocations).
 */
export function linkKey(h: CpioHeader): string {
  return h.size === 110 ? `n${h.devMajor}:${h.devMinor}:${h.ino}` : `o${h.devMajor}:${h.ino}`;
}

/** Bytes of padding after `n` bytes to reach a multiple of `align`. */
export function padding(n: number, align: number): number {
  const r = n % align;
  return r === 0 ? 0 : align - r;
}

/**
 * Sum of the bytes of `b` (unsigned), for the crc format's check field. Four
 * bytes a step through a 32-bit view, two 16-bit lanes folded every 128 words
 * (128 * 510 < 65536, so a lane cannot carry into the next).
 */
export function byteSum(b: Uint8Array): number {
  let sum = 0;
  let i = 0;
  const n = b.length;
  const head = (4 - (b.byteOffset & 3)) & 3;
  for (; i < head && i < n; i++) sum += b[i]!;
  const words = (n - i) >>> 2;
  if (words > 0) {
    const w = new Uint32Array(b.buffer, b.byteOffset + i, words);
    let k = 0;
    while (k < words) {
      const end = Math.min(words, k + 128);
      let acc = 0;
      for (; k < end; k++) {
        const x = w[k]!;
        acc += (x & 0x00ff00ff) + ((x >>> 8) & 0x00ff00ff);
      }
      sum += (acc & 0xffff) + (acc >>> 16);
    }
    i += words * 4;
  }
  for (; i < n; i++) sum += b[i]!;
  return sum;
}
