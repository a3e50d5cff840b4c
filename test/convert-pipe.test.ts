// convert on pipes and failures: `convert -o -` piped into `install -a -`;
// nested zones whose files come before etc/zones/index (a file input is
// pre-read, a pipe input fails with 254 naming the zone); the output file is
// atomic (nothing left on failure, an older file kept); usage errors; and the
// nested-zones rule's pre-seed (RuleContext.zoneIndex) on its own.

import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { makeImage, type ImageManifest } from '../samples/image.js';
import { packImageReport } from '../samples/pack.js';
import { makeHostRoot } from '../samples/host.js';
import { nestedZonesRule } from '../src/rules/nestedzones.js';
import { snapshot, tmpdir } from './lib/tree.js';
import { BIN, runCli } from './lib/cli.js';
import { collect, ent, file, from, makeCtx, paths } from './rules-lib.js';

const work = tmpdir('zonep2v-convert-pipe-');
t.teardown(() => fs.rmSync(work, { recursive: true, force: true }));
const env = { ...process.env, SOURCE_DATE_EPOCH: '1700000000' };
const img = path.join(work, 'image');
const host = path.join(work, 'host');
const late = path.join(work, 'late.tar');
let manifest: ImageManifest;
let flar: string;
let cpio: string;

t.before(async () => {
  manifest = await makeImage(img, { files: 120, bytes: 1024 * 1024, seed: 5 });
  const r = await packImageReport(img, path.join(work, 'archives'), ['flar-Z', 'cpio-odc']);
  flar = r.files['flar-Z']!;
  cpio = r.files['cpio-odc']!;
  makeHostRoot(img, host);
  // The nested zones' files first, etc/zones/index after them.
  const tar = spawnSync('bash', ['-c', `{ find ./zones ./export/zone2; find . ! -path './zones*' ! -path './export/zone2*'; } | tar --format=pax --numeric-owner --no-recursion -T - -cf ${JSON.stringify(late)}`], { cwd: img, encoding: 'utf8' });
  if (tar.status !== 0) throw new Error(tar.stderr);
});

/** `zonep2v convert ... -o -` piped into `zonep2v install ... -a -`. */
function pipeline(convertArgs: string[], installArgs: string[]): Promise<{ convert: number | null; install: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const a = spawn(process.execPath, [BIN, 'convert', ...convertArgs], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const b = spawn(process.execPath, [BIN, 'install', ...installArgs], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    a.stdout.pipe(b.stdin);
    let stderr = '';
    a.stderr.on('data', (d) => (stderr += d));
    b.stderr.on('data', (d) => (stderr += d));
    b.stdout.resume();
    const codes: (number | null)[] = [];
    let n = 0;
    const done = () => ++n === 2 && resolve({ convert: codes[0]!, install: codes[1]!, stderr });
    a.on('close', (c) => ((codes[0] = c), done()));
    b.on('close', (c) => ((codes[1] = c), done()));
  });
}

