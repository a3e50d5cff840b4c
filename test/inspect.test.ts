// inspect, end to end: golden reports (text and JSON) on sample images made
// with a fixed seed (in a fixed entry order, so that the report's order is
// the same on every machine; volatile bits such as temporary paths are
// normalised), a check that it writes nothing, and its verdict against what
// install then does: a passing image (inspect 0, install 0) and an image
// newer than the host (inspect 1 naming the package, install 254).
//
// ZONEP2V_UPDATE_GOLDEN=1 rewrites the golden files in test/fixtures/inspect/.

import t, { type Test } from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { makeImage } from '../samples/image.js';
import { writeFlar } from '../samples/flar.js';
import { makeHostRoot } from '../samples/host.js';
import { snapshot, diffTrees, tmpdir } from './lib/tree.js';
import { BIN, runCli, type CliResult } from './lib/cli.js';
import { mountTmpfs } from './sink-lib.js';

const GOLDEN = new URL('../../test/fixtures/inspect/', import.meta.url);
const UPDATE = process.env.ZONEP2V_UPDATE_GOLDEN === '1';

const work = tmpdir('zonep2v-inspect-');
t.teardown(() => fs.rmSync(work, { recursive: true, force: true }));
const env = { ...process.env, SOURCE_DATE_EPOCH: '1700000000', PATH: (process.env.PATH ?? '').split(':').filter((d) => !fs.existsSync(path.join(d, 'zonecfg'))).join(':') };
const img = path.join(work, 'image');
const host = path.join(work, 'host');
const oldHost = path.join(work, 'host-old');
const flar = path.join(work, 'image.flar');
const tarball = path.join(work, 'image.pax');
const OLDER = '11.9.0,REV=2004.01.01.00.00';

t.before(async () => {
  await makeImage(img, { files: 200, bytes: 1024 * 1024, seed: 7 });
  makeHostRoot(img, host);
  makeHostRoot(img, oldHost, { olderPackage: 'SUNWcsr', olderVersion: OLDER });
  // Entries in name order, so the report's order does not depend on the file system.
  const payload = path.join(work, 'payload.cpio');
  const cp = spawnSync('bash', ['-c', `find . -print | LC_ALL=C sort | cpio -o -H newc --quiet > ${JSON.stringify(payload)}`], { cwd: img, encoding: 'utf8' });
  if (cp.status !== 0) throw new Error(cp.stderr);
  await writeFlar(payload, flar, { method: 'cpio', compressed: true, name: 'legacy01', arch: 'sparc', date: new Date(Date.UTC(2013, 5, 24, 5, 42, 20)), osVersion: 'Generic_141444-09', unarchivedSize: 1_000_000, content_author: 'root' });
  const tr = spawnSync('tar', ['--sort=name', '--format=pax', '--numeric-owner', '-cf', tarball, '.'], { cwd: img, encoding: 'utf8' });
  if (tr.status !== 0) throw new Error(tr.stderr);
});

function normalise(s: string): string {
  return s.split(work).join('<WORK>').replace(/files_archived_size(=|": ")\d+/g, 'files_archived_size$1<N>');
}

function golden(t: Test, name: string, actual: string): void {
  const file = new URL(name, GOLDEN);
  const text = normalise(actual);
  if (UPDATE) {
    fs.mkdirSync(GOLDEN, { recursive: true });
    fs.writeFileSync(file, text);
    t.pass(`${name} written`);
    return;
  }
  if (!fs.existsSync(file)) {
    t.fail(`${name}: no golden file; run with ZONEP2V_UPDATE_GOLDEN=1 and review it`);
    return;
  }
  t.equal(text, fs.readFileSync(file, 'utf8'), `${name} matches the golden file`);
}

const inspect = (args: string[], cwd?: string): Promise<CliResult> => (cwd ? runIn(cwd, ['inspect', ...args]) : runCli(['inspect', ...args], { env }));

