// pax extended-header records ("%d %s=%s\n", formats.md 3.3) and what the
// tar parser takes from them. Used for per-entry `x`, Solaris `X` (same body
// format) and global `g` headers.
//
// Values are bytes: names are kept as latin1 strings of the raw bytes (pax
// says UTF-8, Solaris and old writers do not care), binary values such as
// SCHILY.xattr.* are kept as Buffers.

/** What one or more pax headers say about the next entry (or all entries, for `g`). */
export interface PaxAttrs {
  path?: string;
  linkpath?: string;
  size?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  mtimeNsec?: number;
  devMajor?: number;
  devMinor?: number;
  nlink?: number;
  /** Kept format keys: full pax keyword -> raw value. */
  xattrs?: Record<string, Buffer>;
  /** GNU sparse, any version. */
  sparseMajor?: number;
  sparseMinor?: number;
  sparseName?: string;
  sparseRealSize?: number;
  /** Flat [offset, length, offset, length, ...] (GNU 0.0 and 0.1). */
  sparseMap?: number[];
  sparseNumBlocks?: number;
  /** GNU 0.0: an offset waiting for its numbytes. */
  sparseOffsetPending?: number;
  /** SUN.holesdata, raw. */
  holesdata?: string;
}

/** Severity of a problem with one record. */
export const WARN = 0;
/** Fatal in strict mode, a warning in lenient mode. */
export const STRICT = 1;
/** Always fatal: the value decides how many bytes follow (framing). */
export const FATAL = 2;
export type PaxProblem = (kind: string, message: string, level: typeof WARN | typeof STRICT | typeof FATAL) => void;

/**
 * Split a pax body into records and hand each to `fn` as byte ranges of
 * `body`: keyword [k0, k1), value [v0, v1). Returns null when the body is
 * well formed, or a description of the first malformed record (records
 * before it were delivered). The body may end in NUL padding. Ranges, not
 * strings and views: an archive written by GNU tar has three records per
 * entry, and making them was a third of the pax parser's garbage.
 */
export function forEachPaxRecord(body: Buffer, fn: (body: Buffer, k0: number, k1: number, v0: number, v1: number) => void): string | null {
  const n = body.length;
  let p = 0;
  while (p < n) {
    if (body[p] === 0) {
      for (let i = p; i < n; i++) if (body[i] !== 0) return `junk after NUL padding at byte ${p}`;
      return null;
    }
    let q = p;
    let len = 0;
    while (q < n && q - p < 16) {
      const c = body[q]!;
      if (c < 0x30 || c > 0x39) break;
      len = len * 10 + (c - 0x30);
      q++;
    }
    if (q === p) return `record at byte ${p} does not start with a length`;
    if (q >= n || body[q] !== 0x20) return `record at byte ${p}: no space after the length`;
    // The smallest record is "<len> k=\n".
    if (len < q - p + 4) return `record at byte ${p}: length ${len} is too short`;
    const end = p + len;
    if (end > n) return `record at byte ${p}: length ${len} runs past the end of the header (${n} bytes)`;
    if (body[end - 1] !== 0x0a) return `record at byte ${p}: length ${len} does not end at a newline`;
    const eq = body.indexOf(0x3d, q + 1);
    if (eq < 0 || eq >= end - 1) return `record at byte ${p}: no '=' after the keyword`;
    fn(body, q + 1, eq, eq + 1, end - 1);
    p = end;
  }
  return null;
}

const MAX_TIME = 8.64e12; // JS Date range, in seconds

/** A pax time: seconds, nanoseconds, and what parsing noticed. */
export interface PaxTime {
  sec: number;
  nsec: number;
  junk: boolean;
  clamped: boolean;
}

/**
 * Parse a pax decimal time "[-]sec[.frac]" from bytes [p, end) of `b`;
 * digits past the ninth decimal are dropped, junk after the number is
 * reported, not fatal. Null when it does not start with a number.
 */
