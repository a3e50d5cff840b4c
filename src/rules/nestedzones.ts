// Nested zones (solaris-p2v.md 3.7, and the proposal: "Any zones installed on
// the original system will be uninstalled and deleted from the image").
//
// etc/zones/index lines are `name:state:zonepath[:uuid...]` (":" inside a
// field escaped as "\:"), "#" lines are comments. For every non-global zone:
// - its line is removed from the index (comments, blank lines and the global
//   line are kept; a missing global line is not added);
// - etc/zones/<name>.xml is dropped;
// - its zonepath subtree is dropped while streaming, whatever the zone's
//   state: zones do not nest, and a zone's data left in the image (even of a
//   zone now only `configured`) is unusable there. Only zonepaths that are
//   unsafe to remove (/, relative, a top-level system directory) are kept.
// Entries that passed before the index was seen are removed at the end with
// ctx.removeWritten: the rule notes the directories that passed until then
// (for a file its parent, for a directory itself), so that a zonepath is
// removed only when something was written at or below it.
// When the context carries the index already (ctx.zoneIndex: convert reads
// it in a first pass over a file, as streamed output cannot be taken back),
// the zonepaths and configurations are dropped from the first entry on and
// nothing is left to remove late.

import { hold, SMALL_CAP, withBody } from './make.js';
import { isAtOrUnder, normPath } from './path.js';
import { defineRule } from './stage.js';
import { fromLines, toLines } from './text.js';
import type { Entry } from '../entry.js';

export const NESTED_ZONES = 'nested-zones';
export const ZONE_INDEX = 'etc/zones/index';

export interface IndexZone {
  name: string;
  state: string;
  /** As written in the index (absolute on the original system). */
  zonepath: string;
  line: number;
}

/** Split one index line on unescaped ":" and unescape "\:" and "\\". */
export function splitIndexLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === '\\' && i + 1 < line.length) {
      cur += line[++i];
    } else if (c === ':') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

/** Parse an index: the non-global zones, and the lines to keep. */
export function parseIndex(lines: readonly string[]): { zones: IndexZone[]; keep: string[] } {
  const zones: IndexZone[] = [];
  const keep: string[] = [];
  lines.forEach((line, n) => {
    const f = splitIndexLine(line);
    const name = (f[0] ?? '').trim();
    if (name === '' && line.trim() === '') keep.push(line);
    else if (name.startsWith('#') || name === 'global') keep.push(line);
    else zones.push({ name, state: (f[1] ?? '').trim(), zonepath: (f[2] ?? '').trim(), line: n + 1 });
  });
  return { zones, keep };
}

/** Top-level directories a zonepath may never be (nor contain): the image itself. */
const SYSTEM_DIRS = new Set(['bin', 'dev', 'devices', 'etc', 'export', 'home', 'kernel', 'lib', 'mnt', 'opt', 'platform', 'proc', 'sbin', 'system', 'tmp', 'usr', 'var']);

/** Why a zonepath must not be removed from the image, or null when it may. */
export function unsafeZonepath(zp: string, rel: string): string | null {
  if (!zp.startsWith('/')) return 'zonepath is not absolute';
  if (rel === '') return 'zonepath is the root';
  const parts = rel.split('/');
  if (parts.includes('..')) return 'zonepath contains ".."';
  if (parts.length === 1 && SYSTEM_DIRS.has(parts[0]!)) return 'zonepath is a system directory';
  return null;
}

/** The normalised zonepaths an index's zones give to drop (unsafe and empty ones left out), outer ones only. */
export function zonepathsToDrop(zones: readonly IndexZone[]): string[] {
  const drop: string[] = [];
  for (const z of zones) {
    if (z.zonepath === '') continue;
    const zrel = normPath(z.zonepath);
    if (unsafeZonepath(z.zonepath, zrel) === null) drop.push(zrel);
  }
  return drop.filter((p, i) => !drop.some((q, j) => j !== i && isAtOrUnder(p, q) && (p !== q || j < i)));
}

/** Cap on the directories remembered before the index is seen (then: remove every zonepath). */
export const PREPASS_CAP = 500_000;

