// Zone configuration readers: etc/zones/<zone>.xml and `zonecfg info` text,
// for an exclusive-IP zone with one net and a sparse zone (refused).

import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkWholeRoot, parseZonecfgInfo, parseZoneXml, readZonecfg, validZoneName, type ParsedZone } from '../src/attach/zonecfg.js';

const here = path.dirname(fileURLToPath(import.meta.url));
// Compiled tests run from dist/test; fixtures stay in the source tree.
const fixtures = path.resolve(here, '../../test/fixtures/attach');
const fixture = (name: string) => fs.readFileSync(path.join(fixtures, name), 'latin1');

const web1: ParsedZone = {
  name: 'web1',
  zonepath: '/zones/web1',
  brand: 'native',
  autoboot: false,
  ipType: 'exclusive',
  net: ['e1000g1'],
  netAddresses: [''],
  inheritPkgDirs: [],
  fs: [{ dir: '/data', special: '/dev/dsk/c1t0d0s7', type: 'ufs' }],
  datasets: ['tank/web1/data'],
};

const old1: ParsedZone = {
  name: 'old1',
  zonepath: '/zones/old1',
  autoboot: true,
  ipType: 'shared',
  net: ['bge0'],
  netAddresses: ['192.168.1.20/24'],
  inheritPkgDirs: ['/lib', '/platform', '/sbin', '/usr'],
  fs: [],
  datasets: [],
};

const SPARSE_MSG =
  "zone 'old1': the zone must be configured as a whole-root zone to be installed using a system image, " +
  "but it has inherit-pkg-dir resources (/lib /platform /sbin /usr); remove them (zonecfg -z old1 'remove inherit-pkg-dir dir=<dir>') or create the zone with 'create -b'";

t.test('zone XML: exclusive-IP zone with one net', async (t) => {
  const z = parseZoneXml(fixture('web1.xml'));
  t.same(z, web1);
  t.equal(checkWholeRoot(z), undefined, 'whole-root: accepted');
});

t.test('zone XML: sparse zone refused', async (t) => {
  const z = parseZoneXml(fixture('old1.xml'));
  t.same(z, old1);
  t.equal(checkWholeRoot(z), SPARSE_MSG);
});

t.test('zonecfg info text: exclusive-IP zone with one net', async (t) => {
  t.same(parseZonecfgInfo(fixture('web1.info')), web1);
});

t.test('zonecfg info text: sparse zone refused', async (t) => {
  const z = parseZonecfgInfo(fixture('old1.info'));
  t.same(z, { ...old1, brand: 'native' });
  t.equal(checkWholeRoot(z), SPARSE_MSG);
});

t.test('malformed configurations', async (t) => {
  t.throws(() => parseZoneXml('<zone zonepath="/z"/>'), { name: 'ZoneConfigError', message: /has no name/ });
  t.throws(() => parseZoneXml('<zone name="z">'), { name: 'ZoneConfigError', message: /not closed/ });
  t.throws(() => parseZoneXml('<config name="z"/>'), { message: /root element is <config>/ });
  t.throws(() => parseZonecfgInfo('zonepath: /z\n'), { message: /no "zonename:" line/ });
  t.same(parseZonecfgInfo('zonename: "q"\r\nzonepath: /z\r\nfs:\r\n\tdir: /a\r\n').fs, [{ dir: '/a', special: '', type: '' }], 'CRLF and quotes');
});

t.test('zone names', async (t) => {
  for (const ok of ['z1', 'web-1.prod_a', 'A'.repeat(64)]) t.ok(validZoneName(ok), ok);
  for (const bad of ['', '-z', '.z', 'a b', 'a/b', 'A'.repeat(65), 'z;rm']) t.notOk(validZoneName(bad), JSON.stringify(bad));
});

t.test('readZonecfg runs zonecfg -z NAME info', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zonecfg-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const argv = path.join(dir, 'argv');
  fs.writeFileSync(
    path.join(dir, 'zonecfg'),
    `#!/bin/sh\nprintf '%s\\n' "$@" > '${argv}'\nif [ "$2" = web1 ]; then cat '${path.join(fixtures, 'web1.info')}'; exit 0; fi\necho "$2: No such zone configured" >&2\nexit 1\n`,
    { mode: 0o755 },
  );
  const env = { PATH: `${dir}:/usr/bin:/bin` };
  t.same(await readZonecfg('web1', { env }), web1);
  t.equal(fs.readFileSync(argv, 'utf8'), '-z\nweb1\ninfo\n');
  await t.rejects(readZonecfg('nope', { env }), { name: 'ZoneConfigError', message: 'zonecfg -z nope info failed: nope: No such zone configured' });
  await t.rejects(readZonecfg('-F', { env }), { message: /invalid zone name/ });
  await t.rejects(readZonecfg('web1', { env: { PATH: path.join(dir, 'empty') } }), {
    message: /zonecfg is not on PATH \(this is not a Solaris host with zones\)/,
  });
});
