// Network files (solaris-p2v.md 3.4, fix_net).
// Shared-IP: nothing changes. Exclusive-IP: when the image has exactly one
// etc/hostname.* file (hostname6.* not counted) and the zone exactly one net
// resource, that file is renamed etc/hostname.<physical>, content unchanged,
// unless it is already so named or is not a regular file (safe_move refuses
// symlinks). Otherwise "Cannot update /etc/hostname.{net} file" is reported
// with the reason. Either way the cases p2v never fixes are reported:
// hostname6.* (IPv6), dhcp.* (DHCP), and IPMP groups (`group` keyword) in
// hostname files. Renaming needs every hostname.* file, so they (tiny) are
// held until the end of the stream and then emitted renamed or as they were.
// A hard link to a held file (an admin's copy made with ln, anywhere in the
// image) is held too and emitted after it, pointing at its new name: passed
// on at once it would point at a file not yet written. A hostname.* file
// that is itself the archive's hard link is renamed like a file (mv renames
// one name of a linked file).

import { copyEntry, type Entry } from '../entry.js';
import { hold, withBody, type Held } from './make.js';
import { normPath } from './path.js';
import { defineRule } from './stage.js';
import { fields, toLines } from './text.js';

export const NETWORK = 'network';
export const CANNOT = 'Cannot update /etc/hostname.{net} file';

/** IPMP group names named by `group <name>` in a hostname file. */
export function ipmpGroups(buf: Buffer): string[] {
  const out: string[] = [];
  for (const line of toLines(buf)) {
    const f = fields(line.replace(/#.*/, ''));
    for (let i = 0; i < f.length; i++) if (f[i] === 'group' && f[i + 1] !== undefined) out.push(f[i + 1]!);
  }
  return out;
}

export const networkRule = defineRule(NETWORK, (ctx) => {
  if (ctx.zone.ipType !== 'exclusive') return { entry: (e) => e, firstChars: '' };
  const held: { rel: string; h: Held | null; e: Entry }[] = [];
  const v6: string[] = [];
  const dhcp: string[] = [];
  /** Hard links to held hostname.* files, emitted after them. */
  const links: { e: Entry; target: string }[] = [];
  const report = ctx.report;
  return {
    firstChars: 'e',
    // A hard link to a hostname file may lie anywhere.
    hardlinks: true,
    entry(e, rel) {
      if (e.type === 'hardlink' && e.linkTarget !== undefined && !rel.startsWith('etc/hostname.')) {
        const target = normPath(e.linkTarget);
        if (target.startsWith('etc/hostname.') && held.some((x) => x.h && x.rel === target)) {
          links.push({ e: copyEntry(e), target });
          return null;
        }
        return e;
      }
      if (rel.charCodeAt(0) !== 101 /* e */) return e;
      if (rel.startsWith('etc/hostname')) {
        if (rel.indexOf('/', 4) >= 0 || e.type === 'dir') return e;
        if (rel.startsWith('etc/hostname.')) {
          // Hold it; a file too large to hold is counted but left in place.
          return hold(e).then((h) => {
            held.push({ rel, h, e });
            return h ? null : e;
          });
        }
        if (rel.startsWith('etc/hostname6.')) v6.push(rel);
        return e;
      }
      if (rel.startsWith('etc/dhcp.') && rel.indexOf('/', 4) < 0) dhcp.push(rel);
      return e;
    },
    finish() {
      const out: Entry[] = [];
      const net = ctx.zone.net;
      let renamed: { from: string; to: string } | null = null;
      if (held.length !== 1) {
        report.add(NETWORK, 'etc/hostname.*', 'not changed', `${CANNOT}: ${held.length} hostname.* files in the image${held.length ? ` (${held.map((x) => x.rel.slice(4)).join(', ')})` : ''}`);
      } else if (net.length !== 1) {
        report.add(NETWORK, held[0]!.rel, 'not changed', `${CANNOT}: the zone has ${net.length} net resources${net.length ? ` (${net.join(', ')})` : ''}`);
      } else {
        const one = held[0]!;
        const phys = net[0]!;
        const to = `etc/hostname.${phys}`;
        if (one.rel === to) {
          // already right
        } else if (!/^[A-Za-z0-9][A-Za-z0-9_.:-]*$/.test(phys)) {
          report.add(NETWORK, one.rel, 'not changed', `${CANNOT}: invalid net physical '${phys}'`);
        } else if (!one.h || (one.e.type !== 'file' && one.e.type !== 'hardlink')) {
          report.add(NETWORK, one.rel, 'not changed', `${CANNOT}: ${one.h ? `not a regular file (${one.e.type})` : 'too large'}`);
        } else {
          renamed = { from: one.rel, to };
        }
      }
      for (const x of held) {
        if (x.h) {
          for (const g of ipmpGroups(x.h.buf)) report.add(NETWORK, x.rel, 'needs manual work', `IPMP group '${g}': configure IPMP in the global zone or on the zone's own links`);
        }
        if (!x.h) continue; // passed on already
        if (renamed && x.rel === renamed.from) {
          out.push(withBody(x.h.entry, x.h.buf, { path: renamed.to }));
          report.add(NETWORK, x.rel, 'renamed', `to ${renamed.to}`);
        } else out.push(x.h.entry);
      }
      for (const l of links) {
        if (renamed && l.target === renamed.from) {
          l.e.linkTarget = renamed.to;
          report.add(NETWORK, normPath(l.e.path), 'link target changed', `hard link to ${renamed.from}, now to ${renamed.to}`);
        }
        out.push(l.e);
      }
      for (const p of v6) report.add(NETWORK, p, 'needs manual work', 'IPv6 interface: hostname6.* files are not updated by p2v');
      for (const p of dhcp) report.add(NETWORK, p, 'needs manual work', 'DHCP interface: dhcp.* files are not updated by p2v');
      return out;
    },
  };
});
