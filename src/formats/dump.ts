// ufsdump / BSD dump parser (reference/formats.md section 1): Solaris
// ufsdump in both byte orders, Linux dump 0.4b and FreeBSD dump streams,
// one pass, memory bounded by the directory table (1.11).
//
// Order of what comes out:
//   1. every dumped directory, parents before children, the root first with
//      path '' (after the whole directory phase has been read: names need
//      the full table);
//   2. every other inode in dump order (inode order): the first name as its
//      own type, further names as 'hardlink' entries pointing at the first
//      (regular files) or as entries of the same type (anything else).
//
// Regular files: `size` is di_size; holes (c_addr zero entries) become
// Entry.sparse data regions. A file's block map arrives in pieces (one
// header per 512 blocks, 256 on Linux), so the parser reads ahead up to
// LOOKAHEAD_BYTES of the file's data before yielding it: files whose data
// fits in the look-ahead get an exact region list; for a larger file the
// regions cover what was seen and the rest is one data region in which any
// later hole is served as zero bytes (correct content, less sparse on disk).
// Extended attributes and ACLs (Solaris shadow inodes, Linux EA headers)
// follow a file's data in the stream: they are in `xattrs` when the entry is
// yielded, except for a regular file larger than the look-ahead, whose
// `xattrs` object is filled in when its body has been read to the end.
//
// Incremental dumps (level > 0) are refused in strict mode (kind
// "unsupported"); lenient mode warns and yields what the dump holds.

import type { Body, Entry, EntryStream, EntryType, SparseRegion } from '../entry.js';
import { bufferBody, copyEntry, emptyBody, newEntry } from '../entry.js';
import { ArchiveError, TruncatedError, raiseLimit, type Where } from '../errors.js';
import type { ByteReader } from '../source/reader.js';
import type { ParseContext, ParseFn } from './types.js';
import { ParserStream } from './parser-stream.js';
import {
  TP_BSIZE, TP_NINDIR, TS_TAPE, TS_INODE, TS_BITS, TS_ADDR, TS_END, TS_CLRI, TS_EOM, TS_NAMES,
  DR_INODEINFO, DR_HASMETA, DR_COMPRESSED, DR_METAONLY, EXT_XATTR, EXT4_INLINE_DATA_FL,
  IFMT, IFIFO, IFCHR, IFDIR, IFBLK, IFREG, IFLNK, IFSOCK, IFATTRDIR,
  checksumOk, decodeHeader, detectDumpFormat, headerKind, readI32, readU16, readU32,
  type DumpFormat, type Header,
} from './dump-header.js';
import { DirTable, type TreeProblem } from './dump-dirtable.js';
import { parseExt2Ea, parseSolarisAcl, XATTR_PREFIX } from './dump-meta.js';

/** File data read ahead to learn a file's hole map before yielding it. */
export const LOOKAHEAD_BYTES = 1 << 20;
/** Largest TS_CLRI / TS_BITS map accepted, in records (64 MiB, 512M inodes). */
const MAX_MAP_BLOCKS = 1 << 16;
/** Largest ACL or EA payload read into memory. */
const MAX_META_BYTES = 1 << 16;
const DIRBLKSIZ = 512;
const NAME_MAX = 255;
const ZERO_CHUNK = 64 * 1024;
/** ext2/ext4 i_block: the inode bytes at header offsets 72..131. */
const I_BLOCK_BYTES = 60;
const INLINE_DATA_KEY = `${XATTR_PREFIX}system.data`;

/** Events of a file's data: a Buffer of data, or a number of hole bytes. */
type DataEvent = Buffer | number;

// ---------------------------------------------------------------------------
// The record stream: volumes, headers, data runs.

class Tape {
  private readonly it: AsyncIterator<ByteReader>;
  r!: ByteReader;
  volNo = 0;
  fmt!: DumpFormat;
  bsize = TP_BSIZE;
  dumpDate = 0;
  /** Logical record number of the current volume's first record. */
  private volBase = 0;
  /** Bytes of the volumes before the current one. */
  private volByteBase = 0;
  private pending: Header | null = null;
  private tapeaWarned = false;
  readonly opened: ByteReader[] = [];
  /** Path of the entry being read, named by errors that do not name one. */
  entry: string | undefined;

  constructor(volumes: AsyncIterable<ByteReader>, private readonly ctx: ParseContext) {
    this.it = volumes[Symbol.asyncIterator]();
  }

  /** Logical byte offset (over all volumes) of the next byte. */
  get offset(): number {
    return this.volByteBase + this.r.position;
  }

  /** Logical record number of the next record. */
  get recNo(): number {
    return this.volBase + Math.floor(this.r.position / this.bsize);
  }

  private msg(message: string): string {
    return this.volNo > 1 ? `volume ${this.volNo}: ${message}` : message;
  }

  err(kind: string, message: string, where: Where = {}, hint?: string): ArchiveError {
    return new ArchiveError(kind, this.msg(message), this.where(where), hint);
  }

  truncated(message: string, where: Where = {}): ArchiveError {
    return new TruncatedError(this.msg(`${message}; a multi-volume dump needs every volume, in order`), this.where(where));
  }

  private where(w: Where): Where {
    return { offset: w.offset ?? this.offset, entry: w.entry ?? this.entry, index: w.index };
  }

  async start(): Promise<Header> {
    const first = await this.it.next();
    if (first.done) throw new ArchiveError('empty', 'no dump volume given');
    this.r = first.value;
    this.opened.push(this.r);
    this.volNo = 1;
    const head = await this.r.peek(TP_BSIZE);
    if (head.length === 0) throw new ArchiveError('empty', 'the dump is empty', { offset: 0 });
    if (head.length < TP_BSIZE) throw this.truncated(`the dump is ${head.length} bytes, shorter than one ${TP_BSIZE}-byte record`);
    this.fmt = detectDumpFormat(head, this.r.position);
    this.bsize = this.fmt.bsize;
    const rec = await this.r.peek(this.bsize);
    if (rec.length < this.bsize) throw this.truncated(`the first record is ${rec.length} bytes, not ${this.bsize}`);
    const h = this.decode(await this.r.read(this.bsize), 0, 'volume header');
    if (h.type !== TS_TAPE) {
      throw this.err('dump-sequence', `the dump starts with ${TS_NAMES[h.type] ?? `record type ${h.type}`}, not a TS_TAPE volume header`, { offset: 0 });
    }
    if (h.volume !== 1) {
      throw this.err('dump-volume', `the first input is volume ${h.volume} of the dump, not volume 1`, { offset: 0 }, 'give the volumes in order, starting with the first');
    }
    this.dumpDate = h.date;
    this.volBase = h.tapea;
    return h;
  }

