// Times past 2^33 s (year 2242) with a fraction near 1: Node hands futimes a
// double, which no longer holds microseconds there; the sum must not round
// up into the next second. Found by randomised differential testing against
// GNU tar and bsdtar (pax mtime=8589934609.999999999).

import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { tmpdir } from './lib/tree.js';
import { runCli } from './lib/cli.js';

const rootOnly = process.getuid?.() === 0 ? {} : { skip: 'needs root' };

t.test('a far-future mtime with .999999999 stays in its second', rootOnly, async (t) => {
  const work = tmpdir('zonep2v-mtime-far-');
  t.teardown(() => fs.rmSync(work, { recursive: true, force: true }));
  const src = path.join(work, 'src');
  fs.mkdirSync(path.join(src, 'd'), { recursive: true });
  const names = ['d'];
  // more files than the sink writes on the main thread, so the writer thread is covered too
  for (let i = 0; i < 60; i++) {
    fs.writeFileSync(path.join(src, `f${i}`), 'x');
    names.push(`f${i}`);
  }
  for (const n of names) execFileSync('touch', ['-h', '-d', '@8589934609.999999999', path.join(src, n)]);
  const tar = path.join(work, 'a.tar');
  execFileSync('tar', ['--format=posix', '-cf', tar, '-C', src, '.']);
  const out = path.join(work, 'out');
  fs.mkdirSync(out);
  const r = await runCli(['extract', '-a', tar, '-C', out]);
  t.equal(r.code, 0, r.stderr);
  for (const n of names) {
    const s = fs.lstatSync(path.join(out, n), { bigint: true }).mtimeNs / 1_000_000_000n;
    t.equal(s, 8589934609n, `${n}: mtime second kept`);
  }
});
