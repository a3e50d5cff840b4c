// Where entries go: the safe filesystem writer, an archive writer, or nothing.

import type { Entry } from '../entry.js';
import type { Warning } from '../formats/types.js';

export interface SinkStats {
  entries: number;
  /** Body bytes written. */
  bytes: number;
  /** Entries not written, by reason (e.g. "device-node", "socket"). */
  skipped: Record<string, number>;
}

/**
 * What a sink's write returns when the entry is already written: the
 * pipeline does not await it (an await per entry was garbage per entry).
 */
export const WRITTEN: Promise<void> = Promise.resolve();

export interface Sink {
  /** Write one entry; reads its body. Entries arrive in archive order. May return WRITTEN. */
  write(e: Entry): Promise<void>;
  /**
   * Remove what this run wrote at or below a root-relative path (used by a
   * rule that learns late that a subtree must not be in the image).
   * Returns the number of paths removed.
   */
  removeWritten(relPath: string): Promise<number>;
  /** After the last entry: delayed links, directory metadata, flush. */
  finish(): Promise<SinkStats>;
  /** On failure: stop and remove what this run created. Returns paths that could not be removed. */
  abort(): Promise<string[]>;
}

export type WarnFn = (w: Warning) => void;
