// A bulk plan: the zones to install, one record each, from a JSON or CSV file
// (told apart by the first character, never by the file name). Every problem
// in the whole plan is collected before anything starts (exit 253).

import path from 'node:path';
import { UsageError } from '../errors.js';
import { parseInstallArgs } from '../cli/install-args.js';
import { CsvError, parseCsv } from './csv.js';

export type SourceKind = 'archive' | 'command' | 'dir';

export interface PlanZone {
  /** Where the zone was defined, for messages: "line 4" or "zones[2]". */
  where: string;
  zone: string;
  zonepath: string;
  source: { kind: SourceKind; value: string };
  identity: 'u' | 'p';
  ipType?: 'shared' | 'exclusive';
  /** Physical interface names of the zone's net resources. */
  net: string[];
  zoneConfig?: string;
  hostRoot?: string;
  hostManifest?: string;
  attachCommand?: string;
  config?: string;
  backout: string[];
  lenient: boolean;
  /** --limit NAME=N values, checked by the install's own parser. */
  limit: string[];
}

export interface Plan {
  format: 'json' | 'csv';
  /** The plan's directory: relative paths are taken from here, and installs run here. */
  baseDir: string;
  zones: PlanZone[];
}

/**
 * A plan that cannot run; `problems` lists every one found, `zones` the
 * records that were valid on their own (for the filesystem checks).
 */