  /** Check magic and checksum, decode. */
  private decode(rec: Buffer, offset: number, what: string): Header {
    const o = this.fmt.order;
    const magic = readI32(rec, 24, o);
    if (magic !== this.fmt.magic) {
      throw this.err('dump-magic', `expected a dump header (${what}) but the record has no dump magic number (found ${magic}, want ${this.fmt.magic})`, { offset });
    }
    if (!checksumOk(rec, o)) throw this.err('dump-checksum', `header checksum mismatch (${what})`, { offset }, 'the dump is damaged');
    return decodeHeader(rec, this.fmt, offset);
  }

  /** Move to the next volume: check its TS_TAPE header, skip records it repeats. */
  private async nextVolume(what: string, expected = this.recNo): Promise<void> {
    const nx = await this.it.next();
    if (nx.done) throw this.truncated(`the dump ends in ${what}, without an end marker`);
    this.volByteBase += this.r.position;
    await this.r.close();
    this.r = nx.value;
    this.opened.push(this.r);
    this.volNo++;
    const rec = await this.r.peek(this.bsize);
    if (rec.length < this.bsize) throw this.truncated(`the volume is ${rec.length} bytes, shorter than one record`);
    const h = this.decode(await this.r.read(this.bsize), this.volByteBase, 'volume header');
    if (h.type !== TS_TAPE) throw this.err('dump-volume', `the volume does not start with a TS_TAPE volume header (${TS_NAMES[h.type] ?? h.type})`, { offset: this.volByteBase });
    if (h.date !== this.dumpDate) {
      throw this.err('dump-volume', `the volume belongs to another dump (dated ${h.date}, this dump ${this.dumpDate})`, { offset: this.volByteBase }, 'give the volumes of one dump, in order');
    }
    if (h.volume !== this.volNo) {
      throw this.err('dump-volume', `the volume header says volume ${h.volume}, expected volume ${this.volNo}`, { offset: this.volByteBase }, 'give the volumes in order');
    }
    const dup = expected - h.tapea;
    if (dup < 0) throw this.err('dump-volume', `${-dup} records are missing between volume ${this.volNo - 1} and this one`, { offset: this.volByteBase });
    this.volBase = h.tapea;
    if (dup > 0) await this.r.skip(dup * this.bsize, 'records repeated from the previous volume');
  }

  /** The next whole record, switching volumes at a volume's end. */
  private async record(what: string): Promise<Buffer> {
    for (;;) {
      const c = await this.r.readSome(this.bsize);
      if (c.length === this.bsize) return c;
      if (c.length === 0) {
        await this.nextVolume(what);
        continue;
      }
      // the record straddles input chunks
      const parts = [c];
      let n = c.length;
      while (n < this.bsize) {
        const more = await this.r.readSome(this.bsize - n);
        if (more.length === 0) throw this.truncated(`the input ends inside a record (${n} of ${this.bsize} bytes) in ${what}`);
        parts.push(more);
        n += more.length;
      }
      return Buffer.concat(parts, n);
    }
  }

  /** Up to `max` bytes of data already buffered (at least one), or undefined. */
  dataNow(max: number): Buffer | undefined {
    const n = Math.min(max, this.r.buffered);
    return n > 0 ? this.r.takeBuffered(n) : undefined;
  }

  /** Drop up to `max` bytes already buffered; how many (0: none buffered). */
  skipNow(max: number): number {
    const n = Math.min(max, this.r.buffered);
    if (n > 0) this.r.skipBuffered(n);
    return n;
  }

  /** Up to `max` bytes of data records (at least one byte), switching volumes at a record boundary. */
  async data(max: number): Promise<Buffer> {
    for (;;) {
      const c = this.dataNow(max);
      if (c !== undefined) return c;
      await this.waitData();
    }
  }

  /** Wait until data is buffered, switching volumes at a record boundary. */
  async waitData(): Promise<void> {
    while (this.r.buffered === 0 && (await this.r.atEof())) {
      if (this.r.position % this.bsize !== 0) throw this.truncated('the input ends inside a data record');
      await this.nextVolume('file data');
    }
  }

  /** The next header without consuming it. */
  async peekHeader(): Promise<Header> {
    if (!this.pending) this.pending = this.readHeaderNow() ?? (await this.readHeader());
    return this.pending;
  }

  /**
   * peekHeader() when the next record is buffered and is not an end of
   * medium (which switches volumes): no promise per file. Else undefined.
   */
  peekHeaderNow(): Header | undefined {
    if (!this.pending) this.pending = this.readHeaderNow() ?? null;
    return this.pending ?? undefined;
  }

  /** takeHeader() when peekHeaderNow() has it, else undefined. */
  takeHeaderNow(): Header | undefined {
    const h = this.peekHeaderNow();
    if (h) this.pending = null;
    return h;
  }

  /** The next header if its record is buffered and it needs no volume switch, else undefined (nothing consumed). */
  private readHeaderNow(): Header | undefined {
    const rec = this.r.peekBuffered(this.bsize);
    if (rec === undefined) return undefined;
    const offset = this.offset;
    const recNo = this.recNo;
    const h = this.decode(rec, offset, 'record');
    if (h.type === TS_EOM) return undefined;
    this.r.skipBuffered(this.bsize);
    this.checkHeader(h, offset, recNo);
    return h;
  }

  async takeHeader(): Promise<Header> {
    const h = await this.peekHeader();
    this.pending = null;
    return h;
  }

  private async readHeader(): Promise<Header> {
    for (;;) {
      const rec = await this.record('a header');
      const offset = this.offset - this.bsize;
      const recNo = this.recNo - 1;
      const h = this.decode(rec, offset, 'record');
      if (h.type === TS_EOM) {
        this.checkDate(h, offset);
        this.checkTapea(h, offset, recNo);
        // Solaris end of medium: the rest of this volume is not part of the dump.
        const expected = this.recNo;
        await this.r.drain();
        await this.nextVolume('end-of-media', expected);
        continue;
      }
      this.checkHeader(h, offset, recNo);
      return h;
    }
  }

