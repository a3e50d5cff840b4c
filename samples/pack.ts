// Pack a sample image with the real tools, the way Solaris users do it: from
// inside the image directory, so member names are relative ("./etc/vfstab"),
// with `find . -depth -print | cpio -o` (a directory comes after its contents,
// and "." itself is the last member) or `tar -cf - .`.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { writeFlar, type FlarOptions } from './flar.js';

/** Every format packImage knows, in a sensible build order. */
export const FORMATS = [
  'cpio-odc',
  'cpio-odc-gnu',
  'cpio-newc',
  'cpio-crc',
  'cpio-bin',
  'cpio-bin-be',
  'cpio-newc-pax',
  'cpio-odc.gz',
  'cpio-odc.bz2',
  'cpio-odc.Z',
  'cpio-odc.xz',
  'flar',
  'flar-odc',
  'flar-Z',
  'flar-pax',
  'pax',
  'xustar',
  'ustar',
  'bsdtar-pax',
] as const;
export type Format = (typeof FORMATS)[number];

/** Output file name of each format inside outDir. */
export const FILE_NAMES: Record<Format, string> = {
  'cpio-odc': 'image.odc.cpio',
  'cpio-odc-gnu': 'image.odc-gnu.cpio',
  'cpio-newc': 'image.newc.cpio',
  'cpio-crc': 'image.crc.cpio',
  'cpio-bin': 'image.bin.cpio',
  'cpio-bin-be': 'image.bin-be.cpio',
  'cpio-newc-pax': 'image.newc-pax.cpio',
  'cpio-odc.gz': 'image.odc.cpio.gz',
  'cpio-odc.bz2': 'image.odc.cpio.bz2',
  'cpio-odc.Z': 'image.odc.cpio.Z',
  'cpio-odc.xz': 'image.odc.cpio.xz',
  flar: 'image.flar',
  'flar-odc': 'image.odc.flar',
  'flar-Z': 'image.Z.flar',
  'flar-pax': 'image.pax.flar',
  pax: 'image.pax.tar',
  xustar: 'image.xustar.tar',
  ustar: 'image.ustar.tar',
  'bsdtar-pax': 'image.bsdtar-pax.tar',
};

/** What each format is, for READMEs and reports. */
export const DESCRIPTIONS: Record<Format, string> = {
  'cpio-odc': 'find . -depth -print | pax -w -d -x cpio (MirBSD): odc 070707, names "./etc/vfstab", as Solaris `cpio -o -H odc`',
  'cpio-odc-gnu': 'GNU cpio -o -H odc --renumber-inodes: names without "./" (GNU 2.13 also drops "./" from symlink targets)',
  'cpio-newc': 'GNU cpio -H newc (070701, Solaris `cpio -c`): data on the last hard link; no "./" in names or symlink targets',
  'cpio-crc': 'GNU cpio -H crc (070702, newc + byte-sum checksum); same GNU quirks as cpio-newc',
  'cpio-bin': 'GNU cpio -H bin --renumber-inodes: binary headers, little-endian (C7 71); same GNU quirks',
  'cpio-bin-be': 'MirBSD pax -x bcpio: binary headers, big-endian (71 C7), as a SPARC Solaris `cpio -o` writes',
  'cpio-newc-pax': 'MirBSD pax -x sv4cpio: newc with the data on every hard link',
  'cpio-odc.gz': 'cpio-odc | gzip',
  'cpio-odc.bz2': 'cpio-odc | bzip2 (lbzip2 when present)',
  'cpio-odc.Z': 'cpio-odc | compress (LZW, 16 bits)',
  'cpio-odc.xz': 'cpio-odc | xz',
  flar: 'flash archive, cpio payload in newc (Solaris `cpio -c`; written by pax -x sv4cpio so names and link targets are exact), uncompressed',
  'flar-odc': 'flash archive, cpio payload in odc (the other ASCII variant; which one flarcreate uses is unverified)',
  'flar-Z': 'flash archive, newc (sv4cpio) payload, files_compressed_method=compress',
  'flar-pax': 'flash archive, files_archived_method=pax, xustar payload',
  pax: 'GNU tar --format=pax --numeric-owner (x headers with atime/ctime/mtime)',
  xustar: 'Solaris-style xustar: GNU tar pax with only mtime kept, typeflag x rewritten to X',
  ustar: 'GNU tar --format=ustar --numeric-owner (skipped if tar refuses a member)',
  'bsdtar-pax': 'bsdtar --format pax --numeric-owner',
};

export interface PackReport {
  files: Partial<Record<Format, string>>;
  /** Formats that could not be made, with the reason (e.g. ustar limits). */
  skipped: Partial<Record<Format, string>>;
  /** Milliseconds spent on each format (its own step, not its inputs). */
  ms: Partial<Record<Format, number>>;
}

