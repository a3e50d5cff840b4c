// Helpers for the FsSink tests: entries built directly (no archive needed),
// a root with a canary directory beside it, and tmpfs mounts.

import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import type { Entry, EntryType, SparseRegion } from '../src/entry.js';
import type { Warning } from '../src/formats/types.js';
import { FsSink, type FsSinkOptions } from '../src/sink/fs.js';
import { diffTrees, snapshot, tmpdir, type Tree } from './lib/tree.js';
import type { Test } from 'tap';
import { ArchiveError } from '../src/errors.js';
import { displayPath } from '../src/entry.js';

export interface Spec {
  path: string;
  type?: EntryType;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  nsec?: number;
  data?: Buffer | string;
  /** Body split into chunks of this size (default: one chunk). */
  chunk?: number;
  linkTarget?: string;
  sparse?: SparseRegion[];
  /** Apparent size (default: data length). */
  size?: number;
  devMajor?: number;
  devMinor?: number;
  offset?: number;
}

let counter = 0;

/** An Entry from a small spec; data is a latin1 string or a Buffer. */
export function mkEntry(s: Spec): Entry {
  const type = s.type ?? 'file';
  const data = s.data === undefined ? Buffer.alloc(0) : typeof s.data === 'string' ? Buffer.from(s.data, 'latin1') : s.data;
  const index = counter++;
  const chunk = s.chunk ?? Math.max(1, data.length);
  return {
    path: s.path,
    type,
    mode: s.mode ?? (type === 'dir' ? 0o755 : type === 'symlink' ? 0o777 : 0o644),
    uid: s.uid ?? 0,
    gid: s.gid ?? 0,
    mtime: s.mtime ?? 1_600_000_000,
    mtimeNsec: s.nsec ?? 0,
    size: type === 'file' ? (s.size ?? data.length) : 0,
    linkTarget: s.linkTarget,
    devMajor: s.devMajor,
    devMinor: s.devMinor,
    sparse: s.sparse,
    offset: s.offset ?? index * 512,
    index,
    body: () => ({
      async *[Symbol.asyncIterator]() {
        if (type !== 'file') return;
        for (let i = 0; i < data.length; i += chunk) yield data.subarray(i, i + chunk);
      },
    }),
  };
}

export function dir(p: string, more: Partial<Spec> = {}): Spec {
  return { path: p, type: 'dir', ...more };
}
export function sym(p: string, target: string, more: Partial<Spec> = {}): Spec {
  return { path: p, type: 'symlink', linkTarget: target, ...more };
}
export function hard(p: string, target: string, more: Partial<Spec> = {}): Spec {
  return { path: p, type: 'hardlink', linkTarget: target, ...more };
}

export const isRoot = process.getuid?.() === 0;

/**
 * A base directory holding `root/` (the extraction root) and `canary/`
 * (what must never change: a file, a subdirectory, a 0700 mode).
 */
export interface Env {
  base: string;
  root: string;
  canary: string;
  canaryBefore: Tree;
  baseNames: string[];
  warnings: Warning[];
  sink(opts?: FsSinkOptions): FsSink;
  /** Differences in the canary and beside the root since setup: must be []. */
  outside(): string[];
  cleanup(): void;
}

