// Where archive bytes come from: a file, stdin, or a command's stdout
// (e.g. `ssh legacy07 flarcreate -n l7 -S -`). A command that exits non-zero
// is a fatal error even when its output looked complete.

import fs from 'node:fs';
import { childProcess } from '../child-process.js';
import { ArchiveError } from '../errors.js';

export interface Input {
  /** The raw bytes, in chunks. Throws when the source fails. */
  data: AsyncIterable<Buffer>;
  /** Total size when known (a regular file), for progress and ETA. */
  size?: number;
  /** For messages: the file name, "stdin" or the command. */
  label: string;
  /** Bytes read so far from the source (compressed side). */
  bytesRead(): number;
  /** Stop the source (kill a command). */
  close(): void;
  /** A command's stderr (its last 8 KiB, printable), for the log of a run that succeeded too. */
  stderrLines?(): string[];
  /** A regular file, also read by position (bodies taken as ranges: entry.ts Body.takeRange). */
  file?: ArchiveFile;
}

/**
 * An archive in a regular file, read by position: a reader right on it (no
 * decompressor between) hands a big body over as a range of the file, and
 * the input skips it; the sink reads the range itself.
 */
export interface ArchiveFile {
  /** Its size when opened: a range past it is never handed out (the body streams, and fails as truncated where it always did). */
  readonly size: number;
  /** Offset of the next byte the input reads; -1 while the file is not open. */
  readonly next: number;
  /** Move the input past `n` bytes without reading them (they count as read, for progress). */
  skip(n: number): void;
  /** pread on the input's descriptor (while the input is read); 0 at the end, or once the input is closed. */
  pread(buf: Buffer, off: number, len: number, pos: number): number;
  /**
   * A read-only descriptor of the same file for the file-writing thread, -1
   * when there is none; the caller closes it. Through /proc/self/fd where
   * there is one (the same file even if renamed since), else by the path,
   * checked against the open file's device and inode.
   */
  reopen(): number;
}

// 256 KiB reads: as fast as 1 MiB here, and 1 MiB buffers fragment the malloc
// heap (peak RSS 130 MiB against 70 MiB for the same archive).
const CHUNK = 256 * 1024;

/** A path, or "-" for stdin. */
export function openFile(path: string): Input {
  if (path === '-') return fromStream(process.stdin, 'stdin');
  let st: fs.Stats;
  try {
    st = fs.statSync(path);
  } catch (e) {
    throw new ArchiveError('source', `cannot open archive ${JSON.stringify(path)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {}, 'check the path');
  }
  if (st.isDirectory()) throw new ArchiveError('source', `${JSON.stringify(path)} is a directory`, {}, 'use -d for a directory tree');
  if (st.isFile()) return fromRegularFile(path, st.size);
  const stream = fs.createReadStream(path, { highWaterMark: CHUNK });
  return fromStream(stream, path, st.isFile() ? st.size : undefined);
}

/** Let timers, signals and other I/O run this often while reading a file synchronously. */
const YIELD_EVERY = 4 * 1024 * 1024;

/**
 * A regular file, read synchronously: a read from the page cache costs less
 * than the thread-pool round trip of a stream, which left the main thread
 * idle a quarter of the time (one 256 KiB chunk of read-ahead). Every few
 * MiB the event loop gets a turn, so signals and the progress bar still run.
 */
function fromRegularFile(path: string, size: number): Input {
  let read = 0;
  let closed = false;
  let fd = -1;
  let opened: fs.Stats | undefined;
  const fail = (e: unknown): never => {
    throw new ArchiveError('source', `reading ${path} failed: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { offset: read });
  };
  const file: ArchiveFile = {
    get size() {
      return opened?.size ?? 0;
    },
    get next() {
      return fd < 0 ? -1 : read;
    },
    skip: (n) => {
      read += n;
    },
    pread: (buf, off, len, pos) => (closed || fd < 0 ? 0 : fs.readSync(fd, buf, off, len, pos)),
    reopen: () => (fd < 0 || opened === undefined ? -1 : reopenSame(fd, path, opened)),
  };
  return {
    label: path,
    size,
    bytesRead: () => read,
    close: () => {
      closed = true;
    },
    file,
    data: {
      async *[Symbol.asyncIterator]() {
        try {
          fd = fs.openSync(path, 'r');
          opened = fs.fstatSync(fd);
        } catch (e) {
          fail(e);
        }
        try {
          let sinceYield = 0;
          while (!closed) {
            const buf = Buffer.allocUnsafeSlow(CHUNK);
            let n = 0;
            try {
              // By position: file.skip() moves it.
              n = fs.readSync(fd, buf, 0, CHUNK, read);
            } catch (e) {
              fail(e);
            }
            if (n === 0) return;
            read += n;
            sinceYield += n;
            yield n === CHUNK ? buf : buf.subarray(0, n);
            if (sinceYield >= YIELD_EVERY) {
              sinceYield = 0;
              await new Promise<void>((resolve) => setImmediate(resolve));
            }
          }
        } finally {
          const f = fd;
          fd = -1;
          fs.closeSync(f);
        }
      },
    },
  };
}

