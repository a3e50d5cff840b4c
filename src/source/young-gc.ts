// Dead input chunks are memory outside V8's heap that is given back only
// when their small Buffer objects are collected. A stream allocates few
// objects per megabyte, so young collections are rare and tens of MiB of
// dead chunks pile up (peak RSS 125-135 MiB against 96-98 MiB with this, on
// the bench's 300 MB cpio, at the same speed). So the reader asks for a
// young-generation collection every few MiB: a fraction of a millisecond
// each, as the live young set is tiny.

import v8 from 'node:v8';
import vm from 'node:vm';

type GcFn = (opts: { type: 'minor'; execution: 'sync' }) => void;

let gc: GcFn | undefined;

/** Turn the periodic collection on (the CLI does; a library user may not want it). */
export function enableYoungCollection(): void {
  if (gc) return;
  try {
    v8.setFlagsFromString('--expose-gc');
    gc = vm.runInNewContext('gc') as GcFn;
  } catch {
    gc = undefined;
  }
}

/** A young-generation collection, when enabled. */
export function collectYoung(): void {
  gc?.({ type: 'minor', execution: 'sync' });
}