export function setupEnv(prepareRoot?: (root: string, canary: string) => void): Env {
  const base = tmpdir('zonep2v-sink-');
  const root = path.join(base, 'root');
  const canary = path.join(base, 'canary');
  fs.mkdirSync(root);
  fs.mkdirSync(canary);
  fs.writeFileSync(path.join(canary, 'victim'), 'original victim\n');
  fs.mkdirSync(path.join(canary, 'sub'));
  fs.writeFileSync(path.join(canary, 'sub', 'passwd'), 'root:x:0:0\n');
  fs.chmodSync(canary, 0o700);
  fs.utimesSync(canary, 1_000_000_000, 1_000_000_000);
  prepareRoot?.(root, canary);
  const canaryBefore = snapshot(canary);
  const baseNames = fs.readdirSync(base).sort();
  const canaryStat = fs.lstatSync(canary);
  const warnings: Warning[] = [];
  return {
    base,
    root,
    canary,
    canaryBefore,
    baseNames,
    warnings,
    sink: (opts = {}) => new FsSink(root, { warn: (w) => warnings.push(w), ...opts }),
    outside: () => {
      const d = [];
      const st = fs.lstatSync(canary);
      if ((st.mode & 0o7777) !== (canaryStat.mode & 0o7777)) d.push(`canary mode changed to 0${(st.mode & 0o7777).toString(8)}`);
      if (st.uid !== canaryStat.uid || st.gid !== canaryStat.gid) d.push('canary owner changed');
      if (st.mtimeMs !== canaryStat.mtimeMs) d.push('canary mtime changed');
      d.push(...diffTrees(canaryBefore, snapshot(canary)));
      const names = fs.readdirSync(base).sort();
      if (names.join('|') !== baseNames.join('|')) d.push(`beside the root: ${names.join(',')} (was ${baseNames.join(',')})`);
      return d;
    },
    cleanup: () => {
      // Unmount anything a test left mounted below base (deepest first)
      // before removing the tree, so cleanup never walks into a mount.
      let mounts: string[] = [];
      try {
        mounts = fs
          .readFileSync('/proc/self/mounts', 'utf8')
          .split('\n')
          .map((l) => l.split(' ')[1] ?? '')
          .filter((m) => m.startsWith(`${base}/`))
          .sort((a, b) => b.length - a.length);
      } catch {
        /* no /proc: nothing mounted by these tests */
      }
      for (const m of mounts) execFileSync('umount', [m], { stdio: 'pipe' });
      fs.rmSync(base, { recursive: true, force: true });
    },
  };
}


/** Write every spec through the sink (in order). */
export async function writeAllSpecs(sink: FsSink, specs: Spec[]): Promise<void> {
  for (const s of specs) await sink.write(mkEntry(s));
}

/** Why tmpfs mounts cannot be used in tests ('' when they can): checked once by mounting one. */
export const noMountReason: string = (() => {
  if (!isRoot) return 'needs root to mount a tmpfs';
  const d = tmpdir('zonep2v-mnt-');
  try {
    const um = mountTmpfs(d, '64k');
    if (typeof um === 'string') return um;
    um();
    return '';
  } finally {
    fs.rmdirSync(d);
  }
})();

/** Mount a tmpfs at `dir` (root only); returns an unmount function or a reason it cannot. */
export function mountTmpfs(dir: string, size = '4m'): (() => void) | string {
  if (!isRoot) return 'not running as root';
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (e) {
    return `cannot mount a tmpfs here: ${String((e as { stderr?: Buffer }).stderr ?? e).trim()}`;
  }
  return () => {
    execFileSync('umount', [dir], { stdio: 'pipe' });
  };
}

export { snapshot, diffTrees };




export type T = Test;

/**
 * Write `spec` and expect an ArchiveError of `kind` that names the entry
 * (raw path kept, escaped path in the message) and its offset.
 */
export async function expectReject(t: T, sink: FsSink, spec: Spec, kind: string): Promise<ArchiveError | undefined> {
  const e = mkEntry(spec);
  let err: unknown;
  try {
    await sink.write(e);
  } catch (x) {
    err = x;
  }
  if (!(err instanceof ArchiveError)) {
    t.fail(`expected ArchiveError ${kind} for ${displayPath(spec.path)}, got ${err === undefined ? 'success' : String(err)}`);
    return undefined;
  }
  t.equal(err.kind, kind, `kind ${kind}: ${err.message}`);
  t.equal(err.entry, e.path, 'error names the entry');
  t.equal(err.offset, e.offset, 'error gives the offset');
  t.ok(err.message.includes(displayPath(e.path)), 'message shows the escaped name');
  return err;
}
