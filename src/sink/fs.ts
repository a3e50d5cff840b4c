// The safe filesystem sink: writes archive entries under a zone root while
// running as root (security.md sections 2.1 and 4; defences D-1 to D-16).
//
// Model: the "private tree" of security.md 2.2 option B. The installer
// guarantees (D-15) that no other process writes in the root; the sink then
// guarantees that it never writes through a symbolic link, whether the link
// came from the archive or was on disk before. On Linux the path operations
// are also anchored to directory fds through /proc/self/fd (option A,
// rootfs.ts; about 1 us per entry), so even a directory swapped by another
// process after its check cannot redirect a write.
//
//
// - names are validated byte by byte (path.ts) and on-disk paths are built
//   only from validated keys (D-1, D-2);
// - every parent must be a real directory: directories this run created or
//   already checked are remembered by key, anything else is lstat-checked
//   once; a symlink or one of our placeholders as a parent is refused (D-3);
// - symbolic links are created last: an empty O_EXCL placeholder stands in
//   for them until finish(), so no later entry can pass through (D-4);
// - files are created O_CREAT|O_EXCL|O_NOFOLLOW after unlinking whatever
//   non-directory was there; an existing file is never opened (D-5);
// - hard links only to regular files this run created, checked by dev+ino (D-6);
// - directories are created 0700 and get their mode, owner and times at the
//   end, deepest first, through a no-follow fd after an identity check (D-7);
// - owner before mode, so setuid and setgid survive (D-8); archive metadata
//   is never applied to the root (D-9); umask 022 and explicit modes (D-10);
// - FIFOs are made with mkfifo(1); devices and sockets are skipped (D-11);
// - a byte cap and free-space checks (D-12); entries one at a time (D-14);
// - every message names the entry escaped (D-16, through ArchiveError).
//
// Synchronous fs calls on the main thread: for many small files they beat
// the libuv thread pool, and they keep each entry's effects finished before
// the next entry starts. Past the first few files of a fresh (empty) root,
// regular files go to a file-writing thread instead (write-queue.ts), so
// parsing and file creation overlap; everything else stays here, and any
// operation on a name that may still be queued waits for the thread first
// (settle), so the order of effects is the archive's.
//
// A fresh root also needs no record per file: everything under it was made
// by this run (D-15), so abort and removeWritten remove whole subtrees, and
// a hard link only needs its target to be a regular file under directories
// this run made. Records remain for directories and links only, which keeps
// memory flat however many files the image has.

import fs from 'node:fs';
import { displayPath, type Body, type BodyRange, type Entry, type SparseRegion } from '../entry.js';
import { ArchiveError, TruncatedError, type Where } from '../errors.js';
import type { Warning } from '../formats/types.js';
import { WRITTEN, type Sink, type SinkStats } from './types.js';
import { DEFAULT_PATH_LIMITS, keyDepth, validateLinkTarget, validatePath, type PathLimits, type ValidPath } from './path.js';
import { PathRootedFs, ProcFdRootedFs, type RootedFs } from './rootfs.js';
import { WriteQueue, type QueuedFile } from './write-queue.js';
import { F, RANGE_PIECE } from './write-ring.js';
import { capBytes, capHeld, capLinks, checkEntry, checkOwner, checkSparse, fileLength, throughLink } from './refusals.js';
import { STILL_TAKEN, STILL_TAKEN_HINT, bodyCut, chownFailed, linkTargetMissing, linkTargetNotFile, modeNotKept, mtimeFailed, replaceRefused } from './messages.js';

export interface SinkCaps {
  /** Most body bytes this run may write (default: no cap). */
  maxBytes?: number;
  /** Free space to leave on the target file system, in bytes (default 32 MiB). */
  reserveBytes?: number;
  /** Free inodes to leave, when the file system reports inodes (default 0). */
  reserveInodes?: number;
  /** Bytes the archive is expected to write (e.g. flar files_unarchived_size), checked up front. */
  expectedBytes?: number;
  /** Re-check free space after this many bytes (default 64 MiB). */
  checkEveryBytes?: number;
  /** Most bytes of symbolic-link targets held until finish() (default 32 MiB; see writeSymlink). */
  maxLinkTargetBytes?: number;
  /** Most directories, links and other records held until finish() (default 2 Mi; see hold). */
  maxHeld?: number;
  maxPathBytes?: number;
  maxComponentBytes?: number;
  maxDepth?: number;
}

export interface FsSinkOptions {
  warn?: (w: Warning) => void;
  /** Apply archive owners (default: when running as root). */
  owners?: boolean;
  /** Turn the non-escape rejections (see LENIENT_KINDS) into skip + warning. */
  lenient?: boolean;
  caps?: SinkCaps;
  /**
   * How paths are resolved: 'path' (portable private-tree model), 'proc'
   * (Linux: anchored to directory fds through /proc/self/fd, so a directory
   * swapped after its check cannot redirect writes), 'auto' (proc where
   * available). Default 'auto'.
   */
  anchor?: 'auto' | 'proc' | 'path';
  /** The filesystem backend (tests inject races through it); overrides anchor. */
  backend?: (root: string) => RootedFs;
  /**
   * Where regular files are written: 'worker' (a file-writing thread, fresh
   * roots only), 'sync' (this thread), 'auto' (the thread once an archive
   * has more than a few files). Default: $ZONEP2V_WRITER, else 'auto'; 'sync'
   * when a backend is injected.
   */
  writer?: 'auto' | 'sync' | 'worker';
  /** Treat the root as fresh (see above). Default: it is empty and no backend is injected. */
  fresh?: boolean;
  /**
   * The run's interruption (a signal): finish() stops waiting for the
   * writing thread once it is aborted, dropping what is queued, and throws
   * its reason (a big file's range can keep the thread busy for long).
   */
  signal?: AbortSignal;
}

/** Files written on the main thread before 'auto' starts the writing thread (its start-up costs ~30 ms). */
const WORKER_AFTER_FILES = 48;
/** Room kept for a queued file's records (headers, path), beyond its data. */
const RECORD_ROOM = 4096;
const EMPTY = Buffer.alloc(0);
/** Queued names kept before the first prune (see pruneInflight). */
const INFLIGHT_MIN = 1024;
/**
 * Bodies from this size are taken as ranges of an uncompressed archive file
 * when they can be (entry.ts Body.takeRange): read by position straight
 * into the new file, by the writing thread or here, rather than through
 * this thread's reader and the ring.
 */
const RANGE_MIN = 1024 * 1024;
/** A range copied here lets the event loop run this often (signals), as the reader does. */
const YIELD_EVERY = 4 * 1024 * 1024;

/** Rejections that --lenient may turn into skip + warning; never the escape classes. */
export const LENIENT_KINDS: ReadonlySet<string> = new Set(['parent-not-dir', 'not-empty', 'bad-owner', 'trailing-slash']);

const MiB = 1024 * 1024;
/** Free space an install leaves on the zonepath's file system, whatever happens (for the system). */
export const RESERVE_BYTES = 32 * MiB;

/** The largest double below s + 1 (s a non-negative integer): a time in second s. */
function belowNext(s: number): number {
  const f = new Float64Array([s + 1]);
  new BigInt64Array(f.buffer)[0]! -= 1n;
  return f[0]!;
}

// Node kinds.
const DIR = 1;
const FILE = 2;
const PLACEHOLDER = 3;
const FIFO = 4;
const SYMLINK = 5;
const KIND_NAME = ['', 'directory', 'regular file', 'symbolic link (not yet created)', 'FIFO', 'symbolic link'];

interface Meta {
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  nsec: number;
  where: Where;
}

