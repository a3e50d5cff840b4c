// A sink that writes nothing (inspect): reads every body so that the whole
// image is parsed and checked, and counts.

import type { Entry } from '../entry.js';
import type { Sink, SinkStats } from './types.js';

export class NullSink implements Sink {
  private readonly stats: SinkStats = { entries: 0, bytes: 0, skipped: {} };

  async write(e: Entry): Promise<void> {
    for await (const c of e.body()) this.stats.bytes += c.length;
    this.stats.entries++;
  }

  async removeWritten(): Promise<number> {
    return 0;
  }

  async finish(): Promise<SinkStats> {
    return this.stats;
  }

  async abort(): Promise<string[]> {
    return [];
  }
}
