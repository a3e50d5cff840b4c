// Entries out as a POSIX pax (ustar + extended headers) archive, for convert.
// Our own writer rather than tar-stream's packer: tar-stream writes pax
// records only for long names and a few keys and always as UTF-8 strings;
// we need raw non-UTF-8 names and link targets (hdrcharset=BINARY), uids and
// gids over 2097151, sizes over 8 GiB, nanosecond mtimes, times before 1970,
// device numbers over 2097151, extended attributes and ACLs kept as pax
// records, and sparse files (written out in full, or with `sparse` as GNU
// tar's pax sparse format 1.0, which GNU tar, bsdtar and our reader take but
// Solaris tar does not), all streamed with backpressure and small writes
// coalesced.
//
// Names are checked as the filesystem sink checks them (sink/path.ts: no
// NUL, no "..", bounded lengths) and written in canonical form ("etc/vfstab",
// the root as "./"), so that extracting the archive gives the tree an install
// would write. Hard-link targets are canonicalised the same way; symlink
// targets are kept verbatim.

import type { Writable } from 'node:stream';
import type { Entry } from '../entry.js';
import { ArchiveError, type Where } from '../errors.js';
import { blockSum } from '../formats/tar.js';
import { validateLinkTarget, validatePath } from './path.js';
import type { Warning } from '../formats/types.js';
import type { Sink, SinkStats } from './types.js';

const BLOCK = 512;
const RECORD = 10240;
const ZERO = Buffer.alloc(RECORD);
/** Small writes are gathered up to this size before they go out. */
const COALESCE = 64 * 1024;

const TYPEFLAG: Record<string, string> = { file: '0', hardlink: '1', symlink: '2', char: '3', block: '4', dir: '5', fifo: '6' };

/**
 * An output stream written with backpressure: small buffers are gathered,
 * large ones go straight out; an error on the stream (EPIPE, ENOSPC) is
 * remembered and thrown by the next write.
 */
export class Output {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private error: Error | null = null;
  /** Bytes handed to the stream so far (including pending ones). */
  written = 0;

  constructor(private readonly out: Writable) {
    out.on('error', (e: Error) => {
      this.error ??= e;
    });
  }

  private check(): void {
    if (this.error) throw new ArchiveError('output', `writing the output failed: ${(this.error as NodeJS.ErrnoException).code ?? this.error.message}`);
  }

  async put(b: Buffer): Promise<void> {
    this.check();
    if (b.length === 0) return;
    this.written += b.length;
    if (b.length < COALESCE) {
      this.pending.push(b);
      this.pendingBytes += b.length;
      if (this.pendingBytes >= COALESCE) await this.flush();
      return;
    }
    await this.flush();
    await this.raw(b);
  }

  async flush(): Promise<void> {
    if (this.pendingBytes === 0) return;
    const b = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    await this.raw(b);
  }

  private async raw(b: Buffer): Promise<void> {
    this.check();
    if (this.out.write(b)) return;
    await new Promise<void>((resolve, reject) => {
      const done = (e?: Error) => {
        this.out.off('drain', onDrain);
        this.out.off('error', onErr);
        this.out.off('close', onClose);
        if (e) reject(e);
        else resolve();
      };
      const onDrain = () => done();
      const onErr = (e: Error) => done(e);
      const onClose = () => done(this.error ?? new Error('the output was closed'));
      this.out.on('drain', onDrain);
      this.out.on('error', onErr);
      this.out.on('close', onClose);
    }).catch((e: Error) => {
      this.error ??= e;
      this.check();
    });
  }

  async zeros(n: number): Promise<void> {
    while (n > 0) {
      const k = Math.min(n, ZERO.length);
      await this.put(ZERO.subarray(0, k));
      n -= k;
    }
  }

  /** Flush and end the stream (wait until its data is handed to the system). */
  async end(): Promise<void> {
    await this.flush();
    this.check();
    await new Promise<void>((resolve, reject) => this.out.end((err?: Error | null) => (err ? reject(err) : resolve())));
    this.check();
  }

  destroy(): void {
    this.pending = [];
    this.out.destroy();
  }
}

/** The canonical archive name of an entry (validated as the filesystem sink validates it); '' for the root. */
export function memberName(e: Entry): string {
  return validatePath(e.path, where(e)).key;
}

/** The canonical name a hard link points at. */
export function linkTargetName(e: Entry): string {
  if (e.linkTarget === undefined || e.linkTarget === '') throw new ArchiveError('unsafe-path', 'the hard link has no target', where(e));
  const key = validatePath(e.linkTarget, where(e), undefined, 'hard-link target').key;
  if (key === '') throw new ArchiveError('unsafe-path', 'the hard link points at the root', where(e));
  return key;
}

export function symlinkTarget(e: Entry): string {
  return validateLinkTarget(e.linkTarget, where(e));
}

