// The machinery behind every p2v rule here. A rule is written as a Stage:
// a synchronous-by-default `entry(e, rel)` hook that returns the entry (pass,
// the common case: no await, no allocation), null (drop), a replacement, or
// several entries, possibly through a promise when it must read a body; and
// an optional `finish()` that returns entries to add once the input has
// ended. Consecutive stage rules run fused in one loop (runStages), so an
// entry no rule cares about costs one normalisation plus one cheap check per
// rule; entries a stage emits flow through the stages after it only.

import type { Entry, EntryStream } from '../entry.js';
import { LinkMend } from './links.js';
import { normPath } from './path.js';
import type { Rule, RuleContext } from './types.js';

export type Emit = Entry | null | readonly Entry[];

export interface Stage {
  /** See one entry; `rel` is its normalised path. Return `e` itself to pass it. */
  entry(e: Entry, rel: string): Emit | Promise<Emit>;
  /**
   * The first characters of every path the stage acts on or records, when
   * that is known up front: the fused runner then calls entry() only for
   * entries whose normalised path starts with one of them, or is empty or
   * starts with a non-ASCII byte ('' : no other; the stage only adds
   * entries in finish()). Most of an image lies under usr/, which most
   * rules never look at.
   */
  firstChars?: string;
  /**
   * Hard links wherever they lie, besides the paths firstChars names: a
   * stage that holds back or deletes a file must also see a link to it
   * (a link written before its target, or to a name that is gone, fails).
   */
  hardlinks?: boolean;
  /**
   * Whether the stage reads the file at `rel` (a path it rewrites): a hard
   * link there reaches it as a regular file with the content it links to
   * (see links.ts).
   */
  wantsFile?(rel: string): boolean;
  /** After the last entry: entries to add (they flow through later stages). */
  finish?(): Emit | Promise<Emit>;
}

export interface StageRule extends Rule {
  /** Start one run of the rule. */
  start(ctx: RuleContext): Stage;
}

export function isStageRule(r: Rule): r is StageRule {
  return typeof (r as Partial<StageRule>).start === 'function';
}

/** Make a rule from a stage factory; apply() runs it alone. */
export function defineRule(name: string, start: (ctx: RuleContext) => Stage): StageRule {
  return {
    name,
    start,
    apply(entries: AsyncIterable<Entry>, ctx: RuleContext): AsyncIterable<Entry> {
      return runStages(entries, [start(ctx)], ctx);
    },
  };
}

/**
 * Run stages in order over the stream, fused in one loop. A hand-written
 * async iterator rather than an async generator: on the common path (every
 * stage passes the entry) it costs one promise per entry. Given the rules'
 * context, hard links to or at the files the stages change are mended
 * (links.ts).
 */
export function runStages(entries: AsyncIterable<Entry>, stages: readonly Stage[], ctx?: RuleContext): EntryStream {
  return new StageRunner(entries[Symbol.asyncIterator](), stages, ctx ? new LinkMend(stages, ctx) : null);
}

function isList(r: Emit): r is readonly Entry[] {
  return Array.isArray(r);
}

class StageRunner implements EntryStream {
  /** Entries ready to hand out (from lists and finish steps), in order. */
  private queue: Entry[] = [];
  private qi = 0;
  private ended = false;
  private closed = false;
  /** Next stage whose finish step runs, once the input has ended. */
  private finishing = 0;

  /** Stage indexes to call for a path starting with char code c (< 128); others (and '') call all. */
  private readonly routes: number[][] = [];
  /** The same for hard links: also the stages that ask for every hard link. */
  private readonly linkRoutes: number[][] = [];
  private readonly all: number[];
  /** What the stage at the index route() returned answered (when not -1). */
  private answer: Emit | Promise<Emit> = null;
  /** A stage's answer that nextNow() could not hand out: next() waits for it first. */
  private held: Promise<void> | undefined;

  constructor(
    private readonly src: AsyncIterator<Entry>,
    private readonly stages: readonly Stage[],
    private readonly links: LinkMend | null,
  ) {
    this.all = stages.map((_, i) => i);
    for (let c = 0; c < 128; c++) {
      const ch = String.fromCharCode(c);
      const mine = (i: number) => stages[i]!.firstChars === undefined || stages[i]!.firstChars!.includes(ch);
      this.routes.push(this.all.filter(mine));
      this.linkRoutes.push(this.all.filter((i) => mine(i) || stages[i]!.hardlinks === true));
    }
  }

