// The decode stage: find compression by its magic bytes (never by file name,
// reference/formats.md section 6), undo it, and look again, up to
// MAX_LAYERS deep. gzip runs in zlib (thread pool), compress .Z in our LZW
// decoder (on a worker thread given more than 2 CPUs), bzip2 and xz in
// system decompressors (bzip2 has a JS fallback): decoding overlaps with the
// parsing on the main thread. Everything is pull-based: nothing is decoded
// ahead of the consumer beyond a buffer or a pipe. A decompressor failure is
// fatal, even after the last byte, and the decoded/compressed ratio is
// capped against decompression bombs (security D-12).

import { availableParallelism } from 'node:os';
import { ArchiveError, raiseLimit } from '../errors.js';
import { bunzip2, type Bzip2Decoder } from './bzip2.js';
import { gunzip } from './gzip.js';
import { isCompressHeader, unlzw } from './lzw.js';
import { unlzwThreaded } from './lzw-thread.js';
import { peekHead } from './peek.js';
import { viaProcess, which } from './process.js';

export type Compression = 'gzip' | 'bzip2' | 'xz' | 'compress';
export type { Bzip2Decoder };

export interface DecodeOptions {
  /** Abort: decompressor processes are killed and reads reject with the signal's reason. */
  signal?: AbortSignal;
  /**
   * Largest decoded/compressed byte ratio (default 1000, `Infinity` turns the
   * check off). Checked only past RATIO_MIN_OUTPUT decoded bytes.
   */
  maxRatio?: number;
  /** Decoded bytes before the ratio is judged (default RATIO_MIN_OUTPUT). */
  ratioMinOutput?: number;
  /** bzip2 decoder (default auto: lbzip2, bzip2, then JS; env ZONEP2V_BZIP2 overrides auto). */
  bzip2?: Bzip2Decoder;
  /**
   * Where .Z is decoded: on a worker thread (overlaps with parsing) or inline
   * on the calling thread. Default: the thread only with more than 2 CPUs
   * (lzwWhere()); env ZONEP2V_LZW=inline|worker overrides the default.
   */
  lzw?: 'worker' | 'inline';
  /** Called with the pid of each decompressor process started (for tests and logs). */
  onSpawn?: (pid: number) => void;
}

export interface Decoded {
  /** Compression layers undone, outermost first. */
  layers: Compression[];
  data: AsyncIterable<Buffer>;
}

/** Most compression layers undone before giving up (security D-12). */
export const MAX_LAYERS = 3;
export const DEFAULT_MAX_RATIO = 1000;
/**
 * The ratio is not judged on less output than this. Real system images hold
 * large zero-filled files (preallocated databases, swap files) that bzip2 and
 * xz shrink far beyond 1000:1, so the overall ratio is only meaningful over a
 * large span; the sink's free-space checks guard the disk meanwhile.
 */
export const RATIO_MIN_OUTPUT = 1024 * 1024 * 1024;
/** Bytes needed by sniffCompression. */
export const SNIFF_BYTES = 10;

const XZ_MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
const BZ_BLOCK = Buffer.from([0x31, 0x41, 0x59, 0x26, 0x53, 0x59]);
const BZ_EOS = Buffer.from([0x17, 0x72, 0x45, 0x38, 0x50, 0x90]);

/**
 * The compression `head` (its first SNIFF_BYTES bytes) starts with, or null.
 * Beyond the magic numbers it checks what makes a false match unlikely: the
 * gzip method and reserved flags, the bzip2 block or end-of-stream magic,
 * the compress flags.
 */
export function sniffCompression(head: Buffer): Compression | null {
  if (head.length >= 4 && head[0] === 0x1f && head[1] === 0x8b && head[2] === 8 && (head[3]! & 0xe0) === 0) return 'gzip';
  if (head.length >= 10 && head[0] === 0x42 && head[1] === 0x5a && head[2] === 0x68 && head[3]! >= 0x31 && head[3]! <= 0x39) {
    const m = head.subarray(4, 10);
    if (m.equals(BZ_BLOCK) || m.equals(BZ_EOS)) return 'bzip2';
  }
  if (head.length >= 6 && head.subarray(0, 6).equals(XZ_MAGIC)) return 'xz';
  if (isCompressHeader(head)) return 'compress';
  return null;
}

const XZ_HINT = 'the xz data is corrupt or truncated: check the transfer (size, checksum), or test it with `xz -t`';

function failing(err: ArchiveError): AsyncGenerator<Buffer> {
  return (async function* () {
    throw err;
  })();
}

function codec(kind: Compression, src: AsyncIterable<Buffer>, opts: DecodeOptions): AsyncIterable<Buffer> {
  switch (kind) {
    case 'gzip':
      return gunzip(src, opts.signal);
    case 'compress': {
      const where = opts.lzw ?? lzwWhere();
      return where === 'inline' ? unlzw(src, opts.signal) : unlzwThreaded(src, opts.signal, unlzw);
    }
    case 'bzip2':
      return bunzip2(src, opts.bzip2 ?? 'auto', opts.signal, opts.onSpawn);
    case 'xz': {
      const cmd = which('xz');
      if (!cmd) return failing(new ArchiveError('decompress', 'xz input needs the xz program, which is not installed', {}, 'install xz (Debian: xz-utils; Solaris: compress/xz), or decompress the input first'));
      return viaProcess({ format: 'xz', cmd, args: ['-d', '-c', '-T0'], hint: XZ_HINT }, src, opts.signal, opts.onSpawn);
    }
  }
}

/**
 * Decode `src` as `kind` (for a payload whose compression is declared, e.g.
 * a flar's files_compressed_method). The ratio cap applies here too.
 */
