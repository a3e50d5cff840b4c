// Open an archive: undo compression, detect the container, hand the bytes to
// its parser. Every format yields the same Entry stream.

import type { Entry, EntryStream } from '../entry.js';
import { ArchiveError } from '../errors.js';
import { ByteReader } from '../source/reader.js';
import type { ArchiveFile } from '../source/input.js';
import { decodeStream } from '../decode/index.js';
import { detectFormat } from './detect.js';
import { parseCpio } from './cpio.js';
import type { FormatName, ParseContext, ParseFn } from './types.js';
import { makeContext } from './types.js';

// cpio is loaded with this module; the other parsers when their format is seen.
const cpio = async (): Promise<ParseFn> => parseCpio;
const PARSERS: Record<FormatName, () => Promise<ParseFn>> = {
  flar: async () => (await import('./flar.js')).parseFlar,
  'cpio-bin-le': cpio,
  'cpio-bin-be': cpio,
  'cpio-odc': cpio,
  'cpio-newc': cpio,
  'cpio-crc': cpio,
  tar: async () => (await import('./tar.js')).parseTar,
  dump: async () => (await import('./dump.js')).parseDump,
};

/**
 * The parser of decoded bytes whose container is detected from their first
 * bytes. Returned rather than re-yielded: a generator layer per entry less.
 */
export async function detectParser(r: ByteReader, ctx: ParseContext): Promise<EntryStream> {
  const head = await r.peek(1024);
  if (head.length === 0) throw new ArchiveError('empty', 'the input is empty', { offset: r.position }, 'give a flar, cpio, ufsdump, pax or tar archive');
  const format = detectFormat(head);
  if (!format) {
    throw new ArchiveError('unknown-format', 'unrecognised archive format', { offset: r.position }, 'zonep2v reads flar, cpio (bin, odc, newc, crc), ufsdump and pax/ustar/tar, optionally compressed with gzip, bzip2, xz or compress');
  }
  if (format !== 'flar') ctx.info.format = format;
  return (await PARSERS[format]())(r, ctx);
}

export interface OpenOptions extends Partial<ParseContext> {
  signal?: AbortSignal;
  /** Largest decompression ratio (decodeStream's maxRatio). */
  maxRatio?: number;
  /** The regular file `raw` reads, for bodies taken as ranges when it is not compressed. */
  file?: ArchiveFile;
}

/**
 * Entries of an archive given as raw (possibly compressed) bytes. Not an
 * async generator: once open, next() is the parser's own (an async
 * generator layer here cost a promise chain per entry); the reader is
 * closed when the entries end, fail or are abandoned (return()).
 */
export function openArchive(raw: AsyncIterable<Buffer>, opts: OpenOptions = {}): EntryStream {
  return new ArchiveEntries(raw, opts);
}

class ArchiveEntries implements EntryStream {
  private parser: EntryStream | undefined;
  private reader: ByteReader | undefined;
  private ended = false;
  /** An error nextNow() caught: next() reports it, after closing the reader. */
  private caught: { err: unknown } | undefined;

  constructor(
    private readonly raw: AsyncIterable<Buffer>,
    private readonly opts: OpenOptions,
  ) {}

  [Symbol.asyncIterator](): this {
    return this;
  }

  nextNow(): Entry | undefined {
    const p = this.parser;
    if (p === undefined || p.nextNow === undefined) return undefined;
    try {
      return p.nextNow();
    } catch (err) {
      this.caught = { err };
      return undefined;
    }
  }

  next(): Promise<IteratorResult<Entry>> {
    if (this.caught !== undefined) {
      const { err } = this.caught;
      this.caught = undefined;
      return this.failed(err);
    }
    if (this.parser !== undefined) return this.parser.next().then(this.passed, this.failed);
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return this.open().then(() => this.next(), this.failed);
  }

  async return(): Promise<IteratorResult<Entry>> {
    try {
      await this.parser?.return?.(undefined);
    } finally {
      await this.end();
    }
    return { value: undefined, done: true };
  }

  private async open(): Promise<void> {
    const ctx = makeContext(this.opts);
    const decoded = await decodeStream(this.raw, { signal: this.opts.signal, maxRatio: this.opts.maxRatio });
    ctx.info.compression.push(...decoded.layers);
    this.reader = new ByteReader(decoded.data);
    if (decoded.layers.length === 0) this.reader.file = this.opts.file;
    this.parser = await detectParser(this.reader, ctx);
  }

  private readonly passed = (res: IteratorResult<Entry>): IteratorResult<Entry> | Promise<IteratorResult<Entry>> => (res.done ? this.end().then(() => res) : res);

  private readonly failed = (err: unknown): Promise<never> => this.end().then(() => Promise.reject(err));

  /** Close the reader once (the decoder and the source with it). */
  private async end(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    this.parser = undefined;
    const r = this.reader;
    this.reader = undefined;
    await r?.close();
  }
}

export { makeContext };