export function where(e: Entry): Where {
  return { entry: e.path, offset: e.offset >= 0 ? e.offset : undefined, index: e.index >= 0 ? e.index : undefined };
}

/** Write a sparse entry's body in full (holes as zeros); returns the bytes written. */
export async function writeBody(e: Entry, out: Output): Promise<number> {
  if (!e.sparse) return copyBody(e, out);
  let n = 0;
  let pos = 0;
  const it = e.body()[Symbol.asyncIterator]();
  let pending: Buffer = Buffer.alloc(0);
  for (const r of e.sparse) {
    if (r.offset < pos) throw new ArchiveError('bad-sparse', 'sparse regions overlap or are out of order', where(e));
    if (r.offset > pos) {
      await out.zeros(r.offset - pos);
      n += r.offset - pos;
      pos = r.offset;
    }
    let left = r.length;
    while (left > 0) {
      if (pending.length === 0) {
        const x = await it.next();
        if (x.done) throw new ArchiveError('bad-sparse', 'sparse body shorter than its map', where(e));
        pending = x.value;
      }
      const k = Math.min(left, pending.length);
      await out.put(pending.subarray(0, k));
      pending = pending.subarray(k);
      left -= k;
      pos += k;
      n += k;
    }
  }
  // Drain what the producer may still hold, then the trailing hole.
  for (;;) {
    const x = await it.next();
    if (x.done) break;
    if (x.value.length) throw new ArchiveError('bad-sparse', 'sparse body longer than its map', where(e));
  }
  if (e.size > pos) {
    await out.zeros(e.size - pos);
    n += e.size - pos;
  }
  return n;
}

/** Holes under this many bytes in all are not worth a sparse member (or a warning). */
export const SPARSE_MIN_HOLES = 64 * 1024;

/** Bytes of a sparse entry that are holes (0 for a plain file). */
export function holeBytes(e: Entry): number {
  if (!e.sparse) return 0;
  return e.size - e.sparse.reduce((n, r) => n + r.length, 0);
}

/** The body as it comes (a sparse file's regions after each other, no holes); returns its bytes. */
async function copyBody(e: Entry, out: Output): Promise<number> {
  let n = 0;
  for await (const c of e.body()) {
    await out.put(c);
    n += c.length;
  }
  return n;
}

function octal(buf: Buffer, off: number, len: number, v: number): boolean {
  if (!Number.isSafeInteger(v) || v < 0) return false;
  const s = v.toString(8);
  if (s.length > len - 1) return false;
  buf.write(s.padStart(len - 1, '0'), off, 'latin1');
  buf[off + len - 1] = 0;
  return true;
}

