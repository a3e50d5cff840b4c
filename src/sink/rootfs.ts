// The "rooted fs": every path-based filesystem operation the sink performs,
// behind one small interface (security.md 2.2) so the backend can change
// (a /proc/self/fd-anchored walk, a native *at helper) and tests can inject
// races. Callers pass root-relative keys that path.ts already validated
// (latin1 strings, one char per byte, no '..', no empty or '.' components);
// '' is the root itself. Operations on file descriptors (write, fchown,
// fchmod, futimes) need no path and stay in the sink.
//
// PathRootedFs is the portable "private tree" model (option B): absolute
// paths built from the root's bytes and the key, parents checked by the
// sink, the last component never followed (O_NOFOLLOW, O_EXCL, lstat,
// unlink, rmdir, symlink, link all act on the link itself).

import fs from 'node:fs';
import { childProcess } from '../child-process.js';

const C = fs.constants;
const O_CREATE = C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW;
const O_DIR = C.O_RDONLY | C.O_DIRECTORY | C.O_NOFOLLOW;
const O_NODE = C.O_RDONLY | C.O_NONBLOCK | C.O_NOFOLLOW;

const NON_ASCII = /[^\x00-\x7f]/;

/**
 * A path held as latin1 (one char per byte) in the form fs calls take: the
 * string itself when it is ASCII (node encodes strings as UTF-8, the same
 * bytes then), else its bytes: most names are ASCII, and this saves a
 * Buffer per file written on this thread.
 */
function bytePath(p: string): string | Buffer {
  return NON_ASCII.test(p) ? Buffer.from(p, 'latin1') : p;
}

export interface RootedFs {
  /** The root as given (a directory). */
  readonly root: string;
  /** On-disk path of a key, byte-exact. */
  abs(key: string): Buffer;
  /** lstat, or undefined when nothing is there (ENOENT). */
  lstat(key: string): fs.Stats | undefined;
  /** mkdir; false when something already exists there. */
  mkdir(key: string, mode: number): boolean;
  /** open(O_WRONLY|O_CREAT|O_EXCL|O_NOFOLLOW); -1 when something already exists there. */
  createExcl(key: string, mode: number): number;
  unlink(key: string): void;
  rmdir(key: string): void;
  /** open(O_RDONLY|O_DIRECTORY|O_NOFOLLOW). */
  openDir(key: string): number;
  /** open(O_RDONLY|O_NONBLOCK|O_NOFOLLOW), for FIFOs (never blocks). */
  openNode(key: string): number;
  /** Create a symlink holding `target` verbatim. */
  symlink(target: Buffer, key: string): void;
  /** Hard link `key` to `existing`; false when something already exists at `key`. */
  link(existing: string, key: string): boolean;
  /** Create a FIFO with mode 0600; throws if something exists there. */
  mkfifo(key: string): void;
  lchown(key: string, uid: number, gid: number): void;
  lutimes(key: string, atime: number | Date, mtime: number | Date): void;
  statfs(): fs.StatsFs;
  /** Names in directory `key` (raw bytes). */
  readdir(key: string): Buffer[];
  /**
   * The path, as latin1, that opens `key` without following a link in its
   * last component (for the file-writing thread, which has no fd-relative
   * calls). It stays valid until beforeRelease is next called.
   */
  leafPath(key: string): string;
  /** leafPath() of two keys at once: both stay valid until beforeRelease is next called. */
  leafPaths(a: string, b: string): [string, string];
  /** Called before the backend closes a directory fd that a leafPath may name. */
  beforeRelease?: () => void;
  /** Release what the backend holds (fds); the sink calls it after finish or abort. */
  close?(): void;
}

