// The package inventory the attach stage compares: what an image (or a host,
// or a detached manifest) has installed, per package, with its patches
// (solaris-p2v.md 4.3).

/** One installed patch of a package: the highest installed revision of its number. */
export interface PatchRecord {
  /** Revision as written ("59", "01"): compared with strcmp (4.5). */
  rev: string;
  /** Patch numbers (revision removed) this patch obsoletes. */
  obsoletes: string[];
}

export interface PackageRecord {
  name: string;
  /** VERSION= value, as written. */
  version: string;
  /** Patch number -> installed revision. */
  patches: Map<string, PatchRecord>;
  /** SUNW_PKG_HOLLOW=true (false when unknown, e.g. read from a manifest). */
  hollow: boolean;
  /** SUNW_PKG_ALLZONES=true. */
  allZones: boolean;
  /** SUNW_PKG_THISZONE=true. */
  thisZone: boolean;
}

/** var/sadm/system/admin/INST_RELEASE (OS=, VERSION=, REV=). */
export interface InstRelease {
  OS?: string;
  VERSION?: string;
  REV?: string;
}

export interface Release {
  instRelease?: InstRelease;
  /** First line of etc/release, trimmed. */
  etcRelease?: string;
}

export interface Inventory {
  /** In dependency order: a package's dependencies come before it. */
  packages: Map<string, PackageRecord>;
  release?: Release;
}
