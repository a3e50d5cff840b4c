// The package inventory (solaris-p2v.md 4.3): gathered in flight from the
// image's var/sadm/pkg/*/pkginfo by the 'inventory' rule, or read from a
// root directory (the host), with the same selection on both sides.
//
// Selection, as sw_inventory does it for a whole-root zone: skip the packages
// named in var/sadm/install/gz-only-packages and those with
// SUNW_PKG_THISZONE=true; keep SUNW_PKG_ALLZONES=true packages, each preceded
// by its install/depend "P" dependencies (recursively, existing ones, once).
// Simplified: the "delivers a directory into an inherit-pkg-dir" criterion
// (which needs var/sadm/install/contents) is not applied, since p2v refuses
// zones that have inherit-pkg-dir resources (checkWholeRoot).
// Patches obsoleted by any kept patch are then left out, as Solaris does.

import fsSync from 'node:fs';
import path from 'node:path';
import { bufferBody, copyEntry, readBody, displayPath, type Entry } from '../entry.js';
import type { RuleContext } from '../rules/types.js';
import { runStages, type Emit, type Stage, type StageRule } from '../rules/stage.js';
import { etcReleaseLine, parseDepend, parseGzOnly, parseInstRelease, parsePkginfo, type PkgInfo } from './pkginfo.js';
import { imagePath } from './paths.js';
import type { Inventory, PackageRecord, PatchRecord, Release } from './types.js';

export { inventoryFromManifest } from './manifest.js';

/** Largest packaging file read (pkginfo with many PATCH_INFO lines stays far below). */
export const INVENTORY_FILE_CAP = 1024 * 1024;

/** What the packaging files of one root said, before selection. */
export interface RawInventory {
  /** var/sadm/pkg/<dir> name -> its pkginfo. */
  pkginfo: Map<string, PkgInfo>;
  /** var/sadm/pkg/<dir> name -> install/depend "P" names. */
  depends: Map<string, string[]>;
  gzOnly: Set<string>;
  release: Release;
  /** "<pkg> <patch id>" for each var/sadm/pkg/<pkg>/save/<patch id>/ holding backout data (image side). */
  backoutData: Set<string>;
}

export function emptyRaw(): RawInventory {
  return { pkginfo: new Map(), depends: new Map(), gzOnly: new Set(), release: {}, backoutData: new Set() };
}

function record(name: string, info: PkgInfo): PackageRecord {
  const patches = new Map<string, PatchRecord>();
  for (const [num, p] of info.patches) patches.set(num, { rev: p.rev, obsoletes: [...p.obsoletes] });
  return {
    name,
    version: info.version,
    patches,
    hollow: info.hollow,
    allZones: info.allZones,
    thisZone: info.thisZone,
  };
}

/** Apply the 4.3 selection to what one root's packaging files said. */
export function buildInventory(raw: RawInventory): Inventory {
  const packages = new Map<string, PackageRecord>();
  const visited = new Set<string>();
  const add = (name: string): void => {
    if (visited.has(name)) return;
    const info = raw.pkginfo.get(name);
    if (!info) return;
    visited.add(name);
    for (const dep of raw.depends.get(name) ?? []) add(dep);
    packages.set(name, record(name, info));
  };
  const names = [...raw.pkginfo.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const name of names) {
    const info = raw.pkginfo.get(name)!;
    if (raw.gzOnly.has(name) || info.thisZone) continue;
    if (info.allZones) add(name);
  }
  const obsolete = new Set<string>();
  for (const p of packages.values()) for (const patch of p.patches.values()) for (const o of patch.obsoletes) obsolete.add(o);
  for (const p of packages.values()) for (const num of [...p.patches.keys()]) if (obsolete.has(num)) p.patches.delete(num);
  const inv: Inventory = { packages };
  if (raw.release.instRelease || raw.release.etcRelease !== undefined) inv.release = { ...raw.release };
  return inv;
}

const PKGINFO = /^var\/sadm\/pkg\/([^/]+)\/pkginfo$/;
const DEPEND = /^var\/sadm\/pkg\/([^/]+)\/install\/depend$/;
const INST_RELEASE = 'var/sadm/system/admin/INST_RELEASE';
const ETC_RELEASE = 'etc/release';
const GZ_ONLY = 'var/sadm/install/gz-only-packages';
/** Backout data patchrm needs (attach -b, solaris-p2v.md 4.2): noted, never read. */
const BACKOUT_DATA = /^var\/sadm\/pkg\/([^/]+)\/save\/([^/]+)\/(?:undo|undo\.Z|obsolete|obsolete\.Z)$/;

