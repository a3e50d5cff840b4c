#!/usr/bin/env node
// Sample generator CLI:
//   node dist/samples/cli.js image DIR [--files N] [--bytes N] [--seed S] [--hostname H] [--release R] [--no-nested-zones]
//   node dist/samples/cli.js pack DIR OUTDIR [--formats a,b,...] [--jobs N]
//   node dist/samples/cli.js flar PAYLOAD OUT --method cpio|pax [--compressed] [--name NAME]
//   node dist/samples/cli.js formats
// Sizes accept K, M, G suffixes (powers of 1024): --bytes 300M.

import { parseArgs } from 'node:util';
import { makeImage } from './image.js';
import { packImageReport, FORMATS, DESCRIPTIONS, FILE_NAMES } from './pack.js';
import { writeFlar } from './flar.js';

const USAGE = `usage:
  cli.js image DIR [--files N] [--bytes N] [--seed S] [--hostname H] [--release R] [--no-nested-zones]
  cli.js pack DIR OUTDIR [--formats a,b,...] [--jobs N]
  cli.js flar PAYLOAD OUT --method cpio|pax [--compressed] [--name NAME]
  cli.js formats`;

function parseSize(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kKmMgG]?)(?:i?B)?$/.exec(s.trim());
  if (!m) throw new Error(`bad size: ${s}`);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Math.round(Number(m[1]) * mult);
}

function die(msg: string): never {
  process.stderr.write(`${msg}\n`);
  process.exit(2);
}

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      files: { type: 'string' },
      bytes: { type: 'string' },
      seed: { type: 'string' },
      hostname: { type: 'string' },
      release: { type: 'string' },
      'no-nested-zones': { type: 'boolean' },
      formats: { type: 'string' },
      jobs: { type: 'string' },
      method: { type: 'string' },
      compressed: { type: 'boolean' },
      name: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [cmd, ...args] = positionals;
  if (values.help || !cmd) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const t0 = Date.now();
  switch (cmd) {
    case 'image': {
      if (args.length !== 1) die(USAGE);
      const m = await makeImage(args[0]!, {
        files: values.files ? parseSize(values.files) : undefined,
        bytes: values.bytes ? parseSize(values.bytes) : undefined,
        seed: values.seed !== undefined ? Number(values.seed) : undefined,
        hostname: values.hostname,
        release: values.release,
        nestedZones: values['no-nested-zones'] ? false : undefined,
      });
      process.stdout.write(JSON.stringify({ ms: Date.now() - t0, root: m.root, seed: m.seed, counts: m.counts, totalBytes: m.totalBytes, privileged: m.privileged, nestedZones: m.nestedZones }, null, 2) + '\n');
      return;
    }
    case 'pack': {
      if (args.length !== 2) die(USAGE);
      const formats = values.formats ? values.formats.split(',').map((s) => s.trim()).filter(Boolean) : undefined;
      const r = await packImageReport(args[0]!, args[1]!, formats, { jobs: values.jobs ? Number(values.jobs) : undefined });
      process.stdout.write(JSON.stringify({ ...r, totalMs: Date.now() - t0 }, null, 2) + '\n');
      return;
    }
    case 'flar': {
      if (args.length !== 2) die(USAGE);
      const method = values.method === 'pax' ? 'pax' : values.method === 'cpio' || values.method === undefined ? 'cpio' : die('--method is cpio or pax');
      const info = await writeFlar(args[0]!, args[1]!, { method, compressed: !!values.compressed, name: values.name ?? 'sample' });
      process.stdout.write(JSON.stringify(info, null, 2) + '\n');
      return;
    }
    case 'formats':
      for (const f of FORMATS) process.stdout.write(`${f.padEnd(14)} ${FILE_NAMES[f].padEnd(22)} ${DESCRIPTIONS[f]}\n`);
      return;
    default:
      die(USAGE);
  }
}

main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
