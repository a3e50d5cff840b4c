// Patches backed out on attach (install -b, solaris-p2v.md 4.2): update on
// attach runs patchrm on them before it takes the zone's inventory, so the
// downgrade check must see the image without them. A patch can be backed out
// only when a package's PATCHLIST names it and that package keeps its backout
// data (var/sadm/pkg/<pkg>/save/<patch>/undo[.Z] or obsolete[.Z]).

import { installedPatches } from './pkginfo.js';
import { buildInventory, type RawInventory } from './inventory.js';
import type { Inventory } from './types.js';

/** Solaris's refusal lines for the patches that cannot be backed out; empty when all can. */
export function checkBackout(raw: RawInventory, ids: readonly string[]): string[] {
  const lines: string[] = [];
  for (const id of ids) {
    const listed = [...raw.pkginfo].filter(([, info]) => info.patchlist.includes(id)).map(([pkg]) => pkg);
    if (listed.length === 0) lines.push(`\t${id} is not installed`);
    else if (!listed.some((pkg) => raw.backoutData.has(`${pkg} ${id}`))) lines.push(`\t${id} was installed without creating its backout data`);
  }
  return lines.length ? ['The following patches cannot be removed:', ...lines] : [];
}

/** The packaging data as it is once the patches `ids` are backed out. */
export function withoutPatches(raw: RawInventory, ids: readonly string[]): RawInventory {
  if (ids.length === 0) return raw;
  const skip = new Set(ids);
  const pkginfo = new Map(raw.pkginfo);
  for (const [pkg, info] of pkginfo) {
    if (!ids.some((id) => info.values.has(`PATCH_INFO_${id}`) || info.patchlist.includes(id))) continue;
    pkginfo.set(pkg, { ...info, patches: installedPatches(info.values, skip), patchlist: info.patchlist.filter((p) => !skip.has(p)) });
  }
  return { ...raw, pkginfo };
}

/** What update on attach compares with the host: the image's inventory `built`, the patches `ids` backed out of it. */
export function inventoryAfterBackout(raw: RawInventory, built: Inventory, ids: readonly string[]): Inventory {
  return ids.length ? buildInventory(withoutPatches(raw, ids)) : built;
}
