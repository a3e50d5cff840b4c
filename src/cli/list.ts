// `zonep2v list`: print the entries of an archive (like `bsdtar -tv`), writing nothing.

import { parseArgs } from 'node:util';
import { EXIT } from '../errors.js';
import { formatListing, listingName, listingWidths } from '../formats/list.js';
import { describeError, Interrupt, openSource, SOURCE_OPTIONS, Warnings } from './common.js';
import { limitUsage, parseLimits } from './limits.js';

export const LIST_USAGE = `usage: zonep2v list (-a ARCHIVE | -a - | -d DIR | --command CMD) [-v] [--lenient] [--limit NAME=N]

Print each entry's name (with -v: mode, links, owner, group, size, date, name)
without writing anything. Names are escaped as bsdtar does (\\n, \\ooo).

  -a, --archive FILE   archive file, or - for standard input (several: the
                       volumes of one ufsdump)
  -d, --dir DIR        a directory tree (does not cross mount points)
      --command CMD    read the archive from the stdout of a shell command
  -v, --verbose        a long listing, like bsdtar -tv
      --lenient        warn instead of failing on malformed but harmless input
${limitUsage(23)}
  -h, --help           this text

Exit status: 0 listed; 1 the archive is damaged or unreadable (what was
read is listed); 253 usage.`;

export async function listCommand(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: SOURCE_OPTIONS,
      strict: true,
    }));
  } catch (e) {
    process.stderr.write(`zonep2v list: ${(e as Error).message}\n${LIST_USAGE}\n`);
    return EXIT.USAGE;
  }
  if (values.help) {
    process.stdout.write(`${LIST_USAGE}\n`);
    return EXIT.OK;
  }
  const err = (s: string) => process.stderr.write(`zonep2v: ${s}\n`);
  const warnings = new Warnings(err, false);
  // A signal stops the source too: a command's processes are not left running.
  const interrupt = new Interrupt();
  try {
    const src = openSource({ archive: values.archive, dir: values.dir, command: values.command }, { lenient: values.lenient, warn: warnings.add, signal: interrupt.signal, limits: parseLimits(values.limit) });
    interrupt.watch(src.input);
    const out: string[] = [];
    const widths = listingWidths(); // columns grow as bsdtar's do
    for await (const e of src.entries) {
      interrupt.check();
      out.push(values.verbose ? formatListing(e, { widths }) : listingName(e.path)); // escaped as with -v (D-16)
      if (out.length >= 256) process.stdout.write(out.splice(0).join('\n') + '\n');
    }
    interrupt.check();
    if (out.length) process.stdout.write(out.join('\n') + '\n');
    return EXIT.OK;
  } catch (caught) {
    const { code, message } = describeError(interrupt.reason(caught));
    err(`error: ${message}`);
    return code === EXIT.NOTCOMPLETE ? 1 : code;
  } finally {
    interrupt.dispose();
  }
}
