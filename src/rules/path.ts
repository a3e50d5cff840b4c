// One normalisation of archive paths shared by every rule: the raw latin1
// name with any leading "/" or "./", empty and "." components and trailing
// "/" removed ("./etc//vfstab" -> "etc/vfstab", "./" -> ""). ".." is kept as
// it is (the sink rejects it). The result is cached per entry object so that
// chained rules normalise each entry once (the fused runner computes it
// once per entry itself).

import type { Entry } from '../entry.js';

/** Cache slot on the entry object (a WeakMap costs far more per entry). */
const REL = Symbol('zonep2v.rel');
type Cached = Entry & { [REL]?: [string, string] };

/** Normalise a raw archive path for matching (not for writing). */
export function normPath(p: string): string {
  const n = p.length;
  let s = 0;
  // Leading "/", "./" and a lone ".".
  for (;;) {
    const c = p.charCodeAt(s);
    if (c === 47) s++;
    else if (c === 46 && (s + 1 === n || p.charCodeAt(s + 1) === 47)) s += 2;
    else break;
  }
  if (s >= n) return '';
  const r = s ? p.slice(s) : p;
  // Fast path: nothing else to clean.
  if (r.charCodeAt(r.length - 1) !== 47 && r.indexOf('//') < 0 && r.indexOf('/.') < 0) return r;
  const out: string[] = [];
  for (const part of r.split('/')) if (part !== '' && part !== '.') out.push(part);
  return out.join('/');
}

/** The normalised path of an entry, computed once per entry object and raw path. */
export function relPath(e: Entry): string {
  const c = (e as Cached)[REL];
  if (c !== undefined && c[0] === e.path) return c[1];
  const r = normPath(e.path);
  (e as Cached)[REL] = [e.path, r];
  return r;
}

/** True when `rel` is `prefix` or lies below it, on a component boundary. */
export function isAtOrUnder(rel: string, prefix: string): boolean {
  if (prefix === '') return true;
  if (rel.length === prefix.length) return rel === prefix;
  return rel.length > prefix.length && rel.charCodeAt(prefix.length) === 47 && rel.startsWith(prefix);
}

/** True when `rel` lies strictly below `prefix`. */
export function isUnder(rel: string, prefix: string): boolean {
  return rel.length > prefix.length && rel.charCodeAt(prefix.length) === 47 && rel.startsWith(prefix);
}

/** Parent directory of a normalised path ("" for a top-level name). */
export function dirName(rel: string): string {
  const i = rel.lastIndexOf('/');
  return i < 0 ? '' : rel.slice(0, i);
}

/** Last component of a normalised path. */
export function baseName(rel: string): string {
  return rel.slice(rel.lastIndexOf('/') + 1);
}
