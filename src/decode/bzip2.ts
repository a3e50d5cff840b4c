// bzip2: a system decompressor in a child process (lbzip2 decodes blocks in
// parallel, even from a pipe; bzip2 otherwise), so decoding runs on other
// cores. unbzip2-stream is the fallback when neither is installed: about 5x
// slower than bzip2 and it blocks the event loop for each 900k block
// (reference/ecosystem.md section 3.3).

import { createRequire } from 'node:module';
import { ArchiveError } from '../errors.js';
import { viaProcess, which, type OnSpawn } from './process.js';

/** Which bzip2 decoder to use; `auto` picks the fastest installed. */
export type Bzip2Decoder = 'auto' | 'lbzip2' | 'bzip2' | 'js';

const HINT = 'the bzip2 data is corrupt or truncated: check the transfer (size, checksum), or test it with `bzip2 -t`';

/** The decoder `auto` resolves to here, honouring ZONEP2V_BZIP2 (lbzip2|bzip2|js). */
export function pickBzip2(want: Bzip2Decoder = 'auto'): Exclude<Bzip2Decoder, 'auto'> {
  if (want === 'auto') {
    const env = process.env.ZONEP2V_BZIP2;
    if (env === 'lbzip2' || env === 'bzip2' || env === 'js') want = env;
  }
  if (want !== 'auto') return want;
  if (which('lbzip2')) return 'lbzip2';
  if (which('bzip2')) return 'bzip2';
  return 'js';
}

export function bunzip2(src: AsyncIterable<Buffer>, want: Bzip2Decoder, signal?: AbortSignal, onSpawn?: OnSpawn): AsyncGenerator<Buffer> {
  const kind = pickBzip2(want);
  if (kind === 'js') return bunzip2Js(src, signal);
  const cmd = which(kind);
  if (!cmd) {
    return (async function* () {
      throw new ArchiveError('decompress', `bzip2 input: ${kind} is not installed`, {}, 'install lbzip2 or bzip2, or leave the decoder choice to auto');
    })();
  }
  return viaProcess({ format: 'bzip2', cmd, args: ['-d', '-c'], hint: HINT }, src, signal, onSpawn);
}

interface ThroughStream {
  write(b: Buffer): boolean;
  end(): void;
  on(ev: 'data', f: (b: Buffer) => void): void;
  on(ev: 'error', f: (e: Error) => void): void;
  on(ev: 'end', f: () => void): void;
  destroy(): void;
}

/**
 * unbzip2-stream decodes synchronously inside write() and end(), so each
 * input chunk's output (at most a block's worth) is collected and yielded
 * before the next chunk is fed.
 *
 * Bytes after a complete stream that do not start another (tape or dd
 * padding, mostly) end the data: bzip2 and lbzip2 ignore such "trailing
 * garbage after EOF" (exit status 0), and so does this fallback, so that
 * which decoder is installed does not change the outcome. Damage they hide
 * inside the archive shows as the archive's own truncation.
 */
async function* bunzip2Js(src: AsyncIterable<Buffer>, signal?: AbortSignal): AsyncGenerator<Buffer> {
  const require = createRequire(import.meta.url);
  const make = require('unbzip2-stream') as () => ThroughStream;
  const s = make();
  let queue: Buffer[] = [];
  let failure: Error | undefined;
  let out = 0;
  s.on('data', (b) => queue.push(b));
  s.on('error', (e) => {
    failure ??= e;
  });
  s.on('end', () => {});
  // unbzip2-stream reads each stream's header as it comes to it: this error
  // once output has come out is a header missing after a complete stream.
  const trailing = (e: Error): boolean => out > 0 && e.message.includes('No magic number found');
  const fail = (e: Error): never => {
    const msg = e.message.includes('Cannot read') || e.message.includes('undefined') ? `truncated or corrupt stream (${e.message})` : e.message;
    throw new ArchiveError('decompress', `bzip2 (built-in decoder): ${msg} after ${out} decoded bytes`, { offset: out }, HINT);
  };
  async function* drainQueue(): AsyncGenerator<Buffer> {
    const q = queue;
    queue = [];
    for (const b of q) {
      out += b.length;
      yield b;
    }
  }
  try {
    for await (const chunk of src) {
      signal?.throwIfAborted();
      try {
        s.write(chunk);
      } catch (e) {
        failure ??= e as Error;
      }
      yield* drainQueue();
      if (failure) {
        if (trailing(failure)) return;
        fail(failure);
      }
    }
    try {
      s.end();
    } catch (e) {
      failure ??= e as Error;
    }
    yield* drainQueue();
    if (failure && !trailing(failure)) fail(failure);
  } finally {
    s.destroy();
  }
}
