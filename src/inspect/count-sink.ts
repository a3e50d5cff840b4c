// inspect's sink: writes nothing, like NullSink (every body is read, so the
// whole image is parsed and checked), and counts what an install would
// write. removeWritten (the nested-zones rule, for zonepaths that passed
// before etc/zones/index) removes nothing but answers how many written
// paths an install would remove, and takes them off the counts.
//
// Memory: a count per directory (not per entry), plus the names of the
// shallow entries (depth <= 3, e.g. etc/zones/<zone>.xml), which are few;
// and the shadow tree (shadow-tree.ts), which checks each entry as install's
// filesystem sink would and fails where it would fail.

import type { Entry } from '../entry.js';
import { isAtOrUnder, normPath } from '../rules/path.js';
import { NullSink } from '../sink/null.js';
import { ShadowTree, type ShadowOptions } from './shadow-tree.js';
import type { Sink, SinkStats } from '../sink/types.js';

const SHALLOW = 3;

export interface CountStats extends SinkStats {
  /** Entries an install would write, by type. */
  byType: Record<string, number>;
  /** Paths removeWritten took back (what an install would remove late). */
  removedLate: number;
}

export class CountSink implements Sink {
  private readonly inner = new NullSink();
  private readonly shadow: ShadowTree;
  /** The error the shadow tree raised: where an install would fail writing, not reading. */
  failure?: Error;
  private readonly byType: Record<string, number> = {};
  /** Directory key -> entries written directly in it. */
  private readonly perDir = new Map<string, number>();
  /** Directories written (or implied). */
  private readonly dirs = new Set<string>();
  /** Shallow non-directory entries written. */
  private readonly shallow = new Set<string>();
  private removed = 0;
  private entries = 0;

  constructor(opts: ShadowOptions = {}) {
    this.shadow = new ShadowTree(opts);
  }

  async write(e: Entry): Promise<void> {
    let kept: boolean;
    try {
      kept = this.shadow.write(e);
    } catch (err) {
      this.failure = err as Error;
      throw err;
    }
    if (!kept) return;
    await this.inner.write(e);
    this.entries++;
    this.byType[e.type] = (this.byType[e.type] ?? 0) + 1;
    const key = normPath(e.path);
    if (key === '') return;
    const slash = key.lastIndexOf('/');
    const parent = slash < 0 ? '' : key.slice(0, slash);
    this.perDir.set(parent, (this.perDir.get(parent) ?? 0) + 1);
    if (e.type === 'dir') this.dirs.add(key);
    else if (key.split('/').length <= SHALLOW) this.shallow.add(key);
  }

  async removeWritten(relPath: string): Promise<number> {
    const rel = normPath(relPath);
    this.shadow.remove(rel);
    let n = 0;
    // Everything below: the entries written directly in each directory at or under rel.
    for (const [d, k] of [...this.perDir]) {
      if (!isAtOrUnder(d, rel)) continue;
      n += k;
      this.perDir.delete(d);
    }
    // rel itself, counted in its parent's tally.
    if (rel !== '' && (this.dirs.has(rel) || this.shallow.has(rel))) {
      n++;
      const slash = rel.lastIndexOf('/');
      const parent = slash < 0 ? '' : rel.slice(0, slash);
      const left = (this.perDir.get(parent) ?? 0) - 1;
      if (left > 0) this.perDir.set(parent, left);
      else this.perDir.delete(parent);
    }
    for (const d of [...this.dirs]) if (isAtOrUnder(d, rel)) this.dirs.delete(d);
    for (const x of [...this.shallow]) if (isAtOrUnder(x, rel)) this.shallow.delete(x);
    this.removed += n;
    return n;
  }

  async finish(): Promise<CountStats> {
    const s = await this.inner.finish();
    return { ...s, entries: this.entries - this.removed, byType: { ...this.byType }, removedLate: this.removed };
  }

  async abort(): Promise<string[]> {
    return this.inner.abort();
  }
}
