// The ufsdump / BSD dump parser against Linux restore: the committed fixtures
// (samples/dump, made by make-fixtures.sh through mke2fs + a loop device +
// dump 0.4b) must parse to exactly what `restore -r` makes of them (names as
// bytes, types, modes, owners, sizes, mtimes, content with holes as zeros,
// sparse maps, symlink targets, link groups, devices, xattrs/ACLs), in both
// byte orders and from two volumes. Solaris-only layouts come from the
// synthetic writer in test/lib/dump-synth.ts. Then malformed streams: named
// errors, and a few hundred truncations and byte flips that must end in an
// ArchiveError or a clean parse, never another exception or a hang.

import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import crypto from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Entry } from '../src/entry.js';
import { bodyLength } from '../src/entry.js';
import { ArchiveError, TruncatedError } from '../src/errors.js';
import { ByteReader } from '../src/source/reader.js';
import { parseDump, parseDumpVolumes, LOOKAHEAD_BYTES } from '../src/formats/dump.js';
import { detectFormat } from '../src/formats/detect.js';
import { makeContext } from '../src/formats/types.js';
import type { Warning } from '../src/formats/types.js';
import { aclText, parseExt2Ea } from '../src/formats/dump-meta.js';
import { decodeHeader, FS_UFS2_MAGIC, setChecksum } from '../src/formats/dump-header.js';
import { snapshot, diffTrees, tmpdir } from './lib/tree.js';
import type { Tree, Node } from './lib/tree.js';
import { synthDump, ext2EaBlock } from './lib/dump-synth.js';
import type { SynthSpec, SynthDir, SynthNode } from './lib/dump-synth.js';
import { prng } from './lib/prng.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const SAMPLES = path.resolve(here, '../../samples/dump');
const isRoot = process.getuid?.() === 0;
const haveRestore = spawnSync('sh', ['-c', 'command -v restore']).status === 0;
const liveReason = !haveRestore ? 'restore(8) not installed' : !isRoot ? 'restore -r needs root to restore owners' : false;

const fixture = (name: string) => zlib.gunzipSync(fs.readFileSync(path.join(SAMPLES, name)));
const LE = fixture('tree.dump.gz');
const BE = fixture('tree-be.dump.gz');
const VOL1 = fixture('tree-vol1.dump.gz');
const VOL2 = fixture('tree-vol2.dump.gz');

/** A reader serving `buf` in chunks of `chunk` bytes (records straddle chunks). */
function readerOf(buf: Buffer, chunk = 4093): ByteReader {
  return new ByteReader(
    (async function* () {
      for (let i = 0; i < buf.length; i += chunk) yield buf.subarray(i, i + chunk);
    })(),
  );
}

async function* volumesOf(bufs: Buffer[], chunk?: number): AsyncGenerator<ByteReader> {
  for (const b of bufs) yield readerOf(b, chunk);
}

interface Got {
  e: Entry;
  /** The whole file rebuilt from the sparse regions (holes as zeros). */
  content?: Buffer;
}

interface Result {
  entries: Got[];
  warnings: Warning[];
}

async function consume(it: AsyncIterable<Entry>, opts: { read?: (e: Entry, i: number) => boolean } = {}): Promise<Got[]> {
  const out: Got[] = [];
  let i = 0;
  for await (const e of it) {
    const g: Got = { e };
    if (e.type === 'file' && (opts.read?.(e, i) ?? true)) {
      const parts: Buffer[] = [];
      for await (const c of e.body()) parts.push(Buffer.from(c));
      const body = Buffer.concat(parts);
      if (body.length !== bodyLength(e)) throw new Error(`${e.path}: body ${body.length} bytes, expected ${bodyLength(e)}`);
      if (e.sparse) {
        const full = Buffer.alloc(e.size);
        let p = 0;
        for (const r of e.sparse) {
          body.copy(full, r.offset, p, p + r.length);
          p += r.length;
        }
        g.content = full;
      } else g.content = body;
    }
    out.push(g);
    i++;
  }
  return out;
}

async function parse(buf: Buffer, opts: { lenient?: boolean; chunk?: number; read?: (e: Entry, i: number) => boolean } = {}): Promise<Result> {
  const warnings: Warning[] = [];
  const ctx = makeContext({ lenient: opts.lenient ?? false, warn: (w) => warnings.push(w) });
  const entries = await consume(parseDump(readerOf(buf, opts.chunk), ctx), opts);
  return { entries, warnings };
}

async function parseVolumes(bufs: Buffer[], opts: { lenient?: boolean } = {}): Promise<Result> {
  const warnings: Warning[] = [];
  const ctx = makeContext({ lenient: opts.lenient ?? false, warn: (w) => warnings.push(w) });
  const entries = await consume(parseDumpVolumes(volumesOf(bufs), ctx));
  return { entries, warnings };
}

async function failure(p: Promise<unknown>): Promise<ArchiveError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ArchiveError) return err;
    throw err;
  }
  throw new Error('expected an ArchiveError, the parse succeeded');
}

