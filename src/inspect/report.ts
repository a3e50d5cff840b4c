// The inspect report: one versioned document ({"v":1,...}) assembled from
// what the run gathered (the observer's facts, the rules' own Report, the
// counting sink, the attach checks), and its text rendering in the manner of
// zonep2vchk (a header, the basic checks with "Issue:" lines, a count, then
// the zonecfg command file and the verdict).

import type { ParsedZone, CompareResult, SanityResult, Inventory } from '../attach/index.js';
import type { ArchiveInfo } from '../formats/types.js';
import type { Change, Report } from '../rules/report.js';
import { parseIndex } from '../rules/nestedzones.js';
import { etcReleaseLine, parseInstRelease } from '../attach/pkginfo.js';
import {
  etcSystemFindings,
  parseHosts,
  parseInterfaceFile,
  parseNetmasks,
  serviceChecks,
  shareFindings,
  vfstabFindings,
  type Interface,
  type ServiceCheck,
  type ShareFinding,
  type Tunable,
  type VfstabFinding,
} from './checks.js';
import type { InputCounts, Facts } from './observe.js';
import type { CountStats } from './count-sink.js';
import { zonecfgCommands } from './zonecfg-file.js';

export const INSPECT_VERSION = 1;

export type Severity = 'blocker' | 'warning' | 'info';

export interface Issue {
  /** zonep2vchk-style id: zones, be, vfstab, nfs, svcnotallowed, etcsystem, pkg, physif, ... */
  id: string;
  severity: Severity;
  message: string;
  /** Image paths concerned. */
  paths?: string[];
}

export interface InspectInput {
  source: string;
  info: ArchiveInfo;
  facts: Facts;
  zone: ParsedZone;
  identity: 'unconfigure' | 'preserve';
  /** -u/-p was chosen (not the default). */
  identityGiven: boolean;
  report: Report;
  output?: CountStats;
  /** The stream failed: install would fail the same way (writing: at an entry its sink refuses). */
  error?: { kind?: string; message: string; writing?: boolean };
  /** Zone configuration refusal (sparse root), as install would print it. */
  zoneError?: string;
  /** What install would refuse in the zonepath on this host (zonepathProblems). */
  zonepathErrors?: string[];
  /** Why the zone's configuration could not be read from zonecfg (inspected with the options instead). */
  zoneNote?: string;
  /** unsafe: p2v's refusals of directories that are symlinks (install fails on them). */
  /** backout: Solaris's refusal of -b patches that cannot be backed out (empty: none). */
  attach?: { sanity: SanityResult; compare: CompareResult; unsafe?: string[]; backout?: string[] };
  image?: Inventory;
  host: { label: string; inventory: Inventory };
  /** Parser and sink warnings, counted by kind. */
  warnings?: Record<string, number>;
}

export interface NestedZoneInfo {
  name: string;
  state: string;
  zonepath: string;
  /** What p2v does, from the rule's report. */
  action: string;
}

export interface InspectDoc {
  v: 1;
  source: string;
  image: {
    format: string | null;
    variant: string | null;
    compression: string[];
    flar: Record<string, string> | null;
    release: string | null;
    instRelease: Record<string, string> | null;
    nodename: string | null;
  };
  counts: {
    input: InputCounts;
    output: { entries: number; bytes: number; byType: Record<string, number>; removedLate: number } | null;
    dropped: Record<string, number>;
  };
  zone: { name: string; zonepath: string; ipType: string; net: string[]; identity: string; identityGiven: boolean; brand: string };
  nestedZones: NestedZoneInfo[];
  vfstab: VfstabFinding[];
  shares: ShareFinding[];
  network: { interfaces: Interface[]; defaultRouter: string | null; exclusiveIp: string[] };
  smf: { action: string; service: string; why: string; path: string }[];
  services: ServiceCheck[];
  etcSystem: Tunable[];
  packagesToRemove: string[];
  liveUpgrade: string[];
  attach: {
    host: string;
    hostRelease: string | null;
    sanity: SanityResult | null;
    compare: { ok: boolean; errors: string[]; pkgAdd: string[]; pkgRm: string[] } | null;
  };
  changes: Change[];
  notes: string[];
  issues: Issue[];
  zonecfg: string;
  error: { kind?: string; message: string; writing?: boolean } | null;
  warnings: Record<string, number>;
  verdict: { ok: boolean; exit: 0 | 1; blockers: number; warnings: number };
}

