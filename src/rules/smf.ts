// SMF handling (solaris-p2v.md 3.3). The image cannot be booted here, so the
// changes are appended, as svccfg/svcadm commands, to var/svc/profile/upgrade,
// which SMF runs once at the zone's next boot (the S11 `solaris` brand's
// approach, 3.3c and 7). The image's own upgrade file is held and emitted at
// the end with the lines appended; it is created (root:sys 0644) when absent.
//
// Facts gathered while streaming, decided at the end (any order works):
// - var/sadm/pkg/<PKG>/pkginfo containing SUNW_PKG_HOLLOW=true: hollow;
// - var/sadm/pkg/<PKG>/save/pspool/<PKG>/pkgmap: its `f` lines whose path
//   starts with var/svc/manifest/ (the manifests the package delivers);
// - var/svc/manifest/**.xml: services and instances (scanned, bounded).
// Then, in this order:
// (a) for each manifest of a hollow package, for each FMRI `svccfg
//     inventory` would list: `/usr/sbin/svccfg delete -f <fmri>`,
//     `/usr/sbin/svccfg delhash -d /<manifest>`, `rm -f /<manifest>`;
// (c) shared-IP only: enable svc:/network/physical:default and disable
//     svc:/network/physical:nwam when present, disable every instance whose
//     FMRI contains network/routing (this matches routing-setup too);
// (d) disable the brand list (network/smb/server, system/virtualbox/
//     vboxservice, ldoms/ldmd) when `<svc>:` is installed, and the site's
//     services always (the site asked for them explicitly);
// (e) disable every instance whose FMRI contains network/shares/group.
// "Installed" means: an instance found in a manifest under var/svc/manifest
// and not deleted by (a).

import type { Entry } from '../entry.js';
import { addedFile, hold, holdBody, ROOT, SYS, withBody, type Held } from './make.js';
import { inventory, scanManifest, type ManifestService } from './manifest.js';
import { defineRule } from './stage.js';
import { shellSafe, solarisDate } from './text.js';

export const SMF = 'smf';
export const UPGRADE = 'var/svc/profile/upgrade';
export const SVCCFG = '/usr/sbin/svccfg';
export const SVCADM = '/usr/sbin/svcadm';

/** The brand's smf_disable.lst (native + solaris10). */
export const SMF_DISABLE = ['svc:/network/smb/server', 'svc:/system/virtualbox/vboxservice', 'svc:/ldoms/ldmd'];

const PKG = 'var/sadm/pkg/';
const MANIFESTS = 'var/svc/manifest/';
const MANIFEST_CAP = 4 * 1024 * 1024;
const PKGMAP_CAP = 64 * 1024 * 1024;
const HOLLOW = Buffer.from('SUNW_PKG_HOLLOW=true');
const MANIFEST_NEEDLE = Buffer.from(MANIFESTS);

/** The `f` manifest paths a pkgmap lists (field 2 `f`, field 4 under var/svc/manifest/). */
export function pkgmapManifests(buf: Buffer): string[] {
  const out: string[] = [];
  let at = buf.indexOf(MANIFEST_NEEDLE);
  while (at >= 0) {
    const s = buf.lastIndexOf(10, at) + 1;
    let e = buf.indexOf(10, at);
    if (e < 0) e = buf.length;
    const f = buf.toString('latin1', s, e).trim().split(/[ \t]+/);
    if (f[1] === 'f' && f[3] !== undefined && f[3].startsWith(MANIFESTS)) out.push(f[3]);
    at = buf.indexOf(MANIFEST_NEEDLE, e);
  }
  return out;
}

const HEAD = '# Added by zonep2v for zone ';
/** A line this rule writes, exactly (commands() builds them from shell-safe names). */
const OURS = /^(\/usr\/sbin\/svccfg delete -f \S+|\/usr\/sbin\/svccfg delhash -d \/\S+|rm -f \/\S+|\/usr\/sbin\/svcadm (enable|disable) (\S+))$/;

/**
 * The command lines of the zonep2v blocks an upgrade file ends with: an
 * image p2v'd before (installing what `convert` wrote) has them, and running
 * them twice at first boot only fails (svccfg delete of a deleted service).
 * Only blocks at the very end count (a site line after them stops the
 * search), and of several svcadm lines for one service only the last, the
 * one in effect.
 */
