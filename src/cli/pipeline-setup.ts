// What install, inspect and convert share when they wire the stages: the
// zone configuration (file, zonecfg or flags), the host inventory, the run's
// date, the rule context and the rule chain (observers, then the p2v rules
// in Solaris order). One place, so that inspect and convert run exactly the
// code path install runs.

import { loadSiteConfig } from './site-config.js';
import fs from 'node:fs';
import type { Entry } from '../entry.js';
import { UsageError } from '../errors.js';
import {
  inventoryFromManifest,
  inventoryFromRoot,
  InventoryRule,
  parseZoneXml,
  readZonecfg,
  SanityObserver,
  validZoneName,
  type Inventory,
  type ParsedZone,
} from '../attach/index.js';
import { findOnPath } from '../attach/which.js';
import type { ArchiveInfo } from '../formats/types.js';
import { applyRules, defaultRules } from '../rules/index.js';
import { Report } from '../rules/report.js';
import type { Rule, RuleContext, ZoneConfig } from '../rules/types.js';

/**
 * The run's date (mtime of added entries, "Modified by p2v" trailers, the
 * report): now, or SOURCE_DATE_EPOCH (seconds) when set, so that two runs
 * (an install and a convert, a test) can produce byte-identical trees.
 */
export function runDate(now: number = Date.now()): Date {
  const env = process.env.SOURCE_DATE_EPOCH;
  if (env !== undefined && /^\d{1,12}$/.test(env.trim())) return new Date(Number(env.trim()) * 1000);
  return new Date(now);
}

export interface ZoneOptions {
  /** Zone name given on the command line (install: required; inspect/convert: optional). */
  zone?: string;
  zonepath?: string;
  /** etc/zones/NAME.xml to read. */
  zoneConfig?: string;
  ipType?: 'shared' | 'exclusive';
  /** --net physical=NAME values (replace the configuration's net resources). */
  net: string[];
  /** Ask `zonecfg -z NAME info` when zonecfg is on PATH and no file is given (install). */
  useZonecfg?: boolean;
  /** Name when neither the command line nor the configuration gives one. */
  defaultName?: string;
}

export function emptyZone(name: string): ParsedZone {
  return { name, ipType: 'shared', net: [], inheritPkgDirs: [], fs: [], datasets: [], netAddresses: [] };
}

/** The zone configuration a run uses, with the command line's overrides applied. */
export async function loadZone(o: ZoneOptions): Promise<ParsedZone> {
  let z: ParsedZone;
  if (o.zoneConfig) z = parseZoneXml(readOptionFile('--zone-config', o.zoneConfig));
  else if (o.useZonecfg && o.zone && (await findOnPath('zonecfg', process.env.PATH))) z = await readZonecfg(o.zone);
  else z = emptyZone(o.zone ?? '');
  if (o.zone !== undefined && z.name && z.name !== o.zone) throw new UsageError(`the zone configuration is for zone '${z.name}', not '${o.zone}'`);
  z.name = o.zone ?? (z.name || o.defaultName || 'zone');
  if (!validZoneName(z.name)) throw new UsageError(`invalid zone name ${JSON.stringify(z.name)}`);
  if (o.zonepath !== undefined) z.zonepath = o.zonepath;
  if (o.ipType) z.ipType = o.ipType;
  if (o.net.length) z.net = o.net;
  return z;
}

/** The host's package inventory: a detached manifest, or a root directory (default /). */
export async function loadHostInventory(o: { hostRoot?: string; hostManifest?: string }): Promise<Inventory> {
  if (o.hostRoot && o.hostManifest) throw new UsageError('give --host-root or --host-manifest, not both');
  if (o.hostManifest) return inventoryFromManifest(readOptionFile('--host-manifest', o.hostManifest), o.hostManifest);
  // A root given by hand must exist: a mistyped one read as an empty
  // inventory, and the attach check had nothing to find a downgrade against.
  if (o.hostRoot !== undefined && !fs.statSync(o.hostRoot, { throwIfNoEntry: false })?.isDirectory()) throw new UsageError(`--host-root ${o.hostRoot}: not an existing directory`);
  return inventoryFromRoot(o.hostRoot ?? '/');
}

/** A file an option names, read; a failure names the option (253). */
function readOptionFile(option: string, file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`${option} ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
}

export interface ContextOptions {
  zone: ParsedZone | ZoneConfig;
  identity: RuleContext['identity'];
  date: Date;
  removeWritten(relPath: string): Promise<number>;
  readWritten?: RuleContext['readWritten'];
  site?: RuleContext['site'];
  /** etc/zones/index read by a first pass (convert on a file input). */
  zoneIndex?: Buffer;
  report?: Report;
}

export function makeRuleContext(o: ContextOptions): RuleContext {
  const ctx: RuleContext = {
    zone: o.zone as ZoneConfig,
    identity: o.identity,
    date: o.date,
    report: o.report ?? new Report(),
    removeWritten: o.removeWritten,
    site: o.site ?? loadSiteConfig(undefined),
  };
  if (o.zoneIndex) ctx.zoneIndex = o.zoneIndex;
  if (o.readWritten) ctx.readWritten = o.readWritten;
  return ctx;
}

export interface P2vPipeline {
  /** The entries after the rules, to hand to a sink. */
  stream: AsyncIterable<Entry>;
  /** The image's package inventory, gathered in flight (read after the stream ends). */
  inventory: InventoryRule;
  /** The watched paths the image has (sanity checks). */
  sanity: SanityObserver;
}

/**
 * The chain install runs: [observers..., sanity, inventory, p2v rules]. The
 * observers (inspect's) see the image as it comes, before any rule.
 */
export function p2vPipeline(entries: AsyncIterable<Entry>, ctx: RuleContext, observers: readonly Rule[] = []): P2vPipeline {
  const inventory = new InventoryRule();
  const sanity = new SanityObserver();
  const stream = applyRules(entries, [...observers, sanity, inventory, ...defaultRules()], ctx);
  return { stream, inventory, sanity };
}

/** "flar+cpio-newc+compress": how install names the input in its log. */
export function formatLabel(info: ArchiveInfo): string {
  return [info.flar ? 'flar' : '', info.format ?? info.variant ?? '', ...info.compression].filter(Boolean).join('+');
}