  /** The checks of a header that is not an end of medium. */
  private checkHeader(h: Header, offset: number, recNo: number): void {
    this.checkDate(h, offset);
    this.checkTapea(h, offset, recNo);
    if (!(h.type in TS_NAMES)) throw this.err('dump-header', `unknown header type ${h.type}`, { offset });
    if (h.type === TS_BITS || h.type === TS_CLRI) {
      if (h.count < 0 || h.count > MAX_MAP_BLOCKS) throw this.err('dump-count', `${TS_NAMES[h.type]} map of ${h.count} records is out of range`, { offset });
    } else if (h.type !== TS_END && (h.count < 0 || h.count > TP_NINDIR)) {
      throw this.err('dump-count', `c_count ${h.count} is over ${TP_NINDIR}`, { offset });
    }
  }

  private checkDate(h: Header, offset: number): void {
    if (h.date !== this.dumpDate) {
      throw this.err('dump-date', `header dated ${h.date} in a dump dated ${this.dumpDate}`, { offset }, 'the stream mixes two dumps or is damaged');
    }
  }

  private checkTapea(h: Header, offset: number, recNo: number): void {
    if (((h.tapea - recNo) >>> 0) !== 0) {
      const msg = `header says it is record ${h.tapea} of the dump but it is record ${recNo}`;
      if (this.fmt.flavour === 'linux' && !this.ctx.lenient) throw this.err('dump-count', msg, { offset }, 'records are missing or repeated');
      if (!this.tapeaWarned) this.ctx.warn({ kind: 'dump-tapea', message: msg, offset });
      this.tapeaWarned = true;
    }
  }

  /** A cursor over the data of the inode whose first header is `first`. */
  cursor(first: Header, size: number, onMissing: (msg: string) => void): DataCursor {
    return new DataCursor(this, first, size, onMissing);
  }

  /** After TS_END: read the last volume to its end; note volumes left over. */
  async finish(): Promise<void> {
    await this.r.drain();
    // dump 0.4b -M leaves an empty last volume when the dump ends on a volume boundary: nothing to report
    for (let more = await this.it.next(); !more.done; more = await this.it.next()) {
      const empty = (await more.value.peek(1)).length === 0;
      await more.value.close();
      if (empty) continue;
      this.ctx.warn({ kind: 'dump-extra-volume', message: `input after the dump's end marker (volume ${this.volNo}) ignored` });
      break;
    }
    await this.it.return?.();
  }
}

// ---------------------------------------------------------------------------
// The parser.

const TYPES: Record<number, EntryType> = {
  [IFREG]: 'file',
  [IFLNK]: 'symlink',
  [IFCHR]: 'char',
  [IFBLK]: 'block',
  [IFIFO]: 'fifo',
  [IFSOCK]: 'socket',
};

function hasKeys(o: object): boolean {
  for (const _ in o) return true;
  return false;
}

/**
 * A file's data: starting at header `first`, walk c_addr, following TS_ADDR
 * continuations of the same inode and kind until `size` bytes are covered.
 * next() gives data Buffers and hole lengths, null at the end; padding and
 * blocks flagged past the end are read and dropped.
 */
class DataCursor {
  private h: Header;
  private i = 0;
  private blk = 0;
  private readonly nblk: number;
  private readonly kind: string;
  private runLeft = 0;
  private runKeep = 0;
  private ended = false;

  constructor(private readonly tape: Tape, private readonly first: Header, private readonly size: number, private readonly onMissing: (msg: string) => void) {
    this.h = first;
    this.nblk = Math.ceil(size / tape.bsize);
    this.kind = headerKind(first, tape.fmt);
  }

  get done(): boolean {
    return this.ended;
  }

  /**
   * next() when nothing has to wait: the event (null at the end), or
   * undefined when next() must read (more input, or the next header).
   * Nothing is consumed when it returns undefined.
   */
  nextNow(): DataEvent | null | undefined {
    const tape = this.tape;
    const bs = tape.bsize;
    for (;;) {
      if (this.runLeft > 0) {
        // Data up to the file's size, then the last block's padding skipped
        // (no view made for bytes that are dropped).
        if (this.runKeep === 0) {
          const n = tape.skipNow(this.runLeft);
          if (n === 0) return undefined;
          this.runLeft -= n;
          continue;
        }
        const c = tape.dataNow(Math.min(this.runLeft, this.runKeep));
        if (c === undefined) return undefined;
        this.runLeft -= c.length;
        this.runKeep -= c.length;
        return c;
      }
      if (this.ended) return null;
      const addr = this.h.addr;
      const count = addr.length;
      if (this.i < count) {
        const i = this.i;
        const flagged = addr[i] !== 0;
        let j = i + 1;
        while (j < count && (addr[j] !== 0) === flagged) j++;
        const n = j - i;
        const keep = Math.max(0, Math.min((this.blk + n) * bs, this.size) - this.blk * bs);
        this.blk += n;
        this.i = j;
        if (flagged) {
          this.runLeft = n * bs;
          this.runKeep = keep;
          continue;
        }
        if (keep > 0) return keep;
        continue;
      }
      if (this.blk >= this.nblk) {
        this.ended = true;
        return null;
      }
      return undefined;
    }
  }

  async next(): Promise<DataEvent | null> {
    const tape = this.tape;
    for (;;) {
      const ev = this.nextNow();
      if (ev !== undefined) return ev;
      if (this.runLeft > 0) {
        await tape.waitData();
        continue;
      }
      // The addresses of this header are used up: the inode goes on in a TS_ADDR.
      const nh = await tape.peekHeader();
      if (nh.type !== TS_ADDR || nh.ino !== this.first.ino || headerKind(nh, tape.fmt) !== this.kind) {
        const missing = this.size - this.blk * tape.bsize;
        this.ended = true;
        this.onMissing(`inode ${this.first.ino}: the headers list ${this.blk} of the ${this.nblk} blocks its size of ${this.size} bytes needs (next is ${TS_NAMES[nh.type] ?? nh.type} for inode ${nh.ino})`);
        return missing;
      }
      this.h = await tape.takeHeader();
      this.i = 0;
    }
  }

  /** Read and drop the rest. */
  async drain(): Promise<void> {
    while (!this.drainNow()) await this.next();
  }

  /** drain() when nothing has to wait: true when done, false when drain() must run. */
  drainNow(): boolean {
    for (;;) {
      const ev = this.nextNow();
      if (ev === null) return true;
      if (ev === undefined) return false;
    }
  }

