// -u (solaris-p2v.md 3.10): the file changes sys-unconfig(1M) makes, applied
// offline (the image cannot be booted here). With 'preserve' (-p) the rule
// passes everything. With 'unconfigure':
// - etc/inet/hosts is saved as etc/inet/hosts.saved and reset to the
//   default (loopback only) host table;
// - the vfstab's active nfs lines are removed, the file before that saved as
//   etc/vfstab.orig (only when there are such lines);
// - etc/hostname.<if> is removed for every non-loopback interface;
// - etc/defaultdomain, etc/inet/netmasks, etc/defaultrouter and
//   etc/nodename are removed (symlinks such as etc/netmasks are left);
// - the time zone is set to PST8PDT (TZ= in etc/default/init, and in
//   etc/TIMEZONE when that is a regular file rather than the usual symlink);
// - NIS is disabled: var/nis/NIS_COLD_START and var/yp/binding/* removed;
//   etc/nsswitch.conf restored from etc/nsswitch.files;
// - this host's lines (first field = the old nodename) are removed from
//   etc/net/{ticlts,ticots,ticotsord}/hosts;
// - root's password field in etc/shadow is emptied (the rest kept);
// - etc/.UNCONFIGURED and reconfigure (at the image root) are created.
// Copies p2v makes (hosts.saved, vfstab.orig) replace the image's own, as
// sys-unconfig overwrites them; the image's copy is held until it is known.
// A hosts file that is already the default table is left, with its
// hosts.saved: a second -u (install of a `convert -u` archive) must not
// replace the saved real table with the default one.
// Files that still carry the old identity but are not in solaris-p2v.md's
// list are left as they are and reported (NOT_DONE): the Solaris 10
// sys-unconfig(1M) page also removes etc/resolv.conf, etc/.rootkey and the
// LDAP client files in var/ldap; an etc/inet/ipnodes that is a regular file
// (before Solaris 10 8/07 it was not yet a symlink to hosts) still names
// the old host and addresses.
// A file deleted here may have another name in the image (a hard link, such
// as an admin's `ln` copy of hostname.<if>): sys-unconfig's rm only unlinks
// /etc's name, so a deleted file is read first, and a later hard link to it
// becomes a regular file with that content (links.ts), not a link to nothing.

import type { Entry } from '../entry.js';
import { addedFile, deleteEntry, hold, ROOT, withBody, type Held } from './make.js';
import { defineRule } from './stage.js';
import { fields, fromLines, toLines } from './text.js';

export const UNCONFIGURE = 'unconfigure';

export const DEFAULT_HOSTS = '#\n# Internet host table\n#\n::1\tlocalhost\n127.0.0.1\tlocalhost\n';
const DEFAULT_HOSTS_BUF = Buffer.from(DEFAULT_HOSTS, 'latin1');
export const DEFAULT_TZ = 'PST8PDT';

const REMOVED = new Set(['etc/defaultdomain', 'etc/inet/netmasks', 'etc/defaultrouter', 'etc/nodename']);
const NET_HOSTS = new Set(['etc/net/ticlts/hosts', 'etc/net/ticots/hosts', 'etc/net/ticotsord/hosts']);
const TZ_FILES = new Set(['etc/default/init', 'etc/TIMEZONE']);
/** Files rewritten or restored in place (besides TZ_FILES and NET_HOSTS). */
const REWRITTEN = new Set(['etc/inet/hosts', 'etc/vfstab', 'etc/shadow', 'etc/nsswitch.conf', 'etc/nsswitch.files']);
const NOT_DONE = new Map<string, string>([
  ['etc/inet/ipnodes', 'a regular file, not the symlink to hosts: still lists the old host names and addresses'],
  ['etc/resolv.conf', 'DNS client configuration (Solaris 10 sys-unconfig(1M) removes it)'],
  ['etc/.rootkey', 'NIS+ root key (Solaris 10 sys-unconfig(1M) removes it)'],
  ['var/ldap/ldap_client_file', 'LDAP client configuration (Solaris 10 sys-unconfig(1M) removes it)'],
  ['var/ldap/ldap_client_cred', 'LDAP client credentials (Solaris 10 sys-unconfig(1M) removes it)'],
  ['var/ldap/ldap_client_cache', 'LDAP client cache (Solaris 10 sys-unconfig(1M) removes it)'],
]);

/** Clear root's password field; null when it is already empty or absent. */
export function clearRootPassword(buf: Buffer): Buffer | null {
  let changed = false;
  const out = toLines(buf).map((line) => {
    if (!line.startsWith('root:')) return line;
    const f = line.split(':');
    if (f.length < 2 || f[1] === '') return line;
    f[1] = '';
    changed = true;
    return f.join(':');
  });
  return changed ? fromLines(out) : null;
}