export function parsePaxTime(b: Uint8Array, p: number, end: number): PaxTime | null {
  const neg = p < end && b[p] === 0x2d;
  if (neg) p++;
  const digits = p;
  let sec = 0;
  for (; p < end; p++) {
    const c = b[p]! - 0x30;
    if (c < 0 || c > 9) break;
    sec = sec * 10 + c;
  }
  if (p === digits) return null;
  let nsec = 0;
  if (p < end && b[p] === 0x2e) {
    let scale = 1e8;
    for (p++; p < end; p++) {
      const c = b[p]! - 0x30;
      if (c < 0 || c > 9) break;
      if (scale >= 1) {
        nsec += c * scale;
        scale /= 10;
      }
    }
  }
  let clamped = false;
  if (!(sec <= MAX_TIME)) {
    sec = MAX_TIME;
    nsec = 0;
    clamped = true;
  }
  if (neg) {
    if (nsec > 0) {
      sec = -sec - 1;
      nsec = 1e9 - nsec;
    } else sec = -sec;
  }
  return { sec: sec === 0 ? 0 : sec, nsec, junk: p !== end, clamped };
}

function parseDec(s: string): number | null {
  if (!/^\d{1,16}$/.test(s)) return null;
  const v = Number(s);
  return Number.isSafeInteger(v) ? v : null;
}

/** Cut a name value at its first NUL (security A7). */
function nameValue(v: Buffer, problem: PaxProblem, key: string): string {
  const z = v.indexOf(0);
  if (z >= 0) {
    problem('nul-in-name', `pax ${key} contains a NUL byte; cut there`, WARN);
    return v.toString('latin1', 0, z);
  }
  return v.toString('latin1');
}

const KEEP_PREFIXES = ['SCHILY.xattr.', 'LIBARCHIVE.xattr.', 'SCHILY.acl.', 'RHT.', 'security.', 'SUN.'];
// GNU tar's bookkeeping: a directory's listing in incremental archives and
// the volume label; neither changes what is extracted. GNU.volume.size and
// .offset are not here: they mark a file split across volumes, which is
// worth a warning.
const IGNORED = new Set([
  'charset', 'comment', 'hdrcharset', 'uname', 'gname',
  'SCHILY.dev', 'SCHILY.ino', 'SCHILY.filetype', 'LIBARCHIVE.creationtime', 'LIBARCHIVE.symlinktype',
  'GNU.dumpdir', 'GNU.volume.label',
]);

/**
 * Apply the record with keyword [k0, k1) and value [v0, v1) of `body` to
 * `a`. `global` marks a `g` header, from which path, linkpath, size and
 * sparse keys are never taken (security E7). Returns false for an unknown
 * keyword (the caller may warn once). The time keywords (most records GNU
 * tar writes) are told from their bytes, with no string made: atime and
 * ctime are not restored.
 */
export function applyPaxRecord(a: PaxAttrs, body: Buffer, k0: number, k1: number, v0: number, v1: number, global: boolean, problem: PaxProblem): boolean {
  if (k1 - k0 === 5 && body[k0 + 1] === 0x74 && body[k0 + 2] === 0x69 && body[k0 + 3] === 0x6d && body[k0 + 4] === 0x65) {
    const c = body[k0];
    if (c === 0x61 || c === 0x63) return true; // atime, ctime
    if (c === 0x6d) return applyMtime(a, body, v0, v1, problem);
  }
  return applyNamedRecord(a, body.toString('latin1', k0, k1), body.subarray(v0, v1), global, problem);
}

function applyMtime(a: PaxAttrs, body: Buffer, v0: number, v1: number, problem: PaxProblem): boolean {
  if (v0 === v1) {
    delete a.mtime;
    delete a.mtimeNsec;
    return true;
  }
  const t = parsePaxTime(body, v0, v1);
  if (!t) {
    problem('bad-pax-value', `pax mtime "${shownValue(body, v0, v1)}" is not a number`, STRICT);
    return true;
  }
  if (t.junk) problem('pax-time-junk', `pax mtime "${shownValue(body, v0, v1)}" has junk after the number; junk ignored`, WARN);
  if (t.clamped) problem('time-clamped', `pax mtime "${shownValue(body, v0, v1)}" is out of range; clamped`, WARN);
  a.mtime = t.sec;
  a.mtimeNsec = t.nsec;
  return true;
}

/** The start of a value, for a message. */
function shownValue(body: Buffer, v0: number, v1: number): string {
  return body.toString('latin1', v0, Math.min(v1, v0 + 40));
}

