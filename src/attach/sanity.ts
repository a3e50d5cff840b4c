// Sanity checks on the image (solaris-p2v.md 2.7): the native (2009) checks,
// plus the solaris10 whole-root test, which applies to any image p2v takes.
// The 'sanity-observer' rule records, while the entries stream past, which
// of a small fixed set of paths the image has; the check runs at the end.

import type { Entry, EntryType } from '../entry.js';
import type { RuleContext } from '../rules/types.js';
import { runStages, type Stage, type StageRule } from '../rules/stage.js';
import { imagePath } from './paths.js';
import type { InstRelease } from './types.js';

/** Directories every native image must have. */
export const REQUIRED_DIRS = ['etc', 'etc/svc', 'usr', 'sbin', 'lib', 'var', 'var/svc'] as const;
/** Paths only a whole-root image has. */
export const WHOLE_ROOT_PATHS = ['lib/svc', 'sbin/zonename', 'usr/bin/chmod'] as const;
/**
 * Directories p2v edits below, which must be real directories, not symlinks
 * (the native brand's safe_dir, solaris-p2v.md 3.1): through a symlink the
 * edits would land outside the zone root, so Solaris fails the p2v.
 */
export const SAFE_DIRS = ['etc', 'etc/dfs', 'etc/zones', 'var'] as const;
const SAFE = new Set<string>(SAFE_DIRS);
/** Present only in a global zone's image (a physical system), not in a zone's. */
export const SYSTEM_IMAGE_MARKER = 'var/svc/manifest/system/sysevent.xml';

const WATCHED = new Set<string>([...REQUIRED_DIRS, ...WHOLE_ROOT_PATHS, SYSTEM_IMAGE_MARKER]);
/** Every watched path (and so each of its ancestors) starts with one of these. */
const WATCHED_FIRST = [...new Set([...WATCHED].map((p) => p.charAt(0)))].join('');
/** Longest watched path an ancestor could equal: a longer first or second component matches none. */
const MAX_WATCHED_DIR = Math.max(...REQUIRED_DIRS.map((d) => d.length), ...WHOLE_ROOT_PATHS.map((d) => d.length));

/** Rule 'sanity-observer': passes entries through, noting the watched paths it sees. */
export class SanityObserver implements StageRule {
  readonly name = 'sanity-observer';
  readonly seen = new Set<string>();
  /** SAFE_DIRS paths the image has as something other than a directory, with that type. */
  readonly notDir = new Map<string, EntryType>();
  private readonly prefix?: string;

  constructor(opts: { prefix?: string } = {}) {
    this.prefix = opts.prefix;
  }

  /** Record one raw archive path (and the watched ancestors it implies), and its type. */
  observe(raw: string, type: EntryType = 'dir'): void {
    const p = imagePath(raw, this.prefix);
    if (p) this.observeImagePath(p, type);
  }

  /** Record one image-relative path. No string is cut unless its ancestors could be watched. */
  private observeImagePath(p: string, type: EntryType): void {
    if (WATCHED.has(p)) this.seen.add(p);
    if (type !== 'dir' && SAFE.has(p)) this.notDir.set(p, type);
    // A deeper entry implies its directories: check the first two ancestors
    // (every watched directory is at depth 1 or 2, and short).
    const a = p.indexOf('/');
    if (a < 0 || a > MAX_WATCHED_DIR) return;
    const top = p.slice(0, a);
    if (WATCHED.has(top)) this.seen.add(top);
    const b = p.indexOf('/', a + 1);
    if (b < 0 || b > MAX_WATCHED_DIR) return;
    const second = p.slice(0, b);
    if (WATCHED.has(second)) this.seen.add(second);
  }

  /** A stage fused with the p2v rules' loop: no generator layer per entry. */
  start(_ctx?: RuleContext): Stage {
    return {
      // With a prefix the raw path is what counts; else only watched paths' first characters.
      firstChars: this.prefix === undefined ? WATCHED_FIRST : undefined,
      entry: (e, rel) => {
        // The stage's normalised path is the image path when there is no prefix.
        if (this.prefix === undefined) {
          if (rel) this.observeImagePath(rel, e.type);
        } else {
          this.observe(e.path, e.type);
        }
        return e;
      },
    };
  }

  apply(entries: AsyncIterable<Entry>): AsyncIterable<Entry> {
    return runStages(entries, [this.start()]);
  }
}

export interface SanityInput {
  /** Watched paths the image has (SanityObserver.seen). */
  seen: ReadonlySet<string>;
  /** Where the image is, for "Missing %s at %s" (the zone root). */
  root: string;
  /** The image's INST_RELEASE. */
  image?: InstRelease;
  /**
   * The host's INST_RELEASE; undefined when the host has none (not a Solaris
   * host): the release check is then skipped and the result says so.
   */
  host?: InstRelease;
}

export interface SanityResult {
  ok: boolean;
  /** Solaris's own lines, ending with the Passed / FAILED banner. */
  messages: string[];
  /** Checks that were not made, and why. */
  skipped: string[];
  /** The image carries the global-zone-only sysevent manifest (a physical system's image). */
  systemImage: boolean;
}

/** ksh arithmetic on VERSION=: a number, or undefined when it is not one. */
function releaseNumber(v: string | undefined, dflt: number): number | undefined {
  if (v === undefined || v.trim() === '') return dflt;
  return /^\s*-?\d+\s*$/.test(v) ? Number(v) : undefined;
}

export function checkSanity(input: SanityInput): SanityResult {
  const messages: string[] = [];
  const skipped: string[] = [];
  let ok = true;
  for (const d of REQUIRED_DIRS) {
    if (!input.seen.has(d)) {
      messages.push(`  Sanity Check: Missing ${d} at ${input.root}`);
      ok = false;
    }
  }
  let sparse = false;
  for (const f of WHOLE_ROOT_PATHS) {
    if (!input.seen.has(f)) {
      messages.push(`  Sanity Check: Missing ${f} at ${input.root}`);
      sparse = true;
    }
  }
  if (sparse) {
    messages.push('Is this a sparse zone image?  The image must be whole-root.');
    ok = false;
  }
  if (input.host === undefined) {
    skipped.push('release version: this host has no /var/sadm/system/admin/INST_RELEASE, so the image release was not compared with it');
  } else {
    const imgRaw = input.image?.VERSION;
    const hostRaw = input.host.VERSION;
    const img = releaseNumber(imgRaw, -1);
    const host = releaseNumber(hostRaw, 0);
    if (img === undefined || host === undefined || img !== host) {
      const show = (raw: string | undefined, n: number | undefined, dflt: number): string =>
        raw === undefined || raw.trim() === '' ? String(dflt) : n === undefined ? raw : String(n);
      messages.push(
        `  Sanity Check: image release version ${show(imgRaw, img, -1)} does not match system release version ${show(hostRaw, host, 0)}, the zone is not usable on this system.`,
      );
      ok = false;
    }
  }
  messages.push(ok ? '  Sanity Check: Passed.  Looks like a native system.' : '  Sanity Check: FAILED (see log for details).');
  return { ok, messages, skipped, systemImage: input.seen.has(SYSTEM_IMAGE_MARKER) };
}

/** p2v's refusals for the SAFE_DIRS the image has as symlinks or files (empty: none). */
export function unsafeDirs(notDir: ReadonlyMap<string, EntryType>): string[] {
  return SAFE_DIRS.filter((d) => notDir.has(d)).map((d) => `Invalid '/${d}' directory within the zone (${notDir.get(d)})`);
}
