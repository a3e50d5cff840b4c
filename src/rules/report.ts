// The record of every change p2v made: which rule, which path, what it did.
// Paths and details come from the archive: the text escapes them (D-16), as
// it goes to the administrator's terminal, the install log and the zone.

import { listingName } from '../formats/list.js';

export interface Change {
  rule: string;
  path: string;
  action: string;
  detail?: string;
}

export class Report {
  readonly changes: Change[] = [];
  /** Counts of dropped entries by reason, kept as counts to stay small. */
  readonly dropped: Record<string, number> = {};
  readonly notes: string[] = [];

  add(rule: string, path: string, action: string, detail?: string): void {
    this.changes.push({ rule, path, action, detail });
  }

  drop(reason: string): void {
    this.dropped[reason] = (this.dropped[reason] ?? 0) + 1;
  }

  note(text: string): void {
    this.notes.push(text);
  }

  /** Human-readable text, as saved in var/log/<zone>.p2v.log. */
  toText(): string {
    const lines: string[] = [];
    for (const c of this.changes) lines.push(`${c.rule}: ${listingName(c.path)}: ${c.action}${c.detail ? ` (${listingName(c.detail)})` : ''}`);
    for (const [k, n] of Object.entries(this.dropped)) lines.push(`dropped: ${n} ${k}`);
    // Notes may span lines on purpose; any other control character is escaped.
    for (const n of this.notes) lines.push(`note: ${n.replace(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)}`);
    return lines.join('\n') + (lines.length ? '\n' : '');
  }
}
