// Solaris cpio extensions (reference/formats.md section 2.4): ACL ancillary
// records (mode 0xE080), extended attribute records (mode 0xB000 under
// /dev/null/...) and sparse files (mode bit 0200000 with a holesdata prefix).

import type { SparseRegion } from '../entry.js';

/** Mode of an ACL ancillary entry (`SECMODE`), compared exactly. */
export const SECMODE = 0xe080;
/** Type bits of an extended-attribute entry (`_XATTR_CPIO_MODE`). */
export const XATTR_TYPE = 0xb000;
/** Sparse flag (`C_ISSPARSE`), outside S_IFMT. */
export const SPARSE_BIT = 0o200000;
/** Fixed part of the holesdata string: "%10lu %20llu ". */
export const HOLES_HDR = 32;

export function isSparseMode(mode: number): boolean {
  return (mode & 0x30000) === 0x10000;
}

/** Check that `b` is a sequence of sec_attr records; returns the ACL texts or an error message. */
export function parseAclRecords(b: Buffer): { texts: string[] } | { error: string } {
  const texts: string[] = [];
  let i = 0;
  if (b.length === 0) return { error: 'empty ACL record' };
  while (i < b.length) {
    if (b.length - i < 9) return { error: `short ACL record at byte ${i}` };
    const type = b[i]!;
    if (type < 0x30 || type > 0x37) return { error: `unknown ACL type ${JSON.stringify(String.fromCharCode(type))}` };
    const len = b.toString('latin1', i + 1, i + 7);
    if (!/^[0-7]{6}$/.test(len) || b[i + 7] !== 0) return { error: `bad ACL entry count at byte ${i}` };
    const end = b.indexOf(0, i + 8);
    if (end < 0) return { error: 'ACL text not NUL-terminated' };
    texts.push(b.toString('latin1', i + 8, end));
    i = end + 1;
    // Writers may pad the ancillary data with NULs.
    if (b.subarray(i).every((c) => c === 0)) break;
  }
  return { texts };
}

export interface XattrHdr {
  /** Base file path the attribute belongs to. */
  file: string;
  /** Attribute name (for a system attribute of an attribute: "attr/sysattr"). */
  attr: string;
  typeflag: string;
}

/** Parse a `/dev/null/<attr>.hdr` body (struct xattr_hdr + xattr_buf); null when malformed. */
export function parseXattrHdr(b: Buffer): XattrHdr | null {
  // xattr_hdr: h_version[7] h_size[10] h_component_len[10] h_link_component_len[10]
  // xattr_buf: h_namesz[7] h_typeflag[1] h_names[]
  if (b.length < 37 + 8) return null;
  if (!b.toString('latin1', 0, 7).startsWith('1.0')) return null;
  const typeflag = String.fromCharCode(b[44]!);
  const names = b.subarray(45);
  const parts: string[] = [];
  let p = 0;
  while (p < names.length && parts.length < 3) {
    const z = names.indexOf(0, p);
    if (z < 0) break;
    parts.push(names.toString('latin1', p, z));
    p = z + 1;
  }
  if (parts.length < 2 || parts[0] === '') return null;
  return { file: parts[0]!, attr: parts.slice(1).join('/'), typeflag };
}

export interface HolesHeader {
  /** Total holesdata length, including the fixed part and the NUL. */
  holesSize: number;
  /** Apparent (expanded) size of the file. */
  origSize: number;
}

function decimal(s: string): number | null {
  return /^[0-9]{1,20}$/.test(s) ? Number(s) : null;
}

/** The fixed 32-byte holesdata prefix "%10lu %20llu ", or an error message. */
export function parseHolesHeader(b: Buffer, filesize: number): HolesHeader | string {
  const s = b.toString('latin1', 0, HOLES_HDR);
  if (s[10] !== ' ' || s[31] !== ' ') return 'malformed sparse file header';
  const hs = decimal(s.slice(0, 10).trimStart());
  const os = decimal(s.slice(11, 31).trimStart());
  if (hs === null || os === null) return 'malformed sparse file header';
  if (hs <= HOLES_HDR || hs > filesize) return `sparse header size ${hs} out of range`;
  if (!Number.isSafeInteger(os)) return `sparse file size ${os} out of range`;
  return { holesSize: hs, origSize: os };
}

/**
 * The "<data> <hole> <data> <hole>...\0" list after the fixed prefix: data
 * regions in ascending order, the last hole at the original size. Returns the
 * non-empty regions, or an error message.
 */
export function parseHolesList(b: Buffer, origSize: number): SparseRegion[] | string {
  if (b.length === 0 || b[b.length - 1] !== 0) return 'sparse map not NUL-terminated';
  const s = b.toString('latin1', 0, b.length - 1);
  if (!/^[0-9]+ [0-9]+( [0-9]+ [0-9]+)*$/.test(s)) return 'malformed sparse map';
  const nums = s.split(' ').map(Number);
  const out: SparseRegion[] = [];
  let last = -1;
  for (let i = 0; i < nums.length; i += 2) {
    const data = nums[i]!;
    const hole = nums[i + 1]!;
    if (!Number.isSafeInteger(hole) || data <= last || hole < data) return 'sparse map offsets out of order';
    last = hole;
    if (hole > data) out.push({ offset: data, length: hole - data });
  }
  if (last !== origSize) return `sparse map ends at ${last}, not at the file size ${origSize}`;
  return out;
}
