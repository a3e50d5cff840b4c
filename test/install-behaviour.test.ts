// The install hook's contract beyond the happy path: 253 before any write,
// the downgrade refusal (254, root cleaned, every package named), JSON
// events, the progress bar only on a terminal, refusals of a sparse zone,
// a non-empty root and an installed zone; --clean never under a running
// install nor through a zonepath that fails the D-15 checks.

import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import { makeImage } from '../samples/image.js';
import { packImageReport } from '../samples/pack.js';
import { makeHostRoot } from '../samples/host.js';
import { tmpdir } from './lib/tree.js';
import { runCli, BIN } from './lib/cli.js';

const work = tmpdir('zonep2v-inst-');
t.teardown(() => fs.rmSync(work, { recursive: true, force: true }));
const img = path.join(work, 'image');
const host = path.join(work, 'host');
let flar = '';
let cpio = '';

t.before(async () => {
  await makeImage(img, { files: 300, bytes: 1024 * 1024, seed: 3 });
  const r = await packImageReport(img, path.join(work, 'a'), ['flar-Z', 'cpio-odc']);
  flar = r.files['flar-Z']!;
  cpio = r.files['cpio-odc']!;
  makeHostRoot(img, host);
});

const base = (zp: string, extra: string[] = []) => ['install', 'web1', zp, '-a', flar, '-p', '--ip-type', 'shared', '--host-root', host, '--log', `${zp}.log`, ...extra];

t.test('usage errors exit 253 and change nothing', async (t) => {
  const zp = path.join(work, 'zp-usage');
  const cases: [string[], RegExp][] = [
    [['install', 'web1', zp, '-a', flar, '-d', img, '-u'], /cannot specify both archive and directory/],
    [['install', 'web1', zp, '-a', flar], /you must specify -u \(sys-unconfig\) or -p/],
    [['install', 'web1', zp, '-u'], /option: u is only valid with -a or -d/],
    [['install', 'web1', zp, '-a', flar, '-u', '-s', '-v'], /cannot select both silent and verbose modes/],
    [['install', 'web1', zp, '-a', path.join(work, 'missing.flar'), '-u'], /file or directory not found/],
  ];
  for (const [args, msg] of cases) {
    const r = await runCli(args);
    t.equal(r.code, 253, args.join(' '));
    t.match(r.stderr, msg);
    t.notOk(fs.existsSync(zp), 'the zonepath was not created');
  }
  const r = await runCli(['install', 'web1', zp, '-a', flar, '-u', '-s', '-v']);
  t.match(r.stderr, /install -a archive \(-u \| -p\) \[-v \| -s\] \[-b patchid\]\*/, 'the brand usage is printed');
});

t.test('a sparse-root zone is refused with 253', async (t) => {
  const zp = path.join(work, 'zp-sparse');
  const xml = path.join(work, 'sparse.xml');
  fs.writeFileSync(xml, `<?xml version="1.0"?>\n<!DOCTYPE zone PUBLIC "-//Sun Microsystems Inc//DTD Zones//EN" "file:///usr/share/lib/xml/dtd/zonecfg.dtd.1">\n<zone name="web1" zonepath="${zp}" autoboot="false">\n  <inherited-pkg-dir directory="/lib"/>\n  <inherited-pkg-dir directory="/usr"/>\n</zone>\n`);
  const r = await runCli(['install', 'web1', zp, '-a', flar, '-p', '--zone-config', xml, '--host-root', host]);
  t.equal(r.code, 253);
  t.match(r.stderr, /whole-root zone/);
  t.notOk(fs.existsSync(zp));
});

t.test('a downgrade fails the install (254), names every package, and cleans the root', async (t) => {
  const older = path.join(work, 'host-older');
  makeHostRoot(img, older, { olderPackage: 'SUNWcsr', olderVersion: '11.10.0,REV=2004.01.01.00.00' });
  const zp = path.join(work, 'zp-down');
  const r = await runCli(['install', 'web1', zp, '-a', flar, '-p', '--ip-type', 'shared', '--host-root', older, '--log', `${zp}.log`]);
  t.equal(r.code, 254, r.stderr);
  t.match(r.stderr, /^zone 'web1': ERROR: attempt to downgrade package SUNWcsr 11\.10\.0,REV=[\d.]+ to version 11\.10\.0,REV=2004\.01\.01\.00\.00$/m);
  t.match(r.stderr, /Result: \*\*\* Installation FAILED \*\*\*/);
  t.same(fs.readdirSync(path.join(zp, 'root')), [], 'zone root emptied');
  t.notOk(fs.existsSync(path.join(zp, '.zonep2v-state')), 'state back to configured (no marker)');
  t.notOk(fs.existsSync(path.join(zp, 'SUNWdetached.xml')), 'no manifest left');
  t.match(fs.readFileSync(`${zp}.log`, 'utf8'), /attempt to downgrade package SUNWcsr/, 'the log has it too');
});