  /** The rest as one buffer of `size` bytes (holes as zeros). */
  async collect(): Promise<Buffer> {
    const out = Buffer.alloc(this.size);
    let pos = 0;
    for (;;) {
      const ev = await this.next();
      if (ev === null) return out;
      if (typeof ev === 'number') pos += ev;
      else {
        ev.copy(out, pos);
        pos += ev.length;
      }
    }
  }
}

class DumpParser {
  readonly tape: Tape;
  private readonly table = new DirTable();
  private bits: Buffer | null = null;
  private maxino = 0;
  private index = 0;
  private readonly dirXattrs = new Map<number, Record<string, Buffer>>();
  private volumesClosed = false;

  constructor(volumes: AsyncIterable<ByteReader>, private readonly ctx: ParseContext) {
    this.tape = new Tape(volumes, ctx);
  }

  /** Strict: throw; lenient: warn and carry on. */
  problem(kind: string, message: string, where: Where = {}): void {
    if (!this.ctx.lenient) throw this.tape.err(kind, message, where);
    this.ctx.warn({ kind, message, offset: where.offset ?? this.tape.offset, entry: where.entry ?? this.tape.entry });
  }

  private nextIndex(): number {
    if (this.index >= this.ctx.limits.maxEntries) {
      throw this.tape.err('too-many-entries', `more than ${this.ctx.limits.maxEntries} entries`, {}, raiseLimit('entries', this.ctx.limits.maxEntries));
    }
    return this.index++;
  }

  /** Start, maps and directories; the directories' entries. The files follow (DumpEntries). */
  async *prelude(): AsyncGenerator<Entry> {
    const tape = this.tape;
    const th = await tape.start();
    const f = tape.fmt;
    this.ctx.info.variant = `ufsdump-${f.order}`;
    if (f.flavour === 'linux' && th.flags & DR_COMPRESSED) {
      throw tape.err('unsupported', 'compressed Linux dump (dump -z/-j) is not supported', { offset: 0 }, 'make the dump without -z or -j');
    }
    if (th.level !== 0) {
      const msg = `incremental dump (level ${th.level}): it holds only what changed since an earlier dump`;
      if (!this.ctx.lenient) throw tape.err('unsupported', msg, { offset: 0 }, 'give a level 0 (full) dump, e.g. ufsdump 0f');
      this.ctx.warn({ kind: 'dump-incremental', message: `${msg}; extracting what it holds`, offset: 0 });
    }
    if (!(f.flavour === 'solaris' && th.flags & DR_INODEINFO)) {
      await tape.cursor(th, 0, () => {}).drain();
    }
    await this.readMaps();
    await this.readDirectories();
    yield* this.yieldDirectories();
  }

  /**
   * The `i`-th name (i >= 1) of an inode handed out: a hard link to its
   * first for a regular file; for anything else (FIFO, device, socket,
   * symlink) an entry of its own type, as the cpio reader gives, since hard
   * links may only point at regular files this run wrote.
   */
  linkEntry(item: FileItem, i: number): Entry {
    const e = item.entry;
    if (e.type !== 'file') {
      const c = copyEntry(e);
      c.path = item.paths[i]!;
      c.index = this.nextIndex();
      return c;
    }
    const link = newEntry(item.paths[i]!, 'hardlink', e.mode, e.uid, e.gid, e.mtime, e.mtimeNsec, 0, e.offset, this.nextIndex(), emptyBody, e.nlink);
    link.linkTarget = e.path;
    return link;
  }

  /** Volumes after the first are closed (once) when the stream ends, fails or is stopped. */
  async closeVolumes(): Promise<void> {
    if (this.volumesClosed) return;
    this.volumesClosed = true;
    for (const r of this.tape.opened.slice(1)) await r.close();
  }

  // ---- TS_CLRI / TS_BITS

  private async readMaps(): Promise<void> {
    const tape = this.tape;
    let last = 0;
    let sawBits = false;
    for (;;) {
      const h = await tape.peekHeader();
      const cont = h.type === TS_ADDR && (last === TS_BITS || last === TS_CLRI);
      if (h.type !== TS_CLRI && h.type !== TS_BITS && !cont) {
        if (!sawBits) {
          throw tape.err('dump-sequence', `${TS_NAMES[h.type] ?? h.type} where the TS_BITS inode map should be`, { offset: h.offset });
        }
        return;
      }
      await tape.takeHeader();
      const type = cont ? last : h.type;
      const bytes = h.count * tape.bsize;
      if (type === TS_BITS) {
        sawBits = true;
        const prev = cont && this.bits ? this.bits : Buffer.alloc(0);
        if (prev.length + bytes > MAX_MAP_BLOCKS * tape.bsize) throw tape.err('dump-count', 'inode map too large', { offset: h.offset });
        const map = Buffer.alloc(prev.length + bytes);
        prev.copy(map);
        for (let pos = prev.length; pos < map.length; ) {
          const c = await tape.data(map.length - pos);
          c.copy(map, pos);
          pos += c.length;
        }
        this.bits = map;
        this.maxino = Math.max(this.maxino, map.length * 8);
      } else {
        for (let left = bytes; left > 0; ) left -= (await tape.data(left)).length;
        if (!cont) this.maxino = Math.max(this.maxino, bytes * 8);
      }
      last = type;
    }
  }

  private checkInode(h: Header): void {
    const ino = h.ino;
    const inMap = this.bits !== null && ino >= 1 && ino <= this.bits.length * 8 && (this.bits[(ino - 1) >> 3]! & (1 << ((ino - 1) & 7))) !== 0;
    if (ino < 1 || ino > this.maxino) this.problem('dump-inode', `inode number ${ino} is outside the dump's inode range 1..${this.maxino}`, { offset: h.offset });
    else if (!inMap) this.problem('dump-inode', `inode ${ino} is not marked in the dump's TS_BITS map`, { offset: h.offset });
  }

  // ---- directories

  private async readDirectories(): Promise<void> {
    const tape = this.tape;
    for (;;) {
      const h = await tape.peekHeader();
      if (h.type !== TS_INODE) return;
      const t = h.mode & IFMT;
      if (headerKind(h, tape.fmt) !== 'data') {
        await tape.takeHeader();
        await this.skipOrphanMeta(h);
        continue;
      }
      if (t !== IFDIR && t !== IFATTRDIR) return;
      await tape.takeHeader();
      await this.readDirectory(h);
    }
  }

