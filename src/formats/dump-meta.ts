// Metadata a dump carries beside file data (reference/formats.md 1.7):
// Solaris shadow-inode ACLs (ufs_fsd_t records, in the header when
// DR_HASMETA or in an IFSHAD header's data) and Linux dump EA blocks (an
// ext2 xattr block or in-inode xattr body, always little-endian).
//
// They land in Entry.xattrs under the pax keys a pax writer would use:
// ACLs as text ("user::rw-,user:1234:r--,group::r--,mask::r--,other::---")
// under SCHILY.acl.access / SCHILY.acl.default, other attributes raw under
// SCHILY.xattr.<full name> (e.g. SCHILY.xattr.user.comment).

import type { Order } from './dump-header.js';

export const ACL_ACCESS_KEY = 'SCHILY.acl.access';
export const ACL_DEFAULT_KEY = 'SCHILY.acl.default';
export const XATTR_PREFIX = 'SCHILY.xattr.';

const USER_OBJ = 0x01;
const USER = 0x02;
const GROUP_OBJ = 0x04;
const GROUP = 0x08;
const CLASS_OBJ = 0x10;
const OTHER_OBJ = 0x20;
const ACL_DEFAULT = 0x1000;

export interface AclEntry {
  tag: number;
  perm: number;
  id: number;
}

/** Problems found while decoding, for the caller's ctx.warn. */
export type MetaWarn = (message: string) => void;

function permText(p: number): string {
  return `${p & 4 ? 'r' : '-'}${p & 2 ? 'w' : '-'}${p & 1 ? 'x' : '-'}`;
}

/** POSIX.1e ACL text with numeric ids; null when a tag is unknown. */
export function aclText(entries: AclEntry[]): string | null {
  const parts: string[] = [];
  for (const e of entries) {
    const p = permText(e.perm);
    switch (e.tag & ~ACL_DEFAULT) {
      case USER_OBJ: parts.push(`user::${p}`); break;
      case USER: parts.push(`user:${e.id}:${p}`); break;
      case GROUP_OBJ: parts.push(`group::${p}`); break;
      case GROUP: parts.push(`group:${e.id}:${p}`); break;
      case CLASS_OBJ: parts.push(`mask::${p}`); break;
      case OTHER_OBJ: parts.push(`other::${p}`); break;
      default: return null;
    }
  }
  return parts.join(',');
}

function rd32(b: Buffer, off: number, o: Order): number {
  return o === 'le' ? b.readInt32LE(off) : b.readInt32BE(off);
}
function ru32(b: Buffer, off: number, o: Order): number {
  return o === 'le' ? b.readUInt32LE(off) : b.readUInt32BE(off);
}
function ru16(b: Buffer, off: number, o: Order): number {
  return o === 'le' ? b.readUInt16LE(off) : b.readUInt16BE(off);
}

const FSD_FREE = 0;
const FSD_ACL = 1;
const FSD_DFACL = 2;
const UFS_ACL_SIZE = 12;

/**
 * Solaris shadow-inode data: a run of ufs_fsd_t {int32 type, int32 size,
 * data} records holding 12-byte ufs_acl_t entries {u16 tag @0, u16 perm @4,
 * u32 who @8}. Adds SCHILY.acl.* keys to `out`.
 */
export function parseSolarisAcl(buf: Buffer, order: Order, out: Record<string, Buffer>, warn: MetaWarn): void {
  let off = 0;
  const access: AclEntry[] = [];
  const dflt: AclEntry[] = [];
  while (off + 8 <= buf.length) {
    const type = rd32(buf, off, order);
    const size = rd32(buf, off + 4, order);
    if (type === FSD_FREE || size <= 8) break;
    if (off + size > buf.length) {
      warn(`ACL record of ${size} bytes runs past the ${buf.length} bytes of ACL data; ignored`);
      break;
    }
    if (type === FSD_ACL || type === FSD_DFACL) {
      const list = type === FSD_ACL ? access : dflt;
      for (let p = off + 8; p + UFS_ACL_SIZE <= off + size; p += UFS_ACL_SIZE) {
        list.push({ tag: ru16(buf, p, order), perm: ru16(buf, p + 4, order), id: ru32(buf, p + 8, order) });
      }
    } else {
      warn(`unknown ACL record type ${type}; ignored`);
    }
    off += (size + 3) & ~3;
  }
  for (const [list, key] of [[access, ACL_ACCESS_KEY], [dflt, ACL_DEFAULT_KEY]] as const) {
    if (!list.length) continue;
    const t = aclText(list);
    if (t === null) warn(`ACL with an unknown entry tag; ${key} dropped`);
    else out[key] = Buffer.from(t, 'latin1');
  }
}