export class PlanError extends UsageError {
  constructor(readonly problems: string[], readonly zones: PlanZone[] = []) {
    super(`the plan is not valid (${problems.length} problem${problems.length === 1 ? '' : 's'}); nothing was started:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'PlanError';
  }
}

/** Keys a zone record may carry; "_" may be written for "-", case does not matter. */
export const PLAN_KEYS = [
  'zone',
  'zonepath',
  'source',
  'archive',
  'command',
  'dir',
  'identity',
  'ip-type',
  'net',
  'zone-config',
  'host-root',
  'host-manifest',
  'attach-command',
  'config',
  'backout',
  'lenient',
  'limit',
] as const;
type Key = (typeof PLAN_KEYS)[number];
const ALIASES: Record<string, Key> = { zonename: 'zone', name: 'zone', 'iptype': 'ip-type', 'cmd': 'command', directory: 'dir' };

type Raw = Partial<Record<Key, string | string[]>>;

const ZONE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
const PATCH_ID = /^\d{6}-\d{2}$/;

function normKey(k: string): Key | undefined {
  const n = k.trim().toLowerCase().replace(/_/g, '-');
  if ((PLAN_KEYS as readonly string[]).includes(n)) return n as Key;
  return ALIASES[n];
}

/** Parse and check a plan. `file` names the plan (for relative paths and messages). */
export function parsePlan(text: string, file: string): Plan {
  const baseDir = path.dirname(path.resolve(file));
  const body = text.replace(/^\uFEFF/, '');
  const first = body.trimStart()[0];
  const problems: string[] = [];
  let records: { where: string; raw: Raw }[];
  let format: Plan['format'];
  const nul = body.indexOf('\0');
  if (nul >= 0) {
    // No path or command can hold a NUL (the filesystem checks would throw on it);
    // a plan saved as UTF-16 is full of them.
    const line = body.slice(0, nul).split('\n').length;
    throw new PlanError([`line ${line}: the plan holds a NUL byte; save it as plain UTF-8 text (a spreadsheet's "Unicode text" is UTF-16)`]);
  }
  if (first === '[' || first === '{') {
    format = 'json';
    records = jsonRecords(body, problems);
  } else {
    format = 'csv';
    records = csvRecords(body, problems);
  }
  if (!problems.length && records.length === 0) problems.push('the plan has no zones');

  const zones: PlanZone[] = [];
  for (const { where, raw } of records) {
    const z = checkZone(where, raw, baseDir, problems);
    if (z) zones.push(z);
  }
  crossCheck(zones, problems);
  if (problems.length) throw new PlanError(problems, zones);
  return { format, baseDir, zones };
}

// ---------------------------------------------------------------- JSON

function jsonRecords(text: string, problems: string[]): { where: string; raw: Raw }[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    problems.push(`the plan looks like JSON but does not parse: ${(e as Error).message}`);
    return [];
  }
  let list: unknown;
  let defaults: Raw = {};
  if (Array.isArray(doc)) list = doc;
  else if (doc && typeof doc === 'object') {
    const o = doc as Record<string, unknown>;
    for (const k of Object.keys(o)) if (k !== 'zones' && k !== 'defaults') problems.push(`unknown top-level key ${JSON.stringify(k)} (expected "defaults" and "zones")`);
    list = o.zones;
    if (o.defaults !== undefined) {
      if (!o.defaults || typeof o.defaults !== 'object' || Array.isArray(o.defaults)) problems.push('"defaults" must be an object');
      else defaults = jsonRecord('defaults', o.defaults as Record<string, unknown>, problems);
    }
    if (defaults.zone !== undefined || defaults.zonepath !== undefined) problems.push('defaults: "zone" and "zonepath" belong to each zone, not to the defaults');
  }
  if (!Array.isArray(list)) {
    problems.push('a JSON plan is an array of zones, or an object {"defaults": {...}, "zones": [...]}');
    return [];
  }
  const out: { where: string; raw: Raw }[] = [];
  list.forEach((item, i) => {
    const where = `zones[${i}]`;
    if (!item || typeof item !== 'object' || Array.isArray(item)) {
      problems.push(`${where}: a zone is an object like {"zone": "web1", "zonepath": "/zones/web1", "source": "...", "identity": "u"}`);
      return;
    }
    const raw = jsonRecord(where, item as Record<string, unknown>, problems);
    const name = typeof raw.zone === 'string' && raw.zone ? ` (${raw.zone})` : '';
    out.push({ where: `${where}${name}`, raw: { ...withoutSources(defaults, raw), ...raw } });
  });
  return out;
}

/** A zone's own source replaces every source kind given in the defaults. */
function withoutSources(defaults: Raw, raw: Raw): Raw {
  if (raw.source === undefined && raw.archive === undefined && raw.command === undefined && raw.dir === undefined) return defaults;
  const { source: _s, archive: _a, command: _c, dir: _d, ...rest } = defaults;
  return rest;
}

function jsonRecord(where: string, o: Record<string, unknown>, problems: string[]): Raw {
  const raw: Raw = {};
  for (const [k, v] of Object.entries(o)) {
    const key = normKey(k);
    if (!key) {
      problems.push(`${where}: unknown key ${JSON.stringify(k)} (known: ${PLAN_KEYS.join(', ')})`);
      continue;
    }
    if (v === null || v === undefined) continue;
    if (typeof v === 'string') raw[key] = v;
    else if (typeof v === 'boolean' && key === 'lenient') raw[key] = String(v);
    else if (Array.isArray(v) && (key === 'net' || key === 'backout' || key === 'limit') && v.every((x) => typeof x === 'string')) raw[key] = v as string[];
    else problems.push(`${where}: ${key} must be a string${key === 'net' || key === 'backout' || key === 'limit' ? ' or an array of strings' : key === 'lenient' ? ' or a boolean' : ''}, not ${JSON.stringify(v)}`);
  }
  return raw;
}

// ---------------------------------------------------------------- CSV

function csvRecords(text: string, problems: string[]): { where: string; raw: Raw }[] {
  let rows;
  try {
    rows = parseCsv(text);
  } catch (e) {
    problems.push(e instanceof CsvError ? `CSV ${e.message}` : String(e));
    return [];
  }
  if (!rows.length) return [];
  const [header, ...data] = rows;
  const keys: (Key | undefined)[] = header!.fields.map(normKey);
  header!.fields.forEach((f, i) => {
    if (!keys[i]) problems.push(`line ${header!.line}: unknown column ${JSON.stringify(f)} (known: ${PLAN_KEYS.join(', ')})`);
  });
  const seen = new Set<Key>();
  for (const k of keys) {
    if (!k) continue;
    if (seen.has(k)) problems.push(`line ${header!.line}: column ${k} appears twice`);
    seen.add(k);
  }
  if (!keys.includes('zone') || !keys.includes('zonepath')) {
    problems.push(`line ${header!.line}: the first line names the columns, and must include zone and zonepath (found: ${header!.fields.join(',')})`);
    return [];
  }
  const out: { where: string; raw: Raw }[] = [];
  for (const row of data) {
    if (row.fields.length > keys.length) {
      problems.push(`line ${row.line}: ${row.fields.length} fields for ${keys.length} columns (quote a field that holds a comma)`);
      continue;
    }
    const raw: Raw = {};
    row.fields.forEach((v, i) => {
      const k = keys[i];
      if (k && v !== '') raw[k] = v;
    });
    const name = raw.zone ? ` (${raw.zone as string})` : '';
    out.push({ where: `line ${row.line}${name}`, raw });
  }
  return out;
}

// ---------------------------------------------------------------- checks

function str(v: string | string[] | undefined): string | undefined {
  if (v === undefined) return undefined;
  const s = (Array.isArray(v) ? v.join(' ') : v).trim();
  return s === '' ? undefined : s;
}

function list(v: string | string[] | undefined): string[] {
  if (v === undefined) return [];
  const items = Array.isArray(v) ? v : v.split(/[\s,;]+/);
  return items.map((s) => s.trim()).filter(Boolean);
}

function checkZone(where: string, raw: Raw, baseDir: string, problems: string[]): PlanZone | undefined {
  const bad = (m: string) => problems.push(`${where}: ${m}`);
  const before = problems.length;
  const abs = (p: string) => path.resolve(baseDir, p);
  // A JSON "\u0000": no path, name or command can hold one.
  const nul = Object.entries(raw).filter(([, v]) => [v ?? []].flat().some((s) => s.includes('\0')));
  if (nul.length) {
    for (const [k] of nul) bad(`${k} holds a NUL byte`);
    return undefined;
  }

  const zone = str(raw.zone);
  if (!zone) bad('zone is missing');
  else if (!ZONE_NAME.test(zone)) bad(`invalid zone name ${JSON.stringify(zone)} (letters, digits, "-", "_" and "."; up to 64 characters, starting with a letter or digit)`);

  const zp = str(raw.zonepath);
  let zonepath = '';
  if (!zp) bad('zonepath is missing');
  else if (!zp.startsWith('/')) bad(`the zonepath must be absolute: ${JSON.stringify(zp)}`);
  else if (path.resolve(zp) === '/') bad('the zonepath cannot be /');
  else zonepath = path.resolve(zp);

  // The source: a "source" value with an optional cmd:/dir:/file: prefix, or one of the archive/command/dir columns.
  const given: { kind: SourceKind; value: string; from: string }[] = [];
  const src = str(raw.source);
  if (src !== undefined) {
    const m = /^(cmd|command|dir|file|archive):(.*)$/s.exec(src);
    const kind: SourceKind = !m ? 'archive' : m[1] === 'cmd' || m[1] === 'command' ? 'command' : m[1] === 'dir' ? 'dir' : 'archive';
    given.push({ kind, value: (m ? m[2]! : src).trim(), from: 'source' });
  }
  for (const k of ['archive', 'command', 'dir'] as const) {
    const v = str(raw[k]);
    if (v !== undefined) given.push({ kind: k, value: v, from: k });
  }
  let source: PlanZone['source'] | undefined;
  if (given.length === 0) bad('the source is missing: give source (a path, cmd:COMMAND or dir:DIRECTORY), or one of archive, command, dir');
  else if (given.length > 1) bad(`give one source, not ${given.map((g) => g.from).join(' and ')}`);
  else {
    const g = given[0]!;
    if (g.value === '') bad(`the ${g.kind} of the source is empty`);
    else if (g.value === '-' && g.kind !== 'command') bad('"-" (stdin) cannot be a bulk source: every zone needs its own stream; use cmd:COMMAND, e.g. cmd:ssh legacy07 flarcreate -n l7 -S -');
    else source = { kind: g.kind, value: g.kind === 'command' ? g.value : abs(g.value) };
  }

  const id = str(raw.identity)?.toLowerCase();
  let identity: PlanZone['identity'] | undefined;
  if (id === undefined) bad('identity is missing: u (sys-unconfig the zone) or p (preserve the identity)');
  else if (['u', '-u', 'unconfigure', 'sys-unconfig'].includes(id)) identity = 'u';
  else if (['p', '-p', 'preserve'].includes(id)) identity = 'p';
  else bad(`identity must be u (sys-unconfig) or p (preserve), not ${JSON.stringify(raw.identity)}`);

  const ip = str(raw['ip-type'])?.toLowerCase();
  if (ip !== undefined && ip !== 'shared' && ip !== 'exclusive') bad(`ip-type must be shared or exclusive, not ${JSON.stringify(raw['ip-type'])}`);

  const net: string[] = [];
  for (const n of list(raw.net)) {
    const name = n.startsWith('physical=') ? n.slice('physical='.length) : n;
    if (!/^[A-Za-z0-9][A-Za-z0-9_.:-]*$/.test(name)) bad(`net ${JSON.stringify(n)}: expected an interface name such as e1000g1 (or physical=e1000g1)`);
    else net.push(name);
  }
  if (net.length && ip === 'shared') bad('net resources are for exclusive-IP zones: set ip-type exclusive, or drop net');

  const backout = list(raw.backout);
  for (const b of backout) if (!PATCH_ID.test(b)) bad(`backout ${JSON.stringify(b)}: a patch id looks like 123456-01`);

  const len = str(raw.lenient)?.toLowerCase();
  let lenient = false;
  if (len !== undefined) {
    if (['1', 'true', 'yes', 'y'].includes(len)) lenient = true;
    else if (!['0', 'false', 'no', 'n'].includes(len)) bad(`lenient must be yes or no, not ${JSON.stringify(raw.lenient)}`);
  }

  const hostRoot = str(raw['host-root']);
  const hostManifest = str(raw['host-manifest']);
  if (hostRoot && hostManifest) bad('give host-root or host-manifest, not both');
  const zoneConfig = str(raw['zone-config']);
  const config = str(raw.config);

  if (problems.length > before || !zone || !source || !identity) return undefined;
  const z: PlanZone = {
    where,
    zone,
    zonepath,
    source,
    identity,
    ipType: ip as PlanZone['ipType'],
    net,
    zoneConfig: zoneConfig && abs(zoneConfig),
    hostRoot: hostRoot && abs(hostRoot),
    hostManifest: hostManifest && abs(hostManifest),
    attachCommand: str(raw['attach-command']),
    config: config && abs(config),
    backout,
    lenient,
    limit: list(raw.limit),
  };
  // The install command's own checks, so bulk never starts an install that would refuse its arguments.
  try {
    parseInstallArgs(installArgv(z, '/dev/null', false).slice(1));
  } catch (e) {
    bad((e as Error).message);
    return undefined;
  }
  return z;
}

function crossCheck(zones: PlanZone[], problems: string[]): void {
  const byName = new Map<string, PlanZone>();
  for (const z of zones) {
    const other = byName.get(z.zone);
    if (other) problems.push(`${z.where}: zone ${z.zone} is already in the plan (${other.where})`);
    else byName.set(z.zone, z);
  }
  const sorted = [...zones].sort((a, b) => (a.zonepath < b.zonepath ? -1 : a.zonepath > b.zonepath ? 1 : 0));
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1]!;
    const b = sorted[i]!;
    if (a.zonepath === b.zonepath) problems.push(`${b.where}: zonepath ${b.zonepath} is also the zonepath of ${a.where}`);
  }
  // Each zonepath's ancestors looked up (the first zone of a zonepath): linear
  // in the plan, where comparing every pair took seconds for 10 000 zones.
  const byPath = new Map<string, PlanZone>();
  for (const z of zones) if (!byPath.has(z.zonepath)) byPath.set(z.zonepath, z);
  for (const b of zones) {
    for (let p = path.dirname(b.zonepath); p !== '/'; p = path.dirname(p)) {
      const a = byPath.get(p);
      if (a) problems.push(`${b.where}: zonepath ${b.zonepath} is inside the zonepath of ${a.where} (${a.zonepath})`);
    }
  }
}