interface Delayed {
  key: string;
  /** Symlink target (latin1). */
  target: string;
  /** For a hard link to a delayed symlink: that symlink's record. */
  to: Rec | null;
  meta: Meta;
}

/** What the sink knows about one path under the root. */
class Rec {
  /** Directories: metadata to apply at finish(). */
  fix: Meta | null = null;
  /** Placeholders: the link to create at finish(). */
  link: Delayed | null = null;
  /** Pre-existing directories: [atime, mtime] in seconds, restored by abort(). */
  saved: [number, number] | null = null;
  constructor(
    public kind: number,
    public dev: number,
    /** 0 while unknown (directories created implicitly). */
    public ino: number,
    /** Created by this run (abort and removeWritten remove only these). */
    public created: boolean,
  ) {}
}

/**
 * A mode open() gives exactly (umask 022, set by the sink): no special bit,
 * no group or other write. Any other file is created 0600 and fchmod-ed once
 * its owner is set (D-8).
 */
function isPlainMode(mode: number): boolean {
  return (mode & 0o7022) === 0;
}

function errCode(e: unknown): string | undefined {
  const c = (e as NodeJS.ErrnoException | undefined)?.code;
  return typeof c === 'string' ? c : undefined;
}

export class FsSink implements Sink {
  private readonly root: string;
  private readonly fs: RootedFs;
  private readonly warnFn: (w: Warning) => void;
  private readonly owners: boolean;
  private readonly lenient: boolean;
  private readonly limits: PathLimits;
  private readonly maxBytes: number;
  private readonly reserveBytes: number;
  private readonly reserveInodes: number;
  private readonly checkEvery: number;
  private readonly maxLinkTargetBytes: number;
  private readonly maxHeld: number;
  /** Bytes of the targets of the delayed symlinks. */
  private linkTargetBytes = 0;
  /** declaredSize() looked once. */
  private declaredChecked = false;
  private readonly uid: number;
  private readonly gid: number;
  private readonly rootDev: number;
  private readonly rootIno: number;
  private readonly rootTimes: [number, number];
  /** atime given to everything written. */
  private readonly now: number;
  /** Everything known under the root, by key (latin1, '/'-joined). */
  private readonly nodes = new Map<string, Rec>();
  /** Placeholders in creation order. */
  private readonly delayed: Rec[] = [];
  private readonly stats: SinkStats = { entries: 0, bytes: 0, skipped: {} };
  private sinceCheck = 0;
  private state: 'open' | 'finished' | 'aborted' = 'open';
  private warnedOnce = new Set<string>();
  /** The root was empty at the start: no per-file records (see above). */
  private readonly fresh: boolean;
  private readonly writerMode: 'auto' | 'sync' | 'worker';
  private readonly signal: AbortSignal | undefined;
  private queue: WriteQueue | null = null;
  private filesSeen = 0;
  private seq = 0;
  /** Keys of queued files, with the queue's mark after them (see settle). */
  private readonly inflight = new Map<string, number>();
  private inflightLimit = INFLIGHT_MIN;
  /** The first error the writing thread reported, failing the run. */
  private pendingError: ArchiveError | undefined;

  constructor(root: string, opts: FsSinkOptions = {}) {
    // D-10: modes given to open/mkdir must not depend on the caller's umask;
    // final modes are applied explicitly anyway. Process-wide (main thread).
    process.umask(0o022);
    const r = root.length > 1 ? root.replace(/\/+$/, '') : root;
    if (r === '/' || r === '') throw new Error('FsSink: refusing to write into /');
    const st = fs.lstatSync(r);
    if (!st.isDirectory()) throw new Error(`FsSink: the root ${JSON.stringify(r)} is not a directory`);
    this.root = r;
    const anchor = opts.anchor ?? 'auto';
    const proc = anchor === 'proc' || (anchor === 'auto' && ProcFdRootedFs.supported());
    this.fs = opts.backend ? opts.backend(r) : proc ? new ProcFdRootedFs(r) : new PathRootedFs(r);
    this.rootDev = st.dev;
    this.rootIno = st.ino;
    this.rootTimes = [st.atimeMs / 1000, st.mtimeMs / 1000];
    this.warnFn = opts.warn ?? (() => {});
    this.uid = process.getuid?.() ?? 0;
    this.gid = process.getgid?.() ?? 0;
    this.owners = opts.owners ?? this.uid === 0;
    this.lenient = opts.lenient ?? false;
    const c = opts.caps ?? {};
    this.limits = {
      maxPathBytes: c.maxPathBytes ?? DEFAULT_PATH_LIMITS.maxPathBytes,
      maxComponentBytes: c.maxComponentBytes ?? DEFAULT_PATH_LIMITS.maxComponentBytes,
      maxDepth: c.maxDepth ?? DEFAULT_PATH_LIMITS.maxDepth,
    };
    this.maxBytes = c.maxBytes ?? Infinity;
    this.reserveBytes = c.reserveBytes ?? RESERVE_BYTES;
    this.reserveInodes = c.reserveInodes ?? 0;
    this.checkEvery = c.checkEveryBytes ?? 64 * MiB;
    this.maxLinkTargetBytes = c.maxLinkTargetBytes ?? 32 * MiB;
    this.maxHeld = c.maxHeld ?? 2 * 1024 * 1024;
    this.now = Date.now() / 1000;
    this.fresh = opts.fresh ?? (!opts.backend && isEmptyDir(r));
    const env = process.env['ZONEP2V_WRITER'];
    const envMode = env === 'sync' || env === 'worker' || env === 'auto' ? env : undefined;
    this.writerMode = opts.writer ?? (opts.backend ? 'sync' : envMode ?? 'auto');
    this.signal = opts.signal;
    // Closing a directory fd waits only until the thread has opened every
    // path queued: a big file's data or range behind it may take long.
    this.fs.beforeRelease = () => this.drainQueue(this.queue?.pathsMark());
    this.checkSpace(c.expectedBytes ?? 0, {});
  }

  /** Whether regular files went to the file-writing thread (tests, bench). */
  get writerThreadStarted(): boolean {
    return this.queue !== null;
  }

  /** Regular files this thread wrote itself (tests). */
  filesWrittenHere = 0;
  /** Regular files whose body was taken as a range, by either thread (tests). */
  filesByRange = 0;
  /** A range's piece in transit here (copyRange), allocated at the first. */
  private piece: Buffer | undefined;

  // ------------------------------------------------------------------ write

  write(e: Entry): Promise<void> {
    if (this.state !== 'open') return Promise.reject(new Error(`FsSink: write after ${this.state === 'finished' ? 'finish' : 'abort'}`));
    if (this.queue !== null && this.queue.hasNews()) this.absorbNews();
    if (this.pendingError) return Promise.reject(this.pendingError);
    const where: Where = { entry: e.path, offset: e.offset, index: e.index };
    // Only regular files need to await (their body); everything else is done
    // synchronously, without an async frame per entry.
    let pending: Promise<void> | undefined;
    try {
      pending = this.dispatch(e, where);
    } catch (err) {
      return this.failed(err, where);
    }
    if (pending === undefined) return WRITTEN;
    return pending.then(undefined, (err: unknown) => this.failed(err, where));
  }

  private failed(err: unknown, where: Where): Promise<void> {
    const ae = this.toArchiveError(err, where);
    if (this.lenient && LENIENT_KINDS.has(ae.kind)) {
      this.warn(ae.kind, `skipped: ${ae.message}`, where);
      this.skip(ae.kind);
      return WRITTEN;
    }
    return Promise.reject(ae);
  }

