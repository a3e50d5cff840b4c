// Bodies taken as ranges (entry.ts Body.takeRange): the big bodies of an
// uncompressed archive file are read by position straight into the new file,
// by the writing thread or by the main thread, instead of through the reader
// and the ring. The tree must be GNU tar's and GNU cpio's; a truncated
// archive, the bytes cap, progress and a flar payload behave as on the
// streaming path, and a compressed archive keeps that path.

import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import type { Entry } from '../src/entry.js';
import { TruncatedError } from '../src/errors.js';
import { openArchive } from '../src/formats/index.js';
import { openFile } from '../src/source/input.js';
import { FsSink } from '../src/sink/fs.js';
import { drive, run } from '../src/pipeline/run.js';
import { diffTrees, snapshot, tmpdir } from './lib/tree.js';
import { runCli } from './lib/cli.js';
import type { T } from './sink-lib.js';

const MiB = 1024 * 1024;
const work = tmpdir('zonep2v-range-');
t.teardown(() => fs.rmSync(work, { recursive: true, force: true }));

/** Big files (one exactly at the range threshold, one over the ring's 4 MiB) among enough small ones to start the writing thread. */
const BIG: Record<string, number> = { 'big/a': 3 * MiB + 5, 'big/b': 9 * MiB + 3, 'big/c': MiB };
const src = path.join(work, 'src');
const names: string[] = [];
const data = new Map<string, Buffer>();

function add(name: string, body: Buffer): void {
  fs.mkdirSync(path.dirname(path.join(src, name)), { recursive: true });
  fs.writeFileSync(path.join(src, name), body);
  fs.utimesSync(path.join(src, name), 1_600_000_000, 1_600_000_000);
  names.push(name);
  data.set(name, body);
}

for (let i = 0; i < 60; i++) add(`small/f${String(i).padStart(2, '0')}`, crypto.randomBytes(i * 37));
for (const [name, size] of Object.entries(BIG)) add(name, crypto.randomBytes(size));
add('small/last', Buffer.from('after the big files\n'));

const archive = (name: string) => path.join(work, name);
/** Archive kind -> how GNU tar / GNU cpio make it from `names` in `src`. */
const MAKE: Record<string, (out: string) => void> = {
  'pax.tar': (out) => execFileSync('tar', ['--format=pax', '-cf', out, '-C', src, '--no-recursion', ...names]),
  'odc.cpio': (out) => fs.writeFileSync(out, cpioOf('odc')),
  'newc.cpio': (out) => fs.writeFileSync(out, cpioOf('newc')),
  'crc.cpio': (out) => fs.writeFileSync(out, cpioOf('crc')),
  'odc.cpio.gz': (out) => fs.writeFileSync(out, execFileSync('gzip', ['-c'], { input: cpioOf('odc'), maxBuffer: 1 << 26 })),
  'cpio.flar': (out) => fs.writeFileSync(out, Buffer.concat([Buffer.from(flarHeader(), 'latin1'), cpioOf('odc')])),
};

function cpioOf(fmt: string): Buffer {
  return execFileSync('cpio', ['-o', '--quiet', '-H', fmt], { cwd: src, input: `${names.join('\n')}\n`, maxBuffer: 1 << 26 });
}

function flarHeader(): string {
  const id = ['files_archived_method=cpio', 'files_compressed_method=none', 'creation_release=5.10', 'content_name=range test'];
  return ['FlAsH-aRcHiVe-2.0', 'section_begin=identification', ...id, 'section_end=identification', 'section_begin=archive', ''].join('\n');
}

t.before(() => {
  for (const [kind, make] of Object.entries(MAKE)) make(archive(kind));
});

/** GNU tar's or GNU cpio's tree of an uncompressed archive (a flar: of its payload). */
function reference(kind: string): string {
  const out = tmpdir('zonep2v-range-ref-');
  const file = archive(kind);
  if (kind.endsWith('.tar')) execFileSync('tar', ['-xpf', file, '-C', out, '--numeric-owner']);
  else {
    const whole = fs.readFileSync(file);
    const input = kind.endsWith('.flar') ? whole.subarray(flarHeader().length) : whole;
    execFileSync('cpio', ['-idm', '--quiet', '--no-absolute-filenames'], { cwd: out, input });
  }
  return out;
}

