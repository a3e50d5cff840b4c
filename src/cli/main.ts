// The zonep2v command: picks a subcommand and returns its exit code.

import fs from 'node:fs';
import { enableYoungCollection } from '../source/young-gc.js';
import { prestartWriter } from '../sink/write-queue.js';

const USAGE = `usage: zonep2v <command> [options]

Commands:
  install    install a zone from a system image (also the brand install hook:
             zonep2v install <zonename> <zonepath> -a archive|-d dir -u|-p [-s|-v])
  bulk       install many zones at once from a plan file (JSON or CSV)
  inspect    read an image, write nothing: what an install would do and what
             stands in its way (zonep2vchk-style), and a zonecfg command file
  convert    apply the p2v rules and write a p2v-ready pax or cpio archive
  extract    unpack an archive or tree into a directory (no p2v changes)
  list       list an archive's entries

Run "zonep2v <command> --help" for a command's options; "npm run demo" in a
clone installs the built-in sample image.`;

type Command = (argv: string[]) => Promise<number>;

const COMMANDS: Record<string, () => Promise<Command>> = {
  extract: async () => (await import('./extract.js')).extractCommand,
  list: async () => (await import('./list.js')).listCommand,
  install: async () => (await import('./install.js')).installCommand,
  bulk: async () => (await import('./bulk.js')).bulkCommand,
  inspect: async () => (await import('./inspect.js')).inspectCommand,
  convert: async () => (await import('./convert.js')).convertCommand,
};

export async function main(argv: string[]): Promise<number> {
  enableYoungCollection();
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '-h' || cmd === '--help' || cmd === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return cmd ? 0 : 253;
  }
  const load = COMMANDS[cmd];
  if (!load) {
    process.stderr.write(`zonep2v: unknown command ${JSON.stringify(cmd)}\n${USAGE}\n`);
    return 253;
  }
  // The commands that unpack into a directory: their writing thread starts
  // while the command's modules load (see prestartWriter).
  if ((cmd === 'extract' || cmd === 'install') && !rest.includes('-h') && !rest.includes('--help') && !smallArchives(rest)) prestartWriter();
  return (await load())(rest);
}

/**
 * Below this, a thread started ahead of need costs more than it saves (the
 * sink starts one itself after 48 files). Measured on tmpfs, 10-12 runs
 * each, early start against none: 1 file 0.20 -> 0.16 s; 90 files in 540 KB
 * 0.23 -> 0.18 s; but 300 files in 1.8 MB 0.20 -> 0.23 s.
 */
const SMALL_ARCHIVE = 1024 * 1024;

/**
 * Whether every source is an archive file known to be small. Then no thread
 * is started ahead: the sink writes a few dozen files itself, and a thread
 * still starting when the run ends delays the exit by its start-up (50 ms
 * of a 130 ms run). Anything else (stdin, a command, a directory, an option
 * this scan does not know) keeps the early start.
 */
function smallArchives(argv: string[]): boolean {
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-d' || a === '--dir' || a === '--command' || a.startsWith('--dir=') || a.startsWith('--command=')) return false;
    if (a === '-a' || a === '--archive') files.push(argv[++i] ?? '-');
    else if (a.startsWith('--archive=')) files.push(a.slice(10));
    else if (/^-[^-]*a./.test(a) && !a.startsWith('--')) return false; // -aFILE or bundled flags: not worth parsing here
  }
  if (files.length === 0) return false;
  try {
    return files.every((f) => {
      if (f === '-') return false;
      const st = fs.statSync(f);
      return st.isFile() && st.size < SMALL_ARCHIVE;
    });
  } catch {
    return false;
  }
}