const sha = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');

/** Comparable description of parsed entries (no offsets). */
function describe(entries: Got[]): Record<string, unknown>[] {
  return entries.map(({ e, content }) => ({
    path: e.path,
    type: e.type,
    mode: e.mode,
    uid: e.uid,
    gid: e.gid,
    mtime: e.mtime,
    mtimeNsec: e.mtimeNsec,
    size: e.size,
    nlink: e.nlink,
    linkTarget: e.linkTarget,
    dev: e.devMajor === undefined ? undefined : [e.devMajor, e.devMinor],
    sparse: e.sparse,
    xattrs: e.xattrs && Object.fromEntries(Object.entries(e.xattrs).map(([k, v]) => [k, v.toString('hex')])),
    sha: content && sha(content),
  }));
}

/** The parsed entries as a tree.ts Tree (root left out, hard links resolved). */
function toTree(entries: Got[]): Tree {
  const tree: Tree = new Map();
  const groups = new Map<string, string[]>();
  for (const { e } of entries) {
    if (e.type === 'hardlink') groups.get(e.linkTarget!)!.push(e.path);
    else groups.set(e.path, [e.path]);
  }
  for (const { e, content } of entries) {
    if (e.path === '') continue;
    const first = e.type === 'hardlink' ? entries.find((g) => g.e.path === e.linkTarget)! : { e, content };
    const f = first.e;
    const n: Node = {
      type: f.type as Node['type'],
      mode: f.mode,
      uid: f.uid,
      gid: f.gid,
      size: f.type === 'file' ? f.size : f.type === 'symlink' ? Buffer.byteLength(f.linkTarget!, 'latin1') : 0,
      mtime: f.mtime,
      blocks: 0,
    };
    if (f.type === 'file') n.hash = sha(first.content!);
    if (f.type === 'symlink') n.target = f.linkTarget;
    const g = groups.get(f.path)!;
    if (g.length > 1) n.links = [...g].sort().join('|');
    tree.set(e.path, n);
  }
  return tree;
}

function restoreInto(dir: string, args: string[]): void {
  const r = spawnSync('restore', ['-r', ...args], { cwd: dir, encoding: 'latin1', input: '' });
  if (r.status !== 0) throw new Error(`restore failed: ${r.stderr}`);
  fs.rmSync(path.join(dir, 'restoresymtable'), { force: true });
}

/** Allocated bytes of the regions on a file system with `bs`-byte blocks. */
function allocated(regions: { offset: number; length: number }[], bs: number): number {
  const blocks = new Set<number>();
  for (const r of regions) for (let b = Math.floor(r.offset / bs); b <= Math.floor((r.offset + r.length - 1) / bs); b++) blocks.add(b);
  return blocks.size * bs;
}

/** system.posix_acl_* xattr (version 2) as ACL text. */
function posixAclText(hex: string): string {
  const b = Buffer.from(hex, 'hex');
  const list = [];
  for (let p = 4; p + 8 <= b.length; p += 8) list.push({ tag: b.readUInt16LE(p), perm: b.readUInt16LE(p + 2), id: b.readUInt32LE(p + 4) });
  return aclText(list)!;
}

// ---- the real fixtures ------------------------------------------------------

t.test('detection sees both byte orders', async (t) => {
  t.equal(detectFormat(LE.subarray(0, 1024)), 'dump');
  t.equal(detectFormat(BE.subarray(0, 1024)), 'dump');
});