/** Which packaging file (if any) an image-relative path is. */
function classify(p: string): ((raw: RawInventory, text: string) => void) | undefined {
  if (p === ETC_RELEASE) return (raw, t) => void (raw.release.etcRelease = etcReleaseLine(t));
  if (!p.startsWith('var/sadm/')) return undefined;
  if (p === INST_RELEASE) return (raw, t) => void (raw.release.instRelease = parseInstRelease(t));
  if (p === GZ_ONLY) return (raw, t) => void (raw.gzOnly = parseGzOnly(t));
  let m = PKGINFO.exec(p);
  if (m) {
    const name = m[1]!;
    return (raw, t) => void raw.pkginfo.set(name, parsePkginfo(t));
  }
  m = DEPEND.exec(p);
  if (m) {
    const name = m[1]!;
    return (raw, t) => void raw.depends.set(name, parseDepend(t));
  }
  return undefined;
}

export interface InventoryRuleOptions {
  /** Largest body read; bigger files pass through unread (with a report note). */
  cap?: number;
  /** Path prefix of the image root inside the archive (e.g. "root"), if any. */
  prefix?: string;
}

/**
 * Rule 'inventory': passes every entry through unchanged, reading (bounded)
 * the packaging files on the way and handing their bytes on downstream.
 */
export class InventoryRule implements StageRule {
  readonly name = 'inventory';
  readonly raw: RawInventory = emptyRaw();
  private readonly cap: number;
  private readonly prefix?: string;

  constructor(opts: InventoryRuleOptions = {}) {
    this.cap = opts.cap ?? INVENTORY_FILE_CAP;
    this.prefix = opts.prefix;
  }

  /** A stage fused with the p2v rules' loop: no generator layer per entry. */
  start(ctx: RuleContext): Stage {
    // etc/release and var/sadm/... (classify); with a prefix the raw path counts.
    return { entry: (e, rel) => this.entry(e, rel, ctx), firstChars: this.prefix === undefined ? 'ev' : undefined };
  }

  apply(entries: AsyncIterable<Entry>, ctx: RuleContext): AsyncIterable<Entry> {
    return runStages(entries, [this.start(ctx)]);
  }

  private entry(e: Entry, rel: string, ctx: RuleContext): Emit | Promise<Emit> {
    if (e.type !== 'file' || e.sparse) return e;
    // The stage's normalised path is the image path when there is no prefix.
    const p = this.prefix === undefined ? rel : imagePath(e.path, this.prefix);
    const b = p === undefined ? null : BACKOUT_DATA.exec(p);
    if (b) {
      this.raw.backoutData.add(`${b[1]} ${b[2]}`);
      return e;
    }
    const use = p === undefined ? undefined : classify(p);
    if (!use) return e;
    if (e.size > this.cap) {
      ctx.report.note(`inventory: ${displayPath(e.path)} is ${e.size} bytes, over the ${this.cap} byte limit: not read`);
      return e;
    }
    return readBody(e, this.cap).then((buf) => {
      use(this.raw, buf.toString('latin1'));
      const c = copyEntry(e);
      c.body = bufferBody(buf);
      return c;
    });
  }

  /** The selected inventory of everything seen so far (call after the stream ends). */
  result(): Inventory {
    return buildInventory(this.raw);
  }
}

/**
 * A file's text, or undefined when it is missing or not a regular file.
 * Synchronous: a host has a thousand or more packages, and a promise round
 * trip per open, stat, read and close made this the slowest part of start-up.
 */
function readCapped(file: string, cap: number): string | undefined {
  let fd: number;
  try {
    fd = fsSync.openSync(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw err;
  }
  try {
    const st = fsSync.fstatSync(fd);
    if (!st.isFile()) return undefined;
    if (st.size > cap) throw new RangeError(`${file} is ${st.size} bytes, over the ${cap} byte limit`);
    return fsSync.readFileSync(fd).toString('latin1');
  } finally {
    fsSync.closeSync(fd);
  }
}

/** Read the packaging files under a root directory (the host: "/"). */
export async function rawInventoryFromRoot(dir: string, cap = INVENTORY_FILE_CAP): Promise<RawInventory> {
  const raw = emptyRaw();
  const pkgDir = path.join(dir, 'var/sadm/pkg');
  let names: string[] = [];
  try {
    names = fsSync.readdirSync(pkgDir).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  for (const name of names) {
    const info = readCapped(path.join(pkgDir, name, 'pkginfo'), cap);
    if (info === undefined) continue;
    raw.pkginfo.set(name, parsePkginfo(info));
    const dep = readCapped(path.join(pkgDir, name, 'install/depend'), cap);
    if (dep !== undefined) raw.depends.set(name, parseDepend(dep));
  }
  const gz = readCapped(path.join(dir, GZ_ONLY), cap);
  if (gz !== undefined) raw.gzOnly = parseGzOnly(gz);
  const ir = readCapped(path.join(dir, INST_RELEASE), cap);
  if (ir !== undefined) raw.release.instRelease = parseInstRelease(ir);
  const er = readCapped(path.join(dir, ETC_RELEASE), cap);
  if (er !== undefined) raw.release.etcRelease = etcReleaseLine(er);
  return raw;
}

/** The selected inventory of a root directory (the host side of the comparison). */
export async function inventoryFromRoot(dir: string, cap = INVENTORY_FILE_CAP): Promise<Inventory> {
  return buildInventory(await rawInventoryFromRoot(dir, cap));
}
