// gzip through node's zlib (it runs in the libuv thread pool, off the main
// thread). Concatenated members are read as one stream; zero padding after
// the last member is accepted, other trailing bytes are an error. zlib checks
// every member's CRC-32 and length, so a bad trailer fails the stream after
// its data, before the iterable completes.

import { ArchiveError } from '../errors.js';
import { pump, type PumpState } from './pump.js';

const HINT = 'the gzip data is corrupt or truncated: check the transfer (size, checksum), or test it with `gzip -t`';
const TRAILING_HINT = 'check the transfer; if only junk was appended, `gzip -dc FILE > image` keeps what decodes (it warns "trailing garbage ignored") and zonep2v reads that';

export async function* gunzip(src: AsyncIterable<Buffer>, signal?: AbortSignal): AsyncGenerator<Buffer> {
  signal?.throwIfAborted();
  // Loaded here, not at start-up: 2.6 ms that a run without gzip input never needs.
  const zlib = (await import('node:zlib')).default;
  // Output in 512 KiB pieces: each piece is a round trip between this thread
  // and the thread pool, during which neither side works. On the bench's
  // gzip cpio: 32 KiB 2.4 s, 128 KiB 1.86 s, 512 KiB 1.74 s, 1 MiB 1.73 s
  // (and 4 MiB more peak RSS).
  const z = zlib.createGunzip({ chunkSize: 512 * 1024 });
  // Errors surface through the iterator below; this listener keeps a late one
  // (after the consumer left) from becoming an uncaught exception.
  z.on('error', () => {});
  const state: PumpState = { stopped: false };
  void pump(src, z, state, (e) => z.destroy(e instanceof Error ? e : new Error(String(e))));
  const onAbort = () => z.destroy(signal!.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  let out = 0;
  try {
    for await (const c of z) {
      out += c.length;
      yield c as Buffer;
    }
  } catch (e) {
    if (state.error !== undefined) throw state.error;
    if (signal?.aborted) throw signal.reason;
    const err = e as NodeJS.ErrnoException;
    // The first member's header was checked by detection: a bad header is a
    // later one's, i.e. bytes after a complete member. zlib drops the output
    // of the chunk that failed, so the counts below may be short of it.
    if (err.message === 'incorrect header check') {
      throw new ArchiveError('decompress', 'gzip: bytes that are not gzip follow a gzip member (trailing garbage, or a damaged concatenated archive)', { offset: out }, TRAILING_HINT);
    }
    const what = err.code === 'Z_BUF_ERROR' ? `truncated (${err.message})` : err.message;
    throw new ArchiveError('decompress', `gzip: ${what} after ${out} decoded bytes, at compressed byte ~${z.bytesWritten}`, { offset: out }, HINT);
  } finally {
    state.stopped = true;
    signal?.removeEventListener('abort', onAbort);
    z.destroy();
  }
}
