// FsSink with its file-writing thread (write-queue.ts): the same tree as the
// main-thread writer, the archive's order of effects when a later entry
// touches a name still queued, errors from the thread naming their entry,
// and clean-up of a fresh root without per-file records.

import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { ArchiveError } from '../src/errors.js';
import { dir, hard, isRoot, mkEntry, setupEnv, snapshot, diffTrees, sym, writeAllSpecs, type Spec } from './sink-lib.js';

const read = (root: string, rel: string) => fs.readFileSync(path.join(root, rel));

/** The kind of the ArchiveError a write fails with ('' when it succeeds). */
async function kindOf(p: Promise<void>): Promise<string> {
  try {
    await p;
    return '';
  } catch (e) {
    return e instanceof ArchiveError ? e.kind : String(e);
  }
}

/** A mixed image: many files in a few directories, a big file, special modes, links, a sparse file. */
function image(): Spec[] {
  const specs: Spec[] = [dir('etc'), dir('usr'), dir('usr/bin'), dir('var', { mode: 0o750, mtime: 1_100_000_000 })];
  for (let i = 0; i < 300; i++) specs.push({ path: `usr/bin/f${i}`, data: `file ${i}\n`.repeat(i % 7), mode: i % 3 ? 0o755 : 0o644, uid: i % 5, gid: i % 4, mtime: 1_500_000_000 + i, nsec: i * 1000 });
  const big = crypto.randomBytes(9 * 1024 * 1024 + 123);
  specs.push({ path: 'var/big', data: big, chunk: 256 * 1024 + 7 });
  specs.push({ path: 'usr/bin/su', data: 'setuid', mode: 0o4755, uid: 0, gid: 3 });
  specs.push({ path: 'etc/group-writable', data: 'g', mode: 0o664 });
  specs.push({ path: 'etc/readonly', data: 'r', mode: 0o444 });
  specs.push({ path: 'etc/empty', data: '' });
  specs.push(hard('usr/bin/f0-link', 'usr/bin/f0'));
  specs.push(sym('usr/bin/sh', 'ksh'));
  specs.push({ path: 'var/sparse', data: 'AB', size: 1 << 20, sparse: [{ offset: 4096, length: 1 }, { offset: 1 << 19, length: 1 }] });
  return specs;
}

async function extract(writer: 'sync' | 'worker', specs: Spec[]): Promise<{ tree: ReturnType<typeof snapshot>; root: string; cleanup: () => void }> {
  const env = setupEnv();
  const s = env.sink({ writer });
  await writeAllSpecs(s, specs);
  await s.finish();
  return { tree: snapshot(env.root), root: env.root, cleanup: env.cleanup };
}

t.test('the writing thread builds the same tree as the main thread', async (t) => {
  const specs = image();
  const a = await extract('sync', specs);
  t.teardown(a.cleanup);
  const b = await extract('worker', specs);
  t.teardown(b.cleanup);
  t.same(diffTrees(a.tree, b.tree), [], 'same types, modes, owners, sizes, times, contents, links');
  t.equal(read(b.root, 'var/big').length, 9 * 1024 * 1024 + 123, 'a file larger than the ring arrives whole');
  t.equal(fs.statSync(path.join(b.root, 'var/sparse')).size, 1 << 20);
  if (isRoot) t.equal(fs.statSync(path.join(b.root, 'usr/bin/su')).mode & 0o7777, 0o4755, 'setuid kept (owner before mode)');
  t.equal(fs.statSync(path.join(b.root, 'etc/group-writable')).mode & 0o7777, 0o664, 'group write applied by fchmod, not by the umask');
  t.equal(fs.statSync(path.join(b.root, 'usr/bin/f0-link')).ino, fs.statSync(path.join(b.root, 'usr/bin/f0')).ino);
});

t.test('auto starts the thread after the first files, same tree', async (t) => {
  const specs = image();
  const a = await extract('sync', specs);
  t.teardown(a.cleanup);
  const env = setupEnv();
  t.teardown(env.cleanup);
  const s = env.sink({ writer: 'auto' });
  await writeAllSpecs(s, specs);
  t.ok(s.writerThreadStarted, 'the thread was started');
  await s.finish();
  t.same(diffTrees(a.tree, snapshot(env.root)), []);
});

