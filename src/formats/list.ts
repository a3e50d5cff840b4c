// One listing line per entry, in the shape `bsdtar -tv` prints:
//   -rw-r--r--  1 1000   1000       19 Oct  3  2012 file1
// mode string (with an ACL marker slot), link count, owner and group (numeric:
// the entry model carries no names), size (major,minor for a device)
// right-aligned so that group and size fill a column, date ("Mon dd hh:mm"
// within six months of now, else "Mon dd  yyyy", local time), name, then
// " link to X" or " -> X".
// Names are printed as bsdtar does: printable UTF-8 as is, other bytes as
// \ooo octal or a C escape, backslash doubled.

import type { Entry } from '../entry.js';

/** Column widths; they grow as wider values are met, as bsdtar's do. Share one across a listing. */
export interface ListingWidths {
  owner: number;
  groupSize: number;
}

export function listingWidths(): ListingWidths {
  return { owner: 6, groupSize: 13 };
}

export interface ListingOptions {
  /** Widths carried from line to line (default: fresh widths for each line). */
  widths?: ListingWidths;
  /** "Now" in seconds, for the recent/old date form (default: the clock). */
  now?: number;
}

const TYPE_CHAR: Record<Entry['type'], string> = {
  file: '-',
  dir: 'd',
  symlink: 'l',
  hardlink: 'h',
  fifo: 'p',
  char: 'c',
  block: 'b',
  socket: 's',
};

export function modeString(e: Entry): string {
  const m = e.mode;
  const rwx = (shift: number, special: number, on: string, off: string) =>
    (m & (4 << shift) ? 'r' : '-') + (m & (2 << shift) ? 'w' : '-') + (m & special ? (m & (1 << shift) ? on : off) : m & (1 << shift) ? 'x' : '-');
  const acl = e.xattrs && Object.keys(e.xattrs).some((k) => /acl/i.test(k)) ? '+' : ' ';
  return TYPE_CHAR[e.type] + rwx(6, 0o4000, 's', 'S') + rwx(3, 0o2000, 's', 'S') + rwx(0, 0o1000, 't', 'T') + acl;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const HALF_YEAR = (365 * 86400) / 2;

export function listingDate(mtime: number, now = Date.now() / 1000): string {
  const d = new Date(mtime * 1000);
  if (Number.isNaN(d.getTime())) return '??? ?? ?????';
  const day = String(d.getDate()).padStart(2, ' ');
  const mon = MONTHS[d.getMonth()]!;
  if (mtime < now - HALF_YEAR || mtime > now + HALF_YEAR) return `${mon} ${day}  ${d.getFullYear()}`;
  return `${mon} ${day} ${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

/** Length of the valid UTF-8 sequence at b[i] and its code point, or null. */
function utf8At(b: Buffer, i: number): [number, number] | null {
  const c = b[i]!;
  let n: number;
  let cp: number;
  if (c < 0x80) return [1, c];
  if (c >= 0xc2 && c <= 0xdf) [n, cp] = [2, c & 0x1f];
  else if (c >= 0xe0 && c <= 0xef) [n, cp] = [3, c & 0x0f];
  else if (c >= 0xf0 && c <= 0xf4) [n, cp] = [4, c & 0x07];
  else return null;
  if (i + n > b.length) return null;
  for (let k = 1; k < n; k++) {
    const x = b[i + k]!;
    if ((x & 0xc0) !== 0x80) return null;
    cp = (cp << 6) | (x & 0x3f);
  }
  if ((n === 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (n === 4 && (cp < 0x10000 || cp > 0x10ffff))) return null;
  return [n, cp];
}

const C_ESCAPES: Record<number, string> = { 7: '\\a', 8: '\\b', 9: '\\t', 10: '\\n', 11: '\\v', 12: '\\f', 13: '\\r', 0x5c: '\\\\' };

/** A raw (latin1) name as bsdtar prints it. */
export function listingName(p: string): string {
  const b = Buffer.from(p, 'latin1');
  let out = '';
  let i = 0;
  while (i < b.length) {
    const u = utf8At(b, i);
    if (u && u[1] >= 0x20 && u[1] !== 0x7f && !(u[1] >= 0x80 && u[1] < 0xa0) && u[1] !== 0x5c) {
      out += b.toString('utf8', i, i + u[0]);
      i += u[0];
      continue;
    }
    const c = b[i]!;
    out += C_ESCAPES[c] ?? `\\${c.toString(8).padStart(3, '0')}`;
    i++;
  }
  return out;
}

export function formatListing(e: Entry, opts: ListingOptions = {}): string {
  const w = opts.widths ?? listingWidths();
  const owner = `${e.uid} `;
  if (owner.length > w.owner) w.owner = owner.length;
  const group = `${e.gid} `;
  const size = e.type === 'char' || e.type === 'block' ? `${e.devMajor ?? 0},${e.devMinor ?? 0}` : String(e.size);
  if (group.length + size.length + 1 > w.groupSize) w.groupSize = group.length + size.length + 1;
  let line = `${modeString(e)} ${e.nlink ?? 0} ${owner.padEnd(w.owner)} ${group}${size.padStart(w.groupSize - group.length)} ${listingDate(e.mtime, opts.now)} ${listingName(e.path)}`;
  if (e.type === 'hardlink' && e.linkTarget !== undefined) line += ` link to ${listingName(e.linkTarget)}`;
  else if (e.type === 'symlink' && e.linkTarget !== undefined) line += ` -> ${listingName(e.linkTarget)}`;
  return line;
}
