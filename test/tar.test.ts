// The tar / pax / xustar parser against real tools: trees packed by GNU tar
// (ustar, pax with every sparse version, gnu, v7), bsdtar (pax, ustar) and
// MirBSD pax (ustar, old tar), plus Solaris 'X' headers made by retyping GNU
// tar's 'x' headers, must parse back to exactly the tree on disk (names as
// bytes, types, modes, owners, sizes, mtimes, content, link targets, devices,
// sparse maps). Then hand-made hostile and Solaris-only records, and a few
// hundred truncations and byte flips that must end in an ArchiveError or a
// clean parse, never another exception or a hang.

import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import type { Entry } from '../src/entry.js';
import { ArchiveError } from '../src/errors.js';
import { ByteReader } from '../src/source/reader.js';
import { blockSum, parseTar } from '../src/formats/tar.js';
import { parsePaxTime } from '../src/formats/tar-pax.js';
import { makeContext } from '../src/formats/types.js';
import type { Warning } from '../src/formats/types.js';
import { snapshot, tmpdir } from './lib/tree.js';
import type { Tree } from './lib/tree.js';

const isRoot = process.getuid?.() === 0;
const have = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const B = (s: string) => Buffer.from(s, 'latin1');

// ---- parsing helpers ---------------------------------------------------------

interface Got {
  e: Entry;
  /** Body bytes as served. */
  body: Buffer;
  /** The whole file rebuilt from sparse regions (or the body). */
  content: Buffer;
  /** The body came from takeNow(). */
  now?: boolean;
}

interface Result {
  entries: Got[];
  warnings: Warning[];
  error: unknown;
  variant?: string;
}

function rebuild(e: Entry, body: Buffer): Buffer {
  if (!e.sparse) return body;
  const out = Buffer.alloc(e.size);
  let p = 0;
  for (const r of e.sparse) {
    body.copy(out, r.offset, p, p + r.length);
    p += r.length;
  }
  return out;
}

/** Parse a whole archive (buffer or file), reading every body, bounded by a timeout. */
async function parse(src: Buffer | string, opts: { lenient?: boolean; chunk?: number; readBodies?: boolean; takeNow?: boolean } = {}): Promise<Result> {
  const warnings: Warning[] = [];
  const ctx = makeContext({ lenient: opts.lenient ?? false, warn: (w) => warnings.push(w) });
  const chunk = opts.chunk ?? 65536;
  const input =
    typeof src === 'string'
      ? fs.createReadStream(src, { highWaterMark: chunk })
      : (async function* () {
          for (let o = 0; o < src.length; o += chunk) yield src.subarray(o, o + chunk);
        })();
  const r = new ByteReader(input);
  const entries: Got[] = [];
  let error: unknown = null;
  let timer: NodeJS.Timeout | undefined;
  const run = async () => {
    for await (const e of parseTar(r, ctx)) {
      const parts: Buffer[] = [];
      let now = false;
      if (opts.readBodies !== false) {
        const b = e.body();
        const whole = opts.takeNow ? b.takeNow?.() : undefined;
        if (whole !== undefined) {
          parts.push(Buffer.from(whole));
          now = true;
        } else for await (const c of b) parts.push(Buffer.from(c));
      }
      const body = Buffer.concat(parts);
      entries.push({ e, body, now, content: e.type === 'file' && opts.readBodies !== false ? rebuild(e, body) : body });
    }
  };
  try {
    await Promise.race([run(), new Promise((_, rej) => (timer = setTimeout(() => rej(new Error('timeout: the parser hung')), 20000)))]);
  } catch (err) {
    error = err;
  } finally {
    clearTimeout(timer);
    await r.close();
  }
  return { entries, warnings, error, variant: ctx.info.variant };
}

const sha = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');

// ---- archive building helpers (synthetic records) -----------------------------

function octal(n: number, len: number): Buffer {
  return B(n.toString(8).padStart(len - 1, '0') + '\0');
}

interface HdrOpts {
  size?: number | Buffer;
  type?: string;
  link?: string;
  mode?: number;
  uid?: number | Buffer;
  mtime?: number | Buffer;
  magic?: 'ustar' | 'gnu' | 'v7';
  prefix?: string;
  dev?: [number, number];
}

function hdr(name: string, o: HdrOpts = {}): Buffer {
  const h = Buffer.alloc(512);
  B(name).copy(h, 0);
  octal(o.mode ?? 0o644, 8).copy(h, 100);
  (Buffer.isBuffer(o.uid) ? o.uid : octal(o.uid ?? 0, 8)).copy(h, 108);
  octal(0, 8).copy(h, 116);
  (Buffer.isBuffer(o.size) ? o.size : octal(o.size ?? 0, 12)).copy(h, 124);
  (Buffer.isBuffer(o.mtime) ? o.mtime : octal(o.mtime ?? 1400000000, 12)).copy(h, 136);
  h.write(o.type ?? '0', 156, 'latin1');
  if (o.link) B(o.link).copy(h, 157);
  const magic = o.magic ?? 'ustar';
  if (magic === 'ustar') h.write('ustar\x0000', 257, 'latin1');
  if (magic === 'gnu') h.write('ustar  \0', 257, 'latin1');
  if (o.dev) {
    octal(o.dev[0], 8).copy(h, 329);
    octal(o.dev[1], 8).copy(h, 337);
  }
  if (o.prefix) B(o.prefix).copy(h, 345);
  return fixSum(h);
}

