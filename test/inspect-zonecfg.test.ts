// inspect reads the zone's configuration as install does: with --zone and
// no --zone-config, from `zonecfg -z NAME info` where zonecfg is on PATH. A
// sparse-root zone is then a blocker in both (install refuses it with 253);
// a zone zonecfg does not know is inspected with the options, with a warning.

import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { tmpdir } from './lib/tree.js';
import { fakeSolarisBin, runCli } from './lib/cli.js';
import { miniImage } from './lib/mini-image.js';

const work = tmpdir('zonep2v-inspect-zonecfg-');
t.teardown(() => fs.rmSync(work, { recursive: true, force: true }));
const img = path.join(work, 'image');
const host = path.join(work, 'host');
t.before(() => miniImage(img, host, ['var/log']));

const SPARSE = 'zonename: web1\nzonepath: /zones/web1\nbrand: native\nautoboot: false\nip-type: shared\ninherit-pkg-dir:\n\tdir: /usr\n';

t.test('a sparse-root zone in zonecfg: install refuses it, inspect says so', async (t) => {
  const { env } = fakeSolarisBin(path.join(work, 'bin-sparse'), { zonecfgInfo: SPARSE });
  const x = await runCli(['install', 'web1', path.join(work, 'zp'), '-d', img, '-p', '--host-root', host, '--log', path.join(work, 'x.log')], { env });
  t.equal(x.code, 253, 'install refuses the sparse zone');
  t.match(x.stderr, /must be configured as a whole-root zone/);
  const i = await runCli(['inspect', '-d', img, '-p', '--host-root', host, '--zone', 'web1', '--json'], { env });
  t.equal(i.code, 1, 'inspect: an install would fail');
  const doc = JSON.parse(i.stdout);
  t.ok(doc.issues.some((x: { id: string; severity: string; message: string }) => x.id === 'zonecfg' && x.severity === 'blocker' && /whole-root/.test(x.message)), 'the blocker is the whole-root refusal');
});

t.test('a zone zonecfg does not know: inspected with the options, with a warning', async (t) => {
  const dir = path.join(work, 'bin-none');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'zonecfg'), '#!/bin/sh\necho "web2: No such zone configured" >&2\nexit 1\n', { mode: 0o755 });
  const env = { ...process.env, PATH: `${dir}:${process.env.PATH}` };
  const i = await runCli(['inspect', '-d', img, '-p', '--host-root', host, '--zone', 'web2', '--json'], { env });
  t.equal(i.code, 0, i.stderr);
  const doc = JSON.parse(i.stdout);
  t.ok(doc.issues.some((x: { id: string; severity: string; message: string }) => x.id === 'zonecfg' && x.severity === 'warning' && /No such zone configured/.test(x.message)));
});
