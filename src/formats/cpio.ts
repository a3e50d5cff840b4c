// cpio reader: bin (both byte orders), odc, newc and crc. Each header is
// read by its own magic, so variants may even be mixed in one stream (GNU
// cpio 2.13 fixes the variant from the first header and fails on such a
// stream; accepting it costs nothing). reference/formats.md section 2;
// hostile cases: security.md E12, C9.
//
// Decisions worth knowing:
// - The trailer is an entry named exactly "TRAILER!!!" with no data and a
//   regular (or zero) type. A symlink or a file with data of that name is an
//   ordinary entry (libarchive test_read_format_cpio_symlink_trailer).
// - After the trailer the rest of the input is read to its end (so that a
//   decompressor's late error surfaces). NUL padding is expected; anything
//   else is ignored with one warning: "concatenated-archive" when it starts
//   with a cpio magic (GNU cpio and bsdtar read only the first archive, and so
//   do we), "trailing-garbage" otherwise.
// - Hard links are regular files with nlink > 1 sharing (dev, ino) (newc:
//   devmajor, devminor, ino). bin/odc: the first member is the file, later
//   ones link to it (their data copy is skipped). newc/crc: zero-size
//   members wait (metadata only) for the member with the data, which is
//   yielded as the file followed by them as links; a group that never gets
//   data becomes an empty file and links (when all nlink members are seen,
//   else at the trailer), as GNU cpio extracts it. A member whose size, mode
//   or owner differ from its group's is not linked: it becomes an independent
//   file (with its own data in bin/odc) and a "link-mismatch" warning. GNU cpio would link it and drop
//   its data; an inode number truncated to 16 or 18 bits can alias unrelated
//   files, so keeping the data is the safer reading.
// - Symlink targets are the entry's data, capped at limits.maxPathBytes.
// - crc checksums are verified on regular files (GNU writes 0 for symlinks);
//   a mismatch is an ArchiveError of kind "checksum" (a warning if lenient).
// - Solaris records: an ACL (mode 0xE080) goes to the next entry of the same
//   name as xattrs["SUN.acl"] (raw sec_attr records, as the tar reader keeps
//   them); extended attributes (0xB000, /dev/null/...) are skipped with an
//   "xattr-skipped" warning (the file was already yielded); sparse files
//   (0200000) become Entry.sparse regions.

import { type Body, type Entry, type EntryType, emptyBody } from '../entry.js';
import { ArchiveError, TruncatedError, type Where } from '../errors.js';
import type { ByteReader } from '../source/reader.js';
import type { ParseContext, ParseFn } from './types.js';
import { type CpioHeader, type CpioVariant, HEADER_SIZE, byteSum, couldBeMagicPrefix, decodeHeader, linkKey, padding, sniffVariant } from './cpio-header.js';
import { HOLES_HDR, SECMODE, XATTR_TYPE, isSparseMode, parseAclRecords, parseHolesHeader, parseHolesList, parseXattrHdr } from './cpio-solaris.js';

const S_IFMT = 0o170000;
const TYPES: Record<number, EntryType> = {
  0o100000: 'file',
  0o040000: 'dir',
  0o120000: 'symlink',
  0o010000: 'fifo',
  0o020000: 'char',
  0o060000: 'block',
  0o140000: 'socket',
};

const TRAILER = 'TRAILER!!!';
/**
 * Most zero-size newc/crc link members kept waiting for their data at once.
 * Writers emit a link group together (or all leftovers at the end), so real
 * archives stay far below this; it bounds memory against hostile input.
 */
export const MAX_PENDING_LINKS = 262144;
/** xattrs key under which a Solaris ACL ancillary record (raw sec_attr records) is kept. */
export const ACL_XATTR = 'SUN.acl';

