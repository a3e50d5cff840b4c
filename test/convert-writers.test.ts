// The archive writers convert uses (sink/pax-writer.ts, sink/cpio-writer.ts),
// on the cases tar-stream's packer gets wrong: names over 100 and 255 bytes,
// non-UTF-8 names and link targets, uids and gids over 2097151, times before
// 1970 and after 2242 with nanoseconds, sparse files, device numbers over
// 2097151, extended attributes, hard links (to an empty file too), FIFOs,
// setuid. Each archive is extracted by the reference tools (GNU tar, bsdtar,
// GNU cpio) and compared with what install's filesystem sink writes from the
// same entries; each is also read back by our own parsers.

import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { PassThrough, Writable } from 'node:stream';
import type { Entry } from '../src/entry.js';
import { ArchiveError } from '../src/errors.js';
import { openArchive } from '../src/formats/index.js';
import { FsSink } from '../src/sink/fs.js';
import { PaxWriter, paxTime } from '../src/sink/pax-writer.js';
import { CpioWriter } from '../src/sink/cpio-writer.js';
import { normPath } from '../src/rules/path.js';
import { dir, hard, mkEntry, sym, type Spec } from './sink-lib.js';
import { diffTrees, snapshot, tmpdir, type Tree } from './lib/tree.js';
import type { Warning } from '../src/formats/types.js';

const work = tmpdir('zonep2v-writers-');
t.teardown(() => fs.rmSync(work, { recursive: true, force: true }));

const X = 'x'.repeat(120);
const Y = 'y'.repeat(120);
const LATIN = 'r\xe9sum\xe9.txt';
const LONG_LATIN = `long-\xe9-${'z'.repeat(150)}`;
const LONG_TARGET = `/opt/\xff${'t'.repeat(200)}`;

const SPECS: Spec[] = [
  dir('.', { mode: 0o755 }),
  dir('a', { mode: 0o750, uid: 2, gid: 2 }),
  { path: 'a/plain', data: 'plain file\n', mode: 0o644 },
  hard('a/hl', 'a/plain'),
  { path: 'a/empty', data: '', mode: 0o600, uid: 5, gid: 6 },
  hard('./a/empty-hl', './a/empty', { mode: 0o600, uid: 5, gid: 6 }), // a link member carries its file's metadata, as archives do
  { path: 'n'.repeat(100), data: 'a name of exactly 100 bytes\n' },
  dir('d1'),
  dir(`d1/${X}`),
  dir(`d1/${X}/${Y}`),
  { path: `d1/${X}/${Y}/file`, data: 'a 250-byte path\n' },
  { path: LATIN, data: 'latin1 name\n', uid: 100, gid: 10 },
  { path: LONG_LATIN, data: 'a long latin1 name\n' },
  sym('l1', LONG_TARGET),
  sym('l2', 'a/plain'),
  { path: 'bigids', data: 'uid and gid over 2097151\n', uid: 3_000_000, gid: 70_000_000 },
  { path: 'old', data: 'before 1970\n', mtime: -1_000_000_000 },
  { path: 'old-nano', data: 'before 1970, with a fraction (kept in whole seconds)\n', mtime: -1_000_000, nsec: 250_000_000 },
  { path: 'future', data: 'after 2242\n', mtime: 9_000_000_000 },
  { path: 'nano', data: 'nanoseconds\n', mtime: 1_600_000_000, nsec: 123_456_789 },
  { path: 'suid', data: '#!/bin/sh\n', mode: 0o4755 },
  { path: 'sgid-dir-file', data: 'x', mode: 0o2555, gid: 3 },
  { path: 'sparse', data: 'HEAD------TAIL------', size: 100_000, sparse: [{ offset: 0, length: 10 }, { offset: 90_000, length: 10 }] },
  { path: 'fifo', type: 'fifo', mode: 0o600 },
  dir('emptydir', { mode: 0o1777 }),
];
const XATTRS = { 'SCHILY.xattr.user.comment': Buffer.from('a comment'), 'SCHILY.xattr.user.bin': Buffer.from([0, 1, 255, 10]) };
const DEVICE: Spec = { path: 'dev-big', type: 'char', devMajor: 3_000_000, devMinor: 70_000 };

