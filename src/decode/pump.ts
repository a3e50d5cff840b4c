// Feed an async iterable into a Writable (a decompressor's input) with
// backpressure. The pump never rejects: a source error is handed to
// `onError` (which destroys the decompressor so its reader sees it), and a
// consumer that stops sets `stopped` so the pump lets go of the source.

import type { Writable } from 'node:stream';

export interface PumpState {
  /** Set by the reading side when it no longer wants output. */
  stopped: boolean;
  /** The source's error, if it failed. */
  error?: unknown;
}

/** Resolves true on 'drain', false when the stream closes or fails first. */
function drained(w: Writable): Promise<boolean> {
  if (w.destroyed || w.writableEnded) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      w.off('drain', onDrain);
      w.off('close', onClose);
      w.off('error', onClose);
      resolve(ok);
    };
    const onDrain = () => done(true);
    const onClose = () => done(false);
    w.on('drain', onDrain);
    w.on('close', onClose);
    w.on('error', onClose);
  });
}

export async function pump(
  src: AsyncIterable<Buffer>,
  w: Writable,
  state: PumpState,
  onError: (e: unknown) => void,
): Promise<void> {
  const it = src[Symbol.asyncIterator]();
  let finished = false;
  try {
    for (;;) {
      const r = await it.next();
      if (r.done) {
        finished = true;
        break;
      }
      if (state.stopped || w.destroyed) break;
      if (!w.write(r.value) && !(await drained(w))) break;
    }
    if (finished && !state.stopped && !w.destroyed) w.end();
  } catch (e) {
    finished = true; // a failed iterator is already closed
    if (!state.stopped) {
      state.error = e;
      onError(e);
    }
  } finally {
    if (!finished) {
      try {
        await it.return?.();
      } catch {
        // the source's own cleanup failed; nobody is reading any more
      }
    }
  }
}
