// convert, end to end: for every input format the samples can be packed in
// (and -d DIR), `zonep2v convert` to pax, extracted with GNU tar, gives the
// same tree as `zonep2v install` of the same input writes (snapshot compare;
// the install log copied into the zone is install-only). Both runs use the
// same SOURCE_DATE_EPOCH so that p2v's own dates agree.

import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { makeImage, type ImageManifest } from '../samples/image.js';
import { packImageReport, FORMATS } from '../samples/pack.js';
import { makeHostRoot } from '../samples/host.js';
import { snapshot, diffTrees, tmpdir } from './lib/tree.js';
import { runCli } from './lib/cli.js';

const work = tmpdir('zonep2v-convert-');
t.teardown(() => fs.rmSync(work, { recursive: true, force: true }));

const EPOCH = '1700000000';
const env = { ...process.env, SOURCE_DATE_EPOCH: EPOCH, PATH: (process.env.PATH ?? '').split(':').filter((d) => !fs.existsSync(path.join(d, 'zonecfg'))).join(':') };
const img = path.join(work, 'image');
const host = path.join(work, 'host');
let manifest: ImageManifest;
let files: Partial<Record<string, string>> = {};

t.before(async () => {
  manifest = await makeImage(img, { files: 150, bytes: 1024 * 1024, seed: 11 });
  files = (await packImageReport(img, path.join(work, 'archives'), FORMATS)).files;
  makeHostRoot(img, host);
});

/** Lines of the p2v report that depend on the order nested zones were met in (convert reads the index first). */
function nestedOrderLines(text: string): { rest: string[]; deleted: string[] } {
  const rest: string[] = [];
  const deleted: string[] = [];
  for (const l of text.split('\n')) {
    const m = /^nested-zones: (\S+): deleted /.exec(l);
    if (m) deleted.push(m[1]!);
    else if (/^dropped: \d+ (nested zone|hard link into a nested zone)$/.test(l)) continue;
    else rest.push(l);
  }
  return { rest, deleted: deleted.sort() };
}

interface Result {
  conv: { code: number | null; stdout: string; stderr: string };
  inst: { code: number | null; stderr: string };
  tmpLeft: boolean;
  tar?: { status: number | null; stderr: string };
  diffs?: string[];
  reportInBoth?: boolean;
  a?: ReturnType<typeof nestedOrderLines>;
  b?: ReturnType<typeof nestedOrderLines>;
  reportMeta?: string[];
  nestedLeft?: string[];
  bsdtar?: { status: number | null; stderr: string; diffs: string[] };
}

