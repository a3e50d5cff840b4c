// One zone of a bulk run: the real CLI (`node bin/zonep2v.js install ...
// --json --log FILE`) as a child process in its own process group, its JSON
// events read line by line to follow the stages, and its outcome.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import readline from 'node:readline';
import { installArgv, type PlanZone } from './plan.js';

/** What the display shows for a zone; updated from the install's events. */
export interface ZoneView {
  zone: string;
  /** queued, starting, installing, sanity, attach check, hand-over, done, failed, skipped ... */
  stage: string;
  /** File bytes written into the zone root so far. */
  bytes: number;
  /** Source bytes read so far, and the source size when known. */
  inputBytes: number;
  expectedBytes?: number;
  started?: number;
  ended?: number;
  /** Final result: installed, failed, interrupted, skipped (installed), not started ... */
  result?: string;
  exit?: number | null;
  signal?: NodeJS.Signals | null;
  message?: string;
  note?: string;
}

export interface InstallEvent {
  v: number;
  time: string;
  zone: string;
  event: string;
  [k: string]: unknown;
}

export interface RunOptions {
  bin: string;
  cwd: string;
  logFile: string;
  clean: boolean;
  env?: NodeJS.ProcessEnv;
  /** Each JSON event, with its original line. */
  onEvent?: (ev: InstallEvent, line: string) => void;
  /** Stage or result changed (not called for progress alone). */
  onChange?: (view: ZoneView) => void;
  /** Progress only (bytes moved). */
  onProgress?: (view: ZoneView) => void;
}

export interface RunningInstall {
  view: ZoneView;
  pid?: number;
  /** Send a signal to the install and everything it started (its process group). */
  kill(sig: NodeJS.Signals): void;
  done: Promise<ZoneView>;
}

const STAGE_NAMES: Record<string, string> = { installing: 'installing', sanity: 'sanity check', 'attach-check': 'attach check', handover: 'hand-over' };

export function startInstall(z: PlanZone, view: ZoneView, opts: RunOptions): RunningInstall {
  const argv = installArgv(z, opts.logFile, opts.clean);
  view.stage = 'starting';
  view.started = Date.now();
  view.bytes = 0;
  view.inputBytes = 0;
  // Its own process group (detached): a signal reaches the install and its
  // source command (ssh ...) together, and a terminal's Ctrl-C reaches only
  // bulk, which forwards it once.
  // The V8 flags the launcher's shebang gave this process (bin/zonep2v.js); its
  // MALLOC_ARENA_MAX is in the environment the children inherit.
  const v8Flags = process.execArgv.filter((a) => /^--(max-semi-space-size|initial-heap-size)\b/.test(a));
  const child = spawn(process.execPath, [...v8Flags, opts.bin, ...argv], { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
    if (stderr.length > 16384) stderr = stderr.slice(-8192);
  });
  let resultMessage: string | undefined;
  let lastError: string | undefined;
  const lines = readline.createInterface({ input: child.stdout, crlfDelay: Infinity });
  lines.on('line', (line) => {
    let ev: InstallEvent;
    try {
      ev = JSON.parse(line) as InstallEvent;
    } catch {
      return;
    }
    if (!ev || typeof ev !== 'object' || typeof ev.event !== 'string') return;
    opts.onEvent?.(ev, line);
    const num = (k: string) => (typeof ev[k] === 'number' ? (ev[k] as number) : undefined);
    switch (ev.event) {
      case 'start':
        // The install passed its own checks; "installing" follows at once.
        view.stage = 'started';
        opts.onProgress?.(view);
        break;
      case 'stage': {
        const s = String(ev.stage);
        view.stage = STAGE_NAMES[s] ?? s;
        if (ev.ok === false) view.stage += ' failed';
        opts.onChange?.(view);
        break;
      }
      case 'progress':
        view.bytes = num('bytes') ?? view.bytes;
        view.inputBytes = num('inputBytes') ?? view.inputBytes;
        view.expectedBytes = num('expectedBytes') ?? view.expectedBytes;
        opts.onProgress?.(view);
        break;
      case 'unpacked':
        view.bytes = num('bytes') ?? view.bytes;
        view.stage = 'unpacked';
        opts.onChange?.(view);
        break;
      case 'error':
        if (typeof ev.message === 'string') lastError = ev.message;
        break;
      case 'result':
        if (typeof ev.message === 'string') resultMessage = ev.message;
        if (ev.ok === true) view.bytes = num('bytes') ?? view.bytes;
        break;
    }
  });
  const closed = new Promise<void>((resolve) => lines.once('close', () => resolve()));

  const done = new Promise<ZoneView>((resolve) => {
    let spawnError: string | undefined;
    child.on('error', (e) => {
      spawnError = `cannot start the install: ${e.message}`;
    });
    child.on('close', async (code, signal) => {
      await closed;
      view.ended = Date.now();
      view.exit = code;
      view.signal = signal;
      if (code === 0) {
        view.result = 'installed';
        view.stage = 'done';
      } else {
        view.result = 'failed';
        view.stage = 'failed';
        view.message = resultMessage ?? lastError ?? spawnError ?? stderrMessage(stderr) ?? (signal ? `killed by ${signal}` : `exited with status ${code}`);
        if (signal) view.message = `killed by ${signal}${view.message.startsWith('killed by') ? '' : `: ${view.message}`}`;
        if (code === 255 || signal) view.note = 'cleanup could not finish (state incomplete): the next run retries with --clean';
        else if (code === 254) view.note = 'what it wrote was removed: the next run retries it';
        // Refusals (253) and kills happen before or outside the install's own
        // log: keep them in the zone's log too.
        if (code === 253 || signal || spawnError) appendLog(opts.logFile, `zonep2v bulk: install ${signal ? `killed by ${signal}` : `exited with status ${code}`}: ${view.message}\n${stderr.trim()}\n`);
      }
      resolve(view);
    });
  });

  return {
    view,
    pid: child.pid,
    kill(sig) {
      if (child.exitCode !== null || child.signalCode !== null || !child.pid) return;
      try {
        process.kill(-child.pid, sig);
      } catch {
        try {
          child.kill(sig);
        } catch {
          /* gone */
        }
      }
    },
    done,
  };
}

function stderrMessage(s: string): string | undefined {
  const lines = s
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^(Log File|Installing|Result):/.test(l) && !/^install -[ad] /.test(l));
  if (!lines.length) return undefined;
  const err = lines.filter((l) => l.startsWith('ERROR:'));
  const text = (err.length ? err : lines).slice(0, 3).join(' / ');
  return text.length > 500 ? `${text.slice(0, 497)}...` : text;
}

function appendLog(file: string, text: string): void {
  try {
    fs.appendFileSync(file, `[${new Date().toString()}] ${text}`, { mode: 0o600 });
  } catch {
    /* the log directory went away: the summary still has the message */
  }
}
