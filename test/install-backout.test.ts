// install -b: update on attach backs the named patches out of the zone
// before it compares the zone's packages with the host's (solaris-p2v.md
// 4.2), so the offline downgrade check must compare the image without them,
// and refuse, with Solaris's words, a patch that is not installed or that
// was installed without backout data.

import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { checkBackout, withoutPatches } from '../src/attach/backout.js';
import { buildInventory, emptyRaw } from '../src/attach/inventory.js';
import { parsePkginfo } from '../src/attach/pkginfo.js';
import { tmpdir } from './lib/tree.js';
import { runCli } from './lib/cli.js';
import { miniImage, put } from './lib/mini-image.js';

const work = tmpdir('zonep2v-backout-');
t.teardown(() => fs.rmSync(work, { recursive: true, force: true }));

// SUNWcsr as patchadd leaves it: 119999-03 then -05 over it, each with undo data.
const CSR_BASE = [
  'PKG=SUNWcsr',
  'NAME=Core Solaris, (Root)',
  'ARCH=sparc',
  'VERSION=11.10.0,REV=2005.01.21.15.53',
  'SUNW_PKG_ALLZONES=true',
  'SUNW_PKG_HOLLOW=false',
  'SUNW_PKG_THISZONE=false',
  'CATEGORY=system',
  'BASEDIR=/',
];
const CSR_IMAGE = [
  ...CSR_BASE,
  'PATCHLIST=119999-03 119999-05',
  'PATCH_INFO_119999-03=Installed: Mon Mar 10 14:05:09 PDT 2008 From: legacy01 Obsoletes:  Requires:  Incompatibles: ',
  'PATCH_INFO_119999-05=Installed: Tue Mar 10 14:05:09 PDT 2009 From: legacy01 Obsoletes:  Requires:  Incompatibles: ',
  '',
].join('\n');
const CSR_HOST = [
  ...CSR_BASE,
  'PATCHLIST=119999-03',
  'PATCH_INFO_119999-03=Installed: Mon Mar 10 14:05:09 PDT 2008 From: host01 Obsoletes:  Requires:  Incompatibles: ',
  '',
].join('\n');

const img = path.join(work, 'image');
const host = path.join(work, 'host');
t.before(() => {
  miniImage(img, host);
  put(img, 'var/sadm/pkg/SUNWcsr/pkginfo', CSR_IMAGE);
  put(img, 'var/sadm/pkg/SUNWcsr/save/119999-03/undo.Z', '\x1f\x9d\x90');
  put(img, 'var/sadm/pkg/SUNWcsr/save/119999-05/undo.Z', '\x1f\x9d\x90');
  put(host, 'var/sadm/pkg/SUNWcsr/pkginfo', CSR_HOST);
});

const install = (zp: string, extra: string[]) =>
  runCli(['install', 'z1', zp, '-d', img, '-p', '--ip-type', 'shared', '--host-root', host, '--log', `${zp}.log`, ...extra]);

t.test('without -b the image patch newer than the host is a downgrade', async (t) => {
  const r = await install(path.join(work, 'zp-plain'), []);
  t.equal(r.code, 254, r.stderr);
  t.match(r.stderr, /the source had patch 119999-05 but this system only has 119999-03/);
});

t.test('-b of that patch: the comparison sees the image without it, the install succeeds', async (t) => {
  const zp = path.join(work, 'zp-b');
  const r = await install(zp, ['-b', '119999-05']);
  t.equal(r.code, 0, r.stderr);
  t.notMatch(r.stderr, /downgrade/);
  t.ok(fs.existsSync(path.join(zp, 'SUNWdetached.xml')));
});

t.test('-b of a patch the image does not have, or has without backout data, is refused', async (t) => {
  let r = await install(path.join(work, 'zp-missing'), ['-b', '119998-01']);
  t.equal(r.code, 254, r.stderr);
  t.match(r.stderr, /^The following patches cannot be removed:\n\t119998-01 is not installed$/m);
  fs.rmSync(path.join(img, 'var/sadm/pkg/SUNWcsr/save/119999-05'), { recursive: true });
  t.teardown(() => put(img, 'var/sadm/pkg/SUNWcsr/save/119999-05/undo.Z', '\x1f\x9d\x90'));
  r = await install(path.join(work, 'zp-noundo'), ['-b', '119999-05']);
  t.equal(r.code, 254, r.stderr);
  t.match(r.stderr, /^The following patches cannot be removed:\n\t119999-05 was installed without creating its backout data$/m);
  t.match(r.stderr, /Updating the Zone software failed/);
});

t.test('withoutPatches: a lower installed revision shows again; checkBackout on the raw data', async (t) => {
  const raw = emptyRaw();
  raw.pkginfo.set('SUNWcsr', parsePkginfo(CSR_IMAGE));
  raw.backoutData.add('SUNWcsr 119999-05');
  t.same(checkBackout(raw, ['119999-05']), []);
  t.same(checkBackout(raw, ['119999-03']), ['The following patches cannot be removed:', '\t119999-03 was installed without creating its backout data']);
  t.equal(buildInventory(raw).packages.get('SUNWcsr')!.patches.get('119999')!.rev, '05');
  const after = buildInventory(withoutPatches(raw, ['119999-05']));
  t.equal(after.packages.get('SUNWcsr')!.patches.get('119999')!.rev, '03');
  t.equal(buildInventory(raw).packages.get('SUNWcsr')!.patches.get('119999')!.rev, '05', 'the raw data is not changed');
});

t.test('inspect -b judges as install -b does', async (t) => {
  const inspect = (extra: string[]) => runCli(['inspect', '-d', img, '-p', '--ip-type', 'shared', '--host-root', host, ...extra]);
  let r = await inspect([]);
  t.equal(r.code, 1, r.stderr);
  t.match(r.stdout, /119999-05/);
  r = await inspect(['-b', '119999-05']);
  t.equal(r.code, 0, r.stdout + r.stderr);
  r = await inspect(['-b', '119998-01']);
  t.equal(r.code, 1);
  t.match(r.stdout, /The following patches cannot be removed: 119998-01 is not installed/);
  r = await inspect(['-b', 'nonsense']);
  t.equal(r.code, 253);
});
