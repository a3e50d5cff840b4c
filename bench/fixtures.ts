// The bench's inputs: one generated sample image (samples/image.ts), packed
// by the real tools (samples/pack.ts) in the formats the cases need, a host
// root for `zonep2v install`, and a ufsdump of the tree made through a loop
// device when one works. Everything is cached under OUT/fixtures/<size>/ and
// reused by the next run with the same size and seed (--fresh rebuilds).

import fs from 'node:fs';
import path from 'node:path';
import { makeImage } from '../samples/image.js';
import { packImageReport, FILE_NAMES, type Format } from '../samples/pack.js';
import { makeHostRoot } from '../samples/host.js';
import { readFlarHeader } from '../samples/flar.js';
import { log, q, rmrf, sh, which } from './util.js';

/** What a case can ask for. */
export type FixtureName = Format | 'dump' | 'host';

export interface Fixtures {
  dir: string;
  image: string;
  counts: { entries: number; files: number; bytes: number };
  /** Fixture -> file (or directory for host). */
  files: Partial<Record<FixtureName, string>>;
  /** Fixture -> why it could not be made. */
  skipped: Partial<Record<FixtureName, string>>;
  /** Byte offset of the archive section of each flar. */
  flarOffset: Partial<Record<FixtureName, number>>;
  /** Seconds spent making what was not cached. */
  buildSeconds: number;
}

interface Meta {
  files: number;
  bytes: number;
  seed: number;
  imageDone?: boolean;
  counts?: Fixtures['counts'];
  made: Partial<Record<FixtureName, string>>;
  skipped: Partial<Record<FixtureName, string>>;
}

export async function prepareFixtures(root: string, opts: { files: number; bytes: number; seed: number; need: Set<FixtureName>; fresh: boolean }): Promise<Fixtures> {
  const t0 = Date.now();
  const dir = path.join(root, `f${opts.files}-b${opts.bytes}-s${opts.seed}`);
  const metaFile = path.join(dir, 'meta.json');
  if (opts.fresh) rmrf(dir);
  let meta: Meta = { files: opts.files, bytes: opts.bytes, seed: opts.seed, made: {}, skipped: {} };
  try {
    const m = JSON.parse(fs.readFileSync(metaFile, 'utf8')) as Meta;
    if (m.files === opts.files && m.bytes === opts.bytes && m.seed === opts.seed) meta = m;
  } catch {
    /* none yet */
  }
  const save = () => fs.writeFileSync(metaFile, JSON.stringify(meta, null, 1));
  const image = path.join(dir, 'image');
  const arch = path.join(dir, 'archives');
  if (!meta.imageDone || !fs.existsSync(image)) {
    rmrf(dir);
    fs.mkdirSync(dir, { recursive: true });
    meta = { files: opts.files, bytes: opts.bytes, seed: opts.seed, made: {}, skipped: {} };
    log(`generating the sample image: ${opts.files} files, ${opts.bytes} bytes, seed ${opts.seed} ...`);
    const t = Date.now();
    const m = await makeImage(image, { files: opts.files, bytes: opts.bytes, seed: opts.seed });
    meta.imageDone = true;
    meta.counts = { entries: m.counts.entries, files: m.counts.files, bytes: m.totalBytes };
    save();
    log(`  image: ${m.counts.entries} entries, ${m.counts.files} files, ${(m.totalBytes / 1e6).toFixed(1)} MB in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  }
  const has = (f: FixtureName) => meta.made[f] !== undefined && fs.existsSync(meta.made[f]!);

  // Archives made by the real tools (in parallel, one job per CPU).
  const formats = [...opts.need].filter((f): f is Format => f in FILE_NAMES && !has(f));
  if (formats.length) {
    log(`packing ${formats.join(', ')} ...`);
    const t = Date.now();
    const r = await packImageReport(image, arch, formats);
    for (const [f, p] of Object.entries(r.files)) meta.made[f as Format] = p;
    for (const [f, why] of Object.entries(r.skipped)) meta.skipped[f as Format] = why;
    save();
    log(`  packed in ${((Date.now() - t) / 1000).toFixed(1)} s (${Object.entries(r.ms).map(([f, ms]) => `${f} ${(ms / 1000).toFixed(1)} s`).join(', ')})`);
  }
  if (opts.need.has('host') && !has('host')) {
    const host = path.join(dir, 'host');
    rmrf(host);
    makeHostRoot(image, host);
    meta.made.host = host;
    save();
  }
  if (opts.need.has('dump') && !has('dump')) {
    const why = makeDump(image, dir, meta.counts!);
    if (typeof why === 'string') {
      meta.skipped.dump = why;
      delete meta.made.dump;
      log(`  dump: skipped: ${why}`);
    } else {
      meta.made.dump = why.file;
      delete meta.skipped.dump;
    }
    save();
  }

  const fx: Fixtures = { dir, image, counts: meta.counts!, files: {}, skipped: {}, flarOffset: {}, buildSeconds: (Date.now() - t0) / 1000 };
  for (const f of opts.need) {
    if (has(f)) fx.files[f] = meta.made[f];
    else fx.skipped[f] = meta.skipped[f] ?? 'not made';
    if (fx.files[f] && (f === 'flar' || f === 'flar-Z' || f === 'flar-odc' || f === 'flar-pax')) fx.flarOffset[f] = readFlarHeader(fx.files[f]!).archiveOffset;
  }
  return fx;
}

/**
 * ufsdump of the image the way the dump tests' fixtures are made: an ext2
 * file system filled by `mke2fs -d`, attached to a loop device, dumped with
 * `dump -0`. Returns the reason when a step is not possible here.
 */
function makeDump(image: string, dir: string, counts: Fixtures['counts']): { file: string } | string {
  for (const t of ['mke2fs', 'losetup', 'dump', 'restore']) if (!which(t)) return `${t} is not installed`;
  if (process.getuid?.() !== 0) return 'making a dump needs root (losetup)';
  const img = path.join(dir, 'fs.ext2');
  const out = path.join(dir, 'archives', 'image.dump');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  // Data in 4 KiB blocks, inode tables, and slack for the journal-less metadata.
  const size = Math.ceil((counts.bytes * 1.1 + counts.entries * 8192 + 64e6) / 4096) * 4096;
  let loop = '';
  const t = Date.now();
  try {
    log(`making a dump: mke2fs -d into ${(size / 1e6).toFixed(0)} MB, losetup, dump -0 ...`);
    sh(`rm -f ${q(img)} && truncate -s ${size} ${q(img)} && mke2fs -q -F -t ext2 -b 4096 -N ${counts.entries + 4096} -d ${q(image)} ${q(img)}`);
    try {
      loop = sh(`losetup -f --show ${q(img)}`).trim();
    } catch (e) {
      return `no usable loop device (${(e as Error).message})`;
    }
    sh(`dump -0 -q -f ${q(out)} ${q(loop)}`);
    log(`  dump: ${(fs.statSync(out).size / 1e6).toFixed(1)} MB in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    return { file: out };
  } catch (e) {
    return (e as Error).message;
  } finally {
    if (loop) {
      try {
        sh(`losetup -d ${q(loop)}`);
      } catch {
        /* reported by losetup -a */
      }
    }
    fs.rmSync(img, { force: true });
  }
}
