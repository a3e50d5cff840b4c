// `zonep2v extract`: unpack an archive or a tree into a directory, faithfully
// and safely, with no p2v rules. On failure, what this run wrote is removed.

import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { EXIT, UsageError } from '../errors.js';
import { run } from '../pipeline/run.js';
import { FsSink } from '../sink/fs.js';
import { listingName } from '../formats/list.js';
import { describeError, Interrupt, openSource, SOURCE_OPTIONS, Warnings } from './common.js';
import { human, progressLine, type ProgressLine } from './progress.js';
import { limitUsage, parseLimits } from './limits.js';

export const EXTRACT_USAGE = `usage: zonep2v extract (-a ARCHIVE | -a - | -d DIR | --command CMD) -C DIR [options]

Unpack a flash archive, cpio (bin, odc, newc, crc; plain, gzip, bzip2, xz or
compress .Z), ufsdump, pax/ustar/tar archive or a directory tree into DIR.
The format is detected from the content. Several -a files are read as the
volumes of one multi-volume ufsdump, in order.

  -a, --archive FILE   archive file, or - for standard input
  -d, --dir DIR        copy a directory tree (does not cross mount points)
      --command CMD    read the archive from the stdout of a shell command
  -C, --directory DIR  where to unpack (must exist)
  -v, --verbose        list each entry as it is written
      --lenient        warn instead of failing on malformed but harmless input
      --keep-partial   on failure, leave what was written (default: remove it)
      --progress       show progress on stderr even when it is not a terminal
${limitUsage(23)}
  -h, --help           this text`;

export async function extractCommand(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        ...SOURCE_OPTIONS,
        directory: { type: 'string', short: 'C' },
        'keep-partial': { type: 'boolean' },
        progress: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    process.stderr.write(`zonep2v extract: ${(e as Error).message}\n${EXTRACT_USAGE}\n`);
    return EXIT.USAGE;
  }
  if (values.help) {
    process.stdout.write(`${EXTRACT_USAGE}\n`);
    return EXIT.OK;
  }
  let progress: ProgressLine | undefined;
  // A line written while the bar is drawn would be glued to it: clear it first.
  const err = (s: string) => {
    progress?.done();
    process.stderr.write(`zonep2v: ${s}\n`);
  };
  const warnings = new Warnings(err, !!values.verbose);
  let sink: FsSink | undefined;
  const started = Date.now();
  const interrupt = new Interrupt();
  try {
    if (!values.directory) throw new UsageError('-C DIR is required: the directory to unpack into');
    const st = fs.statSync(values.directory, { throwIfNoEntry: false });
    if (!st?.isDirectory()) throw new UsageError(`-C ${JSON.stringify(values.directory)}: not an existing directory`);
    if (fs.lstatSync(values.directory).isSymbolicLink()) {
      throw new UsageError(`-C ${JSON.stringify(values.directory)}: is a symbolic link; give the directory it points to (nothing is written through a link)`);
    }
    const limits = parseLimits(values.limit);
    const src = openSource({ archive: values.archive, dir: values.dir, command: values.command }, { lenient: values.lenient, warn: warnings.add, signal: interrupt.signal, limits });
    interrupt.watch(src.input);
    sink = new FsSink(values.directory, { warn: warnings.add, lenient: values.lenient, caps: limits.sink, signal: interrupt.signal });
    const bar = progressLine(values.progress || process.stderr.isTTY === true, () => src.info.expectedBytes); // a flar's size is known once its header is read
    progress = bar;
    const stats = await run({
      entries: src.entries,
      sink,
      onEntry: (p) => {
        interrupt.check();
        if (p.entries === 1) sink!.declaredSize(src.info.unpackedBytes); // known once the flar header is read
        if (values.verbose) {
          bar.done();
          process.stderr.write(`${listingName(p.current!.path)}\n`); // names escaped (D-16)
        }
        bar.update(p.entries, p.bytes, src.input?.bytesRead() ?? 0);
      },
    });
    bar.done();
    const secs = (Date.now() - started) / 1000;
    const skipped = Object.entries(stats.skipped).map(([k, n]) => `${n} ${k}`).join(', ');
    const fmt = [src.info.flar ? 'flar' : '', src.info.format ?? src.info.variant ?? '', ...src.info.compression].filter(Boolean).join('+');
    err(`extracted ${stats.entries} entries, ${human(stats.bytes)} in ${secs.toFixed(2)} s from ${fmt || 'input'}${skipped ? ` (skipped: ${skipped})` : ''}${warnings.counts.size ? ` (warnings: ${warnings.summary()})` : ''}`);
    return EXIT.OK;
  } catch (caught) {
    // Stop the source: a pump still waiting on stdin or a command would keep the process alive.
    const e = interrupt.reason(caught);
    const { code, message } = describeError(e);
    err(`error: ${message}`);
    if (code === EXIT.USAGE) {
      process.stderr.write(`${EXTRACT_USAGE}\n`);
      return code;
    }
    if (sink && !values['keep-partial']) {
      const left = await sink.abort();
      if (left.length) {
        err(`cleanup could not remove ${left.length} path(s): ${left.slice(0, 10).join(', ')}${left.length > 10 ? ', ...' : ''}`);
        return EXIT.FATAL;
      }
      err('what this run wrote was removed');
    }
    return code;
  } finally {
    interrupt.dispose();
  }
}
