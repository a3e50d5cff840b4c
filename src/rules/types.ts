// A p2v rule: a small async transform over the entry stream. It sees one
// entry at a time, may drop, rewrite (buffering that one bounded file) or add
// entries, and may act once the stream has ended (finish), for facts that only
// the whole image reveals (nested zones found late, hollow-package services).

import type { Entry } from '../entry.js';
import type { Report } from './report.js';

export type IpType = 'shared' | 'exclusive';

export interface ZoneConfig {
  name: string;
  zonepath?: string;
  ipType: IpType;
  /** physical names of the zone's net resources (exclusive-IP). */
  net: string[];
  /** inherit-pkg-dir resources: a sparse-root zone cannot be p2v'd. */
  inheritPkgDirs: string[];
  /** fs and dataset resources, for inspect's advice. */
  fs: { dir: string; special: string; type: string }[];
  datasets: string[];
}

export interface RuleContext {
  zone: ZoneConfig;
  /** -u: sys-unconfig the image; -p: preserve its identity. */
  identity: 'unconfigure' | 'preserve';
  /** Time stamp written in "# Modified by p2v <date>" trailers. */
  date: Date;
  report: Report;
  /** Remove entries a previous step already wrote at or below this path. */
  removeWritten(relPath: string): Promise<number>;
  /**
   * Optional (an install's file writer): the content of a regular file this
   * run already wrote, as a hard link to it would see it; null when it is
   * not such a file or is over `cap` bytes. A hard link at a path a rule
   * rewrites is resolved through it.
   */
  readWritten?(relPath: string, cap: number): Buffer | null;
  /** Site additions (config file): extra SMF services to disable, packages to remove. */
  site: { disableServices: string[]; removePackages: string[] };
  /**
   * Optional: etc/zones/index as a first pass over the input read it (convert
   * on a file input). The nested-zones rule then drops the zonepaths it names
   * from the first entry on, instead of removing them late with removeWritten.
   */
  zoneIndex?: Buffer;
}

export interface Rule {
  readonly name: string;
  /** Transform the stream; yield kept, rewritten and added entries. */
  apply(entries: AsyncIterable<Entry>, ctx: RuleContext): AsyncIterable<Entry>;
}
