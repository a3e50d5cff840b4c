// The hostile-input corpus (test/hostile/cases.ts: security.md section 1,
// groups A-H, in every format that can express each attack) run through
// `zonep2v extract`: in-process (openArchive -> FsSink with the CLI's abort
// semantics, test/hostile/harness.ts) for every case, and through the real
// CLI for a sample. Every case extracts into a fresh root with a canary
// directory beside it. Invariants for all: nothing outside the root is
// created, changed or deleted (canary snapshot, the root's siblings,
// /etc/passwd, /tmp); a rejection is an ArchiveError that names the entry
// (or the offset), exits 254, and leaves the root exactly as it was before.

import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { ArchiveError } from '../src/errors.js';
import { displayPath } from '../src/entry.js';
import { CORPUS, EVIL, NOT_HERE, Skip, type Ctx, type HostileCase } from './hostile/cases.js';
import { extract, fileHash, outcome, type Extracted } from './hostile/harness.js';
import { encodeTar } from './hostile/gen/entries.js';
import { isRoot, setupEnv, type Env } from './sink-lib.js';
import { diffTrees, snapshot, tmpdir } from './lib/tree.js';
import { BIN, runCli } from './lib/cli.js';
import { Report } from '../src/rules/report.js';

const table = new Map<string, Map<string, string[]>>();
function record(id: string, fmt: string, what: string): void {
  const row = table.get(id) ?? new Map<string, string[]>();
  table.set(id, row);
  const l = row.get(what) ?? [];
  if (!l.includes(fmt)) l.push(fmt);
  row.set(what, l);
}

const passwd = fileHash('/etc/passwd');
const evil = `/tmp/${EVIL}`;
const files = tmpdir('zonep2v-hostile-archives-');
t.teardown(() => fs.rmSync(files, { recursive: true, force: true }));

/** The problems with one run of one case (empty: as the catalogue says). */
function judge(c: HostileCase, r: Extracted, ctx: Ctx, env: Env, rootBefore: ReturnType<typeof snapshot>): string[] {
  const p: string[] = [];
  if (r.timedOut) return [`no result within the time bound (${c.timeoutMs ?? 10_000} ms): a hang`];
  if (r.error !== undefined && !(r.error instanceof ArchiveError)) return [`not an ArchiveError: ${String((r.error as Error)?.stack ?? r.error)}`];
  const err = r.error as ArchiveError | undefined;
  const x = c.expect;
  if (x.reject) {
    if (!err) p.push(`accepted; expected a rejection (${x.reject.join(' | ')})`);
    else {
      if (!x.reject.includes(err.kind)) p.push(`rejected as ${err.kind} (${err.message}); expected ${x.reject.join(' | ')}`);
      if (r.code !== 254) p.push(`exit ${r.code}, expected 254`);
      if (r.left.length) p.push(`cleanup left ${r.left.join(', ')}`);
      const want = typeof x.entry === 'function' ? x.entry(ctx) : x.entry;
      if (want !== undefined && want !== null && err.entry !== want) p.push(`error names ${JSON.stringify(err.entry)}, expected ${JSON.stringify(want)}`);
      if (err.entry === undefined && err.offset === undefined) p.push(`error names neither an entry nor an offset: ${err.message}`);
      if (err.entry !== undefined && !err.message.includes(displayPath(err.entry))) p.push(`message does not show the escaped entry: ${err.message}`);
      if (err.entry === undefined && !/at offset \d+/.test(err.message)) p.push(`message does not give the offset: ${err.message}`);
      if (/[\x00-\x1f\x7f]/.test(err.message)) p.push('raw control bytes in the message');
      const d = diffTrees(rootBefore, snapshot(ctx.root));
      if (d.length) p.push(`root not back to its prior state: ${d.slice(0, 5).join('; ')}`);
    }
  } else {
    if (err) p.push(`rejected (${err.kind}: ${err.message}); expected to be handled`);
    else {
      const kinds = new Set(r.warnings.map((w) => w.kind));
      for (const w of x.warn ?? []) if (!kinds.has(w)) p.push(`no ${w} warning (got ${[...kinds].join(', ') || 'none'})`);
    }
  }
  if (!err || x.reject) p.push(...(x.check?.(r, ctx) ?? []));
  p.push(...env.outside().map((d) => `outside the root: ${d}`));
  if (fileHash('/etc/passwd') !== passwd) p.push('/etc/passwd changed');
  if (fs.existsSync(evil)) p.push(`${evil} was created`);
  return p;
}

