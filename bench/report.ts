// Results: per-tool statistics (median wall time, ratio to the fastest
// reference as the median of per-round ratios, peak RSS), the text and
// Markdown tables, and the JSON document.

import type { Machine } from './sysinfo.js';
import { humanBytes, median } from './util.js';

export interface Row {
  case: string;
  group: string;
  tool: string;
  target: string;
  reference: boolean;
  status: 'ok' | 'failed' | 'skipped';
  /** Wall seconds of each measured round (index = round; null when the round failed or was not run). */
  runs: (number | null)[];
  medianSeconds: number | null;
  minSeconds: number | null;
  maxSeconds: number | null;
  /** Median over rounds of (this tool's time / the fastest reference's time in the same round). */
  ratio: number | null;
  /** The reference the ratio is taken against. */
  ratioTo: string | null;
  /** Largest peak RSS over the rounds, KiB. */
  peakRssKiB: number | null;
  /** Parse-only: median MB/s of decoded bytes (measured inside the process). */
  mbPerSec: number | null;
  note?: string;
}

export interface Results {
  version: 1;
  date: string;
  elapsedSeconds: number;
  machine: Machine;
  options: { files: number; bytes: number; seed: number; runs: number; warmup: number; targets: string[]; all: boolean; only: string[] | null };
  targets: Record<string, { path: string; fs: string }>;
  rssMethod: string;
  fixtures: { entries: number; files: number; bytes: number; buildSeconds: number; archives: Record<string, { bytes: number }>; skipped: Record<string, string> };
  rows: Row[];
  notes: string[];
}

export interface RawTool {
  tool: string;
  reference: boolean;
  runs: (number | null)[];
  rss: (number | null)[];
  mbps: (number | null)[];
  /** What went wrong, for each failed run. */
  failed?: string;
  failures?: number;
  note?: string;
}

/** Turn the raw rounds of one case/target into rows. */
export function summarize(caseName: string, group: string, target: string, raw: RawTool[]): Row[] {
  const med = (xs: (number | null)[]) => {
    const v = xs.filter((x): x is number => x !== null);
    return v.length ? median(v) : null;
  };
  const refs = raw.filter((r) => r.reference && med(r.runs) !== null);
  const fastest = refs.sort((a, b) => med(a.runs)! - med(b.runs)!)[0];
  return raw.map((r) => {
    const ok = r.runs.filter((x): x is number => x !== null);
    let ratio: number | null = null;
    if (fastest && ok.length) {
      const pairs: number[] = [];
      r.runs.forEach((t, i) => {
        const f = fastest.runs[i];
        if (t !== null && f !== null && f !== undefined && f > 0) pairs.push(t / f);
      });
      ratio = pairs.length ? median(pairs) : null;
    }
    const rss = r.rss.filter((x): x is number => x !== null);
    return {
      case: caseName,
      group,
      tool: r.tool,
      target,
      reference: r.reference,
      status: r.failed && ok.length === 0 ? 'failed' : 'ok',
      runs: r.runs.map((x) => (x === null ? null : Math.round(x * 1e4) / 1e4)),
      medianSeconds: ok.length ? round(median(ok), 4) : null,
      minSeconds: ok.length ? round(Math.min(...ok), 4) : null,
      maxSeconds: ok.length ? round(Math.max(...ok), 4) : null,
      ratio: ratio === null ? null : round(ratio, 3),
      ratioTo: fastest && ratio !== null ? fastest.tool : null,
      peakRssKiB: rss.length ? Math.max(...rss) : null,
      mbPerSec: med(r.mbps),
      ...(r.failed || r.note ? { note: r.failed ? `${ok.length ? `${r.failures} run(s) failed: ` : ''}${r.failed}` : r.note } : {}),
    } satisfies Row;
  });
}

function round(x: number, d: number): number {
  const k = 10 ** d;
  return Math.round(x * k) / k;
}

const HEAD = ['case', 'tool', 'target', 'median s', 'range s', 'ratio', 'peak RSS', 'MB/s'];

function cells(r: Row): string[] {
  if (r.status === 'skipped') return [r.case, r.tool, r.target, '-', '-', '-', '-', `skipped: ${r.note ?? ''}`];
  if (r.status === 'failed') return [r.case, r.tool, r.target, '-', '-', '-', '-', `FAILED: ${(r.note ?? '').slice(0, 80)}`];
  return [
    r.case,
    `${r.tool}${r.reference ? ' *' : ''}`,
    r.target,
    r.medianSeconds!.toFixed(3),
    `${r.minSeconds!.toFixed(2)}-${r.maxSeconds!.toFixed(2)}`,
    r.ratio === null ? '-' : `${r.ratio.toFixed(2)}x`,
    r.peakRssKiB === null ? '?' : humanBytes(r.peakRssKiB * 1024),
    r.mbPerSec === null ? '' : r.mbPerSec.toFixed(0),
  ];
}

