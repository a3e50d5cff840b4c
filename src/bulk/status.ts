// The bulk record kept in the log directory (bulk-status.json): the last
// result of each zone, so a re-run can retry only the zones that failed
// (--retry-failed-only). The zones' own state files stay the authority on
// what is installed; this file only remembers what failed.

import fs from 'node:fs';
import path from 'node:path';
import { pidIsInstall } from '../sink/zonepath.js';

export interface ZoneStatus {
  result: string;
  exit?: number | null;
  finished: string;
  message?: string;
}

export interface BulkStatus {
  v: 1;
  plan: string;
  updated: string;
  zones: Record<string, ZoneStatus>;
}

export const STATUS_FILE = 'bulk-status.json';

export function readStatus(logDir: string): BulkStatus | undefined {
  try {
    const s = JSON.parse(fs.readFileSync(path.join(logDir, STATUS_FILE), 'utf8')) as BulkStatus;
    if (s && typeof s === 'object' && s.zones && typeof s.zones === 'object') return s;
    return undefined;
  } catch {
    return undefined;
  }
}

/** Merge this run's results into the record (temporary file, then rename). */
export function writeStatus(logDir: string, plan: string, results: Record<string, ZoneStatus>): void {
  const old = readStatus(logDir);
  const rec: BulkStatus = { v: 1, plan, updated: new Date().toISOString(), zones: { ...(old?.zones ?? {}), ...results } };
  const file = path.join(logDir, STATUS_FILE);
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(rec, null, 1)}\n`, { mode: 0o600 });
  fs.renameSync(tmp, file);
}

/** Whether a recorded result counts as a failure to retry. */
export function failedBefore(s: ZoneStatus | undefined): boolean {
  return !!s && (s.result === 'failed' || s.result === 'interrupted');
}

export const LOCK_FILE = 'bulk.lock';

/**
 * Claim the log directory for this run (an exclusive lock file with our pid):
 * two bulk runs sharing it would start the same zones twice (one install of
 * each refused), interleave the zones' logs and overwrite each other's
 * results. A lock left by a run that died (SIGKILL) is taken over. Returns a
 * release function, or the message for the refusal.
 */
export function lockLogDir(logDir: string, alive: (pid: number, started?: string) => boolean = pidIsInstall): (() => void) | string {
  const file = path.join(logDir, LOCK_FILE);
  const mine = JSON.stringify({ pid: process.pid, started: new Date().toISOString() });
  for (let attempt = 0; ; attempt++) {
    try {
      fs.writeFileSync(file, `${mine}\n`, { flag: 'wx', mode: 0o600 });
      return () => {
        try {
          if (fs.readFileSync(file, 'utf8').trim() === mine) fs.unlinkSync(file);
        } catch {
          /* already gone */
        }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw e;
    }
    let held: { pid?: unknown; started?: unknown } = {};
    try {
      held = JSON.parse(fs.readFileSync(file, 'utf8')) as typeof held;
    } catch {
      /* unreadable: a run that died while writing it */
    }
    const pid = typeof held.pid === 'number' ? held.pid : 0;
    const started = typeof held.started === 'string' ? held.started : undefined;
    if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && alive(pid, started)) {
      return `another zonep2v bulk (pid ${pid}, started ${started ?? '?'}) is using the log directory ${logDir}; wait for it to finish (or stop it: kill ${pid}), or give another --log-dir`;
    }
    fs.rmSync(file, { force: true });
  }
}
