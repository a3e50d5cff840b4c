// The inspect observer: the first rule of the chain. It sees the image as it
// comes (before any p2v rule rewrites it), counts it, and keeps, bounded,
// the few small files and names the zonep2vchk-style checks read: vfstab,
// dfstab, hostname.*, hosts, netmasks, defaultrouter, /etc/system, release
// files, the zone index, dispadmin.conf, ipfilter rules, SMF manifests
// (scanned, not kept) and method scripts, and the package names.
// Bodies it reads are handed on downstream from memory.

import { bodyLength, readBody, type Entry, type EntryType } from '../entry.js';
import { withBody } from '../rules/make.js';
import { scanManifest, type ManifestService } from '../rules/manifest.js';
import { normPath } from '../rules/path.js';
import type { Rule } from '../rules/types.js';

/** Largest small file kept (config files are tiny). */
export const OBSERVE_CAP = 1024 * 1024;
/** Largest SMF manifest scanned. */
export const MANIFEST_CAP = 4 * 1024 * 1024;
/** Most names remembered per list (method scripts, interface files...). */
const LIST_CAP = 10_000;

/** Files read whole (when regular and at most OBSERVE_CAP bytes). */
const KEPT = new Set([
  'etc/vfstab',
  'etc/dfs/dfstab',
  'etc/inet/hosts',
  'etc/inet/ipnodes',
  'etc/inet/netmasks',
  'etc/defaultrouter',
  'etc/nodename',
  'etc/system',
  'etc/release',
  'var/sadm/system/admin/INST_RELEASE',
  'etc/zones/index',
  'etc/dispadmin.conf',
  'etc/ipf/ipf.conf',
  'etc/inet/static_routes',
]);

export interface InputCounts {
  entries: number;
  /** Regular files (each name of a hard-link group counted as its own entry type). */
  files: number;
  dirs: number;
  symlinks: number;
  hardlinks: number;
  fifos: number;
  devices: number;
  sockets: number;
  /** Sum of regular file sizes (apparent sizes). */
  bytes: number;
}

export interface Facts {
  counts: InputCounts;
  /** Kept files by normalised path (latin1 text). */
  files: Map<string, string>;
  /** Kept files that were not regular files, or too large: path -> why. */
  unread: Map<string, string>;
  /** etc/hostname.<if> and etc/hostname6.<if>, etc/dhcp.<if>: path -> content ("" when unread). */
  hostnameFiles: Map<string, string>;
  /** Manifest path -> services it declares. */
  manifests: Map<string, ManifestService[]>;
  /** Names of lib/svc/method/* entries. */
  methods: Set<string>;
  /** var/sadm/pkg/<PKG> names. */
  packages: Set<string>;
  /** etc/lu, etc/lutab seen. */
  liveUpgrade: string[];
}

function newCounts(): InputCounts {
  return { entries: 0, files: 0, dirs: 0, symlinks: 0, hardlinks: 0, fifos: 0, devices: 0, sockets: 0, bytes: 0 };
}

const COUNT_KEY: Record<EntryType, keyof InputCounts> = {
  file: 'files',
  dir: 'dirs',
  symlink: 'symlinks',
  hardlink: 'hardlinks',
  fifo: 'fifos',
  char: 'devices',
  block: 'devices',
  socket: 'sockets',
};

export class ImageObserver implements Rule {
  readonly name = 'inspect-observer';
  readonly facts: Facts = {
    counts: newCounts(),
    files: new Map(),
    unread: new Map(),
    hostnameFiles: new Map(),
    manifests: new Map(),
    methods: new Set(),
    packages: new Set(),
    liveUpgrade: [],
  };

  async *apply(entries: AsyncIterable<Entry>): AsyncIterable<Entry> {
    for await (const e of entries) yield await this.see(e);
  }

  private async see(e: Entry): Promise<Entry> {
    const f = this.facts;
    const c = f.counts;
    c.entries++;
    c[COUNT_KEY[e.type]]++;
    if (e.type === 'file') c.bytes += e.size;
    const rel = normPath(e.path);
    const ch = rel.charCodeAt(0);
    if (ch !== 101 /* e */ && ch !== 118 /* v */ && ch !== 108 /* l */) return e;

    if (rel.startsWith('lib/svc/method/')) {
      if (f.methods.size < LIST_CAP && e.type !== 'dir') f.methods.add(rel.slice(15));
      return e;
    }
    if (rel.startsWith('var/sadm/pkg/')) {
      const name = rel.slice(13).split('/')[0]!;
      if (name && f.packages.size < LIST_CAP) f.packages.add(name);
      if (!KEPT.has(rel)) return e;
    }
    if (rel === 'etc/lutab' || rel === 'etc/lu') {
      f.liveUpgrade.push(rel);
      if (rel === 'etc/lu') return e;
    }
    if (rel.startsWith('var/svc/manifest/') && rel.endsWith('.xml')) {
      if (e.type !== 'file' || e.sparse || bodyLength(e) > MANIFEST_CAP) return e;
      const buf = await readBody(e, MANIFEST_CAP);
      f.manifests.set(rel, scanManifest(buf.toString('latin1')));
      return withBody(e, buf);
    }
    const iface = /^etc\/(hostname6?|dhcp)\.[^/]+$/.test(rel);
    if (!iface && !KEPT.has(rel)) return e;
    if (e.type !== 'file' || e.sparse || bodyLength(e) > OBSERVE_CAP) {
      if (iface) {
        if (e.type !== 'dir' && f.hostnameFiles.size < LIST_CAP) f.hostnameFiles.set(rel, '');
      } else {
        f.unread.set(rel, e.type !== 'file' ? `a ${e.type}, not a regular file` : e.sparse ? 'a sparse file' : `over ${OBSERVE_CAP} bytes`);
      }
      return e;
    }
    const buf = await readBody(e, OBSERVE_CAP);
    const text = buf.toString('latin1');
    if (iface) {
      if (f.hostnameFiles.size < LIST_CAP) f.hostnameFiles.set(rel, text);
    } else {
      f.files.set(rel, text);
      f.unread.delete(rel);
    }
    return withBody(e, buf);
  }
}
