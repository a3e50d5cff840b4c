// `zonep2v extract` in-process: the same stages and the same failure
// semantics as src/cli/extract.ts (openArchive -> FsSink through run(); on
// any error the sink's abort() removes what this run wrote; exit code from
// describeError, 255 when cleanup left something), plus a time bound, so the
// corpus and the fuzzer run thousands of archives without a process each.

import fs from 'node:fs';
import crypto from 'node:crypto';
import type { Entry } from '../../src/entry.js';
import { ArchiveError, EXIT } from '../../src/errors.js';
import { openArchive } from '../../src/formats/index.js';
import { DEFAULT_LIMITS, makeContext, type ArchiveInfo, type Limits, type Warning } from '../../src/formats/types.js';
import { run } from '../../src/pipeline/run.js';
import { FsSink } from '../../src/sink/fs.js';
import { NullSink } from '../../src/sink/null.js';
import type { Sink } from '../../src/sink/types.js';
import { describeError } from '../../src/cli/common.js';

export interface Extracted {
  /** What `zonep2v extract` would exit with. */
  code: number;
  /** The error, when there was one. */
  error?: unknown;
  /** Paths abort() could not remove. */
  left: string[];
  warnings: Warning[];
  /** Entries handed to the sink, in order (path, type, size). */
  entries: { path: string; type: string; size: number }[];
  info: ArchiveInfo;
  ms: number;
  /** The run did not settle within the time bound. */
  timedOut: boolean;
}

export interface ExtractOptions {
  lenient?: boolean;
  /** Chunk size the input is served in (default 64 KiB). */
  chunk?: number;
  limits?: Partial<Limits>;
  /** Give up waiting after this long (default 10 s); the result says timedOut. */
  timeoutMs?: number;
  /** 'null' parses and reads every body without writing (inspect's sink). */
  sink?: 'fs' | 'null';
}

/** A buffer served as chunks, as a file or a pipe would give it. */
export async function* chunks(buf: Buffer, size = 64 * 1024): AsyncGenerator<Buffer> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, Math.min(buf.length, i + size));
}

export async function extract(input: Buffer, root: string, o: ExtractOptions = {}): Promise<Extracted> {
  const warnings: Warning[] = [];
  const entries: Extracted['entries'] = [];
  const info: ArchiveInfo = { compression: [] };
  const started = Date.now();
  const res: Extracted = { code: EXIT.OK, left: [], warnings, entries, info, ms: 0, timedOut: false };
  const work = (async () => {
    let sink: Sink | undefined;
    try {
      const warn = (w: Warning) => warnings.push(w);
      const ctx = makeContext({ info, lenient: o.lenient, warn, limits: { ...DEFAULT_LIMITS, ...o.limits } });
      const src = openArchive(chunks(input, o.chunk), ctx);
      sink = o.sink === 'null' ? new NullSink() : new FsSink(root, { warn, lenient: o.lenient });
      const seen = (async function* (): AsyncGenerator<Entry> {
        for await (const e of src) {
          entries.push({ path: e.path, type: e.type, size: e.size });
          yield e;
        }
      })();
      await run({ entries: seen, sink });
    } catch (e) {
      res.error = e;
      res.code = describeError(e).code;
      if (sink) {
        res.left = await sink.abort();
        if (res.left.length) res.code = EXIT.FATAL;
      }
    }
  })();
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      res.timedOut = true;
      resolve();
    }, o.timeoutMs ?? 10_000);
  });
  await Promise.race([work, bound]);
  clearTimeout(timer);
  res.ms = Date.now() - started;
  return res;
}

/** Short description of an outcome, for the coverage table and failure messages. */
export function outcome(r: Extracted): string {
  if (r.timedOut) return 'TIMEOUT';
  if (r.error === undefined) {
    const kinds = [...new Set(r.warnings.map((w) => w.kind))];
    return `ok${kinds.length ? ` (warn ${kinds.join(',')})` : ''}`;
  }
  if (r.error instanceof ArchiveError) return `reject ${r.error.kind}${r.code !== EXIT.NOTCOMPLETE ? ` exit ${r.code}` : ''}`;
  return `CRASH ${String((r.error as Error)?.stack ?? r.error)}`;
}

export const sha256 = (b: Buffer | string): string => crypto.createHash('sha256').update(b).digest('hex');

/** Hash of a file, or '' when it does not exist. */
export function fileHash(p: string): string {
  try {
    return sha256(fs.readFileSync(p));
  } catch {
    return '';
  }
}

/** Deterministic PRNG (mulberry32), so fuzz and random offsets reproduce from a seed. */
export { prng } from '../lib/prng.js';
