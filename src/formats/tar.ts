// tar / ustar / pax / Solaris xustar / GNU tar reader (formats.md section 3):
// a pull parser over the ByteReader. One 512-byte header at a time; metadata
// headers (pax x/X/g, GNU L/K, Solaris A/E) are folded into the entry that
// follows; bodies are served straight from the reader and skipped when the
// consumer does not read them.
//
// Where reference readers disagree on framing (how many bytes follow a
// header), strict mode refuses the archive rather than pick one (security
// E6); lenient mode follows bsdtar, which is the conformance oracle.

import type { Body, BodyRange, Entry, EntryStream, EntryType, SparseRegion } from '../entry.js';
import { emptyBody, newEntry } from '../entry.js';
import { ArchiveError, TruncatedError, raiseLimit } from '../errors.js';
import type { Where } from '../errors.js';
import type { ByteReader } from '../source/reader.js';
import { NAME_PREFIX_SLACK, type ParseContext, type ParseFn } from './types.js';
import type { PaxAttrs } from './tar-pax.js';
import { applyPaxRecord, forEachPaxRecord, FATAL, WARN } from './tar-pax.js';

const BLOCK = 512;
const MAX_TIME = 8.64e12;
const ZEROS = Buffer.alloc(64 * 1024);

// Typeflags.
const T_AREG = 0;
const T_REG = 0x30; // '0'
const T_LNK = 0x31;
const T_SYM = 0x32;
const T_CHR = 0x33;
const T_BLK = 0x34;
const T_DIR = 0x35;
const T_FIFO = 0x36;
const T_CONT = 0x37;
const T_GNU_DUMPDIR = 0x44; // 'D'
const T_SUN_XATTR = 0x45; // 'E'
const T_SUN_ACL = 0x41; // 'A'
const T_GNU_LONGLINK = 0x4b; // 'K'
const T_GNU_LONGNAME = 0x4c; // 'L'
const T_GNU_MULTIVOL = 0x4d; // 'M'
const T_GNU_NAMES = 0x4e; // 'N'
const T_GNU_SPARSE = 0x53; // 'S'
const T_GNU_VOLHDR = 0x56; // 'V'
const T_SUN_XHDR = 0x58; // 'X'
const T_GLOBAL = 0x67; // 'g'
const T_XHDR = 0x78; // 'x'
/** Header types read by step() only (their bodies are awaited): long names, Solaris ACLs and xattrs, volume headers. */
const SPECIAL = new Set([T_GNU_LONGNAME, T_GNU_LONGLINK, T_SUN_ACL, T_SUN_XATTR, T_GNU_VOLHDR, T_GNU_MULTIVOL, T_GNU_NAMES]);
const DONE: IteratorResult<Entry> = { value: undefined, done: true };

type Magic = 'ustar' | 'gnu' | 'v7';

function pad(n: number): number {
  return (BLOCK - (n % BLOCK)) % BLOCK;
}

function isZero(b: Buffer): boolean {
  for (let o = 0; o < b.length; o += ZEROS.length) {
    const k = Math.min(ZEROS.length, b.length - o);
    if (Buffer.compare(b.subarray(o, o + k), k === ZEROS.length ? ZEROS : ZEROS.subarray(0, k)) !== 0) return false;
  }
  return true;
}

/** A NUL-terminated string field as latin1. */
function str(h: Buffer, off: number, len: number): string {
  let e = h.indexOf(0, off);
  if (e < 0 || e > off + len) e = off + len;
  return e === off ? '' : h.toString('latin1', off, e);
}

/**
 * A numeric header field: octal (leading spaces, digits, then NUL/space and
 * nothing but NUL/space) or GNU/star base-256 (first byte has 0x80; 0x40 in
 * it marks a negative number). An empty field (or one starting with NUL, as
 * GNU tar and bsdtar read it) is 0. NaN for junk; +-Infinity past 2^53.
 */
export function parseNumField(h: Buffer, off: number, len: number): number {
  const end = off + len;
  const b0 = h[off]!;
  if (b0 & 0x80) {
    if (b0 & 0x40) {
      // Negative: two's complement over the whole field.
      let c = 255 - b0;
      for (let i = off + 1; i < end; i++) c = c * 256 + (255 - h[i]!);
      return c + 1 > Number.MAX_SAFE_INTEGER ? -Infinity : -(c + 1);
    }
    let v = b0 & 0x3f;
    for (let i = off + 1; i < end; i++) v = v * 256 + h[i]!;
    return v > Number.MAX_SAFE_INTEGER ? Infinity : v;
  }
  let i = off;
  while (i < end && h[i] === 0x20) i++;
  if (i === end || h[i] === 0) return 0;
  const s = i;
  let v = 0;
  while (i < end) {
    const c = h[i]!;
    if (c < 0x30 || c > 0x37) break;
    v = v * 8 + (c - 0x30);
    i++;
  }
  if (i === s) return NaN;
  for (; i < end; i++) if (h[i] !== 0 && h[i] !== 0x20) return NaN;
  return v;
}

const CK_ZERO = 1;
const CK_OK = 2;
const CK_BAD = 3;

let sumView: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));

/**
 * The sum of a block's 512 bytes, four at a time: each 32-bit word adds its
 * bytes 0 and 2 in one 16-bit lane and bytes 1 and 3 in the other (128
 * words cannot carry a lane past 65535). Twice as fast as a byte loop, which
 * was the tar parser's largest own cost.
 */
export function blockSum(h: Buffer): number {
  if (h.length < BLOCK) throw new RangeError(`a header block is ${BLOCK} bytes, not ${h.length}`);
  if (sumView.buffer !== h.buffer) sumView = new DataView(h.buffer);
  const v = sumView;
  let acc = 0;
  for (let i = h.byteOffset, end = i + BLOCK; i < end; i += 4) {
    const w = v.getUint32(i, true);
    acc += (w & 0x00ff00ff) + ((w >>> 8) & 0x00ff00ff);
  }
  return (acc & 0xffff) + (acc >>> 16);
}

