// What a bulk run shows on stderr: a table redrawn in place when stderr is a
// terminal, one line per state change otherwise (logs, CI, pipes); and the
// summary at the end.

import { human } from '../cli/progress.js';
import type { ZoneView } from './runner.js';

export interface Display {
  /** A zone's stage or result changed; `detail` is extra text for line mode. */
  change(v: ZoneView, detail?: string): void;
  /** Bytes moved (redraws the table; silent in line mode). */
  progress(v: ZoneView): void;
  /** A message not tied to a zone (signals). */
  say(text: string): void;
  /** Final draw. */
  close(): void;
}

const secs = (v: ZoneView, now = Date.now()) => (v.started ? ((v.ended ?? now) - v.started) / 1000 : 0);

function rate(v: ZoneView, now = Date.now()): string {
  const s = secs(v, now);
  return v.started && s > 0 && v.bytes > 0 ? `${human(v.bytes / s)}/s` : '';
}

function resultText(v: ZoneView): string {
  if (!v.result) return '';
  if (v.result === 'failed' || v.result === 'interrupted') return `${v.result} (${v.signal ?? v.exit})`;
  return v.result;
}

/** Redraws the whole table in place (ANSI cursor moves), at most 5 times a second. */
export class LiveTable implements Display {
  private drawn = 0;
  private last = 0;
  private timer: NodeJS.Timeout | undefined;
  private notes: string[] = [];

  constructor(
    private readonly views: ZoneView[],
    private readonly out: NodeJS.WriteStream,
  ) {}

  change(): void {
    this.schedule();
  }
  progress(): void {
    this.schedule();
  }
  say(text: string): void {
    this.notes.push(text);
    this.draw();
  }
  /** Erase the table (the summary follows), keeping the notes. */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    let s = this.drawn ? `\x1b[${this.drawn}A\r\x1b[J` : '';
    for (const n of this.notes) s += `${n}\n`;
    this.drawn = 0;
    this.out.write(s);
  }

  private schedule(): void {
    const wait = 200 - (Date.now() - this.last);
    if (wait <= 0) this.draw();
    else this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.draw();
    }, wait);
  }

  lines(now = Date.now()): string[] {
    const width = Math.max(...this.views.map((v) => v.zone.length), 4);
    const row = (zone: string, stage: string, bytes: string, rt: string, time: string, result: string) =>
      `${zone.padEnd(width)}  ${stage.padEnd(14)} ${bytes.padStart(10)} ${rt.padStart(12)} ${time.padStart(7)}  ${result}`;
    const rowOf = (v: ZoneView) =>
      row(v.zone, v.stage, v.started ? human(v.bytes) : '', rate(v, now), v.started ? `${secs(v, now).toFixed(1)}s` : '', resultText(v) + (v.message ? `: ${v.message}` : ''));
    const head = row('ZONE', 'STAGE', 'BYTES', 'RATE', 'TIME', 'RESULT');
    const rows = this.out.rows || 24;
    const body = this.views.map(rowOf);
    const counts = countResults(this.views);
    const foot = `${this.views.length} zones: ${counts}`;
    let lines = [head, ...body, foot, ...this.notes];
    if (lines.length > rows - 1) {
      // Too many zones for the screen: show the ones that matter now, then counts.
      const active = this.views.filter((v) => v.started && !v.ended);
      const failed = this.views.filter((v) => v.result === 'failed' || v.result === 'interrupted');
      const shown = [...active, ...failed].slice(0, Math.max(rows - 3 - this.notes.length, 1));
      lines = [head, ...shown.map(rowOf), foot, ...this.notes];
    }
    const cols = this.out.columns || 100;
    return lines.map((l) => (l.length >= cols ? `${l.slice(0, Math.max(cols - 2, 10))}…` : l));
  }

  private draw(): void {
    this.last = Date.now();
    const lines = this.lines();
    let s = this.drawn ? `\x1b[${this.drawn}A` : '';
    for (const l of lines) s += `\r${l}\x1b[K\n`;
    s += '\x1b[J';
    this.drawn = lines.length;
    this.out.write(s);
  }
}

/** One line per state change, with the time: for pipes and log files. */
export class LineReport implements Display {
  constructor(private readonly out: NodeJS.WritableStream) {}