function q(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function run(cmd: string, cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn('bash', ['-c', `set -o pipefail; ${cmd}`], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => (err.length < 8192 ? (err += d) : undefined));
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`\`${cmd}\` exited ${code}: ${err.trim()}`))));
  });
}

function have(cmd: string): boolean {
  return (process.env.PATH ?? '').split(':').some((d) => {
    try {
      fs.accessSync(path.join(d, cmd), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * Rewrite the pax 'x' headers of a ustar/pax file into Solaris xustar 'X'
 * headers, in place (the checksum is recomputed; sizes do not change).
 */
export function paxToXustar(file: string): number {
  return retypeHeaders(file, 0x78 /* x */, 0x58 /* X */);
}

/** Change every header of typeflag `from` to `to`, in place (X -> x turns xustar back into pax for GNU tar). */
export function retypeHeaders(file: string, from: number, to: number): number {
  const fd = fs.openSync(file, 'r+');
  const h = Buffer.alloc(512);
  let pos = 0;
  let changed = 0;
  try {
    for (;;) {
      if (fs.readSync(fd, h, 0, 512, pos) < 512) break;
      if (h.every((b) => b === 0)) break;
      let size: number;
      if (h[124]! & 0x80) {
        size = 0;
        for (let i = 125; i < 136; i++) size = size * 256 + h[i]!;
      } else size = parseInt(h.toString('latin1', 124, 136).replace(/[\0 ]/g, '') || '0', 8);
      if (h[156] === from) {
        h[156] = to;
        h.fill(0x20, 148, 156);
        let sum = 0;
        for (const b of h) sum += b;
        h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
        fs.writeSync(fd, h, 0, 512, pos);
        changed++;
      }
      pos += 512 + Math.ceil(size / 512) * 512;
    }
  } finally {
    fs.closeSync(fd);
  }
  return changed;
}

/** What flarcreate would read from the running system, taken from the image itself. */
function flarFacts(dir: string): Pick<FlarOptions, 'name' | 'arch' | 'osVersion' | 'date' | 'unarchivedSize'> {
  const read = (p: string) => {
    try {
      return fs.readFileSync(path.join(dir, p), 'latin1');
    } catch {
      return '';
    }
  };
  const name = read('etc/nodename').trim() || 'unknown';
  const rel = read('etc/release');
  const arch = /\bX86\b|i386/i.test(rel) ? 'i386' : 'sparc';
  const ku = /PATCHLIST=.*\b(14144[45]-\d\d)\b/.exec(read('var/sadm/pkg/SUNWcakr/pkginfo'))?.[1];
  // files_unarchived_size: the bytes the files take once extracted (each inode once).
  let total = 0;
  const seen = new Set<number>();
  // Names may not be UTF-8: walk with Buffer paths.
  const walk = (d: Buffer) => {
    for (const name of fs.readdirSync(d, { encoding: 'buffer' })) {
      const p = Buffer.concat([d, Buffer.from('/'), name]);
      const st = fs.lstatSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.isFile()) {
        if (st.nlink > 1) {
          if (seen.has(st.ino)) continue;
          seen.add(st.ino);
        }
        total += st.size;
      }
    }
  };
  walk(Buffer.from(dir));
  return { name, arch, osVersion: ku ? `Generic_${ku}` : undefined, date: fs.statSync(dir).mtime, unarchivedSize: total };
}

/**
 * Pack `dir` into `outDir` in each of `formats` (default: all), with the real
 * tools. Returns format -> file path for the formats that were made.
 */
export async function packImage(dir: string, outDir: string, formats: readonly string[] = FORMATS): Promise<Record<string, string>> {
  const r = await packImageReport(dir, outDir, formats);
  return r.files as Record<string, string>;
}

export async function packImageReport(dir: string, outDir: string, formats: readonly string[] = FORMATS, opts: { jobs?: number } = {}): Promise<PackReport> {
  for (const f of formats) if (!(FORMATS as readonly string[]).includes(f)) throw new Error(`unknown format ${f}; known: ${FORMATS.join(', ')}`);
  const src = path.resolve(dir);
  const out = path.resolve(outDir);
  fs.mkdirSync(out, { recursive: true });
  const want = new Set(formats as readonly Format[]);
  const report: PackReport = { files: {}, skipped: {}, ms: {} };
  const temps: string[] = [];
  const target = (f: Format) => {
    if (want.has(f)) return path.join(out, FILE_NAMES[f]);
    const t = path.join(out, `.tmp-${FILE_NAMES[f]}`);
    temps.push(t);
    return t;
  };

  // A small job pool: external tools are the work, so run as many as there are CPUs.
  let running = 0;
  const queue: (() => void)[] = [];
  const limit = Math.max(1, opts.jobs ?? os.availableParallelism?.() ?? os.cpus().length);
  const slot = async <T>(fn: () => Promise<T>): Promise<T> => {
    if (running >= limit) await new Promise<void>((r) => queue.push(r));
    running++;
    try {
      return await fn();
    } finally {
      running--;
      queue.shift()?.();
    }
  };

  let facts: ReturnType<typeof flarFacts> | undefined;
  const bz = have('lbzip2') ? 'lbzip2' : 'bzip2';
  const made = new Map<Format, Promise<string>>();
  const make = (f: Format): Promise<string> => {
    let p = made.get(f);
    if (p) return p;
    p = (async () => {
      const dest = target(f);
      const step = async (cmd: string) => {
        await slot(async () => {
          const t0 = Date.now();
          await run(cmd, src);
          report.ms[f] = Date.now() - t0;
        });
      };
      const cpio = (h: string, extra = '') => step(`find . -depth -print | cpio -o -H ${h} ${extra} --quiet > ${q(dest)}`);
      switch (f) {
        case 'cpio-odc':
          await step(`find . -depth -print | pax -w -d -x cpio > ${q(dest)}`);
          break;
        case 'cpio-odc-gnu':
          // Renumber: real inode numbers overflow the 18-bit odc field and could alias.
          await cpio('odc', '--renumber-inodes');
          break;
        case 'cpio-newc':
          await cpio('newc');
          break;
        case 'cpio-crc':
          await cpio('crc');
          break;
        case 'cpio-bin':
          await cpio('bin', '--renumber-inodes');
          break;
        case 'cpio-bin-be':
          await step(`find . -depth -print | pax -w -d -x bcpio > ${q(dest)}`);
          break;
        case 'cpio-newc-pax':
          await step(`find . -depth -print | pax -w -d -x sv4cpio > ${q(dest)}`);
          break;
        case 'cpio-odc.gz':
          await step(`gzip -c < ${q(await make('cpio-odc'))} > ${q(dest)}`);
          break;
        case 'cpio-odc.bz2':
          await step(`${bz} -c < ${q(await make('cpio-odc'))} > ${q(dest)}`);
          break;
        case 'cpio-odc.Z':
          await step(`compress -c -f < ${q(await make('cpio-odc'))} > ${q(dest)}`);
          break;
        case 'cpio-odc.xz':
          await step(`xz -c -T0 -3 < ${q(await make('cpio-odc'))} > ${q(dest)}`);
          break;
        case 'flar':
        case 'flar-odc':
        case 'flar-Z':
        case 'flar-pax': {
          const payload = await make(f === 'flar-pax' ? 'xustar' : f === 'flar-odc' ? 'cpio-odc' : 'cpio-newc-pax');
          facts ??= flarFacts(src);
          const fx = facts;
          await slot(async () => {
            const t0 = Date.now();
            await writeFlar(payload, dest, { ...fx, method: f === 'flar-pax' ? 'pax' : 'cpio', compressed: f === 'flar-Z', content_author: 'root', content_description: `p2v sample of ${fx.name}` });
            report.ms[f] = Date.now() - t0;
          });
          break;
        }
        case 'pax':
          await step(`tar --format=pax --numeric-owner -cf ${q(dest)} .`);
          break;
        case 'xustar':
          await step(`tar --format=pax --numeric-owner --pax-option=delete=atime,delete=ctime,exthdr.name=%d/PaxHeaders.%p/%f -cf ${q(dest)} .`);
          paxToXustar(dest);
          break;
        case 'ustar':
          await step(`tar --format=ustar --numeric-owner -cf ${q(dest)} .`);
          break;
        case 'bsdtar-pax':
          await step(`bsdtar --format pax --numeric-owner -cf ${q(dest)} .`);
          break;
      }
      return dest;
    })();
    made.set(f, p);
    return p;
  };

  const results = await Promise.allSettled([...want].map(async (f) => [f, await make(f)] as const));
  for (const [i, r] of results.entries()) {
    const f = [...want][i]!;
    if (r.status === 'fulfilled') report.files[f] = r.value[1];
    else {
      const msg = r.reason instanceof Error ? r.reason.message : String(r.reason);
      // ustar has hard limits (100/155-byte names, 8-digit ids): a refusal is not an error.
      if (f === 'ustar') {
        report.skipped[f] = msg;
        fs.rmSync(path.join(out, FILE_NAMES[f]), { force: true });
      } else {
        for (const t of temps) fs.rmSync(t, { force: true });
        throw new Error(`packImage ${f}: ${msg}`);
      }
    }
  }
  for (const t of temps) fs.rmSync(t, { force: true });
  return report;
}
