// A level 0 dump of an image tree, made the way Linux users can: an ext2 file
// system built from the tree (mke2fs -d), attached to a loop device, dumped
// with dump -0. Needs root, mke2fs, losetup, a free loop device and dump;
// throws with the reason when any is missing (callers skip visibly).

import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';

export function makeDump(tree: string, out: string, sizeMiB = 64): void {
  const fsImage = `${out}.ext2`;
  let loop = '';
  try {
    fs.writeFileSync(fsImage, '');
    fs.truncateSync(fsImage, sizeMiB * 1024 * 1024);
    execFileSync('mke2fs', ['-q', '-F', '-t', 'ext2', '-b', '1024', '-N', '65536', '-d', tree, fsImage], { stdio: ['ignore', 'ignore', 'pipe'] });
    loop = execFileSync('losetup', ['-f', '--show', fsImage], { encoding: 'utf8' }).trim();
    execFileSync('dump', ['-0', '-q', '-f', out, loop], { stdio: ['ignore', 'ignore', 'pipe'] });
  } finally {
    if (loop) execFileSync('losetup', ['-d', loop]);
    fs.rmSync(fsImage, { force: true });
  }
  if (!fs.existsSync(out) || fs.statSync(out).size === 0) throw new Error(`dump of ${path.basename(tree)} produced nothing`);
}
