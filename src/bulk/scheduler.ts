// Bounded concurrency over the zones to run: at most `jobs` installs at
// once, each a child process; on a signal, no new zone starts, the signal
// goes to every running install (and its source command), and the run ends
// when they have all exited (a second signal, or the grace time, kills them).

import path from 'node:path';
import type { Decision } from './preflight.js';
import { startInstall, type InstallEvent, type RunningInstall, type ZoneView } from './runner.js';
import type { Display } from './table.js';

export interface SchedulerOptions {
  jobs: number;
  /** bin/zonep2v.js */
  bin: string;
  /** Working directory of the installs (the plan's directory). */
  cwd: string;
  logDir: string;
  env?: NodeJS.ProcessEnv;
  display: Display;
  onEvent?: (ev: InstallEvent, line: string) => void;
  /** Called once per zone when it ends (installed, failed, interrupted, not started). */
  onDone?: (v: ZoneView) => void;
  /** After a forwarded signal, how long to wait before SIGKILL (ms). */
  graceMs?: number;
}

export class Scheduler {
  private readonly running = new Map<string, RunningInstall>();
  private stopping: NodeJS.Signals | undefined;
  private killTimer: NodeJS.Timeout | undefined;
  /** Largest number of installs seen running at once. */
  peak = 0;

  constructor(
    private readonly decisions: Decision[],
    private readonly views: Map<string, ZoneView>,
    private readonly opts: SchedulerOptions,
  ) {}

  get interrupted(): NodeJS.Signals | undefined {
    return this.stopping;
  }

  async run(): Promise<void> {
    const queue = this.decisions.filter((d) => d.action === 'run');
    await new Promise<void>((resolve) => {
      const next = () => {
        while (!this.stopping && this.running.size < this.opts.jobs && queue.length) this.launch(queue.shift()!, next);
        if (this.running.size === 0 && (this.stopping || queue.length === 0)) resolve();
      };
      next();
    });
    if (this.killTimer) clearTimeout(this.killTimer);
    for (const d of queue) {
      const v = this.views.get(d.z.zone)!;
      v.result = 'not started';
      v.stage = 'not started';
      this.opts.display.change(v);
      this.opts.onDone?.(v);
    }
  }

  private launch(d: Decision, next: () => void): void {
    const v = this.views.get(d.z.zone)!;
    const { display } = this.opts;
    const run = startInstall(d.z, v, {
      bin: this.opts.bin,
      cwd: this.opts.cwd,
      env: this.opts.env,
      logFile: path.join(this.opts.logDir, `${d.z.zone}.log`),
      clean: d.clean,
      onEvent: this.opts.onEvent,
      onChange: (view) => display.change(view),
      onProgress: (view) => display.progress(view),
    });
    if (d.note) v.note = d.note;
    display.change(v, `(${d.z.source.kind} ${d.z.source.value})${d.clean ? ' with --clean: an earlier install left the zone incomplete' : ''}`);
    this.running.set(d.z.zone, run);
    this.peak = Math.max(this.peak, this.running.size);
    void run.done.then((view) => {
      this.running.delete(d.z.zone);
      if (this.stopping && view.result === 'failed') view.result = 'interrupted';
      if (view.result === 'installed' && d.note) view.note = d.note;
      display.change(view);
      this.opts.onDone?.(view);
      next();
    });
  }

  /** First call: forward `sig` to the running installs; later calls (or the grace time): SIGKILL. */
  stop(sig: NodeJS.Signals): void {
    if (this.stopping) {
      this.opts.display.say(`${sig} again: killing ${this.running.size} running install(s); the next run retries them with --clean`);
      for (const r of this.running.values()) r.kill('SIGKILL');
      return;
    }
    this.stopping = sig;
    this.opts.display.say(`${sig}: no new zone starts; ${sig} sent to ${this.running.size} running install(s), waiting for them (again to kill them)`);
    for (const r of this.running.values()) r.kill(sig);
    const grace = this.opts.graceMs ?? 60_000;
    this.killTimer = setTimeout(() => {
      if (!this.running.size) return;
      this.opts.display.say(`still running after ${grace / 1000} s: killing ${this.running.size} install(s)`);
      for (const r of this.running.values()) r.kill('SIGKILL');
    }, grace);
    this.killTimer.unref();
  }
}
