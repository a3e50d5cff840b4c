// Readers for the small SVR4 packaging text files the inventory needs:
// pkginfo (4.3), install/depend, INST_RELEASE, etc/release and
// gz-only-packages. Text is handled as latin1 (one char per byte).

import type { InstRelease, PatchRecord } from './types.js';

export interface PatchInfo extends PatchRecord {
  /** Patch numbers (revision removed) named after "Requires:". */
  requires: string[];
}

export interface PkgInfo {
  /** PKG= (empty when absent: the caller knows the directory name). */
  pkg: string;
  /** VERSION= as written. */
  version: string;
  hollow: boolean;
  allZones: boolean;
  thisZone: boolean;
  /** Patch number -> highest installed revision (PATCH_INFO_<num>-<rev>= "Installed: ..."). */
  patches: Map<string, PatchInfo>;
  /** PATCHLIST= tokens. */
  patchlist: string[];
  /** Every key=value pair, after continuation and unquoting (later keys win). */
  values: Map<string, string>;
}

/**
 * Logical lines of a packaging text file: a line ending in "\" continues onto
 * the next one (the backslash and newline are removed, nothing is inserted).
 */
export function logicalLines(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  let open = false;
  for (const line of text.split('\n')) {
    if (line.endsWith('\\')) {
      cur += line.slice(0, -1);
      open = true;
      continue;
    }
    out.push(cur + line);
    cur = '';
    open = false;
  }
  if (open) out.push(cur);
  if (out.length && out[out.length - 1] === '') out.pop();
  return out;
}

function unquote(v: string): string {
  if (v.length >= 2) {
    const q = v[0];
    if ((q === '"' || q === "'") && v[v.length - 1] === q) return v.slice(1, -1);
  }
  return v;
}

/** key=value lines; "#" comments and lines without "=" are ignored; values unquoted. */
export function parseKeyValues(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of logicalLines(text)) {
    if (line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq).trim();
    if (!key) continue;
    m.set(key, unquote(line.slice(eq + 1).replace(/\r$/, '')));
  }
  return m;
}

const PATCH_KEY = /^PATCH_INFO_([0-9A-Za-z]+)-([0-9A-Za-z]+)$/;
const KEYWORDS = new Set(['Installed:', 'From:', 'Obsoletes:', 'Requires:', 'Incompatibles:']);

/** Tokens after `keyword` up to the next keyword, each with its "-rev" removed. */
function patchList(tokens: string[], keyword: string): string[] {
  const i = tokens.indexOf(keyword);
  if (i < 0) return [];
  const out: string[] = [];
  for (let j = i + 1; j < tokens.length && !KEYWORDS.has(tokens[j]!); j++) {
    const num = tokens[j]!.replace(/-.*$/, '');
    if (num && !out.includes(num)) out.push(num);
  }
  return out;
}

function isTrue(v: string | undefined): boolean {
  return v !== undefined && v.trim().toLowerCase() === 'true';
}

/** strtoul-like: leading decimal digits, 0 when none. */
function leadingNumber(s: string): number {
  const m = /^\s*(\d+)/.exec(s);
  return m ? Number(m[1]) : 0;
}

/**
 * The installed patches PATCH_INFO_<num>-<rev>= records give: per number the
 * highest installed revision, leaving out the ids in `skip` (patches backed
 * out on attach, so that a lower installed revision shows again).
 */
export function installedPatches(values: ReadonlyMap<string, string>, skip?: ReadonlySet<string>): Map<string, PatchInfo> {
  const patches = new Map<string, PatchInfo>();
  for (const [key, value] of values) {
    const k = PATCH_KEY.exec(key);
    if (!k) continue;
    const v = value.trimStart();
    // Only installed patches count; backed-out records are skipped.
    if (!v.startsWith('Installed:')) continue;
    const num = k[1]!;
    const rev = k[2]!;
    if (skip?.has(`${num}-${rev}`)) continue;
    const have = patches.get(num);
    if (have && leadingNumber(have.rev) >= leadingNumber(rev)) continue;
    const tokens = v.split(/[\s,]+/).filter(Boolean);
    patches.set(num, { rev, obsoletes: patchList(tokens, 'Obsoletes:'), requires: patchList(tokens, 'Requires:') });
  }
  return patches;
}

export function parsePkginfo(text: string): PkgInfo {
  const values = parseKeyValues(text);
  const patches = installedPatches(values);
  return {
    pkg: (values.get('PKG') ?? '').trim(),
    version: values.get('VERSION') ?? '',
    hollow: isTrue(values.get('SUNW_PKG_HOLLOW')),
    allZones: isTrue(values.get('SUNW_PKG_ALLZONES')),
    thisZone: isTrue(values.get('SUNW_PKG_THISZONE')),
    patches,
    patchlist: (values.get('PATCHLIST') ?? '').split(/\s+/).filter(Boolean),
    values,
  };
}

/** install/depend: package names of "P <pkg> ..." lines, in order, once each. */
export function parseDepend(text: string): string[] {
  const out: string[] = [];
  for (const line of logicalLines(text)) {
    if (!line.startsWith('P ') && !line.startsWith('P\t')) continue;
    const name = line.split(/\s+/)[1];
    if (name && !out.includes(name)) out.push(name);
  }
  return out;
}

/** var/sadm/system/admin/INST_RELEASE. */
export function parseInstRelease(text: string): InstRelease {
  const kv = parseKeyValues(text);
  const r: InstRelease = {};
  for (const k of ['OS', 'VERSION', 'REV'] as const) {
    const v = kv.get(k);
    if (v !== undefined) r[k] = v.trim();
  }
  return r;
}

/** etc/release: its first line, trimmed. */
export function etcReleaseLine(text: string): string {
  const nl = text.indexOf('\n');
  return (nl < 0 ? text : text.slice(0, nl)).trim();
}

/** var/sadm/install/gz-only-packages: one name a line, "#" and blank lines ignored. */
export function parseGzOnly(text: string): Set<string> {
  const s = new Set<string>();
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (t && !t.startsWith('#')) s.add(t.split(/\s+/)[0]!);
  }
  return s;
}
