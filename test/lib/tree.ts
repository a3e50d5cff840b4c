// Snapshot a directory tree and compare two snapshots: the differential
// check every format test uses against GNU cpio, GNU tar, bsdtar and restore.

import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';

export interface Node {
  type: 'file' | 'dir' | 'symlink' | 'fifo' | 'char' | 'block' | 'socket';
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  hash?: string;
  target?: string;
  /** Names (sorted) sharing this inode, for link structure; only when nlink > 1. */
  links?: string;
  /** Allocated 512-byte blocks (for sparse checks). */
  blocks: number;
}

export type Tree = Map<string, Node>;

function typeOf(st: fs.Stats): Node['type'] {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFIFO()) return 'fifo';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  return 'socket';
}

/** Walk `root` (not following symlinks); keys are relative paths as latin1 strings. */
export function snapshot(root: string, opts: { hash?: boolean } = {}): Tree {
  const out: Tree = new Map();
  const inodes = new Map<string, string[]>();
  const rootBuf = Buffer.from(root);
  const walk = (relParts: Buffer[]) => {
    const abs = Buffer.concat([rootBuf, ...relParts.flatMap((p) => [Buffer.from('/'), p])]);
    for (const name of fs.readdirSync(abs, { encoding: 'buffer' }).sort(Buffer.compare)) {
      const parts = [...relParts, name];
      const rel = Buffer.concat(parts.flatMap((p, i) => (i ? [Buffer.from('/'), p] : [p]))).toString('latin1');
      const full = Buffer.concat([abs, Buffer.from('/'), name]);
      const st = fs.lstatSync(full);
      const n: Node = {
        type: typeOf(st),
        mode: st.mode & 0o7777,
        uid: st.uid,
        gid: st.gid,
        size: st.isFile() || st.isSymbolicLink() ? st.size : 0,
        mtime: Math.floor(st.mtimeMs / 1000),
        blocks: st.blocks,
      };
      if (n.type === 'file' && opts.hash !== false) n.hash = crypto.createHash('sha256').update(fs.readFileSync(full)).digest('hex');
      if (n.type === 'symlink') n.target = (fs.readlinkSync(full, { encoding: 'buffer' }) as Buffer).toString('latin1');
      if (n.type !== 'dir' && st.nlink > 1) {
        const key = `${st.dev}:${st.ino}`;
        const l = inodes.get(key) ?? [];
        l.push(rel);
        inodes.set(key, l);
      }
      out.set(rel, n);
      if (n.type === 'dir') walk(parts);
    }
  };
  walk([]);
  for (const names of inodes.values()) {
    const s = names.sort().join('|');
    for (const nm of names) out.get(nm)!.links = s;
  }
  return out;
}

export interface CompareOptions {
  /** Fields to ignore, e.g. ["mtime"] for directories touched by extraction. */
  ignore?: (keyof Node)[];
  /** Paths to leave out on both sides (predicate on the relative path). */
  exclude?: (rel: string, n: Node) => boolean;
  /** Ignore directory mtimes (many tools cannot restore them). */
  ignoreDirMtime?: boolean;
}

/** Differences between two trees, as readable lines; empty when equal. */
export function diffTrees(a: Tree, b: Tree, opts: CompareOptions = {}): string[] {
  const diffs: string[] = [];
  const ignore = new Set<string>(opts.ignore ?? []);
  ignore.add('blocks');
  const keys = new Set([...a.keys(), ...b.keys()]);
  for (const k of [...keys].sort()) {
    const x = a.get(k);
    const y = b.get(k);
    if (x && opts.exclude?.(k, x)) continue;
    if (y && opts.exclude?.(k, y)) continue;
    if (!x) { diffs.push(`only in second: ${JSON.stringify(k)} (${y!.type})`); continue; }
    if (!y) { diffs.push(`only in first: ${JSON.stringify(k)} (${x.type})`); continue; }
    for (const f of ['type', 'mode', 'uid', 'gid', 'size', 'mtime', 'hash', 'target', 'links'] as const) {
      if (ignore.has(f)) continue;
      if (f === 'mtime' && (x.type === 'symlink' || (opts.ignoreDirMtime && x.type === 'dir'))) continue;
      if (x[f] !== y[f]) diffs.push(`${JSON.stringify(k)}: ${f} ${fmt(x[f])} != ${fmt(y[f])}`);
    }
  }
  return diffs;
}

function fmt(v: unknown): string {
  return typeof v === 'number' && v > 7 && v < 0o10000 ? `0${v.toString(8)}` : String(v);
}

/** A fresh temporary directory removed by the caller (or t.teardown). */
export function tmpdir(prefix = 'zonep2v-test-'): string {
  return fs.mkdtempSync(path.join(process.env.ZONEP2V_TEST_TMP ?? '/tmp', prefix));
}