t.test('little-endian Linux dump matches what restore -r made of it (expected.json)', async (t) => {
  const ctx = makeContext({});
  const entries = await consume(parseDump(readerOf(LE), ctx));
  t.equal(ctx.info.variant, 'ufsdump-le');
  const expected = JSON.parse(fs.readFileSync(path.join(SAMPLES, 'expected.json'), 'latin1')) as Record<string, Record<string, unknown>>;
  const got: Record<string, Record<string, unknown>> = {};
  const tree = toTree(entries);
  for (const [p, n] of tree) {
    const e = entries.find((g) => g.e.path === p)!.e;
    const src = e.type === 'hardlink' ? entries.find((g) => g.e.path === e.linkTarget)!.e : e;
    const o: Record<string, unknown> = { type: n.type, mode: n.mode, uid: n.uid, gid: n.gid, size: n.size, mtime: n.mtime };
    if (n.hash) o.sha256 = n.hash;
    if (n.target !== undefined) o.target = n.target;
    if (n.links) o.links = n.links;
    if (src.devMajor !== undefined) o.rdev = [src.devMajor, src.devMinor];
    if (src.xattrs && Object.keys(src.xattrs).length) {
      const x: Record<string, string> = {};
      for (const [k, v] of Object.entries(src.xattrs)) {
        if (k === 'SCHILY.acl.access') x['acl:access'] = v.toString('latin1');
        else x[k.replace(/^SCHILY\.xattr\./, '')] = v.toString('hex');
      }
      o.xattrs = x;
    }
    o.sparse = !!src.sparse;
    got[p] = o;
  }
  const want: Record<string, Record<string, unknown>> = {};
  for (const [p, n] of Object.entries(expected)) {
    const o: Record<string, unknown> = { ...n };
    if (o.sha256 === undefined) delete o.sha256;
    const blocks = o.blocks as number;
    delete o.blocks;
    o.sparse = n.type === 'file' && blocks * 512 < (n.size as number);
    if (o.xattrs) {
      const x: Record<string, string> = {};
      for (const [k, v] of Object.entries(o.xattrs as Record<string, string>)) {
        if (k === 'system.posix_acl_access') x['acl:access'] = posixAclText(v);
        else x[k] = v;
      }
      o.xattrs = x;
    }
    want[p] = o;
  }
  t.same(got, want);
  // the root comes first, as '', then directories before everything else
  t.equal(entries[0]!.e.path, '');
  t.equal(entries[0]!.e.type, 'dir');
  const firstNonDir = entries.findIndex((g) => g.e.type !== 'dir');
  t.ok(entries.slice(firstNonDir).every((g) => g.e.type !== 'dir'), 'directories first');
  const seen = new Set<string>();
  for (const { e } of entries) {
    const parent = e.path.includes('/') ? e.path.slice(0, e.path.lastIndexOf('/')) : '';
    if (e.path !== '') t.ok(seen.has(parent), `${e.path} after its parent`);
    if (e.type === 'hardlink') t.ok(seen.has(e.linkTarget!), `${e.path} after its link target`);
    seen.add(e.path);
  }
  t.same(entries.map((g) => g.e.index), entries.map((_, i) => i), 'indexes in order');
  const sparse = entries.find((g) => g.e.path === 'sparse.img')!.e;
  t.same(sparse.sparse, [
    { offset: 0, length: 1024 },
    { offset: 1048576, length: 1024 },
    { offset: 2560000, length: 3072 },
  ]);
  t.same(entries.find((g) => g.e.path === 'sparse-tail.bin')!.e.sparse, [{ offset: 599040, length: 960 }]);
  t.equal(entries.find((g) => g.e.path === 'big.bin')!.e.sparse, undefined, 'a dense file has no region list');
});

t.test('little-endian Linux dump matches a live restore -r', { skip: liveReason }, async (t) => {
  const dir = tmpdir('zonep2v-dump-');
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'tree.dump');
  fs.writeFileSync(file, LE);
  const out = path.join(dir, 'out');
  fs.mkdirSync(out);
  restoreInto(out, ['-f', file]);
  const restored = snapshot(out);
  const { entries } = await parse(LE);
  t.same(diffTrees(toTree(entries), restored), []);
  // sparse files: the regions allocate exactly what restore's holes left allocated
  const bs = fs.statfsSync(out).bsize;
  for (const { e } of entries) {
    if (e.type !== 'file') continue;
    const st = fs.lstatSync(Buffer.concat([Buffer.from(`${out}/`), Buffer.from(e.path, 'latin1')]));
    const holey = st.blocks * 512 < e.size;
    t.equal(!!e.sparse, holey, `${e.path}: sparse iff restore left holes`);
    if (e.sparse && holey) t.equal(allocated(e.sparse, bs), st.blocks * 512, `${e.path}: allocated blocks`);
  }
});

t.test('big-endian copy parses to the same entries; restore agrees', async (t) => {
  const ctx = makeContext({});
  const be = await consume(parseDump(readerOf(BE, 8192), ctx));
  t.equal(ctx.info.variant, 'ufsdump-be');
  const le = (await parse(LE)).entries;
  t.same(describe(be), describe(le));
  t.same(be.map((g) => g.e.offset), le.map((g) => g.e.offset), 'same offsets');
  if (liveReason) return;
  const dir = tmpdir('zonep2v-dump-');
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'be.dump'), BE);
  fs.mkdirSync(path.join(dir, 'out'));
  restoreInto(path.join(dir, 'out'), ['-f', path.join(dir, 'be.dump')]);
  t.same(diffTrees(toTree(be), snapshot(path.join(dir, 'out'))), []);
});

t.test('two volumes give the same entries as the single-volume dump', async (t) => {
  const mv = await parseVolumes([VOL1, VOL2]);
  const one = await parse(LE);
  t.same(describe(mv.entries), describe(one.entries));
  t.same(mv.warnings, []);
  // the second volume starts inside big.bin
  const vol1Records = VOL1.length / 1024;
  const big = mv.entries.find((g) => g.e.path === 'big.bin')!.e;
  t.ok(big.offset < VOL1.length && big.offset + 1024 + big.size > vol1Records * 1024, 'big.bin spans the volume boundary');
  if (liveReason) return;
  const dir = tmpdir('zonep2v-dump-');
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'v001'), VOL1);
  fs.writeFileSync(path.join(dir, 'v002'), VOL2);
  fs.mkdirSync(path.join(dir, 'out'));
  restoreInto(path.join(dir, 'out'), ['-M', '-f', path.join(dir, 'v')]);
  t.same(diffTrees(toTree(mv.entries), snapshot(path.join(dir, 'out'))), []);
});