/** The rule, with the cap on remembered directories adjustable (tests). */
export const nestedZones = (prepassCap = PREPASS_CAP) => defineRule(NESTED_ZONES, (ctx) => {
  const report = ctx.report;
  let indexSeen = false;
  /** Normalised zonepaths whose subtrees are dropped. */
  let drop: string[] = [];
  /** Zone names whose etc/zones/<name>.xml is dropped. */
  let xmlDrop = new Set<string>();
  /** Before the index: directories at or below which entries passed. */
  let passed: Set<string> | null = new Set();
  let lastDir = '\u0000';
  let overflow = false;
  /** etc/zones/*.xml seen before the index (name -> path). */
  const xmlPassed = new Map<string, string>();
  // Pre-seeded (ctx.zoneIndex, from a first pass over the input): the
  // zonepaths are dropped from the first entry on, so nothing is removed late.
  let early: { drop: string[]; xml: Set<string> } | null = null;
  if (ctx.zoneIndex) {
    const { zones } = parseIndex(toLines(ctx.zoneIndex));
    if (zones.length) early = { drop: zonepathsToDrop(zones), xml: new Set(zones.map((z) => z.name)) };
  }

  /** Drop `e` when it lies in a removed zonepath or is a removed zone's configuration. */
  function nested(e: Entry, rel: string, zps: readonly string[], xmls: ReadonlySet<string>): boolean {
    if (zps.length !== 0) {
      for (const zp of zps) {
        if (isAtOrUnder(rel, zp)) {
          report.drop('nested zone');
          return true;
        }
      }
      if (e.type === 'hardlink' && e.linkTarget !== undefined) {
        const t = normPath(e.linkTarget);
        if (zps.some((zp) => isAtOrUnder(t, zp))) {
          report.drop('hard link into a nested zone');
          return true;
        }
      }
    }
    if (xmls.size !== 0 && rel.startsWith('etc/zones/') && rel.endsWith('.xml') && rel.indexOf('/', 10) < 0) {
      const name = rel.slice(10, -4);
      if (xmls.has(name)) {
        report.add(NESTED_ZONES, rel, 'deleted', `configuration of removed zone ${name}`);
        return true;
      }
    }
    return false;
  }

  function notePassed(e: Entry, rel: string): void {
    if (!passed) return;
    let d: string;
    if (e.type === 'dir') d = rel;
    else {
      // Consecutive entries usually share a directory: skip the slice then.
      if (rel.startsWith(lastDir) && rel.charCodeAt(lastDir.length) === 47 && rel.indexOf('/', lastDir.length + 1) < 0) return;
      const i = rel.lastIndexOf('/');
      d = i < 0 ? '' : rel.slice(0, i);
      lastDir = i < 0 ? '\u0000' : d;
    }
    if (passed.size >= prepassCap) {
      overflow = true;
      passed = null;
      return;
    }
    passed.add(d);
  }

  async function readIndex(e: Entry): Promise<Entry> {
    if (e.type !== 'file') {
      report.add(NESTED_ZONES, ZONE_INDEX, 'not changed', `Invalid '/etc/zones/index' file within the zone (${e.type})`);
      return e;
    }
    const h = await hold(e, SMALL_CAP);
    if (!h) {
      report.add(NESTED_ZONES, ZONE_INDEX, 'not changed', `over ${SMALL_CAP} bytes`);
      return e;
    }
    const lines = toLines(h.buf);
    const { zones, keep } = parseIndex(lines);
    if (zones.length === 0) return h.entry;
    const names: string[] = [];
    for (const z of zones) {
      xmlDrop.add(z.name);
      names.push(z.name);
      const zrel = normPath(z.zonepath);
      let detail = `${z.name} (${z.state}) at ${z.zonepath || '(no zonepath)'}`;
      if (z.zonepath === '') {
        detail += ': no zonepath';
      } else {
        const bad = unsafeZonepath(z.zonepath, zrel);
        if (bad) {
          detail += `: zonepath kept, ${bad}`;
        } else {
          drop.push(zrel);
          detail += ': zonepath deleted';
        }
      }
      report.add(NESTED_ZONES, ZONE_INDEX, 'removed zone', detail);
    }
    report.note(`The following zones in this image will be unusable and were removed: ${names.join(' ')}`);
    // A zonepath inside another is already covered by the outer one.
    drop = zonepathsToDrop(zones);
    report.add(NESTED_ZONES, ZONE_INDEX, 'rewritten', `kept ${keep.length} of ${lines.length} lines`);
    return withBody(h.entry, fromLines(keep));
  }

  return {
    wantsFile: (rel) => rel === ZONE_INDEX,
    entry(e, rel) {
      if (!indexSeen) {
        if (rel === ZONE_INDEX) {
          indexSeen = true;
          return readIndex(e);
        }
        if (early && nested(e, rel, early.drop, early.xml)) return null;
        if (rel.startsWith('etc/zones/') && rel.endsWith('.xml') && rel.indexOf('/', 10) < 0) {
          xmlPassed.set(rel.slice(10, -4), rel);
        }
        notePassed(e, rel);
        return e;
      }
      if ((drop.length !== 0 || xmlDrop.size !== 0) && nested(e, rel, drop, xmlDrop)) return null;
      if (rel === ZONE_INDEX) {
        report.add(NESTED_ZONES, rel, 'dropped', 'second copy of the index in the archive');
        return null;
      }
      return e;
    },
    async finish() {
      if (!indexSeen) return null;
      for (const zp of drop) {
        let hit = overflow;
        if (!hit && passed) for (const d of passed) if (isAtOrUnder(d, zp)) { hit = true; break; }
        if (hit) {
          const n = await ctx.removeWritten(zp);
          report.add(NESTED_ZONES, zp, 'deleted', `zonepath written before the index was seen (${n} paths removed)`);
        }
      }
      for (const [name, path] of xmlPassed) {
        if (!xmlDrop.has(name)) continue;
        const n = await ctx.removeWritten(path);
        report.add(NESTED_ZONES, path, 'deleted', `configuration of removed zone ${name}, written before the index was seen (${n} paths removed)`);
      }
      passed = null;
      return null;
    },
  };
});

export const nestedZonesRule = nestedZones();
