// The main-thread side of the file-writing worker: puts regular files on
// the shared ring (write-ring.ts) and waits, synchronously, when the ring is
// full or when the sink needs everything on disk (drain). Waiting blocks the
// main thread only while the worker makes progress, so it cannot deadlock;
// a worker that died is noticed within a poll interval.

import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import fs from 'node:fs';
import type { ArchiveFile } from '../source/input.js';
import { CTL, F, HEAD_BEGIN, HEAD_DATA, HEAD_LINK, HEAD_RANGE, HEAD_SOURCE, MAX_PATH_BYTES, OP, align8, type WriterNews } from './write-ring.js';

/** One file's metadata, as the worker applies it at the file's end. */
export interface QueuedFile {
  seq: number;
  /** Path to open, as latin1 (byte-exact). */
  path: string;
  flags: number;
  createMode: number;
  mode: number;
  uid: number;
  gid: number;
  atime: number;
  mtime: number;
  size: number;
  /** The entry, for messages: name (latin1), offset, index. */
  entry: string;
  offset: number;
  index: number;
}

export interface QueuedLink {
  seq: number;
  /** Paths of the new link and of its target, as latin1 (byte-exact). */
  linkPath: string;
  targetPath: string;
  /** The root's device: the target must be on it. */
  dev: number;
  /** The target as messages show it. */
  shown: string;
  /** The entry, for messages: name (latin1), offset, index. */
  entry: string;
  offset: number;
  index: number;
}

const RING_BYTES = 4 << 20;
/** Largest data slice in one record: a quarter of the ring keeps both sides busy. */
const MAX_DATA = RING_BYTES >> 2;
const POLL_MS = 200;
/** close() waits for the worker in slices this long, turning the event loop between them (signals). */
const CLOSE_SLICE_MS = 50;

/** A thread started ahead of need (prestartWriter), for the first sink that wants one. */
let spare: WriteQueue | null = null;

/**
 * Start the writing thread now, before a command's modules load. Its
 * start-up is a second Node environment, 40-100 ms of CPU: begun here it
 * runs on the CPU that this thread's own start-up leaves idle, rather than
 * beside the extraction it would slow. The first sink that wants a thread
 * takes this one; unused, it ends with the process (it is unref'd).
 */
export function prestartWriter(): WriteQueue {
  return (spare ??= new WriteQueue());
}

export class WriteQueue {
  /** The prestarted thread if there is one (once), else a new one. */
  static take(): WriteQueue {
    const q = spare ?? new WriteQueue();
    spare = null;
    return q;
  }

  private readonly ctl: Int32Array;
  private readonly ring: SharedArrayBuffer;
  private readonly buf: Buffer;
  private readonly u32: Uint32Array;
  private readonly f64: Float64Array;
  private readonly size: number;
  private readonly port: MessagePort;
  private readonly worker: Worker;
  private produced = 0;
  /** The mark past the last record that names a path (begin, link). */
  private lastPath = 0;
  private newsSeen = 0;
  private stopped = false;
  private exitError: Error | undefined;
  /** The archive the worker reads ranges of, and whether it could be given a descriptor of it. */
  private file: ArchiveFile | undefined;
  private fileOk = false;
  /** Descriptors given to the worker (source records): closed once it has stopped. */
  private readonly sources: number[] = [];
  /** Ranges queued, oldest first, each with the mark past it: the worker's work beyond the ring (see room). */
  private readonly ranges: { mark: number; length: number }[] = [];
  private rangeBytes = 0;

  constructor(ringBytes = RING_BYTES) {
    if (ringBytes & (ringBytes - 1)) throw new Error('WriteQueue: the ring size must be a power of two');
    this.size = ringBytes;
    this.ctl = new Int32Array(new SharedArrayBuffer(CTL.words * 4));
    this.ring = new SharedArrayBuffer(ringBytes);
    this.buf = Buffer.from(this.ring);
    this.u32 = new Uint32Array(this.ring);
    this.f64 = new Float64Array(this.ring);
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    // Relative to src/: the same from dist/src/sink/ and from the bundle in dist/src/bundle/.
    this.worker = new Worker(new URL('../sink/write-worker.js', import.meta.url), {
      workerData: { ctl: this.ctl.buffer, ring: this.ring, port: port2 },
      transferList: [port2],
      // The worker allocates almost nothing: keep its heap small (RSS).
      resourceLimits: { maxYoungGenerationSizeMb: 1, maxOldGenerationSizeMb: 16 },
      // Plain JavaScript: no loader flags of the parent (a test runner's
      // module hooks would make the thread's start wait for this one).
      execArgv: [],
      stdout: false,
      stderr: false,
    });
    this.worker.on('error', (e) => {
      this.exitError = e;
    });
    // Never keeps the process alive: the sink drains and stops it itself.
    this.worker.unref();
    this.port.unref();
  }

