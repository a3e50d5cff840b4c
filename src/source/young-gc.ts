// Dead input chunks are memory outside V8's heap that is given back only
// when their small Buffer objects are collected. A stream allocates few
// objects per megabyte, so young collections are rare and tens of MiB of
// dead chunks pile up (peak RSS 125-135 MiB against 96-98 MiB with this, on
// the bench's 300 MB cpio, at the same speed). So the reader asks for a
// young-generation collection every few MiB: a fraction of a millisecond
// each, as the live young set is tiny.
//
// Those collections promote what is alive at that moment: buffers in flight
// (a decoder's output, a chunk being parsed) land in the old generation,
// which V8 collects seldom, and their memory stays with them. So every
// MAJOR_EVERY-th time the collection is a full one, started incrementally
// (async: marking runs in steps and on helper threads). A compressed flash
// archive peaked at 104-112 MiB without it, 87-91 MiB with it; cpio and
// ufsdump runs kept their speed and peaks.
//
// Many small files promote more: each chunk is parsed entry by entry, with
// per-entry garbage filling the young generation meanwhile. On an image of
// 300 000 files (200 MB, 13 000 symlinks) the dead chunks of the old
// generation piled up to 22-34 MB between full collections, and runs peaked
// at 99-117 MiB. So a full collection also starts when V8's external memory
// has grown EXT_GROWTH past its lowest level since the last one: peaks of
// 88-93 MiB (5 alternated runs each), the bench's archives unchanged.

import v8 from 'node:v8';
import vm from 'node:vm';

type GcFn = (opts: { type: 'minor' | 'major'; execution: 'sync' | 'async' }) => void;

/** One collection in this many is a full one (with 4 MiB between them: every 64 MiB). */
const MAJOR_EVERY = 16;
/** External memory grown this far past its floor since the last full collection starts one. */
const EXT_GROWTH = 8 * 1024 * 1024;

/** When a periodic collection is a full one; apart from V8, for tests. */
export class MajorPolicy {
  private floor = Infinity;
  private count = 0;

  constructor(
    private readonly every = MAJOR_EVERY,
    private readonly growth = EXT_GROWTH,
  ) {}

  /** At each periodic collection, with V8's external memory now: true for a full collection. */
  next(external: number): boolean {
    // The lowest level seen is what the last full collection left alive.
    if (external < this.floor) this.floor = external;
    if (++this.count >= this.every || external - this.floor > this.growth) {
      this.floor = Infinity;
      this.count = 0;
      return true;
    }
    return false;
  }
}

let gc: GcFn | undefined;
const policy = new MajorPolicy();

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

/** A young-generation collection (now and then a full one, started: see MajorPolicy), when enabled. */
export function collectYoung(): void {
  if (!gc) return;
  if (policy.next(v8.getHeapStatistics().external_memory)) gc({ type: 'major', execution: 'async' });
  else gc({ type: 'minor', execution: 'sync' });
}
