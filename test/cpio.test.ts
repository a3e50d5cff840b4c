// cpio reader: differential against GNU cpio and MirBSD pax archives of a
// generated tree (compared with the tree's lstat), synthetic headers for the
// rules no tool here writes (Solaris records, mixed variants, hostile
// fields), and malformed input (truncations, byte flips) that must end in an
// ArchiveError, never another exception or a hang.

import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import type { Entry } from '../src/entry.js';
import { ArchiveError, TruncatedError } from '../src/errors.js';
import { ByteReader } from '../src/source/reader.js';
import { parseCpio, ACL_XATTR } from '../src/formats/cpio.js';
import { byteSum } from '../src/formats/cpio-header.js';
import { makeContext, DEFAULT_LIMITS, NAME_PREFIX_SLACK, type Warning, type ArchiveInfo, type Limits } from '../src/formats/types.js';
import { FsSink } from '../src/sink/fs.js';
import { snapshot, diffTrees, tmpdir, type Tree, type Node } from './lib/tree.js';

// ---------------------------------------------------------------- helpers

interface Got {
  e: Entry;
  data?: Buffer;
  /** The body came from takeNow(). */
  now?: boolean;
}

async function* chunked(buf: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

interface ParseOpts {
  lenient?: boolean;
  limits?: Partial<Limits>;
  /** Read bodies (default true). */
  read?: boolean;
  chunk?: number;
  /** Ask for the whole body synchronously first (body().takeNow), as the sink does. */
  takeNow?: boolean;
}

async function parse(input: Buffer | AsyncIterable<Buffer>, o: ParseOpts = {}): Promise<{ got: Got[]; warnings: Warning[]; info: ArchiveInfo }> {
  const warnings: Warning[] = [];
  const ctx = makeContext({ lenient: o.lenient, limits: { ...DEFAULT_LIMITS, ...o.limits }, warn: (w) => warnings.push(w) });
  const src = Buffer.isBuffer(input) ? chunked(input, o.chunk ?? 65536) : input;
  const r = new ByteReader(src);
  const got: Got[] = [];
  for await (const e of parseCpio(r, ctx)) {
    const g: Got = { e };
    if (o.read !== false && e.type === 'file') {
      const body = e.body();
      const whole = o.takeNow ? body.takeNow?.() : undefined;
      if (whole !== undefined) {
        g.data = Buffer.from(whole);
        g.now = true;
      } else {
        const parts: Buffer[] = [];
        for await (const c of body) parts.push(Buffer.from(c));
        g.data = Buffer.concat(parts);
      }
    }
    got.push(g);
  }
  return { got, warnings, info: ctx.info };
}

/** Run `p`, failing (instead of hanging the suite) after `ms`. */
async function bounded<T>(p: Promise<T>, ms = 15000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const to = new Promise<never>((_, rej) => {
    timer = setTimeout(() => rej(new Error('timeout: the parser hung')), ms);
  });
  try {
    return await Promise.race([p, to]);
  } finally {
    clearTimeout(timer);
  }
}

async function parseError(input: Buffer | AsyncIterable<Buffer>, o: ParseOpts = {}): Promise<unknown> {
  try {
    await bounded(parse(input, o));
  } catch (e) {
    return e;
  }
  return null;
}

const sha = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');

// ------------------------------------------------------- header synthesis

interface M {
  name: string | Buffer;
  mode: number;
  data?: Buffer;
  ino?: number;
  dev?: number;
  devMinor?: number;
  nlink?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  rdevMajor?: number;
  rdevMinor?: number;
  check?: number;
  namesize?: number;
  filesize?: number;
  /** Name bytes as written (default: name + NUL). */
  rawName?: Buffer;
  patch?: (h: Buffer) => void;
}

const nameBuf = (m: M) => m.rawName ?? Buffer.concat([typeof m.name === 'string' ? Buffer.from(m.name, 'latin1') : m.name, Buffer.from([0])]);
const pad = (n: number, a: number) => Buffer.alloc((a - (n % a)) % a);

function newc(m: M, crc = false): Buffer {
  const name = nameBuf(m);
  const data = m.data ?? Buffer.alloc(0);
  const hex = (v: number) => v.toString(16).toUpperCase().padStart(8, '0');
  const fields = [m.ino ?? 1, m.mode, m.uid ?? 0, m.gid ?? 0, m.nlink ?? 1, m.mtime ?? 1234567890, m.filesize ?? data.length, m.dev ?? 8, m.devMinor ?? 1, m.rdevMajor ?? 0, m.rdevMinor ?? 0, m.namesize ?? name.length, m.check ?? (crc ? byteSum(data) % 2 ** 32 : 0)];
  const h = Buffer.from((crc ? '070702' : '070701') + fields.map(hex).join(''), 'latin1');
  m.patch?.(h);
  return Buffer.concat([h, name, pad(110 + name.length, 4), data, pad(data.length, 4)]);
}

function odc(m: M): Buffer {
  const name = nameBuf(m);
  const data = m.data ?? Buffer.alloc(0);
  const oct = (v: number, w: number) => v.toString(8).padStart(w, '0');
  const rdev = ((m.rdevMajor ?? 0) << 8) | (m.rdevMinor ?? 0);
  const s = '070707' + oct(m.dev ?? 8, 6) + oct(m.ino ?? 1, 6) + oct(m.mode, 6) + oct(m.uid ?? 0, 6) + oct(m.gid ?? 0, 6) + oct(m.nlink ?? 1, 6) + oct(rdev, 6) + oct(m.mtime ?? 1234567890, 11) + oct(m.namesize ?? name.length, 6) + oct(m.filesize ?? data.length, 11);
  const h = Buffer.from(s, 'latin1');
  m.patch?.(h);
  return Buffer.concat([h, name, data]);
}

function bin(m: M, le = true): Buffer {
  const name = nameBuf(m);
  const data = m.data ?? Buffer.alloc(0);
  const h = Buffer.alloc(26);
  const w = (o: number, v: number) => (le ? h.writeUInt16LE(v & 0xffff, o) : h.writeUInt16BE(v & 0xffff, o));
  const mt = m.mtime ?? 1234567890;
  const fs_ = m.filesize ?? data.length;
  w(0, 0o070707);
  w(2, m.dev ?? 8);
  w(4, m.ino ?? 1);
  w(6, m.mode);
  w(8, m.uid ?? 0);
  w(10, m.gid ?? 0);
  w(12, m.nlink ?? 1);
  w(14, ((m.rdevMajor ?? 0) << 8) | (m.rdevMinor ?? 0));
  w(16, Math.floor(mt / 65536));
  w(18, mt % 65536);
  w(20, m.namesize ?? name.length);
  w(22, Math.floor(fs_ / 65536));
  w(24, fs_ % 65536);
  m.patch?.(h);
  return Buffer.concat([h, name, pad(26 + name.length, 2), data, pad(data.length, 2)]);
}

const TR: M = { name: 'TRAILER!!!', mode: 0, ino: 0, dev: 0, devMinor: 0, mtime: 0 };
const REG = 0o100644;

// ------------------------------------------------------ differential tests

const has = (cmd: string) => spawnSync(cmd, ['--version'], { stdio: 'ignore' }).error === undefined;
const HAVE_PAX = spawnSync('pax', ['-x', 'bcpio', '-w', '/dev/null'], { stdio: 'ignore' }).error === undefined;
const HAVE_PY = has('python3');

interface Fixture {
  root: string;
  /** Relative names (latin1) to archive, parents first. */
  names: string[];
}

function buildTree(t: { teardown(fn: () => void): void }): Fixture {
  const base = tmpdir('zonep2v-cpio-');
  t.teardown(() => fs.rmSync(base, { recursive: true, force: true }));
  const root = path.join(base, 'src');
  fs.mkdirSync(root);
  const names: string[] = [];
  const P = (rel: string) => Buffer.concat([Buffer.from(root + '/'), Buffer.from(rel, 'latin1')]);
  const add = (rel: string) => names.push(rel);
  const mkdir = (rel: string, mode = 0o755) => {
    fs.mkdirSync(P(rel));
    fs.chmodSync(P(rel), mode);
    add(rel);
  };
  const file = (rel: string, data: Buffer, mode = 0o644) => {
    fs.writeFileSync(P(rel), data);
    fs.chmodSync(P(rel), mode);
    add(rel);
  };
  const rnd = (n: number) => crypto.randomBytes(n);
  mkdir('dir');
  mkdir('dir/sub', 0o700);
  mkdir('sticky', 0o1777);
  mkdir('sgid', 0o2755);
  file('empty', Buffer.alloc(0));
  for (const n of [1, 2, 3, 5, 511, 512, 513, 4097]) file(`f${n}`, rnd(n));
  file('dir/sub/big', rnd(1536 * 1024 + 7));
  file('suid', rnd(100), 0o4755);
  file('sgid/exe', rnd(10), 0o2711);
  file('\xe9t\xe9', Buffer.from('latin-1 name\n'));
  file('dir/name with spaces\tand tab', Buffer.from('x'));
  file('hl1', Buffer.from('three names, one inode\n'));
  fs.linkSync(P('hl1'), P('dir/hl2'));
  add('dir/hl2');
  fs.linkSync(P('hl1'), P('sgid/hl3'));
  add('sgid/hl3');
  file('hl-empty-a', Buffer.alloc(0));
  fs.linkSync(P('hl-empty-a'), P('hl-empty-b'));
  add('hl-empty-b');
  fs.symlinkSync('f1', P('sym-rel'));
  add('sym-rel');
  fs.symlinkSync('/etc/passwd', P('sym-abs'));
  add('sym-abs');
  fs.symlinkSync('no/such/target', P('dir/sym-dangling'));
  add('dir/sym-dangling');
  execFileSync('mkfifo', [P('fifo').toString('latin1')]);
  add('fifo');
  execFileSync('mknod', [P('cdev').toString(), 'c', '1', '3']);
  add('cdev');
  execFileSync('mknod', [P('bdev').toString(), 'b', '7', '2']);
  add('bdev');
  // Owners and times (as root).
  const owners: Record<string, [number, number]> = { f1: [1234, 5678], f2: [65534, 65533], 'dir/sub': [42, 43], sticky: [0, 3], 'sym-rel': [7, 8] };
  for (const [rel, [u, g]] of Object.entries(owners)) fs.lchownSync(P(rel), u, g);
  const times = [0, 315532800, 1000000000, 1234567890, 2000000000, 1700000000];
  names.forEach((rel, i) => {
    const st = fs.lstatSync(P(rel));
    if (st.isSymbolicLink()) fs.lutimesSync(P(rel), 1111111111, 1111111111 + i);
    else if (!st.isDirectory()) fs.utimesSync(P(rel), 1, times[i % times.length]!);
  });
  for (const rel of ['dir/sub', 'dir', 'sticky', 'sgid']) fs.utimesSync(P(rel), 1, 1500000000 + rel.length);
  return { root, names };
}

function pack(fx: Fixture, tool: 'cpio' | 'pax', fmt: string, names = fx.names): Buffer {
  if (tool === 'cpio') {
    const list = Buffer.concat(names.map((n) => Buffer.from(`${n}\0`, 'latin1')));
    return execFileSync('cpio', ['-o', '-0', '--quiet', '-H', fmt], { cwd: fx.root, input: list, maxBuffer: 1 << 28 });
  }
  const list = Buffer.concat(names.map((n) => Buffer.from(`${n}\n`, 'latin1')));
  return execFileSync('pax', ['-w', '-d', '-x', fmt], { cwd: fx.root, input: list, maxBuffer: 1 << 28, stdio: ['pipe', 'pipe', 'ignore'] });
}

/** Parsed entries as a Tree, comparable with snapshot(). */
function toTree(got: Got[]): Tree {
  const tree: Tree = new Map();
  const groups = new Map<string, string[]>();
  const files = new Map<string, Node>();
  for (const { e, data } of got) {
    const rel = e.path.replace(/^\.\//, '');
    if (rel === '.' || rel === '') continue;
    if (e.type === 'hardlink') continue;
    const n: Node = { type: e.type as Node['type'], mode: e.mode, uid: e.uid, gid: e.gid, size: e.size, mtime: e.mtime, blocks: 0 };
    if (e.type === 'file') {
      n.hash = sha(data!);
      files.set(e.path, n);
    }
    if (e.type === 'symlink') {
      n.target = e.linkTarget;
      n.size = Buffer.byteLength(e.linkTarget!, 'latin1');
    }
    if (tree.has(rel)) throw new Error(`duplicate entry ${rel}`);
    tree.set(rel, n);
  }
  for (const { e } of got) {
    if (e.type !== 'hardlink') continue;
    const rel = e.path.replace(/^\.\//, '');
    const target = files.get(e.linkTarget!);
    if (!target) throw new Error(`hard link ${e.path} to ${e.linkTarget} which is not an earlier file`);
    tree.set(rel, { ...target, mode: e.mode, uid: e.uid, gid: e.gid, mtime: e.mtime });
    const key = e.linkTarget!.replace(/^\.\//, '');
    const g = groups.get(key) ?? [key];
    g.push(rel);
    groups.set(key, g);
  }
  for (const names of groups.values()) {
    const s = [...names].sort().join('|');
    for (const nm of names) tree.set(nm, { ...tree.get(nm)!, links: s });
  }
  return tree;
}

t.test('differential: GNU cpio and MirBSD pax archives of a generated tree', async (t) => {
  const fx = buildTree(t);
  const src = snapshot(fx.root);
  const rdev = (rel: string) => {
    const st = fs.lstatSync(path.join(fx.root, rel));
    return [Math.floor(st.rdev / 256) & 0xfff, st.rdev & 0xff];
  };
  const cases: [string, 'cpio' | 'pax', string, string][] = [
    ['GNU cpio -H bin (little-endian)', 'cpio', 'bin', 'cpio-bin-le'],
    ['GNU cpio -H odc', 'cpio', 'odc', 'cpio-odc'],
    ['GNU cpio -H newc', 'cpio', 'newc', 'cpio-newc'],
    ['GNU cpio -H crc', 'cpio', 'crc', 'cpio-crc'],
  ];
  if (HAVE_PAX) {
    cases.push(['pax -x bcpio (big-endian bin)', 'pax', 'bcpio', 'cpio-bin-be']);
    cases.push(['pax -x sv4cpio (data on every link)', 'pax', 'sv4cpio', 'cpio-newc']);
    cases.push(['pax -x sv4crc', 'pax', 'sv4crc', 'cpio-crc']);
    cases.push(['pax -x cpio (odc)', 'pax', 'cpio', 'cpio-odc']);
  }
  for (const [label, tool, fmt, want] of cases) {
    await t.test(label, async (t) => {
      const archive = pack(fx, tool, fmt);
      // Odd chunk sizes exercise every header/name/padding split.
      const { got, warnings, info } = await bounded(parse(archive, { chunk: 997 }));
      t.equal(info.format, want, 'format');
      t.same(warnings, [], 'no warnings');
      const diffs = diffTrees(src, toTree(got));
      t.same(diffs, [], 'entries match the tree (type, mode, owner, size, mtime, sha256, link target, link groups)');
      // Names byte-exact against what the tool itself lists.
      if (tool === 'cpio') {
        const listed = execFileSync('cpio', ['-it', '--quiet'], { input: archive, maxBuffer: 1 << 28 }).toString('latin1').split('\n').filter(Boolean).sort();
        t.same(got.map((g) => g.e.path).sort(), listed, 'names as cpio -it lists them');
      }
      for (const { e } of got) {
        if (e.type === 'char' || e.type === 'block') t.same([e.devMajor, e.devMinor], rdev(e.path), `${e.path} device numbers`);
      }
      // Offsets point at a header magic; indices are the member ordinals.
      const magics = ['070707', '070701', '070702'];
      for (const { e } of got) {
        const m = archive.subarray(e.offset, e.offset + 6);
        const ok = magics.includes(m.toString('latin1')) || (m[0] === 0xc7 && m[1] === 0x71) || (m[0] === 0x71 && m[1] === 0xc7);
        if (!ok) t.fail(`${e.path}: offset ${e.offset} is not at a header`);
      }
      t.same(got.map((g) => g.e.index).sort((a, b) => a - b), got.map((_, i) => i), 'indices are the member ordinals');
      // Bodies not read are skipped correctly.
      const skipped = await bounded(parse(archive, { read: false, chunk: 4093 }));
      t.same(skipped.got.map((g) => g.e.path), got.map((g) => g.e.path), 'same entries when bodies are not read');
    });
  }

  await t.test('socket', { skip: HAVE_PY ? false : 'python3 not available to make a socket' }, async (t) => {
    const dir = path.join(fx.root, '..', 'sockdir');
    fs.mkdirSync(dir);
    execFileSync('python3', ['-c', 'import socket; s=socket.socket(socket.AF_UNIX); s.bind("sock")'], { cwd: dir });
    for (const fmt of ['bin', 'odc', 'newc', 'crc']) {
      const a = pack({ root: dir, names: ['sock'] }, 'cpio', fmt);
      const { got } = await parse(a);
      t.same(got.map((g) => [g.e.path, g.e.type]), [['sock', 'socket']], fmt);
    }
  });

  await t.test('wide fields: uid/gid over 16 bits, times past 2038', async (t) => {
    const dir = path.join(fx.root, '..', 'wide');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'w'), 'wide');
    fs.chownSync(path.join(dir, 'w'), 200000, 250000);
    fs.utimesSync(path.join(dir, 'w'), 1, 4000000000);
    for (const fmt of ['odc', 'newc', 'crc']) {
      const { got } = await parse(pack({ root: dir, names: ['w'] }, 'cpio', fmt));
      const e = got[0]!.e;
      t.same([e.uid, e.gid, e.mtime, got[0]!.data!.toString()], [200000, 250000, 4000000000, 'wide'], fmt);
    }
  });
});

// ------------------------------------------------------- synthetic archives

t.test('mixed variants in one stream, each header read by its own magic', async (t) => {
  const parts = [
    odc({ name: 'one', mode: REG, data: Buffer.from('odc!'), ino: 1 }),
    newc({ name: 'two', mode: REG, data: Buffer.from('newc'), ino: 2 }),
    bin({ name: 'three', mode: REG, data: Buffer.from('bin-be'), ino: 3 }, false),
    bin({ name: 'four', mode: REG, data: Buffer.from('le'), ino: 4 }, true),
    newc({ name: 'five', mode: REG, data: Buffer.from('crc5'), ino: 5 }, true),
    newc(TR),
  ];
  const a = Buffer.concat(parts);
  const offsets = parts.slice(0, 5).map((_, i) => parts.slice(0, i).reduce((n, p) => n + p.length, 0));
  const { got, info } = await parse(a, { chunk: 5 });
  t.same(got.map((g) => [g.e.path, g.data!.toString()]), [['one', 'odc!'], ['two', 'newc'], ['three', 'bin-be'], ['four', 'le'], ['five', 'crc5']]);
  t.equal(info.format, 'cpio-odc', 'format is the first header\'s');
  t.same(got.map((g) => g.e.offset), offsets, 'offsets of the headers');
});

t.test('header fields', async (t) => {
  for (const [label, mk] of [
    ['odc', (m: M) => odc(m)],
    ['newc', (m: M) => newc(m)],
    ['bin-le', (m: M) => bin(m, true)],
    ['bin-be', (m: M) => bin(m, false)],
  ] as const) {
    const a = Buffer.concat([
      mk({ name: 'c', mode: 0o020620, rdevMajor: 4, rdevMinor: 65, uid: 3, gid: 4, mtime: 987654321 }),
      mk({ name: 'b', mode: 0o060640, rdevMajor: 30, rdevMinor: 7 }),
      mk({ name: 'p', mode: 0o010600, nlink: 2 }),
      mk({ name: 's', mode: 0o140755 }),
      mk({ name: 'd', mode: 0o041777, nlink: 5 }),
      mk({ name: 'l', mode: 0o120777, data: Buffer.from('/abs/target') }),
      mk(TR),
    ]);
    const { got } = await parse(a);
    const e = got.map((g) => g.e);
    t.same(e.map((x) => x.type), ['char', 'block', 'fifo', 'socket', 'dir', 'symlink'], `${label} types`);
    t.same([e[0]!.devMajor, e[0]!.devMinor, e[0]!.mode, e[0]!.uid, e[0]!.gid, e[0]!.mtime], [4, 65, 0o620, 3, 4, 987654321], `${label} char fields`);
    t.same([e[1]!.devMajor, e[1]!.devMinor], [30, 7], `${label} block numbers`);
    t.equal(e[4]!.mode, 0o1777, `${label} dir mode`);
    t.equal(e[5]!.linkTarget, '/abs/target', `${label} symlink target`);
    t.equal(e[5]!.size, 0, `${label} symlink size is 0`);
  }
});

t.test('crc checksum', async (t) => {
  const good = Buffer.concat([newc({ name: 'a', mode: REG, data: Buffer.from('checksummed data') }, true), newc(TR, true)]);
  t.equal((await parse(good)).got[0]!.data!.toString(), 'checksummed data');
  const bad = Buffer.concat([newc({ name: 'a', mode: REG, data: Buffer.from('checksummed data'), check: 12345 }, true), newc({ name: 'b', mode: REG, data: Buffer.from('x') }, true), newc(TR, true)]);
  for (const read of [true, false]) {
    const e = await parseError(bad, { read });
    t.ok(e instanceof ArchiveError && e.kind === 'checksum' && e.entry === 'a', `mismatch is an ArchiveError naming the entry (body ${read ? 'read' : 'skipped'})`);
  }
  const { got, warnings } = await parse(bad, { lenient: true });
  t.same(got.map((g) => g.e.path), ['a', 'b'], 'lenient: entries kept');
  t.same(warnings.map((w) => [w.kind, w.entry]), [['checksum', 'a']], 'lenient: one warning');
  // A symlink's check is not verified (GNU cpio writes 0 there).
  const sym = Buffer.concat([newc({ name: 's', mode: 0o120777, data: Buffer.from('target'), check: 0 }, true), newc(TR, true)]);
  t.equal((await parse(sym)).got[0]!.e.linkTarget, 'target');
  // Large body through the 4-bytes-at-a-time sum at odd alignments.
  const big = crypto.randomBytes(300001);
  let want = 0;
  for (const b of big) want += b;
  for (const off of [0, 1, 2, 3]) t.equal(byteSum(big.subarray(off)), want - [0, big[0]!, big[0]! + big[1]!, big[0]! + big[1]! + big[2]!][off]!, `byteSum at offset ${off}`);
  // The synchronous whole-body path (the sink's, for buffered bodies) checks the sum too.
  const viaNow = await parse(good, { takeNow: true });
  t.ok(viaNow.got[0]!.now, 'takeNow served the buffered body');
  t.equal(viaNow.got[0]!.data!.toString(), 'checksummed data');
  const e2 = await parseError(bad, { takeNow: true });
  t.ok(e2 instanceof ArchiveError && e2.kind === 'checksum' && e2.entry === 'a', 'takeNow: a mismatch is an ArchiveError naming the entry');
  const lenNow = await parse(bad, { lenient: true, takeNow: true });
  t.same(lenNow.warnings.map((w) => [w.kind, w.entry]), [['checksum', 'a']], 'takeNow, lenient: one warning');
  const bigA = Buffer.concat([newc({ name: 'big', mode: REG, data: big }, true), newc(TR, true)]);
  const split = await parse(bigA, { chunk: 4099, takeNow: true });
  t.notOk(split.got[0]!.now, 'a body not all buffered is not taken at once');
  t.equal(sha(split.got[0]!.data!), sha(big), '...and iterates whole');
  t.equal(sha((await parse(bigA, { chunk: 4099 })).got[0]!.data!), sha(big));
});

t.test('hard links', async (t) => {
  await t.test('newc: data on the last of three links', async (t) => {
    const a = Buffer.concat([
      newc({ name: 'x1', mode: REG, ino: 9, nlink: 3 }),
      newc({ name: 'other', mode: REG, ino: 10, data: Buffer.from('o') }),
      newc({ name: 'x2', mode: REG, ino: 9, nlink: 3 }),
      newc({ name: 'x3', mode: REG, ino: 9, nlink: 3, data: Buffer.from('shared') }),
      newc(TR),
    ]);
    const { got } = await parse(a);
    t.same(got.map((g) => [g.e.path, g.e.type, g.e.linkTarget ?? null, g.data?.toString() ?? null, g.e.index]), [
      ['other', 'file', null, 'o', 1],
      ['x3', 'file', null, 'shared', 3],
      ['x1', 'hardlink', 'x3', null, 0],
      ['x2', 'hardlink', 'x3', null, 2],
    ]);
  });
  await t.test('newc: a group that never gets data', async (t) => {
    // All links archived (nlink 2): resolved when the second arrives.
    // Only 2 of 5 links archived: resolved at the trailer.
    const a = Buffer.concat([
      newc({ name: 'e1', mode: REG, ino: 4, nlink: 2 }),
      newc({ name: 'e2', mode: REG, ino: 4, nlink: 2 }),
      newc({ name: 'p1', mode: REG, ino: 5, nlink: 5 }),
      newc({ name: 'p2', mode: REG, ino: 5, nlink: 5 }),
      newc({ name: 'z', mode: REG, ino: 6, data: Buffer.from('z') }),
      newc(TR),
    ]);
    const { got } = await parse(a);
    t.same(got.map((g) => [g.e.path, g.e.type, g.e.linkTarget ?? null, g.e.size]), [
      ['e1', 'file', null, 0],
      ['e2', 'hardlink', 'e1', 0],
      ['z', 'file', null, 0 + 1],
      ['p1', 'file', null, 0],
      ['p2', 'hardlink', 'p1', 0],
    ]);
  });
  await t.test('newc: data on every link (pax sv4cpio) and links across devices', async (t) => {
    const a = Buffer.concat([
      newc({ name: 'a', mode: REG, ino: 7, nlink: 2, data: Buffer.from('same') }),
      newc({ name: 'b', mode: REG, ino: 7, nlink: 2, data: Buffer.from('same') }),
      newc({ name: 'c', mode: REG, ino: 7, nlink: 2, dev: 9, data: Buffer.from('other device') }),
      newc(TR),
    ]);
    const { got } = await parse(a);
    t.same(got.map((g) => [g.e.path, g.e.type, g.e.linkTarget ?? null]), [['a', 'file', null], ['b', 'hardlink', 'a'], ['c', 'file', null]]);
  });
  await t.test('odc: first is the file, later names link to it', async (t) => {
    const a = Buffer.concat([
      odc({ name: 'h1', mode: REG, ino: 3, nlink: 2, data: Buffer.from('data') }),
      odc({ name: 'h2', mode: REG, ino: 3, nlink: 2, data: Buffer.from('data') }),
      odc(TR),
    ]);
    t.same((await parse(a)).got.map((g) => [g.e.path, g.e.type, g.e.linkTarget ?? null]), [['h1', 'file', null], ['h2', 'hardlink', 'h1']]);
  });
  await t.test('inode aliasing (security C9): mismatching members are not linked', async (t) => {
    const a = Buffer.concat([
      odc({ name: 'etc/passwd', mode: REG, ino: 7, nlink: 2, data: Buffer.from('root:x:0:0') }),
      odc({ name: 'evil', mode: REG, ino: 7, nlink: 2, data: Buffer.from('different size') }),
      odc({ name: 'evil-mode', mode: 0o104755, ino: 7, nlink: 2, data: Buffer.from('root:x:0:1') }),
      odc({ name: 'dir', mode: 0o040755, ino: 7, nlink: 2 }),
      odc(TR),
    ]);
    const { got, warnings } = await parse(a);
    t.same(got.map((g) => [g.e.path, g.e.type, g.data?.toString() ?? null]), [
      ['etc/passwd', 'file', 'root:x:0:0'],
      ['evil', 'file', 'different size'],
      ['evil-mode', 'file', 'root:x:0:1'],
      ['dir', 'dir', null],
    ]);
    t.same(warnings.map((w) => [w.kind, w.entry]), [['link-mismatch', 'evil'], ['link-mismatch', 'evil-mode']]);
    const b = Buffer.concat([
      newc({ name: 'x', mode: REG, ino: 7, nlink: 2 }),
      newc({ name: 'y', mode: 0o100600, ino: 7, nlink: 2, data: Buffer.from('y') }),
      newc(TR),
    ]);
    const r = await parse(b);
    t.same(r.got.map((g) => [g.e.path, g.e.type]), [['y', 'file'], ['x', 'file']], 'newc: a pending member whose mode differs stays a separate empty file');
    t.same(r.warnings.map((w) => w.kind), ['link-mismatch']);
  });
});

t.test('trailer rules', async (t) => {
  await t.test('a symlink named TRAILER!!! is an entry, not the end', async (t) => {
    const a = Buffer.concat([newc({ name: 'TRAILER!!!', mode: 0o120777, data: Buffer.from('xxxx') }), newc({ name: 'after', mode: REG, data: Buffer.from('a') }), newc(TR)]);
    t.same((await parse(a)).got.map((g) => [g.e.path, g.e.type]), [['TRAILER!!!', 'symlink'], ['after', 'file']]);
    const f = Buffer.concat([odc({ name: 'TRAILER!!!', mode: REG, data: Buffer.from('data') }), odc(TR)]);
    t.same((await parse(f)).got.map((g) => [g.e.path, g.e.type]), [['TRAILER!!!', 'file']], 'a file with data of that name too');
  });
  await t.test('what follows the trailer', async (t) => {
    const body = Buffer.concat([newc({ name: 'a', mode: REG, data: Buffer.from('a') }), newc(TR)]);
    const zeros = Buffer.concat([body, Buffer.alloc(512 - (body.length % 512)), Buffer.alloc(200000)]);
    t.same((await parse(zeros)).warnings, [], 'NUL padding: no warning');
    const junk = Buffer.concat([body, Buffer.alloc(100), Buffer.from('junk'), Buffer.alloc(100)]);
    const j = await parse(junk);
    t.same(j.warnings.map((w) => [w.kind, w.offset]), [['trailing-garbage', body.length + 100]]);
    const cat = Buffer.concat([body, Buffer.alloc(3), odc({ name: 'second', mode: REG, data: Buffer.from('2') }), odc(TR)]);
    const c = await parse(cat, { chunk: 2 });
    t.same(c.got.map((g) => g.e.path), ['a'], 'only the first archive');
    t.same(c.warnings.map((w) => w.kind), ['concatenated-archive']);
  });
  await t.test('groups pending at the trailer are flushed before it', async (t) => {
    const a = Buffer.concat([newc({ name: 'only', mode: REG, ino: 3, nlink: 2 }), newc(TR)]);
    t.same((await parse(a)).got.map((g) => [g.e.path, g.e.type]), [['only', 'file']]);
  });
  await t.test('no trailer', async (t) => {
    const e = await parseError(newc({ name: 'a', mode: REG, data: Buffer.from('a') }));
    t.ok(e instanceof TruncatedError, 'end of input before the trailer is a TruncatedError');
  });
});

t.test('Solaris extensions', async (t) => {
  await t.test('ACL ancillary record (mode 0xE080) goes with the next entry', async (t) => {
    const acl = Buffer.from('1000004\0user::rw-,group::r--,mask:r--,other:r--\0', 'latin1');
    const a = Buffer.concat([
      newc({ name: 'f', mode: 0xe080, data: acl }),
      newc({ name: 'f', mode: REG, data: Buffer.from('file') }),
      newc({ name: 'g', mode: 0xe080, data: acl }),
      newc({ name: 'not-g', mode: REG, data: Buffer.from('x') }),
      newc(TR),
    ]);
    const { got, warnings } = await parse(a);
    t.same(got.map((g) => g.e.path), ['f', 'not-g']);
    t.same(got[0]!.e.xattrs?.[ACL_XATTR], acl, 'ACL kept in xattrs');
    t.equal(got[1]!.e.xattrs, undefined);
    t.same(warnings.map((w) => w.kind), ['acl-orphan']);
  });
  await t.test('extended attribute records (0xB000 under /dev/null) are skipped with a warning', async (t) => {
    const names = Buffer.from('dir/file\0user.note\0', 'latin1');
    const buf = Buffer.concat([Buffer.from('1.0\0\0\0\0'), Buffer.from('0000000000'), Buffer.from('0000000000'), Buffer.from('0000000000'), Buffer.from(String(names.length).padStart(7, '0')), Buffer.from('0'), names]);
    const a = Buffer.concat([
      odc({ name: 'dir/file', mode: REG, data: Buffer.from('base') }),
      odc({ name: '/dev/null/user.note.hdr', mode: 0xb000 | 0o644, data: buf }),
      odc({ name: '/dev/null/user.note', mode: 0xb000 | 0o644, data: Buffer.from('attribute value') }),
      odc({ name: 'next', mode: REG, data: Buffer.from('n') }),
      odc(TR),
    ]);
    const { got, warnings } = await parse(a);
    t.same(got.map((g) => g.e.path), ['dir/file', 'next'], 'no /dev/null/... entry reaches the consumer');
    t.equal(warnings.length, 1);
    t.match(warnings[0]!.message, /user\.note.*dir\/file/);
  });
  await t.test('sparse file (mode bit 0200000, holesdata prefix)', async (t) => {
    const d1 = crypto.randomBytes(4096);
    const d2 = crypto.randomBytes(100);
    const list = '0 4096 819200 819300 1000000 1000000';
    const hd = Buffer.from(`${String(32 + list.length + 1).padStart(10)} ${String(1000000).padStart(20)} ${list}\0`, 'latin1');
    const data = Buffer.concat([hd, d1, d2]);
    for (const crc of [false, true]) {
      const a = Buffer.concat([newc({ name: 'holey', mode: 0o200000 | REG, data }, crc), newc(TR, crc)]);
      const { got } = await parse(a);
      const e = got[0]!.e;
      t.same([e.type, e.size, e.sparse], ['file', 1000000, [{ offset: 0, length: 4096 }, { offset: 819200, length: 100 }]], `sparse map (${crc ? 'crc' : 'newc'})`);
      t.equal(sha(got[0]!.data!), sha(Buffer.concat([d1, d2])), 'body is the data regions only');
    }
    const badList = Buffer.from(`${String(32 + 8).padStart(10)} ${String(10).padStart(20)} 0 5 3 4\0`, 'latin1');
    const e = await parseError(Buffer.concat([newc({ name: 'bad', mode: 0o200000 | REG, data: Buffer.concat([badList, Buffer.alloc(6)]) }), newc(TR)]));
    t.ok(e instanceof ArchiveError && e.kind === 'bad-sparse', 'unordered map rejected');
  });
});

t.test('names', async (t) => {
  const cases: [string, Buffer, string][] = [
    ['namesize 0', newc({ name: 'x', mode: REG, namesize: 0 }), 'bad-name'],
    ['no NUL', newc({ name: 'x', mode: REG, rawName: Buffer.from('abc') }), 'bad-name'],
    ['embedded NUL', newc({ name: 'x', mode: REG, rawName: Buffer.from('a\0b\0') }), 'bad-name'],
    ['over the limit', newc({ name: 'n'.repeat(5000), mode: REG }), 'name-too-long'],
    ['namesize 0xFFFFFFFF', newc({ name: 'x', mode: REG, namesize: 0xffffffff }), 'name-too-long'],
  ];
  for (const [label, a, kind] of cases) {
    const e = await parseError(Buffer.concat([a, newc(TR)]));
    t.ok(e instanceof ArchiveError && e.kind === kind, `${label}: ${kind} (${(e as Error)?.message})`);
  }
  const bytes = Buffer.from([0xe9, 0x74, 0xe9, 0x0a, 0x1b, 0x5b, 0x32, 0x4a]);
  const { got } = await parse(Buffer.concat([odc({ name: bytes, mode: REG }), odc(TR)]));
  t.same(Buffer.from(got[0]!.e.path, 'latin1'), bytes, 'name bytes kept exactly (non-UTF-8, control characters)');
  // The stored name may pass the limit by a leading ./ or / (the sink checks the name itself).
  const lim = await parseError(Buffer.concat([odc({ name: 'a'.repeat(5 + NAME_PREFIX_SLACK + 1), mode: REG }), odc(TR)]), { limits: { maxPathBytes: 5 } });
  t.ok(lim instanceof ArchiveError && lim.kind === 'name-too-long', 'limits.maxPathBytes is honoured');
  const prefixed = await parse(Buffer.concat([odc({ name: `./${'a'.repeat(5)}`, mode: REG }), odc(TR)]), { limits: { maxPathBytes: 5 } });
  t.equal(prefixed.got[0]!.e.path, './aaaaa', 'a name at the limit behind ./ is read');
});

t.test('malformed headers', async (t) => {
  const kind = async (a: Buffer, o: ParseOpts = {}) => {
    const e = await parseError(a, o);
    if (!(e instanceof ArchiveError)) throw new Error(`expected an ArchiveError, got ${String(e)}`);
    return e.kind;
  };
  t.equal(await kind(Buffer.alloc(0)), 'empty', 'empty input');
  t.equal(await kind(Buffer.concat([newc({ name: 'a', mode: REG, patch: (h) => h.write('0000000x', 54) }), newc(TR)])), 'bad-header', 'non-hex filesize');
  t.equal(await kind(Buffer.concat([newc({ name: 'a', mode: REG, patch: (h) => h.write(' 0000001', 6) }), newc(TR)])), 'bad-header', 'space in a hex field');
  t.equal(await kind(Buffer.concat([newc({ name: 'a', mode: REG, patch: (h) => h.write('+0000001', 6) }), newc(TR)])), 'bad-header', 'sign in a hex field');
  t.equal(await kind(Buffer.concat([odc({ name: 'a', mode: REG, patch: (h) => h.write('8', 20) }), odc(TR)])), 'bad-header', 'non-octal digit');
  t.equal(await kind(Buffer.concat([newc({ name: 'a', mode: REG }), Buffer.from('070703'), Buffer.alloc(200)])), 'bad-magic', 'bad magic mid-stream');
  t.equal(await kind(Buffer.concat([newc({ name: 'a', mode: REG, data: Buffer.from('abc'), filesize: 0xffffffff }), newc(TR)])), 'truncated', 'filesize 0xFFFFFFFF');
  t.equal(await kind(Buffer.concat([odc({ name: 'a', mode: REG, data: Buffer.from('abcd'), filesize: 2 }), odc(TR)])), 'bad-magic', 'filesize too small');
  t.equal(await kind(Buffer.concat([newc({ name: 'l', mode: 0o120777, data: Buffer.alloc(5000, 0x61) }), newc(TR)])), 'link-too-long', 'symlink target over the limit');
  t.equal(await kind(Buffer.concat([newc({ name: 'l', mode: 0o120777 }), newc(TR)])), 'bad-symlink', 'empty symlink target');
  t.equal(await kind(Buffer.concat([newc({ name: 'l', mode: 0o120777, data: Buffer.from('a\0b') }), newc(TR)])), 'bad-symlink', 'NUL in a symlink target');
  t.equal(await kind(Buffer.concat([newc({ name: 'door', mode: 0o150644 }), newc(TR)])), 'unknown-type', 'unknown type (Solaris door)');
  const len = await parse(Buffer.concat([newc({ name: 'door', mode: 0o150644, data: Buffer.from('zz') }), newc({ name: 'ok', mode: REG }), newc(TR)]), { lenient: true });
  t.same([len.got.map((g) => g.e.path), len.warnings.map((w) => w.kind)], [['ok'], ['unknown-type']], 'lenient: unknown type skipped with a warning');
  const many = Buffer.concat([...Array.from({ length: 5 }, (_, i) => odc({ name: `f${i}`, mode: REG })), odc(TR)]);
  t.equal(await kind(many, { limits: { maxEntries: 4 } }), 'too-many-entries', 'limits.maxEntries');
  const tr = await parseError(Buffer.concat([newc({ name: 'abc', mode: REG, data: Buffer.from('0123456789') })]).subarray(0, 118));
  t.ok(tr instanceof TruncatedError && tr.entry === 'abc' && tr.index === 0, 'a truncated body names its entry');
});

t.test('a file over 4 GiB in odc (11 octal digits)', async (t) => {
  const size = 4 * 1024 ** 3 + 5;
  const chunk = Buffer.alloc(1 << 20, 0x5a);
  async function* src(): AsyncGenerator<Buffer> {
    yield odc({ name: 'huge', mode: REG, filesize: size });
    let left = size;
    while (left > 0) {
      const n = Math.min(left, chunk.length);
      yield n === chunk.length ? chunk : chunk.subarray(0, n);
      left -= n;
    }
    yield odc(TR);
  }
  const warnings: Warning[] = [];
  const r = new ByteReader(src());
  const seen: [string, number, number][] = [];
  for await (const e of parseCpio(r, makeContext({ warn: (w) => warnings.push(w) }))) {
    let n = 0;
    for await (const c of e.body()) n += c.length;
    seen.push([e.path, e.size, n]);
  }
  t.same(seen, [['huge', size, size]]);
});

t.test('malformed input: truncations and byte flips end in an ArchiveError or a clean parse', async (t) => {
  const fx = buildTree(t);
  const small = fx.names.filter((n) => !n.includes('big'));
  let rng = 0x9e3779b9;
  const rand = (n: number) => {
    rng ^= rng << 13;
    rng ^= rng >>> 17;
    rng ^= rng << 5;
    return (rng >>> 0) % n;
  };
  for (const fmt of ['bin', 'odc', 'newc', 'crc']) {
    const a = pack(fx, 'cpio', fmt, small);
    const clean = await parse(a);
    const last = clean.got.reduce((m, g) => Math.max(m, g.e.offset), 0);
    // Where the trailer ends: anything cut after it still parses.
    const trailerAt = a.indexOf('TRAILER!!!', last, 'latin1');
    const hdr = { bin: 26, odc: 76, newc: 110, crc: 110 }[fmt]!;
    const trailerEnd = trailerAt + 11 + (fmt === 'bin' ? 1 : fmt === 'odc' ? 0 : (4 - ((hdr + 11) % 4)) % 4);
    let truncOk = 0;
    const cuts = new Set<number>();
    for (let i = 0; i < 200 && i < a.length; i++) cuts.add(i);
    while (cuts.size < 300) cuts.add(rand(a.length));
    for (const cut of cuts) {
      const e = await parseError(a.subarray(0, cut), { chunk: 1 + rand(4000) });
      if (cut >= trailerEnd) {
        if (e !== null) t.fail(`${fmt} cut at ${cut} (after the trailer): ${String(e)}`);
      } else if (!(e instanceof ArchiveError)) {
        t.fail(`${fmt} cut at ${cut}: expected an ArchiveError, got ${String(e)}`);
      } else truncOk++;
    }
    t.ok(truncOk > 250, `${fmt}: ${truncOk} truncations rejected with an ArchiveError`);
    let flips = 0;
    for (let i = 0; i < 150; i++) {
      const b = Buffer.from(a);
      const n = 1 + rand(3);
      for (let k = 0; k < n; k++) b[rand(Math.min(b.length, trailerEnd))] ^= 1 << rand(8);
      const e = await parseError(b, { chunk: 1 + rand(3000) });
      if (e !== null && !(e instanceof ArchiveError)) t.fail(`${fmt} flip ${i}: ${String(e)}`);
      else flips++;
    }
    t.equal(flips, 150, `${fmt}: byte flips end cleanly`);
  }
});

t.test('end to end: extracted with the fs sink, the tree equals cpio -idm\'s', async (t) => {
  const fx = buildTree(t);
  const base = tmpdir('zonep2v-cpio-e2e-');
  t.teardown(() => fs.rmSync(base, { recursive: true, force: true }));
  // Devices and sockets are not written by a zone install (security D1, D2).
  const names = fx.names.filter((n) => n !== 'cdev' && n !== 'bdev');
  for (const fmt of ['bin', 'odc', 'newc', 'crc']) {
    const a = pack(fx, 'cpio', fmt, names);
    const ref = path.join(base, `${fmt}-cpio`);
    const ours = path.join(base, `${fmt}-ours`);
    fs.mkdirSync(ref);
    fs.mkdirSync(ours);
    execFileSync('cpio', ['-idm', '--quiet'], { cwd: ref, input: a });
    const warnings: Warning[] = [];
    const sink = new FsSink(ours, { warn: (w) => warnings.push(w) });
    const r = new ByteReader(chunked(a, 8192));
    for await (const e of parseCpio(r, makeContext({ warn: (w) => warnings.push(w) }))) await sink.write(e);
    await sink.finish();
    const diffs = diffTrees(snapshot(ref), snapshot(ours), { ignoreDirMtime: true });
    t.same(diffs, [], `${fmt}: same tree as cpio -idm`);
  }
});