  /** First record of a file, with the first slice of its data (possibly all of it). */
  begin(f: QueuedFile, data: Buffer, last: boolean): void {
    const pathLen = f.path.length;
    const entryLen = Math.min(f.entry.length, MAX_PATH_BYTES);
    if (pathLen > MAX_PATH_BYTES) throw new Error(`WriteQueue: path of ${pathLen} bytes`);
    const head = align8(HEAD_BEGIN + pathLen + entryLen);
    const n = Math.min(data.length, MAX_DATA - head);
    const len = align8(head + n);
    const off = this.reserve(len);
    const u = this.u32;
    const d = this.f64;
    this.head(off, len, OP.begin, f.seq, n, 0, f.flags | (last && n === data.length ? F.last : 0));
    u[(off + 28) >> 2] = f.createMode;
    u[(off + 32) >> 2] = f.mode;
    u[(off + 36) >> 2] = f.uid;
    u[(off + 40) >> 2] = f.gid;
    u[(off + 44) >> 2] = pathLen;
    d[(off + 48) >> 3] = f.atime;
    d[(off + 56) >> 3] = f.mtime;
    d[(off + 64) >> 3] = f.size;
    d[(off + 72) >> 3] = f.offset;
    d[(off + 80) >> 3] = f.index;
    u[(off + 88) >> 2] = entryLen;
    this.buf.write(f.path, off + HEAD_BEGIN, pathLen, 'latin1');
    this.buf.write(f.entry, off + HEAD_BEGIN + pathLen, entryLen, 'latin1');
    if (n > 0) data.copy(this.buf, off + head, 0, n);
    this.commit(len);
    this.lastPath = this.produced;
    if (n < data.length) this.data(f.seq, data.subarray(n), n, last);
  }

  /**
   * A hard link at `linkPath` to the file at `targetPath`, made in order with
   * the files queued before it: the thread checks that the target is a
   * regular file on device `dev` (the root's), then links, replacing what an
   * earlier entry of the same name left.
   */
  link(l: QueuedLink): void {
    const lens = [l.linkPath.length, l.targetPath.length, Math.min(l.entry.length, MAX_PATH_BYTES), Math.min(l.shown.length, MAX_PATH_BYTES)];
    if (lens[0]! > MAX_PATH_BYTES || lens[1]! > MAX_PATH_BYTES) throw new Error('WriteQueue: link path too long');
    const len = align8(HEAD_LINK + lens[0]! + lens[1]! + lens[2]! + lens[3]!);
    const off = this.reserve(len);
    const u = this.u32;
    const d = this.f64;
    u[off >> 2] = len;
    u[(off + 4) >> 2] = OP.link;
    u[(off + 8) >> 2] = l.seq;
    u[(off + 12) >> 2] = lens[0]!;
    d[(off + 16) >> 3] = l.dev;
    u[(off + 24) >> 2] = lens[1]!;
    u[(off + 28) >> 2] = lens[2]!;
    d[(off + 32) >> 3] = l.offset;
    d[(off + 40) >> 3] = l.index;
    u[(off + 48) >> 2] = lens[3]!;
    let at = off + HEAD_LINK;
    at += this.buf.write(l.linkPath, at, lens[0]!, 'latin1');
    at += this.buf.write(l.targetPath, at, lens[1]!, 'latin1');
    at += this.buf.write(l.entry, at, lens[2]!, 'latin1');
    this.buf.write(l.shown, at, lens[3]!, 'latin1');
    this.commit(len);
    this.lastPath = this.produced;
  }

  /** More data of the current file, at file offset `pos`. */
  data(seq: number, data: Buffer, pos: number, last: boolean): void {
    let at = 0;
    do {
      const n = Math.min(data.length - at, MAX_DATA - HEAD_DATA);
      const len = align8(HEAD_DATA + n);
      const off = this.reserve(len);
      this.head(off, len, OP.data, seq, n, pos + at, last && at + n === data.length ? F.last : 0);
      if (n > 0) data.copy(this.buf, off + HEAD_DATA, at, at + n);
      this.commit(len);
      at += n;
    } while (at < data.length);
  }

