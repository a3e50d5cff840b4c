// --limit NAME=N: every safety cap an error can name is one the user can
// raise from the command line, and the error says how. Each cap is tripped
// through the real CLI, then passed with the limit raised (or tightened, to
// keep the archives small).

import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { parseLimits } from '../src/cli/limits.js';
import { parseInstallArgs } from '../src/cli/install-args.js';
import { installArgv, parsePlan } from '../src/bulk/plan.js';
import { DEFAULT_LIMITS } from '../src/formats/types.js';
import { UsageError } from '../src/errors.js';
import { runCli } from './lib/cli.js';
import { tmpdir } from './lib/tree.js';

const work = tmpdir('zonep2v-limits-');
t.teardown(() => fs.rmSync(work, { recursive: true, force: true }));

/** An odc cpio header and name for `name` with `size` bytes of data following. */
function odc(name: string, size: number, mode = 0o100644): Buffer {
  const o = (n: number, w: number) => n.toString(8).padStart(w, '0');
  const nm = Buffer.from(`${name}\0`, 'latin1');
  const h = `070707${o(1, 6)}${o(1, 6)}${o(mode, 6)}${o(0, 6)}${o(0, 6)}${o(1, 6)}${o(0, 6)}${o(1700000000, 11)}${o(nm.length, 6)}${o(size, 11)}`;
  return Buffer.concat([Buffer.from(h, 'latin1'), nm]);
}
const TRAILER = () => odc('TRAILER!!!', 0, 0);

t.test('parseLimits reads names, units and off', async (t) => {
  t.same(parseLimits().parse, DEFAULT_LIMITS, 'none given: the defaults');
  const l = parseLimits(['entries=200M', 'meta=8MiB', 'ratio=off', 'link-targets=64k', 'bytes=2G', 'held=16M']);
  t.equal(l.sink.maxHeld, 16 * 2 ** 20);
  t.equal(l.parse.maxEntries, 200 * 2 ** 20);
  t.equal(l.parse.maxMetaBytes, 8 * 2 ** 20);
  t.equal(l.maxRatio, Infinity);
  t.equal(l.sink.maxLinkTargetBytes, 64 * 1024);
  t.equal(l.sink.maxBytes, 2 * 2 ** 30);
  t.equal(parseLimits(['ratio=5000']).maxRatio, 5000);
  t.not(parseLimits(['entries=5']).parse, DEFAULT_LIMITS, 'the defaults object is not changed');
  t.equal(DEFAULT_LIMITS.maxEntries, 50_000_000);
  for (const bad of ['entries', 'entries=', '=5', 'entries=-1', 'entries=0', 'entries=1.5', 'meta=5X', 'ratio=none', 'speed=9']) {
    t.throws(() => parseLimits([bad]), UsageError, bad);
  }
  t.throws(() => parseLimits(['speed=9']), /the limits are entries, meta, ratio, link-targets, held and bytes/);
});

t.test('install and bulk take --limit; a bad one is a usage error before anything is done', async (t) => {
  const a = parseInstallArgs(['web1', '/zones/web1', '-a', '/x.flar', '-u', '--limit', 'ratio=off', '--limit=entries=9']);
  t.equal(a.limits.maxRatio, Infinity);
  t.equal(a.limits.parse.maxEntries, 9);
  t.throws(() => parseInstallArgs(['web1', '/zones/web1', '-a', '/x.flar', '-u', '--limit', 'ratio']), UsageError);
  const r = await runCli(['install', 'web1', path.join(work, 'never'), '-a', '/nonexistent.flar', '-u', '--limit', 'speed=1']);
  t.equal(r.code, 253, r.stderr);
  t.notOk(fs.existsSync(path.join(work, 'never')), 'nothing created');

  const plan = path.join(work, 'plan.csv');
  const z = parsePlan('zone,zonepath,source,identity,limit\nweb1,/zones/web1,/a/web1.flar,u,"ratio=off entries=200M"\n', plan).zones[0]!;
  const argv = installArgv(z, '/l', false);
  t.same(argv.slice(argv.indexOf('--limit'), argv.indexOf('--limit') + 4), ['--limit', 'ratio=off', '--limit', 'entries=200M']);
  t.throws(() => parsePlan('zone,zonepath,source,identity,limit\nweb1,/zones/web1,/a/web1.flar,u,ratio=lots\n', plan), /ratio=lots/, 'the plan is checked with the install parser');
});

