// The bulk record kept in the log directory (bulk-status.json): the last
// result of each zone, so a re-run can retry only the zones that failed
// (--retry-failed-only). The zones' own state files stay the authority on
// what is installed; this file only remembers what failed.

import fs from 'node:fs';
import path from 'node:path';

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
