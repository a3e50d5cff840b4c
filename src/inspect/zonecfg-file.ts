// A ready zonecfg command file for the zone (like `zonep2vchk -c`): create
// -b (whole root), zonepath, autoboot, ip-type, net resources from the
// image's hostname.* files (addresses from its hosts file when they resolve),
// fs and dataset resources for the vfstab lines p2v disables, rctls for the
// /etc/system tunables that have a zone-wide one, a commented hostid line and
// commented caps. One command (or one resource) per line; `zonecfg -z NAME
// -f FILE` reads it.

import type { Interface, Tunable, VfstabFinding } from './checks.js';

export interface ZonecfgInput {
  zone: string;
  zonepath: string;
  autoboot: boolean;
  ipType: 'shared' | 'exclusive';
  /** Physical names given with --net (exclusive-IP); the hostname.* files otherwise. */
  net: string[];
  interfaces: Interface[];
  defaultRouter?: string;
  vfstab: VfstabFinding[];
  tunables: Tunable[];
  schedulingClass?: string;
  /** Where the advice came from, for the header comment. */
  source: string;
}

/** A value zonecfg reads as one token (quoted when it holds blanks or specials). */
function q(v: string): string {
  return /^[-A-Za-z0-9_.,:/+=@%]+$/.test(v) ? v : `"${v.replace(/(["\\])/g, '\\$1')}"`;
}

export function zonecfgCommands(z: ZonecfgInput): string {
  const out: string[] = [];
  out.push(`# zonecfg command file for zone ${z.zone}, made by zonep2v inspect from ${z.source.replace(/[\r\n]/g, ' ')}`);
  out.push(`# Use: zonecfg -z ${z.zone} -f FILE, then zonep2v install ${z.zone} ${z.zonepath} -a ARCHIVE -u|-p`);
  out.push('create -b');
  out.push(`set zonepath=${q(z.zonepath)}`);
  out.push(`set autoboot=${z.autoboot}`);
  out.push(`set ip-type=${z.ipType}`);
  if (z.schedulingClass) out.push(`set scheduling-class=${q(z.schedulingClass)}`);
  out.push('# Uncomment the following to retain original host hostid (run hostid(1) on the original system):');
  out.push('# set hostid=ORIGINAL_HOSTID');

  const v4 = z.interfaces.filter((i) => !i.ipv6);
  if (z.ipType === 'shared') {
    const nets = v4.filter((i) => !i.dhcp && !i.rarp);
    if (nets.length) out.push("# Net resources from the image's hostname.* files: physical is the original system's interface; use this host's.");
    for (const i of nets) {
      const addr = i.address ? `${i.address}${i.prefix !== undefined ? `/${i.prefix}` : ''}` : undefined;
      if (!addr) {
        out.push(`# ${i.file}: address ${JSON.stringify(i.token ?? '')} does not resolve in the image's hosts file:`);
        out.push(`# add net; set address=ADDRESS; set physical=${q(i.physical)}; end`);
        continue;
      }
      const parts = ['add net', `set address=${addr}`, `set physical=${q(i.physical)}`];
      if (z.defaultRouter && i.logical === 0) parts.push(`set defrouter=${q(z.defaultRouter)}`);
      parts.push('end');
      out.push(parts.join('; '));
    }
    for (const i of v4.filter((x) => x.dhcp || x.rarp)) out.push(`# ${i.file}: ${i.dhcp ? 'DHCP' : 'RARP'} interface: not possible in a shared-IP zone (needs ip-type=exclusive)`);
  } else {
    const phys = z.net.length ? z.net : [...new Set(z.interfaces.map((i) => i.physical))];
    if (!z.net.length && phys.length) out.push("# Net resources from the image's hostname.* files: each needs a NIC (or VNIC) of this host dedicated to the zone.");
    for (const p of phys) out.push(`add net; set physical=${q(p)}; end`);
  }

  const fsLines = z.vfstab.filter((f) => f.zonecfg);
  if (fsLines.length) out.push('# File systems the image mounted (vfstab lines p2v comments out):');
  for (const f of fsLines) out.push(f.zonecfg!);

  const rctls = z.tunables.filter((t) => t.zonecfg);
  if (rctls.length) out.push('# Resource controls for the /etc/system tunables that have a zone-wide one:');
  for (const t of rctls) out.push(t.zonecfg!);

  out.push('# Uncomment to cap the zone\'s CPU and memory:');
  out.push('# add capped-cpu; set ncpus=NCPUS; end');
  out.push('# add capped-memory; set physical=SIZE; set swap=SIZE; end');
  out.push('verify');
  out.push('commit');
  return out.join('\n') + '\n';
}
