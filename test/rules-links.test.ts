// Hard links and the files the rules change (src/rules/links.ts): a link at
// a path a rule rewrites reaches the rule as the file it links to, and a
// link to a file a rule changed, held back, deleted or renamed becomes a
// regular file with that file's content, so that no link points at nothing
// (the sink would fail the whole install) and no name loses its data.

import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { applyRules, defaultRules, liveUpgradeRule, unconfigureRule, vfstabRule } from '../src/rules/index.js';
import { bufferBody, type Entry } from '../src/entry.js';
import { makeImage } from '../samples/image.js';
import { makeHostRoot } from '../samples/host.js';
import { tmpdir } from './lib/tree.js';
import { runCli, fakeSolarisBin } from './lib/cli.js';
import { TRAILER, collectLinks, ent, file, from, linksResolve, makeCtx, type Out } from './rules-lib.js';

type Row = Out & { linkTarget?: string };

const link = (p: string, target: string) => ent(p, 'hardlink', undefined, { linkTarget: target });
const VFSTAB = '#device\tdevice\tmount\tFS\tfsck\tmount\tmount\n/dev/dsk/c0t0d0s0\t/dev/rdsk/c0t0d0s0\t/\tufs\t1\tno\t-\nswap\t-\t/tmp\ttmpfs\t-\tyes\t-\n';
const NSSWITCH = 'passwd: files nis\nhosts: nis files\n';
const NSSWITCH_FILES = 'passwd: files\nhosts: files\n';