export function decodeWith(kind: Compression, src: AsyncIterable<Buffer>, opts: DecodeOptions = {}): AsyncIterable<Buffer> {
  const counted = new Counter(src);
  const maxRatio = opts.maxRatio ?? DEFAULT_MAX_RATIO;
  const out = codec(kind, counted, opts);
  if (maxRatio === Infinity) return out;
  return new Guard(out[Symbol.asyncIterator](), counted, maxRatio, opts.ratioMinOutput ?? RATIO_MIN_OUTPUT, opts.signal, () => {});
}

/**
 * Where .Z is decoded by default. On 2 CPUs the main thread and the writing
 * thread already fill the machine: a decoder thread made the bench's .Z
 * extraction slower (2.49 vs 2.32 s median, 4 alternated rounds; user CPU
 * 2.77 vs 2.40 s: the decoder itself ran slower beside the others) and
 * peaked 5 MiB higher. With the WebAssembly loop it is a draw (1.72 vs
 * 1.75 s, 6 rounds) at 3.5 MiB more. With more CPUs it runs beside the
 * parsing.
 */
export function lzwWhere(env = process.env.ZONEP2V_LZW, cpus = availableParallelism()): 'worker' | 'inline' {
  if (env === 'inline' || env === 'worker') return env;
  return cpus > 2 ? 'worker' : 'inline';
}

/** Undo every compression layer of `src`; uncompressed input passes through unchanged. */
export async function decodeStream(src: AsyncIterable<Buffer>, opts: DecodeOptions = {}): Promise<Decoded> {
  const ext = opts.signal;
  ext?.throwIfAborted();
  // One controller for every layer: stopping or failing kills all the processes at once.
  const ac = new AbortController();
  const onExt = () => ac.abort(ext!.reason);
  ext?.addEventListener('abort', onExt, { once: true });
  const done = () => {
    ext?.removeEventListener('abort', onExt);
    ac.abort(new Error('decoding stopped'));
  };
  const inner: DecodeOptions = { ...opts, signal: ac.signal };
  const counted = new Counter(src);
  const layers: Compression[] = [];
  let cur: AsyncIterable<Buffer> = counted;
  try {
    for (;;) {
      const { head, rest } = await peekHead(cur, SNIFF_BYTES);
      const kind = sniffCompression(head);
      if (!kind) {
        cur = rest;
        break;
      }
      if (layers.length >= MAX_LAYERS) {
        await rest.return();
        throw new ArchiveError('layers', `more than ${MAX_LAYERS} nested compression layers (${layers.join(', ')}, ${kind}, ...)`, { offset: 0 }, 'decompress the input yourself if this nesting is intended');
      }
      layers.push(kind);
      cur = codec(kind, rest, inner);
    }
  } catch (e) {
    done();
    if (ext?.aborted) throw ext.reason;
    throw e;
  }
  const maxRatio = opts.maxRatio ?? DEFAULT_MAX_RATIO;
  return { layers, data: new Guard(cur[Symbol.asyncIterator](), counted, maxRatio, opts.ratioMinOutput ?? RATIO_MIN_OUTPUT, ext, done) };
}

/** Counts the bytes pulled through it: the compressed side of the ratio. */
class Counter implements AsyncIterableIterator<Buffer> {
  bytes = 0;
  private readonly it: AsyncIterator<Buffer>;
  constructor(src: AsyncIterable<Buffer> | Iterable<Buffer>) {
    // A plain array of chunks is accepted too, as `for await` would.
    this.it = Symbol.asyncIterator in src ? src[Symbol.asyncIterator]() : (async function* () {
      yield* src;
    })();
  }
  [Symbol.asyncIterator](): this {
    return this;
  }
  async next(): Promise<IteratorResult<Buffer>> {
    const r = await this.it.next();
    if (!r.done) this.bytes += r.value.length;
    return r;
  }
  async return(): Promise<IteratorResult<Buffer>> {
    await this.it.return?.();
    return { done: true, value: undefined };
  }
}

/**
 * The consumer's end: checks the ratio, turns an abort into the signal's
 * reason, and on return() or failure releases every layer (`finish`).
 * return() works before the first next() too, unlike a bare generator's.
 */
class Guard implements AsyncIterableIterator<Buffer> {
  private out = 0;
  private closed = false;
  constructor(
    private readonly it: AsyncIterator<Buffer>,
    private readonly counted: Counter,
    private readonly maxRatio: number,
    private readonly minOutput: number,
    private readonly signal: AbortSignal | undefined,
    private readonly finish: () => void,
  ) {}

  [Symbol.asyncIterator](): this {
    return this;
  }

  async next(): Promise<IteratorResult<Buffer>> {
    if (this.closed) return { done: true, value: undefined };
    let r: IteratorResult<Buffer>;
    try {
      this.signal?.throwIfAborted();
      r = await this.it.next();
    } catch (e) {
      await this.close();
      if (this.signal?.aborted) throw this.signal.reason;
      throw e;
    }
    if (r.done) {
      this.closed = true;
      this.finish();
      return r;
    }
    this.out += r.value.length;
    if (this.out > this.minOutput && this.out > this.maxRatio * this.counted.bytes) {
      const err = new ArchiveError(
        'ratio',
        `decompression ratio over ${this.maxRatio}:1 (${this.out} bytes decoded from ${this.counted.bytes})`,
        { offset: this.out },
        raiseLimit('ratio', this.maxRatio),
      );
      await this.close();
      throw err;
    }
    return r;
  }

  private async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.finish();
    try {
      await this.it.return?.();
    } catch {
      // the layer failed while stopping; the consumer has what it needs
    }
  }

  async return(): Promise<IteratorResult<Buffer>> {
    await this.close();
    return { done: true, value: undefined };
  }
}
