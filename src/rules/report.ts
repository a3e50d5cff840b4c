// The record of every change p2v made: which rule, which path, what it did.

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
    for (const c of this.changes) lines.push(`${c.rule}: ${c.path}: ${c.action}${c.detail ? ` (${c.detail})` : ''}`);
    for (const [k, n] of Object.entries(this.dropped)) lines.push(`dropped: ${n} ${k}`);
    for (const n of this.notes) lines.push(`note: ${n}`);
    return lines.join('\n') + (lines.length ? '\n' : '');
  }
}
