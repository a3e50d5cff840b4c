// Zone configuration readers: etc/zones/<zone>.xml (zonecfg.dtd.1), the text
// `zonecfg -z <zone> info` prints, and the whole-root requirement.

import { execFile } from 'node:child_process';
import type { IpType, ZoneConfig } from '../rules/types.js';
import { scanXml, XmlError } from './xml.js';
import { findOnPath } from './which.js';

/** A zone configuration as read, with the few extra facts the manifest needs. */
export interface ParsedZone extends ZoneConfig {
  brand?: string;
  autoboot?: boolean;
  /** address of each net resource, parallel to `net` ("" when not set). */
  netAddresses: string[];
}

export class ZoneConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ZoneConfigError';
  }
}

function emptyZone(): ParsedZone {
  return { name: '', ipType: 'shared', net: [], netAddresses: [], inheritPkgDirs: [], fs: [], datasets: [] };
}

function ipType(v: string | undefined): IpType {
  return v === 'exclusive' ? 'exclusive' : 'shared';
}

/** Zone names as zonecfg accepts them: letter or digit first, then [-_.A-Za-z0-9], at most 64. */
export function validZoneName(name: string): boolean {
  return /^[A-Za-z0-9][-_.A-Za-z0-9]{0,63}$/.test(name);
}

/**
 * Fold one element of a zonecfg XML document into `z`. Returns true when the
 * element is a zone configuration element (zone or one of its resources).
 */
export function applyZoneElement(z: ParsedZone, name: string, attrs: Map<string, string>, depth: number): boolean {
  if (depth === 0) {
    if (name !== 'zone') throw new ZoneConfigError(`root element is <${name}>, not <zone>`);
    z.name = attrs.get('name') ?? '';
    const zp = attrs.get('zonepath');
    if (zp !== undefined) z.zonepath = zp;
    const brand = attrs.get('brand');
    if (brand) z.brand = brand;
    const ab = attrs.get('autoboot');
    if (ab !== undefined) z.autoboot = ab === 'true';
    z.ipType = ipType(attrs.get('ip-type'));
    return true;
  }
  if (depth !== 1) return false;
  switch (name) {
    case 'inherited-pkg-dir':
      z.inheritPkgDirs.push(attrs.get('directory') ?? '');
      return true;
    case 'filesystem':
      z.fs.push({ dir: attrs.get('directory') ?? '', special: attrs.get('special') ?? '', type: attrs.get('type') ?? '' });
      return true;
    case 'network':
      z.net.push(attrs.get('physical') ?? '');
      z.netAddresses.push(attrs.get('address') ?? '');
      return true;
    case 'dataset':
      z.datasets.push(attrs.get('name') ?? '');
      return true;
    default:
      return false;
  }
}

/** etc/zones/<zone>.xml. */
export function parseZoneXml(text: string): ParsedZone {
  const z = emptyZone();
  try {
    for (const t of scanXml(text)) if (t.kind === 'open') applyZoneElement(z, t.name, t.attrs, t.depth);
  } catch (err) {
    if (err instanceof XmlError) throw new ZoneConfigError(`zone configuration XML: ${err.message}`);
    throw err;
  }
  if (!z.name) throw new ZoneConfigError('zone configuration XML: <zone> has no name');
  return z;
}

function unquoteInfo(v: string): string {
  return v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v;
}

/** The text of `zonecfg -z <zone> info`. */
export function parseZonecfgInfo(text: string): ParsedZone {
  const z = emptyZone();
  // Resource blocks: a top-level "name:" with no value, then tab-indented
  // "prop: value" lines (and "prop not specified" lines, ignored).
  let res: { kind: string; props: Map<string, string> } | undefined;
  const flush = (): void => {
    if (!res) return;
    const p = res.props;
    switch (res.kind) {
      case 'inherit-pkg-dir':
        z.inheritPkgDirs.push(p.get('dir') ?? '');
        break;
      case 'fs':
        z.fs.push({ dir: p.get('dir') ?? '', special: p.get('special') ?? '', type: p.get('type') ?? '' });
        break;
      case 'net':
        z.net.push(p.get('physical') ?? '');
        z.netAddresses.push(p.get('address') ?? '');
        break;
      case 'dataset':
        z.datasets.push(p.get('name') ?? '');
        break;
    }
    res = undefined;
  };
  for (const rawLine of text.split('\n')) {
    const line = rawLine.replace(/\r$/, '');
    if (!line.trim()) continue;
    const indented = /^[ \t]/.test(line);
    const m = /^\s*([A-Za-z][-A-Za-z0-9_.]*):(?:\s(.*))?$/.exec(line);
    if (indented) {
      if (res && m) res.props.set(m[1]!, unquoteInfo((m[2] ?? '').trim()));
      continue;
    }
    flush();
    if (!m) continue; // "[cpu-shares: 1]" style derived lines and anything else
    const key = m[1]!;
    const value = unquoteInfo((m[2] ?? '').trim());
    switch (key) {
      case 'zonename':
        z.name = value;
        break;
      case 'zonepath':
        z.zonepath = value;
        break;
      case 'brand':
        if (value) z.brand = value;
        break;
      case 'autoboot':
        z.autoboot = value === 'true';
        break;
      case 'ip-type':
        z.ipType = ipType(value);
        break;
      default:
        if (value === '') res = { kind: key, props: new Map() };
    }
  }
  flush();
  if (!z.name) throw new ZoneConfigError('zonecfg info output has no "zonename:" line');
  return z;
}

export interface ReadZonecfgOptions {
  /** Environment for the lookup and the child (PATH). */
  env?: NodeJS.ProcessEnv;
}

/** Run `zonecfg -z <name> info` (only where zonecfg exists) and parse it. */
export async function readZonecfg(name: string, opts: ReadZonecfgOptions = {}): Promise<ParsedZone> {
  if (!validZoneName(name)) throw new ZoneConfigError(`invalid zone name ${JSON.stringify(name)}`);
  const env = opts.env ?? process.env;
  const zonecfg = await findOnPath('zonecfg', env.PATH);
  if (!zonecfg) {
    throw new ZoneConfigError(
      `cannot read the configuration of zone '${name}': zonecfg is not on PATH (this is not a Solaris host with zones); give the configuration as an XML file instead`,
    );
  }
  const out = await new Promise<string>((resolve, reject) => {
    execFile(zonecfg, ['-z', name, 'info'], { env, encoding: 'latin1', maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) {
        const why = String(stderr).trim() || err.message;
        reject(new ZoneConfigError(`zonecfg -z ${name} info failed: ${why}`));
      } else resolve(String(stdout));
    });
  });
  return parseZonecfgInfo(out);
}

/**
 * A zone installed from a system image must be whole-root: returns the
 * refusal message when the configuration has inherit-pkg-dir resources
 * (a sparse-root zone), undefined when it is whole-root.
 */
export function checkWholeRoot(cfg: ZoneConfig): string | undefined {
  if (cfg.inheritPkgDirs.length === 0) return undefined;
  const dirs = cfg.inheritPkgDirs.join(' ');
  return (
    `zone '${cfg.name}': the zone must be configured as a whole-root zone to be installed using a system image, ` +
    `but it has inherit-pkg-dir resources (${dirs}); remove them (zonecfg -z ${cfg.name} 'remove inherit-pkg-dir dir=<dir>') or create the zone with 'create -b'`
  );
}
