// One entry list, every format: the hostile corpus describes most attacks
// once (security.md 1.0 `mk(...)`) and encodes them as tar (ustar, pax, GNU),
// cpio (newc, crc, odc, bin both byte orders), flar (cpio or pax payload)
// and ufsdump, wherever the format can express them. A format that cannot
// (a tar socket, a cpio hard link to a name not in the archive, a dump
// name with '..') throws NotExpressible and the case is left out for it.

import { B, EOA, gnuLong, hdr, pad, paxHdr, paxRec, type HdrOpts } from './tar.js';
import { cpioArchive, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFREG, S_IFSOCK, type CpioMember, type CpioVariant } from './cpio.js';
import { flar } from './flar.js';
import { synthDump, type SynthDir, type SynthNode, type SynthKind } from '../../lib/dump-synth.js';

export type HType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo' | 'socket';

export interface HEntry {
  /** Member name, latin1 (one char per byte). */
  name: string;
  type?: HType;
  data?: string | Buffer;
  /** Symlink target, or the hard link's target name. */
  link?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  dev?: [number, number];
  uname?: string;
  /** pax: extra records in this entry's x header. */
  pax?: Buffer[];
}

export type TarFlavour = 'ustar' | 'pax' | 'gnu';
export type Fmt = TarFlavour | CpioVariant | 'flar' | 'flar-pax' | 'dump';

export const TAR: Fmt[] = ['ustar', 'pax', 'gnu'];
export const CPIO: Fmt[] = ['newc', 'crc', 'odc', 'bin-le', 'bin-be'];
export const FLAR: Fmt[] = ['flar', 'flar-pax'];
/** Every stream format the generic encoder covers except dump. */
export const STREAM: Fmt[] = [...TAR, ...CPIO, ...FLAR];
export const ALL: Fmt[] = [...STREAM, 'dump'];

export class NotExpressible extends Error {}

const bytes = (d: string | Buffer | undefined) => (d === undefined ? Buffer.alloc(0) : typeof d === 'string' ? B(d) : d);
const TYPEFLAG: Record<HType, string | null> = { file: '0', dir: '5', symlink: '2', hardlink: '1', char: '3', block: '4', fifo: '6', socket: null };

export function encodeTar(entries: HEntry[], flavour: TarFlavour): Buffer {
  const out: Buffer[] = [];
  entries.forEach((e, i) => {
    const type = e.type ?? 'file';
    const tf = TYPEFLAG[type];
    if (tf === null) throw new NotExpressible(`tar has no ${type} type`);
    const data = type === 'file' ? bytes(e.data) : Buffer.alloc(0);
    const o: HdrOpts = { type: tf, size: data.length, mode: e.mode ?? (type === 'dir' ? 0o755 : 0o644), uid: e.uid, gid: e.gid, mtime: e.mtime, uname: e.uname, devmajor: e.dev?.[0], devminor: e.dev?.[1] };
    let name: string = e.name;
    let link = e.link;
    if (flavour === 'pax') {
      // Every name goes in the pax header; the ustar field holds something harmless,
      // so a hostile pax path is "hidden" from readers that ignore pax.
      const recs = [paxRec('path', e.name), ...(e.link !== undefined ? [paxRec('linkpath', e.link)] : []), ...(e.pax ?? [])];
      out.push(paxHdr(recs, 'x', `PaxHeaders/${i}`));
      name = `pax-${i}`;
      link = e.link === undefined ? undefined : `pax-link-${i}`;
    } else if (e.pax) {
      throw new NotExpressible('pax records need the pax flavour');
    }
    if (flavour === 'gnu') {
      o.magic = 'gnu';
      if (B(name).length > 100) {
        out.push(gnuLong('L', name));
        name = name.slice(0, 100);
      }
      if (link !== undefined && B(link).length > 100) {
        out.push(gnuLong('K', link));
        link = link.slice(0, 100);
      }
    } else if (flavour === 'ustar') {
      if (link !== undefined && link.length > 100) throw new NotExpressible('ustar link target over 100 bytes');
      if (name.length > 100) {
        const cut = name.lastIndexOf('/', 155);
        if (cut <= 0 || name.length - cut - 1 > 100 || name.length - cut - 1 === 0) throw new NotExpressible('ustar name cannot be split');
        o.prefix = name.slice(0, cut);
        name = name.slice(cut + 1);
      }
    }
    if (link !== undefined) o.linkname = link;
    out.push(hdr(name, o), pad(data));
  });
  out.push(EOA);
  return Buffer.concat(out);
}

const CPIO_TYPE: Record<Exclude<HType, 'hardlink'>, number> = { file: S_IFREG, dir: S_IFDIR, symlink: S_IFLNK, char: S_IFCHR, block: S_IFBLK, fifo: S_IFIFO, socket: S_IFSOCK };

