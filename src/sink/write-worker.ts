// The sink's file-writing thread: takes records off the shared ring (see
// write-ring.ts) and does the system calls of regular files (open with
// O_CREAT|O_EXCL|O_NOFOLLOW, write, fchown, fchmod, futimes, close), so
// that parsing on the main thread and file creation overlap on two cores.
// A big body taken as a range of the archive (entry.ts Body.takeRange) is
// read here by position, from a read-only descriptor of the archive the
// main thread opened for this thread and closes once it has stopped.
//
// It decides nothing about safety: the main thread validated the name,
// made sure the parent is a real directory, and hands over the path to open
// (anchored to the parent's fd through /proc/self/fd where available). The
// one decision here is tar's: a leaf that is already there (an earlier
// entry of the same name, or an empty directory) is removed first.

import fs from 'node:fs';
import { workerData, type MessagePort } from 'node:worker_threads';
import { STILL_TAKEN, STILL_TAKEN_HINT, bodyCut, chownFailed, linkTargetMissing, linkTargetNotFile, modeNotKept, mtimeFailed, replaceRefused } from './messages.js';
import { CTL, F, HEAD_BEGIN, HEAD_DATA, HEAD_LINK, MAX_PATH_BYTES, OP, RANGE_PIECE, align8, type WriterNews } from './write-ring.js';

const C = fs.constants;
const O_CREATE = C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW;

interface Init {
  ctl: SharedArrayBuffer;
  ring: SharedArrayBuffer;
  port: MessagePort;
}

const { ctl: ctlSab, ring: ringSab, port } = workerData as Init;
const ctl = new Int32Array(ctlSab);
const buf = Buffer.from(ringSab);
const u32 = new Uint32Array(ringSab);
const f64 = new Float64Array(ringSab);
const mask = ringSab.byteLength - 1;

/** The file being written: its descriptor and the metadata to apply at its end. */
let fd = -1;
let seq = -1;
let failed = -1;
let flags = 0;
let mode = 0;
let uid = 0;
let gid = 0;
let atime = 0;
let mtime = 0;
let size = 0;
/** The entry's name, copied out of the ring (decoded only for a message). */
const entryBuf = Buffer.alloc(MAX_PATH_BYTES);
let entryLen = 0;
let offset = 0;
let index = 0;
/** The archive's descriptor that range records are read from (a source record's). */
let source = -1;
/** A range's piece in transit, allocated at the first range. */
let piece: Buffer | undefined;

/** What a job fails with, beyond a system error's code (refused()). */
interface Refusal {
  kind: string;
  message: string;
  hint?: string;
  /** Where in the archive, when not at the entry (a truncated range). */
  offset?: number;
}

function post(n: Omit<WriterNews, 'entry' | 'offset' | 'index'>, at = offset): void {
  port.postMessage({ ...n, entry: entryBuf.toString('latin1', 0, entryLen), offset: at, index });
  Atomics.add(ctl, CTL.news, 1);
}

function fail(e: unknown, what?: Refusal): void {
  const err = e as NodeJS.ErrnoException;
  post({ seq, level: 'error', kind: what?.kind ?? '', message: what?.message ?? String(err?.message ?? e), hint: what?.hint, code: err?.code, syscall: err?.syscall }, what?.offset);
  failed = seq;
  closeQuietly();
}

function closeQuietly(): void {
  if (fd < 0) return;
  try {
    fs.closeSync(fd);
  } catch {
    /* the first error is the one reported */
  }
  fd = -1;
}

/** An error the job fails with, reported as `news` (an ArchiveError's kind, message and hint). */
function refused(news: Refusal): Error {
  return Object.assign(new Error(news.kind), { news });
}

/**
 * make() a new leaf at `path` (it fails with EEXIST when something is
 * there); what an earlier entry of the same name left is removed first and
 * make() tried once more.
 */