/** Convert and install the same input side by side, extract the conversion with GNU tar, compare. */
async function run(label: string, source: string[]): Promise<Result> {
  const dir = path.join(work, 'runs', label);
  const zp = path.join(dir, 'zp');
  const out = path.join(dir, 'out.pax');
  const x = path.join(dir, 'x');
  fs.mkdirSync(x, { recursive: true });
  const [conv, inst] = await Promise.all([
    runCli(['convert', ...source, '-o', out, '--zone', 'web1', '-p', '-q'], { env }),
    runCli(['install', 'web1', zp, ...source, '-p', '-s', '--host-root', host, '--log', path.join(dir, 'install.log')], { env }),
  ]);
  const r: Result = { conv, inst, tmpLeft: fs.readdirSync(dir).some((n) => n.endsWith('.tmp')) };
  if (conv.code === 0 && inst.code === 0) {
    const tar = spawnSync('tar', ['-C', x, '-xpf', out], { encoding: 'utf8' });
    r.tar = { status: tar.status, stderr: tar.stderr };
    const installed = snapshot(path.join(zp, 'root'));
    const extracted = snapshot(x);
    r.diffs = diffTrees(installed, extracted, {
      exclude: (rel) => /^var\/log\/web1\.install\d+\.log$/.test(rel) || rel === 'var/log/web1.p2v.log',
      ignoreDirMtime: true,
    });
    r.reportInBoth = installed.has('var/log/web1.p2v.log') && extracted.has('var/log/web1.p2v.log');
    if (r.reportInBoth) {
      r.a = nestedOrderLines(fs.readFileSync(path.join(zp, 'root/var/log/web1.p2v.log'), 'latin1'));
      r.b = nestedOrderLines(fs.readFileSync(path.join(x, 'var/log/web1.p2v.log'), 'latin1'));
    }
    r.reportMeta = diffTrees(installed, extracted, { exclude: (rel) => rel !== 'var/log/web1.p2v.log', ignore: ['size', 'hash'] });
    r.nestedLeft = manifest.nestedZones.map((z) => z.zonepath.slice(1)).filter((p) => extracted.has(p));
    if (label === 'dir' || label === 'flar-Z') {
      // bsdtar reads the same archive to the same tree.
      const y = path.join(dir, 'y');
      fs.mkdirSync(y);
      const bsd = spawnSync('bsdtar', ['-C', y, '-xpf', out, '--numeric-owner'], { encoding: 'utf8' });
      r.bsdtar = { status: bsd.status, stderr: bsd.stderr, diffs: diffTrees(extracted, snapshot(y), { ignoreDirMtime: true }) };
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
  return r;
}

// Two inputs at a time (each runs convert and install side by side); the
// assertions follow in order.
const inputs = [...FORMATS, 'dir'] as string[];
const queue = inputs.slice();
const results = new Map<string, Promise<Result | null>>();
let ready: () => void;
const setUp = new Promise<void>((r) => (ready = r));
const slots: (() => void)[] = [];
let running = 0;
async function limited<T>(fn: () => Promise<T>): Promise<T> {
  await setUp;
  while (running >= 2) await new Promise<void>((r) => slots.push(r));
  running++;
  try {
    return await fn();
  } finally {
    running--;
    slots.shift()?.();
  }
}
for (const f of queue) {
  results.set(f, limited(async () => {
    const src = f === 'dir' ? img : files[f];
    return src ? run(f, [f === 'dir' ? '-d' : '-a', src]) : null;
  }));
}
t.before(() => ready());

for (const f of inputs) {
  t.test(`convert ${f} to pax, then GNU tar = install`, async (t) => {
    const r = await results.get(f)!;
    if (!r) {
      t.pass(`${f} could not be made on this machine: skipped`);
      return;
    }
    t.equal(r.conv.code, 0, `convert exit 0 ${r.conv.stderr}`);
    t.equal(r.inst.code, 0, `install exit 0 ${r.inst.stderr}`);
    if (r.conv.code !== 0 || r.inst.code !== 0) return;
    t.equal(r.conv.stdout, '', 'convert to a file prints nothing on stdout');
    t.notOk(r.tmpLeft, 'no temporary file left');
    t.equal(r.tar?.status, 0, `GNU tar extracts it ${r.tar?.stderr}`);
    t.same(r.diffs, [], 'the extracted tree is the installed tree');
    t.ok(r.reportInBoth, 'the p2v report is in both');
    t.same(r.b?.rest, r.a?.rest, 'the p2v reports agree (apart from where nested zones were met)');
    const xml = (l?: string[]) => (l ?? []).filter((p) => p.startsWith('etc/zones/'));
    t.same(xml(r.b?.deleted), xml(r.a?.deleted), 'the same nested zone configurations deleted');
    t.same(r.reportMeta, [], 'the report has the same owner, mode and time');
    t.same(r.nestedLeft, [], 'nested zones left out');
    if (r.bsdtar) {
      t.equal(r.bsdtar.status, 0, `bsdtar extracts it ${r.bsdtar.stderr}`);
      t.same(r.bsdtar.diffs, [], 'bsdtar gives the same tree as GNU tar');
    }
  });
}

t.test('install of what convert -u wrote = install -u of the original (p2v twice changes nothing more)', async (t) => {
  await setUp;
  const src = files['cpio-odc'] ?? files[FORMATS[0]!];
  if (!src) {
    t.pass('no archive could be made on this machine: skipped');
    return;
  }
  const dir = path.join(work, 'twice');
  const out = path.join(dir, 'conv.pax');
  fs.mkdirSync(dir, { recursive: true });
  const conv = await runCli(['convert', '-a', src, '-o', out, '--zone', 'web1', '-u', '-q'], { env });
  t.equal(conv.code, 0, conv.stderr);
  const [direct, twice] = await Promise.all([
    runCli(['install', 'web1', path.join(dir, 'a'), '-a', src, '-u', '-s', '--host-root', host], { env }),
    runCli(['install', 'web1', path.join(dir, 'b'), '-a', out, '-u', '-s', '--host-root', host], { env }),
  ]);
  t.equal(direct.code, 0, direct.stderr);
  t.equal(twice.code, 0, twice.stderr);
  const diffs = diffTrees(snapshot(path.join(dir, 'a', 'root')), snapshot(path.join(dir, 'b', 'root')), {
    exclude: (rel) => /^var\/log\/web1\.(install\d+|p2v)\.log$/.test(rel),
    ignoreDirMtime: true,
  });
  t.same(diffs, [], 'the same tree: no second SMF block, hosts.saved keeps the real old table');
  const upgrade = fs.readFileSync(path.join(dir, 'b', 'root', 'var/svc/profile/upgrade'), 'latin1');
  t.equal(upgrade.split('# Added by zonep2v').length - 1, 1, 'one zonep2v block in the upgrade profile');
  fs.rmSync(dir, { recursive: true, force: true });
});