t.test('a big file goes through the idle thread, streamed through the ring; busy, this thread writes it', async (t) => {
  const small: Spec[] = [dir('d')];
  for (let i = 0; i < 120; i++) small.push({ path: `d/s${i}`, data: `small ${i}\n`, mtime: 1_600_000_000 + i });
  const big = crypto.randomBytes(9 * 1024 * 1024 + 5);
  const bigSpec: Spec = { path: 'd/big', data: big, chunk: 300 * 1024 + 1, mode: 0o640, mtime: 1_234_567_890 };
  const env = setupEnv();
  t.teardown(env.cleanup);
  const s = env.sink({ writer: 'auto' });
  await writeAllSpecs(s, small);
  t.ok(s.writerThreadStarted, 'the thread runs');
  // Let the thread start and finish the small files: it runs and is idle
  // when the big one comes (waited for, not slept on: on a loaded machine
  // its start can take longer than any sleep).
  const queue = (s as unknown as { queue: { idle: boolean; running: boolean } | null }).queue;
  const ready = () => queue !== null && queue.running && queue.idle;
  for (let i = 0; i < 1000 && !ready(); i++) await new Promise((r) => setTimeout(r, 10));
  t.ok(ready(), 'the thread runs and is idle');
  const here = s.filesWrittenHere;
  await writeAllSpecs(s, [bigSpec]);
  t.equal(s.filesWrittenHere, here, 'the big file (over twice the ring) went to the idle thread');
  // (Where the next file goes depends on how far the thread got: not checked.)
  await writeAllSpecs(s, [{ path: 'd/after', data: 'after\n' }]);
  await s.finish();
  t.ok(read(env.root, 'd/big').equals(big), 'and arrived whole');
  const st = fs.statSync(path.join(env.root, 'd/big'));
  t.equal(st.mode & 0o7777, 0o640);
  t.equal(Math.floor(st.mtimeMs / 1000), 1_234_567_890);
  t.equal(read(env.root, 'd/after').toString(), 'after\n', 'the file after it too');

  // The thread busy (the ring just filled with 8 MiB of small files, more
  // than it holds): the big file is written here rather than wait.
  const env2 = setupEnv();
  t.teardown(env2.cleanup);
  const s2 = env2.sink({ writer: 'auto' });
  await writeAllSpecs(s2, small);
  await new Promise((r) => setTimeout(r, 300));
  const many: Spec[] = [dir('e')];
  for (let i = 0; i < 1000; i++) many.push({ path: `e/m${i}`, data: Buffer.alloc(8 * 1024, i) });
  await writeAllSpecs(s2, many);
  const here2 = s2.filesWrittenHere;
  await writeAllSpecs(s2, [{ ...bigSpec, path: 'e/big' }]);
  await s2.finish();
  t.ok(read(env2.root, 'e/big').equals(big), 'written whole either way');
  t.equal(s2.filesWrittenHere, here2 + 1, 'by this thread');
});

t.test('a later entry on a queued name waits for it: the archive order wins', async (t) => {
  const env = setupEnv();
  t.teardown(env.cleanup);
  const s = env.sink({ writer: 'worker', owners: false });
  const specs: Spec[] = [];
  for (let i = 0; i < 50; i++) specs.push({ path: `pad${i}`, data: crypto.randomBytes(64 * 1024) });
  specs.push(
    { path: 'f', data: 'first' },
    { path: 'f', data: 'second' },
    { path: 'to-dir', data: 'file' },
    dir('to-dir'),
    { path: 'to-dir/inside', data: 'in' },
    { path: 'to-link', data: 'file' },
    sym('to-link', 'target'),
    { path: 'target-of-hard', data: 'shared' },
    hard('hard', 'target-of-hard'),
  );
  await writeAllSpecs(s, specs);
  t.equal(await kindOf(s.write(mkEntry({ path: 'f/under-a-file', data: 'x' }))), 'parent-not-dir', 'a queued file is not a directory');
  await s.finish();
  t.equal(read(env.root, 'f').toString(), 'second');
  t.ok(fs.lstatSync(path.join(env.root, 'to-dir')).isDirectory());
  t.equal(read(env.root, 'to-dir/inside').toString(), 'in');
  t.equal(fs.readlinkSync(path.join(env.root, 'to-link')), 'target');
  t.equal(read(env.root, 'hard').toString(), 'shared');
  t.equal(fs.statSync(path.join(env.root, 'hard')).ino, fs.statSync(path.join(env.root, 'target-of-hard')).ino);
  t.same(env.outside(), []);
});