/** Set TZ=<tz> (replace the TZ= line, or append one); null when already so. */
export function setTimezone(buf: Buffer, tz: string): Buffer | null {
  const lines = toLines(buf);
  const want = `TZ=${tz}`;
  let found = false;
  const out = lines.map((l) => {
    if (!/^\s*TZ=/.test(l)) return l;
    found = true;
    return want;
  });
  if (!found) out.push(want);
  const b = fromLines(out);
  return b.equals(buf) ? null : b;
}

/** Remove the active nfs lines of a vfstab; null when there are none. */
export function removeNfsLines(buf: Buffer): { buf: Buffer; removed: number } | null {
  const lines = toLines(buf);
  const out = lines.filter((l) => {
    const f = fields(l);
    return !(f.length > 3 && !f[0]!.startsWith('#') && f[3] === 'nfs');
  });
  return out.length === lines.length ? null : { buf: fromLines(out), removed: lines.length - out.length };
}

/** Remove the lines whose first field is `host`; null when none. */
export function removeHostLines(buf: Buffer, host: string): Buffer | null {
  const lines = toLines(buf);
  const out = lines.filter((l) => fields(l)[0] !== host);
  return out.length === lines.length ? null : fromLines(out);
}

/** A file p2v writes that the image may also carry: p2v's copy wins. */
class Owned {
  ours: Entry | null = null;
  image: Held | null = null;
  constructor(readonly path: string) {}
  async seeImage(e: Entry, report: (action: string) => void): Promise<Entry | null> {
    if (this.ours) {
      report("replaced the image's copy");
      return null;
    }
    const h = await hold(e);
    if (!h) return e;
    this.image = h;
    return null;
  }
  finish(report: (action: string) => void): Entry | null {
    if (this.ours) {
      if (this.image) report("replaced the image's copy");
      return this.ours;
    }
    return this.image ? this.image.entry : null;
  }
}