t.test('--json: one valid JSON event per line, a stage per step, a result', async (t) => {
  const zp = path.join(work, 'zp-json');
  const r = await runCli(base(zp, ['--json']));
  t.equal(r.code, 0, r.stderr);
  const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  t.ok(events.every((e) => e.v === 1 && e.zone === 'web1' && typeof e.time === 'string'), 'versioned events');
  t.same(events.map((e) => e.event).filter((e) => e !== 'progress'), ['start', 'stage', 'unpacked', 'stage', 'stage', 'stage', 'result']);
  t.same(events.filter((e) => e.event === 'stage').map((e) => e.stage), ['installing', 'sanity', 'attach-check', 'handover']);
  const result = events.at(-1)!;
  t.equal(result.ok, true);
  t.equal(result.exit, 0);
  t.notMatch(r.stderr, /\r/, 'no progress bar when stderr is not a terminal');
});

t.test('the progress bar is drawn on a terminal', async (t) => {
  const zp = path.join(work, 'zp-tty');
  const cmd = [process.execPath, BIN, ...base(zp)].map((a) => `'${a}'`).join(' ');
  const out = execFileSync('script', ['-qfec', cmd, '/dev/null'], { encoding: 'latin1', timeout: 120_000 });
  t.match(out, /\r\[[#.]{20}\] \d+% \d+ entries, /, 'a bar with percent and entries, redrawn with \\r');
  t.match(out, /Installation completed successfully/);
  t.equal(JSON.parse(fs.readFileSync(path.join(zp, '.zonep2v-state'), 'utf8')).state, 'installed');
});

t.test('an installed zone, a non-empty root and a failed earlier run are refused (253), --clean recovers', async (t) => {
  const zp = path.join(work, 'zp-json');
  let r = await runCli(base(zp));
  t.equal(r.code, 253);
  t.match(r.stderr, /already installed/);

  const busy = path.join(work, 'zp-busy');
  fs.mkdirSync(path.join(busy, 'root'), { recursive: true, mode: 0o700 });
  fs.writeFileSync(path.join(busy, 'root', 'precious'), 'x');
  r = await runCli(base(busy));
  t.equal(r.code, 254);
  t.match(r.stderr, /Zonepath root .* exists and contains data; remove or move aside prior to install\./);
  t.equal(fs.readFileSync(path.join(busy, 'root', 'precious'), 'utf8'), 'x', 'nothing of the user\'s removed');

  const crashed = path.join(work, 'zp-crashed');
  fs.mkdirSync(path.join(crashed, 'root', 'etc'), { recursive: true, mode: 0o700 });
  fs.writeFileSync(path.join(crashed, '.zonep2v-state'), JSON.stringify({ state: 'incomplete', zone: 'web1', source: cpio, started: 'then', pid: 1 }));
  r = await runCli(base(crashed));
  t.equal(r.code, 253);
  t.match(r.stderr, /zone is incomplete; uninstall required/);
  t.ok(fs.existsSync(path.join(crashed, 'root', 'etc')), 'nothing removed without --clean');
  r = await runCli(base(crashed, ['--clean']));
  t.equal(r.code, 0, r.stderr);
});

t.test('--clean refuses while the install that left the marker still runs (253), and goes on once it ended', async (t) => {
  const zp = path.join(work, 'zp-running');
  fs.mkdirSync(path.join(zp, 'root', 'etc'), { recursive: true, mode: 0o700 });
  fs.writeFileSync(path.join(zp, 'root', 'etc', 'written-by-the-first'), 'x');
  // A live process whose command line names zonep2v stands for the first install.
  const first = spawn('sh', ['-c', 'sleep 60', 'zonep2v-first-install'], { stdio: 'ignore' });
  t.teardown(() => first.kill('SIGKILL'));
  fs.writeFileSync(path.join(zp, '.zonep2v-state'), JSON.stringify({ state: 'incomplete', zone: 'web1', source: cpio, started: 'now', pid: first.pid }));
  let r = await runCli(base(zp, ['--clean']));
  t.equal(r.code, 253, r.stderr);
  t.match(r.stderr, new RegExp(`an install \\(pid ${first.pid}, started now\\) is running`));
  t.ok(fs.existsSync(path.join(zp, 'root', 'etc', 'written-by-the-first')), "the running install's files are left alone");
  t.equal(JSON.parse(fs.readFileSync(path.join(zp, '.zonep2v-state'), 'utf8')).pid, first.pid, 'and its marker');
  first.kill('SIGKILL');
  await new Promise((res) => first.once('exit', res));
  r = await runCli(base(zp, ['--clean']));
  t.equal(r.code, 0, r.stderr);
});

t.test('--clean checks the zonepath (D-15) before it removes anything', async (t) => {
  const real = path.join(work, 'zp-real');
  fs.mkdirSync(path.join(real, 'root', 'etc'), { recursive: true, mode: 0o700 });
  fs.writeFileSync(path.join(real, 'root', 'etc', 'keep'), 'x');
  fs.writeFileSync(path.join(real, '.zonep2v-state'), JSON.stringify({ state: 'incomplete', zone: 'web1', source: cpio, started: 'then', pid: 0 }));
  const link = path.join(work, 'zp-link');
  fs.symlinkSync(real, link);
  const r = await runCli(base(link, ['--clean']));
  t.not(r.code, 0);
  t.match(r.stderr, /is a symbolic link/);
  t.ok(fs.existsSync(path.join(real, 'root', 'etc', 'keep')), 'nothing removed through the link');
});

t.test('a SIGTERM during the hand-over lets the attach finish and says so; the zone is installed', async (t) => {
  const zp = path.join(work, 'zp-sigattach');
  const bin = path.join(work, 'bin-sigattach');
  fs.mkdirSync(bin, { recursive: true });
  const started = path.join(bin, 'attach-started');
  fs.writeFileSync(path.join(bin, 'zoneadm'), `#!/bin/sh\ntouch '${started}'\nsleep 2\nexit 0\n`, { mode: 0o755 });
  const child = spawn(process.execPath, [BIN, ...base(zp)], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}` }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const exited = new Promise<number | null>((res) => child.on('close', (code) => res(code)));
  for (let i = 0; i < 600 && !fs.existsSync(started); i++) await new Promise((res) => setTimeout(res, 50));
  t.ok(fs.existsSync(started), 'zoneadm attach started');
  // The pid in the marker is the install itself (bin/zonep2v.js may start it as a child).
  process.kill(JSON.parse(fs.readFileSync(path.join(zp, '.zonep2v-state'), 'utf8')).pid, 'SIGTERM');
  t.equal(await exited, 0, stderr);
  t.match(stderr, /note: interrupted by SIGTERM came during the hand-over, which was let finish: the zone is installed/);
  t.equal(JSON.parse(fs.readFileSync(path.join(zp, '.zonep2v-state'), 'utf8')).state, 'installed');
});

t.test('a signal during the checks before anything is written is a 253 (not death by the signal, which zoneadm takes as fatal)', async (t) => {
  const zp = path.join(work, 'zp-sigearly');
  const bin = path.join(work, 'bin-sigearly');
  fs.mkdirSync(bin, { recursive: true });
  const started = path.join(bin, 'zonecfg-started');
  fs.writeFileSync(path.join(bin, 'zonecfg'), `#!/bin/sh\ntouch '${started}'\nsleep 2\nprintf 'zonename: web1\\nzonepath: ${zp}\\nbrand: native\\nip-type: shared\\n'\n`, { mode: 0o755 });
  const args = ['install', 'web1', zp, '-a', flar, '-p', '--host-root', host, '--log', `${zp}.log`];
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}` }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const exited = new Promise<number | null>((res) => child.on('close', (code) => res(code)));
  for (let i = 0; i < 600 && !fs.existsSync(started); i++) await new Promise((res) => setTimeout(res, 50));
  t.ok(fs.existsSync(started), 'the zone configuration is being read');
  child.kill('SIGINT');
  t.equal(await exited, 253, stderr);
  t.match(stderr, /interrupted by SIGINT before anything was written/);
  t.notOk(fs.existsSync(zp), 'no zonepath made');
  t.notOk(fs.existsSync(`${zp}.log`), 'no log');
});
