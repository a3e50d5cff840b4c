// Shared CLI plumbing: opening the chosen source as an entry stream, warning
// collection, and turning errors into messages and exit codes.

import fs from 'node:fs';
import { lazyEntries, type Entry } from '../entry.js';
import { ArchiveError, EXIT, UsageError } from '../errors.js';
import { openArchive } from '../formats/index.js';
import { decodeStream } from '../decode/index.js';
import { ByteReader } from '../source/reader.js';
import type { ArchiveInfo, Warning } from '../formats/types.js';
import { makeContext } from '../formats/types.js';
import { openCommand, openFile, type Input } from '../source/input.js';
import type { CliLimits } from './limits.js';

export interface SourceSpec {
  archive?: string[];
  dir?: string;
  command?: string;
}

export interface OpenedSource {
  entries: AsyncIterable<Entry>;
  info: ArchiveInfo;
  input?: Input;
  label: string;
}

export class Warnings {
  readonly counts = new Map<string, number>();
  readonly shown = new Map<string, number>();
  constructor(private readonly print: (line: string) => void, private readonly verbose: boolean) {}

  add = (w: Warning): void => {
    this.counts.set(w.kind, (this.counts.get(w.kind) ?? 0) + 1);
    const n = this.shown.get(w.kind) ?? 0;
    // The first few of each kind in full; the rest only counted (all with -v).
    if (this.verbose || n < 5) {
      this.shown.set(w.kind, n + 1);
      const where = w.entry !== undefined ? `${new ArchiveError(w.kind, '', { entry: w.entry, offset: w.offset }).message.replace(/: $/, '')}: ` : '';
      this.print(`warning: ${where}${w.message}`);
    }
  };

  summary(): string {
    return [...this.counts].map(([k, n]) => `${n} ${k}`).join(', ');
  }
}

