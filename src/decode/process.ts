// A system decompressor as a pipe stage: input fed to its stdin with
// backpressure, output pulled from its stdout (nothing is read ahead beyond
// the pipe buffers). Its exit status is part of the data: the iterable ends
// normally only once the program has exited 0, so a bad CRC or a truncated
// stream found after the last byte is still an error. A consumer that stops
// early, or an abort, kills the program and waits for it (no zombies).

import { childProcess } from '../child-process.js';
import fs from 'node:fs';
import path from 'node:path';
import { ArchiveError } from '../errors.js';
import { pump, type PumpState } from './pump.js';

const STDERR_MAX = 4096;
const found = new Map<string, string | null>();

/** Absolute path of `name` on PATH, or null (cached per PATH value). */
export function which(name: string): string | null {
  const PATH = process.env.PATH ?? '/usr/bin:/bin';
  const key = `${PATH}\0${name}`;
  const hit = found.get(key);
  if (hit !== undefined) return hit;
  let result: string | null = null;
  for (const dir of PATH.split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) {
        result = p;
        break;
      }
    } catch {
      // not here
    }
  }
  found.set(key, result);
  return result;
}

export interface ProcessDecoder {
  /** What the messages call it, e.g. "bzip2". */
  format: string;
  /** Program and arguments; the program as found by which(). */
  cmd: string;
  args: string[];
  hint: string;
}

/** Called with each child's pid once it runs; for tests. */
export type OnSpawn = (pid: number) => void;

export async function* viaProcess(
  d: ProcessDecoder,
  src: AsyncIterable<Buffer>,
  signal?: AbortSignal,
  onSpawn?: OnSpawn,
): AsyncGenerator<Buffer> {
  signal?.throwIfAborted();
  const label = `${path.basename(d.cmd)} ${d.args.join(' ')}`;
  const child = childProcess().spawn(d.cmd, d.args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let spawnError: Error | undefined;
  child.on('error', (e) => {
    spawnError ??= e;
  });
  if (child.pid === undefined) {
    // 'error' follows on the next tick; its listener above keeps it quiet.
    throw new ArchiveError('decompress', `cannot run ${label} to decode ${d.format}`, {}, d.hint);
  }
  onSpawn?.(child.pid);
  const closed = new Promise<{ code: number | null; sig: NodeJS.Signals | null }>((resolve) => {
    child.once('close', (code, sig) => resolve({ code, sig }));
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => {
    if (stderr.length < STDERR_MAX) stderr += s.slice(0, STDERR_MAX - stderr.length);
  });
  // EPIPE when the program exits before reading all its input: its exit status tells why.
  child.stdin.on('error', () => {});
  child.stdout.on('error', () => {});

  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  const state: PumpState = { stopped: false };
  // A failing source must not leave the program waiting for more input.
  void pump(src, child.stdin, state, kill);
  signal?.addEventListener('abort', kill, { once: true });

  let out = 0;
  try {
    for await (const c of child.stdout) {
      out += c.length;
      yield c as Buffer;
    }
    const { code, sig } = await closed;
    if (state.error !== undefined) throw state.error;
    if (signal?.aborted) throw signal.reason;
    if (spawnError) throw new ArchiveError('decompress', `${label} failed: ${spawnError.message}`, { offset: out }, d.hint);
    if (code !== 0) {
      const how = sig ? `was killed by ${sig}` : `exited with status ${code}`;
      const why = stderr.trim().replace(/\s+/g, ' ');
      throw new ArchiveError('decompress', `${d.format}: ${label} ${how} after ${out} decoded bytes${why ? `: ${why}` : ''}`, { offset: out }, d.hint);
    }
  } finally {
    state.stopped = true;
    signal?.removeEventListener('abort', kill);
    kill();
    child.stdin.destroy();
    child.stdout.destroy();
    await closed;
  }
}