  private async readDirectory(h: Header): Promise<void> {
    const tape = this.tape;
    const f = tape.fmt;
    this.checkInode(h);
    const d = this.table.addDir({
      ino: h.ino,
      mode: h.mode,
      uid: h.uid,
      gid: h.gid,
      mtime: h.mtime,
      mtimeNsec: h.mtimeNsec,
      nlink: h.nlink,
      offset: h.offset,
      attr: (h.mode & IFMT) === IFATTRDIR,
    });
    const where: Where = { offset: h.offset };
    const chunk = Buffer.alloc(DIRBLKSIZ);
    let fill = 0;
    const cur = tape.cursor(h, h.size, (m) => this.problem('dump-count', m, where));
    for (;;) {
      const ev = await cur.next();
      if (ev === null) break;
      if (typeof ev === 'number') {
        this.problem('dump-directory', `directory inode ${h.ino} has a hole in its data`, where);
        fill = 0;
        continue;
      }
      let p = 0;
      while (p < ev.length) {
        const k = Math.min(DIRBLKSIZ - fill, ev.length - p);
        ev.copy(chunk, fill, p, p + k);
        fill += k;
        p += k;
        if (fill === DIRBLKSIZ) {
          this.parseDirChunk(chunk, DIRBLKSIZ, h, d, f);
          fill = 0;
        }
      }
    }
    if (fill > 0) this.parseDirChunk(chunk, fill, h, d, f);
    const xattrs: Record<string, Buffer> = {};
    if (f.flavour === 'solaris' && h.flags & DR_HASMETA) this.hasMeta(h, xattrs, '');
    await this.trailingMeta(h, xattrs, '');
    // an inline directory's entries came converted in its data; the EA is ext4's own
    delete xattrs[INLINE_DATA_KEY];
    if (hasKeys(xattrs)) this.dirXattrs.set(h.ino, xattrs);
  }

  private parseDirChunk(b: Buffer, len: number, h: Header, d: number, f: DumpFormat): void {
    const o = f.order;
    const where: Where = { offset: h.offset };
    const bad = (m: string) => this.problem('dump-directory', `directory inode ${h.ino}: ${m}`, where);
    let off = 0;
    while (off + 8 <= len) {
      const ino = readU32(b, off, o);
      const reclen = readU16(b, off + 4, o);
      const namlen = f.newDirFormat ? b[off + 7]! : readU16(b, off + 6, o);
      if (reclen === 0) return bad(`record with d_reclen 0 at byte ${off} of a directory block`);
      if (reclen < 8 || reclen % 4 !== 0 || off + reclen > len) return bad(`record length ${reclen} at byte ${off} does not fit its ${DIRBLKSIZ}-byte directory block`);
      // A bad name loses only its record (lenient): the record length still
      // leads to the next one, as restore reads on (dump 0.4b writes a
      // 255-byte name with d_reclen 264 truncated to 8).
      const name = b.subarray(off + 8, off + 8 + namlen);
      if (ino !== 0 && (namlen === 0 || namlen > NAME_MAX || 8 + namlen > reclen)) {
        bad(`name length ${namlen} does not fit record length ${reclen}`);
      } else if (ino !== 0 && (name.includes(0) || name.includes(0x2f))) {
        bad(`name ${JSON.stringify(name.toString('latin1'))} contains NUL or '/'`);
      } else if (ino !== 0) {
        if (namlen === 1 && name[0] === 0x2e) {
          if (ino !== h.ino) return bad(`'.' points at inode ${ino}, not at the directory itself`);
        } else if (namlen === 2 && name[0] === 0x2e && name[1] === 0x2e) {
          this.table.setDotDot(d, ino);
        } else if (ino > this.maxino) {
          bad(`entry ${JSON.stringify(name.toString('latin1'))} names inode ${ino}, beyond the dump's ${this.maxino} inodes`);
        } else {
          if (this.table.n >= this.ctx.limits.maxEntries) {
            throw this.tape.err('too-many-entries', `more than ${this.ctx.limits.maxEntries} directory entries`, where, raiseLimit('entries', this.ctx.limits.maxEntries));
          }
          this.table.add(h.ino, ino, name);
        }
      }
      off += reclen;
    }
  }

  private *yieldDirectories(): Generator<Entry> {
    const problems: TreeProblem[] = this.table.finish(this.ctx.limits.maxPathBytes);
    for (const p of problems) this.problem(p.kind === 'path-too-long' ? 'path-too-long' : 'dump-tree', p.message, { offset: this.table.offsetOf(p.ino) });
    for (const { d, path } of this.table.dirsInOrder()) {
      const info = this.table.dirInfo(d);
      const x = this.dirXattrs.get(info.ino);
      const e = newEntry(path, 'dir', info.mode & 0o7777, info.uid, info.gid, info.mtime, info.mtimeNsec, 0, info.offset, this.nextIndex(), emptyBody, info.nlink);
      if (x) e.xattrs = x;
      yield e;
    }
    this.dirXattrs.clear();
  }

  // ---- everything else

  async skipOrphanMeta(h: Header): Promise<void> {
    this.ctx.warn({ kind: 'dump-metadata', message: `metadata header for inode ${h.ino} without its file; ignored`, offset: h.offset });
    await this.tape.cursor(h, Math.min(h.size, MAX_META_BYTES), () => {}).drain();
  }

  private metaWarn(path: string, offset: number): (m: string) => void {
    return (m) => this.ctx.warn({ kind: 'dump-metadata', message: m, entry: path, offset });
  }

  /** Solaris DR_HASMETA: the ACL is in the header at 692..887. */
  private hasMeta(h: Header, xattrs: Record<string, Buffer>, path: string): void {
    parseSolarisAcl(h.raw.subarray(692, 888), this.tape.fmt.order, xattrs, this.metaWarn(path, h.offset));
  }

  /** True when the next header is buffered and is not metadata of inode `h`: trailingMeta() has nothing to do. */
  noTrailingMeta(h: Header): boolean {
    const nh = this.tape.peekHeaderNow();
    return nh !== undefined && (nh.ino !== h.ino || (nh.type !== TS_INODE && nh.type !== TS_ADDR));
  }

