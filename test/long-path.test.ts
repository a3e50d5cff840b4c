// A path of 4095 bytes, the longest Linux takes, packed by GNU tar and bsdtar
// (stored as ./ + 4095 bytes) and by bsdtar as newc cpio: extracted whole.
// The 4096-byte limit applies to the name itself, not to the ./ the tools
// put before it. (GNU tar cannot extract it under a directory: the full path
// passes PATH_MAX; the file is read back through relative cd's.)

import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { tmpdir } from './lib/tree.js';
import { runCli } from './lib/cli.js';

const work = tmpdir('zonep2v-long-path-');
// GNU rm works below PATH_MAX with openat; fs.rmSync stops at ENAMETOOLONG.
t.teardown(() => execFileSync('rm', ['-rf', work]));

const src = path.join(work, 'src');
// 16 directories of 250 bytes and a leaf: 16 * 251 + 79 = 4095 bytes.
const dirs = Array.from({ length: 16 }, (_, i) => `${String(i).padStart(2, '0')}${'d'.repeat(248)}`);
const leaf = 'f'.repeat(79);
const rel = [...dirs, leaf].join('/');

t.before(() => {
  fs.mkdirSync(path.join(src, ...dirs), { recursive: true });
  // Relative to the deepest directory: the whole path would pass PATH_MAX with the work dir in front.
  execFileSync('sh', ['-c', `cd ${JSON.stringify(path.join(src, ...dirs.slice(0, 8)))} && cd ${JSON.stringify(dirs.slice(8).join('/'))} && echo data > ${leaf}`]);
});

/** The leaf's content, reached with two relative cd's (each half under PATH_MAX). */
function readBack(root: string): string {
  return execFileSync('sh', ['-c', `cd ${JSON.stringify(path.join(root, ...dirs.slice(0, 8)))} && cd ${JSON.stringify(dirs.slice(8).join('/'))} && cat ${leaf}`], { encoding: 'utf8' });
}

const have = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

const packers: [string, string, string[]][] = [
  ['GNU tar pax', 'tar', ['--format=posix', '-cf', 'OUT', '-C', 'SRC', '.']],
  ['GNU tar gnu', 'tar', ['--format=gnu', '-cf', 'OUT', '-C', 'SRC', '.']],
  ['bsdtar pax', 'bsdtar', ['--format=pax', '-cf', 'OUT', '-C', 'SRC', '.']],
  // (GNU cpio cannot archive the file: find's ./ makes the path 4097 bytes.)
  ['bsdtar newc', 'bsdtar', ['--format=newc', '-cf', 'OUT', '-C', 'SRC', '.']],
];

t.test('the 4095-byte path is 4095 bytes', async (t) => {
  t.equal(Buffer.byteLength(rel), 4095);
});

for (const [label, cmd, args] of packers) {
  t.test(`${label}: ./ + 4095 bytes extracts as the tool extracts it`, { skip: have(cmd) ? false : `${cmd} not installed` }, async (t) => {
    const out = path.join(work, `${label.replace(/ /g, '-')}.tar`);
    execFileSync(cmd, args.map((a) => (a === 'OUT' ? out : a === 'SRC' ? src : a)));
    const x = path.join(work, `x-${label.replace(/ /g, '-')}`);
    fs.mkdirSync(x);
    const r = await runCli(['extract', '-a', out, '-C', x]);
    t.equal(r.code, 0, r.stderr);
    t.equal(readBack(x), 'data\n', 'the file at the end of the path, with its data');
  });
}