/** ArchiveFile.reopen(): a second descriptor of the file open on `fd`, or -1. */
function reopenSame(fd: number, path: string, opened: fs.Stats): number {
  for (const p of [`/proc/self/fd/${fd}`, path]) {
    let again = -1;
    try {
      again = fs.openSync(p, 'r');
      const st = fs.fstatSync(again);
      if (st.dev === opened.dev && st.ino === opened.ino) return again;
    } catch {
      // no /proc, or the path is gone: try the next way
    }
    if (again >= 0) fs.closeSync(again);
  }
  return -1;
}

function fromStream(stream: NodeJS.ReadableStream & { destroy?: () => void }, label: string, size?: number): Input {
  let read = 0;
  return {
    label,
    size,
    bytesRead: () => read,
    close: () => stream.destroy?.(),
    data: {
      async *[Symbol.asyncIterator]() {
        try {
          for await (const c of stream as AsyncIterable<Buffer>) {
            read += c.length;
            yield c;
          }
        } catch (e) {
          throw new ArchiveError('source', `reading ${label} failed: ${(e as Error).message}`, { offset: read });
        }
      },
    },
  };
}

/**
 * `root` and every process below it, from `ps -e` (Linux, Solaris and the
 * BSDs all take `-o pid= -o ppid=`). The command's own processes share our
 * process group (a session of their own would cut ssh off the terminal it
 * asks a password on), so they can only be found by their parents; and they
 * must be found before the shell dies and its children are re-parented.
 */
function processTree(root: number): number[] {
  let table = '';
  try {
    table = childProcess().execFileSync('ps', ['-e', '-o', 'pid=', '-o', 'ppid='], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    // no ps: the shell at least
  }
  const children = new Map<number, number[]>();
  for (const line of table.split('\n')) {
    const m = /^\s*(\d+)\s+(\d+)/.exec(line);
    if (!m) continue;
    const ppid = Number(m[2]);
    const list = children.get(ppid);
    if (list) list.push(Number(m[1]));
    else children.set(ppid, [Number(m[1])]);
  }
  const all = [root];
  for (let i = 0; i < all.length; i++) for (const c of children.get(all[i]!) ?? []) if (!all.includes(c)) all.push(c);
  return all;
}

/** After the command exits, how long its stderr may stay open (held by a process it left behind). */
const STDERR_GRACE_MS = 500;
const STDERR_KEEP = 8192;

/** A command's stderr as lines fit for a terminal or a log: control characters (a remote's escape sequences) as \xNN. */
export function printableLines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '')
    .map((l) => l.replace(/[\x00-\x08\x0a-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
}

/** The stdout of a shell command; its stderr is kept for the error message. */
export function openCommand(command: string): Input {
  const child = childProcess().spawn('/bin/sh', ['-c', command], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => {
    // The end is kept: the cause of a failure comes last, after any chatter.
    stderr = (stderr + s).slice(-STDERR_KEEP);
  });
  child.stderr.on('error', () => {});
  // 'exit', not 'close': a process the command left behind (a background
  // job, an ssh ControlPersist master) may hold stderr open for ever. What it
  // wrote before exiting is read within the grace period.
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      const done = () => resolve({ code, signal });
      if (child.stderr.closed) return done();
      const timer = setTimeout(() => {
        child.stderr.destroy();
        done();
      }, STDERR_GRACE_MS);
      child.stderr.once('close', () => {
        clearTimeout(timer);
        done();
      });
    });
  });
  /** Stop the command: the shell and everything it started, and our ends of its pipes. */
  const stop = () => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      for (const pid of processTree(child.pid)) {
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          // already gone
        }
      }
    }
    // A process that ignores SIGTERM (or escaped the tree) must not keep the read waiting.
    child.stdout.destroy();
    child.stderr.destroy();
  };
  // An abrupt exit (process.exit: a reader of stdout went away, EPIPE) stops it too.
  const onExit = () => stop();
  process.once('exit', onExit);
  child.once('exit', () => process.off('exit', onExit));
  let read = 0;
  let closed = false;
  return {
    label: command,
    bytesRead: () => read,
    stderrLines: () => printableLines(stderr),
    close: () => {
      closed = true;
      stop();
    },
    data: {
      async *[Symbol.asyncIterator]() {
        try {
          for await (const c of child.stdout as AsyncIterable<Buffer>) {
            read += c.length;
            yield c;
          }
        } catch (e) {
          if (closed) return;
          throw new ArchiveError('source', `reading the output of the source command failed: ${(e as Error).message}`, { offset: read });
        } finally {
          if (!child.stdout.readableEnded) stop();
        }
        if (closed) return;
        const { code, signal } = await exited;
        if (!closed && (code !== 0 || signal)) {
          const why = signal ? `was killed by ${signal}` : `exited with status ${code}`;
          throw new ArchiveError('source', `source command ${why}${stderr.trim() ? `: ${printableLines(stderr).slice(-3).join(' / ')}` : ''}`, { offset: read }, 'run the command by hand to see why it failed');
        }
      },
    },
  };
}
