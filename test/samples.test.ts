// The sample generator: a deterministic Solaris 10 image, packed by the real
// tools in every format; every archive lists with the expected entry count,
// a few extract back to the identical tree, and the flar headers parse.

import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { makeImage, type ImageManifest } from '../samples/image.js';
import { packImageReport, FORMATS, type Format } from '../samples/pack.js';
import { readFlarHeader, FLAR_COOKIE, uuencode } from '../samples/flar.js';
import { snapshot, diffTrees, tmpdir } from './lib/tree.js';

const SMALL = { files: 400, bytes: 1536 * 1024, seed: 7 };

function sh(cmd: string, cwd?: string, input?: Buffer): { code: number; out: Buffer; err: string } {
  const r = spawnSync('bash', ['-c', `set -o pipefail; ${cmd}`], { cwd, input, maxBuffer: 1 << 30 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr?.toString() ?? '' };
}

const base = tmpdir('zonep2v-samples-');
t.teardown(() => fs.rmSync(base, { recursive: true, force: true }));

let img: ImageManifest;
const imgDir = path.join(base, 'a');

t.test('makeImage is deterministic', async (t) => {
  img = await makeImage(imgDir, SMALL);
  const again = await makeImage(path.join(base, 'b'), SMALL);
  const s1 = snapshot(imgDir);
  const s2 = snapshot(path.join(base, 'b'));
  t.same(diffTrees(s1, s2), [], 'same seed, same tree (content, modes, owners, mtimes, links)');
  t.equal(s1.size, img.counts.entries, 'manifest counts every node');
  t.same(again.counts, img.counts);
  const other = await makeImage(path.join(base, 'c'), { ...SMALL, seed: 8 });
  t.ok(diffTrees(s1, snapshot(path.join(base, 'c'))).length > 0, 'another seed gives another tree');
  t.equal(other.counts.dirs > 0, true);
  fs.rmSync(path.join(base, 'b'), { recursive: true });
  fs.rmSync(path.join(base, 'c'), { recursive: true });
  t.throws(() => fs.accessSync(path.join(base, 'b')));
  await t.rejects(makeImage(imgDir, SMALL), /empty directory/, 'refuses a non-empty directory');
});

t.test('the image has what p2v looks at', async (t) => {
  const r = (p: string) => fs.readFileSync(path.join(imgDir, p), 'latin1');
  const s = snapshot(imgDir, { hash: false });
  // Sanity-check paths of the solaris10 brand.
  for (const p of ['etc', 'etc/svc', 'var', 'var/svc', 'lib/svc', 'sbin/zonename', 'usr/bin/chmod']) t.ok(s.has(p), p);
  t.match(r(img.paths.instRelease), /^VERSION=10$/m);
  t.match(r('var/sadm/pkg/SUNWcakr/pkginfo'), new RegExp(`^PATCHLIST=.*\\b${img.kernelPatch}\\b`, 'm'));
  t.match(r('etc/release'), /Solaris 10 10\/09 s10s_u8wos_08a SPARC/);
  // vfstab lines of every kind fix_vfstab distinguishes.
  const vf = r(img.paths.vfstab);
  for (const re of [/^fd\t/m, /^\/proc\t/m, /^\/dev\/dsk\/c0t0d0s0\t.*\tufs\t/m, /^\/dev\/md\/dsk\/d10\t/m, /\tswap\t/m, /^swap\t-\t\/tmp\ttmpfs/m, /\tnfs\t/m, /\tlofs\t/m, /^objfs/m, /^ctfs/m, /^sharefs/m, /^$/m]) t.match(vf, re);
  t.match(r(img.paths.dfstab), /^share -F nfs -o rw \/export\/home$/m);
  const idx = r(img.paths.zonesIndex);
  t.match(idx, /^global:installed:\/$/m);
  for (const z of img.nestedZones) {
    t.match(idx, new RegExp(`^${z.name}:${z.state}:${z.zonepath}:[0-9a-f-]{36}$`, 'm'));
    t.ok(s.has(`${z.zonepath.slice(1)}/root/etc/nodename`), `${z.name} zonepath has content`);
  }
  // Hollow package with its pspool pkgmap delivering SMF manifests.
  const hollow = img.packages.filter((p) => p.hollow).map((p) => p.name);
  t.ok(hollow.includes('SUNWpoolr'));
  const pkgmap = r('var/sadm/pkg/SUNWpoolr/save/pspool/SUNWpoolr/pkgmap');
  t.match(pkgmap, /^1 f manifest var\/svc\/manifest\/system\/pools\.xml 0444 root sys \d+ \d+ \d+$/m);
  t.ok(img.paths.hollowManifests.includes('var/svc/manifest/system/pools.xml'));
  t.match(r('var/svc/manifest/network/routing/route.xml'), /name='network\/routing\/route'[\s\S]*<instance name='default'/);
  const contents = r(img.paths.contents);
  t.match(contents, /^\/usr\/bin\/\[=\.\/test l none SUNWcsu$/m);
  t.match(contents, /^\/etc\/vfstab e none 0644 root sys \d+ \d+ \d+ SUNWcsr$/m);
  const vfSize = fs.statSync(path.join(imgDir, 'etc/vfstab')).size;
  t.match(contents, new RegExp(`^/etc/vfstab e none 0644 root sys ${vfSize} `, 'm'), 'contents records the real size');
  // Owners, modes and special files.
  const pw = s.get('usr/bin/passwd')!;
  t.same([pw.mode, pw.uid, pw.gid], [0o6555, 0, 3]);
  t.equal(s.get('usr/bin/su')!.mode, 0o4555);
  t.equal(s.get('tmp')!.mode, 0o1777);
  t.equal(s.get('etc/initpipe')!.type, 'fifo');
  t.equal(s.get('etc/mnttab')!.size, 0);
  t.equal(s.get('bin')!.target, './usr/bin');
  t.equal(s.get('dev/null')!.target, '../devices/pseudo/mm@0:null');
  for (const g of img.paths.hardlinkGroups) t.equal(s.get(g[0]!)!.links, [...g].sort().join('|'), `hard links ${g.join(' ')}`);
  t.equal(s.get(img.paths.nonUtf8)!.type, 'file');
  t.ok(Buffer.byteLength(img.paths.longPath) > 100);
  if (img.privileged) {
    t.equal(s.get('devices/pseudo/mm@0:null')!.type, 'char');
    t.equal(s.get('devices/pseudo/md@0:0,10,blk')!.type, 'block');
    t.equal(s.get('dev/msglog')!.type, 'char');
    t.equal(s.get('etc/vfstab')!.gid, 3);
  }
  t.ok(Math.abs(img.totalBytes / SMALL.bytes - 1) < 0.25, `size follows opts.bytes (${img.totalBytes})`);
  t.ok(Math.abs(img.counts.files / SMALL.files - 1) < 0.1, `count follows opts.files (${img.counts.files})`);
});

t.test('packImage: every format lists with the expected entries', async (t) => {
  const out = path.join(base, 'out');
  const t0 = Date.now();
  const rep = await packImageReport(imgDir, out);
  t.comment(`packed ${Object.keys(rep.files).length} formats in ${Date.now() - t0} ms`);
  const expected = img.counts.entries + 1; // plus "." itself
  for (const f of FORMATS) {
    if (rep.skipped[f]) {
      t.comment(`${f} skipped: ${rep.skipped[f]}`);
      continue;
    }
    const file = rep.files[f];
    t.ok(file && fs.existsSync(file), `${f} written`);
    if (!file) continue;
    let listing: { code: number; out: Buffer; err: string };
    if (f.startsWith('flar')) {
      const h = readFlarHeader(file);
      t.equal(h.cookie, FLAR_COOKIE, `${f} cookie`);
      t.same(h.sections, ['identification', 'predeployment', 'postdeployment', 'reboot', 'summary', 'archive'], `${f} sections`);
      const id = h.identification;
      t.equal(id.files_archived_method, f === 'flar-pax' ? 'pax' : 'cpio');
      t.equal(id.files_compressed_method, f === 'flar-Z' ? 'compress' : 'none');
      t.equal(Number(id.files_archived_size), fs.statSync(file).size - h.archiveOffset, `${f} files_archived_size is the archive section`);
      t.match(id.creation_date, /^\d{14}$/);
      t.equal(id.content_name, 'legacy01');
      const payload = fs.readFileSync(file).subarray(h.archiveOffset);
      t.equal(payload.subarray(0, 2).toString('hex') === '1f9d', f === 'flar-Z', `${f} payload compression by magic`);
      listing = sh(`${f === 'flar-Z' ? 'uncompress -c |' : ''} bsdtar -tf -`, undefined, payload);
    } else if (f === 'cpio-bin' || f === 'cpio-bin-be') {
      listing = sh(`cpio -it --quiet < '${file}'`);
    } else {
      listing = sh(`bsdtar -tf '${file}'`);
    }
    const n = listing.out.toString('latin1').split('\n').filter(Boolean).length;
    t.equal(n, expected, `${f}: ${n} entries`);
    // GNU tar writes the latin1 name raw into a pax path record; bsdtar warns under a C locale.
    const err = listing.err.split('\n').filter((l) => l && !/can't be converted|Error exit delayed|reverse byte-order/.test(l));
    t.same(err, [], `${f}: no listing errors`);
  }
  // Magic numbers of the cpio variants.
  const magic = (f: Format, n = 6) => fs.readFileSync(rep.files[f]!).subarray(0, n);
  t.equal(magic('cpio-odc').toString(), '070707');
  t.equal(magic('cpio-newc').toString(), '070701');
  t.equal(magic('cpio-crc').toString(), '070702');
  t.equal(magic('cpio-bin', 2).toString('hex'), 'c771');
  t.equal(magic('cpio-bin-be', 2).toString('hex'), '71c7');
  t.match(fs.readFileSync(rep.files.xustar!).toString('latin1', 0, 512), /PaxHeaders/);
  t.equal(fs.readFileSync(rep.files.xustar!)[156], 0x58, 'xustar extended headers are typeflag X');

  // Round trips with the reference extractors give back the same tree.
  const src = snapshot(imgDir);
  const roundTrip = (name: string, cmd: string) => {
    const dir = path.join(base, `x-${name}`);
    fs.mkdirSync(dir);
    const r = sh(cmd, dir);
    t.equal(r.code, 0, `${name} extracts: ${r.err.slice(0, 300)}`);
    t.same(diffTrees(src, snapshot(dir)), [], `${name} round trip is exact`);
    fs.rmSync(dir, { recursive: true });
  };
  if (img.privileged) {
    roundTrip('cpio-odc', `cpio -idmu --quiet < '${rep.files['cpio-odc']}'`);
    roundTrip('cpio-bin-be', `cpio -idmu --quiet < '${rep.files['cpio-bin-be']}' 2>/dev/null`);
    const h = readFlarHeader(rep.files['flar-Z']!);
    roundTrip('flar-Z', `tail -c +${h.archiveOffset + 1} '${rep.files['flar-Z']}' | uncompress -c | cpio -idmu --quiet`);
    // GNU tar knows Solaris 'X' headers; bsdtar cannot store the raw latin1 pax path under any locale.
    roundTrip('xustar', `tar -xpf '${rep.files.xustar}' --numeric-owner`);
    roundTrip('bsdtar-pax', `bsdtar -xpf '${rep.files['bsdtar-pax']}' --numeric-owner`);
  }
  fs.rmSync(out, { recursive: true });
});

t.test('packImage: subsets, intermediates and bad names', async (t) => {
  const out = path.join(base, 'out2');
  const rep = await packImageReport(imgDir, out, ['flar-Z', 'cpio-odc.gz']);
  t.same(Object.keys(rep.files).sort(), ['cpio-odc.gz', 'flar-Z']);
  t.same(fs.readdirSync(out).sort(), ['image.Z.flar', 'image.odc.cpio.gz'], 'intermediate payloads removed');
  await t.rejects(packImageReport(imgDir, out, ['zip']), /unknown format/);
  fs.rmSync(out, { recursive: true });
});

t.test('uuencode matches uuencode(1)', async (t) => {
  const data = Buffer.from('hello, flash archive\n\0\xff', 'latin1');
  const r = sh('command -v uuencode >/dev/null && uuencode x.Z || echo SKIP', undefined, data);
  const text = uuencode(data, 'x.Z');
  if (r.out.toString().trim() === 'SKIP') t.match(text, /^begin 644 x\.Z\n.+\n`\nend$/);
  else t.equal(`${text}\n`, r.out.toString());
});

t.test('CLI', async (t) => {
  const cli = path.resolve(import.meta.dirname, '../samples/cli.js');
  const dir = path.join(base, 'cli-img');
  const r = spawnSync(process.execPath, [cli, 'image', dir, '--files', '150', '--bytes', '1M', '--seed', '3', '--no-nested-zones'], { encoding: 'utf8' });
  t.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { counts: { entries: number } };
  t.equal(j.counts.entries, snapshot(dir, { hash: false }).size);
  t.notOk(fs.existsSync(path.join(dir, 'zones')), '--no-nested-zones');
  t.ok(fs.existsSync(path.join(dir, 'etc/zones/index')), 'the zones index stays');
  const p = spawnSync(process.execPath, [cli, 'pack', dir, path.join(base, 'cli-out'), '--formats', 'cpio-odc'], { encoding: 'utf8' });
  t.equal(p.status, 0, p.stderr);
  t.same(Object.keys((JSON.parse(p.stdout) as { files: object }).files).sort(), ['cpio-odc']);
  const bad = spawnSync(process.execPath, [cli, 'pack', dir], { encoding: 'utf8' });
  t.equal(bad.status, 2);
  fs.rmSync(dir, { recursive: true });
  fs.rmSync(path.join(base, 'cli-out'), { recursive: true });
});
