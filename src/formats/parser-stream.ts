// The skeleton of a parser's EntryStream (entry.ts): next() is nextNow()
// when that has an entry at hand, else the slow path. On the slow path a
// case that yields several entries (cpio's hard links and trailer, dump's
// prelude) runs as `sub` and is handed out first; then step() takes the
// next step. return() and a failure end the stream, stop `sub` and
// release() what the parser holds.

import type { Entry, EntryStream } from '../entry.js';

const DONE: IteratorResult<Entry> = { value: undefined, done: true };

export abstract class ParserStream implements EntryStream {
  /** A case that yields several entries, being handed out. */
  protected sub: AsyncGenerator<Entry> | null = null;
  /** No step() after this (what `sub` still holds is handed out). */
  protected ended = false;

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** The next entry when nothing has to wait; undefined sends next() to the slow path. */
  abstract nextNow(): Entry | undefined;

  /** One step of the slow path: an entry, or null to go round again (`sub` or `ended` set, or nothing yielded). */
  protected abstract step(): Promise<Entry | null>;

  /** What the parser holds besides `sub`, given back when the stream ends, fails or is stopped. */
  protected async release(): Promise<void> {}

  next(): Promise<IteratorResult<Entry>> {
    const e = this.nextNow();
    if (e !== undefined) return Promise.resolve({ value: e, done: false });
    return this.slow();
  }

  async return(): Promise<IteratorResult<Entry>> {
    this.ended = true;
    const sub = this.sub;
    this.sub = null;
    try {
      await sub?.return(undefined);
    } finally {
      await this.release();
    }
    return DONE;
  }

  private async slow(): Promise<IteratorResult<Entry>> {
    try {
      for (;;) {
        if (this.sub !== null) {
          const r = await this.sub.next();
          if (!r.done) return r;
          this.sub = null;
          continue;
        }
        if (this.ended) return DONE;
        const e = await this.step();
        if (e !== null) return { value: e, done: false };
      }
    } catch (err) {
      this.ended = true;
      this.sub = null;
      await this.release().catch(() => undefined);
      throw err;
    }
  }
}
