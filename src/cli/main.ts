// The zonep2v command: picks a subcommand and returns its exit code.

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
  if ((cmd === 'extract' || cmd === 'install') && !rest.includes('-h') && !rest.includes('--help')) prestartWriter();
  return (await load())(rest);
}