const EXT2_XATTR_MAGIC = 0xea020000;
const EXT2_XATTR_MAGIC2 = 0xea020001;
const PREFIX: Record<number, string> = {
  1: 'user.',
  4: 'trusted.',
  6: 'security.',
  7: 'system.',
  8: 'system.richacl',
};

/** ext2 on-disk ACL (version 1: short entries for *_OBJ) or xattr ACL (version 2). */
function ext2Acl(v: Buffer): AclEntry[] | null {
  if (v.length < 4) return null;
  const version = v.readUInt32LE(0);
  const out: AclEntry[] = [];
  let p = 4;
  while (p < v.length) {
    if (p + 4 > v.length) return null;
    const tag = v.readUInt16LE(p);
    const perm = v.readUInt16LE(p + 2);
    let id = 0;
    if (version === 2 || tag === USER || tag === GROUP) {
      if (p + 8 > v.length) return null;
      id = v.readUInt32LE(p + 4);
      p += 8;
    } else if (version === 1) {
      p += 4;
    } else {
      return null;
    }
    out.push({ tag, perm, id });
  }
  return out;
}

/**
 * Linux dump EA data: an ext2 xattr block (magic 0xEA020000, entries at 32,
 * values from the block start) or an in-inode body (magic 0xEA020001,
 * entries at 4, values from offset 4). Adds keys to `out`.
 */
export function parseExt2Ea(buf: Buffer, out: Record<string, Buffer>, warn: MetaWarn): void {
  if (buf.length < 4) return warn('extended attribute data too short; ignored');
  const magic = buf.readUInt32LE(0);
  let p: number;
  let valueBase: number;
  if (magic === EXT2_XATTR_MAGIC) {
    p = 32;
    valueBase = 0;
  } else if (magic === EXT2_XATTR_MAGIC2) {
    p = 4;
    valueBase = 4;
  } else {
    return warn(`extended attribute data with unknown magic 0x${magic.toString(16)}; ignored`);
  }
  while (p + 4 <= buf.length && buf.readUInt32LE(p) !== 0) {
    if (p + 16 > buf.length) return warn('extended attribute entry runs past its block; rest ignored');
    const nameLen = buf[p]!;
    const index = buf[p + 1]!;
    const valueOffs = buf.readUInt16LE(p + 2);
    const valueInum = buf.readUInt32LE(p + 4);
    const valueSize = buf.readUInt32LE(p + 8);
    if (p + 16 + nameLen > buf.length) return warn('extended attribute name runs past its block; rest ignored');
    const name = buf.toString('latin1', p + 16, p + 16 + nameLen);
    p += (16 + nameLen + 3) & ~3;
    const vStart = valueBase + valueOffs;
    if (valueInum !== 0 || vStart + valueSize > buf.length) {
      warn(`extended attribute value of ${JSON.stringify(name)} is not in its block; ignored`);
      continue;
    }
    const value = Buffer.from(buf.subarray(vStart, vStart + valueSize));
    if (index === 2 || index === 3) {
      const acl = ext2Acl(value);
      const text = acl && aclText(acl);
      if (text === null || text === undefined) warn('undecodable POSIX ACL; ignored');
      else out[index === 2 ? ACL_ACCESS_KEY : ACL_DEFAULT_KEY] = Buffer.from(text, 'latin1');
      continue;
    }
    const prefix = PREFIX[index];
    if (prefix === undefined) {
      warn(`extended attribute with unknown name index ${index}; ignored`);
      continue;
    }
    out[XATTR_PREFIX + prefix + (index === 8 ? '' : name)] = value;
  }
}