  /** Writes the entry; returns a promise only for regular files. */
  private dispatch(e: Entry, where: Where): Promise<void> | undefined {
    const v = validatePath(e.path, where, this.limits);
    if (v.leadingSlash) this.leadingSlash(where);
    checkEntry(e, v.key, v.trailingSlash, where);
    if (v.key === '') {
      // '.', './', '/' or '': the root itself. Its owner, mode and times
      // belong to the installer (D-9).
      this.stats.entries++;
      return undefined;
    }
    switch (e.type) {
      case 'char':
      case 'block':
        this.warn('device-skipped', `${e.type === 'char' ? 'character' : 'block'} device ${e.devMajor ?? '?'},${e.devMinor ?? '?'} not created (a zone gets its devices from the global zone)`, where);
        this.skip('device-node');
        return undefined;
      case 'socket':
        this.warn('socket-skipped', 'socket not created', where);
        this.skip('socket');
        return undefined;
    }
    checkOwner(e, where);
    if (e.xattrs !== undefined && !this.warnedOnce.has('xattrs-ignored')) {
      for (const _ in e.xattrs) {
        this.warnedOnce.add('xattrs-ignored');
        this.warn('xattrs-ignored', 'extended attributes, ACLs and capabilities in the archive are not applied (reported once)', where);
        break;
      }
    }
    switch (e.type) {
      case 'file':
        return this.writeFile(e, v, where);
      case 'dir':
        this.writeDir(e, v, where);
        break;
      case 'symlink':
        this.writeSymlink(e, v, where);
        break;
      case 'hardlink':
        if (!this.writeHardlink(e, v, where)) return undefined;
        break;
      case 'fifo':
        this.writeFifo(e, v, where);
        break;
      default:
        throw new ArchiveError('bad-type', `unsupported entry type ${JSON.stringify(e.type)}`, where);
    }
    this.stats.entries++;
    return undefined;
  }

  /** Checks, then the file goes to the writing thread or is written here; a promise only while its body is read. */
  private writeFile(e: Entry, v: ValidPath, where: Where): Promise<void> | undefined {
    const len = fileLength(e, where);
    const regions = e.sparse;
    if (regions) checkSparse(e, where);
    if (this.stats.bytes + len > this.maxBytes) {
      throw capBytes(len, this.maxBytes, where);
    }
    if (this.sinceCheck + len >= this.checkEvery) {
      this.checkSpace(len, where);
      this.sinceCheck = 0;
    }
    this.sinceCheck += len;
    this.parentDir(v.parent, where);
    const body = e.body();
    const range = regions === undefined && len >= RANGE_MIN ? body.takeRange?.() : undefined;
    if (range !== undefined) {
      if (range.head.length + range.length !== len) throw this.bodySize(range.head.length + range.length, len, where);
      this.filesByRange++;
    }
    if (this.writerMode === 'worker' && this.queue === null && this.fresh) {
      // Forced (tests, $ZONEP2V_WRITER): every file through the thread.
      this.queue = WriteQueue.take();
      return this.queue.whenRunning().then(() => this.route(e, body, range, v, where, len));
    }
    return this.route(e, body, range, v, where, len);
  }

  /** writeFile() once checked: to the writing thread or written here. */
  private route(e: Entry, body: Body, range: BodyRange | undefined, v: ValidPath, where: Where, len: number): Promise<void> | undefined {
    // To the writing thread when the ring has room for the whole file now,
    // or when the thread is idle (all queued work done): then a big file
    // streams through the ring, this thread waiting for room as it goes,
    // which pays where making the data is this thread's bottleneck (.Z
    // decoded here: 2.32 -> 2.12 s; cpio, pax, dump, gzip unchanged within
    // noise). Else this thread writes it rather than wait for room (big
    // files kept it waiting a fifth of the run). Forced to the thread: every
    // file. A range needs room for its head only: once queued, its bytes
    // count against the room (WriteQueue.room), so the thread takes a range
    // when it is not behind, and this thread copies it when it is (giving
    // the thread every range left this thread waiting for it at the end:
    // pax bench 0.97 s against 0.88 s, medians of 12).
    const q = this.useQueue() ? this.queue! : null;
    const need = range === undefined ? len : range.head.length;
    if (q !== null && (this.writerMode === 'worker' || q.room >= need + RECORD_ROOM || q.idle) && (range === undefined || q.reads(range.file))) {
      return this.queueFile(e, body, range, v, where, len);
    }
    return this.writeFileHere(e, body, range, v, where, len);
  }

  /** A regular file written on this thread. */
  private async writeFileHere(e: Entry, body: Body, range: BodyRange | undefined, v: ValidPath, where: Where, len: number): Promise<void> {
    const regions = e.sparse;
    this.settle(v.key);
    // A plain mode is given at open; in a fresh root nothing needs the
    // file's identity later, so neither fchmod nor fstat follows.
    const lean = this.fresh && isPlainMode(e.mode);
    const createMode = lean ? e.mode & 0o7777 : 0o600;
    let fd = this.fs.createExcl(v.key, createMode);
    if (fd < 0) {
      this.clearLeaf(v.key, where, e.type);
      fd = this.fs.createExcl(v.key, createMode);
      if (fd < 0) throw new ArchiveError('io-error', STILL_TAKEN, where, STILL_TAKEN_HINT);
    }
    this.filesWrittenHere++;
    const rec = new Rec(FILE, 0, 0, true);
    if (this.fresh) this.nodes.delete(v.key);
    else this.hold(v.key, rec, where);
    let ok = false;
    try {
      const written = range ? await this.copyRange(fd, range, where) : await this.eachPiece(body, regions, len, where, (chunk, off, n, pos) => writeAll(fd, chunk, off, n, pos));
      // Holes stay holes: the apparent size comes from ftruncate.
      if (regions) fs.ftruncateSync(fd, e.size);
      if (written !== len) throw this.bodySize(written, len, where);
      this.applyMeta(fd, rec, e.mode, e.uid, e.gid, e.mtime, e.mtimeNsec, where, lean);
      ok = true;
    } finally {
      closeAfter(fd, ok);
    }
    this.stats.entries++;
  }

  /**
   * Whether this file goes to the writing thread. The thread is started
   * when needed; files are written here until it runs (no waiting for it).
   */
  private useQueue(): boolean {
    if (this.queue !== null) return this.queue.running;
    if (!this.fresh || this.writerMode === 'sync') return false;
    if (this.writerMode === 'auto' && ++this.filesSeen <= WORKER_AFTER_FILES) return false;
    this.queue = WriteQueue.take();
    return this.queue.running;
  }

