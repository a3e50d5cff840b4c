// Which container the first bytes hold: by content, never by file name
// (reference/formats.md section 6). Compression is undone before this runs.

import type { FormatName } from './types.js';

const DUMP_MAGICS = new Set([60011, 60012, 60013, 0x19540119]);

function octalField(b: Buffer, off: number, len: number): boolean {
  for (let i = off; i < off + len; i++) if (b[i]! < 0x30 || b[i]! > 0x37) return false;
  return true;
}

function tarChecksumOk(b: Buffer): boolean {
  if (b.length < 512) return false;
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < 512; i++) {
    const v = i >= 148 && i < 156 ? 0x20 : b[i]!;
    unsigned += v;
    signed += v > 127 ? v - 256 : v;
  }
  const field = b.subarray(148, 156).toString('latin1').replace(/[\0 ]+$/, '').replace(/^ +/, '');
  if (!/^[0-7]+$/.test(field)) return false;
  const want = parseInt(field, 8);
  return want === unsigned || want === signed;
}

function dumpMagicAt(b: Buffer): 'le' | 'be' | null {
  if (b.length < 32) return null;
  if (DUMP_MAGICS.has(b.readInt32LE(24)) && b.readInt32LE(0) === 1) return 'le';
  if (DUMP_MAGICS.has(b.readInt32BE(24)) && b.readInt32BE(0) === 1) return 'be';
  return null;
}

/** The container format of `head` (at least 1 KiB when available), or null. */
export function detectFormat(head: Buffer): FormatName | null {
  if (head.subarray(0, 14).toString('latin1') === 'FlAsH-aRcHiVe-') return 'flar';
  const m6 = head.subarray(0, 6).toString('latin1');
  if (m6 === '070707' && head.length >= 76 && octalField(head, 6, 70)) return 'cpio-odc';
  if (m6 === '070701') return 'cpio-newc';
  if (m6 === '070702') return 'cpio-crc';
  if (dumpMagicAt(head)) return 'dump';
  if (head.length >= 512 && head.subarray(257, 262).toString('latin1') === 'ustar' && tarChecksumOk(head)) return 'tar';
  if (head.length >= 26) {
    if (head[0] === 0xc7 && head[1] === 0x71 && binSane(head, 'le')) return 'cpio-bin-le';
    if (head[0] === 0x71 && head[1] === 0xc7 && binSane(head, 'be')) return 'cpio-bin-be';
  }
  if (head.length >= 512 && head[0] !== 0 && tarChecksumOk(head)) return 'tar';
  return null;
}

function binSane(h: Buffer, order: 'le' | 'be'): boolean {
  const namesize = order === 'le' ? h.readUInt16LE(20) : h.readUInt16BE(20);
  if (namesize === 0 || namesize > 4096) return false;
  if (h.length >= 26 + namesize) return h[26 + namesize - 1] === 0;
  return true;
}