export function encodeCpio(entries: HEntry[], variant: CpioVariant): Buffer {
  // Hard links are members sharing an inode number with an earlier file.
  const ino = new Map<string, number>();
  const groups = new Map<number, number[]>(); // ino -> indexes of members
  entries.forEach((e, i) => {
    if ((e.type ?? 'file') === 'hardlink') {
      const t = ino.get(e.link ?? '');
      if (t === undefined) throw new NotExpressible('a cpio hard link needs its target earlier in the archive');
      groups.get(t)!.push(i);
    } else if ((e.type ?? 'file') === 'file') {
      ino.set(e.name, i + 1);
      groups.set(i + 1, [i]);
    }
  });
  const newcLike = variant === 'newc' || variant === 'crc';
  const members: CpioMember[] = entries.map((e, i) => {
    const type = e.type ?? 'file';
    if (type === 'hardlink') {
      const t = ino.get(e.link!)!;
      const first = entries[groups.get(t)![0]!]!;
      const g = groups.get(t)!;
      const last = g[g.length - 1] === i;
      return { name: e.name, mode: S_IFREG | (first.mode ?? 0o644), ino: t, nlink: g.length, uid: first.uid, gid: first.gid, mtime: e.mtime, data: !newcLike || last ? bytes(first.data) : undefined };
    }
    const m: CpioMember = { name: e.name, mode: CPIO_TYPE[type] | (e.mode ?? (type === 'dir' ? 0o755 : type === 'symlink' ? 0o777 : 0o644)), uid: e.uid, gid: e.gid, mtime: e.mtime, ino: i + 1, nlink: type === 'dir' ? 2 : 1 };
    if (type === 'file') {
      const g = groups.get(i + 1)!;
      m.nlink = g.length;
      // newc/crc: the data goes with the last name of a link group.
      if (!newcLike || g.length === 1) m.data = bytes(e.data);
    }
    if (type === 'symlink') m.data = e.link ?? '';
    if (type === 'char' || type === 'block') m.rdev = e.dev ?? [0, 0];
    if (e.pax) throw new NotExpressible('pax records need the pax flavour');
    return m;
  });
  return cpioArchive(variant, members);
}

const DUMP_KIND: Record<Exclude<HType, 'hardlink'>, SynthKind> = { file: 'file', dir: 'dir', symlink: 'symlink', char: 'char', block: 'block', fifo: 'fifo', socket: 'socket' };

/**
 * A ufsdump (Solaris flavour, big-endian) holding the entries as a tree.
 * Names come from directory blocks there, so only clean relative names can
 * be expressed (no '..', no leading '/', no repeats).
 */
export function encodeDump(entries: HEntry[], order: 'le' | 'be' = 'be'): Buffer {
  let next = 3;
  const dirs = new Map<string, SynthDir>();
  const root: SynthDir = { ino: 2, kind: 'dir', parent: 2, perm: 0o755, entries: [] };
  dirs.set('', root);
  const files: SynthNode[] = [];
  const byName = new Map<string, SynthNode>();
  const names = new Set<string>();
  const dirOf = (path: string): SynthDir => {
    const have = dirs.get(path);
    if (have) return have;
    const cut = path.lastIndexOf('/');
    const parent = dirOf(cut < 0 ? '' : path.slice(0, cut));
    const d: SynthDir = { ino: next++, kind: 'dir', parent: parent.ino, perm: 0o755, entries: [] };
    parent.entries.push([B(path.slice(cut + 1)), d.ino]);
    dirs.set(path, d);
    names.add(path);
    return d;
  };
  for (const e of entries) {
    const comps = e.name.replace(/\/+$/, '').split('/');
    if (e.pax) throw new NotExpressible('pax records need the pax flavour');
    if (comps.some((c) => c === '' || c === '.' || c === '..') || e.name.startsWith('/')) throw new NotExpressible('dump names are single clean components');
    const path = comps.join('/');
    const type = e.type ?? 'file';
    if (type === 'dir') {
      if (names.has(path) && !dirs.has(path)) throw new NotExpressible('dump cannot repeat a name');
      const d = dirOf(path);
      d.perm = e.mode ?? 0o755;
      d.uid = e.uid;
      d.gid = e.gid;
      d.mtime = e.mtime;
      continue;
    }
    if (names.has(path)) throw new NotExpressible('dump cannot repeat a name');
    names.add(path);
    const cut = path.lastIndexOf('/');
    const parent = dirOf(cut < 0 ? '' : path.slice(0, cut));
    const leaf = B(path.slice(cut + 1));
    if (type === 'hardlink') {
      const t = byName.get(e.link ?? '');
      if (!t) throw new NotExpressible('a dump hard link is a second name of an inode in the dump');
      t.nlink = (t.nlink ?? 1) + 1;
      parent.entries.push([leaf, t.ino]);
      continue;
    }
    const n: SynthNode = { ino: next++, kind: DUMP_KIND[type], perm: e.mode ?? (type === 'symlink' ? 0o777 : 0o644), uid: e.uid, gid: e.gid, mtime: e.mtime };
    if (type === 'file') n.data = bytes(e.data);
    if (type === 'symlink') n.target = e.link ?? '';
    if (type === 'char' || type === 'block') n.rdev = e.dev ?? [0, 0];
    files.push(n);
    byName.set(path, n);
    parent.entries.push([leaf, n.ino]);
  }
  const allDirs = [...dirs.values()];
  return Buffer.concat([...synthDump({ order, flavour: 'solaris', maxino: next + 1, dirs: allDirs, files })]);
}

/** The entries in format `f`. */
export function encode(entries: HEntry[], f: Fmt): Buffer {
  switch (f) {
    case 'ustar':
    case 'pax':
    case 'gnu':
      return encodeTar(entries, f);
    case 'newc':
    case 'crc':
    case 'odc':
    case 'bin-le':
    case 'bin-be':
      return encodeCpio(entries, f);
    case 'flar':
      return flar(encodeCpio(entries, 'newc'));
    case 'flar-pax':
      return flar(encodeTar(entries, 'pax'), { method: 'pax' });
    case 'dump':
      return encodeDump(entries);
  }
}
