// The zonepath around the zone root: preflight checks (security D-15), and the
// durable state marker that says an install is under way, failed, or done.
// The marker lives outside the root, so a crash (even SIGKILL) leaves evidence
// the next run acts on.

import fs from 'node:fs';
import path from 'node:path';
import { ArchiveError } from '../errors.js';

export type ZoneState = 'incomplete' | 'installed';

export interface StateRecord {
  state: ZoneState;
  zone: string;
  source: string;
  started: string;
  pid: number;
  finished?: string;
}

export const STATE_FILE = '.zonep2v-state';

export function statePath(zonepath: string): string {
  return path.join(zonepath, STATE_FILE);
}

export function readState(zonepath: string): StateRecord | undefined {
  try {
    return JSON.parse(fs.readFileSync(statePath(zonepath), 'utf8')) as StateRecord;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return { state: 'incomplete', zone: '?', source: '?', started: '?', pid: 0 };
  }
}

/**
 * True when the install that wrote `rec` still runs (a pid reused by another
 * program after a crash is not an install). --clean must not empty the root
 * under a running install, whose rollback would then remove the new files.
 */
export function installRunning(rec: StateRecord | undefined): boolean {
  const pid = rec?.pid;
  return Number.isSafeInteger(pid) && pid! > 0 && pid !== process.pid && pidIsInstall(pid!, rec!.started);
}

/**
 * A live process that can be the install that wrote a marker `started` (ISO
 * time): a Node process (the brand hook may be a link with any name, run by
 * node) that was already running then. A pid reused after a crash started
 * later. Where /proc does not tell, any live pid counts.
 */
export function pidIsInstall(pid: number, started?: string): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  let cmdline: string;
  try {
    cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1');
  } catch {
    return true; // no Linux /proc: the live pid is all we know
  }
  if (!/zonep2v|node/.test(cmdline)) return false;
  const since = started === undefined ? NaN : Date.parse(started);
  const began = processStartMs(pid);
  // Start times are in clock ticks (10 ms); a second of slack.
  return Number.isNaN(since) || began === undefined || began <= since + 1000;
}

