// Errors that name the entry, its offset and what to do, and carry the
// zoneadm exit code the CLI should return.

import { displayPath } from './entry.js';

/** zoneadm brand hook exit codes. */
export const EXIT = {
  OK: 0,
  /** Bad arguments; nothing was changed. */
  USAGE: 253,
  /** Failed; what this run wrote was removed, the install can be retried. */
  NOTCOMPLETE: 254,
  /** Failed and cleanup could not finish; the zone needs `zoneadm uninstall -F`. */
  FATAL: 255,
} as const;

export interface Where {
  /** Raw (latin1) entry path, when an entry is concerned. */
  entry?: string;
  /** Byte offset in the decoded stream. */
  offset?: number;
  /** Ordinal of the entry. */
  index?: number;
}

/** Malformed, truncated, hostile or unsupported input. */
export class ArchiveError extends Error {
  readonly entry?: string;
  readonly offset?: number;
  readonly index?: number;
  /** What the user can do about it. */
  readonly hint?: string;
  /** A short stable class name for --lenient and JSON events (e.g. "truncated"). */
  readonly kind: string;

  constructor(kind: string, message: string, where: Where = {}, hint?: string) {
    super(formatMessage(message, where, hint));
    this.name = 'ArchiveError';
    this.kind = kind;
    this.entry = where.entry;
    this.offset = where.offset;
    this.index = where.index;
    this.hint = hint;
  }
}

/** The input ended before the format said it would. */
export class TruncatedError extends ArchiveError {
  constructor(message: string, where: Where = {}) {
    super('truncated', message, where, 'the archive is incomplete: check the transfer (size, checksum) and retry');
  }
}

/** Wrong command-line use: exit 253 before anything changes. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

function formatMessage(message: string, where: Where, hint?: string): string {
  const parts: string[] = [];
  if (where.entry !== undefined) parts.push(`entry ${displayPath(where.entry)}`);
  // An entry p2v added (rules/make.ts) has index and offset -1: it is in no archive.
  if (where.index !== undefined && where.index >= 0) parts.push(`#${where.index}`);
  if (where.offset !== undefined && where.offset >= 0) parts.push(`at offset ${where.offset}`);
  else if (where.entry !== undefined && (where.index ?? 0) < 0) parts.push('(added by p2v)');
  let s = parts.length ? `${parts.join(' ')}: ${message}` : message;
  if (hint) s += ` (${hint})`;
  return s;
}

/**
 * The remedy for a safety cap that a genuine archive can trip: the CLI's
 * `--limit NAME=VALUE` (src/cli/limits.ts) raises it. The example is drawn
 * from the limit in force (`current`), so it is above it however it was set.
 */
export function raiseLimit(name: 'entries' | 'meta' | 'ratio' | 'link-targets' | 'held', current: number): string {
  const ratio = name === 'ratio';
  const example = ratio ? `${current * 10} (or ratio=off)` : amountText(current * 4);
  return `${ratio ? 'this looks like a decompression bomb' : 'the archive is damaged or hostile'}; only for an archive you trust, raise the limit with --limit ${name}=${example}`;
}

/** A count as --limit reads it: with a K, M or G suffix (x1024) when it divides evenly. */
function amountText(n: number): string {
  for (const [unit, size] of [['G', 2 ** 30], ['M', 2 ** 20], ['K', 2 ** 10]] as const) if (n % size === 0) return `${n / size}${unit}`;
  return String(n);
}
