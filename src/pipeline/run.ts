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
  const it = stream[Symbol.asyncIterator]() as EntryStream;
  try {
    for (;;) {
      // Synchronously when the stream has the entry at hand (entry.ts EntryStream).
      let e = it.nextNow?.();
      if (e === undefined) {
        const r = await it.next();
        if (r.done) break;
        e = r.value;
      }
      p.current = e;
      const w = opts.sink.write(e);
      if (w !== WRITTEN) await w;
      p.entries++;
      if (e.type === 'file') p.bytes += e.size;
      opts.onEntry?.(p);
    }
  } catch (err) {
    // As for-await does: the source is closed (a decompressor stopped) when the loop fails.
    await it.return?.().catch(() => undefined);
    throw err;
  }
  return opts.sink.finish();
}