export function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`, 'latin1'), value, Buffer.from('\n')]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len), 'latin1'), body]);
}

function isUtf8(b: Buffer): boolean {
  return Buffer.from(b.toString('utf8'), 'utf8').equals(b);
}

/** The pax mtime value for seconds + nanoseconds (seconds may be negative). */
export function paxTime(sec: number, nsec: number): string {
  if (!nsec) return String(sec);
  // sec + nsec/1e9 as a decimal: for sec < 0 the fraction counts towards zero.
  let s = sec;
  let n = nsec;
  let sign = '';
  if (s < 0) {
    sign = '-';
    if (n > 0) {
      s = -(s + 1);
      n = 1e9 - n;
    } else s = -s;
  }
  const frac = String(n).padStart(9, '0').replace(/0+$/, '');
  return `${sign}${s}${frac ? `.${frac}` : ''}`;
}

/** Split a name into ustar prefix (<=155) and name (<=100) at a slash, if it fits. */
function splitUstar(name: Buffer): [Buffer, Buffer] | null {
  if (name.length <= 100) return [Buffer.alloc(0), name];
  for (let i = name.length - 1; i > 0; i--) {
    if (name[i] !== 0x2f) continue;
    if (i <= 155 && name.length - i - 1 <= 100 && name.length - i - 1 > 0) return [name.subarray(0, i), name.subarray(i + 1)];
    if (i < name.length - 101) break;
  }
  return null;
}

/** A pax keyword that can be written as a record (no '=', newline or NUL; not empty). */
function goodKey(k: string): boolean {
  return k.length > 0 && !/[=\n\0]/.test(k) && !/^\d/.test(k);
}

export class PaxWriter implements Sink {
  private readonly stats: SinkStats = { entries: 0, bytes: 0, skipped: {} };
  private readonly out: Output;
  private paxSeq = 0;
  private finished = false;
  private warnedTime = false;

  /**
   * `sparse`: files with holes as GNU sparse 1.0 members (else in full).
   * `warn`: told once per file whose holes are written out in full.
   */
  constructor(
    out: Writable,
    private readonly opts: { sparse?: boolean; warn?: (w: Warning) => void } = {},
  ) {
    this.out = new Output(out);
  }

  private skip(kind: string): void {
    this.stats.skipped[kind] = (this.stats.skipped[kind] ?? 0) + 1;
  }

  private header(name: Buffer, type: string, e: Entry, size: number, link: Buffer): { hdr: Buffer; pax: Buffer[] } {
    const h = Buffer.alloc(BLOCK);
    const pax: Buffer[] = [];
    // A name that fits the ustar fields goes there as raw bytes, whatever its
    // encoding (every reader takes those bytes as they are); only a longer
    // one needs a path record, marked hdrcharset=BINARY when it is not UTF-8.
    const split = splitUstar(name);
    const binary = (!split && !isUtf8(name)) || (link.length > 100 && !isUtf8(link));
    if (split) {
      split[1].copy(h, 0);
      split[0].copy(h, 345);
    } else {
      pax.push(paxRecord('path', name));
      name.subarray(0, 100).copy(h, 0);
    }
    octal(h, 100, 8, e.mode & 0o7777);
    if (!octal(h, 108, 8, e.uid)) {
      pax.push(paxRecord('uid', Buffer.from(String(e.uid))));
      octal(h, 108, 8, 0);
    }
    if (!octal(h, 116, 8, e.gid)) {
      pax.push(paxRecord('gid', Buffer.from(String(e.gid))));
      octal(h, 116, 8, 0);
    }
    if (!octal(h, 124, 12, size)) {
      pax.push(paxRecord('size', Buffer.from(String(size))));
      octal(h, 124, 12, 0);
    }
    const fits = octal(h, 136, 12, e.mtime);
    // Before 1970 only whole seconds: libarchive reads "-N.F" as -N + .F.
    const nsec = e.mtime < 0 ? 0 : e.mtimeNsec;
    if (e.mtime < 0 && e.mtimeNsec && !this.warnedTime) {
      this.warnedTime = true;
      this.opts.warn?.({ kind: 'mtime-rounded', message: 'times before 1970 are written in whole seconds (bsdtar misreads a fraction on them); the first such file', ...where(e) });
    }
    if (!fits || nsec) {
      pax.push(paxRecord('mtime', Buffer.from(paxTime(e.mtime, nsec))));
      if (!fits) octal(h, 136, 12, e.mtime < 0 ? 0 : 0o77777777777);
    }
    h.write(type, 156, 'latin1');
    if (link.length > 100) pax.push(paxRecord('linkpath', link));
    link.subarray(0, 100).copy(h, 157);
    h.write('ustar\x0000', 257, 'latin1');
    if (e.type === 'char' || e.type === 'block') {
      if (!octal(h, 329, 8, e.devMajor ?? 0)) {
        pax.push(paxRecord('SCHILY.devmajor', Buffer.from(String(e.devMajor))));
        octal(h, 329, 8, 0);
      }
      if (!octal(h, 337, 8, e.devMinor ?? 0)) {
        pax.push(paxRecord('SCHILY.devminor', Buffer.from(String(e.devMinor))));
        octal(h, 337, 8, 0);
      }
    } else {
      octal(h, 329, 8, 0);
      octal(h, 337, 8, 0);
    }
    // hdrcharset first: readers apply it to the records that follow.
    if (binary && pax.length) pax.unshift(paxRecord('hdrcharset', Buffer.from('BINARY')));
    for (const [k, v] of Object.entries(e.xattrs ?? {})) {
      if (goodKey(k)) pax.push(paxRecord(k, v));
      else this.skip('xattr-bad-key');
    }
    return { hdr: h, pax };
  }

  private async putHeader(h: Buffer): Promise<void> {
    h.fill(0x20, 148, 156);
    const sum = blockSum(h);
    h.write(sum.toString(8).padStart(6, '0'), 148, 'latin1');
    h[154] = 0;
    h[155] = 0x20;
    await this.out.put(h);
  }

  async write(e: Entry): Promise<void> {
    if (this.finished) throw new Error('PaxWriter: write after finish');
    const type = TYPEFLAG[e.type];
    if (!type) {
      this.skip(e.type);
      return;
    }
    const key = memberName(e);
    let name = Buffer.from(key === '' ? '.' : key, 'latin1');
    if (e.type === 'dir') name = Buffer.concat([name, Buffer.from('/')]);
    else if (key === '') throw new ArchiveError('unsafe-path', `the root is a ${e.type}, not a directory`, where(e));
    const link = Buffer.from(e.type === 'hardlink' ? linkTargetName(e) : e.type === 'symlink' ? symlinkTarget(e) : '', 'latin1');
    const holes = e.type === 'file' ? holeBytes(e) : 0;
    if (holes >= SPARSE_MIN_HOLES) {
      if (this.opts.sparse) return this.writeSparse(e, name);
      this.opts.warn?.({ kind: 'sparse-expanded', message: `${holes} bytes of holes written out as zeros (give --sparse to keep them)`, ...where(e) });
    }
    const size = e.type === 'file' ? e.size : 0;
    const { hdr, pax } = this.header(name, type, e, size, link);
    await this.putExtended(pax, e);
    await this.putHeader(hdr);
    if (e.type === 'file') {
      const n = await writeBody(e, this.out);
      if (n !== size) throw new ArchiveError('size-mismatch', `the body is ${n} bytes, the header says ${size}`, where(e));
      await this.pad(size);
      this.stats.bytes += size;
    }
    this.stats.entries++;
  }

  /** The `x` header and records before a member, when it has any. */
  private async putExtended(pax: Buffer[], e: Entry): Promise<void> {
    if (!pax.length) return;
    const body = Buffer.concat(pax);
    const x = Buffer.alloc(BLOCK);
    x.write(`PaxHeaders.0/${++this.paxSeq}`, 0, 'latin1');
    octal(x, 100, 8, 0o644);
    octal(x, 108, 8, 0);
    octal(x, 116, 8, 0);
    octal(x, 124, 12, body.length);
    octal(x, 136, 12, Math.max(0, Math.min(e.mtime, 0o77777777777)));
    x.write('x', 156, 'latin1');
    x.write('ustar\x0000', 257, 'latin1');
    await this.putHeader(x);
    await this.out.put(body);
    await this.pad(body.length);
  }

  /**
   * A file with holes as GNU tar writes one with --sparse in pax (format
   * 1.0): the member is named GNUSparseFile.0/<name> in its directory, the
   * real name and size go in GNU.sparse.* records, and its data is the map
   * (decimal: the count, then offset and length of each region, a line each,
   * NUL-padded to a block) followed by the regions' bytes. A file that ends
   * in a hole gets a last region of length 0 at its size, as GNU tar's has.
   */
  private async writeSparse(e: Entry, name: Buffer): Promise<void> {
    const regions = e.sparse!.filter((r) => r.length > 0).map((r) => [r.offset, r.length] as const);
    const last = regions[regions.length - 1];
    if (!last || last[0] + last[1] < e.size) regions.push([e.size, 0]);
    const mapText = Buffer.from(`${regions.length}\n${regions.map(([o, l]) => `${o}\n${l}\n`).join('')}`, 'latin1');
    const mapBytes = Math.ceil(mapText.length / BLOCK) * BLOCK;
    const data = regions.reduce((n, [, l]) => n + l, 0);
    const slash = name.lastIndexOf(0x2f);
    const fake = Buffer.concat([name.subarray(0, slash + 1), Buffer.from('GNUSparseFile.0/', 'latin1'), name.subarray(slash + 1)]);
    const { hdr, pax } = this.header(fake, '0', e, mapBytes + data, Buffer.alloc(0));
    const records = [paxRecord('GNU.sparse.major', Buffer.from('1')), paxRecord('GNU.sparse.minor', Buffer.from('0')), paxRecord('GNU.sparse.name', name), paxRecord('GNU.sparse.realsize', Buffer.from(String(e.size)))];
    const hasCharset = pax.length > 0 && pax[0]!.includes(Buffer.from(' hdrcharset='));
    if (!isUtf8(name) && !hasCharset) records.unshift(paxRecord('hdrcharset', Buffer.from('BINARY')));
    // After hdrcharset (it applies to the records that follow), before the rest.
    pax.splice(hasCharset ? 1 : 0, 0, ...records);
    await this.putExtended(pax, e);
    await this.putHeader(hdr);
    await this.out.put(mapText);
    await this.out.put(ZERO.subarray(0, mapBytes - mapText.length));
    const n = await copyBody(e, this.out);
    if (n !== data) throw new ArchiveError('size-mismatch', `the sparse body is ${n} bytes, its map says ${data}`, where(e));
    await this.pad(mapBytes + data);
    this.stats.bytes += e.size;
    this.stats.entries++;
  }

  private async pad(n: number): Promise<void> {
    const r = n % BLOCK;
    if (r) await this.out.put(ZERO.subarray(0, BLOCK - r));
  }

  async removeWritten(): Promise<number> {
    return 0; // already streamed out: convert decides before an entry passes (see cli/convert.ts)
  }

  /** Bytes of archive produced so far. */
  get bytesOut(): number {
    return this.out.written;
  }

  async finish(): Promise<SinkStats> {
    this.finished = true;
    await this.out.put(ZERO.subarray(0, 2 * BLOCK));
    const r = this.out.written % RECORD;
    if (r) await this.out.put(ZERO.subarray(0, RECORD - r));
    await this.out.end();
    return this.stats;
  }

  async abort(): Promise<string[]> {
    this.finished = true;
    this.out.destroy();
    return [];
  }
}
