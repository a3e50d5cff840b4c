// The zonep2v bench: `npm run bench -- [options]` (node dist/bench/run.js).
//
// Generates a sample image, packs it in each format the cases need, and runs
// zonep2v against the reference tools, alternating the tools of a case
// (A B A B ...) into fresh directories on two targets (the real disk and a
// tmpfs), then prints a table and writes results.json, results.md and
// chart.svg under --out. See bench/README.md.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { spawn, spawnSync } from 'node:child_process';
import { availableTools, CASES, selectCases, type Case } from './cases.js';
import { prepareFixtures, type FixtureName, type Fixtures } from './fixtures.js';
import { killCurrent, measure, rssMethod } from './measure.js';
import { markdownReport, summarize, textTable, type RawTool, type Results, type Row } from './report.js';
import { ratioChart } from './chart.js';
import { fsType, machine } from './sysinfo.js';
import { runMemory } from './memory.js';
import { log, parseSize, REPO, rmrf, sh } from './util.js';

export const USAGE = `usage: npm run bench -- [options]     (node dist/bench/run.js [options])

  --files N          files in the sample image (default 20000)
  --bytes N          bytes of file data (default 300e6; accepts 300e6, 300MB, 1GiB)
  --seed N           image seed (default 1)
  --runs N           measured runs of each tool per target (default 5)
  --warmup N         unmeasured rounds first (default 0; the archives are read into the page cache anyway)
  --targets LIST     disk,tmpfs: run every case on these (default: both, except the
                     decoder-bound cases bzip2, compress, flar-Z: tmpfs; see --all)
  --all              the full matrix: every case on both targets (or --targets) and the
                     lbzip2 pipeline beside bzip2, references of decode:bzip2
  --only LIST        cases or groups: ${[...new Set(CASES.flatMap((c) => [c.group, c.name]))].join(', ')}
  --json             print the results as JSON on stdout (always written to OUT/results.json)
  --out DIR          results, fixture cache and the disk target (default bench/out)
  --fresh            rebuild the cached fixtures
  --publish / --no-publish
                     copy results.md and chart.svg to bench/results/ (default: only for a
                     full run at the default size or larger into the default --out)
  --memory           run the constant-memory check instead (see --memory-sizes)
  --memory-sizes L   sizes streamed (default 100MiB,1GiB,2GiB,8GiB)
  --memory-target T  where --memory extracts: auto (tmpfs when RAM allows, else disk), tmpfs, disk
  -h, --help         this text`;

export interface BenchOptions {
  files: number;
  bytes: number;
  seed: number;
  runs: number;
  warmup: number;
  targets: string[];
  /** --targets was given: it overrides the cases' default targets. */
  targetsGiven: boolean;
  all: boolean;
  only: string[] | undefined;
  json: boolean;
  out: string;
  fresh: boolean;
  publish: boolean | undefined;
  memory: boolean;
  memorySizes: number[];
  memoryTarget: 'auto' | 'tmpfs' | 'disk';
}

export const DEFAULTS = { files: 20000, bytes: 300e6 };
const DEFAULT_OUT = path.join(REPO, 'bench', 'out');

