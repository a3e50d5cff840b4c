// Member-name validation for the filesystem sink (security.md D-1, A1-A11).
//
// Names are the archive's raw bytes held as latin1 strings, so every check
// here is a check on bytes: one char is one byte, '\0' is NUL, '/' is 0x2f.
// Nothing is normalised before it is checked: the name is split on '/',
// empty and '.' components are dropped, and any '..' component rejects the
// whole name, even one that would resolve inside the root.

import { ArchiveError, type Where } from '../errors.js';

export interface PathLimits {
  /** Longest accepted (validated, joined) path in bytes. */
  maxPathBytes: number;
  /** Longest accepted component in bytes. */
  maxComponentBytes: number;
  /** Most components accepted. */
  maxDepth: number;
}

export const DEFAULT_PATH_LIMITS: PathLimits = {
  maxPathBytes: 4096,
  maxComponentBytes: 255,
  maxDepth: 1024,
};

export interface ValidPath {
  /** Validated components joined by '/', as latin1; '' is the root itself. */
  key: string;
  /** Key of the parent directory ('' for the root). */
  parent: string;
  /** Number of components (0 for the root). */
  depth: number;
  /** The raw name started with one or more '/' (they were removed). */
  leadingSlash: boolean;
  /** The raw name ended with '/' (only meaningful for directories). */
  trailingSlash: boolean;
}

/**
 * Validate a raw (latin1) member name and return its root-relative key.
 * Throws ArchiveError 'unsafe-path' for NUL, '..', over-long components or
 * paths, and excessive depth. `what` names the field in messages
 * ("name", "hard-link target").
 */
export function validatePath(raw: string, where: Where, limits: PathLimits = DEFAULT_PATH_LIMITS, what = 'name'): ValidPath {
  const n = raw.length;
  if (raw.indexOf('\0') !== -1) {
    throw new ArchiveError('unsafe-path', `the ${what} contains a NUL byte`, where, 'the archive is corrupt or hostile');
  }
  let i = 0;
  while (i < n && raw.charCodeAt(i) === 0x2f) i++;
  const leadingSlash = i > 0;
  // Drop a leading run of './' (and extra '/'), the usual tar and cpio prefix,
  // so that the rest is usually canonical and needs no split/join.
  while (i + 1 < n && raw.charCodeAt(i) === 0x2e && raw.charCodeAt(i + 1) === 0x2f) {
    i += 2;
    while (i < n && raw.charCodeAt(i) === 0x2f) i++;
  }
  // Fast path: scan once, remember whether the name is already canonical
  // (no '.' or empty components), so the common case needs no split/join.
  let canonical = true;
  let depth = 0;
  let start = i;
  for (let j = i; j <= n; j++) {
    if (j < n && raw.charCodeAt(j) !== 0x2f) continue;
    const len = j - start;
    if (len === 0 || (len === 1 && raw.charCodeAt(start) === 0x2e)) {
      // Empty component ('//' or trailing '/') or '.': dropped.
      canonical = false;
    } else if (len === 2 && raw.charCodeAt(start) === 0x2e && raw.charCodeAt(start + 1) === 0x2e) {
      throw new ArchiveError('unsafe-path', `the ${what} has a '..' component`, where, 'names climbing out of the root are refused');
    } else {
      if (len > limits.maxComponentBytes) {
        throw new ArchiveError('unsafe-path', `the ${what} has a component of ${len} bytes (limit ${limits.maxComponentBytes})`, where);
      }
      depth++;
      if (depth > limits.maxDepth) {
        throw new ArchiveError('unsafe-path', `the ${what} is more than ${limits.maxDepth} levels deep`, where);
      }
    }
    start = j + 1;
  }
  const key = canonical
    ? raw.slice(i)
    : raw
        .slice(i)
        .split('/')
        .filter((c) => c !== '' && c !== '.')
        .join('/');
  if (key.length > limits.maxPathBytes) {
    throw new ArchiveError('unsafe-path', `the ${what} is ${key.length} bytes long (limit ${limits.maxPathBytes})`, where);
  }
  const slash = key.lastIndexOf('/');
  return {
    key,
    parent: slash === -1 ? '' : key.slice(0, slash),
    depth,
    leadingSlash,
    trailingSlash: n > 0 && raw.charCodeAt(n - 1) === 0x2f,
  };
}

/**
 * Validate a symlink target. Targets are stored verbatim (absolute and
 * climbing targets are normal in system images, security.md 0.2 / B6), so
 * only NUL, empty and over-long targets are refused (B9).
 */
export function validateLinkTarget(target: string | undefined, where: Where, limits: PathLimits = DEFAULT_PATH_LIMITS): string {
  if (target === undefined || target.length === 0) {
    throw new ArchiveError('unsafe-path', 'the symbolic link has an empty target', where);
  }
  if (target.indexOf('\0') !== -1) {
    throw new ArchiveError('unsafe-path', 'the symbolic link target contains a NUL byte', where);
  }
  if (target.length > limits.maxPathBytes) {
    throw new ArchiveError('unsafe-path', `the symbolic link target is ${target.length} bytes long (limit ${limits.maxPathBytes})`, where);
  }
  return target;
}

/** Number of components of a key ('' has 0). */
export function keyDepth(key: string): number {
  if (key === '') return 0;
  let d = 1;
  for (let i = key.indexOf('/'); i !== -1; i = key.indexOf('/', i + 1)) d++;
  return d;
}