function hostsText(f: Facts): string {
  return f.files.get('etc/inet/hosts') ?? '';
}

export function buildInspect(inp: InspectInput): InspectDoc {
  const f = inp.facts;
  const z = inp.zone;
  const issues: Issue[] = [];
  const issue = (id: string, severity: Severity, message: string, paths?: string[]) => issues.push(paths ? { id, severity, message, paths } : { id, severity, message });
  const changes = inp.report.changes;

  // Image identification.
  const releaseText = f.files.get('etc/release');
  const release = releaseText !== undefined ? etcReleaseLine(releaseText) || null : null;
  const ir = f.files.get('var/sadm/system/admin/INST_RELEASE');
  const instRelease = ir !== undefined ? ({ ...parseInstRelease(ir) } as Record<string, string>) : null;
  const nodename = f.files.get('etc/nodename')?.split('\n')[0]?.trim() || null;
  const s11 = /\bSolaris 11\b/.test(release ?? '') || instRelease?.['VERSION'] === '11';

  // Nested zones: the index as the image has it, the action from the rule's report.
  const nestedZones: NestedZoneInfo[] = [];
  const idx = f.files.get('etc/zones/index');
  if (idx !== undefined) {
    const idxLines = idx.split('\n');
    if (idx.endsWith('\n')) idxLines.pop();
    const { zones } = parseIndex(idxLines);
    for (const nz of zones) {
      const c = changes.find((x) => x.rule === 'nested-zones' && x.action === 'removed zone' && x.detail?.startsWith(`${nz.name} (`));
      const action = c?.detail?.replace(/^[^:]*: /, '') ?? 'left';
      nestedZones.push({ name: nz.name, state: nz.state, zonepath: nz.zonepath, action });
    }
    if (nestedZones.length) {
      issue('zones', 'warning', `the image has ${nestedZones.length} non-global zone(s), unusable inside a zone: ${nestedZones.map((n) => `${n.name} (${n.state}) at ${n.zonepath || '-'}: ${n.action}`).join('; ')}. Migrate them separately (zoneadm detach / attach).`, ['etc/zones/index']);
    }
  }

  // vfstab and shares.
  const vfstab = f.files.has('etc/vfstab') ? vfstabFindings(f.files.get('etc/vfstab')!, z) : [];
  for (const v of vfstab) {
    const sev: Severity = v.advice === 'none' ? 'info' : 'warning';
    const what = v.zonecfg ? `${v.configured ? 'already configured' : 'to keep it, add to the zone'}: ${v.zonecfg}` : v.note;
    issue('vfstab', sev, `line ${v.lineNo} commented out (${v.mountPoint} ${v.type}): ${what}${v.zonecfg && v.note ? ` (${v.note})` : ''}`, ['etc/vfstab']);
  }
  if (f.unread.has('etc/vfstab')) issue('vfstab', 'warning', `etc/vfstab not read: ${f.unread.get('etc/vfstab')}`, ['etc/vfstab']);
  const shares = f.files.has('etc/dfs/dfstab') ? shareFindings(f.files.get('etc/dfs/dfstab')!) : [];
  for (const s of shares) issue('nfs', 'warning', `share ${s.path ?? JSON.stringify(s.line.trim())} commented out (line ${s.lineNo}): a zone cannot be an NFS server; share it from the global zone`, ['etc/dfs/dfstab']);

  // Network.
  const hosts = parseHosts(hostsText(f));
  const netmasks = parseNetmasks(f.files.get('etc/inet/netmasks') ?? '');
  const interfaces: Interface[] = [];
  const dhcpFiles: string[] = [];
  for (const [file, text] of [...f.hostnameFiles].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (file.startsWith('etc/dhcp.')) {
      dhcpFiles.push(file);
      continue;
    }
    if (file.startsWith('etc/hostname.lo') || file.startsWith('etc/hostname6.lo')) continue;
    interfaces.push(parseInterfaceFile(file, text, { hosts, netmasks }));
  }
  for (const d of dhcpFiles) {
    const name = d.slice('etc/dhcp.'.length);
    const it = interfaces.find((i) => i.name === name && !i.ipv6);
    if (it) it.dhcp = true;
    else interfaces.push({ file: d, name, physical: name.split(':')[0]!, logical: 0, ipv6: false, dhcp: true, rarp: false, ignored: 0, dhcpFileOnly: true });
  }
  const defaultRouter = f.files.get('etc/defaultrouter')?.split('\n').map((l) => l.replace(/#.*/, '').trim()).find((l) => l !== '') ?? null;
  const exclusiveIp: string[] = [];
  const v4 = interfaces.filter((i) => !i.ipv6);
  const physicals = [...new Set(interfaces.map((i) => i.physical))];
  if (physicals.length) {
    exclusiveIp.push(`ip-type=exclusive and one net resource per physical interface: ${physicals.join(', ')} (each a NIC or VNIC of this host given to the zone)`);
    const held = [...f.hostnameFiles.keys()].filter((k) => k.startsWith('etc/hostname.') && !k.startsWith('etc/hostname.lo'));
    if (held.length === 1) exclusiveIp.push(`p2v renames ${held[0]} to etc/hostname.<physical> when the zone has exactly one net resource`);
    else exclusiveIp.push(`p2v renames no hostname.* file (the image has ${held.length}): rename them by hand to the zone's net physical names`);
    exclusiveIp.push('the addresses, netmasks and routes stay inside the zone, configured by its own files');
  }
  for (const i of v4) {
    if (i.dhcp || i.rarp) {
      issue('dynaddr', z.ipType === 'shared' ? 'warning' : 'info', `${i.file}: ${i.dhcp ? 'DHCP' : 'RARP'} address on ${i.name}${z.ipType === 'shared' ? ': not supported in a shared-IP zone (use ip-type=exclusive)' : ''}`, [i.file]);
    } else if (i.address === undefined) {
      issue('network', 'warning', `${i.file}: address ${JSON.stringify(i.token ?? '')} does not resolve in the image's hosts file: set the zone's address by hand`, [i.file]);
    }
    if (i.group) issue('sharedip', z.ipType === 'shared' ? 'warning' : 'info', `${i.file}: IPMP group ${i.group}${z.ipType === 'shared' ? ': configure IPMP in the global zone' : ': configure IPMP on the zone\'s own links'}`, [i.file]);
  }
  for (const i of interfaces.filter((x) => x.ipv6)) issue('ipv6', 'info', `${i.file}: IPv6 interface ${i.name}: hostname6.* files are not updated by p2v`, [i.file]);
  if (z.ipType === 'exclusive' && physicals.length) issue('physif', 'warning', `exclusive-IP: ${exclusiveIp[0]}`, interfaces.map((i) => i.file));
  for (const c of changes) {
    if (c.rule === 'network' && c.action === 'not changed' && c.detail?.startsWith('Cannot update')) issue('network', 'warning', `${c.path}: ${c.detail}`, [c.path]);
  }
  if (f.files.has('etc/ipf/ipf.conf') && z.ipType === 'shared') issue('svcexclip', 'warning', 'etc/ipf/ipf.conf: IP filter rules need an exclusive-IP zone (or set them in the global zone)', ['etc/ipf/ipf.conf']);
  if (f.files.has('etc/inet/static_routes') && (f.files.get('etc/inet/static_routes') ?? '').split('\n').some((l) => l.trim() && !l.trim().startsWith('#'))) {
    issue('sharedip', z.ipType === 'shared' ? 'warning' : 'info', 'etc/inet/static_routes: persistent static routes' + (z.ipType === 'shared' ? ': add them in the global zone' : ''), ['etc/inet/static_routes']);
  }

  // SMF: what the rule will do (its report), and what zonep2vchk would flag.
  const smf = changes
    .filter((c) => c.rule === 'smf' && /^(disable|enable|delete) service$/.test(c.action))
    .map((c) => {
      const m = /^(\S+) \((.*)\)$/.exec(c.detail ?? '');
      return { action: c.action.replace(/ service$/, ''), service: m?.[1] ?? c.detail ?? '', why: m?.[2] ?? '', path: c.path };
    });
  const services = serviceChecks(f.manifests, f.methods, { s11, ipType: z.ipType });
  const disabledByP2v = new Set(smf.filter((s) => s.action !== 'enable').map((s) => s.service.replace(/:[^:/]*$/, '')));
  for (const s of services) {
    const handled = disabledByP2v.has(s.service) ? ' (p2v disables it at first boot)' : '';
    issue(s.id, 'warning', `${s.service}: ${s.message}${handled}`, s.found);
  }

  // /etc/system.
  const etcSystem = f.files.has('etc/system') ? etcSystemFindings(f.files.get('etc/system')!) : [];
  for (const t of etcSystem) {
    const label = t.directive === 'set' ? `set ${t.name}=${t.value}` : `${t.directive}: ${t.name}`;
    issue('etcsystem', t.verdict === 'obsolete' ? 'info' : 'warning', `${label} (line ${t.lineNo}): ${t.advice}`, ['etc/system']);
  }

  // Packages and Live Upgrade, from the rules' report.
  const packagesToRemove = changes.filter((c) => c.rule === 'packages').map((c) => c.path.replace(/^var\/sadm\/pkg\//, ''));
  for (const p of packagesToRemove) issue('pkg', 'warning', `package ${p} cannot be used in a zone: remove it in the zone once it runs (pkgrm ${p})`, [`var/sadm/pkg/${p}`]);
  const liveUpgrade = [...new Set(f.liveUpgrade)].sort();
  if (liveUpgrade.length) issue('be', 'info', 'Live Upgrade boot environments: only the active one is in the image; p2v removes the Live Upgrade state', liveUpgrade);

  // Blockers: what makes an install fail.
  if (inp.zoneError) issue('zonecfg', 'blocker', inp.zoneError);
  if (inp.zoneNote) issue('zonecfg', 'warning', inp.zoneNote);
  for (const m of inp.zonepathErrors ?? []) issue('zonepath', 'blocker', m);
  if (inp.error) issue('archive', 'blocker', `${inp.error.writing ? 'an install would stop writing the zone root' : 'the image cannot be read to the end'}: ${inp.error.message}`);
  if (inp.attach) {
    const { sanity, compare } = inp.attach;
    if (!sanity.ok) for (const m of sanity.messages.filter((x) => !/Sanity Check: (Passed|FAILED)/.test(x))) issue('sanity', 'blocker', m.trim());
    for (const s of sanity.skipped) issue('sanity', 'info', `skipped: ${s}`);
    for (const m of inp.attach.unsafe ?? []) issue('p2v', 'blocker', m);
    const backout = inp.attach.backout ?? [];
    if (backout.length) issue('backout', 'blocker', `${backout[0]} ${backout.slice(1).map((l) => l.trim()).join('; ')}`);
    if (!compare.ok) for (const e of compare.errors) issue('downgrade', 'blocker', e);
  }
  if (!inp.identityGiven) issue('identity', 'info', 'neither -u nor -p given: inspected as -p (preserve identity); install needs one of them');
  issue('hostid', 'info', 'the zone gets this host\'s hostid unless the zone configuration sets the original one (see the commented hostid line)');

  const order: Record<Severity, number> = { blocker: 0, warning: 1, info: 2 };
  issues.sort((a, b) => order[a.severity] - order[b.severity]);
  const blockers = issues.filter((i) => i.severity === 'blocker').length;
  const warnings = issues.filter((i) => i.severity === 'warning').length;

  const zonepath = z.zonepath ?? `/zones/${z.name}`;
  const dispadmin = f.files.get('etc/dispadmin.conf');
  const schedulingClass = dispadmin ? /^\s*DEFCLASS\s*=\s*(\S+)/m.exec(dispadmin)?.[1] : undefined;
  const zonecfg = zonecfgCommands({
    zone: z.name,
    zonepath,
    autoboot: z.autoboot ?? false,
    ipType: z.ipType,
    net: z.net,
    interfaces,
    defaultRouter: defaultRouter ?? undefined,
    vfstab,
    tunables: etcSystem,
    schedulingClass,
    source: inp.source,
  });

  const info = inp.info;
  const out = inp.output;
  return {
    v: INSPECT_VERSION,
    source: inp.source,
    image: {
      format: info.format ?? null,
      variant: info.variant ?? null,
      compression: [...info.compression],
      flar: info.flar ? { ...info.flar } : null,
      release,
      instRelease,
      nodename,
    },
    counts: {
      input: { ...f.counts },
      output: out ? { entries: out.entries, bytes: out.bytes, byType: sortKeys(out.byType), removedLate: out.removedLate } : null,
      dropped: { ...inp.report.dropped },
    },
    zone: { name: z.name, zonepath, ipType: z.ipType, net: [...z.net], identity: inp.identity, identityGiven: inp.identityGiven, brand: z.brand ?? 'native' },
    nestedZones,
    vfstab,
    shares,
    network: { interfaces, defaultRouter, exclusiveIp },
    smf,
    services,
    etcSystem,
    packagesToRemove,
    liveUpgrade,
    attach: {
      host: inp.host.label,
      hostRelease: inp.host.inventory.release?.etcRelease ?? null,
      sanity: inp.attach?.sanity ?? null,
      compare: inp.attach ? { ok: inp.attach.compare.ok, errors: inp.attach.compare.errors, pkgAdd: inp.attach.compare.pkgAdd, pkgRm: inp.attach.compare.pkgRm } : null,
    },
    changes: changes.map((c) => ({ ...c })),
    notes: [...inp.report.notes],
    issues,
    zonecfg,
    error: inp.error ?? null,
    warnings: { ...(inp.warnings ?? {}) },
    verdict: { ok: blockers === 0, exit: blockers === 0 ? 0 : 1, blockers, warnings },
  };
}

function sortKeys(o: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));
}

export function human(n: number): string {
  const u = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let x = n;
  while (x >= 1024 && i < u.length - 1) {
    x /= 1024;
    i++;
  }
  return i === 0 ? `${n} bytes` : `${x.toFixed(1)} ${u[i]}`;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Printable form of an image path (latin1 bytes shown as UTF-8 where valid). */
function show(p: string): string {
  const b = Buffer.from(p, 'latin1');
  const s = b.toString('utf8');
  return Buffer.from(s, 'utf8').equals(b) ? s : p.replace(/[\x80-\xff]/g, (c) => `\\x${c.charCodeAt(0).toString(16)}`);
}

/** The report as text, zonep2vchk style. */
export function renderText(d: InspectDoc): string {
  const o: string[] = [];
  const img = d.image;
  const fmt = [img.flar ? 'flash archive' : '', img.format ?? img.variant ?? '', img.compression.length ? `(${img.compression.join(', ')})` : ''].filter(Boolean).join(' ');
  o.push(`--zonep2v inspect (report v${d.v}) of ${show(d.source)}`);
  o.push(`  - Image: ${fmt || 'unknown'}`);
  if (img.flar) {
    const keys = ['files_archived_method', 'files_compressed_method', 'content_name', 'creation_date', 'creation_master', 'content_architectures', 'creation_os_name', 'creation_os_release', 'creation_os_version', 'files_archived_size', 'files_unarchived_size'];
    const shown = keys.filter((k) => img.flar![k] !== undefined).map((k) => `${k}=${img.flar![k]}`);
    o.push(`    Flash archive identification: ${shown.join(', ')}`);
  }
  o.push(`  - Release: ${img.release ?? '(no etc/release)'}${img.instRelease ? ` (INST_RELEASE: ${Object.entries(img.instRelease).map(([k, v]) => `${k}=${v}`).join(' ')})` : ' (no INST_RELEASE)'}`);
  if (img.nodename) o.push(`  - Source system: ${img.nodename}`);
  const c = d.counts.input;
  const kinds = [plural(c.files, 'file'), plural(c.dirs, 'directory', 'directories'), plural(c.symlinks, 'symbolic link'), plural(c.hardlinks, 'hard link'), plural(c.fifos, 'FIFO'), plural(c.devices, 'device node')];
  if (c.sockets) kinds.push(plural(c.sockets, 'socket'));
  o.push(`  - Entries: ${c.entries} (${kinds.join(', ')}), ${human(c.bytes)} of file data`);
  if (d.counts.output) {
    const dropped = Object.entries(d.counts.dropped).map(([k, n]) => `${n} ${k}`).join(', ');
    o.push(`  - An install would write ${d.counts.output.entries} entries, ${human(d.counts.output.bytes)}${dropped ? `; it drops ${dropped}` : ''}${d.counts.output.removedLate ? `; ${d.counts.output.removedLate} written before etc/zones/index would be removed` : ''}`);
  }
  o.push(`  - Target: zone ${d.zone.name}, zonepath ${d.zone.zonepath}, ${d.zone.brand} brand, ${d.zone.ipType}-IP${d.zone.net.length ? ` (net ${d.zone.net.join(', ')})` : ''}, ${d.zone.identity === 'unconfigure' ? '-u (sys-unconfig)' : '-p (preserve identity)'}${d.zone.identityGiven ? '' : ' by default'}`);
  if (d.error) o.push(`  - Error: ${d.error.message}`);
  o.push('');

  const section = (title: string, body: string[]) => {
    if (!body.length) return;
    o.push(`--${title}:`);
    o.push(...body);
    o.push('');
  };
  section('Nested zones', d.nestedZones.map((n) => `  ${n.name} (${n.state}) at ${n.zonepath || '-'}: ${n.action}`));
  section(
    'vfstab lines p2v comments out',
    d.vfstab.flatMap((v) => [`  line ${v.lineNo}: ${v.line.replace(/\t/g, ' ')}`, v.zonecfg ? `      -> ${v.zonecfg}${v.configured ? ' (already in the zone configuration)' : ''}${v.note ? `\n         ${v.note}` : ''}` : `      -> ${v.note}`]),
  );
  section('Shares p2v comments out (etc/dfs/dfstab)', d.shares.map((s) => `  line ${s.lineNo}: ${s.line.trim()}`));
  const net = d.network;
  section('Network interfaces (hostname.* files)', [
    ...net.interfaces.map((i) => {
      const bits = [i.ipv6 ? 'IPv6' : 'IPv4'];
      if (i.dhcp) bits.push('DHCP');
      if (i.rarp) bits.push('RARP');
      if (i.token !== undefined && !i.dhcp) bits.push(`${i.token}${i.address && i.address !== i.token ? ` = ${i.address}` : ''}${i.prefix !== undefined ? `/${i.prefix}` : ''}`);
      if (i.address === undefined && i.token !== undefined && !i.dhcp) bits.push('unresolved');
      if (i.group) bits.push(`IPMP group ${i.group}`);
      return `  ${i.name}: ${bits.join(', ')} (${i.file})`;
    }),
    ...(net.defaultRouter ? [`  default router: ${net.defaultRouter}`] : []),
    ...(net.exclusiveIp.length ? ['  Exclusive-IP would need:', ...net.exclusiveIp.map((x) => `    ${x}`)] : []),
  ]);
  section('SMF changes p2v makes at first boot (var/svc/profile/upgrade)', d.smf.map((s) => `  ${s.action} ${s.service}${s.why ? ` (${s.why})` : ''}`));
  section('/etc/system', d.etcSystem.map((t) => `  line ${t.lineNo}: ${t.line.trim()}\n      -> ${t.verdict}: ${t.advice}`));

  section(
    `Changes p2v would make (the report an install saves as var/log/${d.zone.name}.p2v.log)`,
    [
      ...d.changes.map((c) => `  ${c.rule}: ${show(c.path)}: ${c.action}${c.detail ? ` (${c.detail})` : ''}`),
      ...Object.entries(d.counts.dropped).map(([k, n]) => `  dropped: ${n} ${k}`),
      ...d.notes.map((n) => `  note: ${n.replace(/\n/g, '\n        ')}`),
    ],
  );

  const att = d.attach;
  const attBody: string[] = [`  host: ${att.host}${att.hostRelease ? ` (${att.hostRelease})` : ''}`];
  if (att.sanity) attBody.push(...att.sanity.messages.map((m) => `  ${m.trim()}`), ...att.sanity.skipped.map((s) => `  skipped: ${s}`));
  if (att.compare) {
    if (att.compare.ok) attBody.push(`  Packages: no downgrade; on attach ${att.compare.pkgAdd.length} package(s) would be updated from this host, ${att.compare.pkgRm.length} removed from the image`);
    else attBody.push(...att.compare.errors.map((e) => `  ${e.replace(/\n/g, '\n  ')}`));
  } else if (!d.error) attBody.push('  not checked');
  section('Attach check against the host', attBody);

  const sev = (s: Severity) => d.issues.filter((i) => i.severity === s);
  const issueLines = [...sev('blocker'), ...sev('warning')].map((i) => `  Issue (${i.severity}, ${i.id}): ${i.message}`);
  const infoLines = sev('info').map((i) => `  Note (${i.id}): ${i.message}`);
  o.push('--Basic checks:');
  o.push(...issueLines, ...infoLines);
  o.push(`  Basic checks complete, ${d.verdict.blockers + d.verdict.warnings} issue(s) detected`);
  o.push('');
  section(`zonecfg command file (zonecfg -z ${d.zone.name} -f FILE)`, d.zonecfg.trimEnd().split('\n'));
  o.push(d.verdict.ok ? `--Result: an install would succeed (${plural(d.verdict.warnings, 'warning')} to review)` : `--Result: an install would FAIL (${plural(d.verdict.blockers, 'blocker')}, ${plural(d.verdict.warnings, 'warning')})`);
  return o.join('\n') + '\n';
}
