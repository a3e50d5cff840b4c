// cpio links by inode, not by name: when the name of a link group's file is
// taken over by a later member (a symlink, say), the group's later members
// must not become hard links to that new occupant. Found by randomised
// differential testing (pax sv4cpio of names truncated to one path); GNU
// cpio keeps the file data there too.

import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { tmpdir } from './lib/tree.js';
import { runCli } from './lib/cli.js';

const rootOnly = process.getuid?.() === 0 ? {} : { skip: 'needs root' };

function newc(name: string, ino: number, mode: number, nlink: number, data: string): Buffer {
  const n = Buffer.from(name + '\0');
  const d = Buffer.from(data);
  const f = [ino, mode, 0, 0, nlink, 1_700_000_000, d.length, 0, 0, 0, 0, n.length, 0];
  const h = Buffer.from('070701' + f.map((v) => v.toString(16).toUpperCase().padStart(8, '0')).join(''));
  const pad = (b: Buffer) => Buffer.alloc((4 - (b.length % 4)) % 4);
  const head = Buffer.concat([h, n]);
  return Buffer.concat([head, pad(head), d, pad(d)]);
}

function odc(name: string, ino: number, mode: number, nlink: number, data: string): Buffer {
  const n = Buffer.from(name + '\0');
  const d = Buffer.from(data);
  const o = (v: number, w: number) => v.toString(8).padStart(w, '0');
  const h = Buffer.from('070707' + o(1, 6) + o(ino, 6) + o(mode, 6) + o(0, 6) + o(0, 6) + o(nlink, 6) + o(0, 6) + o(1_700_000_000, 11) + o(n.length, 6) + o(d.length, 11));
  return Buffer.concat([h, n, d]);
}

for (const [fmt, mk] of [['newc', newc], ['odc', odc]] as const) {
  t.test(`${fmt}: a link group's name replaced by a symlink`, rootOnly, async (t) => {
    const work = tmpdir('zonep2v-cpio-relink-');
    t.teardown(() => fs.rmSync(work, { recursive: true, force: true }));
    const arc = path.join(work, 'a.cpio');
    fs.writeFileSync(arc, Buffer.concat([
      mk('a', 5, 0o100644, 3, 'hello'),
      mk('a', 6, 0o120777, 1, '/etc/passwd'),
      mk('b', 5, 0o100644, 3, 'hello'),
      mk('c', 5, 0o100644, 3, 'hello'),
      mk('TRAILER!!!', 0, 0, 1, ''),
      Buffer.alloc(512),
    ]));
    const out = path.join(work, 'out');
    fs.mkdirSync(out);
    const r = await runCli(['extract', '-a', arc, '-C', out]);
    t.equal(r.code, 0, r.stderr);
    t.equal(fs.readlinkSync(path.join(out, 'a')), '/etc/passwd', 'a is the symlink that replaced the file');
    const b = fs.lstatSync(path.join(out, 'b'));
    t.ok(b.isFile(), 'b is a regular file, not a link to the symlink');
    t.equal(fs.readFileSync(path.join(out, 'b'), 'utf8'), 'hello');
    t.equal(fs.lstatSync(path.join(out, 'c')).ino, b.ino, 'c links to b');
  });
}
