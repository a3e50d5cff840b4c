// inspect stops where install's filesystem sink would: an archive that
// writes through its own symlink, under its own file, replaces a non-empty
// directory, hard-links to nothing, or passes a --limit cap of the sink is a
// blocker naming install's own error (inspect exit 1, install 254); what the
// sink accepts (a file over a symlink, a directory over a file, a hard link
// to a symlink) is not (inspect 0, install 0).

import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { tmpdir } from './lib/tree.js';
import { runCli } from './lib/cli.js';
import { miniImage } from './lib/mini-image.js';
import { encodeTar, type HEntry } from './hostile/gen/entries.js';

const work = tmpdir('zonep2v-inspect-sink-');
t.teardown(() => fs.rmSync(work, { recursive: true, force: true }));
const host = path.join(work, 'host');
const env = { ...process.env, PATH: (process.env.PATH ?? '').split(':').filter((d) => !fs.existsSync(path.join(d, 'zonecfg')) && !fs.existsSync(path.join(d, 'zoneadm'))).join(':') };

/** A minimal native image (as test/lib/mini-image.ts lays it out), then `extra`. */
function image(extra: HEntry[]): HEntry[] {
  const dirs = ['etc', 'etc/svc', 'usr', 'usr/bin', 'sbin', 'lib', 'lib/svc', 'var', 'var/svc', 'var/log', 'var/sadm', 'var/sadm/system', 'var/sadm/system/admin', 'opt'];
  return [
    ...dirs.map((name): HEntry => ({ name, type: 'dir', mode: 0o755 })),
    { name: 'usr/bin/chmod', data: '' },
    { name: 'sbin/zonename', data: '' },
    { name: 'var/sadm/system/admin/INST_RELEASE', data: 'OS=Solaris\nVERSION=10\nREV=0\n' },
    ...extra,
  ];
}

t.before(() => miniImage(path.join(work, 'unused-image'), host));

async function both(name: string, extra: HEntry[], opts: string[] = []): Promise<{ inspect: { code: number | null; doc: { issues: { id: string; severity: string; message: string }[] } }; install: { code: number | null; stderr: string } }> {
  const archive = path.join(work, `${name}.tar`);
  fs.writeFileSync(archive, encodeTar(image(extra), 'pax'));
  const i = await runCli(['inspect', '-a', archive, '-p', '--host-root', host, '--json', ...opts], { env });
  const x = await runCli(['install', 'z1', path.join(work, 'zones', name), '-a', archive, '-p', '--host-root', host, '--log', path.join(work, `${name}.log`), ...opts], { env });
  return { inspect: { code: i.code, doc: JSON.parse(i.stdout) }, install: { code: x.code, stderr: x.stderr } };
}

const refused: [string, HEntry[], string[], RegExp][] = [
  ['through-symlink', [{ name: 'opt/x', type: 'symlink', link: '/etc' }, { name: 'opt/x/passwd', data: 'x\n' }], [], /the path goes through the symbolic link "opt\/x"/],
  ['parent-not-dir', [{ name: 'opt/a', data: 'a' }, { name: 'opt/a/b', data: 'b' }], [], /the path goes through "opt\/a", which is not a directory/],
  ['hardlink-missing', [{ name: 'opt/l', type: 'hardlink', link: 'opt/nothere' }], [], /hard-link target "opt\/nothere" was not extracted by this run/],
  ['not-empty', [{ name: 'opt/d', type: 'dir' }, { name: 'opt/d/f', data: 'x' }, { name: 'opt/d', data: 'y' }], [], /a file entry would replace a non-empty directory/],
  ['limit-bytes', [{ name: 'opt/big', data: Buffer.alloc(4096, 1) }], ['--limit', 'bytes=1K'], /would pass the limit of 1024 bytes/],
];

for (const [name, extra, opts, error] of refused) {
  t.test(`${name}: install fails, inspect names the same error as a blocker`, async (t) => {
    const r = await both(name, extra, opts);
    t.equal(r.install.code, 254, 'install fails');
    t.match(r.install.stderr, error);
    t.equal(r.inspect.code, 1, 'inspect: an install would fail');
    const blockers = r.inspect.doc.issues.filter((i) => i.severity === 'blocker');
    t.equal(blockers.length, 1);
    t.match(blockers[0]?.message ?? '', error);
    t.match(blockers[0]?.message ?? '', /an install would stop writing the zone root/);
  });
}

t.test('what the sink accepts is no blocker: a file over a symlink, a directory over a file, a hard link to a symlink', async (t) => {
  const r = await both('accepted', [
    { name: 'opt/s', type: 'symlink', link: '/etc/passwd' },
    { name: 'opt/s', data: 'x' },
    { name: 'opt/f', data: 'f' },
    { name: 'opt/f', type: 'dir' },
    { name: 'opt/t', type: 'symlink', link: 'x' },
    { name: 'opt/h', type: 'hardlink', link: 'opt/t' },
  ]);
  t.equal(r.install.code, 0, r.install.stderr);
  t.equal(r.inspect.code, 0, JSON.stringify(r.inspect.doc.issues.filter((i) => i.severity === 'blocker')));
});