t.test('volume errors are named', async (t) => {
  const onlyFirst = await failure(parseVolumes([VOL1]));
  t.ok(onlyFirst instanceof TruncatedError, 'first volume alone: truncated');
  t.equal(onlyFirst.entry, 'big.bin', 'names the file cut by the volume end');
  t.match(onlyFirst.message, /every volume/);
  const single = await failure(parse(VOL1));
  t.equal(single.kind, 'truncated');
  const wrongOrder = await failure(parseVolumes([VOL2, VOL1]));
  t.equal(wrongOrder.kind, 'dump-volume');
  const twice = await failure(parseVolumes([VOL1, VOL1]));
  t.equal(twice.kind, 'dump-volume');
  t.match(twice.message, /volume 2/);
  // a second volume from another dump: same layout, other date
  const other = Buffer.from(VOL2);
  for (let off = 0; off + 1024 <= other.length; off += 1024) {
    if (other.readInt32LE(off + 24) !== 60012 || other.readInt32LE(off + 4) !== VOL2.readInt32LE(4)) continue;
    other.writeInt32LE(other.readInt32LE(off + 4) + 1, off + 4);
    setChecksum(other.subarray(off, off + 1024), 'le');
    break;
  }
  const foreign = await failure(parseVolumes([VOL1, other]));
  t.equal(foreign.kind, 'dump-volume');
  t.match(foreign.message, /another dump/);
  // a missing record between the volumes
  const cut = VOL1.subarray(0, VOL1.length - 1024);
  const gap = await failure(parseVolumes([cut, VOL2]));
  t.equal(gap.kind, 'dump-volume');
});

t.test('chunking does not matter; unread bodies are skipped', async (t) => {
  const ref = describe((await parse(LE)).entries);
  for (const chunk of [1, 511, 1024, 65536, LE.length]) {
    if (chunk === 1) {
      // one byte at a time over the first 40 KiB, then whole: headers and directory data straddle everything
      const r = new ByteReader(
        (async function* () {
          for (let i = 0; i < 40960; i++) yield LE.subarray(i, i + 1);
          yield LE.subarray(40960);
        })(),
      );
      t.same(describe(await consume(parseDump(r, makeContext({})))), ref, 'byte by byte');
      continue;
    }
    t.same(describe((await parse(LE, { chunk })).entries), ref, `chunks of ${chunk}`);
  }
  // read every other body, or none: metadata unchanged
  const some = (await parse(LE, { read: (_e, i) => i % 2 === 0 })).entries;
  const none = (await parse(LE, { read: () => false })).entries;
  const meta = (d: Record<string, unknown>[]) => d.map(({ sha: _s, ...rest }) => rest);
  t.same(meta(describe(some)), meta(ref));
  t.same(meta(describe(none)), meta(ref));
  // a body left half read
  const ctx = makeContext({});
  const seen: string[] = [];
  for await (const e of parseDump(readerOf(LE), ctx)) {
    seen.push(e.path);
    if (e.type === 'file') for await (const _ of e.body()) break;
  }
  t.same(seen, ref.map((d) => d.path));
});

// ---- synthetic Solaris dumps ----------------------------------------------------

const ACL = [
  { tag: 0x01, perm: 6, id: 0 },
  { tag: 0x02, perm: 4, id: 1234 },
  { tag: 0x04, perm: 4, id: 0 },
  { tag: 0x10, perm: 4, id: 0 },
  { tag: 0x20, perm: 0, id: 0 },
];
const ACL_TEXT = 'user::rw-,user:1234:r--,group::r--,mask::r--,other::---';
const DEF_ACL = [
  { tag: 0x1001, perm: 7, id: 0 },
  { tag: 0x1004, perm: 5, id: 0 },
  { tag: 0x1020, perm: 5, id: 0 },
];
const big = (i: number) => {
  const b = Buffer.alloc(1024);
  for (let k = 0; k < 1024; k += 8) b.write(`${String(i).padStart(7, '0')}\n`, k, 'latin1');
  return b;
};