function entries(withExtras: boolean): Entry[] {
  const out = SPECS.map(mkEntry);
  if (withExtras) {
    const x = mkEntry({ path: 'xattr-file', data: 'has xattrs\n' });
    x.xattrs = XATTRS;
    out.push(x, mkEntry(DEVICE));
  }
  return out;
}
const roundTrip = path.join(work, 'extras.pax');
const roundTripCpio = path.join(work, 'extras.cpio');

async function toFile(writer: (out: Writable) => PaxWriter | CpioWriter, list: Entry[], file: string): Promise<void> {
  const out = fs.createWriteStream(file);
  const w = writer(out);
  for (const e of list) await w.write(e);
  await w.finish();
}

function extract(cmd: string, args: string[], archive: string, into: string): { status: number | null; stderr: string } {
  fs.mkdirSync(into, { recursive: true });
  const r = spawnSync(cmd, args, { cwd: into, input: fs.readFileSync(archive), encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr };
}

let reference: Tree;
const pax = path.join(work, 'out.pax');
const cpio = path.join(work, 'out.cpio');

const paxWarnings: Warning[] = [];

t.before(async () => {
  // What install writes from the same entries.
  const root = path.join(work, 'fs');
  fs.mkdirSync(root);
  const sink = new FsSink(root, {});
  for (const e of entries(false)) await sink.write(e);
  await sink.finish();
  reference = snapshot(root);
  await toFile((o) => new PaxWriter(o, { warn: (w) => paxWarnings.push(w) }), entries(false), pax);
  await toFile((o) => new CpioWriter(o), entries(false), cpio);
  // Extended attributes and a device number no tool can create here: read back by our parsers.
  await toFile((o) => new PaxWriter(o), entries(true), roundTrip);
  await toFile((o) => new CpioWriter(o), entries(true), roundTripCpio);
});


t.test('pax: a time before 1970 with a fraction is written in whole seconds, and said once', async (t) => {
  t.same(paxWarnings.filter((w) => w.kind === 'mtime-rounded').map((w) => w.entry), ['old-nano']);
  t.same(paxWarnings.filter((w) => w.kind === 'sparse-expanded').map((w) => w.entry), ['sparse'], 'holes written out are said too');
});

t.test('pax: GNU tar extracts the tree install writes', async (t) => {
  const r = extract('tar', ['-xpf', '-', '--numeric-owner'], pax, path.join(work, 'gnutar'));
  t.equal(r.status, 0, r.stderr);
  // GNU tar does not know hdrcharset (it takes the bytes as they are, which is
  // what BINARY means) and notes the unusual dates: nothing else.
  const other = r.stderr.split('\n').filter((l) => l && !/unknown extended header keyword 'hdrcharset'|time stamp/.test(l));
  t.same(other, [], 'no other message from GNU tar');
  const tree = snapshot(path.join(work, 'gnutar'));
  t.same(diffTrees(reference, tree, { ignoreDirMtime: true }), []);
  t.ok(tree.has(LONG_LATIN), 'the long non-UTF-8 name came back as its bytes');
  t.equal(tree.get('l1')?.target, LONG_TARGET, 'the long non-UTF-8 symlink target came back as its bytes');
  t.equal(tree.get('bigids')?.uid, 3_000_000);
  t.equal(tree.get('sparse')?.size, 100_000);
});

t.test('pax: bsdtar extracts the tree install writes', async (t) => {
  const r = extract('bsdtar', ['-xpf', '-', '--numeric-owner'], pax, path.join(work, 'bsdtar'));
  t.equal(r.status, 0, r.stderr);
  const tree = snapshot(path.join(work, 'bsdtar'));
  t.same(diffTrees(reference, tree, { ignoreDirMtime: true }), []);
});

t.test('cpio (newc): GNU cpio -idm extracts the tree install writes (times outside 32 bits clamped)', async (t) => {
  const r = extract('cpio', ['-idm', '--quiet'], cpio, path.join(work, 'gnucpio'));
  t.equal(r.status, 0, r.stderr);
  const tree = snapshot(path.join(work, 'gnucpio'));
  const clamped = (rel: string) => rel === 'old' || rel === 'old-nano' || rel === 'future';
  t.same(diffTrees(reference, tree, { exclude: (rel) => clamped(rel), ignoreDirMtime: true }), []);
  t.same(diffTrees(reference, tree, { exclude: (rel) => !clamped(rel), ignore: ['mtime'] }), [], 'the clamped files are otherwise right');
  t.equal(tree.get('a/empty')?.links, 'a/empty|a/empty-hl', 'an empty file keeps its hard link');
  t.equal(tree.get('a/plain')?.links, 'a/hl|a/plain');
});

async function readBack(file: string): Promise<Map<string, { e: Entry; data: Buffer }>> {
  const m = new Map<string, { e: Entry; data: Buffer }>();
  for await (const e of openArchive(fs.createReadStream(file))) {
    const parts: Buffer[] = [];
    for await (const c of e.body()) parts.push(c);
    m.set(normPath(e.path), { e, data: Buffer.concat(parts) });
  }
  return m;
}

t.test('our own parsers read both outputs back, field by field', async (t) => {
  for (const [label, file] of [['pax', roundTrip], ['cpio', roundTripCpio]] as const) {
    const back = await readBack(file);
    for (const src of entries(true)) {
      const key = normPath(src.path);
      const got = back.get(key);
      if (!t.ok(got, `${label}: ${JSON.stringify(key)} is there`) || !got) continue;
      const e = got.e;
      t.equal(e.type, src.type, `${label} ${key}: type`);
      t.equal(e.mode, src.mode, `${label} ${key}: mode`);
      t.equal(e.uid, src.uid, `${label} ${key}: uid`);
      t.equal(e.gid, src.gid, `${label} ${key}: gid`);
      if (label === 'pax' || (src.mtime >= 0 && src.mtime < 2 ** 32)) t.equal(e.mtime, src.mtime, `${label} ${key}: mtime`);
      if (label === 'pax') t.equal(e.mtimeNsec, src.mtime < 0 ? 0 : src.mtimeNsec, `${label} ${key}: nanoseconds`);
      if (src.type === 'file') {
        const want = src.sparse ? Buffer.concat([Buffer.from('HEAD------'), Buffer.alloc(89_990), Buffer.from('TAIL------'), Buffer.alloc(100_000 - 90_010)]) : Buffer.concat(await collect(src));
        t.ok(got.data.equals(want), `${label} ${key}: content`);
      }
      if (src.type === 'symlink') t.equal(e.linkTarget, src.linkTarget, `${label} ${key}: target`);
      if (src.type === 'hardlink') t.equal(normPath(e.linkTarget ?? ''), normPath(src.linkTarget!), `${label} ${key}: link target`);
      if (src.type === 'char') {
        t.equal(e.devMajor, src.devMajor, `${label} ${key}: major`);
        t.equal(e.devMinor, src.devMinor, `${label} ${key}: minor`);
      }
      if (src.xattrs && label === 'pax') t.same(e.xattrs, src.xattrs, 'pax: extended attributes kept');
    }
  }
});

async function collect(e: Entry): Promise<Buffer[]> {
  const parts: Buffer[] = [];
  for await (const c of e.body()) parts.push(c);
  return parts;
}

async function kind(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (e) {
    return (e as ArchiveError).kind;
  }
}

t.test('names are checked as the filesystem sink checks them', async (t) => {
  for (const mk of [(o: Writable) => new PaxWriter(o), (o: Writable) => new CpioWriter(o)]) {
    const w = mk(new PassThrough().resume());
    t.equal(await kind(w.write(mkEntry({ path: 'a/../../etc/passwd', data: 'x' }))), 'unsafe-path', '".." refused');
    t.equal(await kind(w.write(mkEntry({ path: 'x\0y', data: 'x' }))), 'unsafe-path', 'NUL refused');
    t.equal(await kind(w.write(mkEntry(hard('h', '../outside')))), 'unsafe-path', 'a hard link out of the root refused');
    t.equal(await kind(w.write(mkEntry({ path: '.', data: 'x' }))), 'unsafe-path', 'the root must be a directory');
    await w.abort();
  }
});

t.test('newc refuses a file of 4 GiB before reading it', async (t) => {
  let read = false;
  const huge: Entry = { ...mkEntry({ path: 'huge', data: '' }), size: 2 ** 32, body: () => ({ async *[Symbol.asyncIterator]() { read = true; } }) };
  const w = new CpioWriter(new PassThrough().resume());
  t.equal(await kind(w.write(huge)), 'too-large-for-cpio');
  t.notOk(read, 'the body was not read');
});

t.test('an output that fails (EPIPE) surfaces as an error, not a crash', async (t) => {
  const broken = new Writable({
    write(_c, _e, cb) {
      cb(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    },
  });
  const w = new PaxWriter(broken);
  let err: unknown;
  try {
    for (let i = 0; i < 100; i++) await w.write(mkEntry({ path: `f${i}`, data: Buffer.alloc(70_000) }));
    await w.finish();
  } catch (e) {
    err = e;
  }
  t.ok(err instanceof ArchiveError && err.kind === 'output', `failed with the output error: ${String(err)}`);
});

t.test('pax time values, negative times included', async (t) => {
  t.equal(paxTime(5, 0), '5');
  t.equal(paxTime(5, 500_000_000), '5.5');
  t.equal(paxTime(-1, 500_000_000), '-0.5');
  t.equal(paxTime(-2, 250_000_000), '-1.75');
  t.equal(paxTime(-3, 0), '-3');
  t.equal(paxTime(0, 1), '0.000000001');
});

t.test('cpio: a link group of three names whose count the source does not record (tar): every name gets the data', async (t) => {
  // A tar source records no nlink. bsdtar and our reader take the first
  // member's nlink as the group's size: with nlink 2 the third name began a
  // new group of its own and came out as an empty file.
  const file = path.join(work, 'links3.cpio');
  const list = [dir('.'), dir('d'), { path: 'd/f', data: 'linked data\n' }, hard('d/g', 'd/f'), hard('h', 'd/f')].map(mkEntry);
  for (const e of list) e.nlink = undefined;
  await toFile((o) => new CpioWriter(o), list, file);
  for (const [label, cmd, args] of [['GNU cpio', 'cpio', ['-idm', '--quiet']], ['bsdtar', 'bsdtar', ['-xpf', '-']]] as const) {
    const into = path.join(work, `links3-${cmd}`);
    const r = extract(cmd, [...args], file, into);
    t.equal(r.status, 0, r.stderr);
    const tree = snapshot(into);
    for (const n of ['d/f', 'd/g', 'h']) t.equal(tree.get(n)?.size, 12, `${label}: ${n} has the data`);
    t.equal(tree.get('h')?.links, 'd/f|d/g|h', `${label}: one inode, three names`);
  }
  const back = await readBack(file);
  t.same(['d/f', 'd/g', 'h'].map((n) => [back.get(n)?.e.type, back.get(n)?.data.length]), [['file', 12], ['hardlink', 0], ['hardlink', 0]], 'our reader: the file, then two links to it');
  t.equal(normPath(back.get('h')?.e.linkTarget ?? ''), 'd/f');
});