function fixSum(h: Buffer): Buffer {
  h.fill(0x20, 148, 156);
  let s = 0;
  for (const b of h) s += b;
  h.write(s.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  return h;
}

const pad = (d: Buffer) => Buffer.concat([d, Buffer.alloc((512 - (d.length % 512)) % 512)]);
const EOA = Buffer.alloc(1024);

function paxRec(k: string, v: string | Buffer): Buffer {
  const body = Buffer.concat([B(` ${k}=`), Buffer.isBuffer(v) ? v : B(v), B('\n')]);
  let n = body.length;
  while (String(n).length + body.length !== n) n = String(n).length + body.length;
  return Buffer.concat([B(String(n)), body]);
}

function paxHdr(recs: Buffer[], type = 'x', name = 'PaxHeaders/x'): Buffer {
  const body = Buffer.concat(recs);
  return Buffer.concat([hdr(name, { size: body.length, type }), pad(body)]);
}

function file(name: string, data: string | Buffer, o: HdrOpts = {}): Buffer {
  const d = Buffer.isBuffer(data) ? data : B(data);
  return Buffer.concat([hdr(name, { ...o, size: d.length }), pad(d)]);
}

function b256(n: bigint, len = 12): Buffer {
  const b = Buffer.alloc(len);
  let v = n < 0n ? (1n << BigInt(len * 8)) + n : n;
  for (let i = len - 1; i >= 0; i--) {
    b[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  b[0] = b[0]! | 0x80;
  return b;
}

/** Retype every pax 'x' header to Solaris 'X' (tar -E / pax -x xustar) and fix its checksum. */
function toXustar(a: Buffer): Buffer {
  const out = Buffer.from(a);
  let off = 0;
  while (off + 512 <= out.length) {
    const h = out.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const size = parseInt(h.toString('latin1', 124, 136).replace(/\0.*$/, '').trim() || '0', 8);
    const tf = String.fromCharCode(h[156]!);
    if (tf === 'x') {
      h[156] = 0x58;
      fixSum(h);
    }
    off += 512 + (['1', '2', '3', '4', '5', '6'].includes(tf) ? 0 : Math.ceil(size / 512) * 512);
  }
  return out;
}

// ---- the source trees -------------------------------------------------------------

const rnd = (n: number, seed: string) => {
  const out = Buffer.alloc(n);
  let h = crypto.createHash('sha256').update(seed).digest();
  for (let o = 0; o < n; o += 32) {
    h.copy(out, o);
    h = crypto.createHash('sha256').update(h).digest();
  }
  return out;
};

function touch(p: Buffer | string, when: string): void {
  execFileSync('touch', ['-h', '-d', when, typeof p === 'string' ? p : p.toString('latin1')], { env: { ...process.env, TZ: 'UTC' } });
}

interface TreeOpts {
  /** Names, targets and ids that only pax and gnu can store. */
  extended: boolean;
  /** Only what old (v7) tar can store: short names, no special files. */
  v7?: boolean;
}

/** Build a tree exercising everything the format can hold; returns whether a device node was made. */
function buildTree(root: string, o: TreeOpts): { device: boolean } {
  const P = (rel: string) => Buffer.concat([B(root + '/'), B(rel)]);
  const w = (rel: string, data: Buffer, mode = 0o644) => {
    fs.writeFileSync(P(rel), data);
    fs.chmodSync(P(rel), mode);
  };
  const d = (rel: string, mode = 0o755) => {
    fs.mkdirSync(P(rel), { recursive: true });
    fs.chmodSync(P(rel), mode);
  };
  for (const n of [0, 1, 511, 512, 513, 100 * 1024]) w(`f${n}`, rnd(n, `f${n}`));
  w('big.bin', rnd(1536 * 1024 + 17, 'big'));
  d('dir1/sub');
  w('dir1/sub/nested.txt', B('nested\n'), 0o600);
  fs.symlinkSync('f1', P('link1'));
  fs.symlinkSync('/etc/passwd', P('abs'));
  fs.symlinkSync('../../x', P('dir1/up'));
  w('hl_a', B('hard link data\n'));
  fs.linkSync(P('hl_a'), P('hl_b'));
  fs.linkSync(P('hl_a'), P('dir1/hl_c'));
  w('caf\xe9.txt', B('latin1 name\n'));
  d('na\xefve');
  w('na\xefve/\xff\xfe', B('more bytes\n'));
  w('suid', B('#!/bin/sh\n'), 0o4755);
  w('sgid', B('#!/bin/sh\n'), 0o2755);
  w('ro', B('read only\n'), 0o444);
  d('sticky', 0o1777);
  w('owned', B('owned\n'));
  if (isRoot) {
    fs.chownSync(P('owned'), 1234, 5678);
    fs.chownSync(P('sticky'), 42, 43);
  }
  touch(P('f1'), '@1000000000');
  touch(P('f0'), '2001-02-03 04:05:06.123456789');
  touch(P('link1'), '@1234567890');
  let device = false;
  if (!o.v7) {
    execFileSync('mkfifo', [P('fifo').toString('latin1')]);
    // A path ustar stores by splitting it into prefix and name.
    const long = `${'p'.repeat(50)}/${'q'.repeat(50)}/${'r'.repeat(50)}`;
    d(long);
    w(`${long}/${'s'.repeat(90)}`, B('split name\n'));
    if (isRoot) device = spawnSync('mknod', [P('null').toString('latin1'), 'c', '1', '3']).status === 0;
  }
  if (o.extended) {
    w('c'.repeat(150), B('long component\n'));
    const deep = Array.from({ length: 6 }, (_, i) => `${i}`.repeat(50)).join('/');
    d(deep);
    w(`${deep}/${'t'.repeat(60)}`, B('deep name\n'));
    fs.symlinkSync('T'.repeat(200), P('longtarget'));
    fs.linkSync(P('c'.repeat(150)), P('hl_long'));
    w('bigids', B('big ids\n'));
    if (isRoot) fs.chownSync(P('bigids'), 3000000, 3000001);
    w('old', B('before 1970\n'));
    touch(P('old'), '1960-06-01 12:00:00');
    // Sparse: holes, data at 1 MB and 3 MB, and at the very end.
    const sp = P('sparse.bin');
    fs.writeFileSync(sp, '');
    fs.truncateSync(sp, 5_000_000);
    const fd = fs.openSync(sp, 'r+');
    fs.writeSync(fd, rnd(10000, 'sp1'), 0, 10000, 1_000_000);
    fs.writeSync(fd, rnd(5000, 'sp2'), 0, 5000, 3_000_000);
    fs.writeSync(fd, B('END'), 0, 3, 4_999_997);
    fs.closeSync(fd);
  }
  // Directory times last (creating entries changes them).
  touch(P('dir1/sub'), '2010-10-10 10:10:10');
  touch(P('dir1'), '2011-11-11 11:11:11');
  return { device };
}

interface Expect {
  /** mtime nanoseconds are stored (pax). */
  nsec: boolean;
  /** Sparse files are stored as sparse. */
  sparse: boolean;
  /** Sub-second times of these paths may be dropped by the writer (symlinks, dirs). */
}

/** Compare parsed entries with the tree on disk, entry by entry. */
/** Differences between the parsed entries and the tree on disk, entry by entry (empty when equal). */
function compare(got: Result, root: string, tree: Tree, x: Expect): { diffs: string[]; matched: number } {
  const seen = new Map<string, Got>();
  const firstOfInode = new Set<string>();
  const diffs: string[] = [];
  const check = (ok: boolean, msg: string) => {
    if (!ok) diffs.push(msg);
  };
  for (const g of got.entries) {
    let p = g.e.path;
    while (p.startsWith('./')) p = p.slice(2);
    if (p === '.' || p === '') continue;
    check(!seen.has(p), `${JSON.stringify(p)} listed once`);
    seen.set(p, g);
    const n = tree.get(p);
    if (!n) {
      check(false, `${JSON.stringify(p)} is in the archive but not in the tree`);
      continue;
    }
    const e = g.e;
    const st = fs.lstatSync(Buffer.concat([B(root + '/'), B(p)]), { bigint: true });
    const what = JSON.stringify(p);
    if (n.type === 'file' && n.links) {
      // The first member of a link group carries the data; later ones link to an earlier name.
      if (e.type === 'hardlink') {
        let target = e.linkTarget ?? '';
        while (target.startsWith('./')) target = target.slice(2);
        check(n.links.split('|').includes(target) && firstOfInode.has(target), `${what}: hard link to ${JSON.stringify(target)}, an earlier member of its group`);
      } else {
        check(e.type === 'file', `${what}: first of its link group is a file (${e.type})`);
        firstOfInode.add(p);
      }
    } else {
      check(e.type === n.type, `${what}: type ${e.type} != ${n.type}`);
    }
    if (n.type !== 'symlink') check(e.mode === n.mode, `${what}: mode ${e.mode.toString(8)} != ${n.mode.toString(8)}`);
    check(e.uid === n.uid && e.gid === n.gid, `${what}: owner ${e.uid}:${e.gid} != ${n.uid}:${n.gid}`);
    if (n.type !== 'symlink' && n.type !== 'dir') {
      check(e.mtime === n.mtime, `${what}: mtime ${e.mtime} != ${n.mtime}`);
      const ns = Number(st.mtimeNs % 1_000_000_000n);
      const want = ns < 0 ? ns + 1e9 : ns;
      if (x.nsec) check(e.mtimeNsec === want, `${what}: mtime nsec ${e.mtimeNsec} != ${want}`);
      else check(e.mtimeNsec === 0, `${what}: no sub-second mtime in this format (${e.mtimeNsec})`);
    }
    if (n.type === 'dir') check(e.mtime === n.mtime, `${what}: dir mtime ${e.mtime} != ${n.mtime}`);
    if (e.type === 'file') {
      check(e.size === n.size, `${what}: size ${e.size} != ${n.size}`);
      check(sha(g.content) === n.hash, `${what}: content differs`);
      if (e.sparse) {
        check(g.body.length === e.sparse.reduce((a, r) => a + r.length, 0), `${what}: body is the data regions`);
        check(g.body.length < e.size, `${what}: sparse body smaller than the file`);
      }
      if (p === 'sparse.bin') check(!!e.sparse === x.sparse, `${what}: stored ${e.sparse ? '' : 'not '}sparse`);
    } else check(e.size === 0, `${what}: size 0 for a ${e.type}`);
    if (n.type === 'symlink') check(e.linkTarget === n.target, `${what}: target ${JSON.stringify(e.linkTarget)} != ${JSON.stringify(n.target)}`);
    if (n.type === 'char') {
      const rdev = Number(st.rdev);
      check(e.devMajor === ((rdev >> 8) & 0xfff) && e.devMinor === ((rdev & 0xff) | ((rdev >> 12) & 0xfff00)), `${what}: device ${e.devMajor},${e.devMinor}`);
    }
  }
  for (const k of tree.keys()) check(seen.has(k), `${JSON.stringify(k)} is in the tree but not in the archive`);
  return { diffs, matched: seen.size };
}

// ---- differential tests -----------------------------------------------------------

t.test('differential: archives written by GNU tar, bsdtar and MirBSD pax', async (t) => {
  const dir = tmpdir('zonep2v-tar-');
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const roots = { basic: path.join(dir, 'basic'), ext: path.join(dir, 'ext'), v7: path.join(dir, 'v7') };
  for (const r of Object.values(roots)) fs.mkdirSync(r);
  buildTree(roots.basic, { extended: false });
  buildTree(roots.ext, { extended: true });
  buildTree(roots.v7, { extended: false, v7: true });
  const trees = { basic: snapshot(roots.basic), ext: snapshot(roots.ext), v7: snapshot(roots.v7) };
  t.ok(trees.ext.size > trees.basic.size, `trees built (${trees.basic.size} / ${trees.ext.size} / ${trees.v7.size} entries)`);

  interface Case {
    name: string;
    tree: keyof typeof roots;
    cmd: string[];
    x: Expect;
    variant: string;
    tool: string;
    post?: (a: Buffer) => Buffer;
  }
  const gnu = (fmt: string, extra: string[] = []) => ['tar', `--format=${fmt}`, ...extra, '-cf', '-', '.'];
  const cases: Case[] = [
    { name: 'GNU tar ustar', tree: 'basic', cmd: gnu('ustar'), x: { nsec: false, sparse: false }, variant: 'ustar', tool: 'tar' },
    { name: 'GNU tar v7', tree: 'v7', cmd: gnu('v7'), x: { nsec: false, sparse: false }, variant: 'v7', tool: 'tar' },
    { name: 'GNU tar gnu (-S)', tree: 'ext', cmd: gnu('gnu', ['--sparse']), x: { nsec: false, sparse: true }, variant: 'gnu', tool: 'tar' },
    { name: 'GNU tar oldgnu', tree: 'ext', cmd: gnu('oldgnu'), x: { nsec: false, sparse: false }, variant: 'gnu', tool: 'tar' },
    { name: 'GNU tar pax', tree: 'ext', cmd: gnu('pax'), x: { nsec: true, sparse: false }, variant: 'pax', tool: 'tar' },
    { name: 'GNU tar pax sparse 0.0', tree: 'ext', cmd: gnu('pax', ['--sparse', '--sparse-version=0.0']), x: { nsec: true, sparse: true }, variant: 'pax', tool: 'tar' },
    { name: 'GNU tar pax sparse 0.1', tree: 'ext', cmd: gnu('pax', ['--sparse', '--sparse-version=0.1']), x: { nsec: true, sparse: true }, variant: 'pax', tool: 'tar' },
    { name: 'GNU tar pax sparse 1.0', tree: 'ext', cmd: gnu('pax', ['--sparse', '--sparse-version=1.0']), x: { nsec: true, sparse: true }, variant: 'pax', tool: 'tar' },
    { name: 'Solaris xustar (GNU pax retyped to X)', tree: 'ext', cmd: gnu('pax'), x: { nsec: true, sparse: false }, variant: 'xustar', tool: 'tar', post: toXustar },
    { name: 'bsdtar pax', tree: 'ext', cmd: ['bsdtar', '--format', 'pax', '-cf', '-', '.'], x: { nsec: true, sparse: true }, variant: 'pax', tool: 'bsdtar' },
    { name: 'bsdtar ustar', tree: 'basic', cmd: ['bsdtar', '--format', 'ustar', '-cf', '-', '.'], x: { nsec: false, sparse: false }, variant: 'ustar', tool: 'bsdtar' },
    { name: 'MirBSD pax -x ustar', tree: 'basic', cmd: ['pax', '-w', '-x', 'ustar', '.'], x: { nsec: false, sparse: false }, variant: 'ustar', tool: 'pax' },
    { name: 'MirBSD pax -x tar (old tar)', tree: 'v7', cmd: ['pax', '-w', '-x', 'tar', '.'], x: { nsec: false, sparse: false }, variant: 'v7', tool: 'pax' },
  ];
  for (const c of cases) {
    await t.test(c.name, { skip: have(c.tool) ? false : `${c.tool} not installed` }, async (t) => {
      const res = spawnSync(c.cmd[0]!, c.cmd.slice(1), { cwd: roots[c.tree], maxBuffer: 1 << 28 });
      t.equal(res.status, 0, `${c.cmd.join(' ')} exits 0 ${res.stderr.toString().slice(0, 300)}`);
      let a: Buffer = res.stdout;
      if (c.post) a = c.post(a);
      const f = path.join(dir, `${c.name.replace(/\W+/g, '_')}.tar`);
      fs.writeFileSync(f, a);
      // Small chunks for one case: headers and bodies straddle chunk boundaries.
      const got = await parse(f, { chunk: c.name === 'GNU tar pax' ? 1000 : 65536 });
      t.equal(got.variant, c.variant, `variant ${c.variant}`);
      t.equal(got.error, null, `parses cleanly${got.error ? `: ${String(got.error)}` : ''}`);
      const { diffs, matched } = compare(got, roots[c.tree], trees[c.tree], c.x);
      t.same(diffs, [], `${matched} entries match the tree`);
      t.same(got.warnings, [], 'no warnings');
    });
  }
});

t.test('a body not read is skipped; offsets and indexes', async (t) => {
  const a = Buffer.concat([
    paxHdr([paxRec('path', 'x'.repeat(120))]),
    file('short', 'A'.repeat(700)),
    hdr('././@LongLink', { size: 130, type: 'L', magic: 'gnu' }),
    pad(B('y'.repeat(129) + '\0')),
    file('ignored', 'B'.repeat(10), { magic: 'gnu' }),
    file('third', 'C'.repeat(3)),
    EOA,
  ]);
  const skip = await parse(a, { readBodies: false });
  t.equal(skip.error, null);
  t.same(skip.entries.map((g) => [g.e.path, g.e.offset, g.e.index, g.e.size]), [
    ['x'.repeat(120), 0, 0, 700],
    ['y'.repeat(129), 2560, 1, 10],
    ['third', 4608, 2, 3],
  ]);
  const read = await parse(a, { chunk: 7 });
  t.same(read.entries.map((g) => g.body.toString()), ['A'.repeat(700), 'B'.repeat(10), 'CCC']);
  // The sink's synchronous path: whole bodies when buffered, iteration otherwise.
  const now = await parse(a, { takeNow: true });
  t.same(now.entries.map((g) => [g.body.toString(), g.now]), [['A'.repeat(700), true], ['B'.repeat(10), true], ['CCC', true]]);
  const small = await parse(a, { takeNow: true, chunk: 7 });
  t.same(small.entries.map((g) => g.body.toString()), ['A'.repeat(700), 'B'.repeat(10), 'CCC'], 'bodies split across chunks still arrive whole');
  t.equal(small.entries[0]!.now, false, 'a body not all buffered is iterated');
});

// ---- hand-made records: Solaris, GNU, and what the specs say about bad input ------

t.test('Solaris records', async (t) => {
  await t.test("'X' header with SUN.holesdata: holes dropped from the body", async (t) => {
    const size = 3 * 512 + 100;
    const data = Buffer.alloc(size);
    data.fill(0x61, 0, 512);
    data.fill(0x62, 1536, size);
    const a = Buffer.concat([paxHdr([paxRec('mtime', '1310411683.041408671'), paxRec('SUN.holesdata', ` 0 512 1536 ${size}`)], 'X'), file('hole', data), EOA]);
    const got = await parse(a);
    t.equal(got.error, null);
    const e = got.entries[0]!;
    t.same(e.e.sparse, [{ offset: 0, length: 512 }, { offset: 1536, length: 100 }]);
    t.equal(e.e.size, size);
    t.same([e.e.mtime, e.e.mtimeNsec], [1310411683, 41408671]);
    t.ok(e.content.equals(data), 'rebuilt content equals the stored file');
    t.equal(got.variant, 'xustar');
    // Data inside a declared hole cannot be dropped silently.
    data[700] = 1;
    const bad = await parse(Buffer.concat([paxHdr([paxRec('SUN.holesdata', ` 0 512 1536 ${size}`)], 'X'), file('hole', data), EOA]));
    t.match(bad.error, { name: 'ArchiveError', kind: 'sparse-hole-data' });
    const badmap = await parse(Buffer.concat([paxHdr([paxRec('SUN.holesdata', ' 0 512 1536 9')], 'X'), file('hole', data), EOA]));
    t.match(badmap.error, { kind: 'bad-sparse-map' }, 'a map that does not end at the size is refused');
    const lenient = await parse(Buffer.concat([paxHdr([paxRec('SUN.holesdata', ' 0 512 1536 9')], 'X'), file('hole', data), EOA]), { lenient: true });
    t.equal(lenient.entries[0]?.body.length, size, 'lenient: written whole');
  });

  await t.test("'A' ACL records go to xattrs['SUN.acl'], then the file", async (t) => {
    const acl = B('1000004\0user::rw-,group::r--,mask:r--,other:r--\0');
    const a = Buffer.concat([file('f', acl, { type: 'A' }), file('f', 'data'), EOA]);
    const got = await parse(a);
    t.equal(got.error, null);
    t.equal(got.entries.length, 1);
    t.same(got.entries[0]!.e.xattrs?.['SUN.acl'], acl);
    t.equal(got.entries[0]!.body.toString(), 'data');
    const bad = await parse(Buffer.concat([file('f', 'garbage', { type: 'A' }), file('f', 'data'), EOA]));
    t.match(bad.error, { kind: 'bad-acl' });
  });

  await t.test("'E' extended attributes: header + data records skipped with a warning", async (t) => {
    const names = B('dir/file\0SUNWattr_rw\0');
    const xbuf = Buffer.concat([B(String(names.length).padStart(6, '0') + '\0'), B('0'), names]);
    const xhdr = Buffer.concat([B('1.0\0\0\0\0'), B(String(37 + xbuf.length).padStart(9, '0') + '\0'), B(String(xbuf.length).padStart(9, '0') + '\0'), B('000000000\0'), xbuf]);
    const a = Buffer.concat([file('dir/file', 'base'), file('dir/file', xhdr, { type: 'E' }), file('dir/file', 'attribute value', { type: 'E' }), file('next', 'n'), EOA]);
    const got = await parse(a);
    t.equal(got.error, null);
    t.same(got.entries.map((g) => [g.e.path, g.body.toString()]), [['dir/file', 'base'], ['next', 'n']]);
    t.match(got.warnings, [{ kind: 'xattr-skipped', entry: 'dir/file' }]);
  });
});

t.test('GNU and pax details', async (t) => {
  await t.test('base-256 numbers (size, uid, negative mtime)', async (t) => {
    const a = Buffer.concat([hdr('f', { size: b256(5n), uid: b256(3000000n, 8), mtime: b256(-86400n), magic: 'gnu' }), pad(B('hello')), EOA]);
    const got = await parse(a);
    t.equal(got.error, null);
    t.same([got.entries[0]!.e.size, got.entries[0]!.e.uid, got.entries[0]!.e.mtime, got.entries[0]!.body.toString()], [5, 3000000, -86400, 'hello']);
    const gnuList = spawnSync('tar', ['--numeric-owner', '-tvf', '-'], { input: a, env: { ...process.env, TZ: 'UTC' } }).stdout.toString();
    t.match(gnuList, /3000000\/0\s+5 1969-12-31/, 'GNU tar reads the same values');
  });

  await t.test('ustar prefix, V7 directory by trailing slash, GNU long link', async (t) => {
    const a = Buffer.concat([
      hdr('name', { prefix: 'pre/fix' }),
      hdr('olddir/', { type: '\0', magic: 'v7' }),
      hdr('././@LongLink', { size: 201, type: 'K', magic: 'gnu' }),
      pad(B('z'.repeat(200) + '\0')),
      hdr('sym', { type: '2', link: 'short', magic: 'gnu' }),
      EOA,
    ]);
    const got = await parse(a);
    t.equal(got.error, null);
    t.same(got.entries.map((g) => [g.e.path, g.e.type, g.e.linkTarget]), [
      ['pre/fix/name', 'file', undefined],
      ['olddir', 'dir', undefined],
      ['sym', 'symlink', 'z'.repeat(200)],
    ]);
  });

  await t.test('pax: fractions, negative fractions, global headers, xattrs as bytes, NUL in path', async (t) => {
    const a = Buffer.concat([
      paxHdr([paxRec('uid', '77'), paxRec('mtime', '1000.5'), paxRec('path', 'global/path/ignored')], 'g'),
      paxHdr([paxRec('mtime', '-1.25'), paxRec('SCHILY.xattr.user.bin', Buffer.from([0xff, 0, 0xfe])), paxRec('path', B('ok\0/../../etc/x'))]),
      file('first', 'x'),
      file('second', 'y', { uid: 5 }),
      EOA,
    ]);
    const got = await parse(a);
    t.equal(got.error, null);
    const [e1, e2] = got.entries.map((g) => g.e);
    t.same([e1!.path, e1!.uid, e1!.mtime, e1!.mtimeNsec], ['ok', 77, -2, 750000000]);
    t.same(e1!.xattrs?.['SCHILY.xattr.user.bin'], Buffer.from([0xff, 0, 0xfe]));
    t.same([e2!.path, e2!.uid, e2!.mtime, e2!.mtimeNsec], ['second', 77, 1000, 500000000]);
    t.ok(got.warnings.some((w) => w.kind === 'pax-global-ignored'), 'global path ignored with a warning');
    t.ok(got.warnings.some((w) => w.kind === 'nul-in-name'), 'NUL in path cut with a warning');
  });

  await t.test('header sums: four bytes at a time equals byte by byte, at any alignment', async (t) => {
    const slow = (b: Buffer) => b.reduce((a, x) => a + x, 0);
    const pool = Buffer.alloc(512 * 8 + 7);
    for (let k = 0; k < 200; k++) {
      crypto.randomFillSync(pool);
      if (k % 4 === 0) pool.fill(0xff);
      if (k % 4 === 1) pool.fill(0);
      const at = k % 8;
      const b = pool.subarray(at + 512 * (k % 7), at + 512 * (k % 7) + 512);
      t.equal(blockSum(b), slow(b), `block ${k} at offset ${b.byteOffset}`);
    }
  });

  await t.test('pax times are read from the record bytes as the decimal grammar says', async (t) => {
    // What parsePaxTime must agree with: the grammar written as a regular expression.
    const byRegex = (s: string) => {
      const m = /^(-?)(\d+)(?:\.(\d*))?/.exec(s);
      if (!m) return null;
      let sec = Number(m[2]);
      let nsec = m[3] ? Number(m[3].slice(0, 9).padEnd(9, '0')) : 0;
      let clamped = false;
      if (!(sec <= 8.64e12)) [sec, nsec, clamped] = [8.64e12, 0, true];
      if (m[1] === '-') [sec, nsec] = nsec > 0 ? [-sec - 1, 1e9 - nsec] : [-sec, nsec];
      return { sec: sec === 0 ? 0 : sec, nsec, junk: m[0].length !== s.length, clamped };
    };
    const cases = ['1', '1.5', '1.', '-1.25', '-0.5', '-0', '0', '12.1234567891234', '1e5', 'abc', '', '-', '.5', '-.5',
      '99999999999999999999', '8640000000000', '8640000000001', '1372753894.25', '0.000000001', '5 ', '1795762959.257031848', '007.070', '1.2.3'];
    for (const c of cases) {
      const b = Buffer.from(`xx${c}yy`, 'latin1');
      t.same(parsePaxTime(b, 2, 2 + c.length), byRegex(c), JSON.stringify(c));
    }
    // Through the parser: atime, ctime and GNU's bookkeeping records change nothing and warn of nothing; junk after mtime warns.
    const a = Buffer.concat([
      paxHdr([paxRec('atime', '1795762959.257031848'), paxRec('mtime', '1372705291.848737'), paxRec('ctime', 'not a time')]),
      file('a', 'x'),
      paxHdr([paxRec('mtime', '77.5junk'), paxRec('atimes', '1'), paxRec('GNU.dumpdir', 'Yb\0Na\0'), paxRec('GNU.volume.label', 'vol 1')]),
      file('b', 'y'),
      EOA,
    ]);
    const got = await parse(a);
    t.equal(got.error, null);
    t.same(got.entries.map((g) => [g.e.path, g.e.mtime, g.e.mtimeNsec]), [['a', 1372705291, 848737000], ['b', 77, 500000000]]);
    t.same(got.warnings.map((w) => w.kind).sort(), ['pax-time-junk', 'pax-unknown-key']);
    t.match(got.warnings.find((w) => w.kind === 'pax-unknown-key')?.message, /"atimes"/);
  });

  await t.test('pax size overrides across a GNU L header (TARmageddon, security E6)', async (t) => {
    const a = Buffer.concat([
      paxHdr([paxRec('size', '2048')]),
      hdr('././@LongLink', { size: 13, type: 'L', magic: 'gnu' }),
      pad(B('longname.txt\0')),
      hdr('file_a', { size: 16 }),
      pad(B('A'.repeat(16))),
      hdr('file_b', { size: 16 }),
      pad(B('B'.repeat(16))),
      EOA,
    ]);
    const got = await parse(a, { lenient: true });
    const ours = got.entries.map((g) => `${g.e.path} ${g.e.size}`);
    t.same(ours, ['longname.txt 2048'], 'one entry of 2048 bytes');
    const gnuList = spawnSync('tar', ['-tvf', '-'], { input: a }).stdout.toString().trim().split('\n');
    t.same(gnuList.map((x) => x.replace(/^.*?\s(\d+)\s.*\s(\S+)$/, '$2 $1')), ours, 'GNU tar lists the same name and size');
    const bsdList = spawnSync('bsdtar', ['-tf', '-'], { input: a }).stdout.toString().trim().split('\n');
    t.same(bsdList, ['longname.txt'], 'bsdtar lists the same single entry');
  });

  await t.test('GNU old sparse with extension blocks', async (t) => {
    // 30 regions of 512 bytes every 4096: 4 in the header, 21 + 5 in two extension blocks.
    const regions = Array.from({ length: 30 }, (_, i) => [i * 4096, 512] as const);
    const realSize = 30 * 4096;
    const h = hdr('sp', { size: 30 * 512, type: 'S', magic: 'gnu' });
    const put = (b: Buffer, at: number, i: number) => {
      octal(regions[i]![0], 12).copy(b, at);
      octal(regions[i]![1], 12).copy(b, at + 12);
    };
    for (let i = 0; i < 4; i++) put(h, 386 + i * 24, i);
    h[482] = 1;
    octal(realSize, 12).copy(h, 483);
    fixSum(h);
    const x1 = Buffer.alloc(512);
    for (let i = 0; i < 21; i++) put(x1, i * 24, 4 + i);
    x1[504] = 1;
    const x2 = Buffer.alloc(512);
    for (let i = 0; i < 5; i++) put(x2, i * 24, 25 + i);
    const data = rnd(30 * 512, 'oldsparse');
    const a = Buffer.concat([h, x1, x2, data, EOA]);
    const got = await parse(a);
    t.equal(got.error, null);
    const e = got.entries[0]!;
    t.equal(e.e.sparse?.length, 30);
    t.equal(e.e.size, realSize);
    const want = Buffer.alloc(realSize);
    regions.forEach(([o], i) => data.copy(want, o, i * 512, i * 512 + 512));
    t.ok(e.content.equals(want), 'content rebuilt');
    // (GNU tar -O cannot write the final hole to a pipe; bsdtar can.)
    const bsdOut = spawnSync('bsdtar', ['-xOf', '-'], { input: a, maxBuffer: 1 << 24 }).stdout;
    t.ok(bsdOut.equals(want), 'bsdtar extracts the same bytes');
  });
});

t.test('malformed input: what the spec says (security E1-E11)', async (t) => {
  const ok = file('ok', 'fine');
  const cases: [string, Buffer, string, { lenientKind?: string; lenientEntries?: string[] }?][] = [
    ['E1 flipped name byte', (() => { const a = Buffer.concat([ok, EOA]); a[1] ^= 1; return a; })(), 'bad-checksum'],
    ['E2 junk in size', Buffer.concat([hdr('f', { size: B('0000000001x\0') }), pad(B('x')), EOA]), 'bad-number'],
    ['E2 junk in uid', Buffer.concat([hdr('f', { uid: B('00 12x7\0') }), EOA]), 'bad-number', { lenientKind: 'bad-number', lenientEntries: ['f'] }],
    ['E3 negative base-256 size', Buffer.concat([hdr('neg', { size: b256(-512n) }), EOA]), 'negative-size'],
    ['E3 size beyond 2^53', Buffer.concat([hdr('huge', { size: b256(1n << 62n) }), pad(B('A')), EOA]), 'bad-number'],
    ['E4 record length 0', Buffer.concat([paxHdr([B('0 path=x\n')]), ok, EOA]), 'bad-pax', { lenientKind: 'bad-pax', lenientEntries: ['ok'] }],
    ['E4 record length too long', Buffer.concat([paxHdr([B('999999 path=x\n')]), ok, EOA]), 'bad-pax', { lenientKind: 'bad-pax', lenientEntries: ['ok'] }],
    ['E4 no =', Buffer.concat([paxHdr([B('11 pathxyz\n')]), ok, EOA]), 'bad-pax'],
    ['E4 pax header over the metadata limit', Buffer.concat([hdr('PaxHeaders/x', { size: (1 << 20) + 1, type: 'x' }), EOA]), 'meta-too-large'],
    ['E5 size=-1', Buffer.concat([paxHdr([paxRec('size', '-1')]), ok, EOA]), 'bad-pax-value'],
    ['E5 size=abc', Buffer.concat([paxHdr([paxRec('size', 'abc')]), ok, EOA]), 'bad-pax-value'],
    ['E5 uid=1e9', Buffer.concat([paxHdr([paxRec('uid', '1e9')]), ok, EOA]), 'bad-pax-value', { lenientKind: 'bad-pax-value', lenientEntries: ['ok'] }],
    ['E8 huge GNU long name', Buffer.concat([hdr('././@LongLink', { size: 1 << 30, type: 'L', magic: 'gnu' }), EOA]), 'meta-too-large'],
    ['E8 long name at the end', Buffer.concat([hdr('././@LongLink', { size: 5, type: 'L', magic: 'gnu' }), pad(B('abcd\0')), EOA]), 'dangling-header', { lenientKind: 'dangling-header', lenientEntries: [] }],
    ['E9 unknown typeflag', Buffer.concat([file('q', 'data', { type: 'Q' }), EOA]), 'unknown-typeflag', { lenientKind: 'unknown-typeflag', lenientEntries: ['q'] }],
    ['E9 multi-volume continuation', Buffer.concat([file('m', 'data', { type: 'M', magic: 'gnu' }), EOA]), 'unsupported'],
    ['E10 overlapping sparse map', Buffer.concat([paxHdr([paxRec('GNU.sparse.size', '100'), paxRec('GNU.sparse.map', '0,10,5,10'), paxRec('GNU.sparse.name', 's')]), file('GNUSparseFile.1/s', 'x'.repeat(20)), EOA]), 'bad-sparse-map'],
    ['E10 sparse region past the size', Buffer.concat([paxHdr([paxRec('GNU.sparse.size', '10'), paxRec('GNU.sparse.map', '5,10'), paxRec('GNU.sparse.name', 's')]), file('GNUSparseFile.1/s', 'x'.repeat(10)), EOA]), 'bad-sparse-map'],
    ['E11 no end marker', ok, 'truncated', { lenientKind: 'no-end-marker', lenientEntries: ['ok'] }],
    ['G2 cut inside the data', Buffer.concat([hdr('f', { size: 1000 }), B('x'.repeat(600))]), 'truncated'],
    ['A5 empty name', Buffer.concat([hdr('', { type: '5' }), ok, EOA]), 'empty-name', { lenientKind: 'empty-name', lenientEntries: ['ok'] }],
    ['A10 name over the path limit', Buffer.concat([paxHdr([paxRec('path', 'd/'.repeat(2100) + 'f')]), ok, EOA]), 'path-too-long', { lenientKind: 'path-too-long', lenientEntries: [] }],
    ['B9 empty symlink target', Buffer.concat([hdr('s', { type: '2' }), EOA]), 'empty-link-target'],
    ['symlink with a size (readers disagree)', Buffer.concat([hdr('s', { type: '2', link: 't', size: 512 }), ok, EOA]), 'ambiguous-size', { lenientKind: 'ambiguous-size', lenientEntries: ['s', 'ok'] }],
  ];
  for (const [name, a, kind, len] of cases) {
    const got = await parse(a);
    t.ok(got.error instanceof ArchiveError, `${name}: ArchiveError`);
    t.match(got.error, { kind }, `${name}: kind ${kind} (${String(got.error).slice(0, 160)})`);
    if (len) {
      const l = await parse(a, { lenient: true });
      t.equal(l.error, null, `${name}: lenient parses`);
      t.ok(l.warnings.some((w) => w.kind === len.lenientKind), `${name}: lenient warns ${len.lenientKind}`);
      t.same(l.entries.map((g) => g.e.path), len.lenientEntries, `${name}: lenient entries`);
    }
  }

  // A size past 2^53 is said to be out of range, not to be no number.
  const big = await parse(Buffer.concat([paxHdr([paxRec('size', '9223372036854775808')]), ok, EOA]));
  t.match(String(big.error), /pax size "9223372036854775808" is out of range \(over 9007199254740991 bytes\)/);

  // End of archive: a lone zero block is accepted (with a warning), trailing data is ignored with one.
  const lone = await parse(Buffer.concat([ok, Buffer.alloc(512)]));
  t.equal(lone.error, null);
  t.match(lone.warnings, [{ kind: 'lone-zero-block' }]);
  const cat = await parse(Buffer.concat([ok, EOA, file('second', 'x'), EOA]));
  t.same(cat.entries.map((g) => g.e.path), ['ok'], 'stops at the first end marker, as bsdtar does');
  t.match(cat.warnings, [{ kind: 'trailing-data' }]);
  const padded = await parse(Buffer.concat([ok, EOA, Buffer.alloc(8192)]));
  t.same(padded.warnings, [], 'zero padding after the end marker is silent');
});

// ---- robustness: truncations and byte flips -----------------------------------------

t.test('truncations and byte flips: ArchiveError or a clean parse, never a crash or hang', async (t) => {
  const dir = tmpdir('zonep2v-tarfuzz-');
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'a.txt'), rnd(1500, 'fuzz'));
  fs.mkdirSync(path.join(dir, 'd'.repeat(120)));
  fs.writeFileSync(path.join(dir, 'd'.repeat(120), 'x'), 'x');
  fs.symlinkSync('t'.repeat(130), path.join(dir, 'sym'));
  fs.writeFileSync(path.join(dir, 'e'), '');
  const base = execFileSync('tar', ['--format=pax', '-cf', '-', '-C', dir, '.'], { maxBuffer: 1 << 24 });
  const payload = base;
  let seed = 12345;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const end = payload.length - 8192; // keep mutations in the interesting part
  let other = 0;
  let clean = 0;
  let errors = 0;
  for (let i = 0; i < 320; i++) {
    let a: Buffer<ArrayBufferLike>;
    let what: string;
    if (i < 120) {
      const cut = rand(end);
      a = Buffer.from(payload.subarray(0, cut));
      what = `cut at ${cut}`;
    } else {
      a = Buffer.from(payload);
      const n = 1 + rand(3);
      const at: number[] = [];
      for (let k = 0; k < n; k++) {
        // Half the flips land in header blocks, where they matter most.
        const blocks = Math.floor(end / 512);
        const pos = rand(2) ? rand(blocks) * 512 + rand(512) : rand(end);
        a[pos] = rand(256);
        at.push(pos);
      }
      what = `bytes changed at ${at.join(',')}`;
    }
    const got = await parse(a, { lenient: i % 2 === 1, chunk: 1 + rand(4096) });
    if (got.error === null) clean++;
    else if (got.error instanceof ArchiveError) errors++;
    else {
      other++;
      t.fail(`${what}: ${String(got.error)}`);
    }
  }
  t.equal(other, 0, `320 mutations: ${errors} ArchiveErrors, ${clean} clean parses, nothing else`);
  t.ok(errors > 100 && clean > 10, 'both outcomes occur (the mutations reach the parser)');
});