export const unconfigureRule = defineRule(UNCONFIGURE, (ctx) => {
  if (ctx.identity !== 'unconfigure') return { entry: (e) => e, firstChars: '' };
  const report = ctx.report;
  const add = (path: string, action: string, detail?: string) => report.add(UNCONFIGURE, path, action, detail);
  const hostsSaved = new Owned('etc/inet/hosts.saved');
  const vfstabOrig = new Owned('etc/vfstab.orig');
  let unconfiguredSeen = false;
  let reconfigureSeen = false;
  let nodename: string | null = null;
  const netHosts: Held[] = [];
  let nsswitchFiles: Buffer | null = null;
  let nsswitchConf: Held | null = null;

  function netHostsFix(h: Held, rel: string): Entry {
    if (!nodename) return h.entry;
    const b = removeHostLines(h.buf, nodename);
    if (!b) return h.entry;
    add(rel, 'rewritten', `removed the entries of host ${nodename}`);
    return withBody(h.entry, b);
  }

  function nsswitch(conf: Held, files: Buffer): Entry {
    if (conf.buf.equals(files)) return conf.entry;
    add('etc/nsswitch.conf', 'restored', 'from etc/nsswitch.files');
    return withBody(conf.entry, files);
  }

  async function onFile(e: Entry, rel: string): Promise<Entry | readonly Entry[] | null> {
    const h = await hold(e);
    if (!h) {
      add(rel, 'not changed', 'too large');
      return e;
    }
    switch (rel) {
      case 'etc/inet/hosts':
        // Already the default table (an image p2v'd before, such as one
        // `convert -u` wrote): saving it would replace the real old table
        // in hosts.saved with this one.
        if (h.buf.equals(DEFAULT_HOSTS_BUF)) {
          add(rel, 'not changed', 'already the default host table; etc/inet/hosts.saved left as it is');
          return h.entry;
        }
        hostsSaved.ours = addedFile(hostsSaved.path, h.buf, { mode: e.mode, uid: e.uid, gid: e.gid }, ctx);
        add(rel, 'reset', 'default host table; the old one saved as etc/inet/hosts.saved');
        return withBody(h.entry, DEFAULT_HOSTS_BUF);
      case 'etc/vfstab': {
        const r = removeNfsLines(h.buf);
        if (!r) return h.entry;
        vfstabOrig.ours = addedFile(vfstabOrig.path, h.buf, { mode: e.mode, uid: e.uid, gid: e.gid }, ctx);
        add(rel, 'rewritten', `removed ${r.removed} nfs line${r.removed === 1 ? '' : 's'}; the file before saved as etc/vfstab.orig`);
        return withBody(h.entry, r.buf);
      }
      case 'etc/shadow': {
        const b = clearRootPassword(h.buf);
        if (!b) return h.entry;
        add(rel, 'rewritten', "root's password cleared");
        return withBody(h.entry, b);
      }
      case 'etc/default/init':
      case 'etc/TIMEZONE': {
        const b = setTimezone(h.buf, DEFAULT_TZ);
        if (!b) return h.entry;
        add(rel, 'rewritten', `TZ=${DEFAULT_TZ}`);
        return withBody(h.entry, b);
      }
      case 'etc/nodename':
        nodename = h.buf.toString('latin1').split('\n')[0]!.trim() || null;
        add(rel, 'deleted');
        {
          const out = netHosts.splice(0).map((x) => netHostsFix(x, x.entry.path));
          return out.length ? out : null;
        }
      case 'etc/nsswitch.conf':
        if (nsswitchFiles) return nsswitch(h, nsswitchFiles);
        nsswitchConf = h;
        return null;
      case 'etc/nsswitch.files': {
        nsswitchFiles = h.buf;
        const conf = nsswitchConf as Held | null;
        if (!conf) return h.entry;
        nsswitchConf = null;
        return [h.entry, nsswitch(conf, h.buf)];
      }
      default:
        if (NET_HOSTS.has(rel)) {
          if (nodename) return netHostsFix(h, rel);
          netHosts.push({ entry: withBody(h.entry, h.buf, { path: rel }), buf: h.buf });
          return null;
        }
        return h.entry;
    }
  }

  return {
    firstChars: 'erv',
    wantsFile: (rel) => REMOVED.has(rel) || REWRITTEN.has(rel) || TZ_FILES.has(rel) || NET_HOSTS.has(rel),
    entry(e, rel) {
      const c = rel.charCodeAt(0);
      if ((c === 101 || c === 118) && e.type === 'file' && NOT_DONE.has(rel)) add(rel, 'not changed', `needs manual work: ${NOT_DONE.get(rel)!}`);
      if (c === 101 /* e */) {
        if (!rel.startsWith('etc/')) return e;
        if (rel.startsWith('etc/hostname.') && rel.indexOf('/', 4) < 0 && e.type !== 'dir') {
          if (rel.startsWith('etc/hostname.lo')) return e;
          add(rel, 'deleted', 'interface configuration');
          return deleteEntry(e);
        }
        if (rel === 'etc/.UNCONFIGURED') unconfiguredSeen = true;
        if (rel === hostsSaved.path) return hostsSaved.seeImage(e, (a) => add(rel, a));
        if (rel === vfstabOrig.path) return vfstabOrig.seeImage(e, (a) => add(rel, a));
        if (e.type !== 'file') return e;
        if (REMOVED.has(rel)) {
          if (rel === 'etc/nodename') return onFile(e, rel);
          add(rel, 'deleted');
          return deleteEntry(e);
        }
        if (REWRITTEN.has(rel) || TZ_FILES.has(rel) || NET_HOSTS.has(rel)) return onFile(e, rel);
        return e;
      }
      if (c === 118 /* v */) {
        if (rel === 'var/nis/NIS_COLD_START' || (rel.startsWith('var/yp/binding/') && rel.length > 15)) {
          add(rel, 'deleted', 'NIS binding');
          return deleteEntry(e);
        }
        return e;
      }
      if (c === 114 /* r */ && rel === 'reconfigure') reconfigureSeen = true;
      return e;
    },
    finish() {
      const out: Entry[] = [];
      for (const o of [hostsSaved, vfstabOrig]) {
        const x = o.finish((a) => add(o.path, a));
        if (x) {
          if (o.ours === x) add(o.path, 'created');
          out.push(x);
        }
      }
      for (const h of netHosts) out.push(netHostsFix(h, h.entry.path));
      const conf = nsswitchConf as Held | null;
      if (conf) {
        add('etc/nsswitch.conf', 'not changed', 'no etc/nsswitch.files in the image');
        out.push(conf.entry);
      }
      if (!unconfiguredSeen) {
        out.push(addedFile('etc/.UNCONFIGURED', '', { mode: 0o644, uid: ROOT, gid: ROOT }, ctx));
        add('etc/.UNCONFIGURED', 'created');
      }
      if (!reconfigureSeen) {
        out.push(addedFile('reconfigure', '', { mode: 0o644, uid: ROOT, gid: ROOT }, ctx));
        add('reconfigure', 'created');
      }
      return out;
    },
  };
});
