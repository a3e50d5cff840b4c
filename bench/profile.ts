// Where zonep2v's extract time goes:
//
//   node dist/bench/profile.js [--archive FILE] [--dest DIR] [--top N] [--out DIR] [--strace] [--env K=V]...
//
// Runs `node --cpu-prof bin/zonep2v.js extract -a FILE -C DEST` (default: the
// bench's cached odc archive of the default size, into a tmpfs directory),
// then summarizes the .cpuprofile: self time per function and per area
// (our sink, parsers, reader, Node's fs and streams, GC, idle = the main
// thread waiting for the libuv pool). With --strace, a second run under
// `strace -f -c` counts the system calls of every thread (the fs work Node
// does in its thread pool is invisible to the CPU profile).

import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { BIN, BIN_NODE_FLAGS, binEnv, REPO, rmrf, which } from './util.js';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  totalMs: number;
  byArea: { area: string; ms: number; pct: number }[];
  top: { fn: string; where: string; area: string; ms: number; pct: number }[];
}

/** Which part of the program a frame belongs to. */
export function area(cf: CallFrame): string {
  const u = cf.url;
  if (cf.functionName === '(garbage collector)') return 'GC';
  if (cf.functionName === '(idle)') return 'idle (waiting for I/O)';
  if (cf.functionName === '(program)') return 'V8/native (program)';
  if (cf.functionName === '(root)') return 'root';
  const m = /\/(src\/[^/]+)\//.exec(u);
  if (m && !u.includes('node_modules')) return m[1]!;
  if (u.includes('/src/entry.js') || u.includes('/src/errors.js')) return 'src (entry, errors)';
  if (u.includes('node_modules')) return `dependency ${/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(u)?.[1] ?? ''}`;
  if (u.startsWith('node:internal/fs') || u.startsWith('node:fs')) return 'node fs';
  if (u.startsWith('node:internal/streams') || u.startsWith('node:stream')) return 'node streams';
  if (u.startsWith('node:internal/process/task_queues') || u.startsWith('node:internal/async_hooks') || u.startsWith('node:internal/timers')) return 'node async/ticks';
  if (u.startsWith('node:buffer') || u.startsWith('node:internal/buffer')) return 'node buffer';
  if (u.startsWith('node:') || u === '') return u === '' ? 'native/builtin' : 'node other';
  return 'other';
}

export function summarize(p: CpuProfile, topN: number): ProfileSummary {
  const byId = new Map<number, ProfNode>();
  for (const n of p.nodes) byId.set(n.id, n);
  const self = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) {
    const id = p.samples[i]!;
    self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0));
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0) / 1000;
  const fnMs = new Map<string, { fn: string; where: string; area: string; ms: number }>();
  const areaMs = new Map<string, number>();
  for (const [id, us] of self) {
    const cf = byId.get(id)!.callFrame;
    const a = area(cf);
    const where = cf.url ? `${cf.url.replace(/^file:\/\/.*?\/dist\//, '').replace(/^file:\/\//, '')}:${cf.lineNumber + 1}` : '';
    const key = `${cf.functionName}@${where}`;
    const e = fnMs.get(key) ?? { fn: cf.functionName || '(anonymous)', where, area: a, ms: 0 };
    e.ms += us / 1000;
    fnMs.set(key, e);
    areaMs.set(a, (areaMs.get(a) ?? 0) + us / 1000);
  }
  const pct = (ms: number) => Math.round((ms / total) * 1000) / 10;
  return {
    totalMs: Math.round(total),
    byArea: [...areaMs].map(([area, ms]) => ({ area, ms: Math.round(ms), pct: pct(ms) })).sort((a, b) => b.ms - a.ms),
    top: [...fnMs.values()].sort((a, b) => b.ms - a.ms).slice(0, topN).map((e) => ({ ...e, ms: Math.round(e.ms), pct: pct(e.ms) })),
  };
}

