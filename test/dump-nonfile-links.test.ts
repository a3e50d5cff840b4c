// A FIFO, device node, socket or symlink inode with several names (ext4
// keeps hard links to them; mke2fs -d and dump 0.4b carry them into the
// dump, restore -r links them). The sink only hard-links regular files this
// run wrote, so a 'hardlink' entry to a FIFO failed the whole extraction, and
// one to a device node (never created in a zone) failed it as "not extracted
// by this run". Like the cpio reader, the dump parser yields every name of a
// non-regular inode as an entry of its own type. Found by randomised
// differential testing against restore -r.

import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import type { Entry } from '../src/entry.js';
import { ByteReader } from '../src/source/reader.js';
import { parseDump } from '../src/formats/dump.js';
import { makeContext } from '../src/formats/types.js';
import { synthDump } from './lib/dump-synth.js';
import { tmpdir } from './lib/tree.js';
import { runCli } from './lib/cli.js';

const rootOnly = process.getuid?.() === 0 ? {} : { skip: 'needs root (owners, mkfifo as in a zone install)' };

function dump(order: 'le' | 'be'): Buffer {
  return Buffer.concat([
    ...synthDump({
      order,
      flavour: 'linux',
      maxino: 32,
      dirs: [
        { ino: 2, kind: 'dir', parent: 2, entries: [['a', 3], ['b', 4]] },
        { ino: 3, kind: 'dir', parent: 2, entries: [['p', 11], ['d', 12], ['s', 13], ['l', 14], ['f', 15]] },
        { ino: 4, kind: 'dir', parent: 2, entries: [['p2', 11], ['d2', 12], ['s2', 13], ['l2', 14], ['f2', 15]] },
      ],
      files: [
        { ino: 11, kind: 'fifo', perm: 0o640, uid: 7, gid: 8, nlink: 2 },
        { ino: 12, kind: 'char', perm: 0o600, rdev: [1, 3], nlink: 2 },
        { ino: 13, kind: 'socket', perm: 0o755, nlink: 2 },
        { ino: 14, kind: 'symlink', target: 'somewhere/else', nlink: 2 },
        { ino: 15, kind: 'file', data: Buffer.from('shared\n'), nlink: 2 },
      ],
    }),
  ]);
}

async function entriesOf(buf: Buffer): Promise<Entry[]> {
  const r = new ByteReader((async function* () { yield buf; })());
  const out: Entry[] = [];
  for await (const e of parseDump(r, makeContext({}))) out.push(e);
  return out;
}

t.test('parser: further names of a non-regular inode are entries of its own type', async (t) => {
  for (const order of ['le', 'be'] as const) {
    const by = new Map((await entriesOf(dump(order))).map((e) => [e.path, e]));
    for (const [a, b, type] of [['a/p', 'b/p2', 'fifo'], ['a/d', 'b/d2', 'char'], ['a/s', 'b/s2', 'socket'], ['a/l', 'b/l2', 'symlink']] as const) {
      const x = by.get(a)!;
      const y = by.get(b)!;
      t.equal(x.type, type, `${order} ${a}`);
      t.equal(y.type, type, `${order} ${b}: its own ${type}, not a hard link`);
      t.same([y.mode, y.uid, y.gid, y.mtime, y.linkTarget, y.devMajor, y.devMinor], [x.mode, x.uid, x.gid, x.mtime, x.linkTarget, x.devMajor, x.devMinor], `${order} ${b}: same metadata as ${a}`);
    }
    t.equal(by.get('b/d2')!.devMinor, 3);
    t.equal(by.get('b/l2')!.linkTarget, 'somewhere/else');
    // regular files keep their hard links
    t.equal(by.get('a/f')!.type, 'file');
    t.equal(by.get('b/f2')!.type, 'hardlink');
    t.equal(by.get('b/f2')!.linkTarget, 'a/f');
  }
});

t.test('extract: a dump with linked FIFOs, devices and symlinks extracts', rootOnly, async (t) => {
  const work = tmpdir('zonep2v-dump-nonfile-links-');
  t.teardown(() => fs.rmSync(work, { recursive: true, force: true }));
  const archive = path.join(work, 'links.dump');
  fs.writeFileSync(archive, dump('le'));
  const out = path.join(work, 'out');
  fs.mkdirSync(out);
  const r = await runCli(['extract', '-a', archive, '-C', out]);
  t.equal(r.code, 0, r.stderr);
  for (const p of ['a/p', 'b/p2']) {
    const st = fs.lstatSync(path.join(out, p));
    t.ok(st.isFIFO(), `${p} is a FIFO`);
    t.equal(st.mode & 0o7777, 0o640, `${p} mode`);
    t.same([st.uid, st.gid], [7, 8], `${p} owner`);
  }
  for (const p of ['a/l', 'b/l2']) t.equal(fs.readlinkSync(path.join(out, p)), 'somewhere/else', `${p} target`);
  for (const p of ['a/d', 'b/d2', 'a/s', 'b/s2']) t.notOk(fs.existsSync(path.join(out, p)), `${p}: device nodes and sockets are not created`);
  t.match(r.stderr, /character device 1,3 not created/);
  const f = fs.lstatSync(path.join(out, 'a/f'));
  const f2 = fs.lstatSync(path.join(out, 'b/f2'));
  t.equal(f2.ino, f.ino, 'regular files stay hard-linked');
});
