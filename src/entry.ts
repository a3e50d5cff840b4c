// The one entry model every format yields and every rule and sink consumes.
//
// Paths and link targets are the archive's raw bytes decoded as latin1: the
// mapping byte <-> char is one to one, so non-UTF-8 names survive byte-exact
// (Buffer.from(path, 'latin1') gives the bytes back) while ASCII rules such
// as "etc/vfstab" still match as plain strings.

import type { ArchiveFile } from './source/input.js';

export type EntryType =
  | 'file'
  | 'dir'
  | 'symlink'
  | 'hardlink'
  | 'fifo'
  | 'char'
  | 'block'
  | 'socket';

/** A data region of a sparse file: `length` bytes of the body land at `offset`. */
export interface SparseRegion {
  offset: number;
  length: number;
}

export interface Entry {
  /** Raw name bytes as latin1, as the archive wrote it (not yet sanitised). */
  path: string;
  type: EntryType;
  /** Permission and special bits only (mode & 0o7777). */
  mode: number;
  uid: number;
  gid: number;
  /** Modification time: whole seconds since the epoch (may be negative). */
  mtime: number;
  /** Nanoseconds part of mtime, 0..999999999. */
  mtimeNsec: number;
  /**
   * Logical size in bytes of a regular file; 0 for anything else. For a sparse
   * file this is the apparent size and the body holds only the data regions.
   */
  size: number;
  /** Symlink target, or the path of the earlier entry a hard link points at. */
  linkTarget?: string;
  devMajor?: number;
  devMinor?: number;
  /** Link count the archive recorded, when it records one. */
  nlink?: number;
  /** Extended attributes and other format keys kept for later stages. */
  xattrs?: Record<string, Buffer>;
  /** Data regions of a sparse file, in order; the body is their concatenation. */
  sparse?: SparseRegion[];
  /** Byte offset of the entry's header in the decoded stream (for messages). */
  offset: number;
  /** Ordinal of the entry in the archive, from 0. */
  index: number;
  /**
   * The body bytes (sum of sparse region lengths, or `size`). Call at most
   * once, before asking the producer for the next entry; a body not read is
   * skipped by the producer.
   */
  body(): Body;
}

/**
 * A new entry with every field present, in the order of the interface.
 * Entries built this way share one hidden class, so the code that reads
 * them (rules, sink) stays monomorphic: entries built field by field had
 * five or more shapes on a Solaris image, and each new one cost the
 * optimized code a deoptimization. Set the optional fields afterwards.
 */
export function newEntry(
  path: string,
  type: EntryType,
  mode: number,
  uid: number,
  gid: number,
  mtime: number,
  mtimeNsec: number,
  size: number,
  offset: number,
  index: number,
  body: () => Body,
  nlink?: number,
): Entry {
  return { path, type, mode, uid, gid, mtime, mtimeNsec, size, linkTarget: undefined, devMajor: undefined, devMinor: undefined, nlink, xattrs: undefined, sparse: undefined, offset, index, body };
}

/** A copy of `e` in the shape newEntry() gives (a spread would not keep it). */
export function copyEntry(e: Entry): Entry {
  const c = newEntry(e.path, e.type, e.mode, e.uid, e.gid, e.mtime, e.mtimeNsec, e.size, e.offset, e.index, e.body, e.nlink);
  c.linkTarget = e.linkTarget;
  c.devMajor = e.devMajor;
  c.devMinor = e.devMinor;
  c.xattrs = e.xattrs;
  c.sparse = e.sparse;
  return c;
}

/**
 * A stream of entries. A stage that often has the next entry at hand may
 * also offer nextNow(): that entry, synchronously, or undefined when the
 * consumer must await next() (for the next entry or for the end). It spares
 * a promise per entry on the common path. Never call it while a next() is
 * pending.
 */
export interface EntryStream extends AsyncIterableIterator<Entry> {
  nextNow?(): Entry | undefined;
}

