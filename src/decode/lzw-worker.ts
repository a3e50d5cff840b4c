// Worker side of the threaded .Z decoder (see lzw-thread.ts): decodes the
// input buffers it is sent, gives each back (transferred) once decoded so
// the reader can refill it, and sends output buffers, never more than
// OUT_CREDITS ahead of the reader.

import { parentPort } from 'node:worker_threads';
import { LzwDecoder, YIELD_MIN } from './lzw.js';
import { OUT_CREDITS, type FromWorker, type ToWorker } from './lzw-thread.js';

const port = parentPort!;
const inputs: Uint8Array[] = [];
let ended = false;
let credits = OUT_CREDITS;
let wake: (() => void) | null = null;

port.on('message', (m: ToWorker) => {
  if (m.t === 'in') inputs.push(new Uint8Array(m.buf, 0, m.len));
  else if (m.t === 'end') ended = true;
  else credits++;
  const w = wake;
  wake = null;
  w?.();
});

const waitMessage = () => new Promise<void>((r) => (wake = r));
const post = (m: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

async function send(d: LzwDecoder): Promise<void> {
  while (credits === 0) await waitMessage();
  credits--;
  // take() copies into a buffer of its own: handed over whole.
  const b = d.take();
  const ab = b.buffer as ArrayBuffer;
  post({ t: 'out', buf: ab, off: b.byteOffset, len: b.length }, [ab]);
}

async function main(): Promise<void> {
  const d = new LzwDecoder();
  for (;;) {
    while (inputs.length === 0 && !ended) await waitMessage();
    const chunk = inputs.shift();
    if (!chunk) break;
    let ip = 0;
    while (ip < chunk.length) {
      ip = d.run(chunk, ip);
      if (d.full) await send(d);
    }
    const ab = chunk.buffer as ArrayBuffer;
    post({ t: 'free', buf: ab }, [ab]);
    // Hand out a partial buffer only when no input is waiting (a slow source).
    if (inputs.length === 0 && d.pending >= YIELD_MIN) await send(d);
  }
  d.finish();
  if (d.pending > 0) await send(d);
  post({ t: 'done' });
}

main().catch((e: unknown) => {
  const err = e as Error & Record<string, unknown>;
  post({
    t: 'error',
    err: { name: err.name, message: err.message, kind: err.kind as string | undefined, offset: err.offset as number | undefined, hint: err.hint as string | undefined },
  });
});