  /**
   * Whether the worker can read ranges of `file`: the first time, it is
   * given a descriptor of its own (a source record), if the file gives one.
   */
  reads(file: ArchiveFile): boolean {
    if (this.file === file) return this.fileOk;
    this.file = file;
    const fd = file.reopen();
    this.fileOk = fd >= 0;
    if (fd < 0) return false;
    this.sources.push(fd);
    const off = this.reserve(HEAD_SOURCE);
    this.u32[off >> 2] = HEAD_SOURCE;
    this.u32[(off + 4) >> 2] = OP.source;
    this.u32[(off + 8) >> 2] = fd;
    this.commit(HEAD_SOURCE);
    return true;
  }

  /** More data of the current file, at file offset `pos`: `length` bytes of the archive (reads()) from `offset`. */
  range(seq: number, offset: number, length: number, pos: number, last: boolean): void {
    const off = this.reserve(HEAD_RANGE);
    this.head(off, HEAD_RANGE, OP.range, seq, 0, pos, last ? F.last : 0);
    this.f64[(off + 32) >> 3] = offset;
    this.f64[(off + 40) >> 3] = length;
    this.commit(HEAD_RANGE);
    this.ranges.push({ mark: this.produced, length });
    this.rangeBytes += length;
  }

  /** The producer gave up on the current file: the worker closes it without metadata. */
  abandon(seq: number): void {
    this.head(this.reserve(HEAD_DATA), HEAD_DATA, OP.data, seq, 0, 0, F.last | F.abandon);
    this.commit(HEAD_DATA);
  }

  /** The fields every begin and data record starts with (layout in write-ring.ts). */
  private head(off: number, len: number, op: number, seq: number, n: number, pos: number, flags: number): void {
    this.u32[off >> 2] = len;
    this.u32[(off + 4) >> 2] = op;
    this.u32[(off + 8) >> 2] = seq;
    this.u32[(off + 12) >> 2] = n;
    this.f64[(off + 16) >> 3] = pos;
    this.u32[(off + 24) >> 2] = flags;
  }

  /** A mark that is pending() until the worker has done everything queued so far. */
  mark(): number {
    return this.produced;
  }

  /**
   * A mark() past every record that names a path: once the worker is there,
   * what is left on the ring (data, ranges) needs no path, nor the
   * directory descriptors a path may go through.
   */
  pathsMark(): number {
    return this.lastPath;
  }

  /** Whether the worker has not yet reached `mark`. */
  pending(mark: number): boolean {
    return ((mark - Atomics.load(this.ctl, CTL.consumed)) | 0) > 0;
  }

  /** The worker has consumed everything queued: it is idle, or about to be. */
  get idle(): boolean {
    return Atomics.load(this.ctl, CTL.consumed) === this.produced;
  }

  /**
   * Free bytes in the ring now, less the ranges queued and not yet written:
   * they are work for the worker as if their bytes were on the ring.
   */
  get room(): number {
    return this.size - ((this.produced - Atomics.load(this.ctl, CTL.consumed)) | 0) - this.rangesLeft();
  }

  /** Bytes of the queued ranges whose records the worker has not finished. */
  private rangesLeft(): number {
    const r = this.ranges;
    while (r.length > 0 && !this.pending(r[0]!.mark)) this.rangeBytes -= r.shift()!.length;
    return this.rangeBytes;
  }

  /**
   * Whether the worker runs. Nothing is queued before: a thread whose start
   * needs this thread's event loop (a parent's module hooks) must never be
   * waited for synchronously.
   */
  get running(): boolean {
    return Atomics.load(this.ctl, CTL.started) !== 0;
  }

  /** Resolves once the worker runs (polling, so this thread's event loop stays free). */
  async whenRunning(): Promise<void> {
    while (!this.running) {
      if (this.exitError) throw new Error(`the file-writing thread failed: ${this.exitError.message}`);
      await new Promise((r) => setTimeout(r, 1));
    }
  }

