// Before anything starts: what to do with each zone of the plan (run, run
// with --clean, skip), and the checks that need the filesystem (sources and
// option files exist, zone roots are empty, no other install is running).
// Problems here are plan problems: exit 253, nothing started.

import fs from 'node:fs';
import path from 'node:path';
import { pidIsInstall, readState } from '../sink/zonepath.js';
import type { Plan, PlanZone } from './plan.js';
import { failedBefore, type BulkStatus } from './status.js';

export interface Decision {
  z: PlanZone;
  action: 'run' | 'skip';
  /** For skips: the result shown, e.g. "skipped (installed)". */
  result?: string;
  /** Run with --clean: an earlier install left the zone incomplete. */
  clean: boolean;
  note?: string;
}

export interface PreflightOptions {
  retryFailedOnly: boolean;
  status?: BulkStatus;
  /** Is this pid an install still running? (tests replace it) */
  alive?: (pid: number, started?: string) => boolean;
}

export function preflight(plan: Plan, opts: PreflightOptions): { decisions: Decision[]; problems: string[] } {
  const problems: string[] = [];
  const decisions: Decision[] = [];
  const alive = opts.alive ?? pidIsInstall;
  for (const z of plan.zones) {
    const bad = (m: string) => problems.push(`${z.where}: ${m}`);
    const zst = fs.lstatSync(z.zonepath, { throwIfNoEntry: false });
    if (zst && !zst.isDirectory()) {
      bad(`zonepath ${z.zonepath} exists and is not a directory`);
      continue;
    }
    const st = zst ? readState(z.zonepath) : undefined;
    // A state file written for another zone: the plan has the wrong zonepath
    // (or name); "installed" would be a skip that never installs this zone.
    if (st && st.zone !== '?' && st.zone !== z.zone) {
      bad(`zonepath ${z.zonepath} holds zone ${st.zone} (${st.state}), not ${z.zone}: correct the zone or zonepath in the plan`);
      continue;
    }
    if (st?.state === 'installed') {
      decisions.push({ z, action: 'skip', result: 'skipped (installed)', clean: false });
      continue;
    }
    if (opts.retryFailedOnly && !failedBefore(opts.status?.zones[z.zone])) {
      decisions.push({ z, action: 'skip', result: 'skipped (did not fail last run)', clean: false });
      continue;
    }
    let clean = false;
    let note: string | undefined;
    if (st?.state === 'incomplete') {
      if (st.pid && st.pid !== process.pid && alive(st.pid, st.started)) {
        bad(`an install of ${z.zonepath} (pid ${st.pid}, started ${st.started}) is still running; wait for it, or stop it first`);
        continue;
      }
      clean = true;
      note = 'an earlier install left it incomplete: retried with --clean';
    } else {
      const root = path.join(z.zonepath, 'root');
      const rst = fs.lstatSync(root, { throwIfNoEntry: false });
      if (rst?.isDirectory() && fs.readdirSync(root).length > 0) bad(`zone root ${root} exists and contains data (and no install state says why); remove or move it aside`);
      else if (rst && !rst.isDirectory()) bad(`${root} exists and is not a directory`);
    }
    const need = (p: string | undefined, what: string, dir: boolean) => {
      if (!p) return;
      const s = fs.statSync(p, { throwIfNoEntry: false });
      if (!s) bad(`${what} ${p}: no such file or directory`);
      else if (dir && !s.isDirectory()) bad(`${what} ${p} is not a directory`);
      else if (!dir && s.isDirectory()) bad(`${what} ${p} is a directory${what === 'archive' ? ' (write dir:PATH or use the dir column for a directory source)' : ''}`);
      else if (!dir && !s.isFile()) bad(`${what} ${p} is not a regular file${what === 'archive' ? ' (a stream must come through cmd:, e.g. cmd:cat FIFO)' : ''}`);
    };
    if (z.source.kind === 'archive') need(z.source.value, 'archive', false);
    if (z.source.kind === 'dir') need(z.source.value, 'source directory', true);
    need(z.zoneConfig, 'zone-config', false);
    need(z.hostManifest, 'host-manifest', false);
    need(z.config, 'config', false);
    need(z.hostRoot, 'host-root', true);
    decisions.push({ z, action: 'run', clean, note });
  }
  return { decisions, problems };
}
