// What an install tells people and programs: the Solaris banners on stderr,
// a full log file, and (--json) one versioned JSON event per line on stdout.

import fs from 'node:fs';
import path from 'node:path';
import { solarisDate } from '../rules/text.js';

export type Verbosity = 'silent' | 'normal' | 'verbose';

export interface InstallLog {
  readonly file: string;
  /** "      Log File: ..." style banner: screen (unless silent) and log. */
  banner(label: string, text: string): void;
  /** Normal message: screen (unless silent) and log. */
  info(text: string): void;
  /** Verbose message: screen only with -v; always in the log. */
  detail(text: string): void;
  /** Error: screen always, log, and a JSON error event. */
  error(text: string, fields?: Record<string, unknown>): void;
  /** A JSON event (no screen output). */
  event(name: string, fields?: Record<string, unknown>): void;
  close(): void;
}

export interface LogOptions {
  zone: string;
  file?: string;
  verbosity: Verbosity;
  json: boolean;
  stderr?: NodeJS.WritableStream;
  stdout?: NodeJS.WritableStream;
}

export function defaultLogFile(zone: string, now = new Date()): string {
  const ts = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return path.join('/var/log/zones', `zonep2v.${zone}.install.${ts}.log`);
}

/** One --json event: a versioned object on one line. */
export function eventLine(zone: string | null, name: string, fields: Record<string, unknown> = {}): string {
  return `${JSON.stringify({ v: 1, time: new Date().toISOString(), zone, event: name, ...fields })}\n`;
}

export function openInstallLog(opts: LogOptions): InstallLog {
  const file = opts.file ?? defaultLogFile(opts.zone);
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_APPEND | fs.constants.O_NOFOLLOW, 0o600);
  const err = opts.stderr ?? process.stderr;
  const out = opts.stdout ?? process.stdout;
  // As the Solaris hook's `[$(date)]` (solaris-p2v.md 1.3), in UTC.
  const stamp = () => `[${solarisDate(new Date())}] `;
  const toLog = (s: string) => {
    for (const line of s.split('\n')) fs.writeSync(fd, `${stamp()}${line}\n`);
  };
  const screen = (s: string) => {
    // With --json, stdout carries events only; the banners still go to stderr.
    if (opts.verbosity !== 'silent') err.write(`${s}\n`);
  };
  const event = (name: string, fields: Record<string, unknown> = {}) => {
    if (opts.json) out.write(eventLine(opts.zone, name, fields));
  };
  return {
    file,
    banner(label, text) {
      const s = `${label.padStart(14)}: ${text}`;
      screen(s);
      toLog(s);
    },
    info(text) {
      screen(text);
      toLog(text);
    },
    detail(text) {
      if (opts.verbosity === 'verbose') err.write(`${text}\n`);
      toLog(text);
    },
    error(text, fields = {}) {
      err.write(`ERROR: ${text}\n`);
      toLog(`ERROR: ${text}`);
      event('error', { message: text, ...fields });
    },
    event,
    close() {
      fs.closeSync(fd);
    },
  };
}