for (const c of CORPUS) {
  const skip = c.rootOnly && !isRoot ? 'needs root (owners, setuid)' : false;
  t.test(`${c.id} [${c.fmt}] ${c.title}`, { skip }, async (t) => {
    const env = setupEnv();
    t.teardown(env.cleanup);
    const ctx: Ctx = { root: env.root, canary: env.canary, base: env.base };
    try {
      await c.prepare?.(ctx);
    } catch (e) {
      if (!(e instanceof Skip)) throw e;
      record(c.id, c.fmt, `skipped (${e.message})`);
      t.pass(`skipped: ${e.message}`);
      return;
    }
    const buf = c.build(ctx);
    if (!buf) {
      record(c.id, c.fmt, 'skipped (tool missing)');
      t.pass(`${c.fmt}: the tool to build it is not installed; skipped`);
      return;
    }
    const before = snapshot(env.root);
    const r = await extract(buf, env.root, { lenient: c.lenient, limits: c.limits, timeoutMs: c.timeoutMs });
    const problems = judge(c, r, ctx, env, before);
    record(c.id, c.fmt, problems.length ? `FAIL ${outcome(r)}` : outcome(r));
    t.same(problems, [], `${outcome(r)}${r.error instanceof ArchiveError ? `: ${r.error.message.slice(0, 300)}` : ''}`);

    if (c.cli && problems.length === 0) {
      // The same archive through the real CLI, into a fresh root.
      const env2 = setupEnv();
      t.teardown(env2.cleanup);
      const ctx2: Ctx = { root: env2.root, canary: env2.canary, base: env2.base };
      await c.prepare?.(ctx2);
      const file = path.join(files, `${c.id}-${c.fmt}-${Math.random().toString(36).slice(2)}`);
      fs.writeFileSync(file, c.build(ctx2)!);
      const before2 = snapshot(env2.root);
      const res = await runCli(['extract', '-a', file, '-C', env2.root]);
      if (c.expect.reject) {
        t.equal(res.code, 254, `CLI exit 254\n${res.stderr}`);
        t.match(res.stderr, /zonep2v: error: /, 'CLI reports the error');
        if (r.error instanceof ArchiveError && r.error.entry !== undefined) t.ok(res.stderr.includes(displayPath(r.error.entry)), 'CLI names the entry');
        t.match(res.stderr, /what this run wrote was removed/);
        t.same(diffTrees(before2, snapshot(env2.root)), [], 'CLI: root back to its prior state');
      } else {
        t.equal(res.code, 0, `CLI exit 0\n${res.stderr}`);
      }
      t.same(env2.outside(), [], 'CLI: nothing changed outside the root');
    }
  });
}

t.test('CLI: an archive on stdin is rejected and cleaned up the same way', async (t) => {
  const env = setupEnv();
  t.teardown(env.cleanup);
  const buf = encodeTar([{ name: 'good', data: 'x' }, { name: 'd', type: 'symlink', link: env.canary }, { name: 'd/victim', data: 'PWNED' }], 'pax');
  const r = await runCli(['extract', '-a', '-', '-C', env.root], { stdin: buf });
  t.equal(r.code, 254, r.stderr);
  t.ok(r.stderr.includes('entry "d/victim"'), 'names the entry');
  t.same(fs.readdirSync(env.root), [], 'root empty again');
  t.same(env.outside(), []);
});

