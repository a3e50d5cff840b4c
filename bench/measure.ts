// Run one command and measure it: wall time (from spawn to exit, in this
// process) and peak resident set. The peak comes from GNU time (`%M`, the
// largest single process of the command: for a pipeline, its biggest member)
// when /usr/bin/time is installed, otherwise from polling VmHWM of the
// command's process tree in /proc (which can miss a peak shorter than the
// polling interval).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';

export interface Measured {
  ok: boolean;
  seconds: number;
  /** Peak RSS in KiB, when it could be measured. */
  rssKiB?: number;
  stdout: string;
  /** Tail of stderr (for failures). */
  stderr: string;
  code: number | null;
}

export type RssMethod = 'gnu-time' | 'proc-poll';

let method: RssMethod | undefined;
const GNU_TIME = '/usr/bin/time';

/** How peak RSS is measured on this machine (GNU time when it works). */
export function rssMethod(): RssMethod {
  if (method) return method;
  const r = spawnSync(GNU_TIME, ['-f', '%M', 'true'], { encoding: 'utf8' });
  method = r.status === 0 && /^\d+\s*$/.test(r.stderr ?? '') ? 'gnu-time' : 'proc-poll';
  return method;
}

let seq = 0;
let current: number | undefined;

/** Kill the command running now (its whole process group). */
export function killCurrent(): void {
  if (current === undefined) return;
  try {
    process.kill(-current, 'SIGKILL');
  } catch {
    /* already gone */
  }
}

/**
 * Run `script` with bash in `cwd` (pipefail on); `capture` keeps stdout.
 * The command's own exit status decides `ok`.
 */
export function measure(script: string, cwd: string, opts: { capture?: boolean; env?: NodeJS.ProcessEnv } = {}): Promise<Measured> {
  const m = rssMethod();
  const rssFile = path.join(os.tmpdir(), `zonep2v-bench-rss-${process.pid}-${seq++}`);
  const bashArgs = ['-c', `set -o pipefail; ${script}`];
  const [cmd, args] = m === 'gnu-time' ? [GNU_TIME, ['-f', '%M', '-o', rssFile, 'bash', ...bashArgs]] : ['bash', bashArgs];
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    let t1 = 0n;
    // Its own process group, so that an interrupted bench can stop the whole pipeline.
    const child = spawn(cmd, args as string[], { cwd, env: opts.env ?? process.env, stdio: ['ignore', opts.capture ? 'pipe' : 'ignore', 'pipe'], detached: true });
    current = child.pid;
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr!.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
      if (stderr.length > 16384) stderr = stderr.slice(-8192);
    });
    let peak = 0;
    let timer: NodeJS.Timeout | undefined;
    if (m === 'proc-poll' && child.pid) {
      const pid = child.pid;
      const poll = () => {
        peak = Math.max(peak, treeHwm(pid));
      };
      timer = setInterval(poll, 20);
    }
    child.on('error', reject);
    child.on('exit', () => {
      t1 = process.hrtime.bigint();
      if (timer) clearInterval(timer);
    });
    child.on('close', (code) => {
      current = undefined;
      let rss: number | undefined;
      if (m === 'gnu-time') {
        try {
          const lines = fs.readFileSync(rssFile, 'utf8').trim().split('\n');
          const v = Number(lines[lines.length - 1]);
          if (Number.isFinite(v)) rss = v;
        } catch {
          /* no number */
        }
        fs.rmSync(rssFile, { force: true });
      } else if (peak > 0) rss = peak;
      resolve({ ok: code === 0, code, seconds: Number((t1 || process.hrtime.bigint()) - t0) / 1e9, rssKiB: rss, stdout, stderr: stderr.slice(-4096) });
    });
  });
}

/** Largest VmHWM (KiB) among `pid` and its descendants, now. */
function treeHwm(pid: number): number {
  let best = 0;
  const stack = [pid];
  while (stack.length) {
    const p = stack.pop()!;
    try {
      const st = fs.readFileSync(`/proc/${p}/status`, 'utf8');
      const m = /VmHWM:\s+(\d+)/.exec(st);
      if (m) best = Math.max(best, Number(m[1]));
      for (const tid of fs.readdirSync(`/proc/${p}/task`)) {
        const kids = fs.readFileSync(`/proc/${p}/task/${tid}/children`, 'utf8').trim();
        if (kids) for (const k of kids.split(/\s+/)) stack.push(Number(k));
      }
    } catch {
      /* gone */
    }
  }
  return best;
}
