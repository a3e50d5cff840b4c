// A pull reader over a stream of chunks: parsers become straight-line code
// (read a header, take the body, skip the padding) and backpressure is natural,
// because nothing is read from the source until a parser asks for it.

import { collectYoung } from './young-gc.js';
import { TruncatedError } from '../errors.js';
import type { BodyRange } from '../entry.js';
import type { ArchiveFile } from './input.js';

const EMPTY = Buffer.alloc(0);

/** Input between two young collections. */
const COLLECT_EVERY = 4 * 1024 * 1024;

export class ByteReader {
  private readonly it: AsyncIterator<Buffer>;
  private buf: Buffer = EMPTY;
  private pos = 0;
  private ended = false;
  /** Bytes taken in since the last young collection (young-gc.ts). */
  private sinceCollect = 0;
  /** Bytes consumed so far: the offset of the next byte read. */
  position = 0;
  /** The file the bytes come from, when nothing lies between (no decompressor): see takeRange. */
  file: ArchiveFile | undefined;

  constructor(src: AsyncIterable<Buffer | Uint8Array | string>) {
    const inner = src[Symbol.asyncIterator]();
    this.it = {
      next: async () => {
        const r = await inner.next();
        if (r.done) return r;
        const v = r.value;
        return { done: false, value: Buffer.isBuffer(v) ? v : typeof v === 'string' ? Buffer.from(v, 'latin1') : Buffer.from(v.buffer, v.byteOffset, v.byteLength) };
      },
      return: inner.return ? async () => { await inner.return!(); return { done: true, value: undefined }; } : undefined,
    };
  }

  /** Bytes buffered and not yet consumed. */
  get buffered(): number {
    return this.buf.length - this.pos;
  }

  /** Pull one more chunk into the buffer; false at end of input. */
  private async more(): Promise<boolean> {
    if (this.ended) return false;
    for (;;) {
      const r = await this.it.next();
      if (r.done) {
        this.ended = true;
        return false;
      }
      if (r.value.length === 0) continue;
      this.sinceCollect += r.value.length;
      if (this.sinceCollect >= COLLECT_EVERY) {
        this.sinceCollect = 0;
        collectYoung();
      }
      if (this.pos >= this.buf.length) {
        this.buf = r.value;
      } else {
        this.buf = Buffer.concat([this.buf.subarray(this.pos), r.value]);
      }
      this.pos = 0;
      return true;
    }
  }

  /** Up to `n` bytes without consuming them (fewer only at end of input). */
  async peek(n: number): Promise<Buffer> {
    while (this.buffered < n) if (!(await this.more())) break;
    return this.buf.subarray(this.pos, this.pos + Math.min(n, this.buffered));
  }

  /** Exactly `n` bytes, or a TruncatedError naming `what`. */
  async read(n: number, what = 'data'): Promise<Buffer> {
    if (this.buffered < n) {
      while (this.buffered < n) {
        if (!(await this.more())) {
          throw new TruncatedError(`unexpected end of input reading ${what}: needed ${n} bytes, ${this.buffered} left`, { offset: this.position });
        }
      }
    }
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    this.position += n;
    return out;
  }

  /**
   * Between 1 and `n` bytes that are already buffered or arrive in the next
   * chunk (zero-copy); an empty buffer only at end of input.
   */
  async readSome(n: number): Promise<Buffer> {
    if (this.buffered === 0 && !(await this.more())) return EMPTY;
    const k = Math.min(n, this.buffered);
    const out = this.buf.subarray(this.pos, this.pos + k);
    this.pos += k;
    this.position += k;
    return out;
  }

  /**
   * For hot header paths, with no allocation at all: when `n` bytes are
   * buffered, the index in `window` where they start; else -1. Nothing is
   * consumed; the index is valid until the reader is next used.
   */
  windowAt(n: number): number {
    return this.buf.length - this.pos >= n ? this.pos : -1;
  }

  /** The buffer windowAt() indexes into. */
  get window(): Buffer {
    return this.buf;
  }

  /** Exactly `n` bytes if they are all buffered now (zero-copy, consumed), else undefined. */
  takeBuffered(n: number): Buffer | undefined {
    if (this.buffered < n) return undefined;
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    this.position += n;
    return out;
  }

  /** The next `n` bytes if they are all buffered now, without consuming them; else undefined. */
  peekBuffered(n: number): Buffer | undefined {
    return this.buffered < n ? undefined : this.buf.subarray(this.pos, this.pos + n);
  }

  /** Discard `n` bytes if they are all buffered now (true), else do nothing (false). */
  skipBuffered(n: number): boolean {
    if (this.buffered < n) return false;
    this.pos += n;
    this.position += n;
    return true;
  }

  /**
   * The next `n` bytes without reading them: those buffered (zero-copy) and
   * the range of the file that holds the rest, which the input skips; all
   * consumed. Undefined when all are buffered, when the reader is not right
   * on a file (or not at its read position), or when the file ends before
   * the range does.
   */
  takeRange(n: number): BodyRange | undefined {
    const file = this.file;
    const have = this.buffered;
    if (file === undefined || n <= have) return undefined;
    const offset = this.position + have;
    const length = n - have;
    if (file.next !== offset || offset + length > file.size) return undefined;
    const head = this.buf.subarray(this.pos);
    this.buf = EMPTY;
    this.pos = 0;
    this.position += n;
    file.skip(length);
    return { head, file, offset, length };
  }

  /** Exactly `n` bytes as zero-copy slices. */
  async *take(n: number, what = 'file data'): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      const c = await this.readSome(left);
      if (c.length === 0) {
        throw new TruncatedError(`unexpected end of input in ${what}: ${left} of ${n} bytes missing`, { offset: this.position });
      }
      left -= c.length;
      yield c;
    }
  }

  /** Discard exactly `n` bytes. */
  async skip(n: number, what = 'data'): Promise<void> {
    let left = n;
    while (left > 0) {
      if (this.buffered === 0 && !(await this.more())) {
        throw new TruncatedError(`unexpected end of input skipping ${what}: ${left} of ${n} bytes missing`, { offset: this.position });
      }
      const k = Math.min(left, this.buffered);
      this.pos += k;
      this.position += k;
      left -= k;
    }
  }

  /** True when no byte is left. */
  async atEof(): Promise<boolean> {
    return this.buffered === 0 && !(await this.more());
  }

  /**
   * Read to the end, calling `check` on each chunk (to reject trailing
   * garbage); returns the number of bytes read. Reading to the end is what
   * surfaces a decompressor's late failure (bad CRC, non-zero exit).
   */
  async drain(check?: (chunk: Buffer, offset: number) => void): Promise<number> {
    let total = 0;
    for (;;) {
      const off = this.position;
      const c = await this.readSome(1 << 20);
      if (c.length === 0) return total;
      check?.(c, off);
      total += c.length;
    }
  }

  /** Stop reading: tell the source we are done with it. */
  async close(): Promise<void> {
    this.ended = true;
    this.buf = EMPTY;
    this.pos = 0;
    await this.it.return?.();
  }
}