/** Verify the header checksum (unsigned or old signed sum); CK_ZERO for an all-zero block. */
function checkHeader(h: Buffer): number {
  let sum = blockSum(h);
  if (sum === 0) return CK_ZERO;
  for (let i = 148; i < 156; i++) sum -= h[i]!;
  sum += 8 * 0x20;
  if (h[148]! & 0x80) return CK_BAD;
  const want = parseNumField(h, 148, 8);
  if (want === sum) return CK_OK;
  // Very old tars summed signed bytes.
  let hi = 0;
  for (let i = 0; i < BLOCK; i++) if (h[i]! & 0x80 && (i < 148 || i >= 156)) hi++;
  return want === sum - 256 * hi ? CK_OK : CK_BAD;
}

function magicOf(h: Buffer): Magic {
  if (h[257] === 0x75 && h[258] === 0x73 && h[259] === 0x74 && h[260] === 0x61 && h[261] === 0x72) {
    if (h[262] === 0) return 'ustar';
    if (h[262] === 0x20) return 'gnu';
  }
  return 'v7';
}

/** Name with the ustar prefix (star's xstar layout keeps 131 bytes of prefix). */
function headerName(h: Buffer, magic: Magic): string {
  const name = str(h, 0, 100);
  if (magic !== 'ustar' || h[345] === 0) return name;
  const star = h[508] === 0x74 && h[509] === 0x61 && h[510] === 0x72 && h[511] === 0;
  return `${str(h, 345, star ? 131 : 155)}/${name}`;
}

function typeName(tf: number): string {
  return tf >= 0x21 && tf < 0x7f ? `'${String.fromCharCode(tf)}'` : `0x${tf.toString(16).padStart(2, '0')}`;
}

/** The data after one entry's header: served as its body, or skipped. */
class DataStream implements Body {
  left: number;
  private started = false;

  constructor(
    private readonly r: ByteReader,
    /** Stored bytes (without padding). */
    private readonly n: number,
    private readonly where: Where,
    /** Flat [start, end) body ranges that must be zeros and are not served (SUN.holesdata). */
    private readonly holes?: number[],
  ) {
    this.left = n;
  }

  /** Bytes still to consume, padding included. */
  get remaining(): number {
    return this.left + pad(this.n);
  }

  open(): Body {
    if (this.started) throw new Error('entry body read twice');
    this.started = true;
    if (this.holes) {
      const it = this.sparse(this.holes);
      return { [Symbol.asyncIterator]: () => it };
    }
    return this;
  }

  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    return this.plain();
  }

  /** The whole body when the reader holds it already (before any iteration). */
  takeNow(): Buffer | undefined {
    if (this.left !== this.n || this.holes) return undefined;
    const c = this.r.takeBuffered(this.left);
    if (c !== undefined) this.left = 0;
    return c;
  }

  /** The body as a range of the archive file (Body.takeRange; a body with holes is served by sparse(), without it). */
  takeRange(): BodyRange | undefined {
    if (this.left !== this.n) return undefined;
    const range = this.r.takeRange(this.left);
    if (range !== undefined) this.left = 0;
    return range;
  }

  private async *plain(): AsyncGenerator<Buffer> {
    const r = this.r;
    while (this.left > 0) {
      const c = await r.readSome(this.left);
      if (c.length === 0) throw this.truncated();
      this.left -= c.length;
      yield c;
    }
  }

  private async *sparse(holes: number[]): AsyncGenerator<Buffer> {
    const r = this.r;
    let hi = 0;
    while (this.left > 0) {
      const c = await r.readSome(this.left);
      if (c.length === 0) throw this.truncated();
      const pos = this.n - this.left; // body offset of c[0]
      this.left -= c.length;
      let i = 0;
      while (i < c.length) {
        const at = pos + i;
        while (hi < holes.length && holes[hi + 1]! <= at) hi += 2;
        if (hi < holes.length && holes[hi]! <= at) {
          const k = Math.min(c.length, holes[hi + 1]! - pos);
          if (!isZero(c.subarray(i, k))) {
            throw new ArchiveError('sparse-hole-data', `SUN.holesdata marks bytes ${at}..${pos + k} as a hole but they hold data`, this.where, 'the sparse map does not match the file data; the archive is damaged');
          }
          i = k;
        } else {
          const k = hi < holes.length ? Math.min(c.length, holes[hi]! - pos) : c.length;
          yield c.subarray(i, k);
          i = k;
        }
      }
    }
  }

  private truncated(): TruncatedError {
    return new TruncatedError(`unexpected end of input in file data: ${this.left} of ${this.n} bytes missing`, { ...this.where, offset: this.r.position });
  }

  /** finish() when what is left is buffered: true when done, false when finish() must run. */
  finishNow(): boolean {
    if (!this.r.skipBuffered(this.remaining)) return false;
    this.started = true;
    this.left = 0;
    return true;
  }

  /** Skip what the consumer did not read, and the padding. */
  async finish(): Promise<void> {
    this.started = true;
    const k = this.remaining;
    this.left = 0;
    if (k === 0) return;
    try {
      await this.r.skip(k, 'file data');
    } catch (e) {
      if (e instanceof TruncatedError) throw new TruncatedError(`unexpected end of input in file data (${k} bytes to skip)`, { ...this.where, offset: this.r.position });
      throw e;
    }
  }
}

/** What makeEntry has worked out when a sparse map must be read (see makeEntry). */
type Made = Pick<Entry, 'path' | 'type' | 'mode' | 'uid' | 'gid' | 'mtime' | 'mtimeNsec' | 'size'> & {
  /** Data bytes after the header. */
  stored: number;
  /** The file's size with its holes. */
  realSize: number;
};

class TarParser implements EntryStream {
  private index = 0;
  private global: PaxAttrs | null = null;
  private seenPax = false;
  private variant: string | undefined;
  private readonly warnedOnce = new Set<string>();
  private readonly unknownKeys = new Set<string>();