function solarisSpec(order: 'le' | 'be'): SynthSpec {
  const dirs: SynthDir[] = [
    {
      ino: 2, kind: 'dir', parent: 2, perm: 0o755, mtime: 1000,
      entries: [['etc', 3], ['file-acl', 10], ['file-meta', 11], ['dev-c', 12], ['fifo', 13], ['fast', 14], ['slow', 15], ['bigid', 16], ['empty-acl', 17], ['sparse', 18], ['hl1', 19], ['sock', 22], [Buffer.from([0x63, 0x61, 0x66, 0xe9]), 23]],
    },
    { ino: 3, kind: 'dir', parent: 2, perm: 0o1777, uid: 3, gid: 3, mtime: 1001, acl: ACL, defaultAcl: DEF_ACL, entries: [['passwd', 20], ['hl2', 19]] },
    { ino: 4, kind: 'attrdir', parent: 20, perm: 0o755, entries: [['SUNWattr_rw', 21]] },
  ];
  const files: SynthNode[] = [
    { ino: 10, kind: 'file', perm: 0o640, mtime: 2000, mtimeUsec: 250000, data: Buffer.from('acl file\n'), acl: ACL },
    { ino: 11, kind: 'file', perm: 0o4755, mtime: 2001, data: Buffer.from('setuid with a header ACL\n'), acl: ACL, aclInHeader: true },
    { ino: 12, kind: 'char', perm: 0o600, rdev: [100, 70000] },
    { ino: 13, kind: 'fifo', perm: 0o644 },
    { ino: 14, kind: 'symlink', perm: 0o777, target: '../fast/target', fastSymlink: true },
    { ino: 15, kind: 'symlink', perm: 0o777, target: `/${'long-component/'.repeat(8)}end` },
    { ino: 16, kind: 'file', uid: 100000, gid: 70000, data: Buffer.from('big ids\n') },
    { ino: 17, kind: 'file', acl: ACL },
    { ino: 18, kind: 'file', size: 600 * 1024 + 5, block: (i) => (i === 3 || i === 520 ? big(i) : null) },
    { ino: 19, kind: 'file', nlink: 2, data: Buffer.from('two names\n') },
    { ino: 20, kind: 'file', xattrDir: 4, data: Buffer.from('root:x:0:0::/:/sbin/sh\n') },
    { ino: 21, kind: 'file', iflags: 1, data: Buffer.from('attribute value') },
    { ino: 22, kind: 'socket', perm: 0o755 },
    { ino: 23, kind: 'block', rdev: [32, 7] },
  ];
  return { order, flavour: 'solaris', maxino: 64, dirs, files };
}

const bufOf = (spec: SynthSpec) => Buffer.concat([...synthDump(spec)]);

t.test('synthetic Solaris ufsdump, both byte orders', async (t) => {
  for (const order of ['be', 'le'] as const) {
    const { entries, warnings } = await parse(bufOf(solarisSpec(order)));
    const by = (p: string) => entries.find((g) => g.e.path === p)!;
    t.same(entries.map((g) => `${g.e.path}:${g.e.type}`), [
      ':dir', 'etc:dir',
      'file-acl:file', 'file-meta:file', 'dev-c:char', 'fifo:fifo', 'fast:symlink', 'slow:symlink', 'bigid:file', 'empty-acl:file', 'sparse:file',
      'hl1:file', 'etc/hl2:hardlink', 'etc/passwd:file', 'sock:socket', 'caf\xe9:block',
    ], `${order}: entries and order`);
    t.equal(by('etc').e.mode, 0o1777);
    t.same([by('etc').e.uid, by('etc').e.gid], [3, 3]);
    t.same(Object.keys(by('etc').e.xattrs ?? {}).sort(), ['SCHILY.acl.access', 'SCHILY.acl.default']);
    t.equal(by('etc').e.xattrs!['SCHILY.acl.default']!.toString(), 'user::rwx,group::r-x,other::r-x');
    t.equal(by('file-acl').e.xattrs!['SCHILY.acl.access']!.toString(), ACL_TEXT, 'ACL from a shadow header after the data');
    t.equal(by('file-acl').e.mtimeNsec, 250_000_000);
    t.equal(by('file-acl').content!.toString(), 'acl file\n');
    t.equal(by('file-meta').e.xattrs!['SCHILY.acl.access']!.toString(), ACL_TEXT, 'ACL from the header (DR_HASMETA)');
    t.equal(by('file-meta').e.mode, 0o4755);
    t.equal(by('empty-acl').e.xattrs!['SCHILY.acl.access']!.toString(), ACL_TEXT, 'ACL of an empty file (shadow TS_INODE)');
    t.same([by('dev-c').e.devMajor, by('dev-c').e.devMinor], [100, 70000], 'SVR4 32-bit dev');
    t.same([by('caf\xe9').e.devMajor, by('caf\xe9').e.devMinor], [32, 7], 'old 16-bit dev');
    t.equal(by('fast').e.linkTarget, '../fast/target', 'fast symlink from the inode');
    t.equal(by('slow').e.linkTarget, `/${'long-component/'.repeat(8)}end`);
    t.same([by('bigid').e.uid, by('bigid').e.gid], [100000, 70000], 'UID_LONG: ic_uid / ic_gid');
    t.same(by('sparse').e.sparse, [{ offset: 3072, length: 1024 }, { offset: 520 * 1024, length: 1024 }]);
    t.equal(sha(by('sparse').content!), sha(Buffer.concat([Buffer.alloc(3072), big(3), Buffer.alloc(516 * 1024), big(520), Buffer.alloc(79 * 1024 + 5)])));
    t.equal(by('etc/hl2').e.linkTarget, 'hl1');
    t.equal(by('hl1').e.nlink, 2);
    t.same(warnings.map((w) => w.kind), ['xattr-skipped']);
    t.match(warnings[0]!.message, /SUNWattr_rw.*etc\/passwd/);
  }
});

