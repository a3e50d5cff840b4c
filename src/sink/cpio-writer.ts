// Entries out as a cpio archive in the SVR4 "newc" format (070701, what
// Solaris `cpio -c` and GNU `cpio -H newc` write), for convert --format cpio.
//
// Hard links without buffering: newc lets the data sit on any one member of
// a link group, and GNU cpio links every data-less member (size 0, nlink > 1)
// to the group's data member by (devmajor, devminor, ino) at the end of the
// extraction. So each member carries its data when it is the file, and a hard
// link is a data-less member with the same identity. The identity is a hash
// of the file's canonical name (96 bits spread over devmajor, devminor and
// ino): a hard link computes it from its target name, so nothing has to be
// remembered per file, and unrelated files do not collide in practice.
// nlink is the entry's own count when the source recorded one. Otherwise
// (tar sources) it is LINKS_UNKNOWN, not 2: GNU cpio only needs nlink > 1,
// but libarchive (bsdtar) and our own reader take the first member's nlink
// as the size of the group and start a new, data-less group after that many
// names, so a third name of a file written with nlink 2 came out empty. A
// count too high changes nothing in the extracted tree.
//
// odc would be the other choice, but there every link member must carry the
// data again, which a stream cannot give without holding the file. Limits of
// newc: file sizes and mtimes are 32-bit (larger sizes are refused, times
// out of range are clamped with a warning), and there is nowhere to put
// extended attributes or ACLs (counted as skipped).

import crypto from 'node:crypto';
import type { Writable } from 'node:stream';
import { copyEntry, type Entry } from '../entry.js';
import { ArchiveError } from '../errors.js';
import type { Warning } from '../formats/types.js';
import { holeBytes, linkTargetName, memberName, Output, SPARSE_MIN_HOLES, symlinkTarget, where, writeBody } from './pax-writer.js';
import type { Sink, SinkStats } from './types.js';

const S_IFMT: Record<string, number> = {
  file: 0o100000,
  hardlink: 0o100000,
  dir: 0o040000,
  symlink: 0o120000,
  fifo: 0o010000,
  char: 0o020000,
  block: 0o060000,
};

const MAX32 = 0xffffffff;
/** nlink of a file whose link count the source does not record (any number of names may link to it). */
const LINKS_UNKNOWN = MAX32;
const PAD = Buffer.alloc(512);

function hex8(v: number): string {
  return (v >>> 0).toString(16).padStart(8, '0');
}

/** (devmajor, devminor, ino) for a canonical name. */
export function identity(key: string): [number, number, number] {
  const h = crypto.createHash('sha1').update(key, 'latin1').digest();
  const ino = h.readUInt32BE(8) || 1;
  return [h.readUInt32BE(0), h.readUInt32BE(4), ino];
}

/** The nlink written for a file or hard link: the recorded count, else LINKS_UNKNOWN. */
function linkCount(e: Entry): number {
  return e.nlink !== undefined && e.nlink >= 1 && e.nlink <= MAX32 ? e.nlink : LINKS_UNKNOWN;
}

export class CpioWriter implements Sink {
  private readonly stats: SinkStats = { entries: 0, bytes: 0, skipped: {} };
  private readonly out: Output;
  private finished = false;
  private warnedTime = false;
  /**
   * The symlinks, FIFOs and devices written so far, by canonical name: a tar
   * hard link may point at one (GNU tar archives a hard-linked symlink so),
   * and a data-less regular member would turn it into an empty file. Such a
   * link is written as a copy of its target instead (its own inode). Only
   * what the copy needs is kept (type, target, device numbers).
   */
  private readonly special = new Map<string, Pick<Entry, 'type' | 'linkTarget' | 'devMajor' | 'devMinor'>>();

  constructor(out: Writable, private readonly warn: (w: Warning) => void = () => {}) {
    this.out = new Output(out);
  }

  private skip(kind: string): void {
    this.stats.skipped[kind] = (this.stats.skipped[kind] ?? 0) + 1;
  }

  private async member(name: Buffer, fields: { ino: number; mode: number; uid: number; gid: number; nlink: number; mtime: number; size: number; maj: number; min: number; rmaj: number; rmin: number }): Promise<void> {
    const f = fields;
    const namesize = name.length + 1;
    const head =
      '070701' +
      [f.ino, f.mode, f.uid, f.gid, f.nlink, f.mtime, f.size, f.maj, f.min, f.rmaj, f.rmin, namesize, 0].map(hex8).join('');
    const total = 110 + namesize;
    const pad = (4 - (total % 4)) % 4;
    await this.out.put(Buffer.concat([Buffer.from(head, 'latin1'), name, PAD.subarray(0, 1 + pad)]));
  }