/** Re-throw a reader truncation with the entry it happened in. */
function withWhere(e: unknown, where: Where): never {
  if (e instanceof TruncatedError && e.entry === undefined) {
    throw new TruncatedError(e.message.replace(/ \(the archive is incomplete.*$/, '').replace(/^at offset \d+: /, ''), { ...where, offset: e.offset ?? where.offset });
  }
  throw e;
}

async function readExact(r: ByteReader, n: number, what: string, where: Where): Promise<Buffer> {
  try {
    return await r.read(n, what);
  } catch (e) {
    withWhere(e, where);
  }
}

async function skipExact(r: ByteReader, n: number, what: string, where: Where): Promise<void> {
  if (n === 0) return;
  try {
    await r.skip(n, what);
  } catch (e) {
    withWhere(e, where);
  }
}

/**
 * The body of one member: served from the reader, skipped if not read, and
 * for crc summed whether read or skipped, the sum checked at its end. It is
 * its own Body (no iterator object or closures per entry).
 */
class MemberBody implements Body {
  private left: number;
  private started = false;
  private sum: number;
  private checked = false;

  constructor(
    private readonly r: ByteReader,
    private readonly n: number,
    private readonly where: Where,
    private readonly verify: { check: number; lenient: boolean; warn: ParseContext['warn'] } | null,
    initialSum = 0,
  ) {
    this.left = n;
    this.sum = initialSum;
  }

  body = (): Body => {
    if (this.started) throw new Error('entry body read twice');
    this.started = true;
    return this;
  };

  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    return this.iterate();
  }

  /** The whole body when the reader holds it already (before any iteration). */
  takeNow(): Buffer | undefined {
    if (this.left !== this.n) return undefined;
    const c = this.r.takeBuffered(this.left);
    if (c === undefined) return undefined;
    this.left = 0;
    if (this.verify) this.sum += byteSum(c);
    this.verifySum();
    return c;
  }

  private async *iterate(): AsyncGenerator<Buffer> {
    while (this.left > 0) {
      const c = await this.chunk();
      yield c;
    }
    this.verifySum();
  }

  private async chunk(): Promise<Buffer> {
    const before = this.r.position;
    const c = await this.r.readSome(this.left);
    if (c.length === 0) {
      throw new TruncatedError(`unexpected end of input in file data: ${this.left} of ${this.n} bytes missing`, { ...this.where, offset: before });
    }
    this.left -= c.length;
    if (this.verify) this.sum += byteSum(c);
    return c;
  }

  private verifySum(): void {
    if (!this.verify || this.checked) return;
    this.checked = true;
    const got = this.sum % 4294967296;
    if (got === this.verify.check) return;
    const msg = `crc checksum mismatch: header says ${this.verify.check}, data sums to ${got}`;
    if (this.verify.lenient) this.verify.warn({ kind: 'checksum', message: msg, ...this.where });
    else throw new ArchiveError('checksum', msg, this.where, 'the archive is corrupt: recreate or re-transfer it');
  }

  /** finish() when nothing is left to skip: true when done (sum checked), false when finish() must run. */
  finishNow(): boolean {
    if (this.left > 0) return false;
    this.started = true;
    this.verifySum();
    return true;
  }

  /** Skip (and sum) what the consumer did not read; check the sum. */
  async finish(): Promise<void> {
    this.started = true;
    if (this.left > 0) {
      if (this.verify) {
        while (this.left > 0) await this.chunk();
      } else {
        const k = this.left;
        this.left = 0;
        await skipExact(this.r, k, 'file data', this.where);
      }
    }
    this.verifySum();
  }
}

interface Pending {
  entry: Entry;
  h: CpioHeader;
}

interface Group {
  nlink: number;
  seen: number;
  /** Path of the member yielded as the file, once there is one. */
  target?: string;
  h?: CpioHeader;
  /** newc/crc: earlier zero-size members waiting for the member with the data. */
  pending: Pending[];
}

function sameInode(a: CpioHeader, b: CpioHeader, withSize: boolean): boolean {
  return (a.mode & 0o7777) === (b.mode & 0o7777) && a.uid === b.uid && a.gid === b.gid && (!withSize || a.filesize === b.filesize);
}

function asHardlink(e: Entry, target: string): Entry {
  return { ...e, type: 'hardlink', linkTarget: target, size: 0, sparse: undefined, body: emptyBody };
}

const ZEROS = Buffer.alloc(65536);

/** The first non-zero byte of `c`, or -1. */
function firstNonZero(c: Buffer): number {
  for (let off = 0; off < c.length; off += ZEROS.length) {
    const part = c.subarray(off, off + ZEROS.length);
    if (part.equals(ZEROS.subarray(0, part.length))) continue;
    for (let i = 0; i < part.length; i++) if (part[i] !== 0) return off + i;
  }
  return -1;
}