t.test('a hard link in a fresh root: only to a regular file under directories of this run', async (t) => {
  const env = setupEnv();
  t.teardown(env.cleanup);
  const s = env.sink({ writer: 'worker', owners: false });
  await writeAllSpecs(s, [dir('d'), { path: 'd/f', data: 'x' }, sym('l', 'd/f'), { type: 'fifo', path: 'p' }]);
  t.equal(await kindOf(s.write(mkEntry(hard('h1', 'missing')))), 'bad-hardlink');
  await s.write(mkEntry(hard('h2', 'l')));
  t.equal(await kindOf(s.write(mkEntry(hard('h3', 'd')))), 'bad-hardlink', 'not to a directory');
  t.equal(await kindOf(s.write(mkEntry(hard('h4', 'p')))), 'bad-hardlink', 'not to a FIFO');
  await s.write(mkEntry(hard('h5', 'd/f')));
  await s.finish();
  t.equal(read(env.root, 'h5').toString(), 'x');
  t.ok(fs.lstatSync(path.join(env.root, 'h2')).isSymbolicLink(), 'a hard link to a symlink is that symlink, made at the end');
});

t.test('a hard link to a file still queued goes through the thread, in archive order', async (t) => {
  const env = setupEnv();
  t.teardown(env.cleanup);
  const s = env.sink({ writer: 'worker', owners: false });
  // A backlog first, so that the target is still queued when its links come.
  const specs: Spec[] = [dir('fill'), dir('d')];
  for (let i = 0; i < 60; i++) specs.push({ path: `fill/f${i}`, data: crypto.randomBytes(48 * 1024) });
  specs.push({ path: 'd/a', data: 'A' }, hard('d/b', 'd/a'), hard('d/c', 'd/a'), { path: 'd/b', data: 'replaced' }, hard('d/e', 'd/c'), hard('d/c', 'd/a'));
  await writeAllSpecs(s, specs);
  await s.finish();
  const ino = (p: string) => fs.statSync(path.join(env.root, p)).ino;
  t.equal(read(env.root, 'd/a').toString(), 'A');
  t.equal(ino('d/c'), ino('d/a'), 'a link to the queued file');
  t.equal(ino('d/e'), ino('d/a'), 'a link to a link name queued just before');
  t.equal(read(env.root, 'd/b').toString(), 'replaced', 'a later file replaces the queued link');
  t.not(ino('d/b'), ino('d/a'));
  t.equal(fs.statSync(path.join(env.root, 'd/a')).nlink, 3, 'd/a, d/c and d/e: a repeated link replaced its own name');
  t.same(env.outside(), []);
});

t.test('a queued hard link whose target failed in the thread: the error of the target fails the run', async (t) => {
  const env = setupEnv((root) => {
    fs.mkdirSync(path.join(root, 'busy'));
    fs.writeFileSync(path.join(root, 'busy', 'keep'), 'k');
  });
  t.teardown(env.cleanup);
  const s = env.sink({ writer: 'worker', owners: false, fresh: true });
  const specs: Spec[] = [dir('fill')];
  for (let i = 0; i < 60; i++) specs.push({ path: `fill/f${i}`, data: crypto.randomBytes(48 * 1024) });
  specs.push({ path: 'busy', data: 'file over a full directory', offset: 4242 }, hard('h', 'busy', { offset: 5000 }));
  let err: unknown;
  try {
    await writeAllSpecs(s, specs);
    await s.finish();
  } catch (e) {
    err = e;
  }
  t.ok(err instanceof ArchiveError, 'an ArchiveError');
  t.match(err, { kind: 'not-empty', entry: 'busy', offset: 4242 }, 'the first error, naming its entry');
  t.notOk(fs.existsSync(path.join(env.root, 'h')), 'no link was made');
});

