// SVR4 package VERSION and patch revision ordering, as update on attach
// compares them (solaris-p2v.md 4.5).

export type Cmp = -1 | 0 | 1;

function sign(n: number): Cmp {
  return n < 0 ? -1 : n > 0 ? 1 : 0;
}

/** C strcmp on the strings' code units (bytes, for the latin1 text we read). */
export function strcmp(a: string, b: string): Cmp {
  return a < b ? -1 : a > b ? 1 : 0;
}

const DIGITS = /^[0-9]*$/;

/** Compare two all-digit fields as integers of any length ("" is 0). */
function numCompare(a: string, b: string): Cmp {
  const x = a.replace(/^0+/, '');
  const y = b.replace(/^0+/, '');
  if (x.length !== y.length) return sign(x.length - y.length);
  return strcmp(x, y);
}

/**
 * Field-by-field compare at ".": all-digit fields (empty = 0) compare as
 * integers; the first pair where either field is not all digits decides by
 * strcmp of those two fields alone, and ends the comparison (so equal
 * non-numeric fields make the whole result equal). When every compared
 * field is equal, the one with more fields is greater.
 */
export function fieldCompare(a: string, b: string): Cmp {
  const fa = a.split('.');
  const fb = b.split('.');
  const n = Math.min(fa.length, fb.length);
  for (let i = 0; i < n; i++) {
    const x = fa[i]!;
    const y = fb[i]!;
    if (!DIGITS.test(x) || !DIGITS.test(y)) return strcmp(x, y);
    const c = numCompare(x, y);
    if (c !== 0) return c;
  }
  return sign(fa.length - fb.length);
}

/** Package VERSION order: primary (before the first ",") then the rev part. */
export function pkgVersionCompare(a: string, b: string): Cmp {
  const ca = a.indexOf(',');
  const cb = b.indexOf(',');
  const pa = ca < 0 ? a : a.slice(0, ca);
  const pb = cb < 0 ? b : b.slice(0, cb);
  const c = fieldCompare(pa, pb);
  if (c !== 0) return c;
  if (ca < 0 && cb < 0) return 0;
  if (ca < 0) return -1;
  if (cb < 0) return 1;
  const ra = a.slice(ca + 1);
  const rb = b.slice(cb + 1);
  if (ra.startsWith('REV=') && rb.startsWith('REV=')) return fieldCompare(ra.slice(4), rb.slice(4));
  return strcmp(ra, rb);
}

/** Patch numbers compare numerically. */
export function patchNumCompare(a: string, b: string): Cmp {
  return DIGITS.test(a) && DIGITS.test(b) ? numCompare(a, b) : strcmp(a, b);
}

/**
 * Patch revisions compare with strcmp; Solaris asserts they have the same
 * width. Where the widths differ (which Solaris would not accept) we fall
 * back to a numeric compare rather than let "9" beat "10".
 */
export function patchRevCompare(a: string, b: string): Cmp {
  if (a.length !== b.length && DIGITS.test(a) && DIGITS.test(b)) return numCompare(a, b);
  return strcmp(a, b);
}
