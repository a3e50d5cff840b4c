// `-d DIR`: the directory walk gives the same tree as `cp -a` (device nodes
// and sockets aside), in a stable order, and does not cross mount points.

import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import net from 'node:net';
import { execFileSync } from 'node:child_process';
import { makeImage } from '../samples/image.js';
import { walkDir } from '../src/source/dir.js';
import { snapshot, diffTrees, tmpdir } from './lib/tree.js';
import { runCli } from './lib/cli.js';

const work = tmpdir('zonep2v-dir-');
const img = path.join(work, 'image');
let mounted = '';
t.teardown(() => {
  if (mounted) execFileSync('umount', [mounted]);
  fs.rmSync(work, { recursive: true, force: true });
});

t.before(async () => {
  await makeImage(img, { files: 300, bytes: 1024 * 1024, seed: 5 });
});

t.test('zonep2v extract -d equals cp -a', async (t) => {
  const ref = path.join(work, 'cp');
  execFileSync('cp', ['-a', img, ref]);
  const ours = path.join(work, 'ours');
  fs.mkdirSync(ours);
  const r = await runCli(['extract', '-d', img, '-C', ours]);
  t.equal(r.code, 0, r.stderr);
  const notDev = (_: string, n: { type: string }) => n.type === 'char' || n.type === 'block';
  t.same(diffTrees(snapshot(ref), snapshot(ours), { exclude: notDev }), [], 'same tree (type, mode, owner, size, mtime, content, targets, links)');
  t.match(r.stderr, /device-skipped/, 'device nodes reported as skipped');
});

t.test('stable order, hard links by dev+ino, sockets skipped with a warning', async (t) => {
  const tree = path.join(work, 'small');
  fs.mkdirSync(path.join(tree, 'b'), { recursive: true });
  fs.writeFileSync(path.join(tree, 'b', 'f'), 'x');
  fs.linkSync(path.join(tree, 'b', 'f'), path.join(tree, 'a-link'));
  fs.mkdirSync(path.join(tree, 'a'));
  const sock = path.join(tree, 'a', 'sock');
  const server = net.createServer();
  await new Promise<void>((res) => server.listen(sock, res));
  const warnings: string[] = [];
  const list = async () => {
    const out: string[] = [];
    for await (const e of walkDir(tree, { warn: (w) => warnings.push(w.kind) })) out.push(`${e.type} ${e.path}${e.linkTarget ? ` -> ${e.linkTarget}` : ''}`);
    return out;
  };
  const first = await list();
  server.close();
  t.same(first, ['dir a', 'file a-link', 'dir b', 'hardlink b/f -> a-link'], 'byte order, parents first, second name a hard link');
  t.same(warnings, ['socket-skipped']);
  fs.rmSync(sock, { force: true });
});

t.test('does not cross into a file system mounted below the root', async (t) => {
  const tree = path.join(work, 'mnt-src');
  const sub = path.join(tree, 'mnt');
  fs.mkdirSync(sub, { recursive: true });
  fs.writeFileSync(path.join(tree, 'kept'), 'k');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', sub], { stdio: 'ignore' });
    mounted = sub;
  } catch {
    t.pass('cannot mount a tmpfs here (not root, or no mount permission): skipped');
    return;
  }
  fs.writeFileSync(path.join(sub, 'other-fs'), 'o');
  const paths: string[] = [];
  const kinds: string[] = [];
  for await (const e of walkDir(tree, { warn: (w) => kinds.push(w.kind) })) paths.push(e.path);
  t.same(paths, ['kept', 'mnt'], 'the mount point is kept, its contents are not');
  t.same(kinds, ['mount-not-crossed']);
});

t.test('times before 1970 keep their fraction (seconds floored, nanoseconds 0..999999999)', async (t) => {
  const tree = path.join(work, 'old-times');
  fs.mkdirSync(tree);
  const f = path.join(tree, 'f');
  fs.writeFileSync(f, 'x');
  fs.utimesSync(f, 0, new Date(-1500)); // 1969-12-31 23:59:58.5 (a negative number would mean now)
  const got: [number, number][] = [];
  for await (const e of walkDir(tree)) got.push([e.mtime, e.mtimeNsec]);
  t.same(got, [[-2, 500_000_000]], 'not -1 with -500000000 ns');
});