/** Extract through the API, the archive opened as the CLI opens it. */
async function extract(kind: string, writer: 'sync' | 'worker' | 'auto' = 'auto'): Promise<{ root: string; sink: FsSink; read: number }> {
  const root = tmpdir('zonep2v-range-out-');
  const input = openFile(archive(kind));
  const sink = new FsSink(root, { writer });
  await run({ entries: openArchive(input.data, { file: input.file }), sink });
  return { root, sink, read: input.bytesRead() };
}

const cleanup = (t: T, ...dirs: string[]) => t.teardown(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
const same = (a: string, b: string) => diffTrees(snapshot(a), snapshot(b), { ignoreDirMtime: true });

t.test('big bodies by range: the tree GNU tar and GNU cpio make, from either thread', async (t) => {
  for (const kind of ['pax.tar', 'odc.cpio', 'newc.cpio', 'cpio.flar']) {
    const ref = reference(kind);
    cleanup(t, ref);
    for (const writer of ['sync', 'worker', 'auto'] as const) {
      const x = await extract(kind, writer);
      cleanup(t, x.root);
      t.same(same(x.root, ref), [], `${kind}, ${writer}: same tree`);
      t.equal(x.sink.filesByRange, Object.keys(BIG).length, `${kind}, ${writer}: every big body by range`);
      t.equal(x.read, fs.statSync(archive(kind)).size, `${kind}, ${writer}: progress counts the ranges as read`);
    }
  }
});

t.test('the CLI extracts by range what GNU tar and GNU cpio extract', async (t) => {
  for (const kind of ['pax.tar', 'odc.cpio', 'cpio.flar']) {
    const ref = reference(kind);
    const out = tmpdir('zonep2v-range-cli-');
    cleanup(t, ref, out);
    const r = await runCli(['extract', '-a', archive(kind), '-C', out]);
    t.equal(r.code, 0, r.stderr);
    t.same(same(out, ref), [], kind);
  }
});

t.test('no range where the bytes must be seen or come through a decompressor', async (t) => {
  for (const kind of ['crc.cpio', 'odc.cpio.gz']) {
    const x = await extract(kind, 'worker');
    cleanup(t, x.root);
    t.equal(x.sink.filesByRange, 0, `${kind}: streamed`);
    for (const name of Object.keys(BIG)) t.ok(fs.readFileSync(path.join(x.root, name)).equals(data.get(name)!), `${kind}: ${name}`);
  }
});

/** Where a big file's body starts in an archive (its bytes are random, so unique). */
function bodyAt(buf: Buffer, name: string): number {
  return buf.indexOf(data.get(name)!.subarray(0, 64));
}

/** The message of a body cut at `cut`, as the parsers say it (`index`: the entry's ordinal). */
function cutMessage(name: string, index: number, cut: number, start: number): RegExp {
  const n = BIG[name]!;
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(esc(`entry "${name}" #${index} at offset ${cut}: unexpected end of input in file data: ${start + n - cut} of ${n} bytes missing (the archive is incomplete`));
}

/** Ordinal of `name` among the archive's entries. */
async function indexOf(kind: string, name: string): Promise<number> {
  for await (const e of openArchive(fs.createReadStream(archive(kind)))) if (e.path === name) return e.index;
  return -1;
}

t.test('an archive that ends inside a big body fails as before: the entry, where it ends, what is missing', async (t) => {
  for (const kind of ['pax.tar', 'odc.cpio', 'cpio.flar']) {
    const whole = fs.readFileSync(archive(kind));
    const start = bodyAt(whole, 'big/b');
    const cut = start + 5 * MiB + 11;
    const cutFile = path.join(work, `cut-${kind}`);
    fs.writeFileSync(cutFile, whole.subarray(0, cut));
    const out = tmpdir('zonep2v-range-cut-');
    cleanup(t, out);
    const r = await runCli(['extract', '-a', cutFile, '-C', out]);
    t.equal(r.code, 254, `${kind}: exit 254`);
    t.match(r.stderr, cutMessage('big/b', await indexOf(kind, 'big/b'), cut, start), `${kind}: ${r.stderr.split('\n').find((l) => l.includes('error'))}`);
    t.same(fs.readdirSync(out), [], `${kind}: what was written is removed`);
  }
});

t.test('an archive cut short while a range is copied: the copying thread says where, naming the entry', async (t) => {
  for (const writer of ['sync', 'worker'] as const) {
    const file = path.join(work, `shrinks-${writer}.cpio`);
    fs.copyFileSync(archive('odc.cpio'), file);
    const start = bodyAt(fs.readFileSync(file), 'big/b');
    const cut = start + 6 * MiB + 1;
    const root = tmpdir('zonep2v-range-shrink-');
    cleanup(t, root);
    const input = openFile(file);
    const sink = new FsSink(root, { writer });
    // Up to big/b (the reader then holds its head, not its rest), which the
    // file loses half of just before the sink takes it as a range.
    const entries = openArchive(input.data, { file: input.file });
    let err: unknown;
    try {
      await drive(upTo(entries, 'big/b', () => fs.truncateSync(file, cut)), sink);
      await sink.finish();
    } catch (e) {
      err = e;
    }
    await sink.abort();
    await entries.return?.();
    t.ok(err instanceof TruncatedError, `${writer}: a TruncatedError`);
    t.match((err as Error).message, cutMessage('big/b', await indexOf('odc.cpio', 'big/b'), cut, start), writer);
    t.equal(sink.filesByRange, 2, `${writer}: big/b was taken as a range`);
    t.same(fs.readdirSync(root), [], `${writer}: rolled back`);
  }
});

/** The entries up to and including `name`, calling `before` just before handing it out. */
async function* upTo(entries: AsyncIterable<Entry>, name: string, before: () => void): AsyncGenerator<Entry> {
  for await (const e of entries) {
    if (e.path === name) before();
    yield e;
    if (e.path === name) return;
  }
}

t.test('--limit bytes stops a big body taken as a range, and nothing stays', async (t) => {
  for (const kind of ['pax.tar', 'odc.cpio']) {
    const out = tmpdir('zonep2v-range-cap-');
    cleanup(t, out);
    const r = await runCli(['extract', '-a', archive(kind), '-C', out, '--limit', 'bytes=2M']);
    t.not(r.code, 0);
    t.match(r.stderr, /entry "big\/a".*limit of 2097152 bytes/, kind);
    t.same(fs.readdirSync(out), [], `${kind}: what was written is removed`);
  }
});

t.test('an interruption while the writing thread copies a big range ends the wait at finish, dropping the rest', async (t) => {
  // A 4 GiB range of a sparse file (holes read as zeros, fast and costing
  // no memory): without the interruption the thread would copy all of it.
  const dir = path.join(work, 'interrupt');
  fs.mkdirSync(path.join(dir, 'root'), { recursive: true });
  const sparse = path.join(dir, 'sparse');
  const length = 4 * 1024 * MiB;
  fs.closeSync(fs.openSync(sparse, 'w'));
  fs.truncateSync(sparse, length);
  const fd = fs.openSync(sparse, 'r');
  t.teardown(() => fs.closeSync(fd));
  const file = { size: length, next: 0, skip: () => undefined, pread: (b: Buffer, o: number, n: number, p: number) => fs.readSync(fd, b, o, n, p), reopen: () => fs.openSync(sparse, 'r') };
  const big: Entry = {
    path: 'huge',
    type: 'file',
    mode: 0o644,
    uid: 0,
    gid: 0,
    mtime: 1_600_000_000,
    mtimeNsec: 0,
    size: length,
    linkTarget: undefined,
    devMajor: undefined,
    devMinor: undefined,
    nlink: undefined,
    xattrs: undefined,
    sparse: undefined,
    offset: 0,
    index: 0,
    body: () => ({
      async *[Symbol.asyncIterator]() {
        throw new Error('a range body is not iterated');
      },
      takeRange: () => ({ head: Buffer.alloc(0), file, offset: 0, length }),
    }),
  };
  const controller = new AbortController();
  const sink = new FsSink(path.join(dir, 'root'), { owners: false, writer: 'worker', signal: controller.signal, caps: { reserveBytes: 0 } });
  await sink.write(big);
  setTimeout(() => controller.abort(new Error('interrupted by SIGINT')), 50);
  await t.rejects(sink.finish(), /interrupted by SIGINT/, 'finish gives the interruption');
  const written = fs.statSync(path.join(dir, 'root', 'huge')).size;
  t.ok(written < length, `the copy was stopped (${written} of ${length} bytes)`);
  t.same(await sink.abort(), [], 'rolled back');
  t.same(fs.readdirSync(path.join(dir, 'root')), []);
});