t.test('look-ahead: a file larger than the look-ahead keeps its content and sparse regions', async (t) => {
  const blocks = Math.ceil((3 * LOOKAHEAD_BYTES) / 1024);
  const hole = (i: number) => (i >= 100 && i < 200) || (i >= blocks - 300 && i < blocks - 100);
  const spec: SynthSpec = {
    order: 'le',
    flavour: 'linux',
    maxino: 16,
    dirs: [{ ino: 2, kind: 'dir', parent: 2, entries: [['big', 12], ['after', 13]] }],
    files: [
      { ino: 12, kind: 'file', size: blocks * 1024 - 10, block: (i) => (hole(i) ? null : big(i)), ea: ext2EaBlock([[1, 'k', Buffer.from('v')]]) },
      { ino: 13, kind: 'file', data: Buffer.from('after\n') },
    ],
  };
  const buf = bufOf(spec);
  const expect = Buffer.alloc(blocks * 1024);
  for (let i = 0; i < blocks; i++) if (!hole(i)) big(i).copy(expect, i * 1024);
  const ctx = makeContext({});
  const seen: Entry[] = [];
  for await (const e of parseDump(readerOf(buf), ctx)) {
    seen.push(e);
    if (e.path !== 'big') continue;
    // the early hole is a gap, the rest one data region with the late hole served as zeros
    t.same(e.sparse, [{ offset: 0, length: 100 * 1024 }, { offset: 200 * 1024, length: e.size - 200 * 1024 }]);
    t.same(e.xattrs, {}, 'xattrs not known yet');
    const parts: Buffer[] = [];
    for await (const c of e.body()) parts.push(Buffer.from(c));
    const body = Buffer.concat(parts);
    const full = Buffer.alloc(e.size);
    body.copy(full, 0, 0, 100 * 1024);
    body.copy(full, 200 * 1024, 100 * 1024);
    t.equal(sha(full), sha(expect.subarray(0, e.size)));
    t.same(e.xattrs, { 'SCHILY.xattr.user.k': Buffer.from('v') }, 'xattrs filled in once the body is read');
  }
  t.same(seen.map((e) => e.path), ['', 'big', 'after']);
});

t.test('Linux EA parsing', async (t) => {
  const out: Record<string, Buffer> = {};
  const warns: string[] = [];
  // in-inode body (magic 0xEA020001): entries at 4, values from offset 4
  const b = Buffer.alloc(128);
  b.writeUInt32LE(0xea020001, 0);
  b[4] = 3; // name length
  b[5] = 6; // security.
  b.writeUInt16LE(100, 6);
  b.writeUInt32LE(5, 12);
  b.write('foo', 20);
  b.write('hello', 104);
  parseExt2Ea(b, out, (m) => warns.push(m));
  t.same(out, { 'SCHILY.xattr.security.foo': Buffer.from('hello') });
  t.same(warns, []);
  parseExt2Ea(Buffer.from('not an EA block'), out, (m) => warns.push(m));
  t.equal(warns.length, 1);
});

// ---- malformed input -----------------------------------------------------------

function tinySpec(mod: (s: SynthSpec & { dirs: SynthDir[]; files: SynthNode[] }) => void = () => {}): Buffer {
  const s = {
    order: 'le' as const,
    flavour: 'linux' as const,
    maxino: 32,
    dirs: [
      { ino: 2, kind: 'dir', parent: 2, entries: [['a', 3], ['f', 10]] } as SynthDir,
      { ino: 3, kind: 'dir', parent: 2, entries: [['g', 11]] } as SynthDir,
    ],
    files: [
      { ino: 10, kind: 'file', data: Buffer.alloc(3000, 0x41) } as SynthNode,
      { ino: 11, kind: 'file', data: Buffer.from('g\n') } as SynthNode,
    ],
  };
  mod(s);
  return bufOf(s);
}

t.test('the tiny synthetic dump is fine', async (t) => {
  const { entries } = await parse(tinySpec());
  t.same(entries.map((g) => g.e.path), ['', 'a', 'f', 'a/g']);
});

