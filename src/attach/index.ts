// The attach stage: inventory, sanity, comparison, manifest, hand-over.

export type { Inventory, PackageRecord, PatchRecord, Release, InstRelease } from './types.js';
export { parsePkginfo, parseKeyValues, parseDepend, parseInstRelease, parseGzOnly, etcReleaseLine, type PkgInfo, type PatchInfo } from './pkginfo.js';
export { InventoryRule, buildInventory, inventoryFromRoot, rawInventoryFromRoot, INVENTORY_FILE_CAP, type RawInventory } from './inventory.js';
export { pkgVersionCompare, patchRevCompare, patchNumCompare, fieldCompare } from './version.js';
export { compareInventories, type CompareResult } from './compare.js';
export { checkBackout, inventoryAfterBackout, withoutPatches } from './backout.js';
export { writeDetachedManifest, inventoryFromManifest, ManifestError, ZONECFG_DOCTYPE } from './manifest.js';
export { parseZoneXml, parseZonecfgInfo, readZonecfg, checkWholeRoot, validZoneName, ZoneConfigError, type ParsedZone } from './zonecfg.js';
export { SanityObserver, checkSanity, unsafeDirs, SAFE_DIRS, REQUIRED_DIRS, WHOLE_ROOT_PATHS, type SanityInput, type SanityResult } from './sanity.js';
export { handOver, HandOverError, type HandOverOptions, type HandOverResult } from './handover.js';
