// p2v's safe_dir (solaris-p2v.md 3.1): an image whose etc/dfs, etc/zones, etc
// or var is a symlink is refused ("Invalid '%s' directory within the zone",
// Postprocessing failed), as the edits p2v makes there would follow it.

import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { tmpdir } from './lib/tree.js';
import { runCli } from './lib/cli.js';
import { miniImage, put } from './lib/mini-image.js';

const work = tmpdir('zonep2v-safedir-');
t.teardown(() => fs.rmSync(work, { recursive: true, force: true }));

const img = path.join(work, 'image');
const host = path.join(work, 'host');
t.before(() => {
  miniImage(img, host, ['etc/zones', 'export/dfs']);
  put(img, 'export/dfs/dfstab', 'share -F nfs -o rw /export/home\n');
  fs.symlinkSync('../export/dfs', path.join(img, 'etc/dfs'));
});

t.test('etc/dfs a symlink: the install fails (254) with Solaris words, nothing left', async (t) => {
  const zp = path.join(work, 'zp');
  const r = await runCli(['install', 'z1', zp, '-d', img, '-p', '--ip-type', 'shared', '--host-root', host, '--log', `${zp}.log`]);
  t.equal(r.code, 254, r.stderr);
  t.match(r.stderr, /^ {3}Postprocess: Invalid '\/etc\/dfs' directory within the zone \(symlink\)$/m);
  t.match(r.stderr, /Result: Postprocessing failed\./);
  t.same(fs.readdirSync(path.join(zp, 'root')), [], 'zone root emptied');
  const i = await runCli(['inspect', '-d', img, '--host-root', host]);
  t.match(i.stdout, /Issue \(blocker, p2v\): Invalid '\/etc\/dfs' directory within the zone/);
});
