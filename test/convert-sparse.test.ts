// convert and files with holes: with --sparse, pax members in GNU tar's
// sparse format 1.0 that GNU tar, bsdtar and zonep2v extract with the holes
// kept; without it, the holes are written out as zeros with a warning (pax
// and cpio alike); --sparse with cpio is refused.

import t, { type Test } from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { tmpdir } from './lib/tree.js';
import { runCli } from './lib/cli.js';

const work = tmpdir('zonep2v-convert-sparse-');
t.teardown(() => fs.rmSync(work, { recursive: true, force: true }));

const src = path.join(work, 'src');
const MiB = 1024 * 1024;

t.before(() => {
  fs.mkdirSync(path.join(src, 'opt'), { recursive: true });
  // Data in the middle and at the end, holes around it.
  let fd = fs.openSync(path.join(src, 'opt', 'db'), 'w', 0o640);
  fs.ftruncateSync(fd, 10 * MiB);
  fs.writeSync(fd, Buffer.alloc(5000, 0x78), 0, 5000, 3 * MiB);
  fs.writeSync(fd, Buffer.from('tail'), 0, 4, 10 * MiB - 4);
  fs.closeSync(fd);
  // Data at the start, a hole to the end.
  fd = fs.openSync(path.join(src, 'opt', 'endhole'), 'w', 0o600);
  fs.writeSync(fd, Buffer.from('start'));
  fs.ftruncateSync(fd, 5 * MiB);
  fs.closeSync(fd);
  fs.writeFileSync(path.join(src, 'opt', 'plain'), 'hi\n');
  // Whole seconds: zonep2v extract keeps microseconds only.
  for (const f of ['db', 'endhole', 'plain']) fs.utimesSync(path.join(src, 'opt', f), 1_600_000_000, 1_600_000_000);
});

const files = ['opt/db', 'opt/endhole', 'opt/plain'];

function check(t: Test, root: string, label: string): void {
  for (const f of files) {
    const a = fs.statSync(path.join(src, f));
    const b = fs.statSync(path.join(root, f));
    t.ok(fs.readFileSync(path.join(src, f)).equals(fs.readFileSync(path.join(root, f))), `${label}: ${f} has the same bytes`);
    t.same([b.size, b.mode & 0o7777, b.mtimeMs], [a.size, a.mode & 0o7777, a.mtimeMs], `${label}: ${f} size, mode, mtime`);
    t.ok(b.blocks * 512 < MiB, `${label}: ${f} keeps its holes (${b.blocks * 512} bytes allocated)`);
  }
}

t.test('--sparse: small archive; GNU tar, bsdtar and zonep2v restore the holes', async (t) => {
  const out = path.join(work, 's.pax');
  const r = await runCli(['convert', '-d', src, '-o', out, '--sparse', '-q']);
  t.equal(r.code, 0, r.stderr);
  t.ok(fs.statSync(out).size < MiB, `the archive is ${fs.statSync(out).size} bytes, not 15 MiB`);
  t.notMatch(r.stderr, /sparse-expanded/);
  for (const [label, cmd] of [['GNU tar', ['tar', '-xpf', out, '-C']], ['bsdtar', ['bsdtar', '-xpf', out, '-C']]] as const) {
    const x = path.join(work, label.replace(/ /g, '-'));
    fs.mkdirSync(x);
    execFileSync(cmd[0], [...cmd.slice(1), x]);
    check(t, x, label);
    t.notOk(fs.existsSync(path.join(x, 'opt', 'GNUSparseFile.0')), `${label}: no stand-in directory`);
  }
  const z = path.join(work, 'zonep2v');
  fs.mkdirSync(z);
  const x = await runCli(['extract', '-a', out, '-C', z]);
  t.equal(x.code, 0, x.stderr);
  check(t, z, 'zonep2v');
});

t.test('without --sparse: the holes are written out, with a warning that says how to keep them', async (t) => {
  const pax = await runCli(['convert', '-d', src, '-o', path.join(work, 'f.pax')]);
  t.equal(pax.code, 0, pax.stderr);
  t.match(pax.stderr, /entry "opt\/db".*: \d+ bytes of holes written out as zeros \(give --sparse to keep them\)/);
  t.ok(fs.statSync(path.join(work, 'f.pax')).size > 15 * MiB);
  const cpio = await runCli(['convert', '-d', src, '-o', path.join(work, 'f.cpio'), '--format', 'cpio']);
  t.equal(cpio.code, 0, cpio.stderr);
  t.match(cpio.stderr, /entry "opt\/endhole".*: \d+ bytes of holes written out as zeros \(newc cpio cannot hold holes; --format pax --sparse keeps them\)/);
  const refused = await runCli(['convert', '-d', src, '-o', path.join(work, 'x.cpio'), '--format', 'cpio', '--sparse']);
  t.equal(refused.code, 253);
  t.match(refused.stderr, /--sparse is for --format pax/);
});
