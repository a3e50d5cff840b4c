// Text helpers for the files p2v rewrites: awk-like lines and fields, and
// the Solaris date(1) text used in "# Modified by p2v <date>" trailers.
// Files are handled as latin1 so that every byte survives a rewrite.

import type { RuleContext } from './types.js';

/** Lines as awk reads them: split on "\n"; a final newline ends the last line. */
export function toLines(buf: Buffer): string[] {
  if (buf.length === 0) return [];
  const s = buf.toString('latin1');
  const lines = s.split('\n');
  if (s.endsWith('\n')) lines.pop();
  return lines;
}

/** Lines back to bytes, each ended by "\n" (as awk prints them). */
export function fromLines(lines: readonly string[]): Buffer {
  return Buffer.from(lines.length ? lines.join('\n') + '\n' : '', 'latin1');
}

/** awk's default field split: runs of blanks separate, leading blanks ignored. */
export function fields(line: string): string[] {
  const t = line.trim();
  return t === '' ? [] : t.split(/[ \t\r\f\v]+/);
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p2 = (n: number): string => String(n).padStart(2, '0');

/**
 * The default output of Solaris /usr/bin/date ("%a %b %e %T %Z %Y") for `d`,
 * in UTC so that a run's output does not depend on the host's time zone:
 * "Tue Mar 10 14:05:09 UTC 2009".
 */
export function solarisDate(d: Date): string {
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} UTC ${d.getUTCFullYear()}`;
}

/** The trailer Solaris p2v appends to every file it comments out. */
export function p2vTrailer(ctx: RuleContext): string {
  return `# Modified by p2v ${solarisDate(ctx.date)}`;
}

/** Characters allowed in words written into a shell script unquoted. */
const SHELL_SAFE = /^[A-Za-z0-9_.,+@:\/=-]+$/;
export function shellSafe(s: string): boolean {
  return SHELL_SAFE.test(s);
}
