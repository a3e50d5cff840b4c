// The bench at a tiny size: it runs end to end (image, pack, alternated runs
// on both targets, table, JSON, chart) and its JSON has the documented shape.
// No timing is asserted. The bench runs in a child without tap's loaders and
// coverage, as `npm run bench` would.

import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tmpdir } from './lib/tree.js';

const runJs = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'bench', 'run.js');
const genJs = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'bench', 'gen-cpio.js');

function node(args: string[], opts: { input?: Buffer } = {}) {
  // env(1) drops the coverage loader tap would add to a node child
  return spawnSync('env', ['-u', 'NODE_OPTIONS', '-u', 'NODE_V8_COVERAGE', process.execPath, ...args], { encoding: 'buffer', maxBuffer: 256 << 20, timeout: 280_000, ...opts });
}

t.test('tiny bench: cpio case, every tool on both targets (--all), JSON shape', async (t) => {
  const out = tmpdir('zonep2v-bench-');
  t.teardown(() => fs.rmSync(out, { recursive: true, force: true }));
  const r = node([runJs, '--files', '400', '--bytes', '2e6', '--runs', '1', '--only', 'cpio', '--all', '--json', '--out', out]);
  const stderr = r.stderr.toString();
  t.equal(r.status, 0, stderr.slice(-2000));
  const res = JSON.parse(r.stdout.toString());
  t.same(JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')), res, 'results.json holds what --json printed');
  t.equal(res.version, 1);
  t.match(res, {
    date: String,
    elapsedSeconds: Number,
    machine: { nproc: Number, memoryGiB: Number, kernel: String, node: process.version, tools: Object },
    options: { files: 400, bytes: 2e6, runs: 1, targets: ['disk', 'tmpfs'], all: true, only: ['cpio'] },
    targets: { disk: { path: String, fs: String }, tmpfs: { path: String, fs: String } },
    rssMethod: /^(gnu-time|proc-poll)$/,
    fixtures: { entries: Number, files: Number, bytes: Number, archives: { 'cpio-odc': { bytes: Number } } },
    notes: Array,
  });
  const rows = res.rows as Record<string, unknown>[];
  const tools = ['zonep2v extract', 'zonep2v install', 'GNU cpio -idm', 'bsdtar -x'];
  for (const target of ['disk', 'tmpfs']) {
    for (const tool of tools) {
      const row = rows.find((x) => x.case === 'cpio' && x.target === target && x.tool === tool);
      if (!row) {
        t.fail(`row ${tool} / ${target} missing`);
        continue;
      }
      if (row.status === 'skipped') {
        t.match(row.note, /not installed/, `${tool} skipped only for a missing tool`);
        continue;
      }
      t.equal(row.status, 'ok', `${tool} / ${target}: ${row.note ?? ''}`);
      t.match(row, { group: 'extract', reference: !tool.startsWith('zonep2v'), medianSeconds: Number, minSeconds: Number, maxSeconds: Number, ratio: Number, ratioTo: String, mbPerSec: null });
      t.equal((row.runs as unknown[]).length, 1, 'one run per --runs');
      t.ok(row.peakRssKiB === null || (typeof row.peakRssKiB === 'number' && row.peakRssKiB > 0), 'peak RSS in KiB');
    }
  }
  t.notOk(rows.some((x) => x.case !== 'cpio'), '--only cpio runs nothing else');
  const svg = fs.readFileSync(path.join(out, 'chart.svg'), 'utf8');
  t.match(svg, /^<\?xml[^]*<svg [^]*zonep2v extract[^]*<\/svg>\s*$/, 'chart.svg is an SVG with the bars');
  t.match(fs.readFileSync(path.join(out, 'results.md'), 'utf8'), /\| case \| tool \| target \|/, 'results.md has the table');
  t.notOk(fs.existsSync(path.join(out, 'work')), 'the disk target is cleaned up');
});

t.test('gen-cpio: a deterministic odc stream that GNU cpio lists', async (t) => {
  const a = node([genJs, String(3 << 20), '5']);
  const b = node([genJs, String(3 << 20), '5']);
  t.equal(a.status, 0, 'the generator exits 0');
  t.ok(a.stdout.equals(b.stdout), 'same seed, same bytes');
  t.ok(a.stdout.length >= 3 << 20 && a.stdout.length % 512 === 0, `${a.stdout.length} bytes, padded to 512`);
  t.equal(a.stdout.subarray(0, 6).toString('latin1'), '070707');
  const summary = JSON.parse(a.stderr.toString().trim());
  const list = spawnSync('cpio', ['-it', '--quiet'], { input: a.stdout, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (list.error) {
    t.pass('GNU cpio not installed: listing not checked');
    return;
  }
  t.equal(list.status, 0, list.stderr);
  t.equal(list.stdout.trim().split('\n').length, summary.entries, 'every entry lists');
});

t.test('the bench starts zonep2v as its launcher does: environment and node flags from the shebang', async (t) => {
  const util = await import('../bench/util.js');
  const shebang = fs.readFileSync(util.BIN, 'utf8').split('\n', 1)[0]!;
  t.match(shebang, /^#!\/usr\/bin\/env -S /, 'the launcher sets its environment and flags through env -S');
  for (const [k, v] of Object.entries(util.BIN_ENV)) t.ok(shebang.includes(` ${k}=${v} `), `${k}=${v} is the shebang's`);
  t.equal(util.BIN_ENV['MALLOC_ARENA_MAX'], '1', 'one malloc arena');
  t.ok(util.BIN_NODE_FLAGS.includes('--max-semi-space-size=1'), 'a small young generation');
  t.notOk(util.BIN_NODE_FLAGS.some((f: string) => f.includes('=') && !f.startsWith('--')), 'no environment assignment among the node flags');
  t.equal(util.binEnv({ A: 'b' })['MALLOC_ARENA_MAX'], '1', 'binEnv adds the environment to a base');
  t.equal(util.binEnv({ A: 'b' })['A'], 'b');
});