function main(): number {
  const { values } = parseArgs({
    options: {
      archive: { type: 'string' },
      dest: { type: 'string' },
      top: { type: 'string' },
      out: { type: 'string' },
      strace: { type: 'boolean' },
      env: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write('usage: node dist/bench/profile.js [--archive FILE] [--dest DIR] [--top N] [--out DIR] [--strace] [--env K=V]...\n');
    return 0;
  }
  let archive = values.archive;
  if (!archive) {
    const fx = path.join(REPO, 'bench', 'out', 'fixtures', 'f20000-b300000000-s1', 'archives', 'image.odc.cpio');
    if (!fs.existsSync(fx)) {
      process.stderr.write(`profile: no --archive and no cached ${fx}: run \`npm run bench -- --only cpio\` first\n`);
      return 2;
    }
    archive = fx;
  }
  const out = path.resolve(values.out ?? path.join(REPO, 'bench', 'out', 'profile'));
  const dest = values.dest ?? `/dev/shm/zonep2v-prof-${process.pid}`;
  const env = binEnv();
  for (const kv of values.env ?? []) {
    const i = kv.indexOf('=');
    if (i > 0) env[kv.slice(0, i)] = kv.slice(i + 1);
  }
  fs.mkdirSync(out, { recursive: true });
  for (const f of fs.readdirSync(out)) if (f.endsWith('.cpuprofile')) fs.rmSync(path.join(out, f));
  rmrf(dest);
  fs.mkdirSync(dest, { recursive: true });
  const t0 = Date.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%e s wall, %U s user, %S s sys, %M KiB peak', process.execPath, '--cpu-prof', `--cpu-prof-dir=${out}`, '--cpu-prof-interval=200', ...BIN_NODE_FLAGS, BIN, 'extract', '-a', archive, '-C', dest], { encoding: 'utf8', env });
  const wall = (Date.now() - t0) / 1000;
  rmrf(dest);
  if (r.status !== 0) {
    process.stderr.write(`profile: extract failed: ${r.stderr}\n`);
    return 1;
  }
  const file = fs.readdirSync(out).find((f) => f.endsWith('.cpuprofile'))!;
  const s = summarize(JSON.parse(fs.readFileSync(path.join(out, file), 'utf8')) as CpuProfile, Number(values.top ?? 25));
  const lines: string[] = [];
  lines.push(`# extract profile: ${path.basename(archive)} -> ${dest}`);
  lines.push(`run: ${wall.toFixed(2)} s; ${r.stderr.trim().split('\n').slice(-2).join(' | ')}`);
  lines.push(`main thread sampled: ${s.totalMs} ms; profile: ${path.join(out, file)}`);
  lines.push('', 'self time by area:');
  for (const a of s.byArea) lines.push(`  ${a.area.padEnd(28)} ${String(a.ms).padStart(7)} ms  ${a.pct.toFixed(1).padStart(5)} %`);
  lines.push('', 'top functions by self time:');
  for (const f of s.top) lines.push(`  ${String(f.ms).padStart(6)} ms ${f.pct.toFixed(1).padStart(5)} %  ${f.fn.slice(0, 40).padEnd(40)} ${f.where}`);
  if (values.strace) {
    if (!which('strace')) lines.push('', 'strace: not installed');
    else {
      fs.mkdirSync(dest, { recursive: true });
      const sf = path.join(out, 'strace.txt');
      const st = spawnSync('strace', ['-f', '-c', '-o', sf, process.execPath, ...BIN_NODE_FLAGS, BIN, 'extract', '-a', archive, '-C', dest], { encoding: 'utf8', env });
      rmrf(dest);
      lines.push('', `system calls, all threads (strace -f -c; exit ${st.status}):`);
      const text = fs.existsSync(sf) ? fs.readFileSync(sf, 'utf8').trim().split('\n') : [];
      lines.push(...text.slice(0, 24).map((l) => `  ${l}`));
    }
  }
  const text = lines.join('\n');
  fs.writeFileSync(path.join(out, 'summary.txt'), `${text}\n`);
  process.stdout.write(`${text}\n`);
  return 0;
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname);
if (isMain) process.exitCode = main();