const row = (out: Row[], p: string) => out.find((o) => o.path.replace(/^\.\//, '') === p);

/** A context whose readWritten serves the files the rules passed on, as the install's file writer would. */
function writtenCtx(over: Parameters<typeof makeCtx>[0] = {}) {
  const ctx = makeCtx(over);
  const written = new Map<string, Buffer>();
  ctx.readWritten = (rel, cap) => {
    const b = written.get(rel);
    return b !== undefined && b.length <= cap ? b : null;
  };
  async function* record(it: AsyncIterable<Entry>): AsyncIterable<Entry> {
    for await (const e of it) {
      if (e.type === 'file') {
        const parts: Buffer[] = [];
        for await (const c of e.body()) parts.push(c);
        const b = Buffer.concat(parts);
        written.set(e.path.replace(/^\.\//, ''), b);
        e.body = bufferBody(b);
      }
      yield e;
    }
  }
  return { ctx, record };
}

t.test('a hard link at etc/vfstab is rewritten as the file it links to; the other name keeps the original', async (t) => {
  const { ctx, record } = writtenCtx();
  const input = [ent('./etc'), ent('./var/adm'), file('./var/adm/vfstab.keep', VFSTAB), link('./etc/vfstab', './var/adm/vfstab.keep')];
  const out = await collectLinks(record(applyRules(from(input), [vfstabRule], ctx)));
  linksResolve(t, out);
  t.equal(row(out, 'var/adm/vfstab.keep')!.text, VFSTAB, 'the other name is untouched');
  const v = row(out, 'etc/vfstab')!;
  t.equal(v.type, 'file');
  t.equal(v.text, `#device\tdevice\tmount\tFS\tfsck\tmount\tmount\n# /dev/dsk/c0t0d0s0\t/dev/rdsk/c0t0d0s0\t/\tufs\t1\tno\t-\nswap\t-\t/tmp\ttmpfs\t-\tyes\t-\n${TRAILER}\n`);
  t.equal(row(out, 'etc/vfstab.pre_p2v')!.text, VFSTAB, 'the backup holds the linked content');
  const text = ctx.report.toText();
  t.match(text, 'links: etc/vfstab: made a regular file (it was a hard link to var/adm/vfstab.keep; p2v changes this name only)');
  t.match(text, 'vfstab: etc/vfstab: commented out (1 line)');
});

t.test('without a way to read what was written (convert), a link at etc/vfstab is left as it was', async (t) => {
  const ctx = makeCtx();
  const input = [file('./var/adm/vfstab.keep', VFSTAB), link('./etc/vfstab', './var/adm/vfstab.keep')];
  const out = await collectLinks(applyRules(from(input), [vfstabRule], ctx));
  t.same(out.map((o) => [o.path, o.type]), [['./var/adm/vfstab.keep', 'file'], ['./etc/vfstab', 'hardlink']]);
  t.match(ctx.report.toText(), "vfstab: etc/vfstab: not changed (Invalid '/etc/vfstab' file within the zone (hardlink))");
  t.match(ctx.report.toText(), 'links: etc/vfstab: left a hard link (to var/adm/vfstab.keep: an install makes it a regular file and changes it)', 'what an install does instead is said');
});

t.test('a link to a file p2v rewrote keeps the original content, whichever name comes first', async (t) => {
  const { ctx, record } = writtenCtx();
  const input = [file('./etc/vfstab', VFSTAB), link('./var/adm/vfstab.keep', './etc/vfstab'), link('./var/adm/vfstab.2', './etc/vfstab')];
  const out = await collectLinks(record(applyRules(from(input), [vfstabRule], ctx)));
  linksResolve(t, out);
  t.same(out.map((o) => [o.path, o.type]), [['./etc/vfstab', 'file'], ['./var/adm/vfstab.keep', 'file'], ['./var/adm/vfstab.2', 'hardlink'], ['etc/vfstab.pre_p2v', 'file']]);
  t.equal(row(out, 'var/adm/vfstab.keep')!.text, VFSTAB);
  t.match(row(out, 'etc/vfstab')!.text, TRAILER);
});

t.test('a link to a file a rule read and passed on unchanged stays a hard link', async (t) => {
  const { ctx, record } = writtenCtx();
  const kept = '#device\tdevice\tmount\tFS\tfsck\tmount\tmount\nfd\t-\t/dev/fd\tfd\t-\tno\t-\n';
  const input = [file('./etc/vfstab', kept), link('./var/adm/vfstab.keep', './etc/vfstab')];
  const out = await collectLinks(record(applyRules(from(input), [vfstabRule], ctx)));
  linksResolve(t, out);
  t.equal(row(out, 'var/adm/vfstab.keep')!.type, 'hardlink');
  t.notMatch(ctx.report.toText(), 'links:');
});

t.test('-u: links to nsswitch.conf, held until nsswitch.files and then restored from it, keep the content it had', async (t) => {
  const { ctx, record } = writtenCtx({ identity: 'unconfigure' });
  const input = [
    ent('./etc'),
    file('./etc/nsswitch.conf', NSSWITCH),
    ent('./export'),
    link('./export/ns.bak', './etc/nsswitch.conf'),
    link('./export/ns.bak2', './etc/nsswitch.conf'),
    file('./etc/nsswitch.files', NSSWITCH_FILES),
    link('./export/ns.late', './etc/nsswitch.conf'),
  ];
  const out = await collectLinks(record(applyRules(from(input), [unconfigureRule], ctx)));
  linksResolve(t, out);
  t.same(
    out.filter((o) => o.path.includes('ns')).map((o) => [o.path, o.type, o.linkTarget ?? o.text]),
    [
      ['./export/ns.bak', 'file', NSSWITCH],
      ['./export/ns.bak2', 'hardlink', './export/ns.bak'],
      ['./etc/nsswitch.files', 'file', NSSWITCH_FILES],
      ['./etc/nsswitch.conf', 'file', NSSWITCH_FILES],
      ['./export/ns.late', 'hardlink', './export/ns.bak'],
    ],
  );
  t.match(ctx.report.toText(), 'links: export/ns.bak: kept as a regular file (it was a hard link to etc/nsswitch.conf, which p2v changed, deleted, renamed or held back)');
});

t.test('a link to etc/lutab, deleted at the end, keeps its content; a link at an LU state file is deleted', async (t) => {
  const { ctx, record } = writtenCtx();
  const LUTAB = '1:s10u8:C:0\n';
  const input = [
    ent('./etc'),
    file('./etc/lutab', LUTAB),
    link('./var/lutab.copy', './etc/lutab'),
    file('./var/be.keep', 'LUBECF_BE_ID=1\n'),
    ent('./etc/lu'),
    link('./etc/lu/.BE_CONFIG', './var/be.keep'),
  ];
  const out = await collectLinks(record(applyRules(from(input), [liveUpgradeRule], ctx)));
  linksResolve(t, out);
  t.same(out.map((o) => [o.path, o.type]), [
    ['./etc', 'dir'],
    ['./var/lutab.copy', 'file'],
    ['./var/be.keep', 'file'],
    ['./etc/lu', 'dir'],
  ]);
  t.equal(row(out, 'var/lutab.copy')!.text, LUTAB);
});

t.test('-u: a hard link at etc/nodename is deleted like the file, and its name still clears the host tables', async (t) => {
  const { ctx, record } = writtenCtx({ identity: 'unconfigure' });
  const input = [
    ent('./etc'),
    file('./etc/name.keep', 'legacy07\n'),
    link('./etc/nodename', './etc/name.keep'),
    ent('./etc/net'),
    ent('./etc/net/ticlts'),
    file('./etc/net/ticlts/hosts', 'legacy07\tlegacy07\nother\tother\n'),
  ];
  const out = await collectLinks(record(applyRules(from(input), [unconfigureRule], ctx)));
  linksResolve(t, out);
  t.notOk(row(out, 'etc/nodename'), 'etc/nodename deleted');
  t.equal(row(out, 'etc/name.keep')!.text, 'legacy07\n');
  t.equal(row(out, 'etc/net/ticlts/hosts')!.text, 'other\tother\n');
});

// End to end, with archives GNU tar and GNU cpio wrote: the member order is
// given, so that each link lands where the case needs it.
t.test('install: hard links at and to the files p2v changes (GNU tar and GNU cpio archives)', async (t) => {
  const work = tmpdir('zonep2v-links-');
  t.teardown(() => fs.rmSync(work, { recursive: true, force: true }));
  const img = path.join(work, 'image');
  const host = path.join(work, 'host');
  await makeImage(img, { files: 60, bytes: 1 << 18, nestedZones: false });
  makeHostRoot(img, host);
  const vfstab = fs.readFileSync(path.join(img, 'etc/vfstab'), 'latin1');
  const nsswitch = fs.readFileSync(path.join(img, 'etc/nsswitch.conf'), 'latin1');
  const lutab = fs.readFileSync(path.join(img, 'etc/lutab'), 'latin1');
  fs.mkdirSync(path.join(img, 'var/adm/keep'), { recursive: true });
  // etc/vfstab is the later name of a file kept in var/adm/keep; the others
  // are later names of nsswitch.conf and lutab.
  fs.renameSync(path.join(img, 'etc/vfstab'), path.join(img, 'var/adm/keep/vfstab'));
  fs.linkSync(path.join(img, 'var/adm/keep/vfstab'), path.join(img, 'etc/vfstab'));
  fs.linkSync(path.join(img, 'etc/nsswitch.conf'), path.join(img, 'var/adm/keep/nsswitch.conf'));
  fs.linkSync(path.join(img, 'etc/lutab'), path.join(img, 'var/adm/keep/lutab'));
  const first = ['./var', './var/adm', './var/adm/keep', './var/adm/keep/vfstab'];
  const rest = spawnSync('find', ['.', '-mindepth', '1'], { cwd: img, encoding: 'latin1' })
    .stdout.split('\n')
    .filter((p) => p !== '' && !first.includes(p) && !p.startsWith('./var/adm/keep/'))
    .sort();
  // The other names come right after their files, while p2v holds them.
  const after = new Map([['./etc/nsswitch.conf', './var/adm/keep/nsswitch.conf'], ['./etc/lutab', './var/adm/keep/lutab']]);
  const list = ['.', ...first, ...rest.flatMap((p) => (after.has(p) ? [p, after.get(p)!] : [p]))].join('\n') + '\n';
  const tar = path.join(work, 'image.tar');
  const cpio = path.join(work, 'image.cpio');
  const names = Buffer.from(list, 'latin1');
  let r = spawnSync('tar', ['-cf', tar, '--no-recursion', '-T', '-'], { cwd: img, input: names, encoding: 'latin1' });
  t.equal(r.status, 0, r.stderr);
  r = spawnSync('cpio', ['-o', '-H', 'odc'], { cwd: img, input: names, encoding: 'latin1', maxBuffer: 1 << 26 });
  t.equal(r.status, 0, r.stderr);
  fs.writeFileSync(cpio, r.stdout, 'latin1');
  const { env } = fakeSolarisBin(path.join(work, 'bin'));
  for (const [name, archive] of [['tar', tar], ['cpio', cpio]] as const) {
    const zp = path.join(work, name);
    fs.mkdirSync(zp, { mode: 0o700 });
    const res = await runCli(['install', name, zp, '-a', archive, '-u', '--host-root', host, '--log', path.join(work, `${name}.log`)], { env });
    t.equal(res.code, 0, `${name}: ${res.stdout}${res.stderr}`);
    const root = path.join(zp, 'root');
    const read = (p: string) => fs.readFileSync(path.join(root, p), 'latin1');
    t.equal(read('var/adm/keep/vfstab'), vfstab, `${name}: the kept vfstab is the original`);
    t.not(read('etc/vfstab'), vfstab, `${name}: etc/vfstab was rewritten`);
    t.match(read('etc/vfstab'), /# Modified by p2v/, `${name}: with the p2v trailer`);
    t.equal(read('var/adm/keep/nsswitch.conf'), nsswitch, `${name}: the other name of nsswitch.conf keeps its content`);
    t.equal(read('var/adm/keep/lutab'), lutab, `${name}: the other name of lutab keeps its content`);
    t.notOk(fs.existsSync(path.join(root, 'etc/lutab')), `${name}: etc/lutab deleted`);
    const log = fs.readFileSync(path.join(root, `var/log/${name}.p2v.log`), 'latin1');
    t.match(log, 'links: etc/vfstab: made a regular file');
  }
});

t.test('the default rule chain with no hard links to mend reports nothing about links', async (t) => {
  const { ctx, record } = writtenCtx({ identity: 'unconfigure' });
  const input = [ent('./etc'), file('./etc/vfstab', VFSTAB), file('./etc/nsswitch.conf', NSSWITCH), file('./usr/bin/ls', 'x'), link('./usr/bin/dir', './usr/bin/ls')];
  const out = await collectLinks(record(applyRules(from(input), defaultRules(), ctx)));
  linksResolve(t, out);
  t.equal(row(out, 'usr/bin/dir')!.type, 'hardlink');
  t.notMatch(ctx.report.toText(), 'links:');
});