  private time(e: Entry): number {
    if (e.mtime >= 0 && e.mtime <= MAX32) return e.mtime;
    if (!this.warnedTime) {
      this.warnedTime = true;
      this.warn({ kind: 'mtime-clamped', message: `modification time ${e.mtime} does not fit newc's 32 bits: clamped (use --format pax to keep it)`, entry: e.path });
    }
    this.skip('mtime-clamped');
    return e.mtime < 0 ? 0 : MAX32;
  }

  async write(e: Entry): Promise<void> {
    if (this.finished) throw new Error('CpioWriter: write after finish');
    const fmt = S_IFMT[e.type];
    if (fmt === undefined) {
      this.skip(e.type);
      return;
    }
    const key = memberName(e);
    if (key === '' && e.type !== 'dir') throw new ArchiveError('unsafe-path', `the root is a ${e.type}, not a directory`, where(e));
    if (e.xattrs && Object.keys(e.xattrs).length) this.skip('xattrs');
    const name = Buffer.from(key === '' ? '.' : key, 'latin1');
    const base = { mode: fmt | (e.mode & 0o7777), uid: e.uid >>> 0, gid: e.gid >>> 0, mtime: this.time(e), rmaj: 0, rmin: 0 };
    if (e.uid > MAX32 || e.gid > MAX32 || e.uid < 0 || e.gid < 0) throw new ArchiveError('owner-range', `owner ${e.uid}:${e.gid} does not fit a cpio header`, where(e));

    switch (e.type) {
      case 'file': {
        this.special.delete(key);
        if (e.size > MAX32) throw new ArchiveError('too-large-for-cpio', `${e.size} bytes: newc cpio holds files up to 4 GiB - 1`, where(e), 'use --format pax');
        const holes = holeBytes(e);
        if (holes >= SPARSE_MIN_HOLES) this.warn({ kind: 'sparse-expanded', message: `${holes} bytes of holes written out as zeros (newc cpio cannot hold holes; --format pax --sparse keeps them)`, ...where(e) });
        const [maj, min, ino] = identity(key);
        const nlink = linkCount(e);
        await this.member(name, { ...base, ino, nlink, size: e.size, maj, min });
        const n = await writeBody(e, this.out);
        if (n !== e.size) throw new ArchiveError('size-mismatch', `the body is ${n} bytes, the header says ${e.size}`, where(e));
        await this.out.put(PAD.subarray(0, (4 - (n % 4)) % 4));
        this.stats.bytes += n;
        break;
      }
      case 'hardlink': {
        const target = linkTargetName(e);
        const s = this.special.get(target);
        if (s) {
          const c = copyEntry(e);
          c.type = s.type;
          c.linkTarget = s.linkTarget;
          c.devMajor = s.devMajor;
          c.devMinor = s.devMinor;
          await this.write(c);
          return;
        }
        this.special.delete(key);
        const [maj, min, ino] = identity(target);
        await this.member(name, { ...base, ino, nlink: Math.max(2, linkCount(e)), size: 0, maj, min });
        break;
      }
      case 'symlink': {
        this.special.set(key, { type: e.type, linkTarget: e.linkTarget });
        const t = Buffer.from(symlinkTarget(e), 'latin1');
        const [maj, min, ino] = identity(key);
        await this.member(name, { ...base, ino, nlink: 1, size: t.length, maj, min });
        await this.out.put(Buffer.concat([t, PAD.subarray(0, (4 - (t.length % 4)) % 4)]));
        break;
      }
      case 'char':
      case 'block': {
        this.special.set(key, { type: e.type, devMajor: e.devMajor, devMinor: e.devMinor });
        const [maj, min, ino] = identity(key);
        await this.member(name, { ...base, ino, nlink: 1, size: 0, maj, min, rmaj: e.devMajor ?? 0, rmin: e.devMinor ?? 0 });
        break;
      }
      default: {
        if (e.type === 'fifo') this.special.set(key, { type: e.type });
        else this.special.delete(key);
        const [maj, min, ino] = identity(key);
        await this.member(name, { ...base, ino, nlink: e.type === 'dir' ? 2 : 1, size: 0, maj, min });
      }
    }
    this.stats.entries++;
  }

  async removeWritten(): Promise<number> {
    return 0; // already streamed out: convert decides before an entry passes (see cli/convert.ts)
  }

  get bytesOut(): number {
    return this.out.written;
  }

  async finish(): Promise<SinkStats> {
    this.finished = true;
    await this.member(Buffer.from('TRAILER!!!', 'latin1'), { ino: 0, mode: 0, uid: 0, gid: 0, nlink: 1, mtime: 0, size: 0, maj: 0, min: 0, rmaj: 0, rmin: 0 });
    const r = this.out.written % 512;
    if (r) await this.out.put(PAD.subarray(0, 512 - r));
    await this.out.end();
    return this.stats;
  }

  async abort(): Promise<string[]> {
    this.finished = true;
    this.out.destroy();
    return [];
  }
}