export function trailingBlockLines(text: string): Set<string> {
  const lines = text.split('\n');
  const found = new Set<string>();
  const pending: string[] = [];
  const seenSvc = new Set<string>();
  for (let i = lines.length - 1; i >= 0; i--) {
    const l = lines[i]!.trim();
    if (l === '') continue;
    if (l.startsWith(HEAD)) {
      for (const p of pending) found.add(p);
      pending.length = 0;
      continue;
    }
    const m = OURS.exec(l);
    if (!m) break;
    const fmri = m[3];
    if (fmri !== undefined) {
      if (seenSvc.has(fmri)) continue;
      seenSvc.add(fmri);
    }
    pending.push(l);
  }
  return found;
}

/** "svc:/x/y" for "x/y", "/x/y" or "svc:/x/y". */
export function toFmri(s: string): string {
  const t = s.trim();
  return t.startsWith('svc:/') ? t : `svc:/${t.replace(/^\/+/, '')}`;
}

export const smfRule = defineRule(SMF, (ctx) => {
  const report = ctx.report;
  const hollow = new Set<string>();
  /** Packages whose pkginfo said not hollow: their pkgmap need not be read. */
  const solid = new Set<string>();
  const pkgmaps = new Map<string, string[]>();
  const manifests = new Map<string, ManifestService[]>();
  let upgrade: Held | null = null;
  let upgradeOther: Entry | null = null;

  async function onPkgFile(e: Entry, rel: string): Promise<Entry> {
    // var/sadm/pkg/<PKG>/pkginfo or var/sadm/pkg/<PKG>/save/pspool/<PKG>/pkgmap
    const parts = rel.slice(PKG.length).split('/');
    const pkg = parts[0]!;
    if (parts.length === 2 && parts[1] === 'pkginfo') {
      const buf = await holdBody(e);
      if (!buf) return e;
      if (buf.includes(HOLLOW)) {
        hollow.add(pkg);
      } else {
        solid.add(pkg);
        pkgmaps.delete(pkg);
      }
      return withBody(e, buf);
    }
    if (parts.length === 5 && parts[1] === 'save' && parts[2] === 'pspool' && parts[3] === pkg && parts[4] === 'pkgmap' && !solid.has(pkg)) {
      const buf = await holdBody(e, PKGMAP_CAP);
      if (!buf) {
        report.note(`${rel}: over ${PKGMAP_CAP} bytes, not read`);
        return e;
      }
      const list = pkgmapManifests(buf);
      if (list.length) pkgmaps.set(pkg, list);
      return withBody(e, buf);
    }
    return e;
  }

  async function onManifest(e: Entry, rel: string): Promise<Entry> {
    const buf = await holdBody(e, MANIFEST_CAP);
    if (!buf) {
      report.note(`${rel}: manifest over ${MANIFEST_CAP} bytes, not scanned`);
      return e;
    }
    manifests.set(rel, scanManifest(buf.toString('latin1')));
    return withBody(e, buf);
  }

  function commands(): string[] {
    const lines: string[] = [];
    const set = new Set<string>();
    for (const svcs of manifests.values()) for (const s of svcs) for (const i of s.instances) set.add(toFmri(`${s.name}:${i}`));
    const skip = (what: string) => report.note(`not written to ${UPGRADE}: unsafe name ${JSON.stringify(what)}`);

    // (a) services of hollow packages are deleted.
    const deleted = new Set<string>();
    for (const pkg of [...hollow].sort()) {
      for (const m of pkgmaps.get(pkg) ?? []) {
        const svcs = manifests.get(m);
        if (!svcs) {
          report.note(`${m} (hollow package ${pkg}) is not in the image: its services were not deleted`);
          continue;
        }
        for (const fmri of inventory(svcs)) {
          if (!shellSafe(fmri) || !shellSafe(m)) { skip(fmri); continue; }
          lines.push(`${SVCCFG} delete -f ${fmri}`, `${SVCCFG} delhash -d /${m}`, `rm -f /${m}`);
          deleted.add(fmri);
          report.add(SMF, m, 'delete service', `${fmri} (hollow package ${pkg})`);
        }
      }
    }
    // Solaris lists the installed services after the deletes: a deleted
    // service is not disabled (svcadm would fail on it at first boot).
    const installed = [...set].filter((f) => !deleted.has(f)).sort();
    const has = (fmri: string) => set.has(fmri) && !deleted.has(fmri);
    const disabled = new Set<string>();
    const disable = (fmri: string, why: string) => {
      if (disabled.has(fmri)) return;
      if (!shellSafe(fmri)) { skip(fmri); return; }
      disabled.add(fmri);
      lines.push(`${SVCADM} disable ${fmri}`);
      report.add(SMF, UPGRADE, 'disable service', `${fmri} (${why})`);
    };
    // (c) shared-IP network services.
    if (ctx.zone.ipType === 'shared') {
      const phys = 'svc:/network/physical:default';
      if (has(phys)) {
        lines.push(`${SVCADM} enable ${phys}`);
        report.add(SMF, UPGRADE, 'enable service', `${phys} (shared-IP)`);
      }
      if (has('svc:/network/physical:nwam')) disable('svc:/network/physical:nwam', 'shared-IP');
      for (const f of installed) if (f.includes('network/routing')) disable(f, 'shared-IP: routing is done by the global zone');
    }
    // (d) services a zone cannot run.
    for (const s of SMF_DISABLE) if (installed.some((f) => f.startsWith(`${s}:`))) disable(s, 'not usable in a zone');
    for (const s of ctx.site.disableServices) disable(toFmri(s), 'site list');
    // (e) a zone cannot be an NFS server.
    for (const f of installed) if (f.includes('network/shares/group')) disable(f, 'zones cannot share file systems');
    return lines;
  }

  return {
    firstChars: 'v',
    wantsFile: (rel) => rel === UPGRADE || (rel.startsWith(MANIFESTS) && rel.endsWith('.xml')) || (rel.startsWith(PKG) && rel.endsWith('/pkginfo') && rel.indexOf('/', PKG.length) === rel.length - 8),
    entry(e, rel) {
      if (rel.charCodeAt(0) !== 118 /* v */ || e.type !== 'file') {
        if (rel === UPGRADE) {
          upgradeOther = e;
          report.add(SMF, UPGRADE, 'not changed', `not a regular file (${e.type})`);
        }
        return e;
      }
      if (rel.startsWith(PKG)) return onPkgFile(e, rel);
      if (rel.startsWith(MANIFESTS)) return rel.endsWith('.xml') ? onManifest(e, rel) : e;
      if (rel === UPGRADE) {
        return hold(e).then((h) => {
          if (!h) {
            upgradeOther = e;
            report.add(SMF, UPGRADE, 'not changed', 'too large to append to');
            return e;
          }
          upgrade = h;
          return null;
        });
      }
      return e;
    },
    finish() {
      const lines = commands();
      const held = upgrade as Held | null;
      if (lines.length === 0) return held ? held.entry : null;
      if (upgradeOther) {
        report.note(`could not write the SMF changes to ${UPGRADE}; run them in the zone:\n${lines.join('\n')}`);
        return null;
      }
      const head = `${HEAD}${ctx.zone.name} on ${solarisDate(ctx.date)}`;
      if (held) {
        const old = held.buf.toString('latin1');
        const there = trailingBlockLines(old);
        const fresh = lines.filter((l) => !there.has(l));
        const kept = lines.length - fresh.length;
        if (fresh.length === 0) {
          report.add(SMF, UPGRADE, 'not changed', `its ${lines.length} lines are there already (an earlier p2v of this image)`);
          return held.entry;
        }
        const text = old + (old === '' || old.endsWith('\n') ? '' : '\n') + [head, ...fresh].join('\n') + '\n';
        report.add(SMF, UPGRADE, 'appended', `${fresh.length} lines${kept ? ` (${kept} there already)` : ''}`);
        return withBody(held.entry, Buffer.from(text, 'latin1'));
      }
      report.add(SMF, UPGRADE, 'created', `${lines.length} lines`);
      return addedFile(UPGRADE, [head, ...lines].join('\n') + '\n', { mode: 0o644, uid: ROOT, gid: SYS }, ctx);
    },
  };
});
