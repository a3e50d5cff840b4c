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

import { type Body, type BodyRange, type Entry, type EntryType, copyEntry, emptyBody, newEntry } from '../entry.js';
import { ArchiveError, TruncatedError, raiseLimit, type Where } from '../errors.js';
import type { ByteReader } from '../source/reader.js';
import { NAME_PREFIX_SLACK, type ParseContext, type ParseFn } from './types.js';
import { ParserStream } from './parser-stream.js';
import { type CpioHeader, type CpioVariant, HEADER_SIZE, byteSum, couldBeMagicPrefix, decodeHeader, linkKey, padding, sniffVariant } from './cpio-header.js';
import { HOLES_HDR, SECMODE, XATTR_TYPE, isSparseMode, parseAclRecords, parseHolesHeader, parseHolesList, parseXattrHdr } from './cpio-solaris.js';

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
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
const SPARSE_HINT = 'the Solaris sparse-file map is damaged or hostile: recreate the archive';
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
    const c = this.takeRest();
    if (c !== undefined) this.verifySum();
    return c;
  }

  /** The body as a range of the archive file (Body.takeRange); never for crc, whose sum needs the bytes. */
  takeRange(): BodyRange | undefined {
    if (this.verify || this.left !== this.n) return undefined;
    const range = this.r.takeRange(this.left);
    if (range !== undefined) this.left = 0;
    return range;
  }

  /** What is left of the body if it is all buffered (consumed and summed), else undefined. */
  private takeRest(): Buffer | undefined {
    const c = this.r.takeBuffered(this.left);
    if (c === undefined) return undefined;
    this.left = 0;
    if (this.verify) this.sum += byteSum(c);
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

  /** finish() when what is left is buffered (an unread body is skipped, and summed): true when done, false when finish() must run. */
  finishNow(): boolean {
    if (this.left > 0 && this.takeRest() === undefined) return false;
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

/** A member name as the sink resolves it, for telling that two members name the same file. */
function nameKey(p: string): string {
  // Most names need nothing (this runs for every member while a group is open).
  const c = p.charCodeAt(0);
  if (c !== 46 /* . */ && c !== 47 /* / */ && p.charCodeAt(p.length - 1) !== 47) return p;
  return p.replace(/^(?:\.?\/+)+/, '').replace(/\/+$/, '');
}

function sameInode(a: CpioHeader, b: CpioHeader, withSize: boolean): boolean {
  return (a.mode & 0o7777) === (b.mode & 0o7777) && a.uid === b.uid && a.gid === b.gid && (!withSize || a.filesize === b.filesize);
}

function asHardlink(e: Entry, target: string): Entry {
  const h = copyEntry(e);
  h.type = 'hardlink';
  h.linkTarget = target;
  h.size = 0;
  h.sparse = undefined;
  h.body = emptyBody;
  return h;
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

/** One member's header and name, consumed; its data not yet. */
interface Member {
  h: CpioHeader;
  path: string;
  offset: number;
  where: Where;
  /** Padding after the data. */
  dataPad: number;
}

const isTrailer = (m: Member): boolean => {
  const fmt = m.h.mode & S_IFMT;
  return m.path === TRAILER && m.h.filesize === 0 && (fmt === 0 || fmt === 0o100000);
};

/**
 * The parser's state from member to member, and every case but the common
 * ones. The generator (parseCpio, below) stays small on purpose: V8
 * optimizes an async generator as one unit and starts over each time a
 * branch it has not run before turns up (the first hard link, symlink,
 * trailer...). With every case inline, each of those recompilations took
 * 100-300 ms of a helper thread, four per run on the bench image, on a
 * machine whose two cores the extraction needs.
 */
class CpioParser {
  private readonly groups = new Map<string, Group>();
  /** The file name of each live group that has one: a later member of that name replaces the file. */
  private readonly targetNames = new Map<string, Group>();
  private acl: { path: string; data: Buffer; where: Where } | null = null;
  private firstVariant: CpioVariant | null = null;
  private pendingCount = 0;
  /** Members seen (the trailer not counted). */
  private index = 0;

  constructor(
    private readonly r: ByteReader,
    private readonly ctx: ParseContext,
  ) {}

  private warn(kind: string, message: string, where: Where): void {
    this.ctx.warn({ kind, message, ...where });
  }

  /** The next member if its header and name are buffered now (consumed), else undefined (nothing consumed). */
  memberNow(): Member | undefined {
    const r = this.r;
    const at = r.windowAt(6);
    if (at < 0) return undefined;
    const w = r.window;
    const variant = sniffVariant(w, at);
    if (variant === null) return undefined;
    const size = HEADER_SIZE[variant];
    if (r.windowAt(size) < 0) return undefined;
    const offset = r.position;
    const h = this.decode(variant, w, offset, at);
    const nameLen = h.namesize + padding(h.size + h.namesize, h.align);
    if (r.buffered < size + nameLen) return undefined;
    r.skipBuffered(size + nameLen);
    return this.named(h, w, at + size, offset);
  }

  /** The next member, waiting for input as needed. */
  async member(): Promise<Member> {
    const r = this.r;
    const offset = r.position;
    const magic = await r.peek(6);
    const variant = sniffVariant(magic);
    if (!variant) this.noMagic(magic, offset);
    const where0: Where = { offset, index: this.index };
    const hb = await readExact(r, HEADER_SIZE[variant], 'cpio header', where0);
    const h = this.decode(variant, hb, offset, 0);
    const nb = await readExact(r, h.namesize + padding(h.size + h.namesize, h.align), 'cpio file name', where0);
    return this.named(h, nb, 0, offset);
  }

  private noMagic(magic: Buffer, offset: number): never {
    const index = this.index;
    if (magic.length === 0) {
      if (index === 0 && this.firstVariant === null) throw new ArchiveError('empty', 'the cpio archive is empty', { offset });
      throw new TruncatedError(`end of input before the cpio trailer (${TRAILER})`, { offset, index });
    }
    if (magic.length < 6 && couldBeMagicPrefix(magic)) {
      throw new TruncatedError('end of input inside a cpio header', { offset, index });
    }
    const hex = magic.toString('hex').replace(/(..)/g, '$1 ').trim();
    throw new ArchiveError('bad-magic', `no cpio header magic (found ${hex})`, { offset, index }, 'the archive is corrupt or truncated mid-file');
  }

  /** The header's fields (at `hb[at]`), with the name size checked before the name is read. */
  private decode(variant: CpioVariant, hb: Buffer, offset: number, at: number): CpioHeader {
    if (this.firstVariant === null) {
      this.firstVariant = variant;
      this.ctx.info.format ??= `cpio-${variant}`;
    }
    const where0: Where = { offset, index: this.index };
    const h = decodeHeader(variant, hb, where0, at);
    // Name: namesize bytes including the NUL, then padding.
    if (h.namesize === 0) throw new ArchiveError('bad-name', 'cpio header with a name size of 0', where0);
    const max = this.ctx.limits.maxPathBytes;
    if (h.namesize > max + NAME_PREFIX_SLACK + 1) throw new ArchiveError('name-too-long', `name of ${h.namesize - 1} bytes, over the ${max} byte limit`, where0);
    return h;
  }

  /** The member whose name starts at `b[at]` (h.namesize bytes, NUL included). */
  private named(h: CpioHeader, b: Buffer, at: number, offset: number): Member {
    const end = at + h.namesize - 1;
    const found = b.indexOf(0, at);
    const nul = found < 0 || found > end ? -1 : found;
    if (nul !== end) {
      const partial = b.toString('latin1', at, nul >= 0 ? nul : end + 1);
      throw new ArchiveError('bad-name', nul < 0 ? 'name not NUL-terminated' : 'name contains a NUL byte', { entry: partial, offset, index: this.index }, 'the archive is damaged or hostile');
    }
    const path = b.toString('latin1', at, end);
    return { h, path, offset, where: { entry: path, offset, index: this.index }, dataPad: padding(h.filesize, h.align) };
  }

  /** After the trailer: groups that never got their data, then the rest of the input. */
  async *atTrailer(): AsyncGenerator<Entry> {
    if (this.acl) this.warn('acl-orphan', 'ACL record at the end of the archive; ignored', this.acl.where);
    // Groups that never got their data (all members empty): the first
    // becomes an empty file, the others link to it (as GNU cpio extracts).
    for (const g of this.groups.values()) {
      if (g.pending.length === 0) continue;
      const [first, ...rest] = g.pending;
      yield first!.entry;
      for (const p of rest) yield asHardlink(p.entry, first!.entry.path);
    }
    this.groups.clear();
    this.targetNames.clear();
    await drainAfterTrailer(this.r, this.ctx);
  }

  /** The entry of a member, counted; null for a member that is no entry (Solaris records, unknown types: see record()). */
  entry(m: Member): Entry | null {
    const limits = this.ctx.limits;
    if (this.index >= limits.maxEntries) throw new ArchiveError('too-many-entries', `more than ${limits.maxEntries} entries`, m.where, raiseLimit('entries', limits.maxEntries));
    this.index++;
    const h = m.h;
    if (h.mode === SECMODE || (h.mode & 0xf000) === XATTR_TYPE) return null;
    const type = TYPES[h.mode & S_IFMT];
    if (!type) return null;
    const entry = newEntry(m.path, type, h.mode & 0o7777, h.uid, h.gid, h.mtime, 0, 0, m.offset, this.index - 1, emptyBody, h.nlink);
    if (type === 'char' || type === 'block') {
      entry.devMajor = h.rdevMajor;
      entry.devMinor = h.rdevMinor;
    }
    if (this.acl) this.takeAcl(entry);
    if (this.targetNames.size !== 0) this.replacing(entry.path, h);
    return entry;
  }

  /**
   * A member named like a link group's file replaces that file (cpio links
   * by inode, not by name): later members of the group must not link to the
   * new occupant of the name (a symlink, say) but carry or wait for data.
   */
  private replacing(path: string, h: CpioHeader): void {
    const name = nameKey(path);
    const g = this.targetNames.get(name);
    if (g === undefined) return;
    if ((h.mode & S_IFMT) === S_IFREG && h.nlink > 1 && this.groups.get(linkKey(h)) === g) return;
    this.targetNames.delete(name);
    g.target = undefined;
  }

  private dropGroup(key: string, g: Group): void {
    this.groups.delete(key);
    if (g.target !== undefined) this.targetNames.delete(nameKey(g.target));
  }

  /** Attach a waiting ACL record to the entry of the same name that follows it. */
  private takeAcl(e: Entry): void {
    const acl = this.acl!;
    if (acl.path === e.path) e.xattrs = { ...(e.xattrs ?? {}), [ACL_XATTR]: acl.data };
    else this.warn('acl-orphan', 'ACL record not followed by its file; ignored', acl.where);
    this.acl = null;
  }

  /** Read a member that is no entry: a Solaris ACL or extended attribute record, or an unknown type (lenient). */
  async record(m: Member): Promise<void> {
    const { h, where, dataPad } = m;
    const r = this.r;
    const limits = this.ctx.limits;
    if (h.mode === SECMODE) {
      if (h.filesize > limits.maxMetaBytes) throw new ArchiveError('meta-too-large', `ACL record of ${h.filesize} bytes, over the ${limits.maxMetaBytes} byte limit`, where, raiseLimit('meta', limits.maxMetaBytes));
      const data = Buffer.from(await readExact(r, h.filesize, 'ACL record', where));
      await skipExact(r, dataPad, 'padding', where);
      if (this.acl) this.warn('acl-orphan', 'ACL record not followed by its file; ignored', this.acl.where);
      const parsed = parseAclRecords(data);
      if ('error' in parsed) {
        this.warn('bad-acl', `malformed Solaris ACL record (${parsed.error}); ignored`, where);
        this.acl = null;
      } else {
        this.acl = { path: m.path, data, where };
      }
      return;
    }
    if ((h.mode & 0xf000) === XATTR_TYPE) {
      if (m.path.endsWith('.hdr')) {
        if (h.filesize > limits.maxMetaBytes) throw new ArchiveError('meta-too-large', `extended attribute header of ${h.filesize} bytes, over the ${limits.maxMetaBytes} byte limit`, where, raiseLimit('meta', limits.maxMetaBytes));
        const data = await readExact(r, h.filesize, 'extended attribute header', where);
        const x = parseXattrHdr(data);
        if (x) this.warn('xattr-skipped', `Solaris extended attribute ${JSON.stringify(x.attr)} of ${JSON.stringify(x.file)} not restored`, { ...where, entry: x.file });
        else this.warn('xattr-skipped', 'malformed Solaris extended attribute header skipped', where);
      } else {
        await skipExact(r, h.filesize, 'extended attribute data', where);
      }
      await skipExact(r, dataPad, 'padding', where);
      return;
    }
    const fmt = h.mode & S_IFMT;
    const msg = `unknown file type 0${fmt.toString(8)} (mode 0${h.mode.toString(8)})`;
    if (!this.ctx.lenient) throw new ArchiveError('unknown-type', msg, where, 'use --lenient to skip such entries');
    this.warn('unknown-type', `${msg}; entry skipped`, where);
    await skipExact(r, h.filesize + dataPad, 'data', where);
  }

  /** A symlink's target, or a special file's (unexpected) data, and the padding, when buffered now: true, else nothing done. */
  restNow(m: Member, e: Entry): boolean {
    const r = this.r;
    const n = m.h.filesize;
    if (e.type === 'symlink') {
      this.checkSymlink(m);
      if (r.buffered < n + m.dataPad) return false;
      this.setTarget(e, r.takeBuffered(n)!, m);
      return r.skipBuffered(m.dataPad);
    }
    return n === 0 && r.skipBuffered(m.dataPad);
  }

  /** restNow(), waiting for input. */
  async rest(m: Member, e: Entry): Promise<void> {
    const r = this.r;
    const { h, where } = m;
    if (e.type === 'symlink') {
      this.checkSymlink(m);
      this.setTarget(e, await readExact(r, h.filesize, 'symbolic link target', where), m);
    } else if (h.filesize > 0) {
      this.warn('unexpected-data', `${h.filesize} bytes of data on a ${e.type === 'dir' ? 'directory' : e.type} skipped`, where);
      await skipExact(r, h.filesize, 'data', where);
    }
    await skipExact(r, m.dataPad, 'padding', where);
  }

  private checkSymlink(m: Member): void {
    const n = m.h.filesize;
    const max = this.ctx.limits.maxPathBytes;
    if (n === 0) throw new ArchiveError('bad-symlink', 'symbolic link with an empty target', m.where);
    if (n > max) throw new ArchiveError('link-too-long', `symbolic link target of ${n} bytes, over the ${max} byte limit`, m.where);
  }

  private setTarget(e: Entry, t: Buffer, m: Member): void {
    if (t.indexOf(0) >= 0) throw new ArchiveError('bad-symlink', 'symbolic link target contains a NUL byte', m.where);
    e.linkTarget = t.toString('latin1');
  }

  private verifier(m: Member): ConstructorParameters<typeof MemberBody>[3] {
    return m.h.variant === 'crc' ? { check: m.h.check, lenient: this.ctx.lenient, warn: this.ctx.warn } : null;
  }

  /** The body of a regular file member that carries its data. */
  data(m: Member, e: Entry): MemberBody {
    e.size = m.h.filesize;
    const body = new MemberBody(this.r, m.h.filesize, m.where, this.verifier(m));
    e.body = body.body;
    return body;
  }

  /** data() for a Solaris sparse file (mode 0200000): its hole map is read first. */
  async sparseData(m: Member, e: Entry): Promise<MemberBody> {
    const { h, where } = m;
    const r = this.r;
    const verify = this.verifier(m);
    if (h.filesize < HOLES_HDR + 1) throw new ArchiveError('bad-sparse', 'sparse file shorter than its map', where, SPARSE_HINT);
    const hh = await readExact(r, HOLES_HDR, 'sparse file map', where);
    const parsed = parseHolesHeader(hh, h.filesize);
    if (typeof parsed === 'string') throw new ArchiveError('bad-sparse', parsed, where, SPARSE_HINT);
    const maxMeta = this.ctx.limits.maxMetaBytes;
    if (parsed.holesSize - HOLES_HDR > maxMeta) throw new ArchiveError('meta-too-large', `sparse map of ${parsed.holesSize} bytes, over the ${maxMeta} byte limit`, where, raiseLimit('meta', maxMeta));
    let initialSum = 0;
    if (verify) initialSum += byteSum(hh);
    const list = await readExact(r, parsed.holesSize - HOLES_HDR, 'sparse file map', where);
    if (verify) initialSum += byteSum(list);
    const regions = parseHolesList(list, parsed.origSize);
    if (typeof regions === 'string') throw new ArchiveError('bad-sparse', regions, where, SPARSE_HINT);
    const data = regions.reduce((n, x) => n + x.length, 0);
    const size = h.filesize - parsed.holesSize;
    if (data !== size) throw new ArchiveError('bad-sparse', `sparse map covers ${data} bytes but ${size} follow`, where, SPARSE_HINT);
    e.sparse = regions;
    e.size = parsed.origSize;
    const body = new MemberBody(r, size, where, verify, initialSum);
    e.body = body.body;
    return body;
  }

  /** The body's end and the padding, if they need no waiting: true; else finishData() must run. */
  finishDataNow(body: MemberBody, m: Member): boolean {
    return body.finishNow() && this.r.skipBuffered(m.dataPad);
  }

  async finishData(body: MemberBody, m: Member): Promise<void> {
    await body.finish();
    await skipExact(this.r, m.dataPad, 'padding', m.where);
  }

  /** A regular file member with nlink > 1: the file, a link to it, or a link waiting for its data (newc/crc). */
  async *linkedFile(m: Member, entry: Entry): AsyncGenerator<Entry> {
    const { h, where, path } = m;
    const r = this.r;
    const groups = this.groups;
    const newcLike = h.variant === 'newc' || h.variant === 'crc';
    const key = linkKey(h);
    let group = groups.get(key);
    if (group && group.h && !sameInode(group.h, h, group.target !== undefined && !(newcLike && h.filesize === 0))) {
      this.warn('link-mismatch', `shares inode ${h.ino} with ${JSON.stringify(group.target ?? group.pending[0]?.entry.path)} but its size, mode or owner differ: extracted as a separate file`, where);
      yield* this.file(m, entry);
      return;
    }
    if (!group) {
      group = { nlink: h.nlink, seen: 0, pending: [], h };
      groups.set(key, group);
    }
    group.seen++;
    if (group.target !== undefined) {
      // The file is out already: this name links to it; its data (bin,
      // odc, pax sv4cpio) is a copy and is skipped.
      const verify = this.verifier(m);
      if (verify && h.filesize > 0) await new MemberBody(r, h.filesize, where, verify).finish();
      else await skipExact(r, h.filesize, 'file data', where);
      await skipExact(r, m.dataPad, 'padding', where);
      if (group.seen >= group.nlink && group.pending.length === 0) this.dropGroup(key, group);
      yield asHardlink(entry, group.target);
      return;
    }
    if (newcLike && h.filesize === 0) {
      if (h.variant === 'crc' && h.check !== 0) {
        const msg = `crc checksum mismatch: header says ${h.check}, data sums to 0`;
        if (!this.ctx.lenient) throw new ArchiveError('checksum', msg, where, 'the archive is corrupt: recreate or re-transfer it (--lenient keeps the file and warns)');
        this.warn('checksum', msg, where);
      }
      await skipExact(r, m.dataPad, 'padding', where);
      if (++this.pendingCount > MAX_PENDING_LINKS) {
        throw new ArchiveError('too-many-links', `more than ${MAX_PENDING_LINKS} hard links waiting for their data`, where, 'the archive is corrupt or hostile');
      }
      group.pending.push({ entry, h });
      if (group.seen >= group.nlink) {
        // Every link seen and none had data: an empty file and its links.
        const [first, ...rest] = group.pending;
        this.pendingCount -= group.pending.length;
        this.dropGroup(key, group);
        yield first!.entry;
        for (const p of rest) yield asHardlink(p.entry, first!.entry.path);
      }
      return;
    }
    // The member with the data: the file, then the links that waited for it.
    group.target = path;
    group.h = h;
    this.targetNames.set(nameKey(path), group);
    yield* this.file(m, entry);
    const pending = group.pending;
    this.pendingCount -= pending.length;
    group.pending = [];
    if (group.seen >= group.nlink) this.dropGroup(key, group);
    for (const p of pending) {
      if (sameInode(p.h, h, false)) {
        yield asHardlink(p.entry, path);
      } else {
        this.warn('link-mismatch', `shares inode ${h.ino} with ${JSON.stringify(path)} but its mode or owner differ: extracted as a separate empty file`, {
          entry: p.entry.path,
          offset: p.entry.offset,
          index: p.entry.index,
        });
        yield p.entry;
      }
    }
  }

  /** A regular file with its data, the slow way (hard links, sparse files). */
  async *file(m: Member, entry: Entry): AsyncGenerator<Entry> {
    const body = isSparseMode(m.h.mode) ? await this.sparseData(m, entry) : this.data(m, entry);
    yield entry;
    await this.finishData(body, m);
  }
}

/** A member taken in by nextNow() whose handling needs the slow path; `e` undefined: not yet counted (entry() not run). */
interface Held {
  m: Member;
  e: Entry | null | undefined;
}

/**
 * The entries of a cpio stream. nextNow() serves the common members (a
 * file, directory or symlink whose bytes are buffered) with no promise;
 * step() handles everything, the rare cases through CpioParser's methods
 * (hard links and the trailer as `sub`). Kept small for the reason given
 * at CpioParser.
 */
class CpioEntries extends ParserStream {
  private readonly p: CpioParser;
  /** The last file handed out: its body ends (skipped if unread) before the next member. */
  private body: MemberBody | null = null;
  private bodyOf: Member | null = null;
  private held: Held | null = null;

  constructor(r: ByteReader, ctx: ParseContext) {
    super();
    this.p = new CpioParser(r, ctx);
  }

  nextNow(): Entry | undefined {
    if (this.sub !== null || this.held !== null || this.ended) return undefined;
    const p = this.p;
    if (this.body !== null) {
      if (!p.finishDataNow(this.body, this.bodyOf!)) return undefined;
      this.body = null;
      this.bodyOf = null;
    }
    const m = p.memberNow();
    if (m === undefined) return undefined;
    if (isTrailer(m)) {
      this.held = { m, e: undefined };
      return undefined;
    }
    const e = p.entry(m);
    if (e !== null) {
      if (e.type === 'file') {
        if (m.h.nlink <= 1 && !isSparseMode(m.h.mode)) return this.file(m, e);
      } else if (p.restNow(m, e)) {
        return e;
      }
    }
    this.held = { m, e };
    return undefined;
  }

  private file(m: Member, e: Entry): Entry {
    this.body = this.p.data(m, e);
    this.bodyOf = m;
    return e;
  }

  protected async step(): Promise<Entry | null> {
    const p = this.p;
    let h = this.held;
    this.held = null;
    if (h === null) {
      if (this.body !== null) {
        const body = this.body;
        this.body = null;
        await p.finishData(body, this.bodyOf!);
        this.bodyOf = null;
      }
      h = { m: p.memberNow() ?? (await p.member()), e: undefined };
    }
    const m = h.m;
    if (h.e === undefined) {
      if (isTrailer(m)) {
        this.ended = true;
        this.sub = p.atTrailer();
        return null;
      }
      h.e = p.entry(m);
    }
    const e = h.e;
    if (e === null) {
      await p.record(m);
    } else if (e.type !== 'file') {
      if (!p.restNow(m, e)) await p.rest(m, e);
      return e;
    } else if (m.h.nlink > 1) {
      this.sub = p.linkedFile(m, e);
    } else if (isSparseMode(m.h.mode)) {
      this.sub = p.file(m, e);
    } else {
      return this.file(m, e);
    }
    return null;
  }
}

export const parseCpio: ParseFn = (r, ctx) => new CpioEntries(r, ctx);