/** The parseArgs options naming a source, shared by extract and list. */
export const SOURCE_OPTIONS = {
  archive: { type: 'string', short: 'a', multiple: true },
  dir: { type: 'string', short: 'd' },
  command: { type: 'string' },
  verbose: { type: 'boolean', short: 'v' },
  lenient: { type: 'boolean' },
  limit: { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h' },
} as const;

export interface SourceOptions {
  lenient?: boolean;
  warn: (w: Warning) => void;
  signal?: AbortSignal;
  /** --limit: the parser caps and the decompression ratio (the sink's are the command's to pass). */
  limits?: CliLimits;
}

export function openSource(spec: SourceSpec, opts: SourceOptions): OpenedSource {
  const info: ArchiveInfo = { compression: [] };
  const n = (spec.archive?.length ? 1 : 0) + (spec.dir ? 1 : 0) + (spec.command ? 1 : 0);
  if (n !== 1) throw new UsageError('give exactly one source: -a ARCHIVE (or - for stdin), -d DIR or --command CMD');
  if (spec.dir) {
    return { entries: lazyEntries(async () => (await import('../source/dir.js')).walkDir(spec.dir!, { warn: opts.warn })), info: { compression: [], format: undefined, variant: 'directory' }, label: spec.dir };
  }
  refuseTerminalStdin(spec.archive);
  if (spec.archive && spec.archive.length > 1) {
    return openVolumes(spec.archive, info, opts);
  }
  const input = spec.command ? openCommand(spec.command) : openFile(spec.archive![0]!);
  if (input.size !== undefined) info.expectedBytes = input.size;
  const ctx = makeContext({ info, lenient: opts.lenient, warn: opts.warn, limits: opts.limits?.parse });
  const entries = openArchive(input.data, { ...ctx, signal: opts.signal, maxRatio: opts.limits?.maxRatio, file: input.file });
  return { entries, info, input, label: input.label };
}

/**
 * Refuse a missing or wrong-kind source (-a files, the -d directory) with the
 * words of Solaris's install_image (253, before reading or writing anything).
 * `tail` is appended to the message (install: "Installation aborted.").
 */
export function checkSourceFiles(files: string[] | undefined, dir?: string, tail = ''): void {
  refuseTerminalStdin(files, tail);
  for (const f of files ?? []) {
    if (f === '-') continue;
    const st = fs.statSync(f, { throwIfNoEntry: false });
    if (!st) throw new UsageError(`${f}: error: file or directory not found.${tail}`);
    if (!st.isFile()) throw new UsageError(`${f}: not a regular file (a directory tree is read with -d, a stream with -a - or --command).${tail}`);
  }
  if (dir !== undefined) {
    const st = fs.statSync(dir, { throwIfNoEntry: false });
    if (!st) throw new UsageError(`${dir}: error: file or directory not found.${tail}`);
    if (!st.isDirectory()) throw new UsageError(`${dir}: Error: must be a directory${tail}`);
  }
}

/**
 * `-a -` on a terminal would wait for an archive typed on the keyboard (and
 * install would have written its state marker first): refuse it, as GNU tar
 * does. A directory on stdin reads as empty in Node: say what it is.
 */
function refuseTerminalStdin(files: string[] | undefined, tail = ''): void {
  if (!files?.includes('-')) return;
  if (process.stdin.isTTY) throw new UsageError(`stdin is a terminal: pipe an archive into -a - (or give -a FILE).${tail}`);
  let isDir = false;
  try {
    isDir = fs.fstatSync(0).isDirectory();
  } catch {
    // closed: Node gives an empty stream, reported as an empty input
  }
  if (isDir) throw new UsageError(`stdin is a directory: pipe an archive into -a - (a directory tree is read with -d DIR).${tail}`);
}

/** Several -a files: the volumes of a multi-volume ufsdump, in order. */
function openVolumes(paths: string[], info: ArchiveInfo, opts: SourceOptions): OpenedSource {
  const inputs = paths.map((p) => openFile(p));
  const ctx = makeContext({ info, lenient: opts.lenient, warn: opts.warn, limits: opts.limits?.parse });
  // Each volume may be compressed on its own; open them one after another.
  const readers = (async function* () {
    for (const i of inputs) {
      const d = await decodeStream(i.data, { maxRatio: opts.limits?.maxRatio });
      ctx.info.compression.push(...d.layers);
      yield new ByteReader(d.data);
    }
  })();
  ctx.info.format = 'dump';
  const entries = lazyEntries(async () => (await import('../formats/dump.js')).parseDumpVolumes(readers, ctx));
  let total = 0;
  for (const i of inputs) total += i.size ?? 0;
  const input: Input = {
    label: paths.join(' + '),
    size: total || undefined,
    data: inputs[0]!.data,
    bytesRead: () => inputs.reduce((n, i) => n + i.bytesRead(), 0),
    close: () => inputs.forEach((i) => i.close()),
  };
  return { entries, info, input, label: input.label };
}

/** Exit code and message for an error thrown by a command. */
export function describeError(e: unknown): { code: number; message: string } {
  if (e instanceof UsageError) return { code: EXIT.USAGE, message: e.message };
  if (e instanceof ArchiveError) return { code: EXIT.NOTCOMPLETE, message: e.message };
  const err = e as NodeJS.ErrnoException;
  if (err && err.code && err.syscall) {
    return { code: EXIT.NOTCOMPLETE, message: `${err.syscall} ${err.path ? JSON.stringify(err.path) + ' ' : ''}failed: ${err.code} (${err.message})` };
  }
  return { code: EXIT.FATAL, message: `internal error: ${err?.stack ?? String(e)}` };
}

/**
 * SIGTERM, SIGINT and SIGHUP stop a run like any other failure (so what it
 * wrote is removed). The input is closed too: a read stalled on stdin or a
 * command's stdout would otherwise wait forever for the signal to be seen.
 */
export class Interrupt {
  private readonly controller = new AbortController();
  private closeInput?: () => void;
  /** The signal that came, if one did. */
  received?: NodeJS.Signals;
  private readonly onSignal = (sig: NodeJS.Signals) => {
    this.received ??= sig;
    this.controller.abort(new ArchiveError('interrupted', `interrupted by ${sig}`));
    this.closeInput?.();
  };

  constructor() {
    for (const s of SIGNALS) process.on(s, this.onSignal);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The source to close when a signal arrives (or on failure). */
  watch(input: { close(): void } | undefined): void {
    this.closeInput = () => input?.close();
  }

  /** Throw the interruption, if one came. */
  check(): void {
    if (this.controller.signal.aborted) throw this.controller.signal.reason;
  }

  /** The error to report: the interruption when there was one (a closed source fails with something else). */
  reason(caught: unknown): unknown {
    this.closeInput?.();
    return this.controller.signal.aborted ? this.controller.signal.reason : caught;
  }

  dispose(): void {
    for (const s of SIGNALS) process.off(s, this.onSignal);
  }
}

const SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];
