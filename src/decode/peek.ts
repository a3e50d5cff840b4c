// Look at the first bytes of a stream without losing them: the chunks read
// to fill the head are handed out again, unchanged, before the rest.

const EMPTY = Buffer.alloc(0);

/** A single-use iterator: some already-read chunks, then the rest of `it`. */
export class Replay implements AsyncIterableIterator<Buffer> {
  private closed = false;
  constructor(
    private pending: Buffer[],
    private readonly it: AsyncIterator<Buffer>,
    private ended: boolean,
  ) {}

  [Symbol.asyncIterator](): this {
    return this;
  }

  async next(): Promise<IteratorResult<Buffer>> {
    const b = this.pending.shift();
    if (b) return { done: false, value: b };
    if (this.ended || this.closed) return { done: true, value: undefined };
    const r = await this.it.next();
    if (r.done) this.ended = true;
    return r;
  }

  async return(): Promise<IteratorResult<Buffer>> {
    this.pending = [];
    if (!this.closed && !this.ended) {
      this.closed = true;
      await this.it.return?.();
    }
    this.closed = true;
    return { done: true, value: undefined };
  }
}

/** The first `n` bytes (fewer only at the end of input) and the whole stream. */
export async function peekHead(src: AsyncIterable<Buffer>, n: number): Promise<{ head: Buffer; rest: Replay }> {
  const it = src[Symbol.asyncIterator]();
  const chunks: Buffer[] = [];
  let have = 0;
  let ended = false;
  while (have < n) {
    const r = await it.next();
    if (r.done) {
      ended = true;
      break;
    }
    if (r.value.length === 0) continue;
    chunks.push(r.value);
    have += r.value.length;
  }
  const head = chunks.length === 0 ? EMPTY : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  return { head: head.subarray(0, Math.min(n, head.length)), rest: new Replay(chunks, it, ended) };
}