t.test('malformed streams give named errors', async (t) => {
  const cases: [string, Buffer, string, RegExp?][] = [];
  const good = tinySpec();
  const flip = (off: number) => {
    const b = Buffer.from(good);
    b[off] ^= 0x10;
    return b;
  };
  cases.push(['header checksum', flip(5 * 1024 + 40), 'dump-checksum']);
  {
    // a data record where a header belongs: drop one data block of f
    const recs = [];
    for (let i = 0; i < good.length; i += 1024) recs.push(good.subarray(i, i + 1024));
    const fHeader = recs.findIndex((r) => r.readInt32LE(0) === 2 && r.readUInt32LE(20) === 10);
    recs.splice(fHeader + 1, 1);
    cases.push(['missing data record', Buffer.concat(recs), 'dump-magic']);
  }
  cases.push(['truncated in file data', good.subarray(0, good.length - 3 * 1024 + 100), 'truncated']);
  cases.push(['truncated at a record boundary', good.subarray(0, good.length - 1024), 'truncated']);
  cases.push(['incremental', tinySpec((s) => (s.level = 1)), 'unsupported', /incremental/]);
  cases.push(['directory cycle', tinySpec((s) => s.dirs.push({ ino: 4, kind: 'dir', parent: 5, entries: [['x', 5]] }, { ino: 5, kind: 'dir', parent: 4, entries: [['y', 4]] })), 'dump-tree']);
  cases.push(['directory with two names', tinySpec((s) => (s.dirs[0]!.entries.push(['a2', 3]))), 'dump-tree', /several names/]);
  cases.push(['root named inside the tree', tinySpec((s) => s.dirs[1]!.entries.push(['up', 2])), 'dump-tree']);
  cases.push(["'..' disagrees", tinySpec((s) => (s.dirs[1]!.parent = 3)), 'dump-tree']);
  cases.push(["'.' points elsewhere", tinySpec((s) => { s.dirs[1]!.noDots = true; s.dirs[1]!.entries.unshift(['.', 10]); }), 'dump-directory']);
  cases.push(['name with a slash', tinySpec((s) => s.dirs[1]!.entries.push(['x/y', 10])), 'dump-directory']);
  cases.push(['inode beyond maxino', tinySpec((s) => s.dirs[1]!.entries.push(['far', 100000])), 'dump-directory']);
  cases.push(['inode not in TS_BITS', tinySpec((s) => (s.inMap = (i) => i !== 11)), 'dump-inode']);
  cases.push(['size larger than the blocks listed', tinySpec((s) => (s.files[0]!.sizeOverride = 600 * 1024)), 'dump-count']);
  cases.push(['no TS_END', tinySpec((s) => (s.noEnd = true)), 'truncated']);
  {
    const b = Buffer.from(good);
    const r = b.subarray(1024, 2048); // TS_CLRI
    r.writeInt32LE(3000, 160);
    setChecksum(r, 'le');
    cases.push(['count beyond the data', b, 'truncated']);
  }
  {
    const b = Buffer.from(good);
    for (let off = 0; off < b.length; off += 1024) {
      if (b.readInt32LE(off) === 2 && b.readUInt32LE(off + 20) === 10) {
        b.writeInt32LE(513, off + 160);
        setChecksum(b.subarray(off, off + 1024), 'le');
      }
    }
    cases.push(['c_count over 512', b, 'dump-count']);
  }
  {
    const b = Buffer.from(good);
    const r = b.subarray(3 * 1024, 4 * 1024); // TS_BITS -> TS_INODE: files before the map
    r.writeInt32LE(2, 0);
    setChecksum(r, 'le');
    cases.push(['TS_INODE before TS_BITS', b, 'dump-sequence']);
  }
  {
    const b = Buffer.from(good);
    const r = b.subarray(0, 1024);
    r.writeInt32LE(60011, 24);
    setChecksum(r, 'le');
    cases.push(['old 4.1BSD magic', b, 'unsupported']);
  }
  for (const [name, buf, kind, re] of cases) {
    const err = await failure(parse(buf));
    t.equal(err.kind, kind, `${name}: ${err.message}`);
    t.type(err.offset, 'number', `${name}: has an offset`);
    if (re) t.match(err.message, re, name);
  }
  // the file being read is named
  const trunc = await failure(parse(good.subarray(0, good.length - 3 * 1024 + 100)));
  t.equal(trunc.entry, 'f');
});

t.test('lenient mode warns and carries on', async (t) => {
  const inc = await parse(tinySpec((s) => (s.level = 2)), { lenient: true });
  t.same(inc.entries.map((g) => g.e.path), ['', 'a', 'f', 'a/g']);
  t.same(inc.warnings.map((w) => w.kind), ['dump-incremental']);
  const two = await parse(tinySpec((s) => s.dirs[0]!.entries.push(['a2', 3])), { lenient: true });
  t.same(two.entries.map((g) => g.e.path), ['', 'a', 'f', 'a/g']);
  t.same(two.warnings.map((w) => w.kind), ['dump-tree']);
  const unnamed = await parse(tinySpec((s) => s.files.push({ ino: 20, kind: 'file', data: Buffer.from('orphan') })), { lenient: false });
  t.same(unnamed.entries.map((g) => g.e.path), ['', 'a', 'f', 'a/g'], 'an inode with no name is skipped');
  t.same(unnamed.warnings.map((w) => w.kind), ['dump-unnamed']);
  // dump 0.4b writes a 255-byte name with its record length cut to 8 bits:
  // the bad record is lost, the records after it in the block are not
  const badName = tinySpec((s) => {
    s.dirs[0]!.entries.splice(1, 0, ['bad-name', 12]);
    s.files.push({ ino: 12, kind: 'file', data: Buffer.from('b') });
  });
  badName[badName.indexOf('bad-name') - 1] = 255;
  const skipped = await parse(badName, { lenient: true });
  t.same(skipped.entries.map((g) => g.e.path), ['', 'a', 'f', 'a/g'], 'entries after a bad name in its block are kept');
  t.same(skipped.warnings.map((w) => w.kind), ['dump-directory', 'dump-unnamed']);
  t.equal((await failure(parse(badName))).kind, 'dump-directory');
});

