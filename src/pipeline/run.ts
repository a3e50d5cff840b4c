// Wire the stages: entries (from an archive or a tree) through the rules into
// a sink, counting as they pass. Data flows one way; the CLI only chooses the
// pieces.

import type { Entry, EntryStream } from '../entry.js';
import type { Rule, RuleContext } from '../rules/types.js';
import { WRITTEN, type Sink, type SinkStats } from '../sink/types.js';

export interface Progress {
  entries: number;
  /** Body bytes passed to the sink. */
  bytes: number;
  current?: Entry;
}

export interface RunOptions {
  entries: AsyncIterable<Entry>;
  sink: Sink;
  rules?: Rule[];
  ruleCtx?: RuleContext;
  /** Called after each entry is written (cheap: called often). */
  onEntry?: (p: Progress) => void;
}

export async function run(opts: RunOptions): Promise<SinkStats> {
  // The rules' modules load only for a run that has rules (install, convert).
  const stream = opts.rules && opts.ruleCtx ? (await import('../rules/index.js')).applyRules(opts.entries, opts.rules, opts.ruleCtx) : opts.entries;
  const p: Progress = { entries: 0, bytes: 0 };
  await drive(stream, opts.sink, (e) => {
    p.current = e;
    p.entries++;
    if (e.type === 'file') p.bytes += e.size;
    opts.onEntry?.(p);
  });
  return opts.sink.finish();
}

/**
 * Write every entry of `stream` to `sink` (not finishing it), calling
 * `after(e)` once each is written. An entry is taken synchronously when the
 * stream has it at hand (entry.ts EntryStream); the source is closed (a
 * decompressor stopped) when the loop fails, as for-await would.
 */
export async function drive(stream: AsyncIterable<Entry>, sink: Sink, after?: (e: Entry) => void): Promise<void> {
  const it = stream[Symbol.asyncIterator]() as EntryStream;
  try {
    for (;;) {
      let e = it.nextNow?.();
      if (e === undefined) {
        const r = await it.next();
        if (r.done) return;
        e = r.value;
      }
      const w = sink.write(e);
      if (w !== WRITTEN) await w;
      after?.(e);
    }
  } catch (err) {
    await it.return?.().catch(() => undefined);
    throw err;
  }
}
