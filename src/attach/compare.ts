// Update on attach's decision (solaris-p2v.md 4.5, sw_up_to_date): which
// packages the zone image must drop (pkg_rm) and take from this host
// (pkg_add), and the "downgrade" cases that refuse the attach.

import type { Inventory, PackageRecord } from './types.js';
import { patchRevCompare, pkgVersionCompare } from './version.js';

export interface CompareResult {
  ok: boolean;
  /** Each prefixed "zone '<zone>': "; a message may span lines ("\t<num>-<rev>"). */
  errors: string[];
  /** Packages to install from this host, in the host's (dependency) order. Empty when !ok. */
  pkgAdd: string[];
  /** Packages to remove from the image, in the image's order. Empty when !ok. */
  pkgRm: string[];
}

/** Is patch number `num` obsoleted by any patch of `pkg`? */
function obsoletedBy(pkg: PackageRecord, num: string): boolean {
  for (const p of pkg.patches.values()) if (p.obsoletes.includes(num)) return true;
  return false;
}

/**
 * Same version on both sides: the downgrade errors for the source's patches,
 * and whether the host's patches make a reinstall (pkg_add only) worthwhile.
 */
function comparePatches(name: string, src: PackageRecord, dst: PackageRecord, errors: string[]): boolean {
  if (src.patches.size > 0 && dst.patches.size === 0) {
    const lines = [...src.patches].map(([num, p]) => `\t${num}-${p.rev}`);
    errors.push(`ERROR: attempt to downgrade package ${name}, the source had patches but this system does not.  Patches:\n${lines.join('\n')}`);
    return false;
  }
  let update = false;
  for (const [num, sp] of src.patches) {
    const dp = dst.patches.get(num);
    if (!dp) {
      if (!obsoletedBy(dst, num)) {
        errors.push(`ERROR: attempt to downgrade package ${name}, the source had patch ${num}-${sp.rev} which is not installed on this system`);
      }
      continue;
    }
    const c = patchRevCompare(sp.rev, dp.rev);
    if (c > 0) {
      if (!obsoletedBy(dst, num)) {
        errors.push(`ERROR: attempt to downgrade package ${name}, the source had patch ${num}-${sp.rev} but this system only has ${num}-${dp.rev}`);
      }
    } else if (c < 0) update = true;
  }
  for (const num of dst.patches.keys()) if (!src.patches.has(num)) update = true;
  return update;
}

/**
 * Compare the image (`src`) with this host (`dst`). Messages are the ones
 * Solaris prints, prefixed `zone '<zone>': `. Every failing package is
 * reported; any failure empties both lists.
 */
export function compareInventories(src: Inventory, dst: Inventory, zone: string): CompareResult {
  const errors: string[] = [];
  const add = new Set<string>();
  const rm: string[] = [];
  for (const [name, s] of src.packages) {
    const d = dst.packages.get(name);
    if (!d) {
      rm.push(name);
      continue;
    }
    const c = pkgVersionCompare(s.version, d.version);
    if (c > 0) errors.push(`ERROR: attempt to downgrade package ${name} ${s.version} to version ${d.version}`);
    else if (c < 0) {
      rm.push(name);
      add.add(name);
    } else if (comparePatches(name, s, d, errors)) add.add(name);
  }
  for (const name of dst.packages.keys()) if (!src.packages.has(name)) add.add(name);
  const prefixed = errors.map((e) => `zone '${zone}': ${e}`);
  if (prefixed.length) return { ok: false, errors: prefixed, pkgAdd: [], pkgRm: [] };
  return { ok: true, errors: [], pkgAdd: [...dst.packages.keys()].filter((n) => add.has(n)), pkgRm: rm };
}