t.test('entries: the cap names --limit entries, and the option moves it', async (t) => {
  const a = path.join(work, 'five.cpio');
  fs.writeFileSync(a, Buffer.concat([...['a', 'b', 'c', 'd', 'e'].map((n) => odc(n, 0)), TRAILER()]));
  const ok = await runCli(['list', '-a', a]);
  t.equal(ok.code, 0, ok.stderr);
  const r = await runCli(['list', '-a', a, '--limit', 'entries=3']);
  t.not(r.code, 0);
  t.match(r.stderr, /more than 3 entries/);
  t.match(r.stderr, /--limit entries=/);
});

t.test('bytes, link-targets and held: the sink caps, on extract', async (t) => {
  const a = path.join(work, 'links.cpio');
  const target = 'x'.repeat(300);
  fs.writeFileSync(a, Buffer.concat([odc('f', 100), Buffer.alloc(100, 0x61), odc('l1', target.length, 0o120777), Buffer.from(target), odc('l2', target.length, 0o120777), Buffer.from(target), TRAILER()]));
  const dir = (n: string) => {
    const d = path.join(work, n);
    fs.mkdirSync(d);
    return d;
  };
  const ok = await runCli(['extract', '-a', a, '-C', dir('x0')]);
  t.equal(ok.code, 0, ok.stderr);
  t.equal(fs.readlinkSync(path.join(work, 'x0', 'l2')), target);

  const links = await runCli(['extract', '-a', a, '-C', dir('x1'), '--limit', 'link-targets=500']);
  t.not(links.code, 0);
  t.match(links.stderr, /over the limit of 500 bytes/);
  t.match(links.stderr, /--limit link-targets=/);
  t.same(fs.readdirSync(path.join(work, 'x1')), [], 'what was written is removed');

  const held = await runCli(['extract', '-a', a, '-C', dir('x3'), '--limit', 'held=1']);
  t.not(held.code, 0);
  t.match(held.stderr, /over 1 directories and links are waiting/);
  t.match(held.stderr, /--limit held=/);
  t.same(fs.readdirSync(path.join(work, 'x3')), [], 'what was written is removed');

  const bytes = await runCli(['extract', '-a', a, '-C', dir('x2'), '--limit', 'bytes=50']);
  t.not(bytes.code, 0);
  t.match(bytes.stderr, /limit of 50 bytes/);
  t.match(bytes.stderr, /--limit bytes/);
});

t.test('ratio: a gzip stream past 1000:1 over its first GiB stops, and --limit ratio=off lets a trusted one through', async (t) => {
  // A cpio of one 1.1 GiB zero-filled file (a swap file, say), gzipped as
  // concatenated members so the test makes no more than 64 MiB of zeros.
  const piece = zlib.gzipSync(Buffer.alloc(64 * 2 ** 20), { level: 9 });
  const pieces = 18;
  const size = pieces * 64 * 2 ** 20;
  const a = path.join(work, 'zeros.cpio.gz');
  fs.writeFileSync(a, Buffer.concat([zlib.gzipSync(odc('export/swapfile', size)), ...Array<Buffer>(pieces).fill(piece), zlib.gzipSync(TRAILER())]));
  t.ok(size / fs.statSync(a).size > 1000, 'over 1000:1');

  const r = await runCli(['list', '-a', a]);
  t.not(r.code, 0);
  t.match(r.stderr, /decompression ratio over 1000:1/);
  t.match(r.stderr, /--limit ratio=10000 \(or ratio=off\)/);

  const off = await runCli(['list', '-a', a, '--limit', 'ratio=off']);
  t.equal(off.code, 0, off.stderr);
  t.equal(off.stdout, 'export/swapfile\n');
  const high = await runCli(['list', '-a', a, '--limit', 'ratio=2000']);
  t.equal(high.code, 0, high.stderr);
});