t.test('convert -o - piped into install -a - installs the zone', async (t) => {
  const zp = path.join(work, 'zones', 'piped');
  const r = await pipeline(['-a', flar, '-o', '-', '--zone', 'web1', '-u', '-q'], ['web1', zp, '-a', '-', '-u', '-s', '--host-root', host, '--log', path.join(work, 'piped.log')]);
  t.equal(r.convert, 0, r.stderr);
  t.equal(r.install, 0, r.stderr);
  const tree = snapshot(path.join(zp, 'root'));
  t.ok(tree.has('etc/.UNCONFIGURED'), 'the -u changes are in');
  t.ok(tree.has('var/log/web1.p2v.log'), 'the report is in');
  t.match(fs.readFileSync(path.join(zp, 'root/etc/vfstab'), 'latin1'), /# Modified by p2v /);
  for (const z of manifest.nestedZones) t.notOk(tree.has(z.zonepath.slice(1)), `no ${z.name}`);
  t.equal(JSON.parse(fs.readFileSync(path.join(zp, '.zonep2v-state'), 'utf8')).state, 'installed');
});

t.test('nested zones before the index: a pipe input fails with 254 naming the zone, and leaves no output', async (t) => {
  const out = path.join(work, 'late-pipe.pax');
  const r = await runCli(['convert', '-a', '-', '-o', out], { env, stdinFile: late });
  t.equal(r.code, 254, r.stderr);
  t.match(r.stderr, /zone 'zone\d'/, 'names the zone');
  t.match(r.stderr, /-a FILE/, 'suggests a file input');
  t.notOk(fs.existsSync(out), 'no output file');
  t.same(fs.readdirSync(work).filter((n) => n.endsWith('.tmp')), [], 'no temporary file');
  const r2 = await runCli(['convert', '--command', `cat ${JSON.stringify(late)}`, '-o', '-'], { env });
  t.equal(r2.code, 254, 'a command source is a pipe too');
  t.match(r2.stderr, /incomplete/, 'says the stdout archive is incomplete');
});

t.test('nested zones before the index: a file input is pre-read and the zones are left out', async (t) => {
  const out = path.join(work, 'late-file.pax');
  const r = await runCli(['convert', '-a', late, '-o', out, '--zone', 'web1'], { env });
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /nested zones read in a first pass/);
  const x = path.join(work, 'late-x');
  fs.mkdirSync(x);
  t.equal(spawnSync('tar', ['-C', x, '-xpf', out]).status, 0);
  const tree = snapshot(x);
  for (const z of manifest.nestedZones) t.notOk(tree.has(z.zonepath.slice(1)), `no ${z.name}`);
  t.notOk(tree.has('etc/zones/zone1.xml'), 'no nested zone configuration');
  t.match(fs.readFileSync(path.join(x, 'etc/zones/index'), 'latin1'), /^global:installed:\//m);
  t.notMatch(fs.readFileSync(path.join(x, 'etc/zones/index'), 'latin1'), /zone1/);
});

t.test('from a pipe, zone configurations met before the index are held back and dropped, no first pass', async (t) => {
  const out = path.join(work, 'cmd.cpio');
  const r = await runCli(['convert', '--command', `cat ${JSON.stringify(cpio)}`, '-o', out, '--format', 'cpio', '--zone', 'web1'], { env });
  t.equal(r.code, 0, r.stderr);
  t.notMatch(r.stderr, /first pass/);
  const list = spawnSync('cpio', ['-it', '--quiet'], { input: fs.readFileSync(out), encoding: 'utf8' });
  t.equal(list.status, 0);
  t.ok(list.stdout.split('\n').includes('var/log/web1.p2v.log'));
  t.notOk(list.stdout.split('\n').some((l) => l.startsWith('zones/zone1')));
  t.notOk(list.stdout.split('\n').some((l) => /^etc\/zones\/zone\d\.xml$/.test(l)), 'the nested zones\' configurations left out');
  t.ok(list.stdout.split('\n').includes('etc/zones/SUNWdefault.xml'), 'other configuration files kept');
});

t.test('a failed convert leaves an existing output as it was, and no temporary file', async (t) => {
  const bad = path.join(work, 'truncated.flar');
  const buf = fs.readFileSync(flar);
  fs.writeFileSync(bad, buf.subarray(0, Math.floor(buf.length * 0.6)));
  const out = path.join(work, 'kept.pax');
  fs.writeFileSync(out, 'an older archive\n');
  const r = await runCli(['convert', '-a', bad, '-o', out], { env });
  t.equal(r.code, 254, r.stderr);
  t.equal(fs.readFileSync(out, 'utf8'), 'an older archive\n');
  t.same(fs.readdirSync(work).filter((n) => n.endsWith('.tmp')), []);
});

t.test('usage errors exit 253 before anything is read or written', async (t) => {
  const sparse = path.join(work, 'sparse.xml');
  fs.writeFileSync(sparse, '<?xml version="1.0"?>\n<zone name="web1" zonepath="/zones/web1"><inherited-pkg-dir directory="/usr"/></zone>\n');
  const cases: [string, string[], RegExp][] = [
    ['no -o', ['-a', flar], /-o OUT/],
    ['bad format', ['-a', flar, '-o', '-', '--format', 'zip'], /pax or cpio/],
    ['-u and -p', ['-a', flar, '-o', '-', '-u', '-p'], /both/],
    ['two sources', ['-a', flar, '-d', img, '-o', '-'], /exactly one source/],
    ['missing input', ['-a', path.join(work, 'nope.flar'), '-o', '-'], /not found/],
    ['sparse zone', ['-a', flar, '-o', '-', '--zone-config', sparse], /whole-root/],
    ['unknown option', ['-a', flar, '-o', '-', '--frobnicate'], /frobnicate/],
  ];
  for (const [name, args, msg] of cases) {
    const r = await runCli(['convert', ...args], { env });
    t.equal(r.code, 253, `${name}: 253`);
    t.match(r.stderr, msg, `${name}: says why`);
    t.equal(r.stdout, '', `${name}: nothing on stdout`);
  }
});

t.test('the nested-zones rule pre-seeded with the index drops zone files met before it', async (t) => {
  const INDEX = 'global:installed:/\nweb9:installed:/zones/web9:uuid\n';
  const input = () => [ent('zones/web9'), file('zones/web9/root/etc/passwd', 'root:x:0:0\n'), file('etc/zones/web9.xml', '<zone/>'), ent('etc/x', 'hardlink', undefined, { linkTarget: 'zones/web9/root/etc/passwd' }), file('etc/zones/index', INDEX), file('etc/motd', 'hi\n')];
  const seeded = makeCtx();
  seeded.zoneIndex = Buffer.from(INDEX);
  const out = await collect(nestedZonesRule.apply(from(input()), seeded));
  t.same(paths(out), ['etc/zones/index', 'etc/motd'], 'zone files, its configuration and links into it dropped from the start');
  t.same(seeded.removed, [], 'nothing to remove late');
  t.equal(seeded.report.dropped['nested zone'], 2);
  t.match(seeded.report.toText(), 'nested-zones: etc/zones/web9.xml: deleted (configuration of removed zone web9)');
  // Without the pre-seed the same input needs late removals.
  const plain = makeCtx();
  await collect(nestedZonesRule.apply(from(input()), plain));
  t.same(plain.removed, ['zones/web9', 'etc/zones/web9.xml']);
  // Index first: pre-seeded or not, the same output and report.
  const first = () => [file('etc/zones/index', INDEX), ent('zones/web9'), file('zones/web9/a', 'x'), file('etc/motd', 'hi\n')];
  const a = makeCtx();
  const b = makeCtx();
  b.zoneIndex = Buffer.from(INDEX);
  const oa = await collect(nestedZonesRule.apply(from(first()), a));
  const ob = await collect(nestedZonesRule.apply(from(first()), b));
  t.same(paths(ob), paths(oa));
  t.equal(b.report.toText(), a.report.toText());
});