t.test('an error in the thread names its entry and fails the run; lenient skips it', async (t) => {
  for (const lenient of [false, true]) {
    // A pre-existing non-empty directory where a file entry goes: found by the thread.
    const env = setupEnv((root) => {
      fs.mkdirSync(path.join(root, 'busy'));
      fs.writeFileSync(path.join(root, 'busy', 'keep'), 'k');
    });
    t.teardown(env.cleanup);
    const s = env.sink({ writer: 'worker', owners: false, fresh: true, lenient });
    const bad = mkEntry({ path: 'busy', data: 'file over a full directory', offset: 4242 });
    await s.write(bad);
    let err: unknown;
    try {
      await writeAllSpecs(s, [{ path: 'after', data: 'a' }]);
      await s.finish();
    } catch (e) {
      err = e;
    }
    if (lenient) {
      t.equal(err, undefined, 'lenient: the run goes on');
      t.ok(env.warnings.some((w) => w.kind === 'not-empty' && w.entry === 'busy' && w.offset === 4242), 'lenient: a warning names the entry');
      t.equal(read(env.root, 'after').toString(), 'a');
    } else {
      t.ok(err instanceof ArchiveError, 'an ArchiveError');
      const ae = err as ArchiveError;
      t.equal(ae.kind, 'not-empty');
      t.equal(ae.entry, 'busy', 'names the entry that failed, not the current one');
      t.equal(ae.offset, 4242);
      t.match(ae.message, /non-empty directory/);
    }
    t.equal(read(env.root, 'busy/keep').toString(), 'k', 'the directory is untouched');
  }
});

t.test('abort with files queued leaves a fresh root empty; removeWritten removes a subtree', async (t) => {
  const env = setupEnv();
  t.teardown(env.cleanup);
  const rootTimes = fs.statSync(env.root).mtimeMs;
  const s = env.sink({ writer: 'worker', owners: false });
  const specs: Spec[] = [dir('keep'), dir('zones/z1/root', { mode: 0o700 })];
  for (let i = 0; i < 200; i++) specs.push({ path: `zones/z1/root/f${i}`, data: crypto.randomBytes(32 * 1024) });
  specs.push({ path: 'keep/a', data: 'a' }, sym('keep/l', 'a'));
  await writeAllSpecs(s, specs);
  const n = await s.removeWritten('zones/z1');
  t.equal(n, 202, 'the 200 files and 2 directories below zones/z1, and zones/z1');
  t.notOk(fs.existsSync(path.join(env.root, 'zones/z1')));
  t.ok(fs.existsSync(path.join(env.root, 'zones')), 'the parent stays');
  for (let i = 0; i < 100; i++) await s.write(mkEntry({ path: `more${i}`, data: crypto.randomBytes(16 * 1024) }));
  const left = await s.abort();
  t.same(left, []);
  t.same(fs.readdirSync(env.root), [], 'nothing left in the root');
  t.ok(Math.abs(fs.statSync(env.root).mtimeMs - rootTimes) < 0.01, 'the root keeps its times (to the microsecond futimes keeps)');
  t.same(env.outside(), []);
});

t.test('a root that was not empty keeps per-file records and the main-thread writer', async (t) => {
  const env = setupEnv((root) => fs.writeFileSync(path.join(root, 'theirs'), 'pre-existing'));
  t.teardown(env.cleanup);
  const s = env.sink({ writer: 'worker', owners: false });
  await writeAllSpecs(s, [{ path: 'ours', data: 'x' }]);
  t.notOk(s.writerThreadStarted, 'no thread for a root that already holds files');
  await s.abort();
  t.same(fs.readdirSync(env.root), ['theirs'], 'abort removes only what this run made');
});

t.test('a prestarted writing thread is taken by the first queue that wants one, once', async (t) => {
  const { WriteQueue, prestartWriter } = await import('../src/sink/write-queue.js');
  const spare = prestartWriter();
  t.equal(prestartWriter(), spare, 'prestarting twice keeps one thread');
  const a = WriteQueue.take();
  t.equal(a, spare, 'the first take gets the prestarted thread');
  await a.whenRunning();
  t.ok(a.running, 'the prestarted thread runs');
  const b = WriteQueue.take();
  t.not(a, b, 'the next take starts a new thread');
  await a.close();
  await b.close();
});