/** Every other keyword, by name. */
function applyNamedRecord(a: PaxAttrs, key: string, v: Buffer, global: boolean, problem: PaxProblem): boolean {
  const s = () => v.toString('latin1');
  const empty = v.length === 0;
  switch (key) {
    case 'path':
    case 'linkpath':
      if (global) {
        problem('pax-global-ignored', `global pax header keyword "${key}" ignored`, WARN);
        return true;
      }
      if (empty) delete a[key];
      else a[key] = nameValue(v, problem, key);
      return true;
    case 'size': {
      if (global) {
        problem('pax-global-ignored', 'global pax header keyword "size" ignored', WARN);
        return true;
      }
      if (empty) { delete a.size; return true; }
      const n = parseDec(s());
      if (n === null) {
        const shown = s().slice(0, 40);
        const msg = /^\d+$/.test(s())
          ? `pax size "${shown}" is out of range (over ${Number.MAX_SAFE_INTEGER} bytes)`
          : `pax size "${shown}" is not a non-negative decimal number${s().startsWith('-') ? ' (size is negative)' : ''}`;
        problem('bad-pax-value', msg, FATAL);
        return true;
      }
      a.size = n;
      return true;
    }
    case 'uid':
    case 'gid':
    case 'SCHILY.nlink':
    case 'SUN.devmajor':
    case 'SUN.devminor':
    case 'SCHILY.devmajor':
    case 'SCHILY.devminor': {
      const field = key === 'uid' || key === 'gid' ? key : key === 'SCHILY.nlink' ? 'nlink' : key.endsWith('major') ? 'devMajor' : 'devMinor';
      if (empty) { delete a[field]; return true; }
      const n = parseDec(s());
      if (n === null) {
        problem('bad-pax-value', `pax ${key} "${s().slice(0, 40)}" is not a non-negative decimal number`, STRICT);
        return true;
      }
      a[field] = n;
      return true;
    }
    case 'SUN.holesdata':
      if (global) return true;
      a.holesdata = s();
      return true;
  }
  if (key.startsWith('GNU.sparse.')) {
    if (global) {
      problem('pax-global-ignored', `global pax header keyword "${key}" ignored`, WARN);
      return true;
    }
    const sub = key.slice(11);
    if (sub === 'name') {
      a.sparseName = nameValue(v, problem, key);
      return true;
    }
    if (sub === 'map') {
      const parts = s().split(',');
      const map: number[] = [];
      for (const p of parts) {
        const n = parseDec(p);
        if (n === null) {
          problem('bad-sparse-map', `GNU.sparse.map has a bad number "${p.slice(0, 20)}"`, FATAL);
          return true;
        }
        map.push(n);
      }
      if (map.length % 2) problem('bad-sparse-map', 'GNU.sparse.map has an odd number of values', FATAL);
      a.sparseMap = map;
      return true;
    }
    const n = parseDec(s());
    if (n === null) {
      problem('bad-sparse-map', `${key} "${s().slice(0, 40)}" is not a non-negative decimal number`, FATAL);
      return true;
    }
    switch (sub) {
      case 'major': a.sparseMajor = n; return true;
      case 'minor': a.sparseMinor = n; return true;
      case 'size':
      case 'realsize': a.sparseRealSize = n; return true;
      case 'numblocks': a.sparseNumBlocks = n; a.sparseMap ??= []; return true;
      case 'offset':
        if (a.sparseOffsetPending !== undefined) problem('bad-sparse-map', 'GNU.sparse.offset without its numbytes', FATAL);
        a.sparseOffsetPending = n;
        return true;
      case 'numbytes':
        if (a.sparseOffsetPending === undefined) {
          problem('bad-sparse-map', 'GNU.sparse.numbytes without an offset', FATAL);
          return true;
        }
        (a.sparseMap ??= []).push(a.sparseOffsetPending, n);
        delete a.sparseOffsetPending;
        return true;
    }
    return false;
  }
  if (IGNORED.has(key)) return true;
  if (key === 'SCHILY.fflags' || KEEP_PREFIXES.some((p) => key.startsWith(p))) {
    if (global) {
      problem('pax-global-ignored', `global pax header keyword "${key}" ignored`, WARN);
      return true;
    }
    (a.xattrs ??= {})[key] = Buffer.from(v);
    return true;
  }
  return false;
}