  private line(text: string): void {
    const t = new Date().toTimeString().slice(0, 8);
    this.out.write(`${t} ${text}\n`);
  }

  change(v: ZoneView, detail?: string): void {
    if (v.result === 'installed') this.line(`${v.zone}: installed in ${secs(v).toFixed(1)} s (${human(v.bytes)}${rate(v) ? `, ${rate(v)}` : ''})`);
    else if (v.result === 'failed' || v.result === 'interrupted') this.line(`${v.zone}: ${v.result.toUpperCase()} (${v.signal ?? `exit ${v.exit}`}) after ${secs(v).toFixed(1)} s: ${v.message}`);
    else if (v.result) this.line(`${v.zone}: ${v.result}${detail ? ` ${detail}` : ''}`);
    else if (v.stage === 'unpacked') this.line(`${v.zone}: unpacked ${human(v.bytes)}`);
    else this.line(`${v.zone}: ${v.stage}${detail ? ` ${detail}` : ''}`);
  }
  progress(): void {}
  say(text: string): void {
    this.line(text);
  }
  close(): void {}
}

export function countResults(views: ZoneView[]): string {
  const n = new Map<string, number>();
  for (const v of views) {
    const k = v.result ?? (v.started ? 'running' : 'queued');
    n.set(k, (n.get(k) ?? 0) + 1);
  }
  return [...n].map(([k, c]) => `${c} ${k}`).join(', ');
}

export interface Totals {
  zones: number;
  installed: number;
  /** Failed, counting the interrupted. */
  failed: number;
  interrupted: number;
  skipped: number;
  notStarted: number;
  seconds: number;
  bytes: number;
  zonesPerMinute: number;
  mbPerSecond: number;
}

/** Totals over a run: zones installed per minute and MB (10^6 bytes) written per second of wall time. */
export function totals(views: ZoneView[], wallMs: number): Totals {
  const installed = views.filter((v) => v.result === 'installed');
  const bytes = installed.reduce((n, v) => n + v.bytes, 0);
  const seconds = wallMs / 1000;
  return {
    zones: views.length,
    installed: installed.length,
    failed: views.filter((v) => v.result === 'failed' || v.result === 'interrupted').length,
    interrupted: views.filter((v) => v.result === 'interrupted').length,
    skipped: views.filter((v) => v.result?.startsWith('skipped')).length,
    notStarted: views.filter((v) => v.result === 'not started').length,
    seconds,
    bytes,
    zonesPerMinute: seconds > 0 ? installed.length / (seconds / 60) : 0,
    mbPerSecond: seconds > 0 ? bytes / 1e6 / seconds : 0,
  };
}

export function formatSummary(views: ZoneView[], t: Totals): string {
  const w = Math.max(...views.map((v) => v.zone.length), 4);
  const rw = Math.max(...views.map((v) => (v.result ?? '').length), 6);
  const head = `${'ZONE'.padEnd(w)}  ${'RESULT'.padEnd(rw)}  ${'EXIT'.padStart(4)}  ${'TIME'.padStart(8)}  ${'MB'.padStart(8)}  MESSAGE`;
  const rows = views.map((v) => {
    const exit = v.signal ?? (v.exit === undefined || v.exit === null ? '-' : String(v.exit));
    const time = v.started ? `${secs(v).toFixed(1)}s` : '-';
    const mb = v.started ? (v.bytes / 1e6).toFixed(1) : '-';
    const msg = [v.message, v.note].filter(Boolean).join(' ; ');
    return `${v.zone.padEnd(w)}  ${(v.result ?? '?').padEnd(rw)}  ${exit.padStart(4)}  ${time.padStart(8)}  ${mb.padStart(8)}  ${msg}`.trimEnd();
  });
  const parts = [`${t.installed} installed`, `${t.failed} failed${t.interrupted ? ` (${t.interrupted} interrupted)` : ''}`, `${t.skipped} skipped`];
  if (t.notStarted) parts.push(`${t.notStarted} not started`);
  const foot = `${t.zones} zones: ${parts.join(', ')} in ${t.seconds.toFixed(1)} s; ${t.zonesPerMinute.toFixed(1)} zones/minute, ${t.mbPerSecond.toFixed(1)} MB/s`;
  return [head, ...rows, foot].join('\n');
}