  /** Shadow (ACL) and EA headers that follow inode `h`'s data; stray TS_ADDRs of it are dropped. */
  async trailingMeta(h: Header, xattrs: Record<string, Buffer>, path: string): Promise<void> {
    const tape = this.tape;
    for (;;) {
      const nh = await tape.peekHeader();
      if (nh.ino !== h.ino || (nh.type !== TS_INODE && nh.type !== TS_ADDR)) return;
      const kind = headerKind(nh, tape.fmt);
      if (kind === 'data') {
        if (nh.type !== TS_ADDR) return;
        await tape.takeHeader();
        await tape.cursor(nh, 0, () => {}).drain();
        continue;
      }
      await tape.takeHeader();
      const warn = this.metaWarn(path, nh.offset);
      if (nh.size > MAX_META_BYTES) {
        warn(`${kind === 'shadow' ? 'ACL' : 'extended attribute'} data of ${nh.size} bytes is over ${MAX_META_BYTES}; ignored`);
        await tape.cursor(nh, 0, () => {}).drain();
        continue;
      }
      const data = await tape.cursor(nh, nh.size, (m) => this.problem('dump-count', m, { offset: nh.offset, entry: path || undefined })).collect();
      if (kind === 'shadow') parseSolarisAcl(data, tape.fmt.order, xattrs, warn);
      else if (nh.extattr === EXT_XATTR) parseExt2Ea(data, xattrs, warn);
      else warn(`extended attribute data of kind ${nh.extattr} (not EXT_XATTR) ignored`);
    }
  }

  /**
   * One non-directory inode: its entry (body pending), what to do after it,
   * all its names. A promise only when something has to be read first (most
   * files are in the reader's buffer: an async function per file was a
   * kilobyte of garbage each).
   */
  readFile(h: Header): FileItem | null | Promise<FileItem | null> {
    const tape = this.tape;
    const f = tape.fmt;
    const t = h.mode & IFMT;
    tape.entry = undefined;
    if (t === IFDIR || t === IFATTRDIR) {
      this.problem('dump-sequence', `directory inode ${h.ino} after the first non-directory inode`, { offset: h.offset });
      return this.skipInode(h, t);
    }
    const type = TYPES[t];
    if (!type) {
      this.problem('dump-inode', `inode ${h.ino} has unknown file type 0${t.toString(8)}`, { offset: h.offset });
      return this.skipInode(h, t);
    }
    this.checkInode(h);
    if (f.flavour === 'linux' && h.flags & DR_METAONLY) {
      throw tape.err('unsupported', `inode ${h.ino} was dumped without its data (DR_METAONLY)`, { offset: h.offset }, 'give a level 0 dump made without -m');
    }
    if (h.extsize > 0) {
      throw tape.err('unsupported', `inode ${h.ino} carries FreeBSD extended-attribute data`, { offset: h.offset }, 'make the dump without extended attributes');
    }
    const names = this.table.namesOf(h.ino);
    let paths = names.paths;
    if (!paths.length) {
      if (names.attrs.length) {
        const a = names.attrs[0]!;
        const owner = this.table.dotDot(a.dir);
        const op = owner ? this.table.namesOf(owner).paths[0] : undefined;
        this.ctx.warn({ kind: 'xattr-skipped', message: `Solaris extended attribute ${JSON.stringify(a.name)} of ${op !== undefined ? JSON.stringify(op) : `inode ${owner}`} skipped`, entry: op, offset: h.offset });
      } else {
        this.ctx.warn({ kind: 'dump-unnamed', message: `inode ${h.ino} has no name in the dumped directories; skipped`, offset: h.offset });
      }
      return this.skipInode(h, t);
    }
    const maxPath = this.ctx.limits.maxPathBytes;
    for (const p of paths) {
      if (p.length > maxPath) this.problem('path-too-long', `path of ${p.length} bytes is over the ${maxPath}-byte limit`, { offset: h.offset, entry: p.slice(0, 256) });
    }
    if (this.ctx.lenient) {
      paths = paths.filter((p) => p.length <= maxPath);
      if (!paths.length) return this.skipInode(h, t);
    }
    const path = paths[0]!;
    tape.entry = path;
    const xattrs: Record<string, Buffer> = {};
    if (f.flavour === 'solaris' && h.flags & DR_HASMETA) this.hasMeta(h, xattrs, path);
    if (f.flavour === 'linux' && h.iflags & EXT4_INLINE_DATA_FL && (type === 'file' || type === 'symlink')) {
      return this.inlineItem(h, type, path, paths, xattrs);
    }
    if (type !== 'file') return this.otherItem(h, type, path, paths, xattrs);
    const cur = tape.cursor(h, h.size, this.onMissing(h, path));
    const ahead: DataEvent[] = [];
    if (!lookAheadNow(cur, ahead)) return lookAhead(cur, ahead).then(() => this.fileItem(h, path, paths, xattrs, cur, ahead));
    return this.fileItem(h, path, paths, xattrs, cur, ahead);
  }

  private onMissing(h: Header, path: string): (m: string) => void {
    return (m) => this.problem('dump-count', m, { offset: h.offset, entry: path });
  }

  /** An inode that yields no entry: its data and metadata are read and dropped. */
  private async skipInode(h: Header, t: number): Promise<null> {
    await this.tape.cursor(h, t === IFREG || t === IFLNK ? h.size : 0, () => {}).drain();
    await this.trailingMeta(h, {}, '');
    return null;
  }

  /** A symbolic link, FIFO, device or socket. */
  private async otherItem(h: Header, type: EntryType, path: string, paths: string[], xattrs: Record<string, Buffer>): Promise<FileItem | null> {
    const tape = this.tape;
    let entry: Entry;
    if (type === 'symlink') {
      const size = h.size;
      if (size === 0 || size > this.ctx.limits.maxPathBytes) {
        this.problem('dump-symlink', `symbolic link target of ${size} bytes`, { offset: h.offset, entry: path });
        return this.skipInode(h, h.mode & IFMT);
      }
      let target: Buffer;
      if (h.count === 0 && size <= 60) {
        target = Buffer.from(h.raw.subarray(72, 72 + size)); // fast symlink kept in the inode
      } else {
        target = await tape.cursor(h, size, this.onMissing(h, path)).collect();
      }
      await this.trailingMeta(h, xattrs, path);
      entry = this.inodeEntry(h, path, type, 0, emptyBody);
      entry.linkTarget = target.toString('latin1');
    } else {
      await tape.cursor(h, 0, this.onMissing(h, path)).drain();
      await this.trailingMeta(h, xattrs, path);
      entry = this.inodeEntry(h, path, type, 0, emptyBody);
      if (type === 'char' || type === 'block') {
        entry.devMajor = h.devMajor;
        entry.devMinor = h.devMinor;
      }
    }
    if (hasKeys(xattrs)) entry.xattrs = xattrs;
    return { entry, finish: () => undefined, paths };
  }