function parse(argv: string[]): BenchOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      files: { type: 'string' },
      bytes: { type: 'string' },
      seed: { type: 'string' },
      runs: { type: 'string' },
      warmup: { type: 'string' },
      targets: { type: 'string' },
      all: { type: 'boolean' },
      only: { type: 'string' },
      json: { type: 'boolean' },
      out: { type: 'string' },
      fresh: { type: 'boolean' },
      publish: { type: 'boolean' },
      'no-publish': { type: 'boolean' },
      memory: { type: 'boolean' },
      'memory-sizes': { type: 'string' },
      'memory-target': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) return 'help';
  const int = (s: string | undefined, d: number, name: string, min = 0) => {
    if (s === undefined) return d;
    const n = Number(s);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name}: not an integer >= ${min}: ${s}`);
    return n;
  };
  const targets = (values.targets ?? 'disk,tmpfs').split(',').filter(Boolean);
  for (const t of targets) if (t !== 'disk' && t !== 'tmpfs') throw new Error(`--targets: unknown target ${t} (disk, tmpfs)`);
  const mt = values['memory-target'] ?? 'auto';
  if (mt !== 'auto' && mt !== 'tmpfs' && mt !== 'disk') throw new Error(`--memory-target: auto, tmpfs or disk`);
  return {
    files: int(values.files, DEFAULTS.files, 'files', 1),
    bytes: values.bytes === undefined ? DEFAULTS.bytes : parseSize(values.bytes),
    seed: int(values.seed, 1, 'seed'),
    runs: int(values.runs, 5, 'runs', 1),
    warmup: int(values.warmup, 0, 'warmup'),
    targets,
    targetsGiven: values.targets !== undefined,
    all: !!values.all,
    only: values.only ? values.only.split(',').filter(Boolean) : undefined,
    json: !!values.json,
    out: path.resolve(values.out ?? DEFAULT_OUT),
    fresh: !!values.fresh,
    publish: values.publish ? true : values['no-publish'] ? false : undefined,
    memory: !!values.memory,
    memorySizes: (values['memory-sizes'] ?? '100MiB,1GiB,2GiB,8GiB').split(',').filter(Boolean).map(parseSize),
    memoryTarget: mt,
  };
}

/** Base directories of the targets, checked for what they are. */
function targetDirs(o: BenchOptions, notes: string[]): Record<string, { path: string; fs: string }> {
  const t: Record<string, { path: string; fs: string }> = {};
  if (o.targets.includes('disk')) {
    const p = path.join(o.out, 'work');
    fs.mkdirSync(p, { recursive: true });
    t.disk = { path: p, fs: fsType(p) };
    if (t.disk.fs === 'tmpfs' || t.disk.fs === 'ramfs') notes.push(`the disk target ${p} is on ${t.disk.fs}, not a disk: give --out on a real disk`);
  }
  if (o.targets.includes('tmpfs')) {
    const p = path.join('/dev/shm', `zonep2v-bench-${process.pid}`);
    fs.mkdirSync(p, { recursive: true });
    t.tmpfs = { path: p, fs: fsType(p) };
    if (t.tmpfs.fs !== 'tmpfs') notes.push(`/dev/shm is ${t.tmpfs.fs} here, not tmpfs`);
  }
  return t;
}

/** The telling lines of a failed command's stderr: the first error line and the last line. */
function errorSummary(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  const first = lines.find((l) => /error|Error|cannot|failed/.test(l)) ?? lines[0] ?? '';
  const last = lines[lines.length - 1] ?? '';
  return (first === last ? first : `${first} ... ${last}`).slice(0, 300);
}

/**
 * Where finished runs go. tmpfs trees are removed at once. Disk trees are
 * kept until the end of the bench (or until free space runs short): on a
 * journal-less ext4, such as this machine's root, the inode allocator skips
 * inodes deleted in the last minutes (ext4 recently_deleted(), which reads
 * their inode table blocks), so a 20 000-file extraction right after
 * deleting the previous one spent most of its 15-35 s in that scan (perf),
 * for every tool alike and with a wide spread. Each run still gets a fresh,
 * empty directory; only the deletion is deferred.
 */
class Scratch {
  private kept: string[] = [];
  flushes = 0;
  constructor(private readonly treeBytes: number) {}
  finished(dir: string, target: string): void {
    if (target === 'disk') this.kept.push(dir);
    else rmrf(dir);
  }
  /**
   * Before a disk run: write back what earlier runs left dirty (untimed),
   * so that no run pays for the writeback of the runs before it (65 runs of
   * 300 MB pile up gigabytes of dirty pages, flushed by kernel threads on
   * the same 2 CPUs); then make room: keep 3 trees and 4 GiB free.
   */
  beforeRun(base: string, target: string): void {
    if (target !== 'disk') return;
    spawnSync('sync', ['-f', base], { stdio: 'ignore' });
    if (this.kept.length === 0) return;
    const st = fs.statfsSync(base);
    if (st.bavail * st.bsize < 3 * this.treeBytes + 4 * 2 ** 30) this.flush();
  }
  /**
   * Remove the disk work directory. Hundreds of thousands of entries take a
   * minute or two on this ext4: past 100 000 the directory is renamed away
   * and removed by a detached `rm -rf` while the bench reports.
   */
  dispose(dir: string, entriesPerTree: number): void {
    const n = this.kept.length;
    this.kept = [];
    if (n * entriesPerTree < 100_000) {
      rmrf(dir);
      return;
    }
    const trash = `${dir}.trash-${process.pid}`;
    try {
      fs.renameSync(dir, trash);
    } catch {
      rmrf(dir);
      return;
    }
    spawn('rm', ['-rf', '--one-file-system', trash], { detached: true, stdio: 'ignore' }).unref();
    log(`removing the ${n} disk trees in the background (${trash})`);
  }
  flush(): void {
    if (this.kept.length === 0) return;
    log(`removing ${this.kept.length} kept disk tree(s) for space`);
    for (const d of this.kept) rmrf(d);
    this.kept = [];
    this.flushes++;
  }
}

async function runCase(c: Case, target: string, base: string, fx: Fixtures, o: BenchOptions, scratch: Scratch): Promise<Row[]> {
  const { tools, missing } = availableTools(c, target, o.all || o.targetsGiven);
  const archive = fx.files[c.input]!;
  const raw: RawTool[] = tools.map((t) => ({ tool: t.name, reference: t.ref, runs: [], rss: [], mbps: [] }));
  let n = 0;
  const once = async (ti: number, round: number, record: boolean) => {
    const t = tools[ti]!;
    const r = raw[ti]!;
    // A tool that failed twice is not run again in this case (a single
    // failure may be transient, e.g. dist/ being rebuilt under the bench).
    if ((r.failures ?? 0) >= 2) {
      if (record) r.runs.push(null), r.rss.push(null), r.mbps.push(null);
      return '';
    }
    scratch.beforeRun(base, target);
    const dir = path.join(base, `${c.name.replace(/[^a-z0-9-]/gi, '_')}-${n++}`);
    rmrf(dir);
    fs.mkdirSync(dir, { recursive: true });
    const m = await measure(t.cmd({ out: dir, archive, fx }), dir, { capture: t.json });
    scratch.finished(dir, target);
    if (!m.ok && t.accept) {
      const note = t.accept(m.code, m.stderr);
      if (note) {
        m.ok = true;
        r.note = note;
      }
    }
    let mbps: number | null = null;
    if (m.ok && t.json) {
      try {
        mbps = (JSON.parse(m.stdout.trim().split('\n').pop()!) as { mbPerSec: number }).mbPerSec;
      } catch {
        /* left empty */
      }
    }
    if (!m.ok) {
      r.failures = (r.failures ?? 0) + 1;
      const why = `exit ${m.code} in ${round < 0 ? 'warm-up' : `round ${round + 1}`}: ${errorSummary(m.stderr)}`;
      r.failed = r.failed ? `${r.failed}; ${why}` : why;
      log(`  ${t.name} FAILED: ${why}`);
    }
    if (record) {
      r.runs.push(m.ok ? m.seconds : null);
      r.rss.push(m.ok ? (m.rssKiB ?? null) : null);
      r.mbps.push(mbps);
    }
    return m.ok ? `${t.name} ${m.seconds.toFixed(2)}s` : `${t.name} failed`;
  };
  for (let w = 0; w < o.warmup; w++) for (let ti = 0; ti < tools.length; ti++) await once(ti, -1, false);
  for (let round = 0; round < o.runs; round++) {
    const parts: string[] = [];
    for (let ti = 0; ti < tools.length; ti++) parts.push(await once(ti, round, true));
    log(`[${c.name}/${target} ${round + 1}/${o.runs}] ${parts.filter(Boolean).join(' | ')}`);
  }
  const rows = summarize(c.name, c.group, target, raw);
  for (const m of missing) rows.push(skippedRow(c, m.tool, target, m.reason));
  return rows;
}

function skippedRow(c: Case, tool: string, target: string, reason: string): Row {
  return { case: c.name, group: c.group, tool, target, reference: !tool.startsWith('zonep2v'), status: 'skipped', runs: [], medianSeconds: null, minSeconds: null, maxSeconds: null, ratio: null, ratioTo: null, peakRssKiB: null, mbPerSec: null, note: reason };
}

export async function bench(o: BenchOptions): Promise<Results> {
  const started = Date.now();
  const notes: string[] = [];
  const cases = selectCases(o.only);
  const need = new Set<FixtureName>();
  for (const c of cases) {
    need.add(c.input);
    for (const a of c.also ?? []) need.add(a);
  }
  const mach = machine();
  fs.mkdirSync(o.out, { recursive: true });
  const fx = await prepareFixtures(path.join(o.out, 'fixtures'), { files: o.files, bytes: o.bytes, seed: o.seed, need, fresh: o.fresh });
  for (const [f, why] of Object.entries(fx.skipped)) notes.push(`${f}: not made: ${why}`);
  // Read every input once so that every tool finds it in the page cache.
  const inputs = [...new Set(cases.map((c) => fx.files[c.input]).filter((f): f is string => !!f))];
  if (inputs.length) sh(`cat ${inputs.map((f) => `'${f}'`).join(' ')} > /dev/null`);
  // Write back what making the fixtures left dirty (gigabytes on a fresh
  // clone) before the first timed run: the kernel's flusher threads would
  // otherwise share the 2 CPUs with the first cases, the tmpfs ones.
  spawnSync('sync', { stdio: 'ignore' });
  const targets = targetDirs(o, notes);
  const rows: Row[] = [];
  const scratch = new Scratch(Math.max(fx.counts.bytes, 1) * 1.2 + fx.counts.entries * 4096);
  const onSignal = (sig: NodeJS.Signals) => {
    log(`${sig}: stopping the running command and removing the work directories`);
    killCurrent();
    for (const t of Object.values(targets)) rmrf(t.path);
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    // tmpfs first, then parse only, then the disk: the disk runs come last,
    // as far as possible from earlier deletions (see Scratch).
    const jobs: { c: Case; t: string }[] = [];
    for (const t of ['tmpfs', '-', 'disk']) {
      for (const c of cases) {
        const tlist = !c.writes ? ['-'] : Object.keys(targets).filter((x) => o.all || o.targetsGiven || (c.defaultTargets ?? ['disk', 'tmpfs']).includes(x));
        if (tlist.includes(t)) jobs.push({ c, t });
      }
    }
    for (const { c, t } of jobs) {
      if (!fx.files[c.input]) {
        for (const tool of c.tools) rows.push(skippedRow(c, tool.name, t, `no ${c.input} input: ${fx.skipped[c.input] ?? 'not made'}`));
        continue;
      }
      // Parse-only writes nothing: any scratch directory does as working directory.
      const base = t === '-' ? (targets.tmpfs ?? targets.disk)?.path ?? os.tmpdir() : targets[t]!.path;
      rows.push(...(await runCase(c, t, base, fx, o, scratch)));
    }
    // Back in case order, disk before tmpfs.
    const order = (r: Row) => cases.findIndex((c) => c.name === r.case) * 10 + ['disk', 'tmpfs', '-'].indexOf(r.target);
    rows.sort((a, b) => order(a) - order(b));
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (targets.tmpfs) rmrf(targets.tmpfs.path);
    if (targets.disk) scratch.dispose(targets.disk.path, fx.counts.entries);
  }
  if (!o.all && !o.targetsGiven && Object.keys(targets).length > 1) {
    notes.push('default matrix (to stay within 10 minutes): the decoder-bound cases (bzip2, compress, flar-Z) on tmpfs only, bzip2 without the lbzip2 pipeline beside it, decode:bzip2 without references; `--all` runs every case and every reference on both targets');
  }
  const seen = new Set<string>();
  for (const r of rows) {
    if (r.status !== 'ok' || !r.note || seen.has(r.note)) continue;
    seen.add(r.note);
    notes.push(`${r.case} / ${r.tool}: ${r.note}`);
  }
  if (targets.disk) {
    notes.push('disk runs are not synced (the page cache absorbs 300 MB; what the disk target adds is the file system\'s metadata work), but each starts after an untimed `sync -f`, so that it does not pay for the writeback of the runs before it; their trees are deleted at the end of the bench, not between runs: on a journal-less ext4 the inode allocator skips recently deleted inodes by reading their inode tables, which made a run right after deleting the previous tree 5-10 times slower for every tool (see bench/README.md)');
    if (scratch.flushes) notes.push(`free space ran short: kept disk trees were deleted ${scratch.flushes} time(s) during the bench, so some disk runs paid the recently-deleted-inode scan`);
  }
  const archives: Record<string, { bytes: number }> = {};
  for (const [k, f] of Object.entries(fx.files)) if (f && fs.statSync(f).isFile()) archives[k] = { bytes: fs.statSync(f).size };
  return {
    version: 1,
    date: new Date().toISOString(),
    elapsedSeconds: Math.round((Date.now() - started) / 100) / 10,
    machine: mach,
    options: { files: o.files, bytes: o.bytes, seed: o.seed, runs: o.runs, warmup: o.warmup, targets: o.targets, all: o.all, only: o.only ?? null },
    targets,
    rssMethod: rssMethod(),
    fixtures: { ...fx.counts, buildSeconds: Math.round(fx.buildSeconds * 10) / 10, archives, skipped: fx.skipped as Record<string, string> },
    rows,
    notes,
  };
}

export function writeResults(res: Results, o: BenchOptions): string[] {
  const written: string[] = [];
  const w = (p: string, s: string) => {
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, s);
    written.push(p);
  };
  const title = `zonep2v vs reference tools: ${res.fixtures.files} files, ${(res.fixtures.bytes / 1e6).toFixed(0)} MB, ${res.machine.nproc} CPUs (${res.date.slice(0, 10)})`;
  const svg = ratioChart(res.rows, title);
  const md = markdownReport(res);
  w(path.join(o.out, 'results.json'), `${JSON.stringify(res, null, 1)}\n`);
  w(path.join(o.out, 'results.md'), md);
  w(path.join(o.out, 'chart.svg'), svg);
  const full = o.files >= DEFAULTS.files && o.bytes >= DEFAULTS.bytes && !o.only && o.runs >= 5 && o.out === DEFAULT_OUT && o.targets.length === 2 && !o.targetsGiven;
  if (o.publish ?? full) {
    w(path.join(REPO, 'bench', 'results', 'latest.md'), md);
    w(path.join(REPO, 'bench', 'results', 'chart.svg'), svg);
  }
  return written;
}

export async function main(argv: string[]): Promise<number> {
  let o: BenchOptions | 'help';
  try {
    o = parse(argv);
    if (o !== 'help') selectCases(o.only);
  } catch (e) {
    process.stderr.write(`bench: ${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (o === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (o.memory) return runMemory(o);
  const res = await bench(o);
  const written = writeResults(res, o);
  const table = textTable(res.rows);
  if (o.json) {
    process.stderr.write(`${table}\n`);
    process.stdout.write(`${JSON.stringify(res, null, 1)}\n`);
  } else process.stdout.write(`${table}\n\n* reference tool; ratio = median of per-round ratios to the fastest reference\n`);
  for (const n of res.notes) log(`note: ${n}`);
  log(`done in ${(res.elapsedSeconds / 60).toFixed(1)} min (fixtures ${res.fixtures.buildSeconds.toFixed(0)} s); wrote ${written.map((p) => path.relative(process.cwd(), p) || p).join(', ')}`);
  return res.rows.some((r) => r.status === 'failed') ? 1 : 0;
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname);
if (isMain) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (e) => {
      process.stderr.write(`bench: ${(e as Error).stack ?? e}\n`);
      process.exitCode = 1;
    },
  );
}