/** The `zonep2v install` arguments for one zone (argv[0] is "install"). */
export function installArgv(z: PlanZone, logFile: string, clean: boolean): string[] {
  const src = z.source.kind === 'archive' ? ['-a', z.source.value] : z.source.kind === 'dir' ? ['-d', z.source.value] : ['--command', z.source.value];
  const a = ['install', z.zone, z.zonepath, ...src, `-${z.identity}`];
  if (z.ipType) a.push('--ip-type', z.ipType);
  for (const n of z.net) a.push('--net', `physical=${n}`);
  if (z.zoneConfig) a.push('--zone-config', z.zoneConfig);
  if (z.hostRoot) a.push('--host-root', z.hostRoot);
  if (z.hostManifest) a.push('--host-manifest', z.hostManifest);
  if (z.attachCommand) a.push('--attach-command', z.attachCommand);
  if (z.config) a.push('--config', z.config);
  for (const b of z.backout) a.push('-b', b);
  if (z.lenient) a.push('--lenient');
  for (const l of z.limit) a.push('--limit', l);
  if (clean) a.push('--clean');
  a.push('--json', '--log', logFile);
  return a;
}

/** A short description of the source for displays: "archive /a/b.flar", "command ssh ...", "dir /mnt/x". */
export function describeSource(z: PlanZone): string {
  return `${z.source.kind} ${z.source.value}`;
}