function code(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

/** Error from the mkfifo child, without the (raw, possibly hostile) path in its message. */
export class FifoError extends Error {
  readonly code: string;
  constructor(status: number | null | undefined, stderr: string, spawnCode?: string) {
    const c = spawnCode ?? (/File exists/.test(stderr) ? 'EEXIST' : /No space/.test(stderr) ? 'ENOSPC' : /Permission denied/.test(stderr) ? 'EACCES' : 'EIO');
    super(spawnCode ? `cannot run mkfifo (${spawnCode})` : `mkfifo exited with status ${status ?? 'signal'}`);
    this.name = 'FifoError';
    this.code = c;
  }
}

let fifoSeq = 0;

export class PathRootedFs implements RootedFs {
  readonly root: string;
  /** The root's bytes plus '/', as latin1: prefix + key is the byte-exact path. */
  private readonly prefix: string;
  private readonly rootBuf: Buffer;
  private readonly mkfifoBin: string;

  constructor(root: string, opts: { mkfifo?: string } = {}) {
    this.root = root;
    this.rootBuf = Buffer.from(root);
    this.prefix = `${this.rootBuf.toString('latin1')}/`;
    this.mkfifoBin = opts.mkfifo ?? '/usr/bin/mkfifo';
  }

  abs(key: string): Buffer {
    return key === '' ? this.rootBuf : Buffer.from(this.prefix + key, 'latin1');
  }

  lstat(key: string): fs.Stats | undefined {
    return fs.lstatSync(this.abs(key), { throwIfNoEntry: false });
  }

  mkdir(key: string, mode: number): boolean {
    try {
      fs.mkdirSync(this.abs(key), mode);
      return true;
    } catch (e) {
      if (code(e) === 'EEXIST') return false;
      throw e;
    }
  }

  createExcl(key: string, mode: number): number {
    try {
      return fs.openSync(this.abs(key), O_CREATE, mode);
    } catch (e) {
      if (code(e) === 'EEXIST') return -1;
      throw e;
    }
  }

  unlink(key: string): void {
    fs.unlinkSync(this.abs(key));
  }

  rmdir(key: string): void {
    fs.rmdirSync(this.abs(key));
  }

  openDir(key: string): number {
    return fs.openSync(this.abs(key), O_DIR);
  }

  openNode(key: string): number {
    return fs.openSync(this.abs(key), O_NODE);
  }

  symlink(target: Buffer, key: string): void {
    fs.symlinkSync(target, this.abs(key));
  }

  link(existing: string, key: string): boolean {
    try {
      fs.linkSync(this.abs(existing), this.abs(key));
      return true;
    } catch (e) {
      if (code(e) === 'EEXIST') return false;
      throw e;
    }
  }

  /**
   * Node has no mkfifo (nodejs/node#1740): run mkfifo(1) without a shell.
   * Its arguments are strings (UTF-8 on the wire), so a path that is not
   * valid UTF-8 cannot be passed as is: then the FIFO is made under an ASCII
   * temporary name in the root and renamed (Buffer paths) into place.
   */
  mkfifo(key: string): void {
    const target = this.abs(key);
    const asText = target.toString('utf8');
    if (Buffer.from(asText, 'utf8').equals(target)) {
      this.runFifo(asText);
      return;
    }
    const tmp = `${this.root}/.zonep2v-fifo-${process.pid}-${++fifoSeq}`;
    this.runFifo(tmp);
    try {
      fs.renameSync(tmp, target);
    } catch (e) {
      try {
        fs.unlinkSync(tmp);
      } catch {
        /* already gone */
      }
      throw e;
    }
  }

  protected runFifo(p: string): void {
    try {
      childProcess().execFileSync(this.mkfifoBin, ['-m', '0600', '--', p], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
    } catch (e) {
      const err = e as { status?: number | null; stderr?: string; code?: unknown };
      throw new FifoError(err.status, String(err.stderr ?? ''), typeof err.code === 'string' ? err.code : undefined);
    }
  }

  lchown(key: string, uid: number, gid: number): void {
    fs.lchownSync(this.abs(key), uid, gid);
  }

  lutimes(key: string, atime: number | Date, mtime: number | Date): void {
    fs.lutimesSync(this.abs(key), atime, mtime);
  }

  statfs(): fs.StatsFs {
    return fs.statfsSync(this.root);
  }

  readdir(key: string): Buffer[] {
    return fs.readdirSync(this.abs(key), { encoding: 'buffer' });
  }

  leafPath(key: string): string {
    return this.prefix + key;
  }

  leafPaths(a: string, b: string): [string, string] {
    return [this.leafPath(a), this.leafPath(b)];
  }

  beforeRelease?: () => void;
}

/**
 * Linux-only backend (security.md 2.2 option A): every operation goes
 * through `/proc/self/fd/<dirfd>/<name>`, where dirfd is the parent
 * directory opened component by component with O_DIRECTORY|O_NOFOLLOW from
 * the root's fd. A directory renamed or swapped for a symlink after it was
 * opened cannot redirect later writes: they stay anchored to the directory
 * that was checked. Directory fds are cached (bounded; trimmed at the start
 * of each operation, never in the middle of one).
 */
export class ProcFdRootedFs extends PathRootedFs {
  private rootFdValue = -1;
  private readonly fds = new Map<string, number>();
  private readonly maxFds: number;

  /** Whether /proc/self/fd can anchor paths here. */
  static supported(): boolean {
    if (process.platform !== 'linux') return false;
    try {
      const fd = fs.openSync('/', O_DIR);
      try {
        return fs.statSync(`/proc/self/fd/${fd}/`).isDirectory();
      } finally {
        fs.closeSync(fd);
      }
    } catch {
      return false;
    }
  }

  constructor(root: string, opts: { mkfifo?: string; maxFds?: number } = {}) {
    super(root, opts);
    this.maxFds = Math.max(4, opts.maxFds ?? 256);
  }

  /** The root, opened once (again after close()). */
  private get rootFd(): number {
    if (this.rootFdValue < 0) this.rootFdValue = fs.openSync(this.root, O_DIR);
    return this.rootFdValue;
  }

  /** Close every fd held; later operations reopen what they need. */
  close(): void {
    this.beforeRelease?.();
    for (const fd of this.fds.values()) fs.closeSync(fd);
    this.fds.clear();
    if (this.rootFdValue >= 0) fs.closeSync(this.rootFdValue);
    this.rootFdValue = -1;
  }

  private trim(): void {
    if (this.fds.size <= this.maxFds) return;
    this.beforeRelease?.();
    for (const [k, fd] of this.fds) {
      fs.closeSync(fd);
      this.fds.delete(k);
      if (this.fds.size <= this.maxFds >> 1) break;
    }
  }

  /** fd of directory `dkey`, opened through its parent's fd (cached). */
  private dirFd(dkey: string): number {
    if (dkey === '') return this.rootFd;
    const hit = this.fds.get(dkey);
    if (hit !== undefined) return hit;
    let cur = this.rootFd;
    let start = 0;
    for (let i = dkey.lastIndexOf('/'); i !== -1; i = i === 0 ? -1 : dkey.lastIndexOf('/', i - 1)) {
      const f = this.fds.get(dkey.slice(0, i));
      if (f !== undefined) {
        cur = f;
        start = i + 1;
        break;
      }
    }
    let owned = false;
    for (;;) {
      const slash = dkey.indexOf('/', start);
      const end = slash === -1 ? dkey.length : slash;
      let next: number;
      try {
        next = fs.openSync(bytePath(`/proc/self/fd/${cur}/${dkey.slice(start, end)}`), O_DIR);
      } finally {
        if (owned) fs.closeSync(cur);
      }
      if (slash === -1 || this.fds.size < this.maxFds) {
        this.fds.set(dkey.slice(0, end), next);
        owned = false;
      } else {
        owned = true; // no room: used for the next step only
      }
      if (slash === -1) return next;
      cur = next;
      start = end + 1;
    }
  }

  /** `/proc/self/fd/<parent fd>/<last component>` of a key, as latin1. */
  private leaf(key: string): string {
    const i = key.lastIndexOf('/');
    const pfd = i === -1 ? this.rootFd : this.dirFd(key.slice(0, i));
    return `/proc/self/fd/${pfd}/${i === -1 ? key : key.slice(i + 1)}`;
  }

  private at(key: string): string | Buffer {
    return bytePath(this.leaf(key));
  }

  private forget(key: string): void {
    const fd = this.fds.get(key);
    if (fd !== undefined) {
      this.beforeRelease?.();
      fs.closeSync(fd);
      this.fds.delete(key);
    }
  }

  override readdir(key: string): Buffer[] {
    this.trim();
    return fs.readdirSync(key === '' ? this.root : this.at(key), { encoding: 'buffer' });
  }

  override leafPath(key: string): string {
    this.trim();
    return this.leaf(key);
  }

  /** One trim, then both: a trim between the two could close the first one's directory. */
  override leafPaths(a: string, b: string): [string, string] {
    this.trim();
    return [this.leaf(a), this.leaf(b)];
  }

  override lstat(key: string): fs.Stats | undefined {
    this.trim();
    if (key === '') return fs.lstatSync(this.root);
    return fs.lstatSync(this.at(key), { throwIfNoEntry: false });
  }

  override mkdir(key: string, mode: number): boolean {
    this.trim();
    try {
      fs.mkdirSync(this.at(key), mode);
      return true;
    } catch (e) {
      if (code(e) === 'EEXIST') return false;
      throw e;
    }
  }

  override createExcl(key: string, mode: number): number {
    this.trim();
    try {
      return fs.openSync(this.at(key), O_CREATE, mode);
    } catch (e) {
      if (code(e) === 'EEXIST') return -1;
      throw e;
    }
  }

  override unlink(key: string): void {
    this.trim();
    fs.unlinkSync(this.at(key));
  }

  override rmdir(key: string): void {
    this.trim();
    fs.rmdirSync(this.at(key));
    this.forget(key);
  }

  override openDir(key: string): number {
    this.trim();
    return fs.openSync(key === '' ? this.root : this.at(key), O_DIR);
  }

  override openNode(key: string): number {
    this.trim();
    return fs.openSync(this.at(key), O_NODE);
  }

  override symlink(target: Buffer, key: string): void {
    this.trim();
    fs.symlinkSync(target, this.at(key));
  }

  override link(existing: string, key: string): boolean {
    this.trim();
    try {
      fs.linkSync(this.at(existing), this.at(key));
      return true;
    } catch (e) {
      if (code(e) === 'EEXIST') return false;
      throw e;
    }
  }

  /** mkfifo(1) cannot see our fds: make it under a temporary name in the root, then rename it into place through the anchor. */
  override mkfifo(key: string): void {
    this.trim();
    const tmp = `${this.root}/.zonep2v-fifo-${process.pid}-${++fifoSeq}`;
    this.runFifo(tmp);
    try {
      fs.renameSync(tmp, this.at(key));
    } catch (e) {
      try {
        fs.unlinkSync(tmp);
      } catch {
        /* already gone */
      }
      throw e;
    }
  }

  override lchown(key: string, uid: number, gid: number): void {
    this.trim();
    fs.lchownSync(this.at(key), uid, gid);
  }

  override lutimes(key: string, atime: number | Date, mtime: number | Date): void {
    this.trim();
    fs.lutimesSync(this.at(key), atime, mtime);
  }
}