t.test('A14/D-16: list, extract -v and the p2v report escape control bytes in names', async (t) => {
  const env = setupEnv();
  t.teardown(env.cleanup);
  const evilName = 'x\n-rw-r--r-- root root etc/passwd\x1b[2J\x9b1m';
  const file = path.join(files, 'a14-cli.tar');
  fs.writeFileSync(file, encodeTar([{ name: evilName, data: 'x' }, { name: 'caf\xe9', data: 'y' }], 'pax'));
  const raw = /[\x00-\x09\x0b-\x1f\x7f]|\u009b|\ufffd/;
  for (const args of [['list', '-a', file], ['list', '-v', '-a', file]]) {
    const r = await runCli(args);
    t.equal(r.code, 0, r.stderr);
    t.equal(r.stdout.trimEnd().split('\n').length, 2, `${args.join(' ')}: one line per entry`);
    t.notMatch(r.stdout, raw, `${args.join(' ')}: no raw control bytes`);
  }
  const r = await runCli(['extract', '-v', '-a', file, '-C', env.root]);
  t.equal(r.code, 0, r.stderr);
  t.notMatch(r.stderr, raw, 'extract -v: no raw control bytes');
  const report = new Report();
  report.add('exclusions', 'dev/x\x1b[5m\nfake: line', 'dropped', 'hard link to excluded dev/null\x1b[2J');
  report.note('two\nlines, one \x1b escape');
  t.equal(report.toText(), 'exclusions: dev/x\\033[5m\\nfake: line: dropped (hard link to excluded dev/null\\033[2J)\nnote: two\nlines, one \\x1b escape\n');
});

t.test('H3: -C given as a symbolic link is refused before anything is written', async (t) => {
  const env = setupEnv();
  t.teardown(env.cleanup);
  const link = path.join(files, `root-link-${process.pid}`);
  fs.symlinkSync(env.canary, link);
  t.teardown(() => fs.rmSync(link, { force: true }));
  const file = path.join(files, 'h3.tar');
  fs.writeFileSync(file, encodeTar([{ name: 'victim', data: 'PWNED' }, { name: 'new', data: 'x' }], 'ustar'));
  const r = await runCli(['extract', '-a', file, '-C', link]);
  t.equal(r.code, 253, `usage error, nothing changed\n${r.stderr}`);
  t.match(r.stderr, /symbolic link/);
  t.notMatch(r.stderr, /internal error/);
  t.same(env.outside(), [], 'the link target is unchanged');
});

t.test('CLI: extract interrupted by SIGTERM while waiting for input removes what it wrote', async (t) => {
  const env = setupEnv();
  t.teardown(env.cleanup);
  const first = encodeTar(Array.from({ length: 20 }, (_, i) => ({ name: `d${i}/f`, data: 'x'.repeat(100) })), 'ustar');
  const child = spawn(process.execPath, [BIN, 'extract', '-a', '-', '-C', env.root], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  // Everything but the end-of-archive marker: the reader then waits for more.
  child.stdin.write(first.subarray(0, first.length - 1024));
  const deadline = Date.now() + 10_000;
  while (fs.readdirSync(env.root).length < 20 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  t.ok(fs.readdirSync(env.root).length >= 20, 'the entries before the stall were written');
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  const res = await closed;
  clearTimeout(timer);
  child.stdin.destroy();
  t.equal(res.signal, null, `exited by itself, not killed (${stderr})`);
  t.equal(res.code, 254, stderr);
  t.match(stderr, /interrupted by SIGTERM/);
  t.same(fs.readdirSync(env.root), [], 'what it wrote was removed');
  t.same(env.outside(), []);
});

t.test('coverage table', async (t) => {
  const lines = ['catalogue row | formats | outcome'];
  const ids = [...table.keys()].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  for (const id of ids) for (const [what, fmts] of table.get(id)!) lines.push(`${id} | ${fmts.join(',')} | ${what}`);
  for (const [id, why] of Object.entries(NOT_HERE)) lines.push(`${id} | - | ${why}`);
  t.comment(lines.join('\n'));
  if (process.env.ZONEP2V_HOSTILE_TABLE) fs.writeFileSync(process.env.ZONEP2V_HOSTILE_TABLE, `${lines.join('\n')}\n`);
  t.ok(table.size > 0);
});