/** When process `pid` started, in ms since the epoch (Linux /proc; USER_HZ is 100 there). */
function processStartMs(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    // Fields after "(comm) " start at field 3; starttime is field 22.
    const ticks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    const btime = Number(/^btime (\d+)$/m.exec(fs.readFileSync('/proc/stat', 'latin1'))?.[1]);
    return Number.isFinite(ticks) && Number.isFinite(btime) ? btime * 1000 + ticks * 10 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Write the state durably: temporary file, fsync, rename, fsync the directory.
 * `exclusive`: fail with EEXIST when a state is there already (linked into
 * place, not renamed), so of two installs started at once only one goes on.
 */
export function writeState(zonepath: string, rec: StateRecord, exclusive = false): void {
  const tmp = path.join(zonepath, `${STATE_FILE}.${process.pid}.tmp`);
  const fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC | fs.constants.O_NOFOLLOW, 0o600);
  try {
    fs.writeSync(fd, `${JSON.stringify(rec, null, 1)}\n`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  if (exclusive) {
    try {
      fs.linkSync(tmp, statePath(zonepath));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      throw new ArchiveError('zonepath', `another install has just started in ${zonepath}`, {}, 'wait for it to finish, then retry');
    } finally {
      fs.rmSync(tmp, { force: true });
    }
  } else fs.renameSync(tmp, statePath(zonepath));
  syncDir(zonepath);
}

export function clearState(zonepath: string): void {
  fs.rmSync(statePath(zonepath), { force: true });
  syncDir(zonepath);
}

function syncDir(dir: string): void {
  const fd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Make sure the zonepath is a safe place to write: no symlink on the way,
 * nothing on the way owned by another user, no ancestor writable by others
 * (without the sticky bit), the zonepath 0700
 * and the root an empty real directory. Creates them when missing.
 */
export function prepareZonepath(zonepath: string): string {
  const abs = checkZonepath(zonepath, true);
  fs.chmodSync(abs, 0o700);
  const root = path.join(abs, 'root');
  const refused = rootRefusal(root);
  if (refused) throw refused;
  if (!fs.existsSync(root)) fs.mkdirSync(root, { mode: 0o755 });
  fs.chmodSync(root, 0o755);
  return root;
}

/** A zone root that is there but not an empty real directory. */
function rootRefusal(root: string): ArchiveError | undefined {
  const rst = fs.lstatSync(root, { throwIfNoEntry: false });
  if (!rst) return undefined;
  if (!rst.isDirectory() || rst.isSymbolicLink()) return new ArchiveError('zonepath', `${root} is not a directory`, {}, 'remove or move it aside');
  if (fs.readdirSync(root).length > 0) return new ArchiveError('zonepath', `Zonepath root ${root} exists and contains data; remove or move aside prior to install.`);
  return undefined;
}

/**
 * Why the zonepath's state file forbids an install now (`clean`: with
 * --clean, which takes over what an earlier install left): installed, or an
 * install still running, or one that did not finish.
 */
export function stateRefusal(zonepath: string, zone: string, clean: boolean): string | undefined {
  const st = readState(zonepath);
  if (st?.state === 'installed') return `zone '${zone}' is already installed (${zonepath}).`;
  if (st?.state !== 'incomplete') return undefined;
  if (installRunning(st)) return `zone '${zone}': an install (pid ${st.pid}, started ${st.started}) is running in ${zonepath}; wait for it to finish or stop it (kill ${st.pid}), then retry.`;
  if (!clean) return `zone '${zone}': zone is incomplete; uninstall required. An earlier install (pid ${st.pid}, started ${st.started}) did not finish; run again with --clean to remove what it left, or zoneadm -z ${zone} uninstall -F.`;
  return undefined;
}

/**
 * What install would refuse in a zonepath, found without changing anything
 * (inspect): an install done or incomplete, an unsafe path, a root that is
 * not an empty directory. Missing directories are fine (install makes them).
 */
export function zonepathProblems(zonepath: string, zone: string): string[] {
  const state = stateRefusal(zonepath, zone, false);
  if (state) return [state];
  try {
    checkZonepath(zonepath, 'as-far-as-it-exists');
    const refused = rootRefusal(path.join(path.resolve(zonepath), 'root'));
    if (refused) return [refused.message];
  } catch (e) {
    return [(e as Error).message];
  }
  return [];
}

/** Bytes free for root on the file system that holds (or will hold) `zonepath`: its deepest existing ancestor's. */
export function freeBytesFor(zonepath: string): number | undefined {
  for (let p = path.resolve(zonepath); ; p = path.dirname(p)) {
    try {
      const st = fs.statfsSync(p);
      return st.bavail * st.bsize;
    } catch {
      if (p === '/') return undefined;
    }
  }
}

/**
 * The ancestor checks of prepareZonepath alone (missing directories made
 * when `create`), for what must hold before anything in the zonepath is
 * removed (install --clean). Returns the absolute zonepath.
 */
export function checkZonepath(zonepath: string, create: boolean | 'as-far-as-it-exists' = false): string {
  const abs = path.resolve(zonepath);
  const uid = process.getuid?.() ?? 0;
  let cur = '/';
  for (const comp of abs.split('/').filter(Boolean)) {
    cur = path.join(cur, comp);
    let st = fs.lstatSync(cur, { throwIfNoEntry: false });
    if (!st) {
      // inspect: what is missing, install makes.
      if (create === 'as-far-as-it-exists') return abs;
      if (!create) throw new ArchiveError('zonepath', `${cur} does not exist`, {}, 'check the zonepath');
      try {
        fs.mkdirSync(cur, { mode: 0o700 });
        continue;
      } catch (e) {
        // Made in between by a concurrent install (bulk --jobs, zones under
        // one new parent): checked below like any directory already there.
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        st = fs.lstatSync(cur);
      }
    }
    if (st.isSymbolicLink()) throw new ArchiveError('zonepath', `${cur} is a symbolic link`, {}, 'give the zonepath as a real path with no symbolic link in it');
    if (!st.isDirectory()) throw new ArchiveError('zonepath', `${cur} is not a directory`, {}, 'choose another zonepath');
    // An owner other than root (or the user running us) can chmod it back,
    // or rename what is inside and put a link in its place (D-15).
    if (st.uid !== 0 && st.uid !== uid) {
      throw new ArchiveError('zonepath', `${cur} is owned by uid ${st.uid}, not by root`, {}, `its owner could swap the path under the install: chown root ${cur}`);
    }
    if (cur !== abs && (st.mode & 0o022) !== 0 && (st.mode & 0o1000) === 0) {
      throw new ArchiveError('zonepath', `${cur} is writable by group or others (mode ${(st.mode & 0o7777).toString(8)})`, {}, `another user could swap the path under the install: chmod go-w ${cur}`);
    }
  }
  return abs;
}
