// ext4 inline data in Linux dumps: dump 0.4b lists an inline file's blocks
// as holes (restore writes zeros, and fails on an inline symlink); the bytes
// are in the header's i_block (offset 72, 60 bytes) and the system.data EA
// that follows. The parser must rebuild them. A synthetic dump everywhere;
// a real mke2fs -O inline_data + dump 0.4b one where root, a loop device and
// the tools are at hand.

import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import type { Entry } from '../src/entry.js';
import { ByteReader } from '../src/source/reader.js';
import { parseDump } from '../src/formats/dump.js';
import { makeContext } from '../src/formats/types.js';
import { EXT4_INLINE_DATA_FL } from '../src/formats/dump-header.js';
import { synthDump, ext2EaBlock } from './lib/dump-synth.js';
import { snapshot, diffTrees, tmpdir } from './lib/tree.js';
import { runCli } from './lib/cli.js';

async function entriesOf(buf: Buffer): Promise<{ e: Entry; content?: Buffer }[]> {
  const r = new ByteReader((async function* () { yield buf; })());
  const out: { e: Entry; content?: Buffer }[] = [];
  for await (const e of parseDump(r, makeContext({}))) {
    if (e.type !== 'file') {
      out.push({ e });
      continue;
    }
    const parts: Buffer[] = [];
    for await (const c of e.body()) parts.push(Buffer.from(c));
    const body = Buffer.concat(parts);
    const full = Buffer.alloc(e.size);
    let p = 0;
    for (const reg of e.sparse ?? [{ offset: 0, length: e.size }]) {
      body.copy(full, reg.offset, p, p + reg.length);
      p += reg.length;
    }
    out.push({ e, content: full });
  }
  return out;
}

t.test('synthetic: inline files and symlinks come from i_block + system.data', async (t) => {
  const small = Buffer.from('hello\n');
  const long = Buffer.from('0123456789'.repeat(10)); // 100 bytes: 60 in i_block, 40 in the EA
  const target = 'c'.repeat(61);
  const inline = { iflags: EXT4_INLINE_DATA_FL, block: () => null };
  const buf = Buffer.concat([
    ...synthDump({
      order: 'le',
      flavour: 'linux',
      maxino: 32,
      dirs: [{ ino: 2, kind: 'dir', parent: 2, entries: [['small', 11], ['long', 12], ['link', 13], ['holey', 14], ['plain', 15]] }],
      files: [
        { ino: 11, kind: 'file', size: small.length, ...inline, iblock: small, ea: ext2EaBlock([[7, 'data', Buffer.alloc(0)]]) },
        { ino: 12, kind: 'file', size: long.length, ...inline, iblock: long.subarray(0, 60), ea: ext2EaBlock([[7, 'data', long.subarray(60)], [1, 'note', Buffer.from('kept')]]) },
        { ino: 13, kind: 'symlink', target, iflags: EXT4_INLINE_DATA_FL, iblock: Buffer.from(target.slice(0, 60)), ea: ext2EaBlock([[7, 'data', Buffer.from(target.slice(60))]]) },
        // mke2fs -d makes an all-hole file an inline one larger than its inline data
        { ino: 14, kind: 'file', size: 100000, ...inline, iblock: Buffer.alloc(60), ea: ext2EaBlock([[7, 'data', Buffer.alloc(0)]]) },
        { ino: 15, kind: 'file', data: Buffer.from('not inline') },
      ],
    }),
  ]);
  const got = new Map((await entriesOf(buf)).map((g) => [g.e.path, g]));
  t.same(got.get('small')?.content, small);
  t.same(got.get('long')?.content, long);
  t.same(got.get('long')?.e.xattrs, { 'SCHILY.xattr.user.note': Buffer.from('kept') }, 'system.data is not passed on as an xattr');
  t.equal(got.get('link')?.e.linkTarget, target);
  t.same(got.get('holey')?.content, Buffer.alloc(100000));
  t.ok((got.get('holey')?.e.sparse?.length ?? 0) <= 1, 'the part past the inline data is a hole');
  t.same(got.get('plain')?.content, Buffer.from('not inline'));
});

const isRoot = process.getuid?.() === 0;
const have = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const liveSkip = !isRoot ? 'needs root (loop device)' : !['mke2fs', 'losetup', 'dump'].every(have) ? 'mke2fs, losetup or dump missing' : false;

t.test('real dump of an ext4 inline_data file system extracts like its source', { skip: liveSkip }, async (t) => {
  const work = tmpdir('zonep2v-dump-inline-');
  t.teardown(() => fs.rmSync(work, { recursive: true, force: true }));
  const src = path.join(work, 'src');
  fs.mkdirSync(path.join(src, 'd'), { recursive: true });
  fs.writeFileSync(path.join(src, 'd', 'tiny'), 'hello\n');
  fs.writeFileSync(path.join(src, 'd', 'mid'), 'x'.repeat(100));
  fs.writeFileSync(path.join(src, 'big'), Buffer.alloc(9000, 7));
  fs.symlinkSync('b'.repeat(60), path.join(src, 'l60'));
  fs.symlinkSync('s'.repeat(30), path.join(src, 'l30'));
  for (const p of ['d/tiny', 'd/mid', 'big', 'd', '']) fs.utimesSync(path.join(src, p), 1e9, 1e9);
  const img = path.join(work, 'img');
  fs.writeFileSync(img, '');
  fs.truncateSync(img, 16 << 20);
  let loop = '';
  try {
    execFileSync('mke2fs', ['-q', '-F', '-t', 'ext4', '-b', '4096', '-I', '256', '-O', 'inline_data', '-d', src, img], { stdio: ['ignore', 'ignore', 'pipe'] });
    loop = execFileSync('losetup', ['-f', '--show', '-r', img], { encoding: 'utf8' }).trim();
    execFileSync('dump', ['-0', '-q', '-f', path.join(work, 'x.dump'), loop], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    t.comment(`cannot make the dump: ${(e as Error).message.split('\n')[0]}`);
    return;
  } finally {
    if (loop) execFileSync('losetup', ['-d', loop]);
  }
  const out = path.join(work, 'out');
  fs.mkdirSync(out);
  const r = await runCli(['extract', '-a', path.join(work, 'x.dump'), '-C', out]);
  t.equal(r.code, 0, r.stderr);
  t.notMatch(r.stderr, /extended attributes/, 'ext4\'s system.data EA is not reported as an xattr');
  const diffs = diffTrees(snapshot(src), snapshot(out), { exclude: (rel) => rel === 'lost+found', ignoreDirMtime: true });
  t.same(diffs, []);
});
