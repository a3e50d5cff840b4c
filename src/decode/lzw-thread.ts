// compress .Z decoding on a worker thread, so that LZW (the one codec that
// would otherwise run on the main thread) overlaps with parsing and writing,
// as `uncompress -c | cpio` overlaps two processes. Input chunks are copied
// into at most IN_CREDITS buffers that go to the worker and come back, by
// transfer, once decoded, to be refilled; output buffers come back by
// transfer, zero-copy, at most OUT_CREDITS ahead of the consumer. So what is
// buffered between the threads is bounded, and input buffers are not left
// for the worker's garbage collector, which seldom runs there (the worker
// allocates next to nothing on its heap): with a fresh copy per chunk, a
// decode-only run peaked at ~145 MiB RSS, with reuse at ~112 MiB. Stopping
// or aborting terminates the worker. Small inputs (up to INLINE_MAX) are
// decoded inline.

import { Worker } from 'node:worker_threads';
import { ArchiveError, TruncatedError } from '../errors.js';
import { Replay } from './peek.js';

/** Inputs up to this size are decoded inline: a thread costs more to start than they take. */
export const INLINE_MAX = 1024 * 1024;
/** Input buffers: one being decoded, the rest filled and queued. */
export const IN_CREDITS = 3;
/** Output buffers (1 MiB each) decoded ahead of the consumer. */
export const OUT_CREDITS = 3;
/** Smallest input buffer allocated; a larger source chunk gets one of its size. */
const IN_SIZE = 1024 * 1024;
/**
 * A cap on the worker's heap, which holds only the decoder's code and small
 * objects (about 5 MiB used; tables and buffers are ArrayBuffers, outside
 * the heap). No measurable effect on peak RSS today; it bounds the worst case.
 */
export const WORKER_LIMITS = { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 24 };

/** `in`: the first `len` bytes of `buf` are input (`buf` may be a larger, reused one). */
export type ToWorker = { t: 'in'; buf: ArrayBuffer; len: number } | { t: 'end' } | { t: 'ack' };

export interface WireError {
  name: string;
  message: string;
  kind?: string;
  offset?: number;
  hint?: string;
}

export type FromWorker =
  | { t: 'out'; buf: ArrayBuffer; off: number; len: number }
  /** An input buffer given back once decoded. */
  | { t: 'free'; buf: ArrayBuffer }
  | { t: 'done' }
  | { t: 'error'; err: WireError };

type Event = FromWorker | { t: 'fail'; e: unknown };

/** The worker's error as the class it was thrown as (message already formatted). */
function revive(w: WireError): Error {
  if (!w.kind) return new Error(w.message);
  const e = Object.create(w.kind === 'truncated' ? TruncatedError.prototype : ArchiveError.prototype) as ArchiveError;
  Object.assign(e, { name: w.name, message: w.message, kind: w.kind, offset: w.offset, hint: w.hint });
  Error.captureStackTrace(e, revive);
  return e;
}

/**
 * Start the worker; null when threads are unavailable (the caller decodes
 * inline). No node options of the parent: V8 flags such as the launcher's
 * are process-wide and make Worker() throw when repeated here (which had
 * silently sent every .Z back to the main thread), and a test runner's
 * module hooks would make the thread's start wait for this one.
 */
export function startWorker(): Worker | null {
  try {
    // Relative to src/: the same from dist/src/decode/ and from the bundle in dist/src/bundle/.
    return new Worker(new URL('../decode/lzw-worker.js', import.meta.url), { execArgv: [], resourceLimits: WORKER_LIMITS });
  } catch {
    return null;
  }
}

export async function* unlzwThreaded(
  src: AsyncIterable<Buffer>,
  signal: AbortSignal | undefined,
  inline: (src: AsyncIterable<Buffer>, signal?: AbortSignal) => AsyncGenerator<Buffer>,
): AsyncGenerator<Buffer> {
  signal?.throwIfAborted();
  const it = src[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let have = 0;
  let ended = false;
  while (have <= INLINE_MAX) {
    const r = await it.next();
    if (r.done) {
      ended = true;
      break;
    }
    head.push(r.value);
    have += r.value.length;
  }
  src = new Replay(head, it, ended);
  const w = ended ? null : startWorker();
  if (!w) {
    yield* inline(src, signal);
    return;
  }
  const events: Event[] = [];
  let wake: (() => void) | null = null;
  const push = (m: Event) => {
    events.push(m);
    const f = wake;
    wake = null;
    f?.();
  };
  let inFlight = 0;
  /** Input buffers given back by the worker, to be refilled. */
  const spare: ArrayBuffer[] = [];
  let inWake: (() => void) | null = null;
  const freeInput = () => {
    const f = inWake;
    inWake = null;
    f?.();
  };
  let stopped = false;

  w.on('message', (m: FromWorker) => {
    if (m.t === 'free') {
      spare.push(m.buf);
      inFlight--;
      freeInput();
    } else {
      push(m);
    }
  });
  w.on('error', (e) => push({ t: 'fail', e: new ArchiveError('decompress', `compress (.Z): the decoder thread failed: ${e.message}`) }));
  w.on('exit', (code) => push({ t: 'fail', e: new ArchiveError('decompress', `compress (.Z): the decoder thread exited (${code})`) }));
  const onAbort = () => {
    push({ t: 'fail', e: signal!.reason });
    void w.terminate();
  };
  signal?.addEventListener('abort', onAbort, { once: true });

  const feed = async () => {
    try {
      for await (const c of src) {
        while (inFlight >= IN_CREDITS && !stopped) await new Promise<void>((r) => (inWake = r));
        if (stopped) return;
        // A copy into a buffer of our own: the source's buffers may be
        // shared, a transfer would detach them.
        let buf = spare.pop();
        if (!buf || buf.byteLength < c.length) buf = new ArrayBuffer(Math.max(IN_SIZE, c.length));
        new Uint8Array(buf).set(c);
        inFlight++;
        w.postMessage({ t: 'in', buf, len: c.length } satisfies ToWorker, [buf]);
      }
      if (!stopped) w.postMessage({ t: 'end' } satisfies ToWorker);
    } catch (e) {
      if (!stopped) push({ t: 'fail', e });
    }
  };
  void feed();

  try {
    for (;;) {
      while (events.length === 0) await new Promise<void>((r) => (wake = r));
      const m = events.shift()!;
      if (m.t === 'out') {
        yield Buffer.from(m.buf, m.off, m.len);
        // The consumer wants more: one more buffer may be decoded ahead.
        w.postMessage({ t: 'ack' } satisfies ToWorker);
      } else if (m.t === 'done') {
        return;
      } else if (m.t === 'error') {
        throw revive(m.err);
      } else if (m.t === 'fail') {
        throw m.e;
      }
    }
  } finally {
    stopped = true;
    freeInput();
    signal?.removeEventListener('abort', onAbort);
    w.removeAllListeners('exit');
    await w.terminate();
  }
}