/** Read after the trailer to the end of input; warn once about non-NUL bytes. */
async function drainAfterTrailer(r: ByteReader, ctx: ParseContext): Promise<void> {
  let probe: Buffer | null = null;
  let probeAt = 0;
  await r.drain((c, off) => {
    if (probe === null) {
      const i = firstNonZero(c);
      if (i < 0) return;
      probe = Buffer.from(c.subarray(i, i + 6));
      probeAt = off + i;
    } else if (probe.length < 6) {
      probe = Buffer.concat([probe, c.subarray(0, 6 - probe.length)]);
    }
  });
  if (probe === null) return;
  const p: Buffer = probe;
  if (sniffVariant(p)) {
    ctx.warn({
      kind: 'concatenated-archive',
      message: 'another cpio archive follows the trailer; it is ignored, as GNU cpio and bsdtar do',
      offset: probeAt,
    });
  } else {
    ctx.warn({ kind: 'trailing-garbage', message: 'non-NUL bytes after the cpio trailer are ignored', offset: probeAt });
  }
}

export const parseCpio: ParseFn = async function* (r, ctx) {
  const limits = ctx.limits;
  const groups = new Map<string, Group>();
  let index = 0;
  let acl: { path: string; data: Buffer; where: Where } | null = null;
  let firstVariant: CpioVariant | null = null;
  let pendingCount = 0;

  const warn = (kind: string, message: string, where: Where) => ctx.warn({ kind, message, ...where });

  /** Attach a waiting ACL record to the entry of the same name that follows it. */
  const takeAcl = (e: Entry) => {
    if (!acl) return;
    if (acl.path === e.path) e.xattrs = { ...(e.xattrs ?? {}), [ACL_XATTR]: acl.data };
    else warn('acl-orphan', 'ACL record not followed by its file; ignored', acl.where);
    acl = null;
  };

  for (;;) {
    const offset = r.position;
    const magic = r.peekBuffered(6) ?? (await r.peek(6));
    const variant = sniffVariant(magic);
    if (!variant) {
      if (magic.length === 0) {
        if (index === 0 && firstVariant === null) throw new ArchiveError('empty', 'the cpio archive is empty', { offset });
        throw new TruncatedError(`end of input before the cpio trailer (${TRAILER})`, { offset, index });
      }
      if (magic.length < 6 && couldBeMagicPrefix(magic)) {
        throw new TruncatedError('end of input inside a cpio header', { offset, index });
      }
      const hex = magic.toString('hex').replace(/(..)/g, '$1 ').trim();
      throw new ArchiveError('bad-magic', `no cpio header magic (found ${hex})`, { offset, index }, 'the archive is corrupt or truncated mid-file');
    }
    if (firstVariant === null) {
      firstVariant = variant;
      ctx.info.format ??= `cpio-${variant}`;
    }
    const where0: Where = { offset, index };
    const hb = r.takeBuffered(HEADER_SIZE[variant]) ?? (await readExact(r, HEADER_SIZE[variant], 'cpio header', where0));
    const h = decodeHeader(variant, hb, where0);

    // Name: namesize bytes including the NUL, then padding.
    if (h.namesize === 0) throw new ArchiveError('bad-name', 'cpio header with a name size of 0', where0);
    if (h.namesize > limits.maxPathBytes + 1) {
      throw new ArchiveError('name-too-long', `name of ${h.namesize - 1} bytes, over the ${limits.maxPathBytes} byte limit`, where0);
    }
    const nameLen = h.namesize + padding(h.size + h.namesize, h.align);
    const nb = r.takeBuffered(nameLen) ?? (await readExact(r, nameLen, 'cpio file name', where0));
    const nul = nb.subarray(0, h.namesize).indexOf(0);
    if (nul !== h.namesize - 1) {
      const partial = nb.toString('latin1', 0, nul >= 0 ? nul : h.namesize);
      throw new ArchiveError('bad-name', nul < 0 ? 'name not NUL-terminated' : 'name contains a NUL byte', { entry: partial, offset, index });
    }
    const path = nb.toString('latin1', 0, nul);
    const where: Where = { entry: path, offset, index };
    const fmt = h.mode & S_IFMT;
    const dataPad = padding(h.filesize, h.align);

    if (path === TRAILER && h.filesize === 0 && (fmt === 0 || fmt === 0o100000)) {
      if (acl) warn('acl-orphan', 'ACL record at the end of the archive; ignored', (acl as { where: Where }).where);
      // Groups that never got their data (all members empty): the first
      // becomes an empty file, the others link to it (as GNU cpio extracts).
      for (const g of groups.values()) {
        if (g.pending.length === 0) continue;
        const [first, ...rest] = g.pending;
        yield first!.entry;
        for (const p of rest) yield asHardlink(p.entry, first!.entry.path);
      }
      groups.clear();
      await drainAfterTrailer(r, ctx);
      return;
    }

    if (index >= limits.maxEntries) throw new ArchiveError('too-many-entries', `more than ${limits.maxEntries} entries`, where);
    index++;

    // Solaris ancillary records.
    if (h.mode === SECMODE) {
      if (h.filesize > limits.maxMetaBytes) throw new ArchiveError('meta-too-large', `ACL record of ${h.filesize} bytes, over the ${limits.maxMetaBytes} byte limit`, where);
      const data = Buffer.from(await readExact(r, h.filesize, 'ACL record', where));
      await skipExact(r, dataPad, 'padding', where);
      if (acl) warn('acl-orphan', 'ACL record not followed by its file; ignored', (acl as { where: Where }).where);
      const parsed = parseAclRecords(data);
      if ('error' in parsed) {
        warn('bad-acl', `malformed Solaris ACL record (${parsed.error}); ignored`, where);
        acl = null;
      } else {
        acl = { path, data, where };
      }
      continue;
    }
    if ((h.mode & 0xf000) === XATTR_TYPE) {
      if (path.endsWith('.hdr')) {
        if (h.filesize > limits.maxMetaBytes) throw new ArchiveError('meta-too-large', `extended attribute header of ${h.filesize} bytes, over the ${limits.maxMetaBytes} byte limit`, where);
        const data = await readExact(r, h.filesize, 'extended attribute header', where);
        const x = parseXattrHdr(data);
        if (x) warn('xattr-skipped', `Solaris extended attribute ${JSON.stringify(x.attr)} of ${JSON.stringify(x.file)} not restored`, { ...where, entry: x.file });
        else warn('xattr-skipped', 'malformed Solaris extended attribute header skipped', where);
      } else {
        await skipExact(r, h.filesize, 'extended attribute data', where);
      }
      await skipExact(r, dataPad, 'padding', where);
      continue;
    }

    let type = TYPES[fmt];
    if (!type) {
      const msg = `unknown file type 0${fmt.toString(8)} (mode 0${h.mode.toString(8)})`;
      if (!ctx.lenient) throw new ArchiveError('unknown-type', msg, where, 'use --lenient to skip such entries');
      warn('unknown-type', `${msg}; entry skipped`, where);
      await skipExact(r, h.filesize + dataPad, 'data', where);
      continue;
    }

    const entry: Entry = {
      path,
      type,
      mode: h.mode & 0o7777,
      uid: h.uid,
      gid: h.gid,
      mtime: h.mtime,
      mtimeNsec: 0,
      size: 0,
      nlink: h.nlink,
      offset,
      index: index - 1,
      body: emptyBody,
    };
    takeAcl(entry);

    if (type === 'symlink') {
      if (h.filesize === 0) throw new ArchiveError('bad-symlink', 'symbolic link with an empty target', where);
      if (h.filesize > limits.maxPathBytes) {
        throw new ArchiveError('link-too-long', `symbolic link target of ${h.filesize} bytes, over the ${limits.maxPathBytes} byte limit`, where);
      }
      const t = r.takeBuffered(h.filesize) ?? (await readExact(r, h.filesize, 'symbolic link target', where));
      if (t.indexOf(0) >= 0) throw new ArchiveError('bad-symlink', 'symbolic link target contains a NUL byte', where);
      entry.linkTarget = t.toString('latin1');
      if (!r.skipBuffered(dataPad)) await skipExact(r, dataPad, 'padding', where);
      yield entry;
      continue;
    }

    if (type !== 'file') {
      if (type === 'char' || type === 'block') {
        entry.devMajor = h.rdevMajor;
        entry.devMinor = h.rdevMinor;
      }
      if (h.filesize > 0) {
        warn('unexpected-data', `${h.filesize} bytes of data on a ${type === 'dir' ? 'directory' : type} skipped`, where);
        await skipExact(r, h.filesize, 'data', where);
      }
      if (!r.skipBuffered(dataPad)) await skipExact(r, dataPad, 'padding', where);
      yield entry;
      continue;
    }

    // Regular file (maybe a hard link, maybe Solaris sparse).
    const verify = variant === 'crc' ? { check: h.check, lenient: ctx.lenient, warn: ctx.warn } : null;
    const newcLike = variant === 'newc' || variant === 'crc';
    let group: Group | undefined;
    const key = h.nlink > 1 ? linkKey(h) : '';
    if (h.nlink > 1) {
      group = groups.get(key);
      if (group && group.h && !sameInode(group.h, h, group.target !== undefined && !(newcLike && h.filesize === 0))) {
        warn('link-mismatch', `shares inode ${h.ino} with ${JSON.stringify(group.target ?? group.pending[0]?.entry.path)} but its size, mode or owner differ: extracted as a separate file`, where);
        group = undefined;
      } else if (!group) {
        group = { nlink: h.nlink, seen: 0, pending: [] };
        groups.set(key, group);
        group.h = h;
      }
    }

    if (group) {
      group.seen++;
      const done = () => {
        if (group!.seen >= group!.nlink && group!.pending.length === 0) groups.delete(key);
      };
      if (group.target !== undefined) {
        // The file is out already: this name links to it; its data (bin,
        // odc, pax sv4cpio) is a copy and is skipped.
        if (verify && h.filesize > 0) {
          const b = new MemberBody(r, h.filesize, where, verify);
          await b.finish();
        } else {
          await skipExact(r, h.filesize, 'file data', where);
        }
        await skipExact(r, dataPad, 'padding', where);
        done();
        yield asHardlink(entry, group.target);
        continue;
      }
      if (newcLike && h.filesize === 0) {
        if (verify && h.check !== 0) {
          const msg = `crc checksum mismatch: header says ${h.check}, data sums to 0`;
          if (!ctx.lenient) throw new ArchiveError('checksum', msg, where);
          warn('checksum', msg, where);
        }
        await skipExact(r, dataPad, 'padding', where);
        if (++pendingCount > MAX_PENDING_LINKS) {
          throw new ArchiveError('too-many-links', `more than ${MAX_PENDING_LINKS} hard links waiting for their data`, where, 'the archive is corrupt or hostile');
        }
        group.pending.push({ entry, h });
        if (group.seen >= group.nlink) {
          // Every link seen and none had data: an empty file and its links.
          const [first, ...rest] = group.pending;
          pendingCount -= group.pending.length;
          groups.delete(key);
          yield first!.entry;
          for (const p of rest) yield asHardlink(p.entry, first!.entry.path);
        }
        continue;
      }
    }

    // A member with its data: the file.
    let size = h.filesize;
    let initialSum = 0;
    if (isSparseMode(h.mode)) {
      if (h.filesize < HOLES_HDR + 1) throw new ArchiveError('bad-sparse', 'sparse file shorter than its map', where);
      const hh = await readExact(r, HOLES_HDR, 'sparse file map', where);
      const parsed = parseHolesHeader(hh, h.filesize);
      if (typeof parsed === 'string') throw new ArchiveError('bad-sparse', parsed, where);
      if (parsed.holesSize - HOLES_HDR > limits.maxMetaBytes) throw new ArchiveError('meta-too-large', `sparse map of ${parsed.holesSize} bytes, over the ${limits.maxMetaBytes} byte limit`, where);
      if (verify) initialSum += byteSum(hh);
      const list = await readExact(r, parsed.holesSize - HOLES_HDR, 'sparse file map', where);
      if (verify) initialSum += byteSum(list);
      const regions = parseHolesList(list, parsed.origSize);
      if (typeof regions === 'string') throw new ArchiveError('bad-sparse', regions, where);
      const data = regions.reduce((n, x) => n + x.length, 0);
      size = h.filesize - parsed.holesSize;
      if (data !== size) throw new ArchiveError('bad-sparse', `sparse map covers ${data} bytes but ${size} follow`, where);
      entry.sparse = regions;
      entry.size = parsed.origSize;
    } else {
      entry.size = size;
    }
    const body = new MemberBody(r, size, where, verify, initialSum);
    entry.body = body.body;
    if (group) {
      group.target = path;
      group.h = h;
    }
    yield entry;
    if (!body.finishNow()) await body.finish();
    if (!r.skipBuffered(dataPad)) await skipExact(r, dataPad, 'padding', where);
    if (group) {
      const pending = group.pending;
      pendingCount -= pending.length;
      group.pending = [];
      if (group.seen >= group.nlink) groups.delete(key);
      for (const p of pending) {
        if (sameInode(p.h, h, false)) {
          yield asHardlink(p.entry, path);
        } else {
          warn('link-mismatch', `shares inode ${h.ino} with ${JSON.stringify(path)} but its mode or owner differ: extracted as a separate empty file`, {
            entry: p.entry.path,
            offset: p.entry.offset,
            index: p.entry.index,
          });
          yield p.entry;
        }
      }
    }
  }
};