  // What metadata headers said about the entry being assembled.
  /** Offset of its first header, -1 when nothing is pending. */
  private pStart = -1;
  private pPax: PaxAttrs | undefined;
  private pLongName: string | undefined;
  private pLongLink: string | undefined;
  private pAcl: Buffer | undefined;
  /** A Solaris xattr_hdr was read: the next 'E' record is that attribute's data. */
  private pXattr: { base: string; attr: string } | undefined;
  /**
   * Metadata bytes read for the pending entry. Each header is capped on its
   * own, and so is their sum: a chain of x headers each adding new xattrs
   * would otherwise grow memory without bound (security F7).
   */
  private pMetaBytes = 0;

  // The entry being built (valid inside makeEntry).
  private ePath = '';
  private eStart = 0;

  constructor(
    private readonly r: ByteReader,
    private readonly ctx: ParseContext,
  ) {}

  // ---- reporting ---------------------------------------------------------

  private at(offset: number, entry?: string): Where {
    return entry === undefined ? { offset, index: this.index } : { entry, offset, index: this.index };
  }

  /** Where the entry being built is. */
  private ew(): Where {
    return { entry: this.ePath, offset: this.eStart, index: this.index };
  }

  private warn(kind: string, message: string, w: Where): void {
    this.ctx.warn({ kind, message, ...w });
  }

  private warnOnce(kind: string, message: string, w: Where): void {
    if (this.warnedOnce.has(kind)) return;
    this.warnedOnce.add(kind);
    this.warn(kind, message, w);
  }

  /** Fatal in strict mode, a warning in lenient mode (never used for framing problems). */
  private problem(kind: string, message: string, w: Where, hint?: string): void {
    if (!this.ctx.lenient) throw new ArchiveError(kind, message, w, hint);
    this.warn(kind, message, w);
  }

  private setVariant(v: string): void {
    const rank: Record<string, number> = { v7: 0, ustar: 1, gnu: 1, pax: 2, xustar: 3 };
    if (this.variant === undefined || rank[v]! > rank[this.variant]!) {
      this.variant = v;
      this.ctx.info.variant = v;
    }
  }

  private clearPending(): void {
    this.pMetaBytes = 0;
    if (this.pStart < 0) return;
    this.pStart = -1;
    this.pPax = undefined;
    this.pLongName = undefined;
    this.pLongLink = undefined;
    this.pAcl = undefined;
    this.pXattr = undefined;
  }

  // ---- reading -----------------------------------------------------------

  private async readBlock(what: string, w: Where): Promise<Buffer> {
    try {
      return await this.r.read(BLOCK, what);
    } catch (e) {
      if (e instanceof TruncatedError) throw new TruncatedError(`unexpected end of input in ${what}`, w);
      throw e;
    }
  }

  private async skip(n: number, what: string, w: Where): Promise<void> {
    if (n <= 0) return;
    try {
      await this.r.skip(n, what);
    } catch (e) {
      if (e instanceof TruncatedError) throw new TruncatedError(`unexpected end of input skipping ${what}: ${n} bytes needed`, w);
      throw e;
    }
  }

  /**
   * A metadata body of `size` bytes plus padding when it is buffered already
   * (capped as readMeta does), else undefined and readMeta must run.
   */
  private metaNow(size: number, what: string, w: Where | (() => Where), perEntry: boolean): Buffer | undefined {
    if (this.r.buffered < size + pad(size)) return undefined;
    this.checkMeta(size, what, w, perEntry);
    const body = this.r.takeBuffered(size)!;
    this.r.skipBuffered(pad(size));
    return body;
  }

  /** Read a metadata body (pax, long name, ACL...) of `size` bytes plus padding, capped. */
  private async readMeta(size: number, what: string, w: Where, perEntry = true): Promise<Buffer> {
    this.checkMeta(size, what, w, perEntry);
    try {
      const body = await this.r.read(size, what);
      await this.r.skip(pad(size), what);
      return body;
    } catch (e) {
      if (e instanceof TruncatedError) throw new TruncatedError(`unexpected end of input in ${what} (${size} bytes)`, w);
      throw e;
    }
  }

  /** The caps on one metadata body and on all of one entry's. */
  private checkMeta(size: number, what: string, lazyWhere: Where | (() => Where), perEntry: boolean): void {
    const w = (): Where => (typeof lazyWhere === 'function' ? lazyWhere() : lazyWhere);
    if (size > this.ctx.limits.maxMetaBytes) {
      throw new ArchiveError('meta-too-large', `${what} of ${size} bytes is over the ${this.ctx.limits.maxMetaBytes} byte limit`, w(), raiseLimit('meta', this.ctx.limits.maxMetaBytes));
    }
    if (perEntry) {
      this.pMetaBytes += size;
      if (this.pMetaBytes > this.ctx.limits.maxMetaBytes) {
        throw new ArchiveError('meta-too-large', `the metadata headers of one entry total ${this.pMetaBytes} bytes, over the ${this.ctx.limits.maxMetaBytes} byte limit`, w(), raiseLimit('meta', this.ctx.limits.maxMetaBytes));
      }
    }
  }

  // ---- the loop ----------------------------------------------------------

  /**
   * The next entry when it, and every header before it, is buffered and
   * needs no waiting: a plain header, or pax headers then one, the previous
   * entry's data already passed. Else undefined, with nothing half done:
   * next() (step()) takes over at the same header, or with the entry being
   * made (held). No promise per entry on this path.
   */
  nextNow(): Entry | undefined {
    if (this.finished || this.held !== null) return undefined;
    const d = this.last;
    if (d !== null) {
      if (d.remaining > 0 && !d.finishNow()) return undefined;
      this.last = null;
    }
    const r = this.r;
    for (;;) {
      const h = r.peekBuffered(BLOCK);
      if (h === undefined || checkHeader(h) !== CK_OK) return undefined;
      const tf = h[156]!;
      const off = r.position;
      const pax = tf === T_XHDR || tf === T_SUN_XHDR || tf === T_GLOBAL;
      if (pax) {
        // Only when its body is buffered too: readPax() is then synchronous.
        const size = this.metaSize(h, off);
        if (r.buffered < BLOCK + size + pad(size)) return undefined;
      } else if (SPECIAL.has(tf)) {
        return undefined;
      }
      r.skipBuffered(BLOCK);
      const magic = this.sawHeader(h, off);
      if (pax) {
        this.readPax(h, off, tf);
        continue;
      }
      const making = this.makeEntry(h, tf, magic);
      if (making instanceof Promise) {
        this.held = { making, off };
        return undefined;
      }
      const e = this.made(making, off);
      if (e !== null) return e;
    }
  }

