// zonep2vchk-style checks (solaris-p2v.md 5), made offline from the image's
// own files: vfstab lines p2v disables and the zonecfg resource that brings
// each back, shares, network interfaces (hostname.* parsed as zonep2vchk
// does), services a zone cannot run, and /etc/system tunables with their
// resource-control equivalents. Pure functions over text; the observer
// (observe.ts) supplies the text, report.ts assembles the findings.

import { vfstabKeep } from '../rules/vfstab.js';
import { fields } from '../rules/text.js';
import type { ManifestService } from '../rules/manifest.js';

function lines(text: string): string[] {
  const l = text.split('\n');
  if (text.endsWith('\n')) l.pop();
  return l;
}

// ------------------------------------------------------------------ vfstab

export interface VfstabFinding {
  lineNo: number;
  line: string;
  device: string;
  fsckDevice: string;
  mountPoint: string;
  type: string;
  options: string;
  /** What brings the mount back in the zone. */
  advice: 'fs' | 'dataset' | 'none';
  /** Why (for 'none') or what to know (for 'fs', 'dataset'). */
  note: string;
  /** The zonecfg commands, one line ("add fs; ...; end"). */
  zonecfg?: string;
  /** The zone configuration already has a matching fs or dataset resource. */
  configured?: boolean;
}

/** Mount points whose files are part of the image itself. */
const IMAGE_FS = new Set(['/', '/usr', '/var']);

/** The vfstab lines p2v comments out (the rule's own test), each with its zonecfg advice. */
export function vfstabFindings(text: string, zone: { fs: { dir: string; special: string; type: string }[]; datasets: string[] }): VfstabFinding[] {
  const out: VfstabFinding[] = [];
  lines(text).forEach((line, i) => {
    const f = fields(line);
    if (f.length === 0 || f[0]!.startsWith('#') || vfstabKeep(f)) return;
    const [device = '-', fsckDevice = '-', mountPoint = '-', type = '-', , , options = '-'] = f;
    const finding: VfstabFinding = { lineNo: i + 1, line, device, fsckDevice, mountPoint, type, options, advice: 'none', note: '' };
    if (type === 'swap') {
      finding.note = 'a swap device: swap is the global zone\'s; limit the zone\'s share with "add capped-memory; set swap=SIZE; end"';
    } else if (device === '/devices' || type === 'devfs') {
      finding.note = 'the zone gets its own /devices';
    } else if (IMAGE_FS.has(mountPoint)) {
      finding.note = `a system file system: its files are part of the image${mountPoint === '/' ? ' (the zone root)' : ''}`;
    } else if (type === 'zfs') {
      finding.advice = 'dataset';
      finding.zonecfg = `add dataset; set name=${device}; end`;
      finding.note = `a ZFS dataset (legacy mount at ${mountPoint}): delegate it to the zone and mount it there`;
      finding.configured = zone.datasets.includes(device);
    } else if (mountPoint === '-' || !mountPoint.startsWith('/')) {
      finding.note = 'no mount point';
    } else {
      finding.advice = 'fs';
      const parts = [`add fs`, `set dir=${mountPoint}`, `set special=${device}`];
      if (fsckDevice !== '-') parts.push(`set raw=${fsckDevice}`);
      parts.push(`set type=${type}`);
      if (options !== '-' && options !== '') parts.push(`add options [${options}]`);
      parts.push('end');
      finding.zonecfg = parts.join('; ');
      const notes: string[] = [];
      if (device.startsWith('/dev/md/')) notes.push('an SVM metadevice: it must exist in the global zone');
      else if (device.startsWith('/dev/vx/')) notes.push('a VxVM volume: it must exist in the global zone');
      else if (device.startsWith('/dev/')) notes.push('the device must be this host\'s');
      if (f[5] === 'no') notes.push('it was not mounted at boot; a zone fs resource is');
      finding.note = notes.join('; ');
      finding.configured = zone.fs.some((x) => x.dir === mountPoint);
    }
    out.push(finding);
  });
  return out;
}

// ------------------------------------------------------------------ shares

export interface ShareFinding {
  lineNo: number;
  line: string;
  /** The shared path, when the line is a share command. */
  path?: string;
  fstype?: string;
}