  /**
   * An ext4 inline-data file or symlink: dump 0.4b lists its blocks as holes
   * (restore writes zeros); the data is the inode's i_block (the header's
   * 60 bytes at 72) followed by the value of its system.data EA. A file
   * larger than that (mke2fs -d makes all-hole files so) reads as zeros
   * past it: a hole.
   */
  private async inlineItem(h: Header, type: 'file' | 'symlink', path: string, paths: string[], xattrs: Record<string, Buffer>): Promise<FileItem | null> {
    const size = h.size;
    await this.tape.cursor(h, size, this.onMissing(h, path)).drain();
    await this.trailingMeta(h, xattrs, path);
    const rest = xattrs[INLINE_DATA_KEY] ?? Buffer.alloc(0);
    delete xattrs[INLINE_DATA_KEY];
    const data = Buffer.concat([h.raw.subarray(72, 72 + Math.min(size, I_BLOCK_BYTES)), rest]).subarray(0, size);
    let entry: Entry;
    if (type === 'symlink') {
      if (size === 0 || size > this.ctx.limits.maxPathBytes || data.length < size) {
        this.problem('dump-symlink', `symbolic link target of ${size} bytes with ${data.length} bytes of inline data`, { offset: h.offset, entry: path });
        return null;
      }
      entry = this.inodeEntry(h, path, type, 0, emptyBody);
      entry.linkTarget = data.toString('latin1');
    } else {
      entry = this.inodeEntry(h, path, type, size, bufferBody(data)); // concat made it: no copy needed
      if (data.length < size) entry.sparse = data.length ? [{ offset: 0, length: data.length }] : [];
    }
    if (hasKeys(xattrs)) entry.xattrs = xattrs;
    return { entry, finish: () => undefined, paths };
  }

  /** The entry of inode `h` at `path` (newEntry: a spread base object made entries dictionary-mode objects of 1.8 KB each). */
  private inodeEntry(h: Header, path: string, type: EntryType, size: number, body: Entry['body']): Entry {
    return newEntry(path, type, h.mode & 0o7777, h.uid, h.gid, h.mtime, h.mtimeNsec, size, h.offset, this.nextIndex(), body, h.nlink);
  }

  /**
   * A regular file whose data was read ahead (up to LOOKAHEAD_BYTES) into
   * `ahead`, for the hole map; the body serves the rest from the tape.
   */
  private fileItem(h: Header, path: string, paths: string[], xattrs: Record<string, Buffer>, cur: DataCursor, ahead: DataEvent[]): FileItem | Promise<FileItem> {
    const f = new DumpFile(this, h, path, paths, xattrs, cur, ahead);
    const entry = this.inodeEntry(h, path, 'file', h.size, () => f.open());
    f.entry = entry;
    if (f.holes) entry.sparse = f.regions();
    // A file larger than the look-ahead gets its xattrs once its body is read.
    if (!f.complete || hasKeys(xattrs)) entry.xattrs = xattrs;
    if (f.complete && !this.noTrailingMeta(h)) {
      // Metadata records (ACL, xattrs) right after a file read whole: into the entry before it goes out.
      return this.trailingMeta(h, xattrs, path).then(() => {
        if (hasKeys(xattrs)) entry.xattrs = xattrs;
        return f;
      });
    }
    return f;
  }
}

/**
 * A regular file of the dump: its entry, its body (the look-ahead, then the
 * tape), and what follows its body. One object per file: the closures it
 * replaced were a tenth of the dump's garbage.
 */
class DumpFile implements FileItem, Body {
  entry!: Entry;
  /** Data read through the look-ahead's end, with no hole in it. */
  readonly complete: boolean;
  readonly holes: boolean;
  private started = false;
  /** Look-ahead events handed out. */
  private k = 0;
  private metaDone: boolean;

  constructor(
    private readonly p: DumpParser,
    private readonly h: Header,
    private readonly path: string,
    readonly paths: string[],
    private readonly xattrs: Record<string, Buffer>,
    private readonly cur: DataCursor,
    private readonly ahead: DataEvent[],
  ) {
    this.complete = cur.done;
    this.metaDone = this.complete;
    let holes = false;
    for (const ev of ahead) if (typeof ev === 'number') holes = true;
    this.holes = holes;
  }

  /** The data regions (for a file with holes): the look-ahead's, then the rest as data. */
  regions(): SparseRegion[] {
    const regions: SparseRegion[] = [];
    let pos = 0;
    for (const ev of this.ahead) {
      if (typeof ev === 'number') {
        pos += ev;
        continue;
      }
      const last = regions[regions.length - 1];
      if (last && last.offset + last.length === pos) last.length += ev.length;
      else regions.push({ offset: pos, length: ev.length });
      pos += ev.length;
    }
    const size = this.h.size;
    if (!this.complete && pos < size) {
      const last = regions[regions.length - 1];
      if (last && last.offset + last.length === pos) last.length += size - pos;
      else regions.push({ offset: pos, length: size - pos });
    }
    return regions;
  }

  /** entry.body(): once. */
  open(): Body {
    if (this.started) throw new Error('entry body read twice');
    this.started = true;
    return this;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    const ahead = this.ahead;
    while (this.k < ahead.length) {
      const ev = ahead[this.k++]!;
      if (typeof ev !== 'number') yield ev;
    }
    for (;;) {
      const ev = await this.cur.next();
      if (ev === null) break;
      if (typeof ev !== 'number') {
        yield ev;
        continue;
      }
      // a hole after the look-ahead, inside a region declared as data
      for (let left = ev; left > 0; left -= ZERO_CHUNK) yield Buffer.alloc(Math.min(left, ZERO_CHUNK));
    }
    await this.endMeta();
  }

  /** A small file read ahead whole (no holes): all of it at once. */
  takeNow(): Buffer | undefined {
    if (!this.complete || this.holes || this.k !== 0) return undefined;
    const ahead = this.ahead;
    this.k = ahead.length;
    if (ahead.length === 1) return ahead[0] as Buffer;
    return Buffer.concat(ahead as Buffer[]);
  }

  /** The metadata after the data, once: a promise only when there is some to read. */
  private endMeta(): Promise<void> | undefined {
    if (this.metaDone) return undefined;
    this.metaDone = true;
    return this.p.noTrailingMeta(this.h) ? undefined : this.p.trailingMeta(this.h, this.xattrs, this.path);
  }

