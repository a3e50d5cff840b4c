// The layout shared by the sink (producer, main thread) and its file-writing
// worker (consumer): a single-producer single-consumer ring of records in a
// SharedArrayBuffer, plus a few control words. No message per file, no copy
// but the one into the ring, and either side can wait on the other with
// Atomics (the sink drains synchronously before any operation that must
// see the worker's files on disk).

/** Control words (Int32Array over their own SharedArrayBuffer). */
export const CTL = {
  /** Bytes committed by the producer (wraps at 2^32). */
  produced: 0,
  /** Bytes the worker has finished with (wraps at 2^32). */
  consumed: 1,
  /** 1: stop at the next record, writing nothing more (abort). */
  abort: 2,
  /** Set to 1 by the worker when its loop has ended. */
  stopped: 3,
  /** Messages (errors, warnings) the worker has posted so far. */
  news: 4,
  /** Set to 1 by the worker when it runs. */
  started: 5,
  /** 1 while the worker waits for records: only then does the producer wake it. */
  workerWaits: 6,
  /** Never written: a word to sleep on. */
  idle: 7,
  /** 1 while the producer waits for room or a drain: only then does the worker wake it. */
  producerWaits: 8,
  words: 10,
} as const;

/** Record operations. */
export const OP = { pad: 0, begin: 1, data: 2, stop: 3, link: 4, source: 5, range: 6 } as const;

/** Flags of a begin or data record. */
export const F = {
  /** The file is complete after this record: metadata, close. */
  last: 1,
  /** fchown(uid, gid) before the mode. */
  owners: 2,
  /** fchmod(mode) after the owner (special bits, group/other write). */
  chmod: 4,
  /** futimes(atime, mtime). */
  time: 8,
  /** mtime is milliseconds for a Date (times before 1970). */
  timeDate: 16,
  /** ftruncate(size) after the data (sparse files keep their holes). */
  truncate: 32,
  /** The producer gave up on this file (its body failed): close, no metadata. */
  abandon: 64,
} as const;

// Record layout, in bytes from the record's start (records are 8-aligned):
//   0 u32 length (whole record, multiple of 8)    4 u32 op
//   8 u32 job sequence number                    12 u32 data bytes
//  16 f64 file offset of the data                24 u32 flags
// begin records go on:
//  28 u32 mode given to open (O_CREAT)           32 u32 final mode (chmod)
//  36 u32 uid   40 u32 gid   44 u32 path bytes   48 f64 atime   56 f64 mtime
//  64 f64 size for ftruncate                     72 f64 the entry's offset
//  80 f64 the entry's index                      88 u32 entry name bytes
//  96 path, entry name (for messages), then data at the next multiple of 8
// link records (a hard link to a file queued before it):
//   8 u32 job sequence number                    12 u32 link path bytes
//  16 f64 the root's st_dev (the target must be on it)
//  24 u32 target path bytes   28 u32 entry name bytes   32 f64 entry offset
//  40 f64 entry index         48 u32 shown target bytes (for messages)
//  56 link path, target path, entry name, shown target
// range records (the current file's next bytes, read from the archive; laid
// out as a data record with no data, then):
//  32 f64 archive offset                         40 f64 bytes
// source records (the archive ranges are read from, until the next one):
//   8 u32 a read-only descriptor of it, the producer's to close
export const HEAD_DATA = 32;
export const HEAD_BEGIN = 96;
export const HEAD_LINK = 56;
export const HEAD_RANGE = 48;
export const HEAD_SOURCE = 16;

/** Range bodies are copied in pieces of this size (by either thread). */
export const RANGE_PIECE = 1 << 20;

export const MAX_PATH_BYTES = 8192;

export function align8(n: number): number {
  return (n + 7) & ~7;
}

/** What the worker reports: an error of one job, or a warning. */
export interface WriterNews {
  seq: number;
  /** The entry's name as the archive gave it (latin1), offset (for 'truncated', where the archive ended) and index. */
  entry: string;
  offset: number;
  index: number;
  /** 'error' ends the job; 'warning' does not. */
  level: 'error' | 'warning';
  /** ArchiveError kind (e.g. 'not-empty', 'chown-failed'), or '' for a system error. */
  kind: string;
  message: string;
  hint?: string;
  /** errno code and syscall of a system error. */
  code?: string;
  syscall?: string;
}
