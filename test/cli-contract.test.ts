// The command-line contract as an administrator and zoneadm see it, beyond
// install-behaviour.test.ts: what the screen shows when a run fails with the
// progress bar drawn, and the refusals that must come before anything is
// written (253: no zonepath, no log).

import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { makeImage } from '../samples/image.js';
import { packImageReport } from '../samples/pack.js';
import { makeHostRoot } from '../samples/host.js';
import { tmpdir } from './lib/tree.js';
import { runCli } from './lib/cli.js';

const work = tmpdir('zonep2v-contract-');
t.teardown(() => fs.rmSync(work, { recursive: true, force: true }));
const img = path.join(work, 'image');
const host = path.join(work, 'host');
let cpio = '';
let truncated = '';

t.before(async () => {
  await makeImage(img, { files: 100, bytes: 256 * 1024, seed: 8 });
  cpio = (await packImageReport(img, path.join(work, 'a'), ['cpio-odc'])).files['cpio-odc']!;
  truncated = path.join(work, 'truncated.cpio');
  fs.writeFileSync(truncated, fs.readFileSync(cpio).subarray(0, Math.floor(fs.statSync(cpio).size * 0.7)));
  makeHostRoot(img, host);
});

/** The lines a terminal shows: each line as left by its last carriage return, escapes dropped. */
function screenLines(s: string): string[] {
  return s.split('\n').map((l) => l.slice(l.lastIndexOf('\r') + 1).replace(/\x1b\[K/g, ''));
}

/** Lines where a message (ERROR:, zonep2v:) comes after something else: glued to the bar. */
function glued(s: string): string[] {
  return screenLines(s).filter((l) => /.(ERROR|zonep2v): /.test(l) && !/^ *(ERROR|zonep2v): /.test(l));
}

t.test('a failure with the progress bar drawn: the error starts its own line (install, extract)', async (t) => {
  const zp = path.join(work, 'zp-bar');
  let r = await runCli(['install', 'web1', zp, '-a', truncated, '-p', '--progress', '--host-root', host, '--log', `${zp}.log`]);
  t.equal(r.code, 254, r.stderr);
  t.match(r.stderr, /\r\[[#.]{20}\]/, 'the bar was drawn');
  t.ok(screenLines(r.stderr).some((l) => l.startsWith('ERROR: entry ')), 'the error has its own line');
  t.same(glued(r.stderr), [], 'nothing glued to the bar');

  const out = path.join(work, 'x-bar');
  fs.mkdirSync(out);
  r = await runCli(['extract', '-a', truncated, '-C', out, '--progress']);
  t.equal(r.code, 254);
  t.match(r.stderr, /\r\[[#.]{20}\]/, 'the bar was drawn');
  t.ok(screenLines(r.stderr).some((l) => l.startsWith('zonep2v: error: entry ')), 'the error has its own line');
  t.same(glued(r.stderr), [], 'no warning nor error glued to the bar');
});

t.test('a source that cannot be read is refused before anything is written (253: no zonepath, no log)', async (t) => {
  const zp = path.join(work, 'zp-src');
  const log = path.join(work, 'src.log');
  const fifo = path.join(work, 'fifo');
  fs.rmSync(fifo, { force: true });
  execFileSync('mkfifo', [fifo]);
  const cases: [string[], RegExp][] = [
    [['-d', path.join(work, 'missing-dir'), '-u'], /missing-dir: error: file or directory not found\.\nInstallation aborted\./],
    [['-d', cpio, '-p'], /: Error: must be a directory/],
    [['-d', '-', '-u'], /-d -: installing from data already in the zonepath is not supported/],
    [['-a', img, '-u'], /image: not a regular file \(a directory tree is read with -d/],
    [['-a', fifo, '-u'], /fifo: not a regular file/],
  ];
  for (const [opts, msg] of cases) {
    const r = await runCli(['install', 'web1', zp, ...opts, '--host-root', host, '--log', log]);
    t.equal(r.code, 253, opts.join(' '));
    t.match(r.stderr, msg, opts.join(' '));
    t.notOk(fs.existsSync(zp), 'the zonepath was not created');
    t.notOk(fs.existsSync(log), 'no log was opened');
  }
  for (const cmd of ['inspect', 'convert']) {
    const r = await runCli([cmd, '-d', path.join(work, 'missing-dir'), ...(cmd === 'convert' ? ['-o', path.join(work, 'out.pax')] : [])]);
    t.equal(r.code, 253, `${cmd} -d missing`);
    t.match(r.stderr, /missing-dir: error: file or directory not found\./);
  }
});

t.test('--json: a refusal (253) still ends with a result event on stdout, and nothing else is there', async (t) => {
  const zp = path.join(work, 'zp-json');
  fs.mkdirSync(zp, { recursive: true, mode: 0o700 });
  fs.writeFileSync(path.join(zp, '.zonep2v-state'), JSON.stringify({ state: 'installed', zone: 'web1', source: cpio, started: 'then', pid: 1 }));
  const cases: [string[], string | null, RegExp][] = [
    [['install', 'web1', zp, '-a', cpio, '-u', '--json', '--host-root', host], 'web1', /already installed/],
    [['install', 'web1', zp, '-a', cpio, '-u', '-p', '--json'], null, /cannot select both preserve and unconfigure options/],
    [['install', 'web1', path.join(work, 'zp-none'), '-d', path.join(work, 'missing-dir'), '-p', '--json', '--host-root', host], 'web1', /file or directory not found/],
  ];
  for (const [args, zone, msg] of cases) {
    const r = await runCli(args);
    t.equal(r.code, 253, args.join(' '));
    t.match(r.stderr, msg, 'the message is on stderr');
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    t.same(events.map((e) => e.event), ['error', 'result']);
    t.match(events[1], { v: 1, zone, ok: false, exit: 253, kind: 'usage', message: msg });
  }
  const r = await runCli(['install', 'web1', zp, '-a', cpio, '-u', '-p']);
  t.equal(r.stdout, '', 'nothing on stdout without --json');
});

t.test('bulk: a plan with a bad field and a missing archive lists both problems in one run, starts nothing', async (t) => {
  const dir = path.join(work, 'plan');
  fs.mkdirSync(dir, { recursive: true });
  const plan = path.join(dir, 'wave.csv');
  fs.writeFileSync(plan, `zone,zonepath,source,identity,host-root\nweb1,${dir}/zones/web1,${cpio},x,${host}\nweb2,${dir}/zones/web2,${dir}/missing.flar,u,${host}\n`);
  const r = await runCli(['bulk', plan, '--log-dir', path.join(dir, 'logs')]);
  t.equal(r.code, 253);
  t.match(r.stderr, /\(2 problems\); nothing was started/);
  t.match(r.stderr, /line 2 \(web1\): identity must be u/);
  t.match(r.stderr, /line 3 \(web2\): archive .*missing\.flar: no such file or directory/);
  t.notOk(fs.existsSync(path.join(dir, 'zones')), 'nothing started');
  t.notOk(fs.existsSync(path.join(dir, 'logs')), 'no log directory');
});

t.test('a mistyped --host-root or option file is refused (253), naming the option; it was read as an empty host and the attach check passed', async (t) => {
  const zp = path.join(work, 'zp-host');
  const cases: [string[], RegExp][] = [
    [['install', 'web1', zp, '-a', cpio, '-u', '--host-root', path.join(work, 'no-host')], /--host-root .*no-host: not an existing directory/],
    [['install', 'web1', zp, '-a', cpio, '-u', '--host-root', host, '--zone-config', path.join(work, 'no.xml')], /--zone-config .*no\.xml: no such file/],
    [['install', 'web1', zp, '-a', cpio, '-u', '--host-manifest', path.join(work, 'no.xml')], /--host-manifest .*no\.xml: no such file/],
    [['inspect', '-a', cpio, '--host-root', path.join(work, 'no-host')], /--host-root .*no-host: not an existing directory/],
  ];
  for (const [args, msg] of cases) {
    const r = await runCli(args);
    t.equal(r.code, 253, args.join(' '));
    t.match(r.stderr, msg);
    t.notOk(fs.existsSync(zp), 'nothing written');
  }
});
