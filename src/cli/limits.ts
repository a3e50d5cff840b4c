// --limit NAME=VALUE: the safety caps that stop hostile input, raised (or,
// for `bytes`, set) for an archive the administrator trusts. An error that
// hits a cap names the NAME to raise (errors.ts raiseLimit), so a genuine
// image that trips one (a swap file of zeros, a huge ACL) is never a dead end.

import { UsageError } from '../errors.js';
import { DEFAULT_LIMITS, type Limits } from '../formats/types.js';
import type { SinkCaps } from '../sink/fs.js';

export interface CliLimits {
  /** Parser caps (entries, metadata bytes). */
  parse: Limits;
  /** Largest decoded/compressed ratio (Infinity: off); undefined: the decoder's default. */
  maxRatio?: number;
  /** Writer caps (bytes written, symlink target bytes held). */
  sink: Pick<SinkCaps, 'maxBytes' | 'maxLinkTargetBytes' | 'maxHeld'>;
}

/** The option's help, its text starting at column `col` as the command's other options do. */
export function limitUsage(col: number): string {
  const lines = [
    'raise a safety cap, for an archive you trust (repeatable):',
    "entries, meta (bytes of one entry's headers), ratio",
    '(decompression ratio, or off), link-targets (bytes of',
    'symlink targets), held (directories and links waiting',
    'for their metadata), bytes (cap on file data written);',
    'N may end in K, M, G or T (x1024)',
  ];
  const head = '      --limit NAME=N';
  return [head.padEnd(col) + lines[0], ...lines.slice(1).map((l) => ' '.repeat(col) + l)].join('\n');
}

const UNITS: Record<string, number> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

/** "64M", "2GiB", "1000": a positive whole number, units of 1024. */
function amount(name: string, text: string): number {
  const m = /^(\d+)\s*([KMGT]?)(?:i?B)?$/i.exec(text.trim());
  const n = m ? Number(m[1]) * UNITS[m[2]!.toUpperCase()]! : NaN;
  if (!Number.isSafeInteger(n) || n <= 0) throw new UsageError(`--limit ${name}=${text}: expected a positive number, optionally ending in K, M, G or T`);
  return n;
}

/** Where each limit's value goes. */
const SET: Record<string, (l: CliLimits, n: number) => void> = {
  entries: (l, n) => (l.parse.maxEntries = n),
  meta: (l, n) => (l.parse.maxMetaBytes = n),
  ratio: (l, n) => (l.maxRatio = n),
  'link-targets': (l, n) => (l.sink.maxLinkTargetBytes = n),
  held: (l, n) => (l.sink.maxHeld = n),
  bytes: (l, n) => (l.sink.maxBytes = n),
};
const NAMES = Object.keys(SET);

/** The --limit values given (none: the defaults). */
export function parseLimits(specs: readonly string[] = []): CliLimits {
  const out: CliLimits = { parse: { ...DEFAULT_LIMITS }, sink: {} };
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    const name = eq > 0 ? spec.slice(0, eq) : spec;
    const value = eq > 0 ? spec.slice(eq + 1) : '';
    if (eq <= 0 || !value) throw new UsageError(`--limit ${JSON.stringify(spec)}: expected NAME=VALUE, e.g. --limit entries=100M`);
    if (!Object.hasOwn(SET, name)) throw new UsageError(`--limit ${name}: unknown limit; the limits are ${NAMES.slice(0, -1).join(', ')} and ${NAMES.at(-1)}`);
    SET[name]!(out, name === 'ratio' && value === 'off' ? Infinity : amount(name, value));
  }
  return out;
}