/**
 * An entry's body. A producer whose bytes are already in memory may also
 * offer takeNow(): the whole body at once, synchronously (consumed as by
 * iteration), or undefined when it is not all there yet. It lets the sink
 * skip an async iteration per small file. A producer reading an
 * uncompressed archive file may offer takeRange(): the body as its
 * buffered head and the range of the file holding the rest, which is
 * skipped unread (consumed as by iteration); undefined when it cannot
 * (then iterate). Only a consumer that does not look at the bytes takes a
 * range.
 */
export interface Body extends AsyncIterable<Buffer> {
  takeNow?(): Buffer | undefined;
  takeRange?(): BodyRange | undefined;
}

/** A body (Body.takeRange) as bytes at hand, then `length` bytes of `file` from `offset`. */
export interface BodyRange {
  head: Buffer;
  file: ArchiveFile;
  offset: number;
  length: number;
}

const EMPTY: AsyncIterable<Buffer> = { async *[Symbol.asyncIterator]() {} };

/** A body with no bytes, for entries that carry none. */
export function emptyBody(): AsyncIterable<Buffer> {
  return EMPTY;
}

/** The buffers behind bufferBody() bodies, so that one can be looked at without reading it. */
const BUFFERED = new WeakMap<() => Body, Buffer>();

/** A body served from one buffer already in memory (rewritten files). */
export function bufferBody(buf: Buffer): () => Body {
  const body = () => ({
    async *[Symbol.asyncIterator]() {
      if (buf.length > 0) yield buf;
    },
    takeNow: () => buf,
  });
  BUFFERED.set(body, buf);
  return body;
}

/** The content of an entry whose body is a bufferBody(), without reading it; else undefined. */
export function bodyBuffer(e: Entry): Buffer | undefined {
  return BUFFERED.get(e.body);
}

/** Number of body bytes an entry's body() yields. */
export function bodyLength(e: Entry): number {
  if (e.type !== 'file') return 0;
  if (e.sparse) return e.sparse.reduce((n, r) => n + r.length, 0);
  return e.size;
}

/** Bodies readBody() read, by entry: a body can be read once, and a hard link to the file may need it later. */
const READ = new WeakMap<Entry, Buffer>();

/** Read a whole body into memory, refusing bodies over `cap` bytes. */
export async function readBody(e: Entry, cap = 16 * 1024 * 1024): Promise<Buffer> {
  const want = bodyLength(e);
  if (want > cap) {
    throw new RangeError(`${displayPath(e.path)} is ${want} bytes, over the ${cap} byte limit for a rewritten file`);
  }
  const parts: Buffer[] = [];
  for await (const c of e.body()) parts.push(c);
  const buf = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  READ.set(e, buf);
  return buf;
}

/** The body readBody() read from this very entry, if it did. */
export function bodyRead(e: Entry): Buffer | undefined {
  return READ.get(e);
}

/** The path as bytes, for fs calls. */
export function pathBytes(p: string): Buffer {
  return Buffer.from(p, 'latin1');
}

/**
 * A name safe to print: UTF-8 where the bytes are valid UTF-8, control and
 * invalid bytes as \xNN, quoted, cut to a sane length (security D-16).
 */
export function displayPath(p: string, max = 256): string {
  const bytes = Buffer.from(p, 'latin1');
  let text = bytes.toString('utf8');
  if (Buffer.byteLength(text, 'utf8') !== bytes.length || text.includes('\uFFFD')) {
    // Not valid UTF-8: escape every non-printable-ASCII byte.
    text = '';
    for (const b of bytes) text += b >= 0x20 && b < 0x7f && b !== 0x5c && b !== 0x22 ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`;
  } else {
    text = text.replace(/[\x00-\x1f\x7f"\\]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  }
  if (text.length > max) text = `${text.slice(0, max)}...(${bytes.length} bytes)`;
  return `"${text}"`;
}

/**
 * Entries from a source whose module is loaded only when they are read:
 * start-up imports only what the input needs (module loading was a tenth of
 * a small extraction's time).
 */
export async function* lazyEntries(load: () => Promise<AsyncIterable<Entry>>): AsyncGenerator<Entry> {
  yield* await load();
}
