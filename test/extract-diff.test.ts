// Differential: `zonep2v extract` writes the same tree as the reference tool
// (GNU cpio, GNU tar, bsdtar) from the same archive, in every format the
// sample packer makes, from a file and from stdin. Device nodes aside (the
// sink skips them by design), every node must match on type, mode, owner,
// size, mtime, content hash, link target and hard-link structure.

import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { makeImage } from '../samples/image.js';
import { packImageReport, retypeHeaders, FORMATS } from '../samples/pack.js';
import { readFlarHeader } from '../samples/flar.js';
import { makeDump } from '../samples/dump-image.js';
import { snapshot, diffTrees, tmpdir } from './lib/tree.js';
import { runCli } from './lib/cli.js';

const work = tmpdir('zonep2v-xdiff-');
t.teardown(() => fs.rmSync(work, { recursive: true, force: true }));
let files: Partial<Record<string, string>> = {};

t.before(async () => {
  await makeImage(path.join(work, 'image'), { files: 300, bytes: 3 * 1024 * 1024, seed: 11 });
  files = (await packImageReport(path.join(work, 'image'), path.join(work, 'a'), FORMATS)).files;
  try {
    makeDump(path.join(work, 'image'), path.join(work, 'a', 'image.dump'));
    files.dump = path.join(work, 'a', 'image.dump');
  } catch (e) {
    dumpSkip = (e as Error).message.split('\n')[0]!;
  }
});
let dumpSkip = '';

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The reference extraction of each format, as a shell pipeline run in the output dir. */
function reference(format: string, file: string): string {
  const cpio = 'cpio -idm --quiet --no-absolute-filenames';
  const tar = 'tar -xpf - --numeric-owner --same-owner';
  // bsdtar needs a UTF-8 locale to write the non-UTF-8 sample name from a pax header.
  const bsdtar = 'LC_ALL=C.UTF-8 bsdtar --numeric-owner';
  if (format === 'dump') return `restore -r -f ${q(file)} && rm -f restoresymtable`;
  if (format.startsWith('flar')) {
    const h = readFlarHeader(file);
    const payload = `tail -c +${h.archiveOffset + 1} ${q(file)}`;
    const z = h.identification.files_compressed_method === 'compress' ? ' | uncompress -c' : '';
    if (h.identification.files_archived_method !== 'pax') return `${payload}${z} | ${cpio}`;
    const plain = `${file}.payload.tar`;
    execFileSync('bash', ['-c', `set -o pipefail; ${payload}${z} > ${q(plain)}`]);
    retypeHeaders(plain, 0x58, 0x78);
    return `${tar} < ${q(plain)}`;
  }
  if (format === 'cpio-bin-be') return `${bsdtar} -xpf ${q(file)}`;
  if (format.endsWith('.gz')) return `gzip -dc ${q(file)} | ${cpio}`;
  if (format.endsWith('.bz2')) return `bzip2 -dc ${q(file)} | ${cpio}`;
  if (format.endsWith('.Z')) return `uncompress -c < ${q(file)} | ${cpio}`;
  if (format.endsWith('.xz')) return `xz -dc ${q(file)} | ${cpio}`;
  if (format.startsWith('cpio')) return `${cpio} < ${q(file)}`;
  // GNU tar does not know Solaris X headers (and bsdtar cannot write the
  // sample's raw latin1 pax name): compare with GNU tar on the same bytes, X
  // retyped to x. bsdtar's own archives go to bsdtar.
  if (format === 'xustar') {
    const plain = `${file}.as-pax.tar`;
    fs.copyFileSync(file, plain);
    retypeHeaders(plain, 0x58, 0x78);
    return `${tar} < ${q(plain)}`;
  }
  if (format === 'bsdtar-pax') return `${bsdtar} -xpf ${q(file)}`;
  return `${tar} < ${q(file)}`;
}

const notDevice = (_rel: string, n: { type: string }) => n.type === 'char' || n.type === 'block';

for (const format of [...FORMATS, 'dump']) {
  t.test(`${format}: zonep2v extract equals the reference tool`, async (t) => {
    const file = files[format];
    if (!file) {
      t.pass(`${format} could not be made here: skipped${format === 'dump' ? ` (${dumpSkip})` : ''}`);
      return;
    }
    const ref = path.join(work, `ref-${format}`);
    const ours = path.join(work, `ours-${format}`);
    fs.mkdirSync(ref);
    fs.mkdirSync(ours);
    execFileSync('bash', ['-c', `set -o pipefail; ${reference(format, file)}`], { cwd: ref, stdio: ['ignore', 'ignore', 'pipe'] });
    const r = await runCli(['extract', '-a', file, '-C', ours]);
    t.equal(r.code, 0, r.stderr);
    t.match(r.stderr, /extracted \d+ entries/, 'one-line summary');
    const diffs = diffTrees(snapshot(ref), snapshot(ours), { exclude: notDevice });
    t.same(diffs, [], 'same tree as the reference tool');
    fs.rmSync(ref, { recursive: true, force: true });
    if (['cpio-odc.gz', 'flar-Z', 'pax', 'cpio-bin-be'].includes(format)) {
      const piped = path.join(work, `stdin-${format}`);
      fs.mkdirSync(piped);
      const p = await runCli(['extract', '-a', '-', '-C', piped], { stdinFile: file });
      t.equal(p.code, 0, p.stderr);
      t.same(diffTrees(snapshot(ours), snapshot(piped)), [], 'stdin gives the same tree as the file');
      fs.rmSync(piped, { recursive: true, force: true });
    }
    fs.rmSync(ours, { recursive: true, force: true });
  });
}