function replacing(path: Buffer, newType: string, make: () => void): void {
  try {
    make();
    return;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  clearLeaf(path, newType);
  try {
    make();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw refused({ kind: 'io-error', message: STILL_TAKEN, hint: STILL_TAKEN_HINT });
    throw e;
  }
}

/** Open the new file; a leaf already there is removed first (an empty directory only). */
function create(path: Buffer, createMode: number): void {
  replacing(path, 'file', () => {
    fd = fs.openSync(path, O_CREATE, createMode);
  });
}

/** What an earlier entry of the same name left at `path` goes: a non-directory, or an empty directory. */
function clearLeaf(path: Buffer, newType: string): void {
  const st = fs.lstatSync(path, { throwIfNoEntry: false });
  if (st?.isDirectory()) {
    try {
      fs.rmdirSync(path);
    } catch (e) {
      const c = (e as NodeJS.ErrnoException).code;
      if (c === 'ENOTEMPTY' || c === 'EEXIST' || c === 'EBUSY') throw refused({ kind: 'not-empty', ...replaceRefused(newType, c) });
      throw e;
    }
  } else if (st) {
    fs.unlinkSync(path);
  }
}

/**
 * A hard link (OP.link): its target must be a regular file on the root's
 * device, which in a fresh root makes it a file of this run; then link(2),
 * replacing what an earlier entry of the same name left.
 */
function link(off: number): void {
  seq = u32[(off + 8) >> 2]!;
  const linkLen = u32[(off + 12) >> 2]!;
  const dev = f64[(off + 16) >> 3]!;
  const targetLen = u32[(off + 24) >> 2]!;
  entryLen = u32[(off + 28) >> 2]!;
  offset = f64[(off + 32) >> 3]!;
  index = f64[(off + 40) >> 3]!;
  const shownLen = u32[(off + 48) >> 2]!;
  const at = off + HEAD_LINK;
  const linkPath = buf.subarray(at, at + linkLen);
  const target = buf.subarray(at + linkLen, at + linkLen + targetLen);
  buf.copy(entryBuf, 0, at + linkLen + targetLen, at + linkLen + targetLen + entryLen);
  const shown = () => buf.toString('latin1', at + linkLen + targetLen + entryLen, at + linkLen + targetLen + entryLen + shownLen);
  const st = fs.lstatSync(target, { throwIfNoEntry: false });
  if (!st) throw refused({ kind: 'bad-hardlink', ...linkTargetMissing(shown()) });
  if (!st.isFile() || st.dev !== dev) throw refused({ kind: 'bad-hardlink', ...linkTargetNotFile(shown()) });
  replacing(linkPath, 'hardlink', () => fs.linkSync(target, linkPath));
}

function begin(off: number): void {
  seq = u32[(off + 8) >> 2]!;
  flags = u32[(off + 24) >> 2]!;
  mode = u32[(off + 32) >> 2]!;
  uid = u32[(off + 36) >> 2]!;
  gid = u32[(off + 40) >> 2]!;
  atime = f64[(off + 48) >> 3]!;
  mtime = f64[(off + 56) >> 3]!;
  size = f64[(off + 64) >> 3]!;
  offset = f64[(off + 72) >> 3]!;
  index = f64[(off + 80) >> 3]!;
  const pathLen = u32[(off + 44) >> 2]!;
  entryLen = u32[(off + 88) >> 2]!;
  // The name outlives this record (messages at the file's end); the path
  // does not: the ring's bytes stay put until the record is consumed.
  buf.copy(entryBuf, 0, off + HEAD_BEGIN + pathLen, off + HEAD_BEGIN + pathLen + entryLen);
  create(buf.subarray(off + HEAD_BEGIN, off + HEAD_BEGIN + pathLen), u32[(off + 28) >> 2]!);
  writeData(off, align8(off + HEAD_BEGIN + pathLen + entryLen), flags);
}

function writeData(off: number, at: number, recFlags: number): void {
  writeAll(buf, at, u32[(off + 12) >> 2]!, f64[(off + 16) >> 3]!);
  if (recFlags & F.last) end();
}

function writeAll(b: Buffer, at: number, len: number, pos: number): void {
  while (len > 0) {
    const n = fs.writeSync(fd, b, at, len, pos);
    at += n;
    pos += n;
    len -= n;
  }
}

/**
 * A range record: the file's next bytes, read from the archive by position
 * in pieces, looking for an abort between them. The archive ending first
 * is its truncation, said as the parsers say it.
 */
function copyRange(off: number, recFlags: number): void {
  let pos = f64[(off + 16) >> 3]!;
  let from = f64[(off + 32) >> 3]!;
  let left = f64[(off + 40) >> 3]!;
  const b = (piece ??= Buffer.allocUnsafeSlow(RANGE_PIECE));
  while (left > 0) {
    if (Atomics.load(ctl, CTL.abort) !== 0) return;
    const n = fs.readSync(source, b, 0, Math.min(left, RANGE_PIECE), from);
    if (n === 0) throw refused({ kind: 'truncated', message: bodyCut(left, size), offset: from });
    writeAll(b, 0, n, pos);
    pos += n;
    from += n;
    left -= n;
  }
  if (recFlags & F.last) end();
}

/** The file's data is complete: size, owner, mode, times, close (owner before mode, D-8). */
function end(): void {
  if (flags & F.truncate) fs.ftruncateSync(fd, size);
  let m = mode;
  let chmod = (flags & F.chmod) !== 0;
  if (flags & F.owners) {
    try {
      fs.fchownSync(fd, uid, gid);
    } catch (e) {
      post({ seq, level: 'warning', kind: 'chown-failed', message: chownFailed(uid, gid, (e as NodeJS.ErrnoException).code, m) });
      if (m & 0o6000) {
        m &= ~0o6000;
        chmod = true;
      }
    }
  }
  if (chmod) {
    fs.fchmodSync(fd, m);
    // Only the setuid, setgid and sticky bits can be refused (a file system
    // or mount that drops them); permission bits always stick. Checking only
    // then spares an fstat for the quarter of files that are group-writable.
    if (m & 0o7000) {
      const got = fs.fstatSync(fd).mode & 0o7777;
      if (got !== m) post({ seq, level: 'warning', kind: 'mode-not-kept', message: modeNotKept(m, got) });
    }
  }
  if (flags & F.time) {
    try {
      fs.futimesSync(fd, atime, flags & F.timeDate ? new Date(mtime) : mtime);
    } catch (e) {
      const shown = flags & F.timeDate ? Math.floor(mtime / 1000) : Math.floor(mtime);
      post({ seq, level: 'warning', kind: 'bad-mtime', message: mtimeFailed(shown, (e as NodeJS.ErrnoException).code) });
    }
  }
  const f = fd;
  fd = -1;
  fs.closeSync(f);
}

function record(off: number): number {
  const op = u32[(off + 4) >> 2]!;
  if (op === OP.pad) return op;
  if (op === OP.stop) return op;
  if (op === OP.source) {
    source = u32[(off + 8) >> 2]!;
    return op;
  }
  const s = u32[(off + 8) >> 2]!;
  if (op === OP.link) {
    closeQuietly(); // defensive, as for begin
    seq = s;
    try {
      link(off);
    } catch (e) {
      fail(e, (e as { news?: Refusal }).news);
    }
    return op;
  }
  if (op === OP.begin) {
    closeQuietly(); // a job the producer never finished (cannot happen in order; defensive)
    seq = s;
  } else if (s !== seq || s === failed || fd < 0) {
    return op; // the rest of a failed job
  }
  const recFlags = u32[(off + 24) >> 2]!;
  try {
    if (op === OP.begin) begin(off);
    else if (recFlags & F.abandon) closeQuietly();
    else if (op === OP.range) copyRange(off, recFlags);
    else writeData(off, off + HEAD_DATA, recFlags);
  } catch (e) {
    fail(e, (e as { news?: Refusal }).news);
  }
  return op;
}

function run(): void {
  let consumed = Atomics.load(ctl, CTL.consumed);
  for (;;) {
    if (Atomics.load(ctl, CTL.abort) !== 0) break;
    let produced = Atomics.load(ctl, CTL.produced);
    if (produced === consumed) {
      // Say so before looking again, so a record committed in between is
      // either seen here or followed by a wake-up (no futex call otherwise).
      Atomics.store(ctl, CTL.workerWaits, 1);
      produced = Atomics.load(ctl, CTL.produced);
      if (produced === consumed && Atomics.load(ctl, CTL.abort) === 0) Atomics.wait(ctl, CTL.produced, produced);
      Atomics.store(ctl, CTL.workerWaits, 0);
      continue;
    }
    const off = consumed & mask;
    const len = u32[off >> 2]!;
    const op = record(off);
    consumed = (consumed + len) | 0;
    Atomics.store(ctl, CTL.consumed, consumed);
    if (Atomics.load(ctl, CTL.producerWaits) !== 0) Atomics.notify(ctl, CTL.consumed);
    if (op === OP.stop) break;
  }
  closeQuietly();
}

Atomics.store(ctl, CTL.started, 1);
try {
  run();
} finally {
  Atomics.store(ctl, CTL.stopped, 1);
  Atomics.notify(ctl, CTL.consumed);
  Atomics.notify(ctl, CTL.stopped);
  port.close();
}