  /**
   * A body taken as a range, written here: its head, then the rest read by
   * position in pieces. The archive ending first is its truncation (and an
   * input closed by a signal reads as one, as for the reader).
   */
  private async copyRange(fd: number, r: BodyRange, where: Where): Promise<number> {
    const len = r.head.length + r.length;
    writeAll(fd, r.head, 0, r.head.length, 0);
    this.stats.bytes += r.head.length;
    const buf = (this.piece ??= Buffer.allocUnsafeSlow(RANGE_PIECE));
    let from = r.offset;
    let pos = r.head.length;
    let sinceYield = 0;
    while (pos < len) {
      const n = r.file.pread(buf, 0, Math.min(len - pos, RANGE_PIECE), from);
      if (n === 0) throw new TruncatedError(bodyCut(len - pos, len), { ...where, offset: from });
      writeAll(fd, buf, 0, n, pos);
      this.stats.bytes += n;
      from += n;
      pos += n;
      sinceYield += n;
      if (sinceYield >= YIELD_EVERY) {
        sinceYield = 0;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
    return len;
  }

  /** A regular file through the writing thread: checks and metadata decided here, system calls there. */
  private queueFile(e: Entry, body: Body, range: BodyRange | undefined, v: ValidPath, where: Where, len: number): Promise<void> | undefined {
    const q = this.queue!;
    if (this.nodes.has(v.key)) this.clearLeaf(v.key, where, e.type); // a directory or link of this run
    let m = e.mode & 0o7777;
    if (!this.owners) m = this.unownedMode(m, e.uid, e.gid, where);
    const t = this.timeArg(e.mtime, e.mtimeNsec, where);
    const plain = isPlainMode(m);
    const regions = e.sparse;
    const job: QueuedFile = {
      seq: ++this.seq >>> 0,
      path: this.fs.leafPath(v.key),
      flags: (this.owners ? F.owners : 0) | (plain ? 0 : F.chmod) | (t === undefined ? 0 : F.time) | (t instanceof Date ? F.timeDate : 0) | (regions ? F.truncate : 0),
      createMode: plain ? m : 0o600,
      mode: m,
      uid: e.uid,
      gid: e.gid,
      atime: this.now,
      mtime: t instanceof Date ? t.getTime() : (t ?? 0),
      size: e.size,
      entry: e.path,
      offset: e.offset,
      index: e.index,
    };
    if (range !== undefined) {
      q.begin(job, range.head, false);
      q.range(job.seq, range.offset, range.length, range.head.length, true);
      this.stats.bytes += len;
      this.queued(v.key);
      return undefined;
    }
    // Most small files are already in the reader's buffer: no async step.
    const whole = regions ? undefined : body.takeNow?.();
    if (whole !== undefined) {
      if (whole.length !== len) throw this.bodySize(whole.length, len, where);
      q.begin(job, whole, true);
      this.stats.bytes += len;
      this.queued(v.key);
      return undefined;
    }
    return this.queueStream(body, job, where, len, v.key, regions);
  }

  /** The rest of queueFile for a body that arrives in chunks (or a sparse one). */
  private async queueStream(body: Body, job: QueuedFile, where: Where, len: number, key: string, regions: SparseRegion[] | undefined): Promise<void> {
    const q = this.queue!;
    let begun = false;
    try {
      const written = await this.eachPiece(body, regions, len, where, (chunk, off, n, pos, before) => {
        const last = before + n === len;
        const piece = off === 0 && n === chunk.length ? chunk : chunk.subarray(off, off + n);
        if (begun) q.data(job.seq, piece, pos, last);
        else if (pos === 0) {
          q.begin(job, piece, last);
          begun = true;
        } else {
          q.begin(job, EMPTY, false);
          begun = true;
          q.data(job.seq, piece, pos, last);
        }
      });
      if (written !== len) throw this.bodySize(written, len, where);
      if (!begun) q.begin(job, EMPTY, true);
    } catch (err) {
      if (begun) q.abandon(job.seq);
      throw err;
    }
    this.queued(key);
  }

  /**
   * Walk a body as pieces placed in the file: `put(chunk, off, n, pos,
   * before)` writes chunk[off, off+n) at file offset `pos` (after `before`
   * body bytes). Sparse bodies are spread over their regions. A body longer
   * than `len` (or its regions) is an error; returns the bytes seen.
   */
  private async eachPiece(body: Body, regions: SparseRegion[] | undefined, len: number, where: Where, put: (chunk: Buffer, off: number, n: number, pos: number, before: number) => void): Promise<number> {
    let written = 0;
    if (!regions) {
      for await (const chunk of body) {
        if (written + chunk.length > len) throw this.bodySize(written + chunk.length, len, where);
        put(chunk, 0, chunk.length, written, written);
        written += chunk.length;
        this.stats.bytes += chunk.length;
      }
      return written;
    }
    let ri = 0;
    let used = 0;
    for await (const chunk of body) {
      let off = 0;
      while (off < chunk.length) {
        while (ri < regions.length && used === regions[ri]!.length) {
          ri++;
          used = 0;
        }
        if (ri === regions.length) throw this.bodySize(written + chunk.length - off, len, where);
        const r = regions[ri]!;
        const n = Math.min(chunk.length - off, r.length - used);
        put(chunk, off, n, r.offset + used, written);
        off += n;
        used += n;
        written += n;
        this.stats.bytes += n;
      }
    }
    return written;
  }

  /** A file is on the ring: remember its name until the thread is past it (settle). */
  private queued(key: string): void {
    this.remember(key);
    this.stats.entries++;
  }

  /** `key` is on the ring as of now: operations on it here settle() first. */
  private remember(key: string): void {
    this.inflight.set(key, this.queue!.mark());
    if (this.inflight.size > this.inflightLimit) this.pruneInflight();
  }

  /**
   * Before an operation on `key` here: a queued file of that name must be on
   * disk first. Only up to that file: a hard link to a file just queued
   * waited for the whole queue (a third of install's waiting).
   */
  private settle(key: string): void {
    if (this.queue === null) return;
    const mark = this.inflight.get(key);
    if (mark === undefined) return;
    this.inflight.delete(key);
    if (this.queue.pending(mark)) this.drainQueue(mark);
  }

  /**
   * Wait until the writing thread has done everything queued (or, given a
   * mark, everything queued before it), and take in what it reported.
   */
  private drainQueue(upTo?: number): void {
    if (this.queue === null) return;
    if (upTo === undefined) {
      this.queue.drain();
      this.inflight.clear();
    } else {
      this.queue.drainTo(upTo);
    }
    this.absorbNews();
    // An earlier file failed there: that is the run's error, not what the
    // caller was about to find missing.
    if (this.pendingError) throw this.pendingError;
  }

  /**
   * Forget the names the thread is done with. Run when the map doubles past
   * what was left last time (amortised O(1) per file): without it, a run with
   * no drain kept every file's name, ~100 bytes each (+4 MiB at 8 GiB).
   */
  private pruneInflight(): void {
    // forEach, not for-of: no [key, value] array per name.
    const q = this.queue!;
    this.inflight.forEach((mark, k, m) => {
      if (!q.pending(mark)) m.delete(k);
    });
    this.inflightLimit = Math.max(INFLIGHT_MIN, 2 * this.inflight.size);
  }

  /** Warnings from the writing thread are passed on; its first error fails the run (or, lenient, skips the file). */
  private absorbNews(): void {
    for (const n of this.queue!.takeNews()) {
      const where: Where = { entry: n.entry, offset: n.offset, index: n.index };
      if (n.level === 'warning') {
        this.warn(n.kind, n.message, where);
        continue;
      }
      const err = n.kind === 'truncated' ? new TruncatedError(n.message, where) : n.kind !== '' ? new ArchiveError(n.kind, n.message, where, n.hint) : this.toArchiveError(Object.assign(new Error(n.message), { code: n.code, syscall: n.syscall }), where);
      if (this.lenient && LENIENT_KINDS.has(err.kind)) {
        this.warn(err.kind, `skipped: ${err.message}`, where);
        this.skip(err.kind);
        this.stats.entries--;
        continue;
      }
      this.pendingError ??= err;
    }
  }

  private writeDir(e: Entry, v: ValidPath, where: Where): void {
    this.parentDir(v.parent, where);
    let rec = this.nodes.get(v.key);
    if (rec !== undefined && rec.kind === DIR) {
      if (rec.ino === 0) {
        const st = this.fs.lstat(v.key);
        if (!st || !st.isDirectory()) throw new ArchiveError('io-error', 'a directory this run created has disappeared', where);
        rec.dev = st.dev;
        rec.ino = st.ino;
      }
    } else {
      if (rec !== undefined) this.clearLeaf(v.key, where, 'dir');
      rec = this.makeDir(v.key, where);
    }
    rec.fix = { mode: e.mode & 0o7777, uid: e.uid, gid: e.gid, mtime: e.mtime, nsec: e.mtimeNsec, where };
  }

  /** mkdir 0700, reusing a real directory and replacing anything else (as tar does). */
  private makeDir(key: string, where: Where): Rec {
    this.settle(key);
    let created = this.fs.mkdir(key, 0o700);
    if (!created) {
      const st = this.fs.lstat(key);
      if (st && st.isDirectory()) {
        const rec = new Rec(DIR, st.dev, st.ino, false);
        rec.saved = [st.atimeMs / 1000, st.mtimeMs / 1000];
        this.hold(key, rec, where);
        return rec;
      }
      // A symlink (B11), file or anything else: the link itself goes.
      this.clearLeaf(key, where, 'dir');
      created = this.fs.mkdir(key, 0o700);
      if (!created) throw new ArchiveError('io-error', STILL_TAKEN, where, STILL_TAKEN_HINT);
    }
    const st = this.fs.lstat(key);
    if (!st || !st.isDirectory()) throw new ArchiveError('io-error', 'the directory just created is not there', where);
    const rec = new Rec(DIR, st.dev, st.ino, true);
    this.hold(key, rec, where);
    return rec;
  }

  private writeSymlink(e: Entry, v: ValidPath, where: Where): void {
    const target = validateLinkTarget(e.linkTarget, where, this.limits);
    // Targets wait in memory until finish(): a few MB for a real image, but
    // a small compressed archive of long-target links would fill the heap
    // (100 000 links of 4 KiB: 2.8 MB gzip, 570 MB resident) and crash the
    // run without its rollback (F7).
    this.linkTargetBytes += target.length;
    if (this.linkTargetBytes > this.maxLinkTargetBytes) {
      throw capLinks(this.linkTargetBytes, this.maxLinkTargetBytes, where);
    }
    this.parentDir(v.parent, where);
    const rec = this.placeholder(v.key, where);
    rec.link = { key: v.key, target, to: null, meta: { mode: 0, uid: e.uid, gid: e.gid, mtime: e.mtime, nsec: e.mtimeNsec, where } };
    this.delayed.push(rec);
  }

  private writeHardlink(e: Entry, v: ValidPath, where: Where): boolean {
    if (e.linkTarget === undefined || e.linkTarget === '') {
      throw new ArchiveError('bad-hardlink', 'the hard link has no target', where);
    }
    const t = validatePath(e.linkTarget, where, this.limits, 'hard-link target');
    if (t.leadingSlash) this.leadingSlash(where);
    const shown = displayPath(t.key);
    if (t.key === v.key) {
      this.warn('self-hardlink', 'hard link to itself ignored', where);
      this.skip('self-hardlink');
      return false;
    }
    const tr = t.key === '' ? undefined : this.nodes.get(t.key);
    if (tr === undefined && t.key !== '' && this.fresh) return this.linkInFreshRoot(t, v, shown, where);
    if (tr === undefined || !tr.created) {
      throw notExtracted(shown, where);
    }
    if (tr.kind === FILE) {
      const st = this.fs.lstat(t.key);
      if (!st || !st.isFile() || st.dev !== tr.dev || st.ino !== tr.ino) {
        throw new ArchiveError('bad-hardlink', `hard-link target ${shown} is no longer the file this run extracted`, where);
      }
      this.parentDir(v.parent, where);
      this.linkFile(t.key, v.key, where);
      this.hold(v.key, new Rec(FILE, st.dev, st.ino, true), where);
      return true;
    }
    if (tr.kind === PLACEHOLDER && tr.link) {
      // A hard link to a symbolic link that does not exist yet: delayed too,
      // behind its own placeholder.
      const root = tr.link.to ?? tr;
      this.parentDir(v.parent, where);
      const rec = this.placeholder(v.key, where);
      rec.link = { key: v.key, target: tr.link.target, to: root, meta: { ...tr.link.meta, where } };
      this.delayed.push(rec);
      return true;
    }
    throw new ArchiveError('bad-hardlink', `hard-link target ${shown} is a ${KIND_NAME[tr.kind]}`, where, 'hard links may only point at regular files');
  }

  /**
   * The content of a regular file this run wrote at `relPath`, as a hard
   * link to it would see it (RuleContext.readWritten); null when a hard link
   * there would be refused (not a file of this run) or it is over `cap`.
   * Opened like a link target: anchored, the last component not followed.
   */
  readWritten(relPath: string, cap: number): Buffer | null {
    let t: ValidPath;
    try {
      t = validatePath(relPath, {}, this.limits, 'hard-link target');
    } catch {
      return null;
    }
    const rec = t.key === '' ? undefined : this.nodes.get(t.key);
    if (rec === undefined) {
      if (!this.fresh || t.key === '' || !this.underMadeDir(t)) return null;
    } else if (rec.kind !== FILE || !rec.created) return null;
    this.settle(t.key);
    let fd = -1;
    try {
      fd = this.fs.openNode(t.key);
      const st = fs.fstatSync(fd);
      const same = rec === undefined ? st.dev === this.rootDev : st.dev === rec.dev && st.ino === rec.ino;
      if (!st.isFile() || !same || st.size > cap) return null;
      const buf = Buffer.allocUnsafe(st.size);
      let n = 0;
      while (n < buf.length) {
        const k = fs.readSync(fd, buf, n, buf.length - n, n);
        if (k === 0) break;
        n += k;
      }
      return buf.subarray(0, n);
    } catch {
      return null;
    } finally {
      if (fd >= 0) fs.closeSync(fd);
    }
  }

  /**
   * A hard link in a fresh root, where files have no record: its target must
   * be a regular file on the root's file system under a directory this run
   * made, which makes it a file of this run (D-6 with D-15).
   */
  private linkInFreshRoot(t: ValidPath, v: ValidPath, shown: string, where: Where): boolean {
    if (!this.underMadeDir(t)) throw notExtracted(shown, where);
    // Its target still on the way to the disk through the writing thread:
    // the link goes the same way, after it, instead of waiting here.
    const q = this.queue;
    const mark = this.inflight.get(t.key);
    if (q !== null && mark !== undefined && q.pending(mark)) return this.queueLink(t, v, shown, where);
    this.settle(t.key);
    const st = this.fs.lstat(t.key);
    if (!st) {
      throw notExtracted(shown, where);
    }
    if (!st.isFile() || st.dev !== this.rootDev) {
      const m = linkTargetNotFile(shown);
      throw new ArchiveError('bad-hardlink', m.message, where, m.hint);
    }
    this.parentDir(v.parent, where);
    this.settle(v.key);
    if (this.nodes.has(v.key)) this.clearLeaf(v.key, where, 'hardlink');
    this.linkFile(t.key, v.key, where);
    return true;
  }

  /** Whether `t` lies in the root or in a directory this run made: in a fresh root, a file there is one of this run. */
  private underMadeDir(t: ValidPath): boolean {
    if (t.parent === '') return true;
    const parent = this.nodes.get(t.parent);
    return parent !== undefined && parent.kind === DIR && parent.created;
  }

  /** linkInFreshRoot() through the writing thread, which checks the target (a regular file on the root's device) when it gets there. */
  private queueLink(t: ValidPath, v: ValidPath, shown: string, where: Where): boolean {
    const q = this.queue!;
    this.parentDir(v.parent, where);
    if (this.nodes.has(v.key)) this.clearLeaf(v.key, where, 'hardlink'); // a directory or link of this run
    const [linkPath, targetPath] = this.fs.leafPaths(v.key, t.key);
    q.link({ seq: ++this.seq >>> 0, linkPath, targetPath, dev: this.rootDev, shown, entry: where.entry ?? '', offset: where.offset ?? -1, index: where.index ?? -1 });
    this.remember(v.key);
    return true;
  }

  /** link(2), replacing a non-directory (or empty directory) already at `key`. */
  private linkFile(existing: string, key: string, where: Where): void {
    if (this.fs.link(existing, key)) return;
    this.clearLeaf(key, where, 'hardlink');
    if (!this.fs.link(existing, key)) throw new ArchiveError('io-error', STILL_TAKEN, where, STILL_TAKEN_HINT);
  }

  private writeFifo(e: Entry, v: ValidPath, where: Where): void {
    this.parentDir(v.parent, where);
    this.settle(v.key);
    if (this.nodes.has(v.key) || this.fs.lstat(v.key)) this.clearLeaf(v.key, where, e.type);
    this.fs.mkfifo(v.key);
    const rec = new Rec(FIFO, 0, 0, true);
    this.hold(v.key, rec, where);
    const fd = this.fs.openNode(v.key);
    let ok = false;
    try {
      if (!fs.fstatSync(fd).isFIFO()) throw new ArchiveError('io-error', 'the FIFO just created is not a FIFO', where);
      this.applyMeta(fd, rec, e.mode, e.uid, e.gid, e.mtime, e.mtimeNsec, where);
      ok = true;
    } finally {
      closeAfter(fd, ok);
    }
  }

  // ------------------------------------------------------------ finish

  async finish(): Promise<SinkStats> {
    if (this.state !== 'open') throw new Error(`FsSink: finish after ${this.state === 'finished' ? 'finish' : 'abort'}`);
    // 0. Every queued file on disk, the writing thread ended.
    if (this.queue !== null) {
      await this.queue.close(this.signal);
      this.absorbNews();
      this.inflight.clear();
    }
    if (this.pendingError) throw this.pendingError;
    // 1. Delayed links, in archive order (a hard link to a symlink comes
    //    after that symlink).
    for (const rec of this.delayed) {
      const d = rec.link!;
      if (rec.kind !== PLACEHOLDER || this.nodes.get(d.key) !== rec) continue; // done, replaced or removed later
      const st = this.fs.lstat(d.key);
      if (!st || !st.isFile() || st.size !== 0 || st.dev !== rec.dev || st.ino !== rec.ino) {
        throw new ArchiveError('placeholder-changed', 'the placeholder for this link was changed by something else; the link was not created', d.meta.where);
      }
      try {
        this.fs.unlink(d.key);
        let done = false;
        const to = d.to;
        if (to !== null && to.kind === SYMLINK && this.nodes.get(to.link!.key) === to) {
          // Linux link(2) links the symlink itself; check rather than trust.
          if (this.fs.link(to.link!.key, d.key)) {
            const s2 = this.fs.lstat(d.key);
            if (s2 && s2.isSymbolicLink()) {
              rec.dev = s2.dev;
              rec.ino = s2.ino;
              done = true;
            } else this.fs.unlink(d.key);
          }
        }
        if (!done) {
          this.fs.symlink(Buffer.from(d.target, 'latin1'), d.key);
          const m = d.meta;
          if (this.owners) {
            try {
              this.fs.lchown(d.key, m.uid, m.gid);
            } catch (err) {
              this.warn('chown-failed', `cannot set the owner of the symbolic link (${errCode(err) ?? 'error'})`, m.where);
            }
          }
          const t = this.timeArg(m.mtime, m.nsec, m.where);
          if (t !== undefined) {
            try {
              this.fs.lutimes(d.key, this.now, t);
            } catch (err) {
              this.warn('bad-mtime', `cannot set the time of the symbolic link (${errCode(err) ?? 'error'})`, m.where);
            }
          }
          const s2 = this.fs.lstat(d.key);
          rec.dev = s2?.dev ?? 0;
          rec.ino = s2?.ino ?? 0;
        }
        rec.kind = SYMLINK;
      } catch (err) {
        throw this.toArchiveError(err, d.meta.where);
      }
    }
    // 2. Directory metadata, deepest first, through a no-follow fd after an
    //    identity check (D-7, D-8).
    const dirs: [string, Rec, number][] = [];
    for (const [k, r] of this.nodes) if (r.kind === DIR && r.fix !== null) dirs.push([k, r, keyDepth(k)]);
    dirs.sort((a, b) => b[2] - a[2]);
    for (const [k, r] of dirs) {
      const m = r.fix!;
      let fd: number;
      try {
        fd = this.fs.openDir(k);
      } catch (err) {
        this.warn('dir-changed', `directory metadata not applied: cannot open it without following links (${errCode(err) ?? 'error'})`, m.where);
        continue;
      }
      try {
        const st = fs.fstatSync(fd);
        if (st.dev !== r.dev || st.ino !== r.ino) {
          this.warn('dir-changed', 'directory metadata not applied: it is not the directory this run created', m.where);
          continue;
        }
        this.applyMeta(fd, r, m.mode, m.uid, m.gid, m.mtime, m.nsec, m.where);
        r.fix = null;
      } catch (err) {
        throw this.toArchiveError(err, m.where);
      } finally {
        fs.closeSync(fd);
      }
    }
    this.state = 'finished';
    this.fs.close?.();
    return this.stats;
  }

  // ------------------------------------------------------------ removal

  async removeWritten(relPath: string): Promise<number> {
    if (this.state === 'aborted') return 0;
    const where: Where = { entry: relPath };
    const v = validatePath(relPath, where, this.limits);
    const pre = `${v.key}/`;
    if (this.fresh) {
      this.drainQueue();
      const left: string[] = [];
      const n = this.removeTree(v.key, left);
      for (const p of left) this.warn('not-removed', `${p} could not be removed`, { entry: relPath });
      for (const k of this.nodes.keys()) if (v.key === '' || k === v.key || k.startsWith(pre)) this.nodes.delete(k);
      return n;
    }
    const victims: [string, Rec, number][] = [];
    for (const [k, r] of this.nodes) {
      if (v.key === '' || k === v.key || k.startsWith(pre)) victims.push([k, r, keyDepth(k)]);
    }
    victims.sort((a, b) => b[2] - a[2]);
    const left: string[] = [];
    const checked = new Map<string, boolean>();
    let n = 0;
    for (const [k, r] of victims) {
      r.fix = null;
      if (!r.created) continue;
      const before = left.length;
      if (this.removeOne(k, r, left, checked)) {
        this.nodes.delete(k);
        n++;
      } else if (left.length > before) {
        this.warn('not-removed', `${left[left.length - 1]} could not be removed`, { entry: k });
      }
    }
    return n;
  }

  async abort(): Promise<string[]> {
    if (this.state === 'aborted') return [];
    this.state = 'aborted';
    const left: string[] = [];
    if (this.queue !== null) {
      try {
        await this.queue.kill();
      } catch {
        /* a dead thread writes nothing more; remove what is there */
      }
      this.queue = null;
      this.inflight.clear();
    }
    if (this.fresh) {
      this.removeTree('', left);
      this.restoreTimes('', this.rootDev, this.rootIno, this.rootTimes);
      this.nodes.clear();
      this.delayed.length = 0;
      this.fs.beforeRelease = undefined;
      this.fs.close?.();
      return left;
    }
    const recs: [string, Rec, number][] = [];
    for (const [k, r] of this.nodes) recs.push([k, r, keyDepth(k)]);
    recs.sort((a, b) => b[2] - a[2]);
    const checked = new Map<string, boolean>();
    for (const [k, r] of recs) if (r.created) this.removeOne(k, r, left, checked);
    // Put back the times of directories that were there before (adding and
    // removing entries changed them), then the root's.
    for (const [k, r] of recs) {
      if (r.created || r.saved === null || !this.ancestorsSafe(parentKey(k), checked)) continue;
      this.restoreTimes(k, r.dev, r.ino, r.saved);
    }
    this.restoreTimes('', this.rootDev, this.rootIno, this.rootTimes);
    this.nodes.clear();
    this.delayed.length = 0;
    this.fs.close?.();
    return left;
  }

  /**
   * Remove one thing this run created, never following a link, never on
   * another file system than the root's. Returns true when it is gone; when
   * it is not, its escaped absolute path is pushed on `left`.
   */
  private removeOne(k: string, r: Rec, left: string[], checked: Map<string, boolean>): boolean {
    const shown = () => displayPath(this.fs.abs(k).toString('latin1'));
    if (!this.ancestorsSafe(parentKey(k), checked)) {
      left.push(shown());
      return false;
    }
    let st: fs.Stats | undefined;
    try {
      st = this.fs.lstat(k);
    } catch {
      left.push(shown());
      return false;
    }
    if (!st) return true;
    if (st.dev !== this.rootDev) {
      left.push(shown());
      return false;
    }
    try {
      if (st.isDirectory()) {
        if (r.kind !== DIR) {
          left.push(shown());
          return false;
        }
        this.fs.rmdir(k);
      } else {
        // Identity: the type this run made there, and its inode when known
        // (inode numbers are reused after unlink, so the type check matters).
        const typeOk = r.kind === SYMLINK ? st.isSymbolicLink() : r.kind === FIFO ? st.isFIFO() : r.kind === FILE || r.kind === PLACEHOLDER ? st.isFile() : false;
        if (!typeOk || (r.ino !== 0 && st.ino !== r.ino)) {
          left.push(shown());
          return false;
        }
        this.fs.unlink(k);
      }
    } catch {
      left.push(shown());
      return false;
    }
    return true;
  }

  /**
   * Remove `key` and everything below it (the root's contents for ''), never
   * following a link, never on another file system. For fresh roots, where
   * everything was made by this run. Returns how many paths went; the
   * escaped absolute paths of those that stayed are pushed on `left`.
   */
  private removeTree(key: string, left: string[]): number {
    const shown = () => displayPath(this.fs.abs(key).toString('latin1'));
    let st: fs.Stats | undefined;
    try {
      st = this.fs.lstat(key);
    } catch {
      left.push(shown());
      return 0;
    }
    if (!st) return 0;
    if (st.dev !== this.rootDev) {
      left.push(shown());
      return 0;
    }
    let n = 0;
    try {
      if (st.isDirectory()) {
        for (const name of this.fs.readdir(key)) n += this.removeTree(key === '' ? name.toString('latin1') : `${key}/${name.toString('latin1')}`, left);
        if (key === '') return n;
        this.fs.rmdir(key);
      } else {
        this.fs.unlink(key);
      }
      n++;
    } catch {
      left.push(shown());
    }
    return n;
  }

  /** Every component of `pkey` is a real directory on the root's file system (lstat, cached). */
  private ancestorsSafe(pkey: string, checked: Map<string, boolean>): boolean {
    if (pkey === '') return true;
    const known = checked.get(pkey);
    if (known !== undefined) return known;
    let ok = this.ancestorsSafe(parentKey(pkey), checked);
    if (ok) {
      try {
        const st = this.fs.lstat(pkey);
        ok = st !== undefined && st.isDirectory() && st.dev === this.rootDev;
      } catch {
        ok = false;
      }
    }
    checked.set(pkey, ok);
    return ok;
  }

  private restoreTimes(k: string, dev: number, ino: number, t: [number, number]): void {
    let fd: number;
    try {
      fd = this.fs.openDir(k);
    } catch {
      return;
    }
    try {
      const st = fs.fstatSync(fd);
      if (st.dev === dev && st.ino === ino) fs.futimesSync(fd, t[0], t[1]);
    } catch {
      /* best effort */
    } finally {
      fs.closeSync(fd);
    }
  }

  // ------------------------------------------------------------ helpers

  /**
   * Make sure the directory `pkey` exists as a real directory, creating
   * missing components (0755, owned by this process) and refusing symlinks,
   * placeholders and non-directories on the way (D-3).
   */
  private parentDir(pkey: string, where: Where): void {
    if (pkey === '') return;
    const r = this.nodes.get(pkey);
    if (r !== undefined && r.kind === DIR) return; // trusted: created or checked earlier
    let at = 0;
    for (;;) {
      const slash = pkey.indexOf('/', at);
      const k = slash === -1 ? pkey : pkey.slice(0, slash);
      this.dirComponent(k, where);
      if (slash === -1) return;
      at = slash + 1;
    }
  }

  private dirComponent(k: string, where: Where): void {
    const r = this.nodes.get(k);
    if (r !== undefined) {
      if (r.kind === DIR) return;
      if (r.kind === PLACEHOLDER || r.kind === SYMLINK) {
        throw throughLink(k, where);
      }
      throw new ArchiveError('parent-not-dir', `the path goes through ${displayPath(k)}, which is a ${KIND_NAME[r.kind]}`, where);
    }
    this.settle(k);
    if (this.fs.mkdir(k, 0o755)) {
      // Created implicitly (no entry of its own): 0755, owned by this process.
      this.hold(k, new Rec(DIR, 0, 0, true), where);
      return;
    }
    const st = this.fs.lstat(k);
    if (st && st.isDirectory()) {
      const rec = new Rec(DIR, st.dev, st.ino, false);
      rec.saved = [st.atimeMs / 1000, st.mtimeMs / 1000];
      this.hold(k, rec, where);
      return;
    }
    if (st && st.isSymbolicLink()) {
      throw new ArchiveError('through-symlink', `the path goes through ${displayPath(k)}, a symbolic link already on disk`, where, 'nothing is written through a link');
    }
    throw new ArchiveError('parent-not-dir', `the path goes through ${displayPath(k)}, which is not a directory`, where);
  }

  /**
   * Remove what is at `key` so a new entry can be created there: a
   * non-directory is unlinked (the link itself, never its target); an empty
   * directory is removed; a non-empty one is refused (A15, B3).
   */
  private clearLeaf(key: string, where: Where, newType: string): void {
    this.drainQueue();
    const st = this.fs.lstat(key);
    if (st) {
      if (st.isDirectory()) {
        if (key === '') throw new ArchiveError('unsafe-path', 'cannot replace the root', where);
        try {
          this.fs.rmdir(key);
        } catch (err) {
          const c = errCode(err);
          if (c === 'ENOTEMPTY' || c === 'EEXIST' || c === 'EBUSY') {
            const r = replaceRefused(newType, c);
            throw new ArchiveError('not-empty', r.message, where, r.hint);
          }
          throw err;
        }
      } else {
        this.fs.unlink(key);
      }
    }
    this.nodes.delete(key);
  }

  /** An empty O_EXCL placeholder standing for a link until finish() (D-4). */
  private placeholder(key: string, where: Where): Rec {
    this.settle(key);
    let fd = this.fs.createExcl(key, 0);
    if (fd < 0) {
      this.clearLeaf(key, where, 'symlink');
      fd = this.fs.createExcl(key, 0);
      if (fd < 0) throw new ArchiveError('io-error', STILL_TAKEN, where, STILL_TAKEN_HINT);
    }
    let st: fs.Stats;
    try {
      st = fs.fstatSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    const rec = new Rec(PLACEHOLDER, st.dev, st.ino, true);
    this.hold(key, rec, where);
    return rec;
  }

  /**
   * Keep a node's record until finish(). Directories and links wait there
   * for their metadata (360-770 bytes each): a real image holds tens of
   * thousands, but an archive of millions of empty directories or links
   * (3 million symlinks: 46 MB gzipped, 2.3 GB resident) would exhaust the
   * heap, and a crash skips the rollback (F7). The record is kept before the
   * check, so abort() sees it.
   */
  private hold(key: string, rec: Rec, where: Where): void {
    this.nodes.set(key, rec);
    if (this.nodes.size > this.maxHeld) {
      throw capHeld(this.maxHeld, where);
    }
  }

  /**
   * fchown, then fchmod with the special bits, then times, on one fd (D-8);
   * `created`: the node was created with its final mode and its identity
   * is not needed (no fchmod, no fstat).
   */
  private applyMeta(fd: number, rec: Rec, mode: number, uid: number, gid: number, mtime: number, nsec: number, where: Where, created = false): void {
    let m = mode & 0o7777;
    if (this.owners) {
      try {
        fs.fchownSync(fd, uid, gid);
      } catch (err) {
        this.warn('chown-failed', chownFailed(uid, gid, errCode(err), m), where);
        m &= ~0o6000;
      }
    } else {
      m = this.unownedMode(m, uid, gid, where);
    }
    if (!created) fs.fchmodSync(fd, m);
    const t = this.timeArg(mtime, nsec, where);
    if (t !== undefined) {
      try {
        fs.futimesSync(fd, this.now, t);
      } catch (err) {
        this.warn('bad-mtime', mtimeFailed(mtime, errCode(err)), where);
      }
    }
    if (created) return;
    const st = fs.fstatSync(fd);
    rec.dev = st.dev;
    rec.ino = st.ino;
    if ((st.mode & 0o7777) !== m) {
      this.warn('mode-not-kept', modeNotKept(m, st.mode & 0o7777), where);
    }
  }

  /** Owners are not applied: a setuid/setgid bit would name the wrong owner, so it goes. */
  private unownedMode(m: number, uid: number, gid: number, where: Where): number {
    if (m & 0o6000 && ((m & 0o4000 && uid !== this.uid) || (m & 0o2000 && gid !== this.gid))) {
      this.warn('setid-dropped', `setuid/setgid bits dropped (owner ${uid}:${gid} not applied)`, where);
      return m & ~0o6000;
    }
    return m;
  }

  /**
   * The mtime as futimes wants it. Node passes seconds as a double to libuv,
   * which keeps microseconds: half a microsecond is added so truncation
   * lands on the intended microsecond. Node replaces negative numbers by
   * "now", so times before 1970 go as a Date (millisecond precision).
   * Past 2^33 s a double no longer holds microseconds: the sum may round up
   * to the next second, so it is kept just below it.
   */
  private timeArg(sec: number, nsec: number, where: Where): number | Date | undefined {
    if (!Number.isFinite(sec) || Math.abs(sec) > 1e11) {
      this.warn('bad-mtime', `modification time ${sec} out of range; left as extraction time`, where);
      return undefined;
    }
    const s = Math.floor(sec);
    const ns = Number.isInteger(nsec) && nsec >= 0 && nsec < 1e9 ? nsec : 0;
    if (s >= 0) {
      const t = s + (Math.floor(ns / 1000) * 1000 + 500) / 1e9;
      return t < s + 1 ? t : belowNext(s);
    }
    return new Date(s * 1000 + Math.floor(ns / 1e6));
  }

  /** The root's file system figures; undefined when it gives none (ENOSPC is relied on then). */
  private statfs(): fs.StatsFs | undefined {
    try {
      return this.fs.statfs();
    } catch {
      return undefined;
    }
  }

  private checkSpace(need: number, where: Where): void {
    const st = this.statfs();
    if (st === undefined) return;
    const avail = st.bavail * st.bsize;
    if (avail - need < this.reserveBytes) {
      const what = need > 0 ? `needs ${need} bytes plus a reserve of ${this.reserveBytes} bytes` : `the file system is below the reserve of ${this.reserveBytes} bytes kept free`;
      throw new ArchiveError('no-space', `${what}; ${avail} bytes are available under the root`, where, `free at least ${need + this.reserveBytes - avail} bytes on the zonepath file system; the reserve stays free for the system and no option lowers it`);
    }
    if (st.files > 0 && st.ffree < this.reserveInodes) {
      throw new ArchiveError('no-space', `only ${st.ffree} free inodes left (reserve ${this.reserveInodes})`, where, 'free inodes on the zonepath file system');
    }
  }

  /**
   * The size an archive declares for what it unpacks (a flar's
   * files_unarchived_size), checked against the free space once, at the
   * start. Only a hint (security E14): p2v drops nested zones and devices,
   * and the figure may lie, so a shortfall is a warning now rather than a
   * refusal; the running checks still stop the run before the disk fills.
   */
  declaredSize(bytes: number | undefined): void {
    if (bytes === undefined || !(bytes > 0) || this.declaredChecked) return;
    this.declaredChecked = true;
    const st = this.statfs();
    if (st === undefined) return;
    const avail = st.bavail * st.bsize;
    if (avail - bytes < this.reserveBytes) {
      this.warn('space-short', `the archive says it unpacks to ${bytes} bytes, and ${avail} bytes are free under the root, less a reserve of ${this.reserveBytes}: the run may stop for lack of space`, {});
    }
  }

  private bodySize(got: number, want: number, where: Where): ArchiveError {
    return new ArchiveError('body-size', `the body gave ${got} bytes where ${want} were expected`, where);
  }

  private leadingSlash(where: Where): void {
    if (this.warnedOnce.has('leading-slash')) return;
    this.warnedOnce.add('leading-slash');
    this.warn('leading-slash', "removing leading '/' from member names", where);
  }

  private warn(kind: string, message: string, where: Where): void {
    this.warnFn({ kind, message, ...where });
  }

  private skip(reason: string): void {
    this.stats.skipped[reason] = (this.stats.skipped[reason] ?? 0) + 1;
  }

  /** System errors become ArchiveErrors naming the entry, errno and call, never the raw path (D-16). */
  private toArchiveError(err: unknown, where: Where): ArchiveError {
    if (err instanceof ArchiveError) return err;
    const c = errCode(err);
    const sys = (err as NodeJS.ErrnoException | undefined)?.syscall;
    const what = c ? `${c}${sys ? ` (${sys})` : ''}` : String((err as Error | undefined)?.message ?? err);
    if (c === 'ENOSPC' || c === 'EDQUOT') {
      return new ArchiveError('no-space', `out of space writing under the root: ${what}`, where, 'free space on the zonepath file system');
    }
    if (c === 'ELOOP') return new ArchiveError('through-symlink', `refused to follow a symbolic link: ${what}`, where);
    return new ArchiveError('io-error', `cannot write: ${what}`, where);
  }
}

/** Whether a directory has no entries (read one name at most). */
function isEmptyDir(p: string): boolean {
  const d = fs.opendirSync(p);
  try {
    return d.readSync() === null;
  } finally {
    d.closeSync();
  }
}

function notExtracted(shown: string, where: Where): ArchiveError {
  const m = linkTargetMissing(shown);
  return new ArchiveError('bad-hardlink', m.message, where, m.hint);
}

function parentKey(k: string): string {
  const i = k.lastIndexOf('/');
  return i === -1 ? '' : k.slice(0, i);
}

function writeAll(fd: number, buf: Buffer, off: number, len: number, pos: number): void {
  while (len > 0) {
    const n = fs.writeSync(fd, buf, off, len, pos);
    off += n;
    len -= n;
    pos += n;
  }
}

/**
 * Close a descriptor at the end of a write: after success a close error is
 * reported (it can mean lost data); after a failure the first error is the
 * one to report, so a second one from close is dropped.
 */
function closeAfter(fd: number, ok: boolean): void {
  if (ok) fs.closeSync(fd);
  else {
    try {
      fs.closeSync(fd);
    } catch {
      /* the first error is the one to report */
    }
  }
}