/** The dfstab lines p2v comments out (every non-comment line). */
export function shareFindings(text: string): ShareFinding[] {
  const out: ShareFinding[] = [];
  lines(text).forEach((line, i) => {
    const f = fields(line);
    if (f.length === 0 || f[0]!.startsWith('#')) return;
    const s: ShareFinding = { lineNo: i + 1, line };
    const cmd = f[0]!.replace(/^.*\//, '');
    if (cmd === 'share') {
      const rest: string[] = [];
      for (let j = 1; j < f.length; j++) {
        const t = f[j]!;
        if (t === '-F' || t === '-o' || t === '-d') {
          if (t === '-F') s.fstype = f[j + 1];
          j++;
          // -d "quoted description" may span fields.
          if (t === '-d' && f[j]?.startsWith('"') && !(f[j]!.length > 1 && f[j]!.endsWith('"'))) while (j + 1 < f.length && !f[j]!.endsWith('"')) j++;
          continue;
        }
        if (/^-[Fod].+/.test(t)) {
          if (t.startsWith('-F')) s.fstype = t.slice(2);
          continue;
        }
        rest.push(t);
      }
      if (rest[0]) s.path = rest[0];
    }
    out.push(s);
  });
  return out;
}

// ------------------------------------------------------------------ network

export interface Interface {
  /** etc/hostname.e1000g0:1 */
  file: string;
  /** e1000g0:1 */
  name: string;
  /** e1000g0 */
  physical: string;
  /** The logical unit (":1"), 0 for the physical interface. */
  logical: number;
  ipv6: boolean;
  dhcp: boolean;
  rarp: boolean;
  /** The first bare token: a host name or an address. */
  token?: string;
  /** The address, when the token is one or resolves through the image's hosts file. */
  address?: string;
  /** Prefix length from "netmask" or etc/inet/netmasks. */
  prefix?: number;
  group?: string;
  /** Tokens on lines zonep2vchk ignores (zone, modlist, removeif, unplumb). */
  ignored: number;
  /** Only a dhcp.<if> file names this interface. */
  dhcpFileOnly?: boolean;
}

const FLAGS = new Set(['up', 'down', 'plumb', 'deprecated', '-deprecated', 'failover', '-failover', 'standby', '-standby', 'private', '-private', 'router', '-router', 'trailers', '-trailers', 'arp', '-arp', 'xmit', '-xmit', 'nud', '-nud', 'anycast', '-anycast', 'preferred', '-preferred', 'inactive', '-inactive', 'ipmp', 'offline', 'online']);
const WITH_ARG = new Set(['netmask', 'broadcast', 'destination', 'metric', 'mtu', 'index', 'ether', 'token', 'tdst', 'tsrc', 'encaplimit', 'hoplimit', 'thoplimit', 'subnet', 'set', 'addif', 'group', 'zone', 'usesrc', 'auth_algs', 'encr_algs', 'encr_auth_algs']);
const IGNORE_LINE = /\b(zone|modlist|removeif|unplumb)\b/;

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function ipv4(s: string): number | undefined {
  const m = IPV4.exec(s);
  if (!m) return undefined;
  const b = m.slice(1).map(Number);
  if (b.some((x) => x > 255)) return undefined;
  return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
}

/** Prefix length of a dotted or 0x mask; undefined when it is not contiguous. */
export function maskPrefix(mask: string): number | undefined {
  let v: number | undefined;
  if (/^0x[0-9a-f]{1,8}$/i.test(mask)) v = parseInt(mask.slice(2), 16) >>> 0;
  else v = ipv4(mask);
  if (v === undefined) return undefined;
  let n = 0;
  while (n < 32 && (v & (0x80000000 >>> n)) !== 0) n++;
  for (let i = n; i < 32; i++) if ((v & (0x80000000 >>> i)) !== 0) return undefined;
  return n;
}

/** hosts(4): name (or alias) -> first address. */
export function parseHosts(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const l of lines(text)) {
    const f = fields(l.replace(/#.*/, ''));
    if (f.length < 2) continue;
    for (const name of f.slice(1)) if (!m.has(name)) m.set(name, f[0]!);
  }
  return m;
}

/** netmasks(4): [network, mask] pairs. */
export function parseNetmasks(text: string): [number, number][] {
  const out: [number, number][] = [];
  for (const l of lines(text)) {
    const f = fields(l.replace(/#.*/, ''));
    if (f.length < 2) continue;
    const net = ipv4(f[0]!);
    const p = maskPrefix(f[1]!);
    if (net === undefined || p === undefined) continue;
    out.push([net, p === 0 ? 0 : (0xffffffff << (32 - p)) >>> 0]);
  }
  return out;
}

function netmaskLookup(addr: string, masks: [number, number][]): number | undefined {
  const a = ipv4(addr);
  if (a === undefined) return undefined;
  let best: number | undefined;
  for (const [net, mask] of masks) {
    if (((a & mask) >>> 0) !== net) continue;
    const p = maskPrefix(`0x${mask.toString(16)}`)!;
    if (best === undefined || p > best) best = p;
  }
  return best;
}

/** One hostname.* / hostname6.* file, parsed as zonep2vchk parses it. */
export function parseInterfaceFile(file: string, text: string, ctx: { hosts: Map<string, string>; netmasks: [number, number][] }): Interface {
  const base = file.replace(/^etc\//, '');
  const ipv6 = base.startsWith('hostname6.');
  const name = base.slice(base.indexOf('.') + 1);
  const colon = name.indexOf(':');
  const it: Interface = {
    file,
    name,
    physical: colon < 0 ? name : name.slice(0, colon),
    logical: colon < 0 ? 0 : Number(name.slice(colon + 1)) || 0,
    ipv6,
    dhcp: false,
    rarp: false,
    ignored: 0,
  };
  let maskTok: string | undefined;
  for (const raw of lines(text)) {
    const l = raw.replace(/#.*/, '');
    const f = fields(l);
    if (f.length === 0) continue;
    if (IGNORE_LINE.test(l)) {
      it.ignored++;
      continue;
    }
    for (let i = 0; i < f.length; i++) {
      const t = f[i]!;
      if (t === 'dhcp' || t === 'auto-dhcp') it.dhcp = true;
      else if (t === 'auto-revarp') it.rarp = true;
      else if (t === 'group') it.group ??= f[i + 1];
      else if (t === 'netmask') maskTok ??= f[i + 1];
      if (WITH_ARG.has(t)) {
        // "set ADDR": this interface's address ("addif ADDR" makes another logical unit).
        if (t === 'set' && it.token === undefined && f[i + 1] !== undefined) it.token = f[i + 1];
        i++;
        continue;
      }
      if (FLAGS.has(t) || t === 'dhcp' || t === 'auto-dhcp' || t === 'auto-revarp' || t === 'inet' || t === 'inet6' || t === '+' || t.startsWith('-')) continue;
      if (it.token === undefined) it.token = t;
    }
  }
  if (it.token !== undefined) {
    const tok = it.token.replace(/\/\d+$/, '');
    const slash = /\/(\d+)$/.exec(it.token);
    if (ipv4(tok) !== undefined || (ipv6 && tok.includes(':'))) it.address = tok;
    else {
      const a = ctx.hosts.get(tok);
      if (a !== undefined) it.address = a;
    }
    if (slash) it.prefix = Number(slash[1]);
  }
  if (it.prefix === undefined && it.address !== undefined && !ipv6) {
    if (maskTok !== undefined && maskTok !== '+') it.prefix = maskPrefix(maskTok);
    it.prefix ??= netmaskLookup(it.address, ctx.netmasks);
  }
  return it;
}

// ------------------------------------------------------------------ services

export interface ServiceCheck {
  /** zonep2vchk issue id. */
  id: 'svcnotallowed' | 'ntp-client' | 'dhcp-server' | 'svcexclip';
  service: string;
  /** Where it was found: manifest paths, or lib/svc/method/<name>. */
  found: string[];
  message: string;
}

/** Services zonep2vchk does not allow in a zone (S10 sources), solaris-p2v.md 5. */
export const SVC_NOT_ALLOWED = ['ldoms/ldmd', 'system/virtualbox/vboxservice', 'application/virtualbox/zoneaccess', 'network/ipmievd', 'network/iscsi/initiator', 'network/nfs/server', 'system/iscsitgt', 'system/pools', 'system/pools/dynamic'];
/** Added for S11 sources. */
export const SVC_NOT_ALLOWED_S11 = ['network/iscsi/target', 'network/smb/server', 'network/tnd', 'system/iscsi/target', 'system/labeld', 'system/stmf', 'system/wusbd'];
export const SVC_NTP = ['network/ntp', 'network/ntp4'];
export const SVC_DHCP_SERVER = ['network/dhcp-server'];
/** Services that need an exclusive-IP zone. */
export const SVC_EXCLUSIVE_IP = [
  'network/ipfilter',
  'network/ipsec/ike',
  'network/ipsec/ipsecalgs',
  'network/ipsec/manual-key',
  'network/ipsec/policy',
  'network/ipv4-forwarding',
  'network/ipv6-forwarding',
  'network/rarp',
  ...['bgp', 'legacy-routing', 'ndp', 'ospf', 'ospf6', 'rdisc', 'rip', 'ripng', 'route', 'zebra'].map((s) => `network/routing/${s}`),
  'network/routing-setup',
];

/** Method scripts that betray a service whose manifest is missing (a fallback only). */
const METHODS: Record<string, string> = {
  'nfs-server': 'network/nfs/server',
  xntp: 'network/ntp',
  'svc-pools': 'system/pools',
  'svc-poold': 'system/pools/dynamic',
  ipfilter: 'network/ipfilter',
};

function svcName(s: string): string {
  return s.replace(/^svc:\//, '').replace(/^\/+/, '').replace(/:[^/]*$/, '');
}

export function serviceChecks(manifests: ReadonlyMap<string, ManifestService[]>, methods: ReadonlySet<string>, opts: { s11: boolean; ipType: 'shared' | 'exclusive' }): ServiceCheck[] {
  const where = new Map<string, string[]>();
  for (const [path, svcs] of manifests) {
    for (const s of svcs) {
      const n = svcName(s.name);
      where.set(n, [...(where.get(n) ?? []), path]);
    }
  }
  for (const m of [...methods].sort()) {
    const svc = METHODS[m];
    if (svc && !where.has(svc)) where.set(svc, [`lib/svc/method/${m}`]);
  }
  const out: ServiceCheck[] = [];
  const add = (id: ServiceCheck['id'], list: readonly string[], message: (s: string) => string) => {
    for (const s of list) {
      const found = where.get(s);
      if (found) out.push({ id, service: `svc:/${s}`, found: [...found].sort(), message: message(s) });
    }
  };
  add('svcnotallowed', opts.s11 ? [...SVC_NOT_ALLOWED, ...SVC_NOT_ALLOWED_S11] : SVC_NOT_ALLOWED, () => 'not allowed in a zone: disable it (it cannot run there)');
  add('ntp-client', SVC_NTP, () => 'a zone cannot set the system clock: run NTP in the global zone, or give the zone limitpriv=default,sys_time');
  add('dhcp-server', SVC_DHCP_SERVER, () => 'a DHCP server needs an exclusive-IP zone (or limitpriv net_rawaccess and /dev/ip)');
  if (opts.ipType === 'shared') add('svcexclip', SVC_EXCLUSIVE_IP, () => 'needs an exclusive-IP zone; with shared-IP, configure it in the global zone');
  return out;
}

// ------------------------------------------------------------------ /etc/system

export interface Tunable {
  lineNo: number;
  line: string;
  /** "set" or the directive ("forceload", "exclude", ...). */
  directive: string;
  /** module:variable or variable (set), or the directive's argument. */
  name: string;
  value?: string;
  /**
   * rctl: a resource control replaces it (zoneRctl when zonecfg can set it);
   * obsolete: no effect since Solaris 10; global: a kernel-wide setting, made
   * in the global zone; none: a boot directive with no zone alternative.
   */
  verdict: 'rctl' | 'obsolete' | 'global' | 'none';
  /** The project or process rctl that replaces it. */
  rctl?: string;
  /** The zone-wide rctl zonecfg sets, when there is one. */
  zoneRctl?: string;
  /** "privileged" or "basic" (rlim_fd_cur). */
  priv?: 'privileged' | 'basic';
  advice: string;
  /** zonecfg command (one line) for zoneRctl. */
  zonecfg?: string;
}

const RCTLS: Record<string, { rctl: string; zone?: string; priv?: 'privileged' | 'basic' }> = {
  'semsys:seminfo_semmni': { rctl: 'project.max-sem-ids', zone: 'zone.max-sem-ids' },
  'semsys:seminfo_semmsl': { rctl: 'process.max-sem-nsems' },
  'semsys:seminfo_semopm': { rctl: 'process.max-sem-ops' },
  'shmsys:shminfo_shmmax': { rctl: 'project.max-shm-memory', zone: 'zone.max-shm-memory' },
  'shmsys:shminfo_shmmni': { rctl: 'project.max-shm-ids', zone: 'zone.max-shm-ids' },
  'msgsys:msginfo_msgmni': { rctl: 'project.max-msg-ids', zone: 'zone.max-msg-ids' },
  'msgsys:msginfo_msgtql': { rctl: 'process.max-msg-messages' },
  'msgsys:msginfo_msgmnb': { rctl: 'process.max-msg-qbytes' },
  rlim_fd_max: { rctl: 'process.max-file-descriptor', priv: 'privileged' },
  rlim_fd_cur: { rctl: 'process.max-file-descriptor', priv: 'basic' },
};

const OBSOLETE = new Set([
  'semsys:seminfo_semmns',
  'semsys:seminfo_semmnu',
  'semsys:seminfo_semume',
  'semsys:seminfo_semvmx',
  'semsys:seminfo_semaem',
  'semsys:seminfo_semmap',
  'semsys:seminfo_semusz',
  'shmsys:shminfo_shmmin',
  'shmsys:shminfo_shmseg',
  'msgsys:msginfo_msgmax',
  'msgsys:msginfo_msgssz',
  'msgsys:msginfo_msgseg',
  'msgsys:msginfo_msgmap',
]);

const DIRECTIVES = ['exclude', 'include', 'forceload', 'rootdev', 'rootfs', 'moddir'];

/** Numeric value of a system(4) number (decimal, 0x hex, 0 octal), for rctl limits. */
function sysNumber(v: string): number | undefined {
  if (/^0x[0-9a-f]+$/i.test(v)) return parseInt(v.slice(2), 16);
  if (/^0[0-7]+$/.test(v)) return parseInt(v, 8);
  if (/^\d+$/.test(v)) return Number(v);
  return undefined;
}

export function etcSystemFindings(text: string): Tunable[] {
  const out: Tunable[] = [];
  lines(text).forEach((line, i) => {
    const t = line.trim();
    if (t === '' || t.startsWith('*') || t.startsWith('#')) return;
    const set = /^set\s+([A-Za-z_][\w.]*(?::[A-Za-z_][\w.]*)?)\s*([|&]?=)\s*(\S+)/.exec(t);
    if (set) {
      const name = set[1]!;
      const value = set[3]!;
      const tn: Tunable = { lineNo: i + 1, line, directive: 'set', name, value, verdict: 'global', advice: '' };
      const r = RCTLS[name];
      if (r) {
        tn.verdict = 'rctl';
        tn.rctl = r.rctl;
        tn.priv = r.priv ?? 'privileged';
        const n = sysNumber(value);
        const lim = n === undefined ? value : String(n);
        tn.advice = `resource control ${r.rctl}: in the zone, projmod -s -K "${r.rctl}=(${tn.priv},${lim},deny)" default`;
        if (r.zone) {
          tn.zoneRctl = r.zone;
          tn.zonecfg = `add rctl; set name=${r.zone}; add value (priv=privileged,limit=${lim},action=deny); end`;
          tn.advice += `; zone-wide: ${r.zone} (zonecfg)`;
        }
      } else if (OBSOLETE.has(name)) {
        tn.verdict = 'obsolete';
        tn.advice = 'obsolete since Solaris 10: no effect, nothing to do';
      } else {
        tn.advice = 'a kernel-wide tunable with no zone equivalent: set it in the global zone\'s /etc/system if the zone needs it';
      }
      out.push(tn);
      return;
    }
    const d = /^([a-z]+):\s*(.*)$/.exec(t);
    if (d && DIRECTIVES.includes(d[1]!)) {
      out.push({ lineNo: i + 1, line, directive: d[1]!, name: d[2]!.trim(), verdict: 'none', advice: 'a boot or module directive: no alternative in a zone (the global zone\'s kernel is used)' });
    }
  });
  return out;
}
