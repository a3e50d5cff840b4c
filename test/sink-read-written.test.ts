// FsSink.readWritten: the content a hard link to a path would share, for the
// rules (a link at etc/vfstab is rewritten as the file it links to). It
// must read only what a hard link there would be allowed to point at: a
// regular file this run wrote, reached without following a link.

import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { dir, setupEnv, sym, writeAllSpecs, type Spec } from './sink-lib.js';

for (const writer of ['sync', 'worker'] as const) {
  t.test(`${writer}: a file of this run is read back, even while still queued`, async (t) => {
    const env = setupEnv();
    t.teardown(env.cleanup);
    const s = env.sink({ writer, owners: false });
    const pads: Spec[] = [];
    for (let i = 0; i < 60; i++) pads.push({ path: `pad${i}`, data: crypto.randomBytes(32 * 1024) });
    await writeAllSpecs(s, [dir('etc'), ...pads, { path: 'etc/vfstab.keep', data: 'fd - /dev/fd fd - no -\n' }]);
    t.equal(s.readWritten('etc/vfstab.keep', 1024)?.toString(), 'fd - /dev/fd fd - no -\n');
    t.equal(s.readWritten('./etc/vfstab.keep', 1024)?.toString(), 'fd - /dev/fd fd - no -\n', 'an archive spelling of the name');
    t.equal(s.readWritten('etc/vfstab.keep', 10), null, 'over the cap');
    t.equal(s.readWritten('etc/missing', 1024), null, 'nothing there');
    t.equal(s.readWritten('etc', 1024), null, 'a directory');
    t.equal(s.readWritten('', 1024), null, 'the root');
    t.equal(s.readWritten('../canary/victim', 1024), null, 'outside the root');
    await s.finish();
    t.same(env.outside(), []);
  });
}

t.test('a symbolic link, or a path through one, is never followed', async (t) => {
  const env = setupEnv();
  t.teardown(env.cleanup);
  const s = env.sink({ owners: false });
  await writeAllSpecs(s, [{ path: 'real', data: 'inside' }, sym('to-victim', path.join(env.canary, 'victim')), sym('to-real', 'real'), sym('dirlink', env.canary)]);
  t.equal(s.readWritten('to-victim', 1024), null);
  t.equal(s.readWritten('to-real', 1024), null);
  t.equal(s.readWritten('dirlink/victim', 1024), null);
  await s.finish();
  t.same(env.outside(), []);
});

t.test('a file the root already had (not written by this run) is not read', async (t) => {
  const env = setupEnv((root) => {
    fs.mkdirSync(path.join(root, 'etc'));
    fs.writeFileSync(path.join(root, 'etc/shadow'), 'root:secret:::\n');
  });
  t.teardown(env.cleanup);
  const s = env.sink({ owners: false });
  await writeAllSpecs(s, [dir('etc'), { path: 'etc/mine', data: 'ours' }]);
  t.equal(s.readWritten('etc/shadow', 1024), null);
  t.equal(s.readWritten('etc/mine', 1024)?.toString(), 'ours');
  await s.finish();
});