  /**
   * Run the stages from `start` on that may act on `rel` over `e`: -1 when
   * every one passes it as it is, else the index of the first that did not
   * (its answer in this.answer). Input entries and the entries stages emit
   * are routed alike.
   */
  private route(e: Entry, rel: string, start = 0): number {
    const c = rel.charCodeAt(0);
    const list = c < 128 ? (e.type === 'hardlink' ? this.linkRoutes : this.routes)[c]! : this.all;
    const stages = this.stages;
    for (let k = 0; k < list.length; k++) {
      const i = list[k]!;
      if (i < start) continue;
      const out = stages[i]!.entry(e, rel);
      if (out !== e) {
        this.answer = out;
        return i;
      }
    }
    return -1;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /**
   * The next entry when the source has one at hand and every stage passes
   * it as it is; else undefined, and what was taken is left for next().
   */
  nextNow(): Entry | undefined {
    if (this.held !== undefined || this.qi < this.queue.length || this.ended || this.closed) return undefined;
    let e = (this.src as EntryStream).nextNow?.();
    if (e === undefined) return undefined;
    const rel = normPath(e.path);
    e = this.enter(e, rel);
    const i = this.route(e, rel);
    if (i < 0) return this.leave(e, rel);
    this.held = this.take(this.answer, e, i, rel);
    return undefined;
  }

  next(): Promise<IteratorResult<Entry>> {
    if (this.held !== undefined) {
      const held = this.held;
      this.held = undefined;
      return held.then(() => this.slowNext());
    }
    // Common path: nothing queued, input not ended: one .then per entry.
    if (this.qi >= this.queue.length && !this.ended && !this.closed) return this.src.next().then(this.step);
    return this.slowNext();
  }

  /** One input entry; every stage passing it synchronously is the fast case. */
  private readonly step = (r: IteratorResult<Entry>): IteratorResult<Entry> | Promise<IteratorResult<Entry>> => {
    if (r.done) {
      this.ended = true;
      return this.slowNext();
    }
    const rel = normPath(r.value.path);
    const e = this.enter(r.value, rel);
    const i = this.route(e, rel);
    if (i < 0) return { value: this.leave(e, rel), done: false };
    return this.take(this.answer, e, i, rel).then(() => this.slowNext());
  };

  private async slowNext(): Promise<IteratorResult<Entry>> {
    const stages = this.stages;
    const n = stages.length;
    for (;;) {
      if (this.qi < this.queue.length) {
        const v = this.queue[this.qi++]!;
        if (this.qi === this.queue.length) {
          this.queue = [];
          this.qi = 0;
        }
        return { value: v, done: false };
      }
      if (this.closed) return { value: undefined, done: true };
      if (!this.ended) return this.src.next().then(this.step);
      // One finish step at a time, so that what earlier stages add is
      // handed out before later stages finish.
      if (this.finishing >= n) {
        this.closed = true;
        continue;
      }
      const i = this.finishing++;
      const f = stages[i]!.finish;
      if (f) await this.take(await f.call(stages[i]), null, i);
    }
  }

  /** Handle what stage `i` returned for `cur` (null: a finish step), queueing the results. */
  private async take(res: Emit | Promise<Emit>, cur: Entry | null, i: number, rel?: string): Promise<void> {
    const r = res instanceof Promise ? await res : res;
    if (cur !== null && cur.type === 'file' && this.links !== null) this.links.answered(cur, rel!, r);
    if (r === null) return;
    if (r === cur) return this.push(r, i + 1, rel ?? normPath(r.path));
    if (isList(r)) {
      for (const x of r) await this.push(x, i + 1, normPath(x.path));
      return;
    }
    return this.push(r as Entry, i + 1, normPath((r as Entry).path));
  }

  /** Push `e` through stages[start..], queueing what comes out. */
  private async push(e: Entry, start: number, rel: string): Promise<void> {
    e = this.enter(e, rel);
    const i = this.route(e, rel, start);
    if (i >= 0) return this.take(this.answer, e, i, rel);
    this.queue.push(this.leave(e, rel));
  }

  /** A hard link at a path a stage rewrites becomes the file it links to (links.ts). */
  private enter(e: Entry, rel: string): Entry {
    return e.type === 'hardlink' && this.links !== null && this.links.wants ? this.links.enter(e, rel) : e;
  }

  /** An entry past the last stage: a link to a file a stage took is mended (links.ts). */
  private leave(e: Entry, rel: string): Entry {
    return this.links !== null && this.links.pending ? this.links.leave(e, rel) : e;
  }

  async return(): Promise<IteratorResult<Entry>> {
    this.closed = true;
    this.queue = [];
    await this.src.return?.();
    return { value: undefined, done: true };
  }
}