t.test('truncations and byte flips: ArchiveError or a clean parse, never anything else', async (t) => {
  const rand = prng(0x5eed);
  const headers: number[] = [];
  for (let off = 0; off < LE.length; off += 1024) if (LE.readInt32LE(off + 24) === 60012) headers.push(off);
  const dirData: number[] = [];
  for (let off = 5 * 1024; off < 21 * 1024; off += 1024) dirData.push(off); // directory phase of the fixture
  let errors = 0;
  let clean = 0;
  const kinds = new Map<string, number>();
  const run = async (buf: Buffer, what: string, lenient = false) => {
    try {
      const ctx = makeContext({ lenient });
      for await (const e of parseDump(readerOf(buf, 16384), ctx)) {
        if (e.type === 'file' && bodyLength(e) <= 64 << 20) for await (const _ of e.body());
      }
      clean++;
    } catch (err) {
      if (!(err instanceof ArchiveError)) {
        t.fail(`${what}: ${(err as Error)?.stack ?? err}`);
        return;
      }
      errors++;
      kinds.set(err.kind, (kinds.get(err.kind) ?? 0) + 1);
    }
  };
  for (let i = 0; i < 100; i++) {
    const n = Math.floor(rand() * LE.length);
    await run(LE.subarray(0, n), `truncated at ${n}`);
  }
  for (let i = 0; i < 250; i++) {
    const b = Buffer.from(LE);
    const region = rand();
    const flips: number[] = [];
    const nflip = 1 + Math.floor(rand() * 3);
    for (let k = 0; k < nflip; k++) {
      let off: number;
      if (region < 0.45) off = headers[Math.floor(rand() * headers.length)]! + Math.floor(rand() * 1024);
      else if (region < 0.75) off = dirData[Math.floor(rand() * dirData.length)]! + Math.floor(rand() * 1024);
      else off = Math.floor(rand() * b.length);
      b[off] = Math.floor(rand() * 256);
      flips.push(off);
      // keep some header edits past the checksum so they reach the field checks
      const h = off - (off % 1024);
      if (rand() < 0.6 && b.readInt32LE(h + 24) === 60012) setChecksum(b.subarray(h, h + 1024), 'le');
    }
    await run(b, `flips at ${flips.join(',')}`, i % 5 === 0);
  }
  t.ok(errors > 50, `${errors} errors, ${clean} clean parses: ${JSON.stringify([...kinds])}`);
  t.ok(clean > 0, 'some mutations still parse');
});

t.test('64-bit header fields: exact up to 2^53 - 1, an error past it, in both byte orders', async (t) => {
  for (const order of ['le', 'be'] as const) {
    const f = { order, flavour: 'freebsd' as const, magic: FS_UFS2_MAGIC, bsize: 1024, newDirFormat: true };
    const rec = Buffer.alloc(1024);
    const put = (off: number, v: bigint) => (order === 'le' ? rec.writeBigUInt64LE(v, off) : rec.writeBigUInt64BE(v, off));
    const putS = (off: number, v: bigint) => (order === 'le' ? rec.writeBigInt64LE(v, off) : rec.writeBigInt64BE(v, off));
    put(40, 2n ** 53n - 1n);
    putS(96, -(2n ** 40n) - 5n);
    putS(896, 1_700_000_000n);
    putS(912, 4_294_967_296n + 7n);
    const h = decodeHeader(rec, f, 0);
    t.equal(h.size, 2 ** 53 - 1, `${order}: the largest safe size`);
    t.equal(h.mtime, -(2 ** 40) - 5, `${order}: a negative 64-bit mtime`);
    t.equal(h.date, 1_700_000_000, `${order}: c_date`);
    t.equal(h.tapea, 4_294_967_303, `${order}: c_tapea past 32 bits`);
    put(40, 2n ** 53n);
    t.throws(() => decodeHeader(rec, f, 0), /file size 9007199254740992 is out of range/, `${order}: 2^53 is refused, with its exact value`);
    put(40, 2n ** 64n - 1n);
    t.throws(() => decodeHeader(rec, f, 0), /file size 18446744073709551615 is out of range/, `${order}: 2^64 - 1 too`);
    put(40, 0n);
    putS(96, -(2n ** 53n));
    t.throws(() => decodeHeader(rec, f, 0), /mtime -9007199254740992 is out of range/, `${order}: and -2^53 for a signed field`);
  }
});