/** runCli with a working directory (the canary). */
function runIn(cwd: string, args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [BIN, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    c.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    c.on('error', reject);
    c.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

t.test('golden: a directory image, shared-IP, -p (text and JSON)', async (t) => {
  const args = ['-d', img, '--host-root', host, '--zone', 'web1', '-p'];
  const text = await inspect(args);
  t.equal(text.code, 0, text.stderr);
  golden(t, 'dir.txt', text.stdout);
  const json = await inspect([...args, '--json']);
  t.equal(json.code, 0, json.stderr);
  golden(t, 'dir.json', json.stdout);
  const doc = JSON.parse(json.stdout);
  t.equal(doc.v, 1, 'versioned');
  t.same(doc.verdict, { ok: true, exit: 0, blockers: 0, warnings: doc.issues.filter((i: { severity: string }) => i.severity === 'warning').length });
  t.ok(doc.zonecfg.includes('create -b') && text.stdout.includes(doc.zonecfg.trimEnd().split('\n')[2]!), 'the text carries the zonecfg file');
});

t.test('golden: a flash archive, exclusive-IP with a net resource, -u', async (t) => {
  const r = await inspect(['-a', flar, '--host-root', host, '--zone', 'web1', '--zonepath', '/zones/web1', '--ip-type', 'exclusive', '--net', 'physical=net0', '-u']);
  t.equal(r.code, 0, r.stderr);
  golden(t, 'flar-exclusive.txt', r.stdout);
  t.match(r.stdout, /Flash archive identification: files_archived_method=cpio, files_compressed_method=compress, content_name=legacy01/);
  t.match(r.stdout, /^set ip-type=exclusive$/m);
  t.match(r.stdout, /^add net; set physical=net0; end$/m);
  t.match(r.stdout, /network: etc\/hostname\.e1000g0: renamed \(to etc\/hostname\.net0\)/, 'the one hostname file renamed for the one net resource');
  t.match(r.stdout, /unconfigure: etc\/hostname\.net0: deleted/, 'then removed by -u');
});

t.test('golden: an image newer than the host', async (t) => {
  const r = await inspect(['-a', tarball, '--host-root', oldHost, '--zone', 'web1', '-p']);
  t.equal(r.code, 1, 'exit 1: an install would fail');
  golden(t, 'downgrade.txt', r.stdout);
  t.match(r.stdout, /Issue \(blocker, downgrade\): zone 'web1': ERROR: attempt to downgrade package SUNWcsr 11\.10\.0,REV=[\d.]+ to version 11\.9\.0/);
  t.match(r.stdout, /--Result: an install would FAIL/);
});

t.test('refusals: --json still gives a document; an unwritable --zonecfg-file is refused before the image is read', async (t) => {
  const r = await inspect(['-a', path.join(work, 'no-such.flar'), '--host-root', host, '--json']);
  t.equal(r.code, 253);
  const doc = JSON.parse(r.stdout);
  t.same([doc.v, doc.error.kind, doc.verdict], [1, 'usage', { ok: false, exit: 253 }]);
  t.match(doc.error.message, /no-such\.flar/);
  const w = await inspect(['-a', flar, '--host-root', host, '--zonecfg-file', path.join(work, 'no-dir', 'z.cfg')]);
  t.equal(w.code, 253, 'usage, not "an install would fail"');
  t.match(w.stderr, /--zonecfg-file .*no-dir.*cannot write in .* \(ENOENT\): give a file in a writable directory/);
  t.equal(w.stdout, '', 'nothing read, no report');
});

t.test('--zonepath is checked as install checks it, without changing it', async (t) => {
  const zp = path.join(work, 'zp-check');
  const fresh = await inspect(['-a', flar, '--host-root', host, '--zonepath', path.join(zp, 'not', 'yet'), '--json']);
  t.equal(fresh.code, 0, 'missing directories are fine: install makes them');
  t.notOk(fs.existsSync(path.join(zp, 'not')), 'and inspect does not');
  fs.mkdirSync(path.join(zp, 'root', 'etc'), { recursive: true, mode: 0o700 });
  const full = await inspect(['-a', flar, '--host-root', host, '--zonepath', zp, '--json']);
  t.equal(full.code, 1, 'a zone root with data: an install would fail');
  const issues = (r: typeof full) => JSON.parse(r.stdout).issues.filter((i: { id: string }) => i.id === 'zonepath').map((i: { message: string }) => i.message);
  t.match(issues(full), [/^Zonepath root .*zp-check\/root exists and contains data; remove or move aside prior to install\.$/]);
  fs.writeFileSync(path.join(zp, '.zonep2v-state'), JSON.stringify({ zone: 'zone', state: 'installed', pid: 1, started: new Date().toISOString() }));
  const done = await inspect(['-a', flar, '--host-root', host, '--zonepath', zp, '--json']);
  t.match(issues(done), [/^zone 'zone' is already installed/]);
  fs.rmSync(zp, { recursive: true, force: true });
});

t.test('--zonepath on a file system without room for the image: a blocker, as install would stop', async (t) => {
  const mnt = path.join(work, 'small-fs');
  fs.mkdirSync(mnt, { recursive: true });
  const unmount = mountTmpfs(mnt, '4m');
  if (typeof unmount === 'string') {
    t.pass(`skipped: ${unmount}`);
    return;
  }
  t.teardown(unmount);
  const r = await inspect(['-a', flar, '--host-root', host, '--zonepath', path.join(mnt, 'zones', 'web1'), '--json']);
  t.equal(r.code, 1, r.stderr);
  const msgs = JSON.parse(r.stdout).issues.filter((i: { id: string }) => i.id === 'zonepath').map((i: { message: string }) => i.message);
  t.match(msgs, [/^the zonepath's file system has \d+ bytes free; the image's \d+ bytes of file data and the 33554432-byte reserve an install keeps free need \d+ more$/]);
  t.notOk(fs.existsSync(path.join(mnt, 'zones')), 'nothing made');
});

t.test('the zonecfg command file on stdout and in --zonecfg-file', async (t) => {
  const file = path.join(work, 'web1.zonecfg');
  const r = await inspect(['-a', flar, '--host-root', host, '--zone', 'web1', '--zonecfg-file', file, '--json']);
  t.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  t.equal(fs.readFileSync(file, 'utf8'), doc.zonecfg, 'the file is the document\'s zonecfg');
  const z: string = doc.zonecfg;
  t.match(z, /^create -b$/m);
  t.match(z, /^set zonepath=\/zones\/web1$/m);
  t.match(z, /^set autoboot=false$/m);
  t.match(z, /^# set hostid=/m, 'a commented hostid line');
  t.match(z, /^add net; set address=192\.168\.\d+\.\d+\/24; set physical=e1000g0; set defrouter=192\.168\.\d+\.1; end$/m, 'the address resolved through the image\'s hosts and netmasks');
  t.match(z, /^add fs; set dir=\/export\/home; set special=\/dev\/dsk\/c0t0d0s7; set raw=\/dev\/rdsk\/c0t0d0s7; set type=ufs; end$/m);
  t.match(z, /^add fs; set dir=\/zones; set special=\/dev\/md\/dsk\/d10; set raw=\/dev\/md\/rdsk\/d10; set type=ufs; add options \[logging\]; end$/m);
  t.match(z, /^add rctl; set name=zone\.max-sem-ids; add value \(priv=privileged,limit=100,action=deny\); end$/m);
  t.notMatch(z, /dir=\/;|dir=\/devices|set dir=-/, 'no resource for /, /devices or swap');
  t.same(doc.vfstab.map((v: { mountPoint: string; advice: string }) => `${v.mountPoint}:${v.advice}`), ['-:none', '/:none', '/export/home:fs', '/zones:fs', '/devices:none']);
  t.same(doc.services.map((s: { id: string; service: string }) => `${s.id} ${s.service}`).sort(), ['svcexclip svc:/network/routing-setup', 'svcexclip svc:/network/routing/route', 'svcnotallowed svc:/network/nfs/server', 'svcnotallowed svc:/system/pools', 'svcnotallowed svc:/system/pools/dynamic']);
  t.same(doc.etcSystem.filter((x: { zoneRctl?: string }) => x.zoneRctl).map((x: { name: string; zoneRctl: string }) => `${x.name}=${x.zoneRctl}`), ['shmsys:shminfo_shmmax=zone.max-shm-memory', 'semsys:seminfo_semmni=zone.max-sem-ids']);
  t.ok(doc.smf.some((s: { action: string; service: string }) => s.action === 'disable' && s.service === 'svc:/network/smb/server'), 'SMF changes come from the rules\' report');
  t.same(doc.packagesToRemove, ['VRTSvxvm']);
});

t.test('inspect writes nothing: the image, the host, the target zonepath and a canary stay as they were', async (t) => {
  const canary = path.join(work, 'canary');
  fs.mkdirSync(canary);
  fs.writeFileSync(path.join(canary, 'keep'), 'keep me\n');
  const zp = path.join(work, 'zones', 'web1');
  const before = snapshot(work);
  for (const args of [['-d', img], ['-a', flar], ['-a', tarball, '--json']]) {
    const r = await inspect([...args, '--host-root', host, '--zone', 'web1', '--zonepath', zp], canary);
    t.equal(r.code, 0, r.stderr);
  }
  t.same(diffTrees(before, snapshot(work)), [], 'nothing under the work directory changed');
  t.notOk(fs.existsSync(zp), 'the zonepath was not created');
  t.same(fs.readdirSync(canary), ['keep'], 'nothing written in the working directory');
});

t.test('the verdict agrees with install: inspect 0 then install 0', async (t) => {
  const r = await inspect(['-a', tarball, '--host-root', host, '--zone', 'web1', '-p', '--json']);
  t.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  const zp = path.join(work, 'zones', 'ok');
  const log = path.join(work, 'ok.log');
  const i = await runCli(['install', 'web1', zp, '-a', tarball, '-p', '--host-root', host, '--log', log], { env });
  t.equal(i.code, 0, i.stderr);
  const unpacked = /unpacked (\d+) entries/.exec(fs.readFileSync(log, 'utf8'));
  t.equal(doc.counts.output.entries, Number(unpacked?.[1]), 'inspect counted the entries install wrote');
  const changes = fs.readFileSync(path.join(zp, 'root/var/log/web1.p2v.log'), 'latin1').split('\n').slice(1).filter((l) => /^[a-z-]+: /.test(l) && !l.startsWith('dropped: ') && !l.startsWith('note: '));
  t.same(doc.changes.map((c: { rule: string; path: string; action: string; detail?: string }) => `${c.rule}: ${c.path}: ${c.action}${c.detail ? ` (${c.detail})` : ''}`), changes, 'inspect reports the changes install made');
});

t.test('the verdict agrees with install: a host older than the image, inspect 1 naming the package, install 254', async (t) => {
  const r = await inspect(['-d', img, '--host-root', oldHost, '--zone', 'web1', '-p', '--json']);
  t.equal(r.code, 1);
  const doc = JSON.parse(r.stdout);
  t.equal(doc.verdict.ok, false);
  t.ok(doc.issues.some((i: { severity: string; id: string; message: string }) => i.severity === 'blocker' && i.id === 'downgrade' && i.message.includes('SUNWcsr')), 'the blocker names SUNWcsr');
  const zp = path.join(work, 'zones', 'old');
  const i = await runCli(['install', 'web1', zp, '-d', img, '-p', '--host-root', oldHost, '--log', path.join(work, 'old.log')], { env });
  t.equal(i.code, 254, 'install fails as inspect said');
  t.match(i.stderr, /attempt to downgrade package SUNWcsr/);
});

t.test('nested zones met before the index: counted as install would remove them, nothing removed', async (t) => {
  const late = path.join(work, 'late.tar');
  const tr = spawnSync('bash', ['-c', `{ find ./zones ./export/zone2; find . ! -path './zones*' ! -path './export/zone2*'; } | tar --format=pax --numeric-owner --no-recursion -T - -cf ${JSON.stringify(late)}`], { cwd: img, encoding: 'utf8' });
  t.equal(tr.status, 0, tr.stderr);
  const r = await inspect(['-a', late, '--host-root', host, '--json']);
  t.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  t.ok(doc.counts.output.removedLate > 10, `removed late: ${doc.counts.output.removedLate}`);
  t.ok(doc.changes.some((c: { path: string; detail?: string }) => c.path === 'zones/zone1' && /written before the index was seen \(\d+ paths removed\)/.test(c.detail ?? '')));
  t.same(doc.nestedZones.map((z: { name: string }) => z.name), ['zone1', 'zone2']);
  // install removes them from the disk: the same counts in its report.
  const zp = path.join(work, 'zones', 'late');
  const i = await runCli(['install', 'web1', zp, '-a', late, '-p', '-s', '--host-root', host, '--log', path.join(work, 'late.log')], { env });
  t.equal(i.code, 0, i.stderr);
  const installed = fs.readFileSync(path.join(zp, 'root/var/log/web1.p2v.log'), 'latin1').split('\n').filter((l) => l.includes('written before the index was seen'));
  const inspected = doc.changes.filter((c: { detail?: string }) => c.detail?.includes('written before the index was seen')).map((c: { rule: string; path: string; action: string; detail: string }) => `${c.rule}: ${c.path}: ${c.action} (${c.detail})`);
  t.ok(installed.length >= 2, 'install removed zonepaths late');
  t.same(inspected, installed, 'inspect counted the paths install removed');
});

t.test('a truncated archive: an install would fail, inspect says why and exits 1', async (t) => {
  const bad = path.join(work, 'bad.flar');
  const buf = fs.readFileSync(flar);
  fs.writeFileSync(bad, buf.subarray(0, Math.floor(buf.length / 2)));
  const r = await inspect(['-a', bad, '--host-root', host, '--json']);
  t.equal(r.code, 1);
  const doc = JSON.parse(r.stdout);
  t.ok(doc.error && doc.issues[0].id === 'archive' && doc.issues[0].severity === 'blocker', `error: ${doc.error?.message}`);
});

t.test('stdin input, and usage errors exit 253', async (t) => {
  const r = await runCli(['inspect', '-a', '-', '--host-root', host], { env, stdinFile: flar });
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /of stdin/);
  for (const [args, msg] of [
    [[], /exactly one source/],
    [['-a', path.join(work, 'missing.flar')], /not found/],
    [['-d', img, '--ip-type', 'both'], /shared or exclusive/],
    [['-d', img, '-u', '-p'], /both/],
    [['-d', img, '--net', 'net0'], /physical=NAME/],
    [['-d', img, '--zone', 'bad name'], /invalid zone name/],
  ] as [string[], RegExp][]) {
    const u = await runCli(['inspect', ...args], { env });
    t.equal(u.code, 253, `${args.join(' ')}: 253`);
    t.match(u.stderr, msg);
  }
});
