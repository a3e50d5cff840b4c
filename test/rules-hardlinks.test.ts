// Hard links to the files p2v holds back or deletes (an admin's `ln` copy of
// /etc/hostname.<if> kept elsewhere in the image). Archives name a hard
// link's target by the path of an earlier entry, so a link must not be
// emitted before its target, nor point at a file p2v removed: the sink
// refuses such a link and the whole install fails (exit 254).

import t from 'tap';
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { networkRule } from '../src/rules/network.js';
import { unconfigureRule } from '../src/rules/unconfigure.js';
import { applyRules } from '../src/rules/index.js';
import type { Entry } from '../src/entry.js';
import { makeImage } from '../samples/image.js';
import { makeHostRoot } from '../samples/host.js';
import { tmpdir } from './lib/tree.js';
import { runCli, fakeSolarisBin } from './lib/cli.js';
import { collectLinks, ent, file, fixture, from, linksResolve, makeCtx } from './rules-lib.js';

const CE0 = fixture('hostname.ce0');

const link = (p: string, target: string) => ent(p, 'hardlink', undefined, { linkTarget: target });

function image(): Entry[] {
  return [
    ent('./etc'),
    file('./etc/hostname.ce0', CE0),
    file('./etc/passwd', 'root:x:0:0:Super-User:/:/sbin/sh\n'),
    ent('./var/adm/netbak'),
    link('./var/adm/netbak/hostname.ce0', './etc/hostname.ce0'),
    link('./var/adm/netbak/hostname.ce0.2', './etc/hostname.ce0'),
  ];
}

t.test('exclusive-IP: hard links to the renamed hostname file follow it, to its new name', async (t) => {
  const ctx = makeCtx({ zone: { ipType: 'exclusive', net: ['vnic0'] } });
  const out = await collectLinks(networkRule.apply(from(image()), ctx));
  linksResolve(t, out);
  t.same(
    out.map((o) => [o.path, o.type, o.linkTarget ?? o.text ?? '']),
    [
      ['./etc', 'dir', ''],
      ['./etc/passwd', 'file', 'root:x:0:0:Super-User:/:/sbin/sh\n'],
      ['./var/adm/netbak', 'dir', ''],
      ['etc/hostname.vnic0', 'file', CE0.toString()],
      ['./var/adm/netbak/hostname.ce0', 'hardlink', 'etc/hostname.vnic0'],
      ['./var/adm/netbak/hostname.ce0.2', 'hardlink', 'etc/hostname.vnic0'],
    ],
  );
  t.match(ctx.report.toText(), 'network: var/adm/netbak/hostname.ce0: link target changed (hard link to etc/hostname.ce0, now to etc/hostname.vnic0)');
});

t.test('exclusive-IP: the one hostname.* name that is the archive hard link is renamed too', async (t) => {
  const ctx = makeCtx({ zone: { ipType: 'exclusive', net: ['vnic0'] } });
  const input = [file('./var/adm/hostname.bak', CE0), link('./etc/hostname.ce0', './var/adm/hostname.bak')];
  const out = await collectLinks(networkRule.apply(from(input), ctx));
  linksResolve(t, out);
  t.same(out.map((o) => [o.path, o.type]), [['./var/adm/hostname.bak', 'file'], ['etc/hostname.vnic0', 'hardlink']]);
  t.match(ctx.report.toText(), 'network: etc/hostname.ce0: renamed (to etc/hostname.vnic0)');
});

t.test('-u: a hard link to a deleted hostname file keeps the content as a regular file', async (t) => {
  const ctx = makeCtx({ identity: 'unconfigure' });
  const out = await collectLinks(unconfigureRule.apply(from(image()), ctx));
  linksResolve(t, out);
  const rows = out.filter((o) => o.path.includes('hostname')).map((o) => [o.path, o.type, o.linkTarget ?? o.text ?? '']);
  t.same(rows, [
    ['./var/adm/netbak/hostname.ce0', 'file', CE0.toString()],
    ['./var/adm/netbak/hostname.ce0.2', 'hardlink', './var/adm/netbak/hostname.ce0'],
  ]);
  const text = ctx.report.toText();
  t.match(text, 'unconfigure: etc/hostname.ce0: deleted (interface configuration)');
  t.match(text, 'links: var/adm/netbak/hostname.ce0: kept as a regular file (it was a hard link to etc/hostname.ce0, which p2v changed, deleted, renamed or held back)');
});

t.test('exclusive-IP and -u chained: renamed, then deleted; the links keep the content', async (t) => {
  const ctx = makeCtx({ zone: { ipType: 'exclusive', net: ['vnic0'] }, identity: 'unconfigure' });
  const out = await collectLinks(applyRules(from(image()), [networkRule, unconfigureRule], ctx));
  linksResolve(t, out);
  t.same(
    out.filter((o) => o.path.includes('hostname')).map((o) => [o.path, o.type]),
    [['./var/adm/netbak/hostname.ce0', 'file'], ['./var/adm/netbak/hostname.ce0.2', 'hardlink']],
  );
});

t.test('install: an image with a hard link to /etc/hostname.<if> installs (tar)', async (t) => {
  const work = tmpdir('zonep2v-hl-');
  t.teardown(() => fs.rmSync(work, { recursive: true, force: true }));
  const img = path.join(work, 'image');
  const host = path.join(work, 'host');
  await makeImage(img, { files: 60, bytes: 1 << 18, nestedZones: false });
  makeHostRoot(img, host);
  fs.mkdirSync(path.join(img, 'var/adm/netbak'), { recursive: true });
  fs.linkSync(path.join(img, 'etc/hostname.e1000g0'), path.join(img, 'var/adm/netbak/hostname.e1000g0'));
  const tar = path.join(work, 'image.tar');
  const r = spawnSync('tar', ['-cf', tar, '-C', img, '.'], { encoding: 'utf8' });
  t.equal(r.status, 0, r.stderr);
  const { env } = fakeSolarisBin(path.join(work, 'bin'));
  for (const [name, args] of [
    ['excl', ['-p', '--ip-type', 'exclusive', '--net', 'physical=vnic0']],
    ['unconf', ['-u', '--ip-type', 'shared']],
  ] as const) {
    const zp = path.join(work, name);
    fs.mkdirSync(zp, { mode: 0o700 });
    const res = await runCli(['install', name, zp, '-a', tar, ...args, '--host-root', host, '--log', path.join(work, `${name}.log`)], { env });
    t.equal(res.code, 0, `${name}: ${res.stdout}${res.stderr}`);
    const root = path.join(zp, 'root');
    t.equal(fs.readFileSync(path.join(root, 'var/adm/netbak/hostname.e1000g0'), 'latin1'), fs.readFileSync(path.join(img, 'etc/hostname.e1000g0'), 'latin1'), `${name}: the linked copy keeps its content`);
    if (name === 'excl') t.equal(fs.statSync(path.join(root, 'etc/hostname.vnic0')).ino, fs.statSync(path.join(root, 'var/adm/netbak/hostname.e1000g0')).ino, 'still one file');
    else t.notOk(fs.existsSync(path.join(root, 'etc/hostname.e1000g0')), 'the interface file is deleted');
  }
});
