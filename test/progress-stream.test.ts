// The progress line for a stream: a flar read from a pipe has no file size,
// but its identification section gives files_archived_size, learnt when the
// first entry is read; the bar shows a percentage and an ETA from it. With
// stderr a pipe and no --progress, nothing is drawn.

import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { makeImage } from '../samples/image.js';
import { packImageReport } from '../samples/pack.js';
import { tmpdir } from './lib/tree.js';
import { runCli } from './lib/cli.js';

const work = tmpdir('zonep2v-progress-stream-');
t.teardown(() => fs.rmSync(work, { recursive: true, force: true }));
let flar = '';

t.before(async () => {
  await makeImage(path.join(work, 'image'), { files: 30, bytes: 256 * 1024, seed: 9 });
  flar = (await packImageReport(path.join(work, 'image'), path.join(work, 'ar'), ['flar'])).files.flar!;
});

t.test('extract --progress from a pipe: a flar gives the bar its total', async (t) => {
  const dest = path.join(work, 'x1');
  fs.mkdirSync(dest);
  const r = await runCli(['extract', '-a', '-', '-C', dest, '--progress'], { stdinFile: flar });
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /\r\[[#.]{20}\] \d+% \d+ entries/, 'a bar with a percentage');
  t.match(r.stderr, /ETA \d+s/, 'and an ETA');
});

t.test('no --progress, stderr a pipe: no progress line', async (t) => {
  const dest = path.join(work, 'x2');
  fs.mkdirSync(dest);
  const r = await runCli(['extract', '-a', '-', '-C', dest], { stdinFile: flar });
  t.equal(r.code, 0, r.stderr);
  t.notMatch(r.stderr, /\r|\x1b\[K/, 'nothing drawn');
});
