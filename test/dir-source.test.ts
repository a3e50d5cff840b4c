// `-d DIR`: the directory walk gives the same tree as `cp -a` (device nodes
// and sockets aside), in a stable order, and does not cross mount points.

import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import net from 'node:net';
import { execFileSync } from 'node:child_process';
import { makeImage } from '../samples/image.js';
import { walkDir } from '../src/source/dir.js';
import type { Entry } from '../src/entry.js';
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

/** Walk `tree`, calling `act` after each entry is yielded (before its body is read). */
async function walkWith(tree: string, act: (rel: string) => void): Promise<{ seen: string[]; kinds: string[]; err?: unknown }> {
  const seen: string[] = [];
  const kinds: string[] = [];
  try {
    for await (const e of walkDir(tree, { warn: (w) => kinds.push(w.kind) })) {
      act(e.path);
      const parts: Buffer[] = [];
      for await (const c of e.body()) parts.push(c);
      seen.push(`${e.type} ${e.path}${e.type === 'file' ? ` ${Buffer.concat(parts).toString('latin1')}` : ''}`);
    }
  } catch (err) {
    return { seen, kinds, err };
  }
  return { seen, kinds };
}

t.test('a live tree: a directory swapped for a symlink during the walk does not lead out of the tree', async (t) => {
  const outside = path.join(work, 'outside');
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(outside, 'secret'), 'host data');
  const tree = path.join(work, 'swap');
  fs.mkdirSync(path.join(tree, 'home'), { recursive: true });
  fs.writeFileSync(path.join(tree, 'home', 'secret'), 'mine');
  const r = await walkWith(tree, (rel) => {
    if (rel !== 'home') return;
    fs.renameSync(path.join(tree, 'home'), path.join(tree, 'old-home'));
    fs.symlinkSync(outside, path.join(tree, 'home'));
  });
  t.error(r.err);
  t.notMatch(r.seen.join('\n'), /host data/, 'nothing read from outside the tree');
  t.same(r.seen, ['dir home', 'file home/secret mine'], 'the directory that was listed is the one read');
});

t.test('a live tree: names removed during the walk are warnings, the stream stays whole', async (t) => {
  const tree = path.join(work, 'vanish');
  fs.mkdirSync(path.join(tree, 'a'), { recursive: true });
  fs.mkdirSync(path.join(tree, 'b'));
  fs.writeFileSync(path.join(tree, 'a', 'f'), 'hello');
  fs.writeFileSync(path.join(tree, 'b', 'g'), 'x');
  fs.writeFileSync(path.join(tree, 'c'), 'c');
  const r = await walkWith(tree, (rel) => {
    if (rel === 'a/f') fs.rmSync(path.join(tree, 'a', 'f')); // listed, then gone before it is read
    if (rel === 'a') fs.rmSync(path.join(tree, 'b'), { recursive: true }); // gone before it is reached
  });
  t.error(r.err, 'no error');
  t.same(r.seen, ['dir a', 'file a/f \0\0\0\0\0', 'file c c'], 'the removed file keeps its listed size (zeros), the removed directory is left out');
  t.same(r.kinds, ['vanished', 'vanished']);
});

t.test('a sparse file keeps its holes: found by scanning, as cp --sparse=always does', async (t) => {
  const tree = path.join(work, 'sparse');
  fs.mkdirSync(tree);
  const f = path.join(tree, 'lastlog');
  const size = 40 * 1024 * 1024 + 123;
  const fd = fs.openSync(f, 'w');
  fs.writeSync(fd, Buffer.alloc(100, 0x61), 0, 100, 0); // data at the start
  fs.writeSync(fd, Buffer.alloc(70_000, 0x62), 0, 70_000, 5 * 1024 * 1024 + 10); // across a 64 KiB boundary
  fs.ftruncateSync(fd, size); // a hole at the end
  fs.closeSync(fd);
  fs.writeFileSync(path.join(tree, 'dense'), Buffer.alloc(300_000)); // zeros, but stored whole: no map
  if (fs.statSync(f).blocks * 512 >= size) {
    t.pass('this file system does not store holes: nothing to check');
    return;
  }
  const entries: Entry[] = [];
  for await (const e of walkDir(tree)) entries.push(e);
  const sp = entries.find((e) => e.path === 'lastlog')!;
  t.same(sp.sparse, [
    { offset: 0, length: 64 * 1024 },
    { offset: 5 * 1024 * 1024, length: 128 * 1024 },
  ], 'the data regions, in 64 KiB runs');
  t.equal(sp.size, size);
  t.equal(entries.find((e) => e.path === 'dense')!.sparse, undefined, 'a file stored whole is read whole');

  const out = path.join(work, 'sparse-out');
  fs.mkdirSync(out);
  const r = await runCli(['extract', '-d', tree, '-C', out]);
  t.equal(r.code, 0, r.stderr);
  t.ok(fs.readFileSync(path.join(out, 'lastlog')).equals(fs.readFileSync(f)), 'the same bytes');
  const st = fs.statSync(path.join(out, 'lastlog'));
  t.equal(st.size, size);
  t.ok(st.blocks * 512 < 1024 * 1024, `holes kept (${st.blocks} blocks)`);
});