  /**
   * End the worker: finish what is queued (stop), or, never started, just
   * end it. The wait lets the event loop turn (a range of a big file can
   * take long), so that a signal is seen: once `signal` is aborted, what is
   * queued is dropped (abort) and its reason thrown.
   */
  async close(signal?: AbortSignal): Promise<void> {
    try {
      if (!this.running) {
        await this.worker.terminate();
        return;
      }
      this.stop();
      while (!this.stopped) {
        if (signal?.aborted) {
          this.abort();
          throw signal.reason;
        }
        this.waitStoppedFor(CLOSE_SLICE_MS);
        if (!this.stopped) await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } finally {
      this.closeSources();
    }
  }

  /** End the worker dropping what is queued (abort). */
  async kill(): Promise<void> {
    try {
      if (this.running) this.abort();
      else await this.worker.terminate();
    } finally {
      this.closeSources();
    }
  }

  /** The archive descriptors given to the worker, once it has stopped (or failed: it reads nothing more). */
  private closeSources(): void {
    for (const fd of this.sources.splice(0)) fs.closeSync(fd);
  }

  /** Whether the worker has posted news not yet read. */
  hasNews(): boolean {
    return Atomics.load(this.ctl, CTL.news) !== this.newsSeen;
  }

  /** Errors and warnings posted by the worker since the last call. */
  takeNews(): WriterNews[] {
    const out: WriterNews[] = [];
    const want = Atomics.load(this.ctl, CTL.news);
    let tries = 0;
    while (this.newsSeen !== want) {
      const m = receiveMessageOnPort(this.port);
      if (m === undefined) {
        // Posted and counted, so it is on its way: give it a moment, not forever.
        if (++tries > 2000) throw new Error('the file-writing thread reported something that never arrived');
        Atomics.wait(this.ctl, CTL.idle, 0, 1);
        continue;
      }
      out.push(m.message as WriterNews);
      this.newsSeen++;
    }
    return out;
  }

  /** Wait until the worker has done everything queued before `mark` (a mark()). */
  drainTo(mark: number): void {
    for (;;) {
      const c = Atomics.load(this.ctl, CTL.consumed);
      if (((mark - c) | 0) <= 0) return;
      this.checkAlive();
      this.waitConsumed(c);
    }
  }

  /** Wait until the worker has done everything queued. */
  drain(): void {
    for (;;) {
      const c = Atomics.load(this.ctl, CTL.consumed);
      if (c === this.produced) return;
      this.checkAlive();
      this.waitConsumed(c);
    }
  }

  /** Sleep until the worker moves past `c` (or a poll interval passes). */
  private waitConsumed(c: number): void {
    Atomics.store(this.ctl, CTL.producerWaits, 1);
    if (Atomics.load(this.ctl, CTL.consumed) === c) Atomics.wait(this.ctl, CTL.consumed, c, POLL_MS);
    Atomics.store(this.ctl, CTL.producerWaits, 0);
  }

  /** Ask the worker to end once it has done what is queued (close() waits for it). */
  private stop(): void {
    if (this.stopped) return;
    const off = this.reserve(8);
    this.u32[off >> 2] = 8;
    this.u32[(off + 4) >> 2] = OP.stop;
    this.commit(8);
  }

  /** Drop what is queued (the worker finishes the system call it is in) and end the worker. */
  abort(): void {
    if (this.stopped) return;
    Atomics.store(this.ctl, CTL.abort, 1);
    Atomics.notify(this.ctl, CTL.produced);
    this.waitStopped();
  }

  private waitStopped(): void {
    while (!this.stopped) this.waitStoppedFor(POLL_MS);
  }

  /** Wait up to `ms` for the worker to end (sets `stopped` once it has). */
  private waitStoppedFor(ms: number): void {
    if (Atomics.load(this.ctl, CTL.stopped) === 0) {
      this.checkAlive();
      Atomics.wait(this.ctl, CTL.stopped, 0, ms);
    }
    if (Atomics.load(this.ctl, CTL.stopped) !== 0) this.stopped = true;
  }

  private checkAlive(): void {
    if (this.exitError) throw new Error(`the file-writing thread failed: ${this.exitError.message}`);
    if (this.stopped || Atomics.load(this.ctl, CTL.stopped) !== 0) {
      if (Atomics.load(this.ctl, CTL.consumed) !== this.produced) throw new Error('the file-writing thread ended with work queued');
    }
  }

  /**
   * Offset of `len` contiguous free bytes, waiting for the worker as needed;
   * a record never wraps (a pad record fills the end of the ring instead).
   */
  private reserve(len: number): number {
    if (this.stopped) throw new Error('WriteQueue: used after stop');
    for (;;) {
      const off = this.produced & (this.size - 1);
      const tail = this.size - off;
      const need = tail < len ? tail + len : len;
      const consumed = Atomics.load(this.ctl, CTL.consumed);
      const used = (this.produced - consumed) | 0;
      if (this.size - used >= need) {
        if (tail < len) {
          this.u32[off >> 2] = tail;
          this.u32[(off + 4) >> 2] = OP.pad;
          this.commit(tail);
          return 0;
        }
        return off;
      }
      this.checkAlive();
      this.waitConsumed(consumed);
    }
  }

  private commit(len: number): void {
    this.produced = (this.produced + len) | 0;
    Atomics.store(this.ctl, CTL.produced, this.produced);
    if (Atomics.load(this.ctl, CTL.workerWaits) !== 0) Atomics.notify(this.ctl, CTL.produced);
  }
}