export function textTable(rows: Row[]): string {
  const body = rows.map(cells);
  const w = HEAD.map((h, i) => Math.max(h.length, ...body.map((b) => (i === 7 && b[i]!.length > 40 ? 0 : b[i]!.length))));
  const line = (c: string[]) => c.map((s, i) => (i >= 3 && i <= 7 && !s.startsWith('skipped') && !s.startsWith('FAILED') ? s.padStart(w[i]!) : s.padEnd(w[i]!))).join('  ').trimEnd();
  const out = [line(HEAD), w.map((n) => '-'.repeat(n)).join('  ')];
  let prev = '';
  for (const [i, b] of body.entries()) {
    const key = `${rows[i]!.case}/${rows[i]!.target}`;
    if (prev && key !== prev) out.push('');
    prev = key;
    out.push(line(b));
  }
  return out.join('\n');
}

export function markdownTable(rows: Row[]): string {
  const out = [`| ${HEAD.join(' | ')} |`, `|${HEAD.map((_, i) => (i >= 3 ? '---:' : '---')).join('|')}|`];
  for (const r of rows) {
    const c = cells(r).map((s) => s.replace(/\|/g, '\\|'));
    if (!r.reference && r.tool.startsWith('zonep2v') && r.status === 'ok') c[1] = `**${c[1]}**`;
    out.push(`| ${c.join(' | ')} |`);
  }
  return out.join('\n');
}

export function machineText(m: Machine): string[] {
  return [
    `- CPUs: ${m.nproc} x ${m.cpu}; memory ${m.memoryGiB} GiB; ${m.kernel}; Node ${m.node}; load average at start ${m.load.join(' ')}`,
    `- tools: ${Object.entries(m.tools).map(([k, v]) => `${k}: ${v}`).join('; ')}`,
  ];
}

export function markdownReport(res: Results): string {
  const o = res.options;
  const lines = [
    '# zonep2v bench: latest results',
    '',
    `Measured ${res.date} with \`npm run bench -- --files ${o.files} --bytes ${o.bytes} --runs ${o.runs}${o.all ? ' --all' : ''}${o.only ? ` --only ${o.only.join(',')}` : ''}\` in ${(res.elapsedSeconds / 60).toFixed(1)} min.`,
    '',
    '## Machine',
    '',
    ...machineText(res.machine),
    `- targets: ${Object.entries(res.targets).map(([k, v]) => `${k} = ${v.path} (${v.fs})`).join('; ')}`,
    `- peak RSS measured with ${res.rssMethod === 'gnu-time' ? 'GNU time %M (largest single process of the command; for a pipeline its biggest member)' : 'polling VmHWM in /proc (GNU time not installed; short peaks can be missed)'}`,
    '',
    '## Input',
    '',
    `samples/image.ts with seed ${o.seed}: ${res.fixtures.entries} entries, ${res.fixtures.files} regular files, ${(res.fixtures.bytes / 1e6).toFixed(1)} MB of file data.`,
    `Archives: ${Object.entries(res.fixtures.archives).map(([k, v]) => `${k} ${(v.bytes / 1e6).toFixed(1)} MB`).join(', ')}.`,
    ...(Object.keys(res.fixtures.skipped).length ? [`Not made: ${Object.entries(res.fixtures.skipped).map(([k, v]) => `${k} (${v})`).join('; ')}.`] : []),
    '',
    '## Results',
    '',
    `Each tool ran ${o.runs} times per target, alternating with the other tools of its case (A B A B ...), each run into a fresh, empty directory (tmpfs trees are removed after each run, disk trees at the end: see the notes; removal is not timed).`,
    '`ratio` is the median over rounds of the tool\'s time divided by the fastest reference\'s time in the same round (reference tools are marked `*`).',
    'Parse-only rows write nothing; their `MB/s` is decoded bytes per second measured inside the process.',
    '',
    markdownTable(res.rows),
    '',
    ...(res.notes.length ? ['## Notes', '', ...res.notes.map((n) => `- ${n}`), ''] : []),
    '![ratio chart](chart.svg)',
    '',
  ];
  return lines.join('\n');
}