  next(): Promise<IteratorResult<Entry>> {
    const e = this.nextNow();
    if (e !== undefined) return Promise.resolve({ value: e, done: false });
    return this.step().then(
      (x) => (x === null ? DONE : { value: x, done: false }),
      (err: unknown) => {
        this.finished = true;
        throw err;
      },
    );
  }

  async return(): Promise<IteratorResult<Entry>> {
    this.finished = true;
    return DONE;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** A header was taken at `off`: the variant and the start of the entry's headers noted. */
  private sawHeader(h: Buffer, off: number): Magic {
    const magic = magicOf(h);
    if (this.variant === undefined) this.setVariant(magic);
    if (this.pStart < 0) this.pStart = off;
    return magic;
  }

  /** An entry made from its header(s): counted and handed out with its data (null: skipped). */
  private made(e: Entry | null, off: number): Entry | null {
    this.clearPending();
    if (!e) return null;
    if (++this.index > this.ctx.limits.maxEntries) {
      throw new ArchiveError('too-many-entries', `more than ${this.ctx.limits.maxEntries} entries`, { offset: off }, raiseLimit('entries', this.ctx.limits.maxEntries));
    }
    this.last = this.data;
    this.data = null;
    return e;
  }

  /** The next entry, waiting for input as needed; null after the end (the input read to its end). */
  private async step(): Promise<Entry | null> {
    if (this.finished) return null;
    if (this.held !== null) {
      const { making, off } = this.held;
      this.held = null;
      const e = this.made(await making, off);
      if (e !== null) return e;
    }
    const d = this.last;
    this.last = null;
    if (d && d.remaining > 0 && !d.finishNow()) await d.finish();
    const r = this.r;
    for (;;) {
      const off = r.position;
      if (r.buffered < BLOCK && (await r.atEof())) {
        this.atEndWithoutMarker(off);
        break;
      }
      let h: Buffer | undefined = r.takeBuffered(BLOCK);
      if (h === undefined) try {
        h = await r.read(BLOCK, 'tar header');
      } catch (e) {
        if (e instanceof TruncatedError) throw new TruncatedError('unexpected end of input in a tar header', this.at(off, this.pLongName ?? this.pPax?.path));
        throw e;
      }
      const ck = checkHeader(h);
      if (ck === CK_ZERO) {
        await this.atEndMarker(off);
        break;
      }
      if (ck === CK_BAD) {
        throw new ArchiveError('bad-checksum', 'tar header checksum mismatch (not a tar header, or a damaged one)', this.at(off), 'the archive is damaged or is not tar; zonep2v does not resynchronise past a bad header');
      }
      const tf = h[156]!;
      const magic = this.sawHeader(h, off);
      switch (tf) {
        case T_XHDR:
        case T_SUN_XHDR:
        case T_GLOBAL:
          const reading = this.readPax(h, off, tf);
          if (reading) await reading;
          continue;
        case T_GNU_LONGNAME:
        case T_GNU_LONGLINK: {
          const size = this.metaSize(h, off);
          const body = await this.readMeta(size, tf === T_GNU_LONGNAME ? 'GNU long name' : 'GNU long link', this.at(off));
          const z = body.indexOf(0);
          const s = body.toString('latin1', 0, z < 0 ? body.length : z);
          if (tf === T_GNU_LONGNAME) {
            if (this.pLongName !== undefined) this.warn('redundant-longname', 'several GNU long-name headers in a row; the last one is used', this.at(off, s));
            this.pLongName = s;
          } else {
            if (this.pLongLink !== undefined) this.warn('redundant-longname', 'several GNU long-link headers in a row; the last one is used', this.at(off, s));
            this.pLongLink = s;
          }
          continue;
        }
        case T_SUN_ACL: {
          const size = this.metaSize(h, off);
          const name = headerName(h, magic);
          const body = await this.readMeta(size, 'Solaris ACL record', this.at(off, name));
          const bad = checkAclRecords(body);
          if (bad) this.problem('bad-acl', `Solaris ACL record: ${bad}`, this.at(off, name));
          else this.pAcl = Buffer.from(body);
          continue;
        }
        case T_SUN_XATTR:
          await this.solarisXattr(h, off, magic);
          continue;
        case T_GNU_VOLHDR: {
          const size = this.metaSize(h, off);
          this.warnOnce('volume-label', `GNU volume label "${str(h, 0, 100)}" skipped`, this.at(off));
          await this.skip(size + pad(size), 'volume label', this.at(off));
          this.clearPending();
          continue;
        }
        case T_GNU_MULTIVOL:
        case T_GNU_NAMES:
          throw new ArchiveError('unsupported', tf === T_GNU_MULTIVOL ? 'GNU multi-volume continuation header: this volume does not start with a whole file' : "old GNU 'N' header (long names written as a script) is not supported", this.at(off, headerName(h, magic)), 'give a single-volume archive');
      }
      const making = this.makeEntry(h, tf, magic);
      const e = this.made(making instanceof Promise ? await making : making, off);
      if (e !== null) return e;
    }
    // Read to the end so that a decompressor's late error surfaces.
    let warned = false;
    await r.drain((c, o) => {
      if (warned || isZero(c)) return;
      warned = true;
      this.warn('trailing-data', 'data after the end-of-archive marker ignored (a concatenated archive is read up to its first end marker only)', { offset: o });
    });
    this.finished = true;
    return null;
  }

  /** Data following the entry makeEntry just built. */
  private data: DataStream | null = null;
  /** The entry handed out last, whose data ends before the next header. */
  private last: DataStream | null = null;
  /** An entry nextNow() started making that needs waiting (a GNU sparse map): step() finishes it. */
  private held: { making: Promise<Entry | null>; off: number } | null = null;
  /** The end was reached (or the stream failed or was closed). */
  private finished = false;

  private atEndWithoutMarker(off: number): void {
    this.danglingMeta(off);
    const msg = 'input ends without the end-of-archive marker (two zero blocks)';
    if (!this.ctx.lenient) throw new TruncatedError(msg, { offset: off });
    this.warn('no-end-marker', msg, { offset: off });
  }

  private async atEndMarker(off: number): Promise<void> {
    this.danglingMeta(off);
    const next = await this.r.peek(BLOCK);
    if (next.length === BLOCK && isZero(next)) await this.r.skip(BLOCK);
    else if (next.length === 0) this.warn('lone-zero-block', 'the end-of-archive marker is a single zero block', { offset: off });
  }

  private danglingMeta(off: number): void {
    if (this.pStart < 0) return;
    const start = this.pStart;
    this.clearPending();
    this.problem('dangling-header', `extended/long-name header not followed by an entry (end of archive at ${off})`, { offset: start });
  }

  /** Size field of a metadata header: always framing, so junk is fatal. */
  private metaSize(h: Buffer, off: number): number {
    const size = parseNumField(h, 124, 12);
    if (!(size >= 0) || size === Infinity) {
      throw new ArchiveError(size < 0 ? 'negative-size' : 'bad-number', `header size field ${size < 0 ? 'is negative' : 'is not a valid number'}`, this.at(off, str(h, 0, 100)), 'the archive is damaged or hostile');
    }
    return size;
  }

  /** A pax header: its body applied at once when buffered (no promise), else once read. */
  private readPax(h: Buffer, off: number, tf: number): Promise<void> | undefined {
    const global = tf === T_GLOBAL;
    this.seenPax = true;
    this.setVariant(tf === T_SUN_XHDR ? 'xustar' : 'pax');
    const size = this.metaSize(h, off);
    const what = global ? 'pax global header' : tf === T_SUN_XHDR ? "Solaris 'X' extended header" : 'pax extended header';
    let w: Where | undefined;
    const where = () => (w ??= this.at(off, str(h, 0, 100)));
    const body = this.metaNow(size, what, where, !global);
    if (body !== undefined) {
      this.applyPax(body, global, off, what, where);
      return undefined;
    }
    return this.readMeta(size, what, where(), !global).then((b) => this.applyPax(b, global, off, what, where));
  }

  private applyPax(body: Buffer, global: boolean, off: number, what: string, where: () => Where): void {
    let attrs: PaxAttrs;
    if (global) {
      attrs = this.global ??= {};
      // A global header alone is not part of the next entry.
      if (this.pStart === off) this.pStart = -1;
    } else {
      // GNU tar and bsdtar apply only the last of several x/X headers in a
      // row; merging them would let an earlier one's size reframe the entry.
      if (this.pPax) this.warn('redundant-pax', 'several extended headers in a row; only the last one is used', where());
      attrs = this.pPax = {};
    }
    this.paxAttrs = attrs;
    this.paxGlobal = global;
    this.paxWhere = where;
    const bad = forEachPaxRecord(body, this.onPaxRecord);
    if (attrs.sparseOffsetPending !== undefined) this.paxProblem('bad-sparse-map', 'GNU.sparse.offset without its numbytes', FATAL);
    if (bad) this.problem('bad-pax', `malformed ${what}: ${bad}`, where(), 'in --lenient mode the rest of this header is ignored');
  }

  // The pax header being applied, for the two callbacks below (made once, not per header).
  private paxAttrs: PaxAttrs = {};
  private paxGlobal = false;
  private paxWhere: () => Where = () => ({});

  private readonly paxProblem = (kind: string, message: string, level: number): void => {
    const where = this.paxWhere();
    if (level === FATAL) throw new ArchiveError(kind, message, where, 'the archive is damaged or hostile');
    if (level === WARN) this.warn(kind, message, where);
    else this.problem(kind, message, where);
  };

  private readonly onPaxRecord = (b: Buffer, k0: number, k1: number, v0: number, v1: number): void => {
    if (applyPaxRecord(this.paxAttrs, b, k0, k1, v0, v1, this.paxGlobal, this.paxProblem)) return;
    const key = b.toString('latin1', k0, k1);
    if (!this.unknownKeys.has(key) && this.unknownKeys.size < 32) {
      this.unknownKeys.add(key);
      this.warn('pax-unknown-key', `unknown pax keyword "${key.slice(0, 64)}" ignored`, this.paxWhere());
    }
  };

  private async solarisXattr(h: Buffer, off: number, magic: Magic): Promise<void> {
    const name = headerName(h, magic);
    const w = this.at(off, name);
    const size = this.pPax?.size ?? this.metaSize(h, off);
    if (this.pXattr) {
      // The attribute's own data: the entry model has no place for Solaris
      // extended-attribute files, so they are skipped (and named).
      const { base, attr } = this.pXattr;
      this.warn('xattr-skipped', `Solaris extended attribute "${attr}" of ${JSON.stringify(base)} skipped (${size} bytes)`, this.at(off, base));
      await this.skip(size + pad(size), 'extended attribute data', w);
      this.clearPending();
      return;
    }
    const body = await this.readMeta(size, 'Solaris extended attribute header', w);
    const x = parseXattrHdr(body);
    if (typeof x === 'string') {
      this.problem('bad-xattr-header', `Solaris extended attribute header: ${x}`, w);
      this.clearPending();
      return;
    }
    this.pXattr = x;
    this.pPax = undefined;
  }

  // ---- entries -----------------------------------------------------------

  /** A numeric field that is not framing: junk is a problem, 0 in lenient mode. */
  private num(h: Buffer, o: number, l: number, field: string): number {
    const v = parseNumField(h, o, l);
    if (v >= 0 && v !== Infinity) return v;
    this.problem('bad-number', `${field} field is not a valid octal number`, this.ew(), 'the archive is damaged');
    return 0;
  }

  /**
   * The entry of header `h`, or null when it is skipped. A promise only for
   * the two sparse kinds that read their map from the stream first: an
   * async function per entry was the parser's largest garbage.
   */
  private makeEntry(h: Buffer, tf: number, magic: Magic): Entry | null | Promise<Entry | null> {
    const g = this.global;
    const x = this.pPax;
    let path = x?.sparseName ?? x?.path ?? this.pLongName ?? headerName(h, magic);
    this.ePath = path;
    this.eStart = this.pStart;

    if (this.pXattr) {
      this.warn('xattr-header-orphan', `Solaris extended attribute header for "${this.pXattr.attr}" not followed by its data record`, this.ew());
    }

    // Size: framing, so always strict.
    const hsize = parseNumField(h, 124, 12);
    if (!(hsize >= 0) || hsize === Infinity) {
      const neg = hsize < 0;
      throw new ArchiveError(neg ? 'negative-size' : 'bad-number', neg ? 'size field is negative' : 'size field is not a valid number', this.ew(), 'the archive is damaged or hostile');
    }
    const size = x?.size ?? hsize;

    const mode = this.num(h, 100, 8, 'mode') & 0o7777;
    const uid = x?.uid ?? g?.uid ?? this.num(h, 108, 8, 'uid');
    const gid = x?.gid ?? g?.gid ?? this.num(h, 116, 8, 'gid');
    let mtime: number;
    let mtimeNsec = 0;
    if (x?.mtime !== undefined) {
      mtime = x.mtime;
      mtimeNsec = x.mtimeNsec ?? 0;
    } else if (g?.mtime !== undefined) {
      mtime = g.mtime;
      mtimeNsec = g.mtimeNsec ?? 0;
    } else {
      mtime = parseNumField(h, 136, 12);
      if (Number.isNaN(mtime)) {
        this.problem('bad-number', 'mtime field is not a valid octal number', this.ew(), 'the archive is damaged');
        mtime = 0;
      } else if (!(Math.abs(mtime) <= MAX_TIME)) {
        this.warn('time-clamped', 'mtime is out of range; clamped', this.ew());
        mtime = mtime < 0 ? -MAX_TIME : MAX_TIME;
      }
    }

    let type: EntryType;
    let stored = 0; // data bytes after the header
    switch (tf) {
      case T_REG:
      case T_AREG:
      case T_CONT:
      case T_GNU_SPARSE:
        type = 'file';
        stored = size;
        if ((tf === T_REG || tf === T_AREG) && path.endsWith('/')) {
          type = 'dir';
          // bsdtar reads no data after such a directory (GNU tar would).
          if (size > 0) this.warn('size-ignored', `directory (name ends in '/') with size ${size}: size ignored, as bsdtar does`, this.ew());
          stored = 0;
        }
        break;
      case T_LNK:
        type = 'hardlink';
        if (x?.size !== undefined) {
          stored = size;
        } else if (size > 0 && this.seenPax) {
          // pax lets a hard link carry data; bsdtar then reads it, GNU tar does not.
          this.problem('ambiguous-size', `hard link with size ${size} in a pax archive: readers disagree on whether data follows`, this.ew(), 'the archive is ambiguous; --lenient reads it as bsdtar does');
          stored = size;
        }
        if (stored > 0) this.warn('hardlink-data', `hard link carries ${stored} bytes of data; skipped (the link target holds them)`, this.ew());
        break;
      case T_SYM:
      case T_CHR:
      case T_BLK:
      case T_FIFO:
        type = tf === T_SYM ? 'symlink' : tf === T_CHR ? 'char' : tf === T_BLK ? 'block' : 'fifo';
        if (x?.size !== undefined) {
          // A pax size is framing to both readers: GNU tar and bsdtar skip that many bytes.
          stored = size;
          if (size > 0) this.warn('data-skipped', `${type} carries ${size} bytes of data (pax size); skipped, as GNU tar and bsdtar do`, this.ew());
        } else if (size > 0) {
          // bsdtar reads no data here, GNU tar skips `size` bytes.
          this.problem('ambiguous-size', `${type} with size ${size}: readers disagree on whether data follows`, this.ew(), 'the archive is ambiguous; --lenient reads it as bsdtar does');
        }
        break;
      case T_DIR:
        type = 'dir';
        if (x?.size !== undefined && size > 0) {
          // bsdtar skips the bytes a pax size gives a directory, GNU tar reads none.
          this.problem('ambiguous-size', `directory with pax size ${size}: readers disagree on whether data follows`, this.ew(), 'the archive is ambiguous; --lenient reads it as bsdtar does');
          stored = size;
        }
        break;
      case T_GNU_DUMPDIR:
        type = 'dir';
        stored = size;
        break;
      default:
        this.problem('unknown-typeflag', `unknown typeflag ${typeName(tf)}`, this.ew(), 'in --lenient mode such entries are read as regular files, as POSIX says');
        type = 'file';
        stored = size;
    }

    // Sparse files: the body is the data regions only.
    const made: Made = { path, type, mode, uid, gid, mtime, mtimeNsec, size, stored, realSize: size };
    if (type === 'file') {
      if (tf === T_GNU_SPARSE) {
        return this.oldGnuSparse(h).then((s) => this.sparseEntry(h, magic, made, s.regions, s.realSize, undefined));
      }
      if (x?.sparseMajor === 1) {
        if (x.sparseMinor !== 0) throw new ArchiveError('unsupported', `GNU sparse format 1.${x.sparseMinor} is not supported`, this.ew());
        return this.gnuSparse1Map(size).then((m) => {
          made.stored = size - m.bytes; // the map's whole blocks are read
          return this.sparseEntry(h, magic, made, m.regions, this.paxRealSize(x), undefined);
        });
      }
      if (x?.sparseMap !== undefined) {
        const map = x.sparseMap;
        if (x.sparseNumBlocks !== undefined && x.sparseNumBlocks * 2 !== map.length) {
          throw new ArchiveError('bad-sparse-map', `GNU.sparse.numblocks is ${x.sparseNumBlocks} but the map has ${map.length / 2} entries`, this.ew());
        }
        const regions: SparseRegion[] = [];
        for (let i = 0; i + 1 < map.length; i += 2) regions.push({ offset: map[i]!, length: map[i + 1]! });
        return this.sparseEntry(h, magic, made, regions, this.paxRealSize(x), undefined);
      }
      if (x?.holesdata !== undefined) {
        const hd = parseHolesdata(x.holesdata, size);
        if (typeof hd !== 'string') return this.sparseEntry(h, magic, made, hd.regions, size, hd.holes);
        this.problem('bad-sparse-map', `SUN.holesdata: ${hd}`, this.ew(), 'in --lenient mode the file is written whole');
      }
    }
    return this.finishEntry(h, magic, made, undefined, undefined);
  }

  /** GNU.sparse.size/realsize, which a pax sparse file must have. */
  private paxRealSize(x: PaxAttrs): number {
    if (x.sparseRealSize === undefined) throw new ArchiveError('bad-sparse-map', 'GNU sparse file without GNU.sparse.size/realsize', this.ew());
    return x.sparseRealSize;
  }

  /** A sparse file once its map is known: the map checked (SUN.holesdata's was when parsed). */
  private sparseEntry(h: Buffer, magic: Magic, made: Made, regions: SparseRegion[], realSize: number, holes: number[] | undefined): Entry | null | Promise<null> {
    made.realSize = realSize;
    let sparse = regions;
    if (!holes) {
      const bad = checkRegions(sparse, realSize, made.stored);
      if (bad) throw new ArchiveError('bad-sparse-map', bad, this.ew(), 'the sparse map is damaged or hostile');
      sparse = sparse.filter((r) => r.length > 0);
    }
    return this.finishEntry(h, magic, made, sparse, holes);
  }

  /** The rest of makeEntry: names, the checks that skip an entry, the Entry itself. */
  private finishEntry(h: Buffer, magic: Magic, made: Made, sparse: SparseRegion[] | undefined, holes: number[] | undefined): Entry | null | Promise<null> {
    const x = this.pPax;
    const { type, mode, uid, gid, mtime, mtimeNsec, stored, realSize } = made;
    let path = made.path;

    // A directory loses its trailing slashes.
    if (type === 'dir' && path.length > 1 && path.charCodeAt(path.length - 1) === 0x2f) {
      let e = path.length;
      while (e > 1 && path.charCodeAt(e - 1) === 0x2f) e--;
      path = this.ePath = path.slice(0, e);
    }
    let linkTarget: string | undefined;
    if (type === 'symlink' || type === 'hardlink') linkTarget = x?.linkpath ?? this.pLongLink ?? str(h, 157, 100);

    let reject: string | null = null;
    let rejectKind = '';
    const maxPath = this.ctx.limits.maxPathBytes;
    if (path === '') {
      reject = 'entry has an empty name';
      rejectKind = 'empty-name';
    } else if (path.length > maxPath + NAME_PREFIX_SLACK) {
      reject = `name is ${path.length} bytes, over the ${maxPath} byte limit`;
      rejectKind = 'path-too-long';
    } else if (linkTarget === '') {
      reject = `${type} with an empty target`;
      rejectKind = 'empty-link-target';
    } else if (linkTarget !== undefined && linkTarget.length > maxPath + (type === 'hardlink' ? NAME_PREFIX_SLACK : 0)) {
      reject = `link target is ${linkTarget.length} bytes, over the ${maxPath} byte limit`;
      rejectKind = 'path-too-long';
    }
    if (reject) {
      this.problem(rejectKind, this.ctx.lenient ? `${reject}; entry skipped` : reject, this.ew(), 'the archive is damaged or hostile; --lenient skips such entries');
      return this.skip(stored + pad(stored), 'entry data', this.ew()).then(() => null);
    }

    const entry = newEntry(path, type, mode, uid, gid, mtime, mtimeNsec, type === 'file' ? realSize : 0, this.eStart, this.index, emptyBody);
    if (linkTarget !== undefined) entry.linkTarget = linkTarget;
    if (type === 'char' || type === 'block') {
      entry.devMajor = x?.devMajor ?? (magic === 'v7' ? 0 : this.num(h, 329, 8, 'devmajor'));
      entry.devMinor = x?.devMinor ?? (magic === 'v7' ? 0 : this.num(h, 337, 8, 'devminor'));
    }
    if (x?.nlink !== undefined) entry.nlink = x.nlink;
    if (x?.xattrs || this.pAcl) {
      const xa: Record<string, Buffer> = { ...x?.xattrs };
      if (this.pAcl) xa['SUN.acl'] = this.pAcl;
      entry.xattrs = xa;
    }
    if (sparse) entry.sparse = sparse;

    if (stored > 0 || type === 'file') {
      const d = new DataStream(this.r, stored, this.ew(), holes);
      this.data = d;
      if (type === 'file') entry.body = () => d.open();
    }
    return entry;
  }

  /** Old GNU 'S': map in the header (4 entries) and extension blocks (21 each). */
  private async oldGnuSparse(h: Buffer): Promise<{ regions: SparseRegion[]; realSize: number }> {
    const regions: SparseRegion[] = [];
    const take = (b: Buffer, at: number, count: number): void => {
      for (let i = 0; i < count; i++) {
        const o = at + i * 24;
        if (b[o] === 0) return;
        const offset = parseNumField(b, o, 12);
        const length = parseNumField(b, o + 12, 12);
        if (!(offset >= 0 && length >= 0 && offset !== Infinity && length !== Infinity)) {
          throw new ArchiveError('bad-sparse-map', 'GNU sparse map entry is not a valid number', this.ew());
        }
        regions.push({ offset, length });
      }
    };
    take(h, 386, 4);
    const realSize = parseNumField(h, 483, 12);
    if (!(realSize >= 0) || realSize === Infinity) throw new ArchiveError('bad-sparse-map', 'GNU sparse real size is not a valid number', this.ew());
    let ext = h[482] !== 0;
    let blocks = 0;
    while (ext) {
      if (++blocks * BLOCK > this.ctx.limits.maxMetaBytes) throw new ArchiveError('meta-too-large', 'GNU sparse map is over the metadata limit', this.ew(), raiseLimit('meta', this.ctx.limits.maxMetaBytes));
      const b = await this.readBlock('GNU sparse extension header', this.ew());
      take(b, 0, 21);
      ext = b[504] !== 0;
    }
    return { regions, realSize };
  }

  /** GNU sparse 1.0: the map is decimal lines at the start of the data, padded to a block. */
  private async gnuSparse1Map(size: number): Promise<{ regions: SparseRegion[]; bytes: number }> {
    const nums: number[] = [];
    let want = -1; // numbers expected after the count
    let cur = -1;
    let bytes = 0;
    while (want < 0 || nums.length < want) {
      if (bytes + BLOCK > size) throw new ArchiveError('bad-sparse-map', 'GNU sparse 1.0 map runs past the entry data', this.ew());
      if (bytes + BLOCK > this.ctx.limits.maxMetaBytes) throw new ArchiveError('meta-too-large', 'GNU sparse 1.0 map is over the metadata limit', this.ew(), raiseLimit('meta', this.ctx.limits.maxMetaBytes));
      const b = await this.readBlock('GNU sparse map', this.ew());
      bytes += BLOCK;
      for (let i = 0; i < BLOCK && (want < 0 || nums.length < want); i++) {
        const c = b[i]!;
        if (c >= 0x30 && c <= 0x39) {
          cur = (cur < 0 ? 0 : cur * 10) + (c - 0x30);
          if (cur > Number.MAX_SAFE_INTEGER) throw new ArchiveError('bad-sparse-map', 'GNU sparse 1.0 map number out of range', this.ew());
        } else if (c === 0x0a && cur >= 0) {
          if (want < 0) {
            if (cur * 32 > this.ctx.limits.maxMetaBytes) throw new ArchiveError('meta-too-large', `GNU sparse 1.0 map of ${cur} entries is over the metadata limit`, this.ew(), raiseLimit('meta', this.ctx.limits.maxMetaBytes));
            want = cur * 2;
          } else nums.push(cur);
          cur = -1;
        } else {
          throw new ArchiveError('bad-sparse-map', 'GNU sparse 1.0 map has a bad character', this.ew());
        }
      }
    }
    const regions: SparseRegion[] = [];
    for (let i = 0; i < nums.length; i += 2) regions.push({ offset: nums[i]!, length: nums[i + 1]! });
    return { regions, bytes };
  }
}

/** Regions must increase, not overlap, stay within the real size, and add up to the stored bytes. */
function checkRegions(regions: SparseRegion[], realSize: number, stored: number): string | null {
  let end = 0;
  let sum = 0;
  for (const g of regions) {
    if (g.offset < end) return `sparse regions overlap or are out of order at offset ${g.offset}`;
    end = g.offset + g.length;
    if (end > realSize) return `sparse region ${g.offset}+${g.length} ends past the file size ${realSize}`;
    sum += g.length;
  }
  if (sum !== stored) return `sparse regions hold ${sum} bytes but the entry stores ${stored}`;
  return null;
}

/**
 * SUN.holesdata " <data> <hole> <data> <hole> ...": the stored body is the
 * whole file; the data regions are kept and the holes (zeros) dropped.
 */
function parseHolesdata(s: string, size: number): { regions: SparseRegion[]; holes: number[] } | string {
  if (!/^ \d+( \d+)*$/.test(s)) return 'not a list of decimal offsets';
  const v = s.slice(1).split(' ').map(Number);
  if (v.length % 2) return 'odd number of offsets';
  if (v.length > 2 * 1024 * 1024) return 'too many regions';
  let prev = 0;
  for (const n of v) {
    if (!Number.isSafeInteger(n) || n < prev) return 'offsets are not increasing';
    prev = n;
  }
  if (prev !== size) return `last hole offset ${prev} is not the file size ${size}`;
  const regions: SparseRegion[] = [];
  const holes: number[] = [];
  let pos = 0;
  for (let i = 0; i < v.length; i += 2) {
    const d = v[i]!;
    const e = v[i + 1]!;
    if (d > pos) holes.push(pos, d);
    if (e > d) regions.push({ offset: d, length: e - d });
    pos = e;
  }
  return { regions, holes };
}

/** Solaris sec_attr records: type char, 6 octal digits (entry count), NUL, text, NUL; repeated. */
function checkAclRecords(b: Buffer): string | null {
  let p = 0;
  if (b.length === 0) return 'empty';
  while (p < b.length) {
    if (b[p] === 0) {
      for (let i = p; i < b.length; i++) if (b[i] !== 0) return 'junk after the records';
      return null;
    }
    if (p + 8 > b.length) return 'truncated record';
    const t = b[p]!;
    if (t < 0x30 || t > 0x37) return `unknown ACL type ${typeName(t)}`;
    for (let i = p + 1; i < p + 7; i++) if (b[i]! < 0x30 || b[i]! > 0x37) return 'entry count is not octal';
    if (b[p + 7] !== 0) return 'entry count not NUL-terminated';
    const z = b.indexOf(0, p + 8);
    if (z < 0) return 'ACL text not NUL-terminated';
    p = z + 1;
  }
  return null;
}

/** struct xattr_hdr + xattr_buf (formats.md 2.4): version, sizes, then "base\0attr\0". */
function parseXattrHdr(b: Buffer): { base: string; attr: string } | string {
  if (b.length < 46) return 'too short';
  if (str(b, 0, 7) !== '1.0') return `unknown version "${str(b, 0, 7)}"`;
  const dec = (o: number, l: number) => {
    const s = str(b, o, l);
    return /^\d+$/.test(s) ? Number(s) : NaN;
  };
  const hsize = dec(7, 10);
  const compLen = dec(17, 10);
  const namesz = dec(37, 7);
  if (!(hsize > 0) || !(compLen >= 0) || !(namesz > 0)) return 'bad size fields';
  if (45 + namesz > b.length) return 'names run past the record';
  const names = b.subarray(45, 45 + namesz);
  const z1 = names.indexOf(0);
  if (z1 <= 0) return 'no base file name';
  const z2 = names.indexOf(0, z1 + 1);
  const base = names.toString('latin1', 0, z1);
  const attr = names.toString('latin1', z1 + 1, z2 < 0 ? names.length : z2);
  if (attr === '') return 'no attribute name';
  return { base, attr };
}

export const parseTar: ParseFn = (r, ctx) => new TarParser(r, ctx);