  /** After the body: drop the rest of the data, read the metadata; a promise only if something must be read. */
  finish(): Promise<void> | undefined {
    this.ahead.length = 0;
    if (this.cur.drainNow()) return this.endMeta();
    return this.cur.drain().then(() => this.endMeta());
  }
}

/** A file's entry, what to do once its body is consumed, and all its names. */
interface FileItem {
  entry: Entry;
  finish: () => Promise<void> | undefined;
  paths: string[];
}

/** Read ahead up to LOOKAHEAD_BYTES of data events without waiting; false when lookAhead() must finish it. */
function lookAheadNow(cur: DataCursor, ahead: DataEvent[], bytes = 0): boolean {
  let n = bytes;
  while (n < LOOKAHEAD_BYTES) {
    const ev = cur.nextNow();
    if (ev === undefined) return false;
    if (ev === null) return true;
    ahead.push(ev);
    if (typeof ev !== 'number') n += ev.length;
  }
  return true;
}

async function lookAhead(cur: DataCursor, ahead: DataEvent[]): Promise<void> {
  let n = 0;
  for (const ev of ahead) if (typeof ev !== 'number') n += ev.length;
  while (n < LOOKAHEAD_BYTES) {
    const ev = await cur.next();
    if (ev === null) return;
    ahead.push(ev);
    if (typeof ev !== 'number') n += ev.length;
  }
}

/**
 * A dump's entries. The prelude (maps, directories) comes from an async
 * generator; then a file whose header and data are in the reader's buffer
 * is handed out by nextNow(), with no promise per file (an async generator
 * step per file was a sixth of the dump's garbage), and anything that has
 * to wait goes to step(). The order of work is the generator's it
 * replaced: a file's finish() (rest of its data, its metadata) runs when
 * the next entry is asked for, then its other names come as hard links.
 */
class DumpEntries extends ParserStream {
  private readonly p: DumpParser;
  /** The file last handed out, until its finish() ran and its links went out. */
  private item: FileItem | null = null;
  /** 0: the item's finish() has not run; then the index of its next name. */
  private link = 0;
  private finishing: Promise<void> | null = null;
  private reading: Promise<FileItem | null> | null = null;
  /** A header nextNow() took but leaves to step(). */
  private held: Header | null = null;
  private lastIno = 0;

  constructor(volumes: AsyncIterable<ByteReader>, ctx: ParseContext) {
    super();
    this.p = new DumpParser(volumes, ctx);
    this.sub = this.p.prelude();
  }

  nextNow(): Entry | undefined {
    if (this.sub !== null || this.reading !== null || this.finishing !== null || this.held !== null || this.ended) return undefined;
    const tape = this.p.tape;
    for (;;) {
      if (this.item !== null) {
        const l = this.afterItem();
        if (l !== null) return l;
      }
      const h = tape.takeHeaderNow();
      if (h === undefined) return undefined;
      const e = this.file(h);
      if (e !== null) return e;
    }
  }

  protected override async release(): Promise<void> {
    // Work started by nextNow() and never awaited must not fail unheard.
    this.reading?.catch(() => undefined);
    this.finishing?.catch(() => undefined);
    await this.p.closeVolumes();
  }

  /**
   * After the file last handed out: its finish(), then its other names.
   * A link entry; null when the item is done; undefined when finish() has
   * to wait (`finishing`).
   */
  private afterItem(): Entry | null | undefined {
    const item = this.item!;
    if (this.link === 0) {
      this.link = 1;
      const f = item.finish();
      if (f !== undefined) {
        this.finishing = f;
        return undefined;
      }
      this.p.tape.entry = undefined;
    }
    if (this.link < item.paths.length) return this.p.linkEntry(item, this.link++);
    this.item = null;
    return null;
  }

  /**
   * A header just taken: a file's entry; null when it yields none; undefined
   * when step() has to go on (`held` or `reading` set).
   */
  private file(h: Header): Entry | null | undefined {
    if (h.type !== TS_INODE || headerKind(h, this.p.tape.fmt) !== 'data') {
      this.held = h;
      return undefined;
    }
    if (h.ino <= this.lastIno) this.p.problem('dump-sequence', `inode ${h.ino} comes after inode ${this.lastIno}: inodes are out of order or dumped twice`, { offset: h.offset });
    this.lastIno = Math.max(this.lastIno, h.ino);
    const r = this.p.readFile(h);
    if (r instanceof Promise) {
      this.reading = r;
      return undefined;
    }
    if (r === null) return null;
    this.item = r;
    this.link = 0;
    return r.entry;
  }

  protected async step(): Promise<Entry | null> {
    const p = this.p;
    const tape = p.tape;
    if (this.finishing !== null) {
      const f = this.finishing;
      this.finishing = null;
      await f;
      tape.entry = undefined;
    }
    if (this.reading !== null) {
      const r = this.reading;
      this.reading = null;
      const item = await r;
      if (item === null) return null;
      this.item = item;
      this.link = 0;
      return item.entry;
    }
    if (this.item !== null) return this.afterItem() ?? null;
    const h = this.held ?? tape.takeHeaderNow() ?? (await tape.takeHeader());
    this.held = null;
    if (h.type === TS_END) {
      this.ended = true;
      await tape.finish();
      await p.closeVolumes();
      return null;
    }
    if (h.type === TS_ADDR) {
      p.problem('dump-sequence', `TS_ADDR continuation for inode ${h.ino} without its TS_INODE`, { offset: h.offset });
      await tape.cursor(h, 0, () => {}).drain();
      return null;
    }
    if (h.type !== TS_INODE) throw tape.err('dump-sequence', `unexpected ${TS_NAMES[h.type]} header among the files`, { offset: h.offset });
    if (headerKind(h, tape.fmt) !== 'data') {
      await p.skipOrphanMeta(h);
      return null;
    }
    return this.file(h) ?? null;
  }
}

/** Entries of a dump given as several volumes (files), in order. */
export function parseDumpVolumes(volumes: AsyncIterable<ByteReader>, ctx: ParseContext): EntryStream {
  return new DumpEntries(volumes, ctx);
}

/** Entries of a single-stream dump. */
export const parseDump: ParseFn = (r, ctx) => {
  const one: AsyncIterable<ByteReader> = {
    async *[Symbol.asyncIterator]() {
      yield r;
    },
  };
  return parseDumpVolumes(one, ctx);
};
